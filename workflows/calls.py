"""Rules of a call for proposals (DOMAIN.md sections 3 and 5): defaults, publication, status.

A call is described to these rules by a `CallSpec` (plain values, built by the web layer from the
database). The checks return *every* problem at once as `Problem`s: a stable ``code`` the web
layer translates, its ``params``, and an English ``message`` for logs and tests. Nothing here
raises on a bad call: a manager fixes a list, not one error at a time.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from workflows.errors import NonexistentLocalTime
from workflows.instruments import CALL_INSTRUMENTS, Instrument
from workflows.timeutils import ensure_aware, paris_to_utc, to_paris

CODE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")
ATTACHMENT_CODE_RE = re.compile(r"[a-z][a-z0-9_]{0,39}")
MAX_GRACE_MINUTES = 24 * 60
MAX_DURATION_YEARS = 10
MIN_YEAR, MAX_YEAR = 2000, 2100


# --- countries --------------------------------------------------------------------------------


class CountryPolicy(StrEnum):
    """What a call does with a partner country outside its eligible list."""

    REFUSE = "refuse"  # the submission is refused
    FLAG = "flag"  # the submission is accepted and flagged for the programme manager


def country_check(
    policy: CountryPolicy | str, country_code: str, eligible_codes: Collection[str]
) -> tuple[bool, bool]:
    """Whether a partner country is accepted by a call: ``(ok, flagged)``.

    An eligible country gives ``(True, False)``. Any other (including an empty code) gives
    ``(False, False)`` under the ``refuse`` policy and ``(True, True)`` under ``flag``: accepted,
    but marked for the programme manager's attention. Codes compare case-insensitively.
    """
    policy = CountryPolicy(policy)
    code = (country_code or "").strip().upper()
    if code and code in {c.strip().upper() for c in eligible_codes}:
        return True, False
    if policy is CountryPolicy.FLAG:
        return True, True
    return False, False


# --- status -----------------------------------------------------------------------------------


class CallStatus(StrEnum):
    """Where a call stands for the public; derived from its dates and now, never stored."""

    DRAFT = "draft"  # not published: only programme managers see it
    UPCOMING = "upcoming"
    OPEN = "open"
    CLOSED = "closed"


def call_status(
    now: datetime,
    *,
    published: bool,
    opens_at: datetime | None,
    closes_at: datetime | None,
) -> CallStatus:
    """The public status of a call at ``now``.

    Open from ``opens_at`` inclusive to ``closes_at`` inclusive (the announced deadline);
    ``closes_at`` ``None`` is a rolling call, open for good once opened. A call's grace period
    is deliberately not part of its public status: it is a silent tolerance for submissions
    under way at the deadline (`workflows.timeutils.deadline_passed` applies it), while pages
    and countdowns follow the deadline as announced.
    """
    if not published or opens_at is None:
        return CallStatus.DRAFT
    current = ensure_aware(now, "now").astimezone(UTC)
    if current < ensure_aware(opens_at, "opens_at").astimezone(UTC):
        return CallStatus.UPCOMING
    if closes_at is not None and current > ensure_aware(closes_at, "closes_at").astimezone(UTC):
        return CallStatus.CLOSED
    return CallStatus.OPEN


# --- the evaluation grid ----------------------------------------------------------------------


@dataclass(frozen=True)
class CriterionSpec:
    """One criterion of the grid: weight in percent, optional minimum score (threshold)."""

    code: str
    label_fr: str
    label_en: str
    weight: int
    guidance_fr: str = ""
    guidance_en: str = ""
    threshold: int | None = None


@dataclass(frozen=True)
class GradeBand:
    """A grade given to a weighted score of at least ``min_score``."""

    grade: str
    min_score: float


@dataclass(frozen=True)
class Grid:
    """The evaluation grid of a call: criteria, scale, thresholds, grades and tie-break order."""

    criteria: tuple[CriterionSpec, ...]
    scale_min: int = 1
    scale_max: int = 5
    overall_threshold: float | None = None
    grade_bands: tuple[GradeBand, ...] = ()
    tie_break: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "criteria", tuple(self.criteria))
        object.__setattr__(self, "grade_bands", tuple(self.grade_bands))
        object.__setattr__(self, "tie_break", tuple(self.tie_break))


#: DOMAIN.md section 5, the default grid [default]; each criterion is scored 1-5 with a comment.
DEFAULT_CRITERIA: tuple[CriterionSpec, ...] = (
    CriterionSpec(
        "C1",
        "Excellence scientifique et originalité du projet",
        "Scientific excellence and originality of the project",
        25,
        "Qualité, originalité et faisabilité du programme scientifique.",
        "Quality, originality and feasibility of the scientific programme.",
    ),
    CriterionSpec(
        "C2",
        "Qualité et complémentarité des équipes",
        "Quality and complementarity of the teams",
        20,
        "Compétences des équipes et complémentarité de leurs apports.",
        "Track record of the teams and how their contributions complement each other.",
    ),
    CriterionSpec(
        "C3",
        "Valeur ajoutée de la collaboration internationale, réciprocité, équilibre entre partenaires",
        "Added value of the international collaboration, reciprocity, balance between partners",
        20,
        "Ce que la collaboration permet que chaque équipe seule ne pourrait faire ; équilibre des "
        "échanges.",
        "What the collaboration achieves that neither team could alone; balance of the exchanges.",
    ),
    CriterionSpec(
        "C4",
        "Mobilité et formation des jeunes chercheurs",
        "Mobility and training of young researchers",
        10,
        "Place des doctorants et post-doctorants dans les échanges.",
        "Place of PhD students and postdocs in the exchanges.",
    ),
    CriterionSpec(
        "C5",
        "Effet structurant, visibilité, effet de levier vers des financements européens ou "
        "internationaux",
        "Structuring effect, visibility, leverage towards European/international funding",
        10,
        "Perspectives de pérennisation et de financements ultérieurs.",
        "Prospects of lasting beyond the grant and of further funding.",
    ),
    CriterionSpec(
        "C6",
        "Adéquation aux priorités pays et thématiques de l'Inserm",
        "Fit with Inserm's country and theme priorities",
        10,
        "Pays et thèmes prioritaires des accords de coopération.",
        "Priority countries and themes of the cooperation agreements.",
    ),
    CriterionSpec(
        "C7",
        "Justification du budget et contribution du partenaire",
        "Budget justification and partner contribution",
        5,
        "Réalisme du budget, contribution du partenaire en numéraire ou en nature.",
        "Realism of the budget; the partner's cash or in-kind contribution.",
    ),
)

#: Grades from the weighted score on the default 1-5 scale [default, editable per call].
DEFAULT_GRADE_BANDS: tuple[GradeBand, ...] = (
    GradeBand("A+", 4.5),
    GradeBand("A", 4.0),
    GradeBand("B", 3.0),
    GradeBand("C", 1.0),
)

#: Ties are broken on C1, then C3 (DOMAIN.md section 5).
DEFAULT_TIE_BREAK: tuple[str, ...] = ("C1", "C3")
DEFAULT_REVIEWERS_PER_PROPOSAL = 2


def default_grid() -> Grid:
    """The grid a new call starts from."""
    return Grid(
        criteria=DEFAULT_CRITERIA,
        scale_min=1,
        scale_max=5,
        overall_threshold=None,
        grade_bands=DEFAULT_GRADE_BANDS,
        tie_break=DEFAULT_TIE_BREAK,
    )


def grade_for(score: float, bands: Sequence[GradeBand]) -> str | None:
    """The grade of a weighted score: the first band (highest minimum first) it reaches.

    The score is rounded to two decimals first, so 4.4999999 from a float sum reads as 4.5.
    ``None`` when the score is below every band.
    """
    rounded = round(score, 2)
    for band in sorted(bands, key=lambda b: b.min_score, reverse=True):
        if rounded >= band.min_score:
            return band.grade
    return None


# --- attachments and text limits --------------------------------------------------------------


@dataclass(frozen=True)
class AttachmentSpec:
    """A kind of file a proposal carries, with its size limit in megabytes."""

    code: str
    label_fr: str
    label_en: str
    required: bool
    max_mb: int


DEFAULT_ATTACHMENTS: tuple[AttachmentSpec, ...] = (
    AttachmentSpec("cv_coordinator", "CV du coordinateur Inserm", "CV of the Inserm coordinator",
                   True, 5),
    AttachmentSpec("cv_co_coordinator", "CV du co-coordinateur étranger",
                   "CV of the foreign co-coordinator", True, 5),
    AttachmentSpec("support_letter",
                   "Lettre de soutien de l'institution partenaire (attestant son cofinancement)",
                   "Letter of support of the partner institution (attesting its co-funding)",
                   True, 5),
    AttachmentSpec("unit_director_endorsement", "Avis du directeur d'unité",
                   "Endorsement of the unit director", True, 5),
    AttachmentSpec("publication_list", "Liste de publications (dont publications communes)",
                   "Publication list (including joint publications)", False, 5),
)

#: The proposal text fields a call limits, in characters [default].
TEXT_FIELDS: tuple[str, ...] = ("abstract", "history", "programme", "mobility_plan", "ethics")
DEFAULT_CHAR_LIMITS: dict[str, int] = {
    "abstract": 2_000,
    "history": 5_000,
    "programme": 15_000,
    "mobility_plan": 5_000,
    "ethics": 3_000,
}


# --- problems ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One reason a call cannot be published (or changed) as it is.

    ``code`` is stable (the web layer translates it with ``params``); ``message`` is English.
    """

    code: str
    message: str
    params: Mapping[str, object] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message


