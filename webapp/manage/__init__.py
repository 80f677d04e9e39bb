"""Programme management (/manage): one module per capability, all on this blueprint."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("manage", __name__)

from webapp.manage import (  # noqa: E402, F401
    agreements,
    assignment,
    calls,
    consensus,
    letters,
    ranking,
    reviewers,
    screening,
)


def init_app(app) -> None:
    """Register the blueprint, the managers' dashboard card and the demo calls."""
    from webapp.dashboard import register_provider
    from webapp.manage.calls import dashboard_cards
    from webapp.operations.calls import seed_demo_calls

    app.register_blueprint(bp, url_prefix="/manage")
    register_provider(app, dashboard_cards)
    app.extensions.setdefault("coop.demo_seeders", []).append(seed_demo_calls)
