"""The yardstick of the HTTP benchmark: a bare Flask app, served by gunicorn like the platform."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def index():
    return "ok"