def _p(problem_code: str, message: str, /, **params: object) -> Problem:
    return Problem(problem_code, message.format(**params), params)


def _iso(moment: datetime) -> str:
    """A Paris-time rendering for English messages."""
    return f"{to_paris(moment):%Y-%m-%d %H:%M} (Paris)"


def grid_problems(grid: Grid) -> list[Problem]:
    """Every inconsistency of an evaluation grid (empty list: it can be used)."""
    problems: list[Problem] = []
    low, high = grid.scale_min, grid.scale_max
    scale_ok = low < high
    if not scale_ok:
        problems.append(_p("scale_invalid", "The scale minimum ({low}) must be below its "
                           "maximum ({high}).", low=low, high=high))
    if low < 0:
        problems.append(_p("scale_negative", "The scale cannot start below 0 ({low}).", low=low))
    if not grid.criteria:
        problems.append(_p("no_criteria", "The grid has no criteria."))
    seen: set[str] = set()
    for index, criterion in enumerate(grid.criteria, start=1):
        code = criterion.code.strip()
        name = code or f"#{index}"
        if not code:
            problems.append(_p("criterion_code_missing", "Criterion {n} has no code.", n=index))
        elif not CODE_RE.fullmatch(code):
            problems.append(_p("criterion_code_invalid", "Criterion code '{code}' may only hold "
                               "letters, digits, '.', '-' and '_'.", code=code))
        elif code.upper() in seen:
            problems.append(_p("criterion_code_duplicate", "Criterion code '{code}' is used "
                               "twice.", code=code))
        seen.add(code.upper())
        if not criterion.label_fr.strip():
            problems.append(_p("criterion_label_fr_missing", "Criterion {code} has no French "
                               "label.", code=name))
        if not criterion.label_en.strip():
            problems.append(_p("criterion_label_en_missing", "Criterion {code} has no English "
                               "label.", code=name))
        if criterion.weight <= 0:
            problems.append(_p("criterion_weight_invalid", "Criterion {code} must weigh more "
                               "than 0 (it weighs {weight}).", code=name, weight=criterion.weight))
        if criterion.threshold is not None and scale_ok and not low <= criterion.threshold <= high:
            problems.append(_p("criterion_threshold_outside", "The threshold of criterion {code} "
                               "({threshold}) is outside the scale {low}-{high}.", code=name,
                               threshold=criterion.threshold, low=low, high=high))
    if grid.criteria:
        total = sum(c.weight for c in grid.criteria)
        if total != 100:
            problems.append(_p("weights_not_100", "The weights add up to {total}, not 100.",
                               total=total))
    if grid.overall_threshold is not None and scale_ok and not (
        low <= grid.overall_threshold <= high
    ):
        problems.append(_p("overall_threshold_outside", "The overall threshold "
                           "({threshold:g}) is outside the scale {low}-{high}.",
                           threshold=grid.overall_threshold, low=low, high=high))
    problems.extend(_band_problems(grid))
    codes = {c.code.strip().upper() for c in grid.criteria if c.code.strip()}
    tie_seen: set[str] = set()
    for code in grid.tie_break:
        key = code.strip().upper()
        if key not in codes:
            problems.append(_p("tie_break_unknown", "The tie-break order names '{code}', which is "
                               "not a criterion of the grid.", code=code))
        elif key in tie_seen:
            problems.append(_p("tie_break_duplicate", "The tie-break order names '{code}' twice.",
                               code=code))
        tie_seen.add(key)
    return problems


