"""Decisions as applicants meet them (/decisions): the letter once released, the request for
review of a rejection; and the managers' handling of those requests."""

from flask import Blueprint

bp = Blueprint("decisions", __name__)

from webapp.decisions import views  # noqa: E402, F401
