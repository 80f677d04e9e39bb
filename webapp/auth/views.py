"""Registration, confirmation, login, logout, password reset and change."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.exceptions import TooManyRequests

from forms.auth import (
    ChangePasswordForm,
    ConfirmForm,
    ForgotPasswordForm,
    LoginForm,
    RegistrationForm,
    ResendConfirmationForm,
    ResetPasswordForm,
)
from webapp.auth import bp
from webapp.extensions import db, limiter
from webapp.mail import queue_mail
from webapp.models import utcnow
from webapp.operations import accounts
from webapp.operations.audit import record
from webapp.redirects import safe_next
from workflows.roles import Role


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _start_session(user, remember: bool) -> None:
    # A fresh session at login: nothing from before (fixation) carries over but the language.
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    login_user(user, remember=remember)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        result = accounts.authenticate(form.email.data, form.password.data)
        if result.error == "throttled":
            db.session.commit()
            error = TooManyRequests()
            error.retry_after = result.retry_after
            raise error
        if result.error == "unconfirmed":
            db.session.commit()
            flash(_("Please confirm your e-mail address first: we sent you a link."), "warning")
            return redirect(url_for(".resend_confirmation"))
        if result.error:
            db.session.commit()
            flash(_("Wrong e-mail or password."), "danger")
            return render_template("auth/login.html", form=form), 200
        _start_session(result.user, form.remember.data)
        db.session.commit()
        flash(_("Welcome, %(name)s.", name=result.user.full_name), "success")
        return redirect(safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    record(current_user, "auth.logout", current_user._get_current_object())
    db.session.commit()
    lang = session.get("lang")
    logout_user()
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("You are logged out."), "info")
    return redirect(url_for("public.index"))


@bp.post("/logout-everywhere")
@login_required
def logout_everywhere():
    user = current_user._get_current_object()
    user.session_version += 1
    record(user, "auth.logout_everywhere", user)
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("Every session of your account has been closed."), "info")
    return redirect(url_for(".login"))


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("public.dashboard"))
    form = RegistrationForm()
    if form.validate_on_submit():
        existing = accounts.find_user(form.email.data)
        if existing is None:
            user = accounts.create_user(
                form.email.data,
                first_name=form.first_name.data,
                last_name=form.last_name.data,
                password=form.password.data,
                roles=(Role.APPLICANT,),
                locale=form.locale.data,
                position=form.position.data or "",
            )
            token = accounts.confirmation_token(user)
            accounts.send_confirmation(user, url_for(".confirm", token=token))
        else:
            # Same answer whether or not the address is known; the owner is told by e-mail.
            queue_mail(
                existing.email,
                "account_exists",
                locale=existing.locale,
                user=existing,
                link=accounts.external_url(url_for(".forgot_password")),
            )
        db.session.commit()
        flash(
            _("Almost done: we sent a confirmation link to %(email)s.", email=form.email.data),
            "success",
        )
        return redirect(url_for(".login"))
    return render_template("auth/register.html", form=form)


@bp.route("/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str):
    # GET shows a button; the POST confirms (no GET changes the database).
    try:
        user = accounts.user_from_confirmation(token)
    except accounts.AccountError as exc:
        flash(str(exc), "danger")
        return redirect(url_for(".resend_confirmation"))
    form = ConfirmForm()
    if user.is_confirmed:
        flash(_("Your e-mail address is already confirmed. You can log in."), "info")
        return redirect(url_for(".login"))
    if form.validate_on_submit():
        user.email_confirmed_at = utcnow()
        record(user, "user.email_confirmed", user)
        db.session.commit()
        flash(_("Your e-mail address is confirmed. You can log in."), "success")
        return redirect(url_for(".login"))
    return render_template("auth/confirm.html", form=form, user=user)


@bp.route("/confirm", methods=["GET", "POST"])
@limiter.limit("5 per hour", methods=["POST"])
def resend_confirmation():
    form = ResendConfirmationForm()
    if form.validate_on_submit():
        user = accounts.find_user(form.email.data)
        if user is not None and not user.is_confirmed and not user.is_disabled:
            accounts.send_confirmation(
                user, url_for(".confirm", token=accounts.confirmation_token(user))
            )
            db.session.commit()
        flash(_("If an unconfirmed account uses this address, a new link is on its way."), "info")
        return redirect(url_for(".login"))
    return render_template("auth/resend.html", form=form)


@bp.route("/forgot", methods=["GET", "POST"])
@limiter.limit("5 per 15 minutes", methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        user = accounts.find_user(form.email.data)
        if user is not None and not user.is_disabled:
            accounts.send_reset(user, url_for(".reset_password", token=accounts.reset_token(user)))
            record(None, "auth.reset_requested", user)
            db.session.commit()
        flash(
            _(
                "If an account uses this address, a reset link is on its way. "
                "It works once, for one hour."
            ),
            "info",
        )
        return redirect(url_for(".login"))
    return render_template("auth/forgot.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    try:
        user = accounts.user_from_reset(token)
    except accounts.AccountError as exc:
        flash(str(exc), "danger")
        return redirect(url_for(".forgot_password"))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        accounts.set_password(user, form.password.data)
        user.failed_logins = 0
        user.locked_until = None
        if user.email_confirmed_at is None:
            user.email_confirmed_at = utcnow()  # the link proved the address
        record(user, "auth.password_reset", user)
        db.session.commit()
        logout_user()
        flash(_("Your password has been changed. Log in with the new one."), "success")
        return redirect(url_for(".login"))
    return render_template("auth/reset.html", form=form)


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    user = current_user._get_current_object()
    if form.validate_on_submit():
        if not accounts.verify_password(user, form.current.data):
            form.current.errors.append(_("The current password is wrong."))
        else:
            accounts.set_password(user, form.password.data)
            record(user, "auth.password_changed", user)
            db.session.commit()
            # Every other session ends with the version bump; this one continues.
            login_user(user)
            flash(_("Your password has been changed. Your other sessions are closed."), "success")
            return redirect(url_for("public.dashboard"))
    return render_template("auth/change_password.html", form=form)


@bp.route("/account")
@login_required
def account():
    return render_template("auth/account.html", confirm_form=ConfirmForm())
