"""Who may do what: one predicate per question, used by views and templates alike.

Missing objects and objects the user may not see both answer 404, so ids cannot be probed;
403 is for what the user can see but not do.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_login import current_user
from werkzeug.exceptions import Forbidden

from workflows.roles import Role


class Refused(Forbidden):
    """A 403 whose message is meant for the user."""

    def __init__(self, user_message: str):
        super().__init__(user_message)
        self.user_message = user_message


def require(allowed: bool, message: str | None = None) -> None:
    if not allowed:
        if message:
            raise Refused(message)
        abort(403)


def has_role(user, *roles: Role) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.has_role(*roles)


def can_administer(user) -> bool:
    return has_role(user, Role.ADMIN)


def can_manage_programme(user) -> bool:
    return has_role(user, Role.MANAGER, Role.ADMIN)


def can_view_outbox(user) -> bool:
    return can_administer(user)


# --- calls and the cooperation-agreement registry ---


def can_edit_calls(user) -> bool:
    """Write, publish and maintain calls: programme managers and administrators."""
    return has_role(user, Role.MANAGER, Role.ADMIN)


def can_manage_agreements(user) -> bool:
    """Keep the cooperation-agreement registry (and its themes)."""
    return has_role(user, Role.MANAGER, Role.ADMIN)


def can_view_call(user, call) -> bool:
    """Published calls are public; drafts are seen by those who edit calls."""
    return call.is_published or can_edit_calls(user)


def can_publish_call(user, call) -> bool:
    return can_edit_calls(user) and not call.is_published


def can_unpublish_call(user, call) -> bool:
    return can_edit_calls(user) and call.is_published and not call.has_submissions


def can_extend_deadline(user, call) -> bool:
    return can_edit_calls(user) and call.is_published and not call.is_rolling


def can_edit_grid(user, call) -> bool:
    """The grid is frozen once the first proposal is submitted."""
    return can_edit_calls(user) and not call.has_submissions


def roles_required(predicate: Callable[[object], bool]):
    """Decorator: log in first, then the predicate must hold (403 otherwise)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            from flask import current_app

            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()
            require(predicate(current_user))
            return view(*args, **kwargs)

        return wrapped

    return decorator


PREDICATES = {
    "can_administer": can_administer,
    "can_edit_calls": can_edit_calls,
    "can_edit_grid": can_edit_grid,
    "can_extend_deadline": can_extend_deadline,
    "can_manage_agreements": can_manage_agreements,
    "can_publish_call": can_publish_call,
    "can_unpublish_call": can_unpublish_call,
    "can_view_call": can_view_call,
    "can_manage_programme": can_manage_programme,
    "can_view_outbox": can_view_outbox,
    "has_role": has_role,
}
