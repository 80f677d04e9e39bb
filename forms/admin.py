"""Administration forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from forms import Form, choices
from workflows.roles import ACCOUNT_ROLES

ROLE_LABELS = {
    "applicant": _l("Applicant"),
    "reviewer": _l("Reviewer"),
    "manager": _l("Programme manager"),
    "directorate": _l("Directorate-General"),
    "admin": _l("Administrator"),
}


def role_choices():
    return choices((r.value, ROLE_LABELS[r.value]) for r in ACCOUNT_ROLES)


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class UserSearchForm(Form):
    class Meta:
        csrf = False  # a GET search form changes nothing

    q = StringField(_l("Search"), validators=[Optional(), Length(max=100)])
    role = SelectField(_l("Role"), validators=[Optional()])
    status = SelectField(
        _l("Status"),
        choices=choices([("", _l("All")), ("active", _l("Active")), ("disabled", _l("Disabled"))]),
        validators=[Optional()],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = choices([("", _l("All roles"))]) + role_choices()


class CreateUserForm(Form):
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
    locale = SelectField(
        _l("Language"), choices=choices([("fr", "Français"), ("en", "English")]), default="fr"
    )
    roles = MultiCheckboxField(
        _l("Roles"), validators=[DataRequired(message=_l("Choose at least one role."))]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.roles.choices = role_choices()


class RoleForm(Form):
    role = SelectField(_l("Role"), validators=[DataRequired()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = role_choices()
