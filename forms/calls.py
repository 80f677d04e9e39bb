"""Forms of the call editor, the deadline extension, the agreement registry and the public filters.

Field rules (types, ranges, lengths, a Paris time that exists) live here; the call's
cross-field rules live in `workflows.calls` and are checked by the operations.
"""

from __future__ import annotations

import re
from datetime import datetime

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    DecimalField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from forms import Form, SubForm, choices
from forms.admin import MultiCheckboxField
from workflows.calls import (
    MAX_DURATION_YEARS,
    MAX_GRACE_MINUTES,
    MAX_YEAR,
    MIN_YEAR,
    TEXT_FIELDS,
    AttachmentSpec,
    CountryPolicy,
    CriterionSpec,
    GradeBand,
    Grid,
)
from workflows.errors import NonexistentLocalTime
from workflows.instruments import CALL_INSTRUMENTS, Instrument
from workflows.timeutils import paris_to_utc, to_paris

PARIS_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]
EXTRA_ROWS = 2  # blank rows offered under the criteria and documents to add new ones

INSTRUMENT_LABELS = {
    Instrument.LEA_LIA: _l("LEA / LIA (associated laboratory)"),
    Instrument.GDRE_GDRI: _l("GDRE / GDRI (research network)"),
    Instrument.UME_UMI: _l("UME / UMI (joint unit)"),
    Instrument.COOPERATION_AGREEMENT: _l("Cooperation agreement"),
}
TEXT_LIMIT_LABELS = {
    "abstract": _l("Abstract"),
    "history": _l("History of the collaboration"),
    "programme": _l("Scientific programme"),
    "mobility_plan": _l("Mobility and training plan"),
    "ethics": _l("Ethics statement"),
}


def instrument_choices():
    return choices((i.value, INSTRUMENT_LABELS[i]) for i in CALL_INSTRUMENTS)