def _band_problems(grid: Grid) -> list[Problem]:
    problems: list[Problem] = []
    bands = grid.grade_bands
    low, high = grid.scale_min, grid.scale_max
    if not bands:
        return [_p("no_grade_bands", "The grid has no grade bands.")]
    labels: set[str] = set()
    for band in bands:
        if not band.grade.strip():
            problems.append(_p("grade_label_missing", "A grade band has no grade."))
        elif band.grade.strip() in labels:
            problems.append(_p("grade_label_duplicate", "Grade '{grade}' is used twice.",
                               grade=band.grade.strip()))
        labels.add(band.grade.strip())
        if low < high and not low <= band.min_score <= high:
            problems.append(_p("grade_outside_scale", "The minimum of grade {grade} "
                               "({min:g}) is outside the scale {low}-{high}.",
                               grade=band.grade, min=band.min_score, low=low, high=high))
    for upper, lower in zip(bands, bands[1:], strict=False):
        if lower.min_score >= upper.min_score:
            problems.append(_p("grades_not_decreasing", "Grade {lower} must start below grade "
                               "{upper} ({lmin:g} is not below {umin:g}).", lower=lower.grade,
                               upper=upper.grade, lmin=lower.min_score, umin=upper.min_score))
    if low < high and min(b.min_score for b in bands) > low:
        problems.append(_p("grades_leave_gap", "Scores below {min:g} would get no grade: the "
                           "lowest grade must start at the scale minimum ({low}).",
                           min=min(b.min_score for b in bands), low=low))
    return problems


