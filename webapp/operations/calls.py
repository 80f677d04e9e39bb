"""Calls: create, edit, publish, unpublish, extend the deadline, clone.

Each use case loads what it needs, asks `workflows.calls` for the rules, changes the models,
writes the audit row (and the outbox mail), then flushes. None commits: the view does, once.
A refusal raises `CallRefused` with every problem, already translated, before anything changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from flask import current_app, url_for
from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from webapp.extensions import db
from webapp.mail import queue_mail
from webapp.models import Country, InstrumentConfig, User, utcnow
from webapp.models.calls import (
    Call,
    CallAttachmentKind,
    CallCriterion,
    CooperationAgreement,
    Theme,
    agreement_country,
)
from webapp.operations.accounts import external_url
from webapp.operations.audit import record
from workflows.calls import (
    DEFAULT_ATTACHMENTS,
    DEFAULT_CHAR_LIMITS,
    DEFAULT_REVIEWERS_PER_PROPOSAL,
    DRAFT_BLOCKING,
    TEXT_FIELDS,
    AttachmentSpec,
    CallSpec,
    CountryPolicy,
    GradeBand,
    Grid,
    Problem,
    deadline_extension_problems,
    default_grid,
    draft_problems,
    grid_change_problems,
    next_year_title,
    publication_problems,
    shift_date_one_year,
    shift_one_year,
    unpublish_problems,
)
from workflows.instruments import Instrument, rules_for
from workflows.timeutils import paris_date

# --- problems, in the reader's language -------------------------------------------------------

PROBLEM_MESSAGES = {
    "instrument_invalid": _l("Calls are published for LEA/LIA or GDRE/GDRI only."),
    "year_invalid": _l("The year must be between %(low)s and %(high)s."),
    "title_fr_missing": _l("The French title is missing."),
    "title_en_missing": _l("The English title is missing."),
    "text_fr_missing": _l("The French text of the call is missing."),
    "text_en_missing": _l("The English text of the call is missing."),
    "opens_missing": _l("The opening date is missing."),
    "closes_missing": _l("The closing date is missing (or make the call rolling)."),
    "closes_before_opens": _l("The call closes (%(closes)s) before it opens (%(opens)s)."),
    "rolling_with_closing": _l("A rolling call has no closing date."),
    "rolling_two_stage": _l(
        "A rolling call cannot have two stages: a letter-of-intent stage needs a deadline."
    ),
    "grace_invalid": _l("The grace period must be between 0 and %(max)s minutes."),
    "loi_missing": _l("A two-stage call needs a letter-of-intent deadline."),
    "loi_before_opens": _l("The letter-of-intent deadline (%(loi)s) is not after the opening (%(opens)s)."),
    "loi_after_full": _l(
        "The letter-of-intent deadline (%(loi)s) must come before the full-proposal deadline (%(closes)s)."
    ),
    "loi_without_two_stage": _l("A letter-of-intent deadline is set but the call has a single stage."),
    "funding_before_close": _l("Funding starts (%(start)s) before the call closes."),
    "no_country": _l("No eligible country is chosen."),
    "country_outside_registry": _l("Not covered by a cooperation agreement in force: %(countries)s."),
    "country_policy_invalid": _l("Choose what happens to a country outside the list."),
    "max_per_year_missing": _l("The maximum amount per year must be a positive number of euros."),
    "envelope_invalid": _l("The budget envelope must be a positive number of euros (or left empty)."),
    "envelope_below_max": _l(
        "The budget envelope (%(envelope)s) is smaller than the maximum amount per year (%(per_year)s)."
    ),
    "duration_invalid": _l("The duration must be between 1 and %(max)s years."),
    "cap_invalid": _l("The cap on non-mobility costs must be between 0 and 100 %%."),
    "attachment_code_invalid": _l("Document code '%(code)s' must be lower-case letters, digits and '_'."),
    "attachment_code_duplicate": _l("Document '%(code)s' is listed twice."),
    "attachment_label_missing": _l("Document '%(code)s' needs a French and an English label."),
    "attachment_size_invalid": _l("The size limit of document '%(code)s' must be between 1 and %(max)s MB."),
    "char_limit_invalid": _l("The character limit of the %(field)s must be a positive number."),
    "scale_invalid": _l("The scale minimum (%(low)s) must be below its maximum (%(high)s)."),
    "scale_negative": _l("The scale cannot start below 0."),
    "no_criteria": _l("The evaluation grid has no criteria."),
    "criterion_code_missing": _l("Criterion %(n)s has no code."),
    "criterion_code_invalid": _l(
        "Criterion code '%(code)s' may only hold letters, digits, '.', '-' and '_'."
    ),
    "criterion_code_duplicate": _l("Criterion code '%(code)s' is used twice."),
    "criterion_label_fr_missing": _l("Criterion %(code)s has no French label."),
    "criterion_label_en_missing": _l("Criterion %(code)s has no English label."),
    "criterion_weight_invalid": _l("Criterion %(code)s must weigh more than 0."),
    "criterion_threshold_outside": _l(
        "The threshold of criterion %(code)s (%(threshold)s) is outside the scale %(low)s-%(high)s."
    ),
    "weights_not_100": _l("The weights of the criteria add up to %(total)s, not 100."),
    "overall_threshold_outside": _l(
        "The overall threshold (%(threshold)s) is outside the scale %(low)s-%(high)s."
    ),
    "no_grade_bands": _l("The grid has no grade bands."),
    "grade_label_missing": _l("A grade band has no grade."),
    "grade_label_duplicate": _l("Grade '%(grade)s' is used twice."),
    "grade_outside_scale": _l(
        "The minimum of grade %(grade)s (%(min)s) is outside the scale %(low)s-%(high)s."
    ),
    "grades_not_decreasing": _l(
        "Grade %(lower)s must start below grade %(upper)s (%(lmin)s is not below %(umin)s)."
    ),
    "grades_leave_gap": _l(
        "Scores below %(min)s would get no grade: the lowest grade must start at the scale minimum (%(low)s)."
    ),
    "tie_break_unknown": _l("The tie-break order names '%(code)s', which is not a criterion of the grid."),
    "tie_break_duplicate": _l("The tie-break order names '%(code)s' twice."),
    "reviewers_invalid": _l("At least one reviewer per proposal is needed."),
    "target_awards_invalid": _l("The target number of awards must be at least 1 (or left empty)."),
    "grid_frozen": _l("The evaluation grid is frozen: proposals have already been submitted to this call."),
    "not_published": _l("The call is not published."),
    "has_submissions": _l(
        "Proposals have already been submitted to this call: it can no longer be unpublished."
    ),
    "rolling_no_deadline": _l("A rolling call has no deadline to extend."),
    "deadline_earlier": _l(
        "The new deadline (%(new)s) is earlier than the current one (%(old)s): a deadline can "
        "only be extended."
    ),
    "loi_earlier": _l(
        "The new letter-of-intent deadline (%(new)s) is earlier than the current one (%(old)s)."
    ),
    "deadline_unchanged": _l("The new deadline is the same as the current one."),
    "dates_locked": _l(
        "The dates of a published call change only through \u201cExtend the deadline\u201d "
        "(or unpublish it first)."
    ),
    "instrument_locked": _l("The instrument of a published call cannot change."),
}

TEXT_FIELD_LABELS = {
    "abstract": _l("abstract"),
    "history": _l("history of the collaboration"),
    "programme": _l("scientific programme"),
    "mobility_plan": _l("mobility and training plan"),
    "ethics": _l("ethics statement"),
}


def _param(name: str, value: object) -> object:
    if name in {"envelope", "per_year"} and isinstance(value, int):
        from webapp.templating import money

        return money(value)
    if name == "field":
        return TEXT_FIELD_LABELS.get(str(value).replace(" ", "_"), value)
    if isinstance(value, float):
        return format_decimal(value, format="#,##0.##")
    return value


def problem_message(problem: Problem) -> str:
    """A problem in the reader's language (the English message if no translation is known)."""
    template = PROBLEM_MESSAGES.get(problem.code)
    if template is None:
        return problem.message
    return str(template) % {k: _param(k, v) for k, v in problem.params.items()}


