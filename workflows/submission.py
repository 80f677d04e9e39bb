"""Submission rules (DOMAIN.md sections 3, 4 and 7): what a proposal must hold, what the call
allows, when it may still change, and the fingerprint of what was sent.

The web layer describes the proposal (`ProposalContent`) and the call (`CallConditions`) in
plain values. `missing_items` lists what is not filled in yet; `eligibility` lists what breaks
the call's conditions, and whether a partner country only gets the proposal flagged. Both return
*every* problem at once as `Problem`s (a stable ``code`` the web layer translates, its
``params`` and an English ``message``), so an applicant fixes a list rather than one error at a
time. The team and budget checks mirror `workflows.teams.check_team_shape` and
`workflows.money.check_budget`, which speak English only; a test holds them in agreement.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from workflows.calls import CountryPolicy, Problem, country_check
from workflows.instruments import Instrument, rules_for
from workflows.money import BudgetCategory, BudgetLine, totals
from workflows.proposal_states import STAGE_FULL, STAGE_LOI, ProposalFacts, ProposalState
from workflows.teams import TeamFacts
from workflows.timeutils import NO_GRACE, deadline_passed, ensure_aware

#: Limits of the free texts, whatever the call says: a guard against runaway pastes.
MAX_TEXT_CHARS = 100_000
REFERENCE_PREFIXES = {Instrument.LEA_LIA: "LEA", Instrument.GDRE_GDRI: "GDR"}
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _p(problem_code: str, message: str, /, **params: object) -> Problem:
    return Problem(problem_code, message.format(**params), params)


# --- what the rules see -------------------------------------------------------------------------


@dataclass(frozen=True)
class TeamContent:
    """One team as the applicant typed it."""

    is_inserm: bool
    country_code: str
    laboratory: str = ""
    unit_code: str = ""
    institution_name: str = ""
    authority: str = ""
    leader_name: str = ""
    leader_email: str = ""
    leader_position: str = ""
    leader_permanent: bool = False

    @property
    def is_french(self) -> bool:
        return self.country_code.strip().upper() == "FR"

    @property
    def facts(self) -> TeamFacts:
        return TeamFacts(
            is_french=self.is_french,
            is_inserm=self.is_inserm,
            country_code=self.country_code,
            has_authority=bool(self.authority.strip()),
        )


@dataclass(frozen=True)
class ProposalContent:
    """Everything of a proposal the completeness and eligibility rules read."""

    stage: str = STAGE_FULL
    title: str = ""
    acronym: str = ""
    abstract_fr: str = ""
    abstract_en: str = ""
    keywords: str = ""
    theme_id: int | None = None
    history: str = ""
    programme: str = ""
    mobility_plan: str = ""
    ethics: str = ""
    duration_years: int | None = None
    coordinator_email: str = ""
    co_coordinator_name: str = ""
    co_coordinator_email: str = ""
    teams: tuple[TeamContent, ...] = ()
    budget: tuple[BudgetLine, ...] = ()
    attachment_codes: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "teams", tuple(self.teams))
        object.__setattr__(self, "budget", tuple(self.budget))
        object.__setattr__(self, "attachment_codes", frozenset(self.attachment_codes))


@dataclass(frozen=True)
class CallConditions:
    """What a call requires of its proposals (from the call's stored settings)."""

    instrument: Instrument | str
    duration_years: int
    max_per_year_eur: int | None = None
    salaries_allowed: bool = False
    non_mobility_cap_pct: int | None = 20
    char_limits: Mapping[str, int | None] = field(default_factory=dict)
    required_attachments: tuple[str, ...] = ()
    eligible_countries: tuple[str, ...] = ()
    country_policy: CountryPolicy | str = CountryPolicy.REFUSE
    theme_ids: frozenset[int] = frozenset()

    @property
    def categories(self) -> tuple[str, ...]:
        """Budget categories offered to applicants: salaries only where the call allows them."""
        base = (BudgetCategory.MOBILITY, BudgetCategory.MEETINGS, BudgetCategory.OTHER)
        return tuple(str(c) for c in (*base, *((BudgetCategory.SALARIES,) if self.salaries_allowed else ())))


# --- completeness -------------------------------------------------------------------------------

#: Fields every stage needs, then the fields only the full proposal needs: (attribute, label).
LOI_FIELDS: tuple[tuple[str, str], ...] = (
    ("title", "title"),
    ("acronym", "acronym"),
    ("abstract_fr", "abstract in French"),
    ("abstract_en", "abstract in English"),
    ("co_coordinator_name", "name of the foreign co-coordinator"),
    ("co_coordinator_email", "e-mail of the foreign co-coordinator"),
)
FULL_FIELDS: tuple[tuple[str, str], ...] = (
    ("keywords", "keywords"),
    ("history", "history of the collaboration"),
    ("programme", "scientific programme"),
    ("mobility_plan", "mobility and training plan"),
    ("ethics", "ethics statement"),
)
TEAM_FIELDS: tuple[tuple[str, str], ...] = (
    ("laboratory", "laboratory"),
    ("institution_name", "institution"),
    ("leader_name", "team leader's name"),
    ("leader_email", "team leader's e-mail"),
    ("leader_position", "team leader's position"),
)


def missing_items(content: ProposalContent, call: CallConditions) -> list[Problem]:
    """What is not filled in yet for the proposal's stage (empty list: complete).

    A letter of intent needs the title, acronym, both abstracts, the co-coordinator and the
    teams; the full proposal also needs the texts, keywords, theme (when the call names
    themes), duration, budget and the call's required documents.
    """
    full = content.stage == STAGE_FULL
    problems: list[Problem] = []
    for attr, label in LOI_FIELDS + (FULL_FIELDS if full else ()):
        if not str(getattr(content, attr) or "").strip():
            problems.append(_p("field_missing", "The {field} is missing.", field=attr, label=label))
    if full and call.theme_ids and content.theme_id is None:
        problems.append(_p("theme_missing", "Choose the theme of the proposal."))
    if full and not content.duration_years:
        problems.append(_p("duration_missing", "The duration of the project is missing."))
    if not any(t.is_inserm for t in content.teams):
        problems.append(_p("inserm_team_missing", "The Inserm team is missing."))
    if not any(not t.is_french for t in content.teams):
        problems.append(_p("foreign_team_missing", "No foreign team yet."))
    for index, team in enumerate(content.teams, start=1):
        empty = [attr for attr, _label in TEAM_FIELDS if not str(getattr(team, attr)).strip()]
        if team.is_inserm and not team.unit_code.strip():
            empty.append("unit_code")
        if empty:
            problems.append(
                _p("team_incomplete", "Team {n} is incomplete ({fields}).", n=index, fields=", ".join(empty))
            )
    if full:
        if not any(line.amount_eur > 0 for line in content.budget):
            problems.append(_p("budget_missing", "The budget is empty."))
        for code in call.required_attachments:
            if code not in content.attachment_codes:
                problems.append(_p("attachment_missing", "The document '{code}' is missing.", code=code))
    return problems


# --- eligibility --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Eligibility:
    """What breaks the call's conditions, and whether the proposal is accepted but flagged."""

    problems: tuple[Problem, ...] = ()
    country_flagged: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems


def _team_problems(instrument: Instrument | str, teams: tuple[TeamContent, ...]) -> list[Problem]:
    # Mirrors workflows.teams.check_team_shape, with codes (tests keep the two in agreement).
    rules = rules_for(instrument)
    facts = [t.facts for t in teams]
    french = sum(1 for t in facts if t.is_french)
    foreign = len(facts) - french
    inserm = sum(1 for t in facts if t.is_inserm)
    problems: list[Problem] = []
    for kind, count, low, high in (
        ("french", french, rules.min_french_teams, rules.max_french_teams),
        ("foreign", foreign, rules.min_foreign_teams, rules.max_foreign_teams),
    ):
        params = {"label": rules.short_label_en, "count": count, "low": low, "high": high}
        if low == high and count != low:
            problems.append(
                _p(
                    f"{kind}_teams_exactly",
                    "{label} needs exactly {low} " + kind + " team(s); has {count}.",
                    **params,
                )
            )
        elif count < low:
            problems.append(
                _p(
                    f"{kind}_teams_at_least",
                    "{label} needs at least {low} " + kind + " team(s); has {count}.",
                    **params,
                )
            )
        elif high is not None and count > high:
            problems.append(
                _p(
                    f"{kind}_teams_at_most",
                    "{label} allows at most {high} " + kind + " team(s); has {count}.",
                    **params,
                )
            )
    if inserm < rules.min_inserm_teams:
        problems.append(
            _p(
                "inserm_teams_count",
                "{label} needs at least {low} Inserm team(s); has {count}.",
                label=rules.short_label_en,
                low=rules.min_inserm_teams,
                count=inserm,
            )
        )
    for index, team in enumerate(facts, start=1):
        if rules.requires_committees and not team.has_authority:
            problems.append(_p("authority_missing", "Team {n} must name its authority (tutelle).", n=index))
    return problems


def _budget_problems(lines: tuple[BudgetLine, ...], call: CallConditions, duration: int) -> list[Problem]:
    # Mirrors workflows.money.check_budget, with codes (tests keep the two in agreement).
    problems: list[Problem] = []
    for line in lines:
        if min(line.amount_eur, line.partner_cash_eur, line.partner_in_kind_eur) < 0:
            problems.append(
                _p("budget_negative", "Amounts cannot be negative (year {year}).", year=line.year)
            )
        if line.category not in {str(c) for c in BudgetCategory}:
            problems.append(
                _p("budget_category_unknown", "Unknown budget category '{category}'.", category=line.category)
            )
        if not 1 <= line.year <= duration and line.amount_eur:
            problems.append(
                _p(
                    "budget_year_outside",
                    "Year {year} is outside the project's {duration} years.",
                    year=line.year,
                    duration=duration,
                )
            )
        if line.category == BudgetCategory.SALARIES and line.amount_eur > 0 and not call.salaries_allowed:
            problems.append(
                _p(
                    "budget_salaries",
                    "Salaries are not an eligible expense (year {year}).",
                    year=line.year,
                    amount=line.amount_eur,
                )
            )
    summed = totals(lines)
    for year, amount in summed.by_year.items():
        if call.max_per_year_eur is not None and amount > call.max_per_year_eur:
            problems.append(
                _p(
                    "budget_above_max",
                    "Year {year} asks for {amount} euros, above the maximum of {max} a year.",
                    year=year,
                    amount=amount,
                    max=call.max_per_year_eur,
                )
            )
        cap = call.non_mobility_cap_pct
        if cap is None or amount <= 0:
            continue
        non_mobility = amount - summed.by_year_category[year].get(BudgetCategory.MOBILITY, 0)
        if non_mobility * 100 > cap * amount:
            problems.append(
                _p(
                    "budget_cap",
                    "Year {year}: costs other than mobility are {amount} "
                    "of {total} euros, above the {cap}% cap.",
                    year=year,
                    amount=non_mobility,
                    total=amount,
                    cap=cap,
                )
            )
    return problems


def eligibility(content: ProposalContent, call: CallConditions) -> Eligibility:
    """Every way the proposal breaks the call's conditions, and whether it is only flagged.

    Countries follow the call's policy: outside the eligible list, ``refuse`` makes it a
    problem while ``flag`` accepts the proposal and flags it for the programme manager. Texts
    over the call's character limits, a duration longer than the call's, a theme the call does
    not name, a non-permanent Inserm coordinator and the budget rules are problems too.
    """
    problems = _team_problems(call.instrument, content.teams)
    flagged = False
    for index, team in enumerate(content.teams, start=1):
        if team.is_french:
            continue
        ok, flag = country_check(call.country_policy, team.country_code, call.eligible_countries)
        flagged = flagged or flag
        if not ok:
            problems.append(
                _p(
                    "country_not_eligible",
                    "Team {n} is in {country}, which this call does not cover.",
                    n=index,
                    country=team.country_code.upper(),
                )
            )
    for team in content.teams:
        if team.is_inserm and team.leader_name.strip() and not team.leader_permanent:
            problems.append(
                _p("coordinator_not_permanent", "The Inserm coordinator must hold a permanent position.")
            )
            break
    for name, limit in sorted(call.char_limits.items()):
        fields = ("abstract_fr", "abstract_en") if name == "abstract" else (name,)
        for attr in fields:
            length = len(str(getattr(content, attr, "") or ""))
            if limit and length > limit:
                problems.append(
                    _p(
                        "text_too_long",
                        "The {field} has {length} characters, above the limit of {limit}.",
                        field=attr,
                        length=length,
                        limit=limit,
                    )
                )
    duration = content.duration_years or call.duration_years
    if content.duration_years is not None and not 1 <= content.duration_years <= call.duration_years:
        problems.append(
            _p(
                "duration_too_long",
                "The project lasts {years} years; this call funds at most {max}.",
                years=content.duration_years,
                max=call.duration_years,
            )
        )
    if content.theme_id is not None and call.theme_ids and content.theme_id not in call.theme_ids:
        problems.append(_p("theme_not_eligible", "The chosen theme is not one of this call's."))
    email = content.co_coordinator_email.strip().lower()
    if email and not _EMAIL.fullmatch(email):
        problems.append(_p("co_coordinator_email_invalid", "The co-coordinator's e-mail is not valid."))
    elif email and email == content.coordinator_email.strip().lower():
        problems.append(
            _p(
                "co_coordinator_is_coordinator",
                "The foreign co-coordinator must be someone other than the coordinator.",
            )
        )
    if content.stage == STAGE_FULL:
        problems.extend(_budget_problems(content.budget, call, duration))
    return Eligibility(tuple(problems), flagged)


def requested_annual_eur(lines: Iterable[BudgetLine]) -> int:
    """The annual amount a proposal asks for: its largest year (what the envelope must hold)."""
    by_year = totals(lines).by_year
    return max(by_year.values(), default=0)


# --- time ---------------------------------------------------------------------------------------


def stage_deadline(
    *,
    stage: str,
    two_stage: bool,
    is_rolling: bool,
    closes_at: datetime | None,
    loi_deadline_at: datetime | None,
) -> datetime | None:
    """The deadline a proposal in ``stage`` races against (``None``: rolling, no deadline)."""
    if two_stage and stage == STAGE_LOI:
        return loi_deadline_at
    return None if is_rolling else closes_at


def facts(
    *,
    now: datetime,
    stage: str,
    two_stage: bool,
    is_rolling: bool,
    closes_at: datetime | None,
    loi_deadline_at: datetime | None,
    grace: timedelta = NO_GRACE,
    missing: Iterable[str] = (),
    eligibility_problems: Iterable[str] = (),
    reason: str | None = None,
    decision_released: bool = False,
) -> ProposalFacts:
    """The state machine's facts for a proposal of a call, at ``now``."""
    return ProposalFacts(
        now=now,
        deadline=stage_deadline(
            stage=stage,
            two_stage=two_stage,
            is_rolling=is_rolling,
            closes_at=closes_at,
            loi_deadline_at=loi_deadline_at,
        ),
        grace=grace,
        two_stage=two_stage,
        stage=stage,
        missing=tuple(missing),
        eligibility_problems=tuple(eligibility_problems),
        reason=reason,
        decision_released=decision_released,
    )


def may_change(state: ProposalState | str, proposal_facts: ProposalFacts) -> bool:
    """A proposal's content may change while it is a draft and its stage's deadline has not
    passed (the grace period included, as for submitting)."""
    return ProposalState(state) == ProposalState.DRAFT and not deadline_passed(
        proposal_facts.now, proposal_facts.deadline, proposal_facts.grace
    )


def start_stage(
    now: datetime,
    *,
    two_stage: bool,
    loi_deadline_at: datetime | None,
    grace: timedelta = NO_GRACE,
) -> str | None:
    """The stage a new proposal starts in at ``now``, or ``None`` if none can start any more.

    A two-stage call takes new letters of intent until the letter-of-intent deadline; after
    it only shortlisted applicants go on (to the full proposal).
    """
    ensure_aware(now, "now")
    if not two_stage:
        return STAGE_FULL
    if loi_deadline_at is not None and not deadline_passed(now, loi_deadline_at, grace):
        return STAGE_LOI
    return None


#: The shortest reason a programme manager may give applicants whose letter is not shortlisted.
MIN_LOI_REASON_CHARS = 10


def loi_outcome_problems(
    now: datetime,
    *,
    shortlist: bool,
    state: ProposalState | str,
    stage: str,
    loi_deadline_at: datetime | None,
    closes_at: datetime | None,
    grace: timedelta = NO_GRACE,
    reason: str = "",
) -> list[Problem]:
    """Why a programme manager cannot shortlist (or turn down) this letter of intent now.

    Letters are decided once their deadline (grace included) has passed, so every applicant is
    judged on what the stage received; an invitation needs a full-proposal deadline still ahead,
    and turning a letter down needs a reason the applicants are sent.
    """
    ensure_aware(now, "now")
    problems: list[Problem] = []
    if stage != STAGE_LOI or ProposalState(state) != ProposalState.LOI_SUBMITTED:
        problems.append(
            _p("loi_not_pending", "Only a submitted letter of intent awaiting its outcome can be decided.")
        )
        return problems
    if loi_deadline_at is not None and not deadline_passed(now, loi_deadline_at, grace):
        problems.append(
            _p(
                "loi_stage_open",
                "Letters of intent are decided once their deadline has passed ({deadline}).",
                deadline=loi_deadline_at,
            )
        )
    if shortlist and closes_at is not None and deadline_passed(now, closes_at, NO_GRACE):
        problems.append(
            _p(
                "full_deadline_passed",
                "The full-proposal deadline ({deadline}) has passed: nobody can be invited any more.",
                deadline=closes_at,
            )
        )
    if not shortlist and len((reason or "").strip()) < MIN_LOI_REASON_CHARS:
        problems.append(
            _p(
                "loi_reason_short",
                "Give the applicants a reason of at least {min_chars} characters.",
                min_chars=MIN_LOI_REASON_CHARS,
            )
        )
    return problems


# --- references, files, fingerprints -----------------------------------------------------------


def reference_prefix(instrument: Instrument | str, year: int) -> str:
    """The start of a proposal reference: ``LEA-2027-`` (numbered after it)."""
    code = REFERENCE_PREFIXES.get(Instrument(instrument), "PRJ")
    return f"{code}-{year}-"


def proposal_reference(instrument: Instrument | str, year: int, number: int) -> str:
    """A proposal's human reference, e.g. ``LEA-2027-0042``."""
    if number < 1:
        raise ValueError("a reference number starts at 1")
    return f"{reference_prefix(instrument, year)}{number:04d}"


def next_reference_number(existing: Collection[str], prefix: str) -> int:
    """One more than the highest number among references starting with ``prefix``."""
    numbers = [
        int(ref[len(prefix) :]) for ref in existing if ref.startswith(prefix) and ref[len(prefix) :].isdigit()
    ]
    return max(numbers, default=0) + 1


def receipt_reference(proposal_reference_: str, version: int) -> str:
    """The reference of the receipt of a proposal's ``version``-th submission."""
    return f"REC-{proposal_reference_}-{version}"


# Characters that reorder or hide text: a "right-to-left override" makes "cv.exe.pdf" read
# as "cv.fdp.exe". Dropped from displayed file names, with every control character.
_BIDI_AND_INVISIBLE = {
    "\u200e",
    "\u200f",
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
    "\u200b",
    "\ufeff",
}


def clean_filename(name: str, fallback: str = "document.pdf", max_length: int = 120) -> str:
    """A file name safe to display and to offer for download: no path, no control or
    direction-changing character, no leading dot, at most ``max_length`` characters; the file
    itself is always stored under a generated name."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(c for c in name if c not in _BIDI_AND_INVISIBLE and unicodedata.category(c)[0] != "C")
    name = re.sub(r"\s+", " ", name).strip().lstrip(".").strip()
    if len(name) > max_length:
        stem, dot, ext = name.rpartition(".")
        name = (
            (stem[: max_length - len(ext) - 1] + dot + ext) if dot and len(ext) <= 10 else name[:max_length]
        )
    return name or fallback


def fingerprint(content: Mapping) -> str:
    """SHA-256 of a submitted version's content, over a canonical JSON form (keys sorted), so
    the same content always gives the same fingerprint."""
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