def grid_change_problems(has_submissions: bool, old: Grid, new: Grid) -> list[Problem]:
    """A grid is frozen once the first proposal is submitted: any change is then refused."""
    if has_submissions and old != new:
        return [_p("grid_frozen", "The evaluation grid is frozen: proposals have already been "
                   "submitted to this call.")]
    return []


# --- the whole call ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CallSpec:
    """What the publication rules need to know about a call (datetimes aware, money in euros).

    ``registry_countries`` are the countries the cooperation-agreement registry covers: a call's
    eligible countries must be drawn from them. ``max_upload_mb`` is the platform's own limit on
    one upload, above which an attachment limit would be a promise the server cannot keep.
    """

    instrument: Instrument | str
    year: int | None
    title_fr: str = ""
    title_en: str = ""
    text_fr: str = ""
    text_en: str = ""
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    is_rolling: bool = False
    grace_minutes: int = 0
    two_stage: bool = False
    loi_deadline_at: datetime | None = None
    eligible_countries: tuple[str, ...] = ()
    registry_countries: frozenset[str] = frozenset()
    country_policy: CountryPolicy | str = CountryPolicy.REFUSE
    budget_envelope_eur: int | None = None
    max_per_year_eur: int | None = None
    duration_years: int | None = None
    non_mobility_cap_pct: int | None = None
    attachments: tuple[AttachmentSpec, ...] = ()
    char_limits: Mapping[str, int | None] = field(default_factory=dict)
    grid: Grid = field(default_factory=default_grid)
    reviewers_per_proposal: int | None = DEFAULT_REVIEWERS_PER_PROPOSAL
    target_awards: int | None = None
    funding_start: date | None = None
    max_upload_mb: int = 30


