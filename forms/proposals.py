"""Forms of the applicant's proposal editor, its documents and its submission.

Drafts accept empty fields: what a submission needs is listed by `workflows.submission`, so a
half-written proposal can always be saved. Field rules (lengths, numbers, e-mail shape) live
here; the call's limits (characters, budget, teams) are checked by the rules and shown beside.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Email, Length, NumberRange, Optional, ValidationError

from forms import Form, SubForm, choices
from workflows.calls import MAX_DURATION_YEARS
from workflows.submission import MAX_TEXT_CHARS

MAX_EUR = 10_000_000
TEXT = [Optional(), Length(max=MAX_TEXT_CHARS)]


class VersionedForm(Form):
    """Carries the proposal's version: a save over someone else's newer save is a conflict."""

    version = HiddenField()

    def expected_version(self) -> int | None:
        value = (self.version.data or "").strip()
        return int(value) if value.isdigit() else None


class GeneralForm(VersionedForm):
    title = StringField(_l("Title"), validators=[Optional(), Length(max=300)])
    acronym = StringField(_l("Acronym"), validators=[Optional(), Length(max=40)])
    abstract_fr = TextAreaField(_l("Abstract in French"), validators=TEXT)
    abstract_en = TextAreaField(_l("Abstract in English"), validators=TEXT)
    keywords = StringField(_l("Keywords"), validators=[Optional(), Length(max=500)])
    theme_id = SelectField(
        _l("Theme"), coerce=lambda v: int(v) if str(v).isdigit() else None, validate_choice=True
    )
    duration_years = IntegerField(
        _l("Duration (years)"), validators=[Optional(), NumberRange(min=1, max=MAX_DURATION_YEARS)]
    )

    def __init__(self, *args, theme_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.theme_id.choices = choices([("", _l("(choose a theme)")), *theme_choices])

    def values(self) -> dict:
        return {
            "title": (self.title.data or "").strip(),
            "acronym": (self.acronym.data or "").strip(),
            "abstract_fr": self.abstract_fr.data or "",
            "abstract_en": self.abstract_en.data or "",
            "keywords": (self.keywords.data or "").strip(),
            "theme_id": self.theme_id.data,
            "duration_years": self.duration_years.data,
        }


class TextsForm(VersionedForm):
    history = TextAreaField(_l("History of the collaboration and joint publications"), validators=TEXT)
    programme = TextAreaField(_l("Scientific programme"), validators=TEXT)
    mobility_plan = TextAreaField(_l("Mobility and training plan (young researchers)"), validators=TEXT)
    ethics = TextAreaField(_l("Ethics statement"), validators=TEXT)

    def values(self) -> dict:
        return {
            name: getattr(self, name).data or ""
            for name in ("history", "programme", "mobility_plan", "ethics")
        }


class CoCoordinatorForm(VersionedForm):
    name = StringField(_l("Name of the foreign co-coordinator"), validators=[Optional(), Length(max=200)])
    email = StringField(
        _l("E-mail of the foreign co-coordinator"),
        validators=[Optional(), Length(max=254), Email(message=_l("Enter a valid e-mail address."))],
    )


class TeamForm(VersionedForm):
    is_inserm = BooleanField(_l("This is the Inserm team (the coordinator's unit)"))
    laboratory = StringField(_l("Laboratory"), validators=[Optional(), Length(max=300)])
    unit_code = StringField(
        _l("Unit code (Inserm units, e.g. U1234)"), validators=[Optional(), Length(max=20)]
    )
    institution_name = StringField(_l("Institution"), validators=[Optional(), Length(max=300)])
    country_code = SelectField(_l("Country"))
    authority = StringField(_l("Supervising authority (tutelle)"), validators=[Optional(), Length(max=300)])
    leader_name = StringField(_l("Team leader"), validators=[Optional(), Length(max=200)])
    leader_email = StringField(
        _l("Team leader's e-mail"),
        validators=[Optional(), Length(max=254), Email(message=_l("Enter a valid e-mail address."))],
    )
    leader_position = StringField(_l("Team leader's position"), validators=[Optional(), Length(max=200)])
    leader_permanent = BooleanField(_l("The team leader holds a permanent position"))

    def __init__(self, *args, country_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.country_code.choices = choices([("", _l("(choose a country)")), *country_choices])

    def validate_country_code(self, field):
        if not field.data:
            raise ValidationError(_l("Choose the country of the team."))
        if self.is_inserm.data and field.data != "FR":
            raise ValidationError(_l("The Inserm team is in France."))


class BudgetRowForm(SubForm):
    year = HiddenField()
    category = HiddenField()
    amount_eur = IntegerField(
        _l("Inserm amount (€)"), validators=[Optional(), NumberRange(min=0, max=MAX_EUR)]
    )
    partner_cash_eur = IntegerField(
        _l("Partner, cash (€)"), validators=[Optional(), NumberRange(min=0, max=MAX_EUR)]
    )
    partner_in_kind_eur = IntegerField(
        _l("Partner, in kind (€)"), validators=[Optional(), NumberRange(min=0, max=MAX_EUR)]
    )
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])


class BudgetForm(VersionedForm):
    rows = FieldList(FormField(BudgetRowForm))


class AttachmentForm(Form):
    file = FileField(_l("PDF file"), validators=[FileRequired(message=_l("Choose a file to upload."))])


class SubmitForm(VersionedForm):
    """The final button: the version proves the applicant saw what they submit."""


class WithdrawForm(Form):
    reason = TextAreaField(
        _l("Reason (optional, kept with the proposal)"), validators=[Optional(), Length(max=2000)]
    )


class ProposalFilterForm(Form):
    class Meta:
        csrf = False  # a GET search form

    q = StringField(_l("Search"), validators=[Optional(), Length(max=100)])
    status = SelectField(_l("Status"), validators=[Optional()])

    def __init__(self, *args, status_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.status.choices = choices([("", _l("All")), *status_choices])
