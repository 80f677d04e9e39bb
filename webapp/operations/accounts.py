"""Accounts: hashing, registration, login throttling, e-mailed tokens, roles."""

from __future__ import annotations

from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select

from webapp.extensions import db
from webapp.mail import queue_mail
from webapp.models import User, UserRole, normalise_email, utcnow
from webapp.operations.audit import record
from workflows.roles import Role

CONFIRM_SALT = "account-confirm"
RESET_SALT = "password-reset"


class AccountError(Exception):
    """A refusal whose message can be shown to the user."""


def hasher() -> PasswordHasher:
    key = "coop.password_hasher"
    if key not in current_app.extensions:
        current_app.extensions[key] = PasswordHasher(**current_app.config.get("ARGON2_PARAMS", {}))
    return current_app.extensions[key]


def _dummy_hash() -> str:
    key = "coop.dummy_hash"
    if key not in current_app.extensions:
        current_app.extensions[key] = hasher().hash("not-a-real-password-0f3a")
    return current_app.extensions[key]


def set_password(user: User, password: str) -> None:
    user.password_hash = hasher().hash(password)
    user.session_version = (user.session_version or 0) + 1


def verify_password(user: User | None, password: str) -> bool:
    """Constant-shape check: an unknown account costs the same hash as a known one."""
    stored = user.password_hash if user is not None and user.password_hash else None
    try:
        hasher().verify(stored or _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return False
    if stored is None:
        return False
    if hasher().check_needs_rehash(stored):
        user.password_hash = hasher().hash(password)
    return True


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def create_user(
    email: str,
    *,
    first_name: str = "",
    last_name: str = "",
    password: str | None = None,
    roles: tuple[Role, ...] = (Role.APPLICANT,),
    locale: str = "fr",
    confirmed: bool = False,
    actor: User | None = None,
    **fields,
) -> User:
    email = normalise_email(email)
    if find_user(email) is not None:
        raise AccountError(_l("An account with this e-mail already exists."))
    user = User(
        email=email,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        locale=locale,
        **fields,
    )
    if password:
        set_password(user, password)
    if confirmed:
        user.email_confirmed_at = utcnow()
    for role in dict.fromkeys(roles):
        user.role_grants.append(UserRole(role=Role(role), granted_by_id=getattr(actor, "id", None)))
    db.session.add(user)
    db.session.flush()
    record(
        actor,
        "user.created",
        user,
        after={"email": email, "roles": sorted(r.value for r in user.roles)},
    )
    return user


# --- tokens -------------------------------------------------------------------------------


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def external_url(path: str) -> str:
    """Links in e-mails use the configured host, never the request's Host header."""
    return current_app.config["PUBLIC_BASE_URL"] + path


def confirmation_token(user: User) -> str:
    return _serializer(CONFIRM_SALT).dumps({"u": user.id, "e": user.email})


def reset_token(user: User) -> str:
    # The session version changes when the password does, so a used token stops working.
    return _serializer(RESET_SALT).dumps({"u": user.id, "v": user.session_version})


def user_from_confirmation(token: str) -> User:
    try:
        data = _serializer(CONFIRM_SALT).loads(
            token, max_age=current_app.config["CONFIRM_TOKEN_MAX_AGE"]
        )
    except SignatureExpired:
        raise AccountError(_l("This confirmation link has expired. Ask for a new one.")) from None
    except BadSignature:
        raise AccountError(_l("This confirmation link is not valid.")) from None
    user = db.session.get(User, data.get("u"))
    if user is None or user.email != data.get("e"):
        raise AccountError(_l("This confirmation link is not valid."))
    return user


def user_from_reset(token: str) -> User:
    try:
        data = _serializer(RESET_SALT).loads(
            token, max_age=current_app.config["RESET_TOKEN_MAX_AGE"]
        )
    except SignatureExpired:
        raise AccountError(_l("This reset link has expired. Ask for a new one.")) from None
    except BadSignature:
        raise AccountError(_l("This reset link is not valid.")) from None
    user = db.session.get(User, data.get("u"))
    if user is None or user.session_version != data.get("v") or user.is_disabled:
        raise AccountError(_l("This reset link has already been used or is no longer valid."))
    return user


def send_confirmation(user: User, url_path: str) -> None:
    queue_mail(
        user.email, "confirm_account", locale=user.locale, user=user, link=external_url(url_path)
    )


def send_reset(user: User, url_path: str) -> None:
    queue_mail(
        user.email, "reset_password", locale=user.locale, user=user, link=external_url(url_path)
    )


# --- login --------------------------------------------------------------------------------


class LoginResult:
    def __init__(
        self, user: User | None = None, error: str | None = None, retry_after: int | None = None
    ):
        self.user, self.error, self.retry_after = user, error, retry_after


def authenticate(email: str, password: str) -> LoginResult:
    """Check credentials, counting failures per account; the caller commits either way."""
    now = utcnow()
    user = find_user(email)
    if user is not None and user.locked_until is not None and user.locked_until > now:
        record(user, "auth.login_throttled", user)
        return LoginResult(
            error="throttled", retry_after=int((user.locked_until - now).total_seconds()) + 1
        )
    ok = verify_password(user, password)
    if not ok or user is None or user.is_disabled:
        if user is not None:
            user.failed_logins += 1
            if user.failed_logins >= current_app.config["MAX_FAILED_LOGINS"]:
                user.locked_until = now + timedelta(seconds=current_app.config["LOCKOUT_SECONDS"])
                user.failed_logins = 0
        record(
            None,
            "auth.login_failed",
            object_type="user",
            object_id=getattr(user, "id", None),
            after={"email": normalise_email(email)[:254]},
        )
        return LoginResult(error="invalid")
    if not user.is_confirmed:
        return LoginResult(user=user, error="unconfirmed")
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    record(user, "auth.login", user)
    return LoginResult(user=user)


# --- administration -----------------------------------------------------------------------


def grant_role(user: User, role: Role, actor: User) -> bool:
    role = Role(role)
    if role in user.roles:
        return False
    before = sorted(r.value for r in user.roles)
    user.role_grants.append(UserRole(role=role, granted_by_id=actor.id))
    db.session.flush()
    record(
        actor,
        "user.role_granted",
        user,
        before={"roles": before},
        after={"roles": sorted(r.value for r in user.roles)},
    )
    return True


def remove_role(user: User, role: Role, actor: User) -> bool:
    role = Role(role)
    if role == Role.ADMIN and user.id == actor.id:
        raise AccountError(_l("You cannot remove your own administrator role."))
    grant = next((g for g in user.role_grants if g.role == role), None)
    if grant is None:
        return False
    before = sorted(r.value for r in user.roles)
    user.role_grants.remove(grant)
    db.session.flush()
    record(
        actor,
        "user.role_removed",
        user,
        before={"roles": before},
        after={"roles": sorted(r.value for r in user.roles)},
    )
    return True


def set_disabled(user: User, disabled: bool, actor: User) -> None:
    if user.id == actor.id and disabled:
        raise AccountError(_l("You cannot disable your own account."))
    if disabled == user.is_disabled:
        return
    user.disabled_at = utcnow() if disabled else None
    user.session_version += 1  # ends every open session of the account
    record(actor, "user.disabled" if disabled else "user.enabled", user)


def queue_mail_invitation(user: User, url_path: str) -> None:
    queue_mail(
        user.email, "account_invitation", locale=user.locale, user=user, link=external_url(url_path)
    )