def publication_problems(spec: CallSpec) -> list[Problem]:
    """Everything that stops a call from being published, all at once (empty list: publishable).

    The same checks guard the edits of a call already published, so it never becomes
    inconsistent while applicants read it.
    """
    problems: list[Problem] = []
    try:
        instrument = Instrument(spec.instrument)
    except ValueError:
        instrument = None
    if instrument not in CALL_INSTRUMENTS:
        problems.append(_p("instrument_invalid", "Calls are published for LEA/LIA or GDRE/GDRI "
                           "only (got '{instrument}').", instrument=spec.instrument))
    if spec.year is None or not MIN_YEAR <= spec.year <= MAX_YEAR:
        problems.append(_p("year_invalid", "The year must be between {low} and {high}.",
                           low=MIN_YEAR, high=MAX_YEAR))
    for attr, code, what in (
        ("title_fr", "title_fr_missing", "French title"),
        ("title_en", "title_en_missing", "English title"),
        ("text_fr", "text_fr_missing", "French text"),
        ("text_en", "text_en_missing", "English text"),
    ):
        if not (getattr(spec, attr) or "").strip():
            problems.append(_p(code, "The {what} is missing.", what=what))
    problems.extend(_date_problems(spec))
    problems.extend(_country_problems(spec))
    problems.extend(_money_problems(spec))
    problems.extend(_attachment_problems(spec))
    for name in TEXT_FIELDS:
        limit = spec.char_limits.get(name)
        if limit is None or limit <= 0:
            problems.append(_p("char_limit_invalid", "The character limit of the {field} must be "
                               "a positive number.", field=name.replace("_", " ")))
    problems.extend(grid_problems(spec.grid))
    if spec.reviewers_per_proposal is None or spec.reviewers_per_proposal < 1:
        problems.append(_p("reviewers_invalid", "At least one reviewer per proposal is needed."))
    if spec.target_awards is not None and spec.target_awards < 1:
        problems.append(_p("target_awards_invalid", "The target number of awards must be at "
                           "least 1 (or left empty)."))
    return problems


#: Problems that stop even a draft from being saved: the database could not hold the result
#: (two criteria or documents with one code). Everything else only stops publication.
DRAFT_BLOCKING: frozenset[str] = frozenset({
    "criterion_code_missing",
    "criterion_code_invalid",
    "criterion_code_duplicate",
    "attachment_code_invalid",
    "attachment_code_duplicate",
})


def draft_problems(spec: CallSpec) -> list[Problem]:
    """What stops a draft from being saved at all (a subset of `publication_problems`)."""
    return [p for p in publication_problems(spec) if p.code in DRAFT_BLOCKING]


