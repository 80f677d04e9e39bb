"""Friendly error pages; never a stack trace."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from webapp.extensions import db

MESSAGES = {
    400: (
        _l("Bad request"),
        _l("The request could not be understood. Please go back and try again."),
    ),
    403: (
        _l("Access refused"),
        _l("You do not have permission to see this page or do this action."),
    ),
    404: (_l("Page not found"), _l("This page does not exist, or you do not have access to it.")),
    405: (_l("Method not allowed"), _l("This page cannot be used this way.")),
    413: (_l("File too large"), _l("What you sent is larger than the platform accepts.")),
    429: (
        _l("Too many attempts"),
        _l("Too many attempts in a short time. Please wait and try again."),
    ),
    503: (
        _l("Not available yet"),
        _l("This cannot be done until the platform is fully configured. Nothing was saved."),
    ),
    500: (
        _l("Something went wrong"),
        _l("An unexpected error occurred. Nothing was saved; please try again."),
    ),
}


def render_error(code: int, detail: str | None = None):
    title, message = MESSAGES.get(code, MESSAGES[500])
    body = render_template(
        "errors/error.html", code=code, title=str(title), message=detail or str(message)
    )
    return body, code


def _audit_refusal() -> None:
    """Refused access is audited (who, what, when); a failure here must not hide the 403."""
    from flask_login import current_user

    from webapp.operations.audit import record

    try:
        record(current_user, "access.refused", after={"method": request.method, "path": request.path[:300]})
        db.session.commit()
    except Exception:  # noqa: BLE001 - the refusal page matters more than its audit row
        db.session.rollback()


def init_app(app) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(error):
        db.session.rollback()
        return render_error(
            400, _("Your form has expired or was sent from elsewhere. Please reload and retry.")
        )

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        db.session.rollback()
        code = error.code or 500
        if code not in MESSAGES:
            return error
        if code == 403:
            _audit_refusal()
        # Only messages written for users (Refused) are shown; werkzeug's own stay generic.
        detail = getattr(error, "user_message", None)
        response = render_error(code, detail)
        if code == 429:
            body, status = response
            retry = getattr(error, "retry_after", None) or 60
            return body, status, {"Retry-After": str(int(retry))}
        if code == 405:
            body, status = response
            return body, status, {"Allow": ", ".join(error.valid_methods or [])}
        return response

    from webapp.documents.signing import SigningNotConfigured

    @app.errorhandler(SigningNotConfigured)
    def _not_signing(error):
        # Documents are issued signed or not at all: nothing of the request is kept.
        db.session.rollback()
        app.logger.error("Signing key missing on %s %s: %s", request.method, request.path, error)
        return render_error(
            503,
            _(
                "Documents cannot be issued: the platform's signing key is not configured. "
                "Ask an administrator to set it (SIGNING_KEY_PATH and SIGNING_CERT_PATH). Nothing was saved."
            ),
        )

    @app.errorhandler(500)
    def _unexpected(error):
        # Reached for unhandled exceptions when they do not propagate (always, outside tests).
        db.session.rollback()
        app.logger.error("Unhandled error on %s %s", request.method, request.path)
        return render_error(500)
