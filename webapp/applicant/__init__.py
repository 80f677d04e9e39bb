"""The applicant's workspace: start, write, submit, take back and withdraw proposals."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("applicant", __name__)

from webapp.applicant import views  # noqa: E402, F401


def init_app(app) -> None:
    """Register the blueprint, the applicants' dashboard card and the demo proposal."""
    from webapp.dashboard import register_provider
    from webapp.operations.submission import seed_demo_proposal

    app.register_blueprint(bp)
    # Globals rather than a context processor: imported macros see globals, not the context.
    app.jinja_env.globals["proposal_status_label"] = views.status_label
    app.jinja_env.globals["budget_category_label"] = views.category_label
    register_provider(app, views.dashboard_cards)
    app.extensions.setdefault("coop.demo_seeders", []).append(seed_demo_proposal)