def _date_problems(spec: CallSpec) -> list[Problem]:
    problems: list[Problem] = []
    opens, closes, loi = spec.opens_at, spec.closes_at, spec.loi_deadline_at
    if opens is None:
        problems.append(_p("opens_missing", "The opening date is missing."))
    if spec.is_rolling:
        if closes is not None:
            problems.append(_p("rolling_with_closing", "A rolling call has no closing date."))
        if spec.two_stage:
            problems.append(_p("rolling_two_stage", "A rolling call cannot have two stages: "
                               "a letter-of-intent stage needs a deadline."))
    elif closes is None:
        problems.append(_p("closes_missing", "The closing date is missing (or make the call "
                           "rolling)."))
    elif opens is not None and closes <= opens:
        problems.append(_p("closes_before_opens", "The call closes ({closes}) before it opens "
                           "({opens}).", closes=_iso(closes), opens=_iso(opens)))
    if spec.grace_minutes < 0 or spec.grace_minutes > MAX_GRACE_MINUTES:
        problems.append(_p("grace_invalid", "The grace period must be between 0 and {max} "
                           "minutes.", max=MAX_GRACE_MINUTES))
    if spec.two_stage and not spec.is_rolling:
        if loi is None:
            problems.append(_p("loi_missing", "A two-stage call needs a letter-of-intent "
                               "deadline."))
        else:
            if opens is not None and loi <= opens:
                problems.append(_p("loi_before_opens", "The letter-of-intent deadline ({loi}) is "
                                   "not after the opening ({opens}).", loi=_iso(loi),
                                   opens=_iso(opens)))
            if closes is not None and loi >= closes:
                problems.append(_p("loi_after_full", "The letter-of-intent deadline ({loi}) must "
                                   "come before the full-proposal deadline ({closes}).",
                                   loi=_iso(loi), closes=_iso(closes)))
    elif loi is not None and not spec.two_stage:
        problems.append(_p("loi_without_two_stage", "A letter-of-intent deadline is set but the "
                           "call has a single stage."))
    if spec.funding_start is not None and closes is not None:
        if spec.funding_start <= to_paris(closes).date():
            problems.append(_p("funding_before_close", "Funding starts ({start}) before the call "
                               "closes.", start=spec.funding_start.isoformat()))
    return problems


def _country_problems(spec: CallSpec) -> list[Problem]:
    problems: list[Problem] = []
    if not spec.eligible_countries:
        problems.append(_p("no_country", "No eligible country is chosen."))
    registry = {c.upper() for c in spec.registry_countries}
    outside = sorted({c.upper() for c in spec.eligible_countries} - registry)
    if outside:
        problems.append(_p("country_outside_registry", "Not covered by a cooperation agreement: "
                           "{countries}.", countries=", ".join(outside)))
    try:
        CountryPolicy(spec.country_policy)
    except ValueError:
        problems.append(_p("country_policy_invalid", "Unknown country policy '{policy}'.",
                           policy=spec.country_policy))
    return problems


def _money_problems(spec: CallSpec) -> list[Problem]:
    problems: list[Problem] = []
    per_year = spec.max_per_year_eur
    if per_year is None or per_year <= 0:
        problems.append(_p("max_per_year_missing", "The maximum amount per year must be a "
                           "positive number of euros."))
    envelope = spec.budget_envelope_eur
    if envelope is not None:
        if envelope <= 0:
            problems.append(_p("envelope_invalid", "The budget envelope must be a positive "
                               "number of euros (or left empty)."))
        elif per_year is not None and per_year > envelope:
            problems.append(_p("envelope_below_max", "The budget envelope (€{envelope:,}) is "
                               "smaller than the maximum amount per year (€{per_year:,}).",
                               envelope=envelope, per_year=per_year))
    duration = spec.duration_years
    if duration is None or not 1 <= duration <= MAX_DURATION_YEARS:
        problems.append(_p("duration_invalid", "The duration must be between 1 and {max} years.",
                           max=MAX_DURATION_YEARS))
    cap = spec.non_mobility_cap_pct
    if cap is not None and not 0 <= cap <= 100:
        problems.append(_p("cap_invalid", "The cap on non-mobility costs must be between 0 and "
                           "100 %."))
    return problems


def _attachment_problems(spec: CallSpec) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[str] = set()
    for kind in spec.attachments:
        code = kind.code.strip()
        if not ATTACHMENT_CODE_RE.fullmatch(code):
            problems.append(_p("attachment_code_invalid", "Document code '{code}' must be "
                               "lower-case letters, digits and '_'.", code=code))
        elif code in seen:
            problems.append(_p("attachment_code_duplicate", "Document '{code}' is listed twice.",
                               code=code))
        seen.add(code)
        if not kind.label_fr.strip() or not kind.label_en.strip():
            problems.append(_p("attachment_label_missing", "Document '{code}' needs a French and "
                               "an English label.", code=code))
        if not 1 <= kind.max_mb <= spec.max_upload_mb:
            problems.append(_p("attachment_size_invalid", "The size limit of document '{code}' "
                               "must be between 1 and {max} MB.", code=code,
                               max=spec.max_upload_mb))
    return problems


