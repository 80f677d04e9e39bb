"""The reviewers' pages (/review): the queue, invitations, declarations, scoring, and the
assessment's hooks (dashboard cards, the `flask review-reminders` command)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("review", __name__)

from webapp.review import views  # noqa: E402, F401


def init_app(app) -> None:
    """Register the blueprint, the dashboard cards and the reminder command."""
    import click
    from flask import current_app
    from flask.cli import with_appcontext

    from webapp.dashboard import register_provider

    app.register_blueprint(bp, url_prefix="/review")
    register_provider(app, views.dashboard_cards)
    register_provider(app, views.manager_cards)

    @app.cli.command("review-reminders")
    @click.option(
        "--days",
        default="7,3,1",
        show_default=True,
        help="Days before the due date on which a reminder goes out, comma-separated.",
    )
    @with_appcontext
    def review_reminders(days):
        """E-mail reviewers whose review is due soon (once per assignment and day at most)."""
        from webapp.extensions import db
        from webapp.operations.assessment import send_review_reminders

        try:
            wanted = sorted({int(d) for d in days.split(",") if d.strip()})
        except ValueError:
            raise click.BadParameter("days must be whole numbers, e.g. 7,3,1") from None
        with current_app.test_request_context("/"):  # url_for for the links (paths only)
            sent = send_review_reminders(days=wanted)
            db.session.commit()
        click.echo(f"Review reminders queued: {sent}")