class ParisDateTimeField(DateTimeLocalField):
    """A date and time typed on the Paris clock (``data`` is naive Paris time).

    `utc()` gives the aware UTC instant. A time in the spring-forward gap is refused with a
    clear message; a time in the repeated autumn hour means its first occurrence (summer time).
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("format", PARIS_FORMATS)
        super().__init__(*args, **kwargs)

    def set_utc(self, moment: datetime | None) -> None:
        self.data = None if moment is None else to_paris(moment).replace(tzinfo=None, fold=0)

    def utc(self) -> datetime | None:
        if self.data is None:
            return None
        return paris_to_utc(self.data.replace(tzinfo=None, fold=0))

    def post_validate(self, form, validation_stopped):
        if self.data is None or self.errors:
            return
        try:
            self.utc()
        except NonexistentLocalTime:
            self.errors.append(
                _l("%(time)s does not exist in Paris: the clocks jump forward one hour that "
                   "night (from 02:00 to 03:00). Please choose another time.",
                   time=self.data.strftime("%Y-%m-%d %H:%M"))
            )


class EuroField(IntegerField):
    """Whole euros; accepts "15 000", "15,000" or "15000 €"."""

    def process_formdata(self, valuelist):
        if valuelist:
            valuelist = [re.sub(r"[\s\u00a0\u202f,.€]", "", valuelist[0] or "")]
        super().process_formdata(valuelist)


def _clean_code(value):
    return value.strip() if isinstance(value, str) else value


class CriterionForm(SubForm):
    code = StringField(_l("Code"), filters=[_clean_code], validators=[Optional(), Length(max=32)])
    label_fr = StringField(_l("Label (French)"), validators=[Length(max=300)])
    label_en = StringField(_l("Label (English)"), validators=[Length(max=300)])
    guidance_fr = TextAreaField(_l("Guidance for reviewers (French)"),
                                validators=[Length(max=5000)])
    guidance_en = TextAreaField(_l("Guidance for reviewers (English)"),
                                validators=[Length(max=5000)])
    weight = IntegerField(_l("Weight (%)"), validators=[Optional(), NumberRange(0, 100)])
    threshold = IntegerField(_l("Threshold"), validators=[Optional(), NumberRange(0, 100)])

    def is_blank(self) -> bool:
        return not any((self.code.data, self.label_fr.data, self.label_en.data,
                        self.guidance_fr.data, self.guidance_en.data, self.weight.data))


class AttachmentKindForm(SubForm):
    code = StringField(_l("Code"), filters=[_clean_code], validators=[Optional(), Length(max=40)])
    label_fr = StringField(_l("Label (French)"), validators=[Length(max=300)])
    label_en = StringField(_l("Label (English)"), validators=[Length(max=300)])
    required = BooleanField(_l("Required"))
    max_mb = IntegerField(_l("Max. size (MB)"), validators=[Optional(), NumberRange(1, 1000)])

    def is_blank(self) -> bool:
        return not any((self.code.data, self.label_fr.data, self.label_en.data))


class GradeBandForm(SubForm):
    grade = StringField(_l("Grade"), validators=[Length(max=10)])
    min_score = DecimalField(_l("From weighted score"), places=2, validators=[Optional()])

    def is_blank(self) -> bool:
        return not self.grade.data and self.min_score.data is None


class CallForm(Form):
    version = HiddenField()
    instrument = SelectField(_l("Instrument"), choices=[], validators=[DataRequired()])
    year = IntegerField(_l("Year"), validators=[DataRequired(), NumberRange(MIN_YEAR, MAX_YEAR)])
    title_fr = StringField(_l("Title (French)"), validators=[Length(max=300)])
    title_en = StringField(_l("Title (English)"), validators=[Length(max=300)])
    text_fr = TextAreaField(_l("Text of the call (French, Markdown)"),
                            validators=[Length(max=100_000)])
    text_en = TextAreaField(_l("Text of the call (English, Markdown)"),
                            validators=[Length(max=100_000)])

    opens_at = ParisDateTimeField(_l("Opens (Paris time)"), validators=[Optional()])
    is_rolling = BooleanField(_l("Rolling call: open all year, no closing date "
                                 "(case-by-case designation)"))
    closes_at = ParisDateTimeField(_l("Closes (Paris time; for a two-stage call, the "
                                      "full-proposal deadline)"), validators=[Optional()])
    grace_minutes = IntegerField(_l("Grace period (minutes)"), default=0,
                                 validators=[Optional(), NumberRange(0, MAX_GRACE_MINUTES)])
    two_stage = BooleanField(_l("Two stages: a letter of intent, then a full proposal on "
                                "invitation"))
    loi_deadline_at = ParisDateTimeField(_l("Letter-of-intent deadline (Paris time)"),
                                         validators=[Optional()])

    countries = SelectMultipleField(_l("Eligible countries"), choices=[],
                                    validators=[Optional()])
    country_policy = RadioField(
        _l("A partner country outside this list is"),
        choices=choices([
            (CountryPolicy.REFUSE.value, _l("refused at submission")),
            (CountryPolicy.FLAG.value, _l("accepted and flagged for the programme manager")),
        ]),
        default=CountryPolicy.REFUSE.value,
    )
    themes = MultiCheckboxField(_l("Eligible themes (none ticked: every theme)"), choices=[],
                                coerce=int, validators=[Optional()])

    budget_envelope_eur = EuroField(_l("Budget envelope (€)"),
                                    validators=[Optional(), NumberRange(min=0)])
    max_per_year_eur = EuroField(_l("Maximum amount per year (€)"),
                                 validators=[Optional(), NumberRange(min=0)])
    duration_years = IntegerField(_l("Duration (years)"),
                                  validators=[DataRequired(), NumberRange(1, MAX_DURATION_YEARS)])
    salaries_allowed = BooleanField(_l("Salaries are eligible"))
    non_mobility_cap_pct = IntegerField(_l("Cap on costs other than mobility (percentage of each year)"),
                                        validators=[Optional(), NumberRange(0, 100)])

    max_chars_abstract = IntegerField(TEXT_LIMIT_LABELS["abstract"],
                                      validators=[Optional(), NumberRange(1, 200_000)])
    max_chars_history = IntegerField(TEXT_LIMIT_LABELS["history"],
                                     validators=[Optional(), NumberRange(1, 200_000)])
    max_chars_programme = IntegerField(TEXT_LIMIT_LABELS["programme"],
                                       validators=[Optional(), NumberRange(1, 200_000)])
    max_chars_mobility_plan = IntegerField(TEXT_LIMIT_LABELS["mobility_plan"],
                                           validators=[Optional(), NumberRange(1, 200_000)])
    max_chars_ethics = IntegerField(TEXT_LIMIT_LABELS["ethics"],
                                    validators=[Optional(), NumberRange(1, 200_000)])

    attachments = FieldList(FormField(AttachmentKindForm), min_entries=0)

    criteria = FieldList(FormField(CriterionForm), min_entries=0)
    scale_min = IntegerField(_l("Scale: lowest score"), default=1,
                             validators=[InputRequired(), NumberRange(0, 100)])
    scale_max = IntegerField(_l("Scale: highest score"), default=5,
                             validators=[DataRequired(), NumberRange(1, 100)])
    overall_threshold = DecimalField(_l("Overall threshold (weighted score; empty: none)"),
                                     places=2, validators=[Optional(), NumberRange(0, 100)])
    grade_bands = FieldList(FormField(GradeBandForm), min_entries=0)
    tie_break = StringField(_l("Tie-break order (criterion codes, most decisive first)"),
                            validators=[Length(max=200)])

    reviewers_per_proposal = IntegerField(_l("Reviewers per proposal"), default=2,
                                          validators=[DataRequired(), NumberRange(1, 20)])
    target_awards = IntegerField(_l("Target number of awards"),
                                 validators=[Optional(), NumberRange(1, 1000)])
    funding_start = DateField(_l("Funding starts on"), validators=[Optional()])

    GRID_FIELDS = ("criteria", "scale_min", "scale_max", "overall_threshold", "grade_bands",
                   "tie_break")
    DATE_FIELDS = ("opens_at", "is_rolling", "closes_at", "two_stage", "loi_deadline_at")

    def __init__(self, *args, country_choices=(), theme_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.instrument.choices = instrument_choices()
        self.countries.choices = choices(country_choices)
        self.themes.choices = choices(theme_choices)

    # --- rows ---

    def _check_codes(self, rows, what) -> bool:
        ok, seen = True, set()
        for row in rows:
            if row.form.is_blank():
                continue
            code = row.form.code.data or ""
            if not code:
                row.form.code.errors.append(_l("Give a code (or empty the whole row)."))
                ok = False
            elif code.upper() in seen:
                row.form.code.errors.append(_l("This code is used twice in the %(what)s.",
                                               what=what))
                ok = False
            seen.add(code.upper())
        return ok

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if "criteria" in self._fields:
            ok = self._check_codes(self.criteria, _l("grid")) and ok
        ok = self._check_codes(self.attachments, _l("documents")) and ok
        return ok

    def fill(self, data, *, extra_rows: int = EXTRA_ROWS) -> None:
        """Show a `CallData` (from `webapp.operations.calls`), plus blank rows to add to."""
        if "instrument" in self._fields:
            self.instrument.data = data.instrument.value
        for name in ("year", "title_fr", "title_en", "text_fr", "text_en", "is_rolling",
                     "grace_minutes", "two_stage", "budget_envelope_eur", "max_per_year_eur",
                     "duration_years", "salaries_allowed", "non_mobility_cap_pct",
                     "reviewers_per_proposal", "target_awards", "funding_start"):
            if name in self._fields:
                self[name].data = getattr(data, name)
        for name in ("opens_at", "closes_at", "loi_deadline_at"):
            if name in self._fields:
                self[name].set_utc(getattr(data, name))
        self.countries.data = list(data.country_codes)
        self.country_policy.data = CountryPolicy(data.country_policy).value
        self.themes.data = list(data.theme_ids)
        for name in TEXT_FIELDS:
            self[f"max_chars_{name}"].data = data.char_limits.get(name)
        _reset(self.attachments)
        for spec in data.attachments:
            self.attachments.append_entry({"code": spec.code, "label_fr": spec.label_fr,
                                           "label_en": spec.label_en, "required": spec.required,
                                           "max_mb": spec.max_mb})
        for _ in range(extra_rows):
            self.attachments.append_entry({"required": True, "max_mb": 5})
        if "criteria" in self._fields and data.grid is not None:
            grid = data.grid
            _reset(self.criteria)
            for c in grid.criteria:
                self.criteria.append_entry({
                    "code": c.code, "label_fr": c.label_fr, "label_en": c.label_en,
                    "guidance_fr": c.guidance_fr, "guidance_en": c.guidance_en,
                    "weight": c.weight, "threshold": c.threshold,
                })
            for _ in range(extra_rows):
                self.criteria.append_entry({})
            self.scale_min.data, self.scale_max.data = grid.scale_min, grid.scale_max
            self.overall_threshold.data = grid.overall_threshold
            _reset(self.grade_bands)
            for band in grid.grade_bands:
                self.grade_bands.append_entry({"grade": band.grade, "min_score": band.min_score})
            self.grade_bands.append_entry({})
            self.tie_break.data = ", ".join(grid.tie_break)

    def grid(self) -> Grid | None:
        """The grid typed in the editor; ``None`` when the editor had no grid (frozen)."""
        if "criteria" not in self._fields:
            return None
        criteria = tuple(
            CriterionSpec(
                code=row.form.code.data or "",
                label_fr=(row.form.label_fr.data or "").strip(),
                label_en=(row.form.label_en.data or "").strip(),
                weight=row.form.weight.data or 0,
                guidance_fr=(row.form.guidance_fr.data or "").strip(),
                guidance_en=(row.form.guidance_en.data or "").strip(),
                threshold=row.form.threshold.data,
            )
            for row in self.criteria
            if not row.form.is_blank()
        )
        bands = tuple(
            GradeBand((row.form.grade.data or "").strip(),
                      float(row.form.min_score.data) if row.form.min_score.data is not None
                      else 0.0)
            for row in self.grade_bands
            if not row.form.is_blank()
        )
        threshold = self.overall_threshold.data
        return Grid(
            criteria=criteria,
            scale_min=self.scale_min.data,
            scale_max=self.scale_max.data,
            overall_threshold=float(threshold) if threshold is not None else None,
            grade_bands=bands,
            tie_break=tuple(c for c in re.split(r"[\s,;]+", self.tie_break.data or "") if c),
        )

    def attachment_specs(self) -> list[AttachmentSpec]:
        return [
            AttachmentSpec(
                code=row.form.code.data or "",
                label_fr=(row.form.label_fr.data or "").strip(),
                label_en=(row.form.label_en.data or "").strip(),
                required=bool(row.form.required.data),
                max_mb=row.form.max_mb.data or 0,
            )
            for row in self.attachments
            if not row.form.is_blank()
        ]

    def char_limits(self) -> dict[str, int | None]:
        return {name: self[f"max_chars_{name}"].data for name in TEXT_FIELDS}


def _reset(field_list: FieldList) -> None:
    while field_list.entries:
        field_list.pop_entry()


class ExtendDeadlineForm(Form):
    version = HiddenField()
    closes_at = ParisDateTimeField(_l("New closing date (Paris time)"),
                                   validators=[DataRequired(message=_l("Give the new date."))])
    loi_deadline_at = ParisDateTimeField(_l("New letter-of-intent deadline (Paris time)"),
                                         validators=[Optional()])


# --- agreements ----------------------------------------------------------------------------------


class PartnerForm(SubForm):
    name = StringField(_l("Partner institution"), validators=[Length(max=255)])
    acronym = StringField(_l("Acronym"), validators=[Length(max=50)])
    country_code = SelectField(_l("Country"), choices=[], validate_choice=False)

    def validate_country_code(self, field):
        if (self.name.data or "").strip() and not field.data:
            raise ValidationError(_l("Choose the institution's country."))


class AgreementForm(Form):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    countries = SelectMultipleField(_l("Countries"), choices=[],
                                    validators=[DataRequired(message=_l("Choose at least one "
                                                                        "country."))])
    starts_on = DateField(_l("In force from"), validators=[Optional()])
    ends_on = DateField(_l("Until"), validators=[Optional()])
    themes = MultiCheckboxField(_l("Preferred themes"), choices=[], coerce=int,
                                validators=[Optional()])
    partners = FieldList(FormField(PartnerForm), min_entries=0)
    notes = TextAreaField(_l("Notes"), validators=[Length(max=10_000)])

    def __init__(self, *args, country_choices=(), theme_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.countries.choices = choices(country_choices)
        self.themes.choices = choices(theme_choices)
        self._country_choices = choices([("", "—"), *country_choices])
        for row in self.partners:
            row.form.country_code.choices = self._country_choices

    def add_partner_rows(self, partners=(), extra: int = 2) -> None:
        _reset(self.partners)
        for partner in list(partners) + [None] * extra:
            data = ({"name": partner.name, "acronym": partner.acronym,
                     "country_code": partner.country_code} if partner else {})
            entry = self.partners.append_entry(data)
            entry.form.country_code.choices = self._country_choices

    def validate_ends_on(self, field):
        if field.data and self.starts_on.data and field.data < self.starts_on.data:
            raise ValidationError(_l("The agreement ends before it starts."))


class ThemeForm(Form):
    label_fr = StringField(_l("Theme (French)"), validators=[DataRequired(), Length(max=200)])
    label_en = StringField(_l("Theme (English)"), validators=[DataRequired(), Length(max=200)])


# --- public listing ---------------------------------------------------------------------------


class CallFilterForm(Form):
    class Meta:
        csrf = False  # a GET filter changes nothing

    status = SelectField(_l("Status"), choices=choices([
        ("open", _l("Open")), ("upcoming", _l("Upcoming")), ("closed", _l("Closed")),
        ("all", _l("All")),
    ]), default="open", validators=[Optional()])
    instrument = SelectField(_l("Instrument"), choices=[], validators=[Optional()])
    country = SelectField(_l("Country"), choices=[], validators=[Optional()])
    year = SelectField(_l("Year"), choices=[], validators=[Optional()])

    def __init__(self, *args, country_choices=(), year_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.instrument.choices = choices([("", _l("All instruments"))]) + instrument_choices()
        self.country.choices = choices([("", _l("All countries")), *country_choices])
        self.year.choices = choices([("", _l("All years")), *[(str(y), str(y)) for y in year_choices]])


def instrument_label(instrument) -> str:
    try:
        return str(INSTRUMENT_LABELS[Instrument(instrument)])
    except ValueError:
        return str(instrument)

