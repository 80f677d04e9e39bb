from flask import Blueprint

bp = Blueprint("public", __name__)

from webapp.public import (  # noqa: E402, F401
    calls,
    verify,  # noqa: E402, F401  (the document verification page)
    views,
)