# --- after publication ------------------------------------------------------------------------


def unpublish_problems(published: bool, has_submissions: bool) -> list[Problem]:
    """A call can be withdrawn from publication only while nothing has been submitted to it."""
    if not published:
        return [_p("not_published", "The call is not published.")]
    if has_submissions:
        return [_p("has_submissions", "Proposals have already been submitted to this call: it "
                   "can no longer be unpublished.")]
    return []


def deadline_extension_problems(
    *,
    published: bool,
    is_rolling: bool,
    two_stage: bool,
    old_closes_at: datetime | None,
    new_closes_at: datetime | None,
    old_loi_deadline_at: datetime | None = None,
    new_loi_deadline_at: datetime | None = None,
) -> list[Problem]:
    """A published call's deadline(s) may only move later, and the stages keep their order.

    Moving a deadline earlier would take time from applicants who planned on it, so it is
    refused; a draft is edited directly instead.
    """
    problems: list[Problem] = []
    if not published:
        return [_p("not_published", "The call is not published: edit its dates directly.")]
    if is_rolling:
        return [_p("rolling_no_deadline", "A rolling call has no deadline to extend.")]
    if new_closes_at is None:
        problems.append(_p("closes_missing", "The closing date is missing (or make the call "
                           "rolling)."))
    elif old_closes_at is not None and new_closes_at < old_closes_at:
        problems.append(_p("deadline_earlier", "The new deadline ({new}) is earlier than the "
                           "current one ({old}): a deadline can only be extended.",
                           new=_iso(new_closes_at), old=_iso(old_closes_at)))
    if two_stage:
        if new_loi_deadline_at is None:
            problems.append(_p("loi_missing", "A two-stage call needs a letter-of-intent "
                               "deadline."))
        else:
            if old_loi_deadline_at is not None and new_loi_deadline_at < old_loi_deadline_at:
                problems.append(_p("loi_earlier", "The new letter-of-intent deadline ({new}) is "
                                   "earlier than the current one ({old}).",
                                   new=_iso(new_loi_deadline_at), old=_iso(old_loi_deadline_at)))
            if new_closes_at is not None and new_loi_deadline_at >= new_closes_at:
                problems.append(_p("loi_after_full", "The letter-of-intent deadline ({loi}) must "
                                   "come before the full-proposal deadline ({closes}).",
                                   loi=_iso(new_loi_deadline_at), closes=_iso(new_closes_at)))
    unchanged = new_closes_at == old_closes_at and (
        not two_stage or new_loi_deadline_at == old_loi_deadline_at
    )
    if not problems and unchanged:
        problems.append(_p("deadline_unchanged", "The new deadline is the same as the current "
                           "one."))
    return problems


# --- cloning ----------------------------------------------------------------------------------


def shift_one_year(moment: datetime | None) -> datetime | None:
    """The same Paris wall-clock time one year later, as aware UTC (``None`` stays ``None``).

    A call closing at 17:00 Paris time closes at 17:00 the next year too, whatever the clock
    changes in between. 29 February becomes 28 February; a time that falls in the
    spring-forward gap the next year moves one hour later, out of the gap.
    """
    if moment is None:
        return None
    local = to_paris(moment).replace(tzinfo=None, fold=0)
    try:
        shifted = local.replace(year=local.year + 1)
    except ValueError:  # 29 February
        shifted = local.replace(year=local.year + 1, day=28)
    try:
        return paris_to_utc(shifted)
    except NonexistentLocalTime:
        return paris_to_utc(shifted + timedelta(hours=1))


def shift_date_one_year(day: date | None) -> date | None:
    """The same calendar date one year later (29 February becomes 28 February)."""
    if day is None:
        return None
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


def next_year_title(title: str, year: int) -> str:
    """A cloned call's title: the call's year, where it appears as a word, moves on by one."""
    return re.sub(rf"(?<!\d){year}(?!\d)", str(year + 1), title)
