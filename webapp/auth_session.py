"""Flask-Login wiring: sessions carry a version so a password change or disable ends them all."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from webapp.extensions import db


def init_app(app, login_manager) -> None:
    from webapp.models import User

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(session_id: str):
        try:
            user_id, version = (int(part) for part in session_id.split(":", 1))
        except (TypeError, ValueError):
            return None
        user = db.session.get(User, user_id)
        if user is None or user.session_version != version or user.is_disabled:
            return None
        return user
