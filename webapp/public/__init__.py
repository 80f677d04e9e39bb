from flask import Blueprint

bp = Blueprint("public", __name__)

from webapp.public import calls, views  # noqa: E402, F401
from webapp.public import verify  # noqa: E402, F401  (the document verification page)
