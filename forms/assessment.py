"""Forms of the assessment: screening, the reviewer pool, assignment, declarations, scoring,
consensus and ranking. Field rules live here; the business rules in `workflows`."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    EmailField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional

from forms import Form, choices
from forms.admin import MultiCheckboxField
from workflows.calls import Grid
from workflows.conflicts import ConflictKind
from workflows.screening import CHECKLIST

CONFLICT_LABELS = {
    ConflictKind.NONE: _l("I have no conflict of interest with this proposal"),
    ConflictKind.SAME_INSTITUTION: _l("I work at the same institution as one of the teams"),
    ConflictKind.COAUTHOR_5Y: _l("I co-authored with a team member in the last five years"),
    ConflictKind.SUPERVISOR_STUDENT: _l("I supervised, or was supervised by, a team member"),
    ConflictKind.PERSONAL: _l("I have a personal relationship with a team member"),
    ConflictKind.OTHER: _l("Another conflict of interest"),
}

CONFLICT_SHORT_LABELS = {
    ConflictKind.NONE: _l("No conflict"),
    ConflictKind.SAME_INSTITUTION: _l("Same institution"),
    ConflictKind.COAUTHOR_5Y: _l("Co-author (last 5 years)"),
    ConflictKind.SUPERVISOR_STUDENT: _l("Supervisor or student"),
    ConflictKind.PERSONAL: _l("Personal"),
    ConflictKind.OTHER: _l("Other"),
}

CHECKLIST_LABELS = {
    "coordinator_permanent": _l(
        "The Inserm coordinator holds a permanent position in an Inserm unit (unit code given)."
    ),
    "attachments_readable": _l(
        "The required attachments are present, readable and are what they claim to be."
    ),
    "partner_cofunding": _l("The partner institution's letter of support attests its co-funding."),
    "director_endorsement": _l("The unit director has endorsed the proposal."),
    "scope": _l("The proposal fits the call's themes and its instrument."),
}


class ScreeningForm(Form):
    """The manual checklist, internal notes, and the reason told to the applicants if ineligible."""

    notes = TextAreaField(_l("Internal notes (never sent)"), validators=[Optional(), Length(max=5000)])
    reason = TextAreaField(
        _l("Reason the applicants are told (if ineligible)"), validators=[Optional(), Length(max=5000)]
    )
    action = StringField(validators=[Optional()])

    def checklist(self) -> dict[str, bool]:
        return {item.code: bool(self[f"check_{item.code}"].data) for item in CHECKLIST}


for _item in CHECKLIST:
    setattr(
        ScreeningForm, f"check_{_item.code}", BooleanField(CHECKLIST_LABELS.get(_item.code, _item.label_en))
    )


class BulkScreeningForm(Form):
    proposal_ids = MultiCheckboxField(
        _l("Proposals"), coerce=int, validators=[DataRequired(message=_l("Choose at least one proposal."))]
    )
    checklist_confirmed = BooleanField(
        _l("I have checked the manual checklist for each of the chosen proposals."),
        validators=[DataRequired(message=_l("Confirm that the checklist was checked."))],
    )


class PoolSearchForm(Form):
    class Meta:
        csrf = False  # a GET search form changes nothing

    q = StringField(_l("Search"), validators=[Optional(), Length(max=100)])
    kind = SelectField(
        _l("Kind"),
        choices=choices([("", _l("All")), ("external", _l("External")), ("internal", _l("Internal"))]),
        validators=[Optional()],
    )
    country = SelectField(_l("Country"), validators=[Optional()], validate_choice=False)
    status = SelectField(
        _l("Status"),
        choices=choices([("", _l("All")), ("active", _l("Active")), ("inactive", _l("Inactive"))]),
        validators=[Optional()],
    )


class ReviewerProfileForm(Form):
    keywords = TextAreaField(
        _l("Expertise keywords (comma-separated)"), validators=[Optional(), Length(max=500)]
    )
    institution_name = StringField(_l("Institution"), validators=[Optional(), Length(max=300)])
    unit_code = StringField(_l("Unit code (Inserm, CNRS units)"), validators=[Optional(), Length(max=20)])
    country_code = SelectField(_l("Country"), validators=[Optional()])
    is_external = RadioField(
        _l("Kind"),
        choices=choices(
            [("external", _l("External expert")), ("internal", _l("Internal (Inserm scientific commission)"))]
        ),
        default="external",
    )
    max_load = IntegerField(
        _l("Load cap (proposals per call)"),
        default=5,
        validators=[InputRequired(), NumberRange(min=0, max=100)],
    )
    active = BooleanField(_l("Active in the pool"), default=True)


class InviteReviewerForm(ReviewerProfileForm):
    email = EmailField(
        _l("E-mail"),
        validators=[DataRequired(), Length(max=254), Email(message=_l("Enter a valid e-mail address."))],
    )
    first_name = StringField(_l("First name"), validators=[DataRequired(), Length(max=100)])
    last_name = StringField(_l("Last name"), validators=[DataRequired(), Length(max=100)])
    locale = SelectField(
        _l("Language of the e-mails"), choices=choices([("fr", "Français"), ("en", "English")]), default="en"
    )


class AutoAssignForm(Form):
    due_date = DateField(_l("Reviews due on"), validators=[InputRequired()])


class SendAssignmentsForm(Form):
    due_date = DateField(_l("Reviews due on (for those without a date)"), validators=[Optional()])


class ManualAssignForm(Form):
    reviewer_id = SelectField(_l("Reviewer"), coerce=int, validators=[InputRequired()])
    due_date = DateField(_l("Review due on"), validators=[InputRequired()])
    override_detection = BooleanField(
        _l("I checked the detected link: it is not a conflict of interest (recorded in the audit trail).")
    )


class ReasonForm(Form):
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=2000)])


class RequiredReasonForm(Form):
    reason = TextAreaField(
        _l("Reason"), validators=[DataRequired(message=_l("Give a reason.")), Length(max=2000)]
    )


class DeclarationForm(Form):
    kind = RadioField(
        _l("Conflict of interest"),
        choices=choices([(k.value, CONFLICT_LABELS[k]) for k in ConflictKind]),
        validators=[InputRequired(message=_l("Choose one answer."))],
    )
    comment = TextAreaField(_l("Details (optional)"), validators=[Optional(), Length(max=2000)])


class ReviewFormBase(Form):
    comment_for_applicants = TextAreaField(
        _l("Comment for the applicants"), validators=[Optional(), Length(max=20000)]
    )
    confidential_comment = TextAreaField(
        _l("Confidential comment for the committee (never shown to the applicants)"),
        validators=[Optional(), Length(max=20000)],
    )
    ethics_flag = BooleanField(_l("This proposal raises an ethical issue"))
    ethics_comment = TextAreaField(_l("Ethical issue"), validators=[Optional(), Length(max=5000)])
    version = HiddenField()
    action = StringField(validators=[Optional()])

    grid: Grid
    criteria_fields: list[tuple]

    def scores(self) -> dict[str, int | None]:
        return {code: self[f"score_{i}"].data for i, code in enumerate(c.code for c in self.grid.criteria)}

    def comments(self) -> dict[str, str]:
        return {c.code: self[f"comment_{i}"].data or "" for i, c in enumerate(self.grid.criteria)}

    def expected_version(self) -> int | None:
        value = (self.version.data or "").strip()
        return int(value) if value.isdigit() else None


def review_form(grid: Grid, locale: str, **kwargs) -> ReviewFormBase:
    """A scoring form built from the call's grid: per criterion a score on the call's scale and a
    comment; the comment lengths are checked at submission (`workflows.scoring.review_problems`)."""
    scale = [(str(s), str(s)) for s in range(grid.scale_min, grid.scale_max + 1)]

    class ReviewForm(ReviewFormBase):
        pass

    for index, criterion in enumerate(grid.criteria):
        label = criterion.label_fr if locale.startswith("fr") else criterion.label_en
        setattr(
            ReviewForm,
            f"score_{index}",
            RadioField(
                f"{criterion.code} · {label}",
                choices=choices(scale),
                coerce=int,
                validators=[Optional()],
            ),
        )
        setattr(
            ReviewForm,
            f"comment_{index}",
            TextAreaField(
                _l("Comment on %(code)s", code=criterion.code),
                validators=[Optional(), Length(max=10000)],
            ),
        )
    form = ReviewForm(**kwargs)
    form.grid = grid
    return form


class ConsensusForm(Form):
    score = DecimalField(
        _l("Consensus score"), places=3, validators=[InputRequired(message=_l("Give a consensus score."))]
    )
    comment = TextAreaField(
        _l("Consensus comment (shown to the applicants, without any reviewer's name)"),
        validators=[Optional(), Length(max=10000)],
    )
    justification = TextAreaField(
        _l("Justification of a score that differs from the computed one (internal)"),
        validators=[Optional(), Length(max=10000)],
    )
    open_to_reviewers = BooleanField(
        _l("Open the consensus to the proposal's reviewers (they will see each other's names and reviews)")
    )
    version = HiddenField()


class MoveForm(Form):
    proposal_id = HiddenField(validators=[DataRequired()])
    position = IntegerField(_l("New position"), validators=[InputRequired(), NumberRange(min=1, max=100000)])
    justification = TextAreaField(
        _l("Justification (recorded in the audit trail)"),
        validators=[DataRequired(message=_l("Justify the move.")), Length(max=5000)],
    )


class LetterOutcomeForm(Form):
    """Two-stage calls: shortlist a letter of intent (an optional word for the applicants) or
    turn it down (a reason, required, sent to the applicants)."""

    message = TextAreaField(
        _l("Message to the applicants (optional, added to the invitation)"),
        validators=[Optional(), Length(max=5000)],
    )
    reason = TextAreaField(
        _l("Reason the applicants are told (if not shortlisted)"), validators=[Optional(), Length(max=5000)]
    )
    action = StringField(validators=[Optional()])


class BulkLettersForm(Form):
    proposal_ids = MultiCheckboxField(
        _l("Letters of intent"),
        coerce=int,
        validators=[DataRequired(message=_l("Choose at least one letter."))],
    )
