"""Account forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from forms import Form, choices
from forms.passwords import password_problem

MAX_PASSWORD = 1024


class StrongPassword:
    def __call__(self, form, field):
        problem = password_problem(field.data or "", email=(form.data.get("email") or ""))
        if problem:
            raise ValidationError(problem)


class LoginForm(Form):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=MAX_PASSWORD)])
    remember = BooleanField(_l("Keep me logged in on this device"))


class RegistrationForm(Form):
    first_name = StringField(_l("First name"), validators=[DataRequired(), Length(max=100)])
    last_name = StringField(_l("Last name"), validators=[DataRequired(), Length(max=100)])
    email = EmailField(
        _l("E-mail"),
        validators=[
            DataRequired(),
            Length(max=254),
            Email(message=_l("Enter a valid e-mail address.")),
        ],
    )
    position = StringField(_l("Position"), validators=[Length(max=200)])
    locale = SelectField(
        _l("Preferred language"),
        choices=choices([("fr", "Français"), ("en", "English")]),
        default="fr",
    )
    password = PasswordField(
        _l("Password"), validators=[DataRequired(), Length(max=MAX_PASSWORD), StrongPassword()]
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
    )


class ForgotPasswordForm(Form):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])


class ResetPasswordForm(Form):
    password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(max=MAX_PASSWORD), StrongPassword()]
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
    )


class ChangePasswordForm(ResetPasswordForm):
    current = PasswordField(
        _l("Current password"), validators=[DataRequired(), Length(max=MAX_PASSWORD)]
    )


class ResendConfirmationForm(Form):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])


class ConfirmForm(Form):
    """An empty form: a POST with a CSRF token, for buttons that change something."""
