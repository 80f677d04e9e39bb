"""Command-line tasks: flask seed-demo, create-user, outbox-worker."""

from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import with_appcontext

from webapp.extensions import db
from workflows.roles import ACCOUNT_ROLES, Role

DEMO_PASSWORD = "demo-Inserm-2026"  # noqa: S105 - printed at start for the demo accounts only

DEMO_USERS = [
    ("applicant@demo.inserm.fr", "Claire", "Martin", (Role.APPLICANT,), "fr"),
    ("coapplicant@demo.example.br", "Joana", "Silva", (Role.APPLICANT,), "en"),
    ("reviewer1@demo.example.org", "Hiro", "Tanaka", (Role.REVIEWER,), "en"),
    ("reviewer2@demo.inserm.fr", "Paul", "Bernard", (Role.REVIEWER,), "fr"),
    ("manager@demo.inserm.fr", "Sophie", "Durand", (Role.MANAGER,), "fr"),
    ("dg@demo.inserm.fr", "Marc", "Lefèvre", (Role.DIRECTORATE,), "fr"),
    ("admin@demo.inserm.fr", "Alice", "Admin", (Role.ADMIN,), "en"),
]


def seed_reference() -> dict[str, int]:
    from webapp.reference_data import load_countries, load_instruments

    return {"countries": load_countries(), "instruments": load_instruments()}


def seed_demo_data() -> list[tuple[str, str]]:
    """Idempotent: creates what is missing and leaves the rest alone."""
    from webapp.operations import accounts

    seed_reference()
    created = []
    for email, first, last, roles, locale in DEMO_USERS:
        user = accounts.find_user(email)
        if user is None:
            accounts.create_user(
                email,
                first_name=first,
                last_name=last,
                password=DEMO_PASSWORD,
                roles=roles,
                locale=locale,
                confirmed=True,
                position="Directeur de recherche" if locale == "fr" else "Professor",
                is_permanent=True,
            )
        created.append((email, ", ".join(r.value for r in roles)))
    for hook in current_app.extensions.get("coop.demo_seeders", []):
        hook()
    return created


def init_app(app) -> None:
    app.extensions.setdefault("coop.demo_seeders", [])

    @app.cli.command("seed-demo")
    @with_appcontext
    def seed_demo():
        """Create the demo accounts, reference data and demo calls (safe to run twice)."""
        accounts_list = seed_demo_data()
        db.session.commit()
        click.echo(f"Demo accounts (password for all: {DEMO_PASSWORD}):")
        for email, roles in accounts_list:
            click.echo(f"  {email:32} {roles}")

    @app.cli.command("seed-reference")
    @with_appcontext
    def seed_reference_cmd():
        """Load countries and instrument settings."""
        counts = seed_reference()
        db.session.commit()
        click.echo(f"Added {counts['countries']} countries and {counts['instruments']} instruments.")

    @app.cli.command("create-user")
    @click.option("--email", required=True)
    @click.option(
        "--role",
        "roles",
        multiple=True,
        type=click.Choice([r.value for r in ACCOUNT_ROLES]),
        required=True,
        help="May be given several times.",
    )
    @click.option("--first-name", default="")
    @click.option("--last-name", default="")
    @click.option("--locale", type=click.Choice(["fr", "en"]), default="fr")
    @click.password_option(prompt="Password", confirmation_prompt=True)
    @with_appcontext
    def create_user(email, roles, first_name, last_name, locale, password):
        """Create a confirmed account with the given roles."""
        from forms.passwords import password_problem
        from webapp.operations import accounts

        problem = password_problem(password, email)
        if problem:
            raise click.ClickException(problem)
        try:
            user = accounts.create_user(
                email,
                first_name=first_name,
                last_name=last_name,
                password=password,
                roles=tuple(Role(r) for r in roles),
                locale=locale,
                confirmed=True,
            )
        except accounts.AccountError as exc:
            raise click.ClickException(str(exc)) from None
        db.session.commit()
        click.echo(f"Created {user.email} with roles: {', '.join(sorted(r.value for r in user.roles))}")

    @app.cli.command("backup")
    @click.argument("target", type=click.Path(dir_okay=False, writable=True))
    @with_appcontext
    def backup_cmd(target):
        """Write the database and stored files to TARGET (.tar.gz) with a checking manifest."""
        from pathlib import Path

        from webapp.backup import backup

        manifest = backup(Path(target))
        click.echo(
            f"Backed up {sum(manifest['tables'].values())} rows in {len(manifest['tables'])} tables "
            f"and {len(manifest['files'])} files to {target}"
        )

    @app.cli.command("restore")
    @click.argument("archive", type=click.Path(exists=True, dir_okay=False))
    @click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
    @with_appcontext
    def restore_cmd(archive, yes):
        """Replace the database and stored files with ARCHIVE's, then check every row and hash."""
        from pathlib import Path

        from webapp.backup import BackupError, restore

        if not yes:
            click.confirm("This replaces every row and file of the platform. Continue?", abort=True)
        try:
            manifest = restore(Path(archive))
        except BackupError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(
            f"Restored and checked {sum(manifest['tables'].values())} rows and "
            f"{len(manifest['files'])} files."
        )

    @app.cli.command("outbox-worker")
    @click.option("--once", is_flag=True, help="Deliver what is due, then stop.")
    @click.option("--interval", default=5.0, help="Seconds between rounds.")
    @with_appcontext
    def outbox_worker(once, interval):
        """Deliver queued e-mails over SMTP, with retries."""
        from webapp.mail import deliver_outbox

        if not current_app.config.get("MAIL_SERVER"):
            click.echo("MAIL_SERVER is not set: messages stay in the outbox (Admin > Outbox).")
            if once:
                return
        while True:
            counts = deliver_outbox()
            db.session.remove()
            if counts["sent"] or counts["retry"] or counts["failed"]:
                click.echo(f"sent {counts['sent']}, to retry {counts['retry']}, failed {counts['failed']}")
            if once:
                return
            time.sleep(interval)
