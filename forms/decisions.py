"""Forms of the Directorate-General's decisions, agreements, redress and document verification."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, NumberRange, Optional

from forms import Form, choices
from workflows.decisions import MAX_COMMENT, DgAct, RedressStatus
from workflows.instruments import Instrument, rules_for


class DecideForm(Form):
    """One proposal: award (with the annual amount), reject, or send back; the act is the button."""

    act = StringField(validators=[InputRequired(), AnyOf([a.value for a in DgAct])])
    comment = TextAreaField(
        _l("Comment"),
        description=_l(
            "Printed in the applicants' decision letter (award or rejection). Required to reject; to "
            "send back, it tells the programme managers why."
        ),
        validators=[Length(max=MAX_COMMENT)],
    )
    annual_eur = IntegerField(
        _l("Annual amount awarded (euros)"), validators=[Optional(), NumberRange(min=1, max=10_000_000)]
    )
    resubmission_allowed = BooleanField(_l("A new application is allowed (if rejected)"), default=True)


class ValidateListForm(Form):
    comment = TextAreaField(
        _l("Comment for the whole list (optional)"),
        description=_l("Printed in the decision letter of every proposal this validation awards or rejects."),
        validators=[Length(max=MAX_COMMENT)],
    )


class CorrectLetterForm(Form):
    reason = TextAreaField(_l("What the correction changes"), validators=[DataRequired(), Length(max=1000)])


class SignatureForm(Form):
    signatory_name = StringField(
        _l("Name and title of the signatory"), validators=[DataRequired(), Length(max=200)]
    )
    scan = FileField(_l("Countersigned copy (PDF)"), validators=[FileRequired(_l("Choose the PDF scan."))])


class UnitAgreementForm(Form):
    """A UME/UMI agreement: negotiated, no call."""

    title = StringField(_l("Name of the unit"), validators=[DataRequired(), Length(max=300)])
    acronym = StringField(_l("Acronym"), validators=[Length(max=40)])
    host_institution = StringField(
        _l("Foreign host institution"), validators=[DataRequired(), Length(max=300)]
    )
    host_country_code = SelectField(_l("Country of the host institution"), validators=[DataRequired()])
    director_name = StringField(_l("Director of the unit"), validators=[DataRequired(), Length(max=200)])
    deputy_director_name = StringField(_l("Deputy director"), validators=[Length(max=200)])
    programme = TextAreaField(_l("Scientific programme (Markdown)"), validators=[Length(max=50_000)])
    staffing_provisions = TextAreaField(
        _l("Staffing provisions"), validators=[DataRequired(), Length(max=20_000)]
    )
    governance_notes = TextAreaField(
        _l("Governance of the unit (additional provisions)"), validators=[Length(max=20_000)]
    )
    annual_eur = IntegerField(
        _l("Annual Inserm resources (euros)"), validators=[Optional(), NumberRange(min=0)]
    )
    duration_years = IntegerField(
        _l("Duration (years)"),
        default=rules_for(Instrument.UME_UMI).duration_years,
        validators=[InputRequired(), NumberRange(min=1, max=10)],
    )
    starts_on = DateField(_l("Start of the mandate"), validators=[InputRequired()])
    language = SelectField(
        _l("Language of the agreement"),
        choices=choices([("fr", "Français"), ("en", "English")]),
        default="fr",
    )

    def __init__(self, *args, country_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.host_country_code.choices = choices([("", "—"), *country_choices])


class RedressForm(Form):
    grounds = TextAreaField(
        _l("Procedural grounds of your request"),
        validators=[DataRequired(), Length(min=20, max=MAX_COMMENT)],
    )


class AnswerRedressForm(Form):
    status = SelectField(
        _l("Outcome"),
        choices=choices(
            [
                (RedressStatus.UPHELD.value, _l("Upheld: the procedure will be reviewed")),
                (RedressStatus.DISMISSED.value, _l("Dismissed")),
            ]
        ),
        validators=[AnyOf([RedressStatus.UPHELD.value, RedressStatus.DISMISSED.value])],
    )
    answer = TextAreaField(
        _l("Answer to the applicant"), validators=[DataRequired(), Length(max=MAX_COMMENT)]
    )


class VerifyForm(Form):
    document = FileField(_l("PDF to check"), validators=[FileRequired(_l("Choose a PDF file."))])


class CommitteesForm(Form):
    """The committee members' names of an agreement not yet signed (one field per seat, added by
    `committees_form`), and what the correction changes."""

    reason = TextAreaField(
        _l("What the correction changes"),
        validators=[DataRequired(message=_l("Say what the correction changes.")), Length(max=1000)],
    )

    def names(self) -> dict[int, str]:
        return {
            int(name.removeprefix("member_")): field.data or ""
            for name, field in self._fields.items()
            if name.startswith("member_")
        }


def committees_form(members, **kwargs) -> CommitteesForm:
    """A `CommitteesForm` with a name field per seat, filled with the names on record."""

    class Form(CommitteesForm):
        pass

    for member in members:
        setattr(
            Form,
            f"member_{member.id}",
            StringField(member.affiliation, default=member.name, validators=[Length(max=200)]),
        )
    return Form(**kwargs)
