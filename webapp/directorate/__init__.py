"""The Directorate-General's capability: the validation queue and release (/directorate), letters
and agreements, the applicants' decision pages and redress (/decisions), background jobs."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("directorate", __name__)

from webapp.directorate import agreements, views  # noqa: E402, F401


def init_app(app) -> None:
    """Register both blueprints, the dashboard card, the job queue and its CLI commands."""
    from webapp import jobs
    from webapp.dashboard import register_provider
    from webapp.decisions import bp as decisions_bp
    from webapp.directorate.views import dashboard_cards, register_cli

    app.register_blueprint(bp, url_prefix="/directorate")
    app.register_blueprint(decisions_bp, url_prefix="/decisions")
    register_provider(app, dashboard_cards)
    jobs.init_app(app)
    register_cli(app)