class CallRefused(Exception):
    """A call operation refused, with every reason (translated) at once."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = list(problems)
        self.messages = [problem_message(p) for p in self.problems]
        super().__init__("; ".join(p.message for p in self.problems))


class CallConflict(Exception):
    """Someone else saved the call since the editor was opened (optimistic locking)."""


# --- what the editor changes -------------------------------------------------------------------


@dataclass
class CallData:
    """Every editable value of a call, as the editor sends it (times aware UTC, euros as int).

    ``grid`` ``None`` leaves the grid as it is (the editor sends none once it is frozen).
    """

    instrument: Instrument
    year: int
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
    country_codes: list[str] = field(default_factory=list)
    theme_ids: list[int] = field(default_factory=list)
    country_policy: CountryPolicy = CountryPolicy.REFUSE
    budget_envelope_eur: int | None = None
    max_per_year_eur: int | None = None
    duration_years: int = 4
    salaries_allowed: bool = False
    non_mobility_cap_pct: int | None = 20
    char_limits: dict[str, int | None] = field(default_factory=lambda: dict(DEFAULT_CHAR_LIMITS))
    attachments: list[AttachmentSpec] = field(default_factory=lambda: list(DEFAULT_ATTACHMENTS))
    grid: Grid | None = field(default_factory=default_grid)
    reviewers_per_proposal: int = DEFAULT_REVIEWERS_PER_PROPOSAL
    target_awards: int | None = None
    funding_start: date | None = None


def registry_country_codes(today: date | None = None) -> frozenset[str]:
    """Countries covered by a cooperation agreement in force ``today`` (Paris calendar)."""
    today = today or paris_date(utcnow())
    stmt = (
        select(agreement_country.c.country_code)
        .join(CooperationAgreement, CooperationAgreement.id == agreement_country.c.agreement_id)
        .where(
            (CooperationAgreement.starts_on.is_(None)) | (CooperationAgreement.starts_on <= today),
            (CooperationAgreement.ends_on.is_(None)) | (CooperationAgreement.ends_on >= today),
        )
        .distinct()
    )
    return frozenset(db.session.scalars(stmt))


def instrument_defaults(instrument: Instrument) -> dict:
    """A new call's money and duration: the admins' instrument settings, else the rules'."""
    rules = rules_for(instrument)
    config = db.session.get(InstrumentConfig, instrument)
    if config is None:
        return {
            "duration_years": rules.duration_years,
            "max_per_year_eur": rules.default_max_annual_amount_eur,
            "non_mobility_cap_pct": rules.non_mobility_cap_pct,
            "salaries_allowed": rules.salaries_allowed,
            "is_rolling": rules.rolling_call,
        }
    return {
        "duration_years": config.duration_years,
        "max_per_year_eur": config.max_annual_amount_eur,
        "non_mobility_cap_pct": config.non_mobility_cap_pct,
        "salaries_allowed": config.salaries_allowed,
        "is_rolling": config.rolling_call,
    }


