"""Administration: users and roles, the outbox, the audit trail."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select

from forms.admin import CreateUserForm, RoleForm, UserSearchForm
from forms.auth import ConfirmForm
from webapp.access import can_administer, roles_required
from webapp.admin import bp
from webapp.extensions import db
from webapp.models import AuditEvent, OutboxMessage, User, UserRole
from webapp.operations import accounts
from webapp.pagination import paginate
from workflows.roles import Role


@bp.get("/users")
@roles_required(can_administer)
def users():
    form = UserSearchForm(request.args)
    stmt = select(User).order_by(User.last_name, User.first_name, User.id)
    if form.validate():
        if form.q.data:
            like = f"%{form.q.data.strip().lower()}%"
            stmt = stmt.where(
                or_(User.email.ilike(like), User.first_name.ilike(like), User.last_name.ilike(like))
            )
        if form.role.data:
            stmt = stmt.where(
                User.id.in_(select(UserRole.user_id).where(UserRole.role == Role(form.role.data)))
            )
        if form.status.data == "active":
            stmt = stmt.where(User.disabled_at.is_(None))
        elif form.status.data == "disabled":
            stmt = stmt.where(User.disabled_at.is_not(None))
    page = paginate(db, stmt)
    return render_template("admin/users.html", form=form, page=page)


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required(can_administer)
def create_user():
    form = CreateUserForm()
    if form.validate_on_submit():
        try:
            user = accounts.create_user(
                form.email.data,
                first_name=form.first_name.data,
                last_name=form.last_name.data,
                roles=tuple(Role(r) for r in form.roles.data),
                locale=form.locale.data,
                confirmed=True,
                actor=current_user._get_current_object(),
            )
        except accounts.AccountError as exc:
            form.email.errors.append(str(exc))
        else:
            # The new user chooses a password through the reset link.
            accounts.queue_mail_invitation(
                user, url_for("auth.reset_password", token=accounts.reset_token(user))
            )
            db.session.commit()
            flash(
                _(
                    "Account created; %(email)s received a link to choose a password.",
                    email=user.email,
                ),
                "success",
            )
            return redirect(url_for(".user", user_id=user.id))
    return render_template("admin/create_user.html", form=form)


def _get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.get("/users/<int:user_id>")
@roles_required(can_administer)
def user(user_id: int):
    user = _get_user(user_id)
    events = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.object_type == "user", AuditEvent.object_id == user.id)
        .order_by(AuditEvent.id.desc())
        .limit(20)
    ).all()
    return render_template(
        "admin/user.html",
        user=user,
        role_form=RoleForm(),
        confirm_form=ConfirmForm(),
        events=events,
    )


@bp.post("/users/<int:user_id>/roles")
@roles_required(can_administer)
def grant_role(user_id: int):
    user = _get_user(user_id)
    form = RoleForm()
    if form.validate_on_submit():
        if accounts.grant_role(user, Role(form.role.data), current_user._get_current_object()):
            db.session.commit()
            flash(_("Role granted."), "success")
        else:
            flash(_("The account already holds this role."), "info")
    else:
        flash(_("Choose a role."), "danger")
    return redirect(url_for(".user", user_id=user.id))


@bp.post("/users/<int:user_id>/roles/<role>/remove")
@roles_required(can_administer)
def remove_role(user_id: int, role: str):
    user = _get_user(user_id)
    if role not in {r.value for r in Role}:
        abort(404)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            removed = accounts.remove_role(user, Role(role), current_user._get_current_object())
        except accounts.AccountError as exc:
            flash(str(exc), "danger")
        else:
            db.session.commit()
            flash(
                _("Role removed.") if removed else _("The account did not hold this role."), "info"
            )
    return redirect(url_for(".user", user_id=user.id))


@bp.post("/users/<int:user_id>/disable")
@roles_required(can_administer)
def disable_user(user_id: int):
    return _set_disabled(user_id, True)


@bp.post("/users/<int:user_id>/enable")
@roles_required(can_administer)
def enable_user(user_id: int):
    return _set_disabled(user_id, False)


def _set_disabled(user_id: int, disabled: bool):
    user = _get_user(user_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            accounts.set_disabled(user, disabled, current_user._get_current_object())
        except accounts.AccountError as exc:
            flash(str(exc), "danger")
        else:
            db.session.commit()
            flash(
                _("Account disabled; its sessions are closed.")
                if disabled
                else _("Account enabled."),
                "success",
            )
    return redirect(url_for(".user", user_id=user.id))


@bp.get("/outbox")
@roles_required(can_administer)
def outbox():
    status = request.args.get("status", "")
    stmt = select(OutboxMessage).order_by(OutboxMessage.id.desc())
    if status in {"queued", "held", "sent", "failed"}:
        stmt = stmt.where(OutboxMessage.status == status)
    return render_template("admin/outbox.html", page=paginate(db, stmt), status=status)


@bp.get("/outbox/<int:message_id>")
@roles_required(can_administer)
def outbox_message(message_id: int):
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        abort(404)
    return render_template("admin/outbox_message.html", message=message)


@bp.get("/audit")
@roles_required(can_administer)
def audit():
    action = request.args.get("action", "").strip()
    stmt = select(AuditEvent).order_by(AuditEvent.id.desc())
    if action:
        stmt = stmt.where(AuditEvent.action.startswith(action[:80]))
    return render_template("admin/audit.html", page=paginate(db, stmt, per_page=50), action=action)
