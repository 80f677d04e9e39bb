"""Dashboard cards by role. Each capability registers a provider: (user) -> list of cards."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app, url_for
from flask_babel import gettext as _

from workflows.roles import Role


@dataclass
class Card:
    title: str
    text: str
    links: list[tuple[str, str]] = field(default_factory=list)


def _account_card(user) -> list[Card]:
    cards = []
    if user.has_role(Role.ADMIN):
        cards.append(
            Card(
                _("Administration"),
                _("Accounts, roles, the outbox and the audit trail."),
                [
                    (_("Users and roles"), url_for("admin.users")),
                    (_("Outbox"), url_for("admin.outbox")),
                    (_("Audit trail"), url_for("admin.audit")),
                ],
            )
        )
    cards.append(
        Card(
            _("My account"),
            _("Your details, password and sessions."),
            [
                (_("My account"), url_for("auth.account")),
            ],
        )
    )
    return cards


def register_provider(app, provider) -> None:
    app.extensions.setdefault("coop.dashboard_providers", []).append(provider)


def dashboard_cards(user) -> list[Card]:
    cards: list[Card] = []
    for provider in current_app.extensions.get("coop.dashboard_providers", []):
        cards.extend(provider(user))
    cards.extend(_account_card(user))
    return cards