def new_call_data(instrument: Instrument | str, year: int) -> CallData:
    """What the editor shows for a new call: instrument defaults, the default grid and
    documents, and every country of the registry pre-selected."""
    instrument = Instrument(instrument)
    return CallData(
        instrument=instrument,
        year=year,
        country_codes=sorted(registry_country_codes()),
        **instrument_defaults(instrument),
    )


def call_data(call: Call) -> CallData:
    """The editable values of a stored call."""
    return CallData(
        instrument=Instrument(call.instrument),
        year=call.year,
        title_fr=call.title_fr,
        title_en=call.title_en,
        text_fr=call.text_fr,
        text_en=call.text_en,
        opens_at=call.opens_at,
        closes_at=call.closes_at,
        is_rolling=call.is_rolling,
        grace_minutes=call.grace_minutes,
        two_stage=call.two_stage,
        loi_deadline_at=call.loi_deadline_at,
        country_codes=[c.code for c in call.countries],
        theme_ids=[t.id for t in call.themes],
        country_policy=CountryPolicy(call.country_policy),
        budget_envelope_eur=call.budget_envelope_eur,
        max_per_year_eur=call.max_per_year_eur,
        duration_years=call.duration_years,
        salaries_allowed=call.salaries_allowed,
        non_mobility_cap_pct=call.non_mobility_cap_pct,
        char_limits=call.char_limits,
        attachments=list(call.attachment_specs()),
        grid=call.grid(),
        reviewers_per_proposal=call.reviewers_per_proposal,
        target_awards=call.target_awards,
        funding_start=call.funding_start,
    )


def max_upload_mb() -> int:
    return max(1, int(current_app.config.get("MAX_CONTENT_LENGTH") or 0) // (1024 * 1024))


def spec_for(data: CallData, registry: frozenset[str] | None = None) -> CallSpec:
    """The pure description `workflows.calls` checks."""
    return CallSpec(
        instrument=data.instrument,
        year=data.year,
        title_fr=data.title_fr,
        title_en=data.title_en,
        text_fr=data.text_fr,
        text_en=data.text_en,
        opens_at=data.opens_at,
        closes_at=data.closes_at,
        is_rolling=data.is_rolling,
        grace_minutes=data.grace_minutes,
        two_stage=data.two_stage,
        loi_deadline_at=data.loi_deadline_at,
        eligible_countries=tuple(data.country_codes),
        registry_countries=registry if registry is not None else registry_country_codes(),
        country_policy=data.country_policy,
        budget_envelope_eur=data.budget_envelope_eur,
        max_per_year_eur=data.max_per_year_eur,
        duration_years=data.duration_years,
        non_mobility_cap_pct=data.non_mobility_cap_pct,
        attachments=tuple(data.attachments),
        char_limits=dict(data.char_limits),
        grid=data.grid if data.grid is not None else default_grid(),
        reviewers_per_proposal=data.reviewers_per_proposal,
        target_awards=data.target_awards,
        funding_start=data.funding_start,
        max_upload_mb=max_upload_mb(),
    )


def call_problems(call: Call) -> list[str]:
    """What stops this call from being published (or would make it inconsistent), translated."""
    return [problem_message(p) for p in publication_problems(spec_for(call_data(call)))]


def _summary(data: CallData) -> dict:
    """A JSON-able snapshot for the audit trail's before/after."""

    def value(v):
        if isinstance(v, datetime | date):
            return v.isoformat()
        if isinstance(v, Grid):
            return {
                "criteria": [
                    {
                        "code": c.code,
                        "weight": c.weight,
                        "threshold": c.threshold,
                        "label_fr": c.label_fr,
                        "label_en": c.label_en,
                    }
                    for c in v.criteria
                ],
                "scale": [v.scale_min, v.scale_max],
                "overall_threshold": v.overall_threshold,
                "grade_bands": [[b.grade, b.min_score] for b in v.grade_bands],
                "tie_break": list(v.tie_break),
            }
        if isinstance(v, list):
            return [value(x) for x in v]
        if isinstance(v, AttachmentSpec):
            return {"code": v.code, "required": v.required, "max_mb": v.max_mb}
        if isinstance(v, Instrument | CountryPolicy):
            return v.value
        return v

    return {name: value(getattr(data, name)) for name in data.__dataclass_fields__}


def _diff(before: dict, after: dict) -> tuple[dict, dict]:
    changed = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in changed}, {k: after[k] for k in changed}


def _countries(codes: Sequence[str]) -> list[Country]:
    wanted = sorted({c.upper() for c in codes})
    if not wanted:
        return []
    return list(db.session.scalars(select(Country).where(Country.code.in_(wanted))))


def _themes(ids: Sequence[int]) -> list[Theme]:
    if not ids:
        return []
    return list(db.session.scalars(select(Theme).where(Theme.id.in_(set(ids)))))


def _apply(call: Call, data: CallData) -> None:
    for name in (
        "instrument", "year", "title_fr", "title_en", "text_fr", "text_en", "opens_at",
        "grace_minutes", "two_stage", "country_policy", "budget_envelope_eur", "max_per_year_eur",
        "duration_years", "salaries_allowed", "non_mobility_cap_pct", "reviewers_per_proposal",
        "target_awards", "funding_start",
    ):  # fmt: skip
        setattr(call, name, getattr(data, name))
    call.title_fr, call.title_en = data.title_fr.strip(), data.title_en.strip()
    call.is_rolling = data.is_rolling
    call.closes_at = None if data.is_rolling else data.closes_at
    call.loi_deadline_at = data.loi_deadline_at if data.two_stage else None
    if data.is_rolling:
        call.two_stage = False
        call.loi_deadline_at = None
    for name in TEXT_FIELDS:
        setattr(call, f"max_chars_{name}", data.char_limits.get(name))
    call.countries = _countries(data.country_codes)
    call.themes = _themes(data.theme_ids)
    _apply_attachments(call, data.attachments)
    if data.grid is not None:
        _apply_grid(call, data.grid)
    call.updated_at = utcnow()  # also bumps version_id: every save is a new version


def _apply_attachments(call: Call, kinds: Sequence[AttachmentSpec]) -> None:
    by_code = {k.code: k for k in call.attachment_kinds}
    rows = []
    for position, spec in enumerate(kinds):
        row = by_code.pop(spec.code, None) or CallAttachmentKind(code=spec.code)
        row.position, row.label_fr, row.label_en = position, spec.label_fr, spec.label_en
        row.required, row.max_mb = spec.required, spec.max_mb
        rows.append(row)
    call.attachment_kinds = rows
    db.session.flush()  # drop removed rows before a re-added code could clash


def _apply_grid(call: Call, grid: Grid) -> None:
    by_code = {c.code: c for c in call.criteria}
    rows = []
    for position, spec in enumerate(grid.criteria):
        row = by_code.pop(spec.code, None) or CallCriterion(code=spec.code)
        row.position = position
        row.label_fr, row.label_en = spec.label_fr, spec.label_en
        row.guidance_fr, row.guidance_en = spec.guidance_fr, spec.guidance_en
        row.weight, row.threshold = spec.weight, spec.threshold
        rows.append(row)
    call.criteria = rows
    call.scale_min, call.scale_max = grid.scale_min, grid.scale_max
    call.overall_threshold = grid.overall_threshold
    call.grade_bands = [{"grade": b.grade, "min_score": b.min_score} for b in grid.grade_bands]
    call.tie_break = list(grid.tie_break)
    db.session.flush()


# --- use cases ---------------------------------------------------------------------------------


def create_call(data: CallData, actor: User) -> Call:
    """A new unpublished call (a draft may be incomplete: publication checks it)."""
    problems = draft_problems(spec_for(data))
    if problems:
        raise CallRefused(problems)
    call = Call(instrument=data.instrument, year=data.year, created_by_id=actor.id)
    db.session.add(call)
    _apply(call, data)
    db.session.flush()
    record(actor, "call.created", call, after=_summary(data))
    return call


def update_call(call: Call, data: CallData, actor: User, expected_version: int | None) -> None:
    """Save the editor. A published call must stay publishable, its dates and instrument move
    only through their own actions, and a frozen grid does not move at all."""
    if expected_version is not None and expected_version != call.version_id:
        raise CallConflict()
    grid = data.grid if data.grid is not None else call.grid()
    # Countries a published call already holds stay valid even if their agreement has ended.
    registry = registry_country_codes() | frozenset(call.country_codes)
    spec = spec_for(replace(data, grid=grid), registry)
    problems = draft_problems(spec)
    if data.grid is not None:
        problems += grid_change_problems(call.has_submissions, call.grid(), data.grid)
    if call.is_published:
        if (data.opens_at, data.closes_at, data.is_rolling, data.two_stage, data.loi_deadline_at) != (
            call.opens_at,
            call.closes_at,
            call.is_rolling,
            call.two_stage,
            call.loi_deadline_at,
        ):
            problems.append(
                Problem(
                    "dates_locked", "The dates of a published call change only through 'Extend the deadline'."
                )
            )
        if data.instrument != call.instrument:
            problems.append(Problem("instrument_locked", "The instrument of a published call cannot change."))
        problems += [p for p in publication_problems(spec) if p.code not in DRAFT_BLOCKING]
    if problems:
        raise CallRefused(problems)
    before = _summary(call_data(call))
    _apply(call, data)
    db.session.flush()
    changed_before, changed_after = _diff(before, _summary(call_data(call)))
    record(actor, "call.updated", call, before=changed_before, after=changed_after)


def publish_call(call: Call, actor: User, now: datetime | None = None) -> None:
    if call.is_published:
        return
    problems = publication_problems(spec_for(call_data(call)))
    if problems:
        raise CallRefused(problems)
    call.published_at = now or utcnow()
    call.published_by_id = actor.id
    db.session.flush()
    record(actor, "call.published", call, after={"published_at": call.published_at.isoformat()})


def unpublish_call(call: Call, actor: User) -> None:
    problems = unpublish_problems(call.is_published, call.has_submissions)
    if problems:
        raise CallRefused(problems)
    before = call.published_at.isoformat()
    call.published_at = None
    call.published_by_id = None
    db.session.flush()
    record(actor, "call.unpublished", call, before={"published_at": before})


@dataclass(frozen=True)
class DraftNotice:
    """Someone with a draft proposal to a call, to be told when its deadline moves."""

    email: str
    locale: str
    name: str
    proposal_title: str


def drafts_to_notify(call: Call) -> list[DraftNotice]:
    """The people holding a draft proposal to ``call``: coordinators (and the co-coordinators
    who joined) of its proposals still in ``draft``, one notice per person and proposal."""
    from webapp.operations.submission import draft_holders

    return [DraftNotice(email, locale, name, title) for email, locale, name, title in draft_holders(call.id)]


def extend_deadline(
    call: Call,
    actor: User,
    new_closes_at: datetime | None,
    new_loi_deadline_at: datetime | None = None,
) -> int:
    """Move a published call's deadline(s) later; audited; draft holders are mailed.

    Returns the number of people notified.
    """
    problems = deadline_extension_problems(
        published=call.is_published,
        is_rolling=call.is_rolling,
        two_stage=call.two_stage,
        old_closes_at=call.closes_at,
        new_closes_at=new_closes_at,
        old_loi_deadline_at=call.loi_deadline_at,
        new_loi_deadline_at=new_loi_deadline_at,
    )
    if problems:
        raise CallRefused(problems)
    before = {"closes_at": call.closes_at.isoformat()}
    after = {"closes_at": new_closes_at.isoformat()}
    if call.two_stage:
        before["loi_deadline_at"] = call.loi_deadline_at.isoformat()
        after["loi_deadline_at"] = new_loi_deadline_at.isoformat()
        call.loi_deadline_at = new_loi_deadline_at
    call.closes_at = new_closes_at
    call.updated_at = utcnow()
    db.session.flush()
    record(actor, "call.deadline_extended", call, before=before, after=after)
    notices = drafts_to_notify(call)
    link = external_url(url_for("public.call", call_id=call.id))
    for notice in notices:
        queue_mail(
            notice.email, "call_deadline_extended", locale=notice.locale, call=call, notice=notice, link=link
        )
    db.session.flush()
    return len(notices)


def clone_call(call: Call, actor: User) -> Call:
    """Next year's draft of a call: everything copied, dates one year later, unpublished."""
    data = call_data(call)
    data.year = call.year + 1
    data.title_fr = next_year_title(call.title_fr, call.year)
    data.title_en = next_year_title(call.title_en, call.year)
    data.opens_at = shift_one_year(call.opens_at)
    data.closes_at = shift_one_year(call.closes_at)
    data.loi_deadline_at = shift_one_year(call.loi_deadline_at)
    data.funding_start = shift_date_one_year(call.funding_start)
    clone = Call(instrument=data.instrument, year=data.year, created_by_id=actor.id, cloned_from_id=call.id)
    db.session.add(clone)
    _apply(clone, data)
    db.session.flush()
    record(actor, "call.cloned", clone, after={"cloned_from": call.id, "year": clone.year})
    return clone


def grid_from_rows(
    criteria: Sequence[dict],
    *,
    scale_min: int,
    scale_max: int,
    overall_threshold: float | None,
    grade_bands: Sequence[tuple[str, float]],
    tie_break: Sequence[str],
) -> Grid:
    """Build a `Grid` from the editor's rows (kept here so forms stay free of rules)."""
    from workflows.calls import CriterionSpec

    return Grid(
        criteria=tuple(CriterionSpec(**row) for row in criteria),
        scale_min=scale_min,
        scale_max=scale_max,
        overall_threshold=overall_threshold,
        grade_bands=tuple(GradeBand(g, m) for g, m in grade_bands),
        tie_break=tuple(tie_break),
    )


# --- listings ----------------------------------------------------------------------------------


def published_calls_query(status: str | None, now: datetime):
    """Published calls in a status derived from the dates at ``now`` (SQL, so it paginates).

    Mirrors `workflows.calls.call_status`; a test checks both agree.
    """
    stmt = select(Call).where(Call.published_at.is_not(None), Call.opens_at.is_not(None))
    if status == "open":
        stmt = stmt.where(Call.opens_at <= now, (Call.closes_at.is_(None)) | (Call.closes_at >= now))
        stmt = stmt.order_by(Call.closes_at.is_(None), Call.closes_at, Call.id)
    elif status == "upcoming":
        stmt = stmt.where(Call.opens_at > now).order_by(Call.opens_at, Call.id)
    elif status == "closed":
        stmt = stmt.where(Call.closes_at.is_not(None), Call.closes_at < now)
        stmt = stmt.order_by(Call.closes_at.desc(), Call.id.desc())
    else:
        stmt = stmt.order_by(Call.year.desc(), Call.opens_at.desc(), Call.id.desc())
    return stmt


def open_calls(limit: int = 5, now: datetime | None = None) -> list[Call]:
    return list(db.session.scalars(published_calls_query("open", now or utcnow()).limit(limit)))


def default_year(now: datetime | None = None) -> int:
    """The year a new call is most likely for: this year until June, next year afterwards."""
    today = paris_date(now or utcnow())
    return today.year + (1 if today.month >= 7 else 0)


# --- demo data ---------------------------------------------------------------------------------

DEMO_LEA_TITLE_EN = "LEA/LIA call (demo)"
DEMO_GDRE_TITLE_EN = "GDRE/GDRI rolling call (demo)"


def seed_demo_calls(now: datetime | None = None) -> None:
    """The priority-country agreements, an open LEA/LIA call and an open rolling GDRE/GDRI call.

    Idempotent: what exists (found by title) is left alone.
    """
    from webapp.operations.agreements import seed_priority_agreements
    from workflows.timeutils import paris_to_utc, to_paris

    seed_priority_agreements()
    now = now or utcnow()
    manager = db.session.scalar(select(User).where(User.email == "manager@demo.inserm.fr"))
    today = to_paris(now).replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0)
    opened = paris_to_utc((today - timedelta(weeks=3)).replace(hour=9))
    closes = paris_to_utc((today + timedelta(days=91)).replace(hour=17))
    text = {
        "fr": "Cet appel finance la création de **laboratoires associés** entre une équipe "
        "Inserm et une équipe étrangère.\n\n- mobilité des chercheurs et des étudiants\n"
        "- séjours courts et ateliers\n\nUne contribution du partenaire est attendue.",
        "en": "This call funds **associated laboratories** between one Inserm team and one "
        "foreign team.\n\n- mobility of researchers and students\n- short visits and "
        "workshops\n\nA contribution from the partner is expected.",
    }
    for instrument, title_en, title_fr, rolling in (
        (Instrument.LEA_LIA, DEMO_LEA_TITLE_EN, "Appel LEA/LIA (démo)", False),
        (Instrument.GDRE_GDRI, DEMO_GDRE_TITLE_EN, "Appel au fil de l'eau GDRE/GDRI (démo)", True),
    ):
        if db.session.scalar(select(Call.id).where(Call.title_en == title_en)) is not None:
            continue
        # A call is named after the year it closes in; a rolling call after the current year.
        year = to_paris(now if rolling else closes).year
        data = new_call_data(instrument, year)
        data.title_fr, data.title_en = title_fr, title_en
        data.text_fr, data.text_en = text["fr"], text["en"]
        data.opens_at = opened
        data.is_rolling = rolling
        data.closes_at = None if rolling else closes
        data.budget_envelope_eur = 300_000 if not rolling else None
        data.target_awards = 10 if not rolling else None
        data.funding_start = date(year + 1, 1, 1) if not rolling else None  # [doc] year n+1
        call = Call(instrument=instrument, year=year, created_by_id=getattr(manager, "id", None))
        db.session.add(call)
        _apply(call, data)
        db.session.flush()
        problems = publication_problems(spec_for(data))
        if problems:  # e.g. the registry was emptied by hand: leave a draft rather than fail
            current_app.logger.warning(
                "demo call %r left as a draft: %s", title_en, "; ".join(p.message for p in problems)
            )
            continue
        call.published_at = now
        call.published_by_id = getattr(manager, "id", None)
    db.session.flush()
