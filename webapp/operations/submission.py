"""Submission: start a proposal, edit it (alone or with the co-coordinator), attach documents,
submit it with a receipt, take it back while the call is open, withdraw it.

Each use case loads what it needs, asks `workflows.submission` and the proposal state machine,
changes the models, writes the audit row and the outbox mail, then flushes; none commits (the
view does, once). Refusals raise `SubmissionRefused` with every reason, already translated,
before anything changes; a save over someone else's newer save raises `ProposalConflict`.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, union
from sqlalchemy.exc import IntegrityError

from webapp.access import request_arrival
from webapp.documents.render import render_pdf
from webapp.extensions import db
from webapp.mail import queue_mail
from webapp.models import (
    Attachment,
    BudgetLine,
    IssuedDocument,
    Proposal,
    Submission,
    Team,
    User,
    normalise_email,
    utcnow,
)
from webapp.models.calls import Call, CallAttachmentKind
from webapp.operations.accounts import external_url
from webapp.operations.audit import record
from webapp.operations.transitions import Mail, apply_transition
from webapp.storage import delete_later, save_bytes
from workflows import money
from workflows.calls import CountryPolicy, Problem
from workflows.errors import TransitionRefused
from workflows.proposal_states import (
    MOVES,
    STAGE_FULL,
    STAGE_LOI,
    ProposalAction,
    ProposalFacts,
    ProposalState,
    can_move,
)
from workflows.roles import Role
from workflows.submission import (
    CallConditions,
    Eligibility,
    ProposalContent,
    TeamContent,
    clean_filename,
    eligibility,
    facts,
    fingerprint,
    may_change,
    missing_items,
    next_reference_number,
    proposal_reference,
    receipt_reference,
    reference_prefix,
    requested_annual_eur,
    start_stage,
)
from workflows.timeutils import call_is_open

# --- messages, in the reader's language ------------------------------------------------------

FIELD_LABELS = {
    "title": _l("title"),
    "acronym": _l("acronym"),
    "abstract_fr": _l("abstract in French"),
    "abstract_en": _l("abstract in English"),
    "keywords": _l("keywords"),
    "history": _l("history of the collaboration"),
    "programme": _l("scientific programme"),
    "mobility_plan": _l("mobility and training plan"),
    "ethics": _l("ethics statement"),
    "co_coordinator_name": _l("name of the foreign co-coordinator"),
    "co_coordinator_email": _l("e-mail of the foreign co-coordinator"),
    "laboratory": _l("laboratory"),
    "unit_code": _l("unit code"),
    "institution_name": _l("institution"),
    "leader_name": _l("team leader's name"),
    "leader_email": _l("team leader's e-mail"),
    "leader_position": _l("team leader's position"),
}

PROBLEM_MESSAGES = {
    "field_missing": _l("The %(field)s is missing."),
    "theme_missing": _l("Choose the theme of the proposal."),
    "duration_missing": _l("The duration of the project is missing."),
    "inserm_team_missing": _l("The Inserm team is missing."),
    "foreign_team_missing": _l("No foreign team yet."),
    "team_incomplete": _l("Team %(n)s is incomplete: %(fields)s."),
    "budget_missing": _l("The budget is empty."),
    "attachment_missing": _l("The document \u201c%(code)s\u201d is missing."),
    "french_teams_exactly": _l("%(label)s needs exactly %(low)s French team(s); it has %(count)s."),
    "french_teams_at_least": _l("%(label)s needs at least %(low)s French teams; it has %(count)s."),
    "french_teams_at_most": _l("%(label)s allows at most %(high)s French team(s); it has %(count)s."),
    "foreign_teams_exactly": _l("%(label)s needs exactly %(low)s foreign team(s); it has %(count)s."),
    "foreign_teams_at_least": _l("%(label)s needs at least %(low)s foreign team(s); it has %(count)s."),
    "foreign_teams_at_most": _l("%(label)s allows at most %(high)s foreign team(s); it has %(count)s."),
    "inserm_teams_count": _l("%(label)s needs at least %(low)s Inserm team; it has %(count)s."),
    "authority_missing": _l("Team %(n)s must name its authority (tutelle)."),
    "country_not_eligible": _l("Team %(n)s is in %(country)s, which this call does not cover."),
    "coordinator_not_permanent": _l("The Inserm coordinator must hold a permanent position."),
    "text_too_long": _l("The %(field)s has %(length)s characters, above the limit of %(limit)s."),
    "duration_too_long": _l("The project lasts %(years)s years; this call funds at most %(max)s."),
    "theme_not_eligible": _l("The chosen theme is not one of this call's themes."),
    "co_coordinator_email_invalid": _l("The co-coordinator's e-mail address is not valid."),
    "co_coordinator_is_coordinator": _l(
        "The foreign co-coordinator must be someone other than the coordinator."
    ),
    "budget_negative": _l("Amounts cannot be negative (year %(year)s)."),
    "budget_category_unknown": _l("Unknown budget category \u201c%(category)s\u201d."),
    "budget_year_outside": _l("Year %(year)s is outside the project's %(duration)s years."),
    "budget_salaries": _l("Salaries are not an eligible expense in this call (year %(year)s)."),
    "budget_above_max": _l("Year %(year)s asks for %(amount)s, above the call's maximum of %(max)s a year."),
    "budget_cap": _l(
        "Year %(year)s: costs other than mobility are %(amount)s of %(total)s, above the %(cap)s %% cap."
    ),
}

REFUSALS = {
    "deadline": _l("The deadline has passed: this proposal can no longer be changed or submitted."),
    "not_draft": _l("This proposal has been submitted: take it back to edit it first."),
    "not_editable": _l("This proposal can no longer be changed."),
    "incomplete": _l("The proposal cannot be submitted yet: see the list of what is missing."),
    "call_closed": _l("This call is not open for new proposals."),
    "loi_over": _l("The letter-of-intent stage of this call is over: new proposals are no longer accepted."),
    "not_applicant": _l("Only applicants can start a proposal."),
    "co_coordinator_only": _l("Only the coordinator can do this."),
    "move": _l("This step is not possible in the proposal's current state."),
}

UPLOAD_ERRORS = {
    "empty": _l("The file is empty."),
    "too_large": _l("The file is larger than %(mb)s MB."),
    "not_pdf": _l("The file is not a PDF document (whatever its name says)."),
    "unreadable": _l("The PDF cannot be read: it may be damaged. Export it again and retry."),
    "encrypted": _l("The PDF is protected by a password: upload an unprotected copy."),
    "no_pages": _l("The PDF has no pages."),
}


def _money_param(name: str, value: object) -> object:
    from webapp.templating import money as money_filter

    if name in {"amount", "max", "total"} and isinstance(value, int):
        return money_filter(value)
    if name == "field":
        return FIELD_LABELS.get(str(value), value)
    if name == "fields" and isinstance(value, str):
        return ", ".join(str(FIELD_LABELS.get(f.strip(), f.strip())) for f in value.split(","))
    return value


def problem_message(problem: Problem, attachment_labels: Mapping[str, str] | None = None) -> str:
    """A problem in the reader's language (its English message if no translation is known)."""
    template = PROBLEM_MESSAGES.get(problem.code)
    if template is None:
        return problem.message
    params = {k: _money_param(k, v) for k, v in problem.params.items()}
    if problem.code == "attachment_missing" and attachment_labels:
        params["code"] = attachment_labels.get(str(problem.params.get("code")), params["code"])
    return str(template) % params


class SubmissionRefused(Exception):
    """A step refused, with its reasons in the reader's language."""

    def __init__(self, *messages: str):
        self.messages = [str(m) for m in messages]
        super().__init__("; ".join(self.messages))


class ProposalConflict(Exception):
    """Someone else saved the proposal since this form was opened (optimistic locking)."""


class UploadRefused(Exception):
    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


# --- reading a proposal for the rules --------------------------------------------------------


def conditions_for(call: Call) -> CallConditions:
    return CallConditions(
        instrument=call.instrument,
        duration_years=call.duration_years,
        max_per_year_eur=call.max_per_year_eur,
        salaries_allowed=call.salaries_allowed,
        non_mobility_cap_pct=call.non_mobility_cap_pct,
        char_limits=call.char_limits,
        required_attachments=tuple(k.code for k in call.required_attachments),
        eligible_countries=tuple(call.country_codes),
        country_policy=CountryPolicy(call.country_policy),
        theme_ids=frozenset(t.id for t in call.themes),
    )


def team_content(team: Team) -> TeamContent:
    return TeamContent(
        is_inserm=team.is_inserm,
        country_code=team.country_code or "",
        laboratory=team.laboratory,
        unit_code=team.unit_code,
        institution_name=team.institution_name,
        authority=team.authority,
        leader_name=team.leader_name,
        leader_email=team.leader_email,
        leader_position=team.leader_position,
        leader_permanent=team.leader_permanent,
    )


def budget_of(proposal: Proposal) -> tuple[money.BudgetLine, ...]:
    return tuple(
        money.BudgetLine(
            line.year, line.category, line.amount_eur, line.partner_cash_eur, line.partner_in_kind_eur
        )
        for line in proposal.budget_lines
    )


def content_of(proposal: Proposal) -> ProposalContent:
    return ProposalContent(
        stage=proposal.stage,
        title=proposal.title,
        acronym=proposal.acronym,
        abstract_fr=proposal.abstract_fr,
        abstract_en=proposal.abstract_en,
        keywords=proposal.keywords,
        theme_id=proposal.theme_id,
        history=proposal.history,
        programme=proposal.programme,
        mobility_plan=proposal.mobility_plan,
        ethics=proposal.ethics,
        duration_years=proposal.duration_years,
        coordinator_email=proposal.coordinator.email if proposal.coordinator else "",
        co_coordinator_name=proposal.co_coordinator_name,
        co_coordinator_email=proposal.co_coordinator_email,
        teams=tuple(team_content(t) for t in proposal.teams),
        budget=budget_of(proposal),
        attachment_codes=frozenset(a.kind_code for a in proposal.attachments),
    )


@dataclass(frozen=True)
class Review:
    """What stands between a draft and its submission, translated, with the raw problems."""

    missing: tuple[Problem, ...]
    eligibility: Eligibility
    attachment_labels: Mapping[str, str]

    @property
    def ready(self) -> bool:
        return not self.missing and self.eligibility.ok

    @property
    def missing_messages(self) -> list[str]:
        return [problem_message(p, self.attachment_labels) for p in self.missing]

    @property
    def eligibility_messages(self) -> list[str]:
        return [problem_message(p, self.attachment_labels) for p in self.eligibility.problems]


def attachment_labels(call: Call, locale: str) -> dict[str, str]:
    return {k.code: k.label(locale) for k in call.attachment_kinds}


def review(proposal: Proposal, locale: str = "en") -> Review:
    content = content_of(proposal)
    conditions = conditions_for(proposal.call)
    return Review(
        tuple(missing_items(content, conditions)),
        eligibility(content, conditions),
        attachment_labels(proposal.call, locale),
    )


def proposal_facts(
    proposal: Proposal, now: datetime | None = None, review_: Review | None = None, reason: str | None = None
) -> ProposalFacts:
    """The state machine's facts: deadline of the proposal's stage, grace, and (when given) the
    completeness and eligibility problems, in English for the guards' messages."""
    call = proposal.call
    return facts(
        now=now or utcnow(),
        stage=proposal.stage,
        two_stage=call.two_stage,
        is_rolling=call.is_rolling,
        closes_at=call.closes_at,
        loi_deadline_at=call.loi_deadline_at,
        grace=call.grace,
        missing=[p.message for p in review_.missing] if review_ else (),
        eligibility_problems=[p.message for p in review_.eligibility.problems] if review_ else (),
        reason=reason,
        decision_released=proposal.decision_released_at is not None,
    )


def is_editable(proposal: Proposal, now: datetime | None = None) -> bool:
    """A draft whose stage's deadline (grace included) has not passed."""
    return may_change(proposal.state, proposal_facts(proposal, now))


def submit_action(proposal: Proposal) -> ProposalAction:
    return ProposalAction.SUBMIT_LOI if proposal.stage == STAGE_LOI else ProposalAction.SUBMIT


def deadline_of(proposal: Proposal) -> datetime | None:
    return proposal_facts(proposal).deadline


# --- who is who ------------------------------------------------------------------------------


def is_invited(user, proposal: Proposal) -> bool:
    """The co-coordinator named on the proposal, with a confirmed account, not yet joined."""
    return (
        bool(getattr(user, "is_authenticated", False))
        and proposal.co_coordinator_id is None
        and bool(proposal.co_coordinator_email)
        and user.id != proposal.coordinator_id
        and user.is_confirmed
        and normalise_email(user.email) == normalise_email(proposal.co_coordinator_email)
    )


def proposals_of(user, *, invitations: bool = True):
    """A condition on `Proposal`: the user's own proposals, as coordinator or co-coordinator,
    and (``invitations``) those naming their confirmed e-mail as co-coordinator not yet joined
    (`is_invited`). Written as a union of three indexed lookups rather than an OR, which SQLite
    can only answer by reading every proposal."""
    terms = [
        select(Proposal.id).where(Proposal.coordinator_id == user.id),
        select(Proposal.id).where(Proposal.co_coordinator_id == user.id),
    ]
    if invitations and user.is_confirmed:
        terms.append(
            select(Proposal.id).where(
                Proposal.co_coordinator_email == normalise_email(user.email),
                Proposal.co_coordinator_id.is_(None),
                Proposal.coordinator_id != user.id,
            )
        )
    return Proposal.id.in_(union(*terms))


def _recipients(proposal: Proposal) -> list[tuple[str, str]]:
    """(e-mail, language) of the coordinator and the co-coordinator (joined or only named)."""
    people = [(proposal.coordinator.email, proposal.coordinator.locale)]
    if proposal.co_coordinator is not None:
        people.append((proposal.co_coordinator.email, proposal.co_coordinator.locale))
    elif proposal.co_coordinator_email:
        people.append((proposal.co_coordinator_email, "en"))
    seen, unique = set(), []
    for email, locale in people:
        if normalise_email(email) not in seen:
            seen.add(normalise_email(email))
            unique.append((email, locale))
    return unique


def _mails(proposal: Proposal, template: str, **context) -> list[Mail]:
    link = external_url(url_for("applicant.proposal", proposal_id=proposal.id))
    return [
        Mail(
            template, email, locale, {"proposal": proposal, "link": link, "reader_locale": locale, **context}
        )
        for email, locale in _recipients(proposal)
    ]


# --- starting --------------------------------------------------------------------------------


def can_start(user, call: Call, now: datetime | None = None) -> str | None:
    """Why ``user`` cannot start a proposal to ``call`` now (a REFUSALS key), or None."""
    now = now or utcnow()
    if not (getattr(user, "is_authenticated", False) and user.has_role(Role.APPLICANT)):
        return "not_applicant"
    if not call.is_published or not call_is_open(
        now, call.opens_at, None if call.is_rolling else call.closes_at, call.grace
    ):
        return "call_closed"
    if (
        start_stage(now, two_stage=call.two_stage, loi_deadline_at=call.loi_deadline_at, grace=call.grace)
        is None
    ):
        return "loi_over"
    return None


def _assign_reference(proposal: Proposal, call: Call) -> None:
    """Number the proposal after the highest reference of its instrument and year.

    Two applicants starting at the same instant may pick the same number: the unique index
    refuses the second, which takes the next number inside a savepoint.
    """
    prefix = reference_prefix(call.instrument, call.year)
    for _attempt in range(20):
        existing = db.session.scalars(
            select(Proposal.reference).where(Proposal.reference.like(prefix + "%"))
        ).all()
        reference = proposal_reference(call.instrument, call.year, next_reference_number(existing, prefix))
        try:
            with db.session.begin_nested():
                proposal.reference = reference
                db.session.flush()
            return
        except IntegrityError:
            continue
    raise RuntimeError("could not number the proposal")  # pragma: no cover - 20 collisions


def start_proposal(call: Call, user: User, now: datetime | None = None) -> Proposal:
    now = now or utcnow()
    reason = can_start(user, call, now)
    if reason:
        raise SubmissionRefused(REFUSALS[reason])
    stage = start_stage(now, two_stage=call.two_stage, loi_deadline_at=call.loi_deadline_at, grace=call.grace)
    proposal = Proposal(
        call_id=call.id,
        call=call,
        reference=f"NEW-{user.id}-{now.timestamp():.6f}"[:40],
        state=ProposalState.DRAFT,
        stage=stage,
        coordinator_id=user.id,
        duration_years=call.duration_years,
    )
    # The coordinator's own team, filled from the account; the applicant completes it.
    proposal.teams = [
        Team(
            position=0,
            is_inserm=True,
            country_code="FR",
            institution_name="Inserm",
            authority="Inserm",
            leader_name=user.full_name,
            leader_email=user.email,
            leader_position=user.position,
            leader_permanent=user.is_permanent,
        )
    ]
    db.session.add(proposal)
    db.session.flush()
    _assign_reference(proposal, call)
    record(
        user,
        "proposal.created",
        proposal,
        after={"reference": proposal.reference, "call_id": call.id, "stage": stage},
    )
    db.session.flush()
    return proposal


# --- editing ---------------------------------------------------------------------------------


def _check_editable(proposal: Proposal, expected_version: int | None) -> None:
    if proposal.state != ProposalState.DRAFT:
        raise SubmissionRefused(REFUSALS["not_draft"])
    # Judged at the request's arrival, as the views' `can_edit_proposal` judges it: a change that
    # arrived before the deadline and reached this check after it is still taken (and the two
    # checks cannot disagree, which left the change half-refused).
    if not is_editable(proposal, request_arrival()):
        raise SubmissionRefused(REFUSALS["deadline"])
    if expected_version is not None and expected_version != proposal.version_id:
        raise ProposalConflict()


def _touch(proposal: Proposal) -> None:
    # Any change to the proposal or its rows moves its version, so the other person's next
    # save (of whatever section) sees the conflict instead of overwriting silently.
    proposal.updated_at = utcnow()


GENERAL_FIELDS = ("title", "acronym", "abstract_fr", "abstract_en", "keywords", "theme_id", "duration_years")
TEXT_FIELDS = ("history", "programme", "mobility_plan", "ethics")
SECTION_FIELDS = {"general": GENERAL_FIELDS, "texts": TEXT_FIELDS}


def update_section(
    proposal: Proposal, section: str, values: Mapping[str, object], actor: User, expected_version: int | None
) -> list[str]:
    """Save one section's fields (only that section's: other posted names are ignored).

    Returns the names of the fields that changed; nothing is written when none did.
    """
    _check_editable(proposal, expected_version)
    theme_id = values.get("theme_id")
    if theme_id is not None and theme_id not in {t.id for t in proposal.call.themes}:
        raise SubmissionRefused(PROBLEM_MESSAGES["theme_not_eligible"])
    changed = []
    for name in SECTION_FIELDS[section]:
        if name not in values:
            continue
        value = values[name]
        if isinstance(value, str):
            value = value.replace("\r\n", "\n")
        if getattr(proposal, name) != value:
            setattr(proposal, name, value)
            changed.append(name)
    if changed:
        _touch(proposal)
        record(actor, "proposal.edited", proposal, after={"section": section, "fields": changed})
        db.session.flush()
    return changed


@dataclass
class TeamData:
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


def _team_position(team: Team) -> int:
    return 0 if team.is_inserm else (1 if team.country_code == "FR" else 2)


def save_team(
    proposal: Proposal, team: Team | None, data: TeamData, actor: User, expected_version: int | None
) -> Team:
    _check_editable(proposal, expected_version)
    created = team is None
    if team is None:
        team = Team(country_code=data.country_code)
        proposal.teams.append(team)
    for name, value in vars(data).items():
        setattr(team, name, value.strip() if isinstance(value, str) else value)
    team.country_code = team.country_code.upper()
    team.position = _team_position(team)
    _touch(proposal)
    db.session.flush()
    record(
        actor,
        "proposal.team_added" if created else "proposal.team_edited",
        proposal,
        after={"team_id": team.id, "country": team.country_code, "inserm": team.is_inserm},
    )
    db.session.flush()
    return team


def delete_team(proposal: Proposal, team: Team, actor: User, expected_version: int | None) -> None:
    _check_editable(proposal, expected_version)
    record(
        actor,
        "proposal.team_removed",
        proposal,
        before={"team_id": team.id, "laboratory": team.laboratory, "country": team.country_code},
    )
    proposal.teams.remove(team)
    _touch(proposal)
    db.session.flush()


@dataclass(frozen=True)
class BudgetRow:
    year: int
    category: str
    amount_eur: int = 0
    partner_cash_eur: int = 0
    partner_in_kind_eur: int = 0
    note: str = ""

    @property
    def empty(self) -> bool:
        return not (self.amount_eur or self.partner_cash_eur or self.partner_in_kind_eur or self.note)


def budget_grid(proposal: Proposal) -> list[tuple[int, str]]:
    """The (year, category) cells the budget form offers: the project's years, the call's
    categories."""
    years = max(1, min(proposal.duration_years or proposal.call.duration_years, proposal.call.duration_years))
    return [(y, c) for y in range(1, years + 1) for c in conditions_for(proposal.call).categories]


def save_budget(
    proposal: Proposal, rows: Iterable[BudgetRow], actor: User, expected_version: int | None
) -> None:
    """Replace the budget by the grid's rows; cells outside the grid are ignored (mass
    assignment) and empty cells are not stored."""
    _check_editable(proposal, expected_version)
    allowed = set(budget_grid(proposal))
    wanted = {(r.year, r.category): r for r in rows if (r.year, r.category) in allowed and not r.empty}
    before = {f"{line.year}/{line.category}": line.amount_eur for line in proposal.budget_lines}
    # Update in place, then add and remove: the unit of work inserts before it deletes, and
    # (proposal, year, category) is unique.
    for line in list(proposal.budget_lines):
        row = wanted.pop((line.year, line.category), None)
        if row is None:
            proposal.budget_lines.remove(line)
            continue
        line.amount_eur, line.partner_cash_eur = row.amount_eur, row.partner_cash_eur
        line.partner_in_kind_eur, line.note = row.partner_in_kind_eur, row.note.strip()
    db.session.flush()
    for row in wanted.values():
        proposal.budget_lines.append(
            BudgetLine(
                year=row.year,
                category=row.category,
                amount_eur=row.amount_eur,
                partner_cash_eur=row.partner_cash_eur,
                partner_in_kind_eur=row.partner_in_kind_eur,
                note=row.note.strip(),
            )
        )
    _touch(proposal)
    after = {f"{line.year}/{line.category}": line.amount_eur for line in proposal.budget_lines}
    record(actor, "proposal.budget_edited", proposal, before={"budget": before}, after={"budget": after})
    db.session.flush()


def set_co_coordinator(
    proposal: Proposal, name: str, email: str, actor: User, expected_version: int | None
) -> bool:
    """Name the foreign co-coordinator; a new address gets an invitation (the previous
    person, if they had joined, loses access). Returns whether an invitation was sent."""
    _check_editable(proposal, expected_version)
    email = normalise_email(email or "")
    name = (name or "").strip()
    changed_email = email != normalise_email(proposal.co_coordinator_email)
    if email and email == normalise_email(proposal.coordinator.email):
        raise SubmissionRefused(PROBLEM_MESSAGES["co_coordinator_is_coordinator"])
    if not changed_email and name == proposal.co_coordinator_name:
        return False
    before = {"name": proposal.co_coordinator_name, "email": proposal.co_coordinator_email}
    proposal.co_coordinator_name = name
    proposal.co_coordinator_email = email
    invited = False
    if changed_email:
        proposal.co_coordinator_id = None
        proposal.co_coordinator_invited_at = None
        if email:
            invited = _invite(proposal)
    _touch(proposal)
    record(
        actor,
        "proposal.co_coordinator_set",
        proposal,
        before=before,
        after={"name": name, "email": email, "invited": invited},
    )
    db.session.flush()
    return invited


def _invite(proposal: Proposal) -> bool:
    link = external_url(url_for("applicant.proposal", proposal_id=proposal.id))
    register = external_url(url_for("auth.register"))
    account = db.session.scalar(select(User).where(User.email == proposal.co_coordinator_email))
    locale = account.locale if account is not None else "en"
    queue_mail(
        proposal.co_coordinator_email,
        "proposal_co_coordinator_invitation",
        locale=locale,
        proposal=proposal,
        link=link,
        register=register,
        has_account=account is not None,
        reader_locale=locale,
    )
    proposal.co_coordinator_invited_at = utcnow()
    return True


def resend_invitation(proposal: Proposal, actor: User) -> None:
    if not is_editable(proposal) or not proposal.co_coordinator_email or proposal.co_coordinator_id:
        raise SubmissionRefused(REFUSALS["not_editable"])
    _invite(proposal)
    record(actor, "proposal.co_coordinator_invited", proposal, after={"email": proposal.co_coordinator_email})
    db.session.flush()


def accept_co_coordination(proposal: Proposal, user: User) -> None:
    """The invited co-coordinator joins: from now on they see and co-edit the proposal."""
    if not is_invited(user, proposal):
        raise SubmissionRefused(REFUSALS["move"])
    proposal.co_coordinator_id = user.id
    if not proposal.co_coordinator_name:
        proposal.co_coordinator_name = user.full_name
    record(user, "proposal.co_coordinator_joined", proposal, after={"user_id": user.id})
    db.session.flush()


# --- attachments -----------------------------------------------------------------------------


MEGABYTE = 1024 * 1024


def pdf_problem(data: bytes, max_mb: int) -> str | None:
    """Why ``data`` is not an acceptable PDF (an UPLOAD_ERRORS key), or None.

    The type is read from the bytes (never from the name or the browser's claim), then the
    document is parsed: an HTML page or a program renamed ``.pdf`` is refused, and so are
    damaged, encrypted or empty PDFs.
    """
    import puremagic
    from pypdf import PdfReader

    if not data:
        return "empty"
    if len(data) > max_mb * MEGABYTE:
        return "too_large"
    try:
        kinds = {m.extension for m in puremagic.magic_string(data[:4096])}
    except puremagic.PureError:
        kinds = set()
    if ".pdf" not in kinds or not data.lstrip()[:5] == b"%PDF-":
        return "not_pdf"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted:
                return "encrypted"
            pages = len(reader.pages)
    except Exception:  # noqa: BLE001 - any parser failure means "not a readable PDF"
        return "unreadable"
    return None if pages else "no_pages"


def _kept_by_a_submission(proposal: Proposal, stored_name: str) -> bool:
    return any(
        stored_name == item.get("stored_name")
        for submission in proposal.submissions
        for item in (submission.snapshot or {}).get("attachments", [])
    )


def store_attachment(
    proposal: Proposal, kind: CallAttachmentKind, filename: str, data: bytes, actor: User
) -> Attachment:
    """Keep an uploaded document (replacing the previous one of its kind).

    The bytes are written under a generated name in the same unit as the row (removed if the
    transaction rolls back). A replaced file is deleted after the commit, unless a submitted
    version names it: what was submitted stays readable.
    """
    _check_editable(proposal, None)
    problem = pdf_problem(data, kind.max_mb)
    if problem:
        raise UploadRefused(str(UPLOAD_ERRORS[problem]) % {"mb": kind.max_mb})
    stored = save_bytes(db.session, data, "pdf")
    current = next((a for a in proposal.attachments if a.kind_code == kind.code), None)
    before = None
    if current is not None:
        before = {"kind": current.kind_code, "sha256": current.sha256, "filename": current.original_filename}
        if not _kept_by_a_submission(proposal, current.stored_name):
            delete_later(db.session, current.stored_name)
        proposal.attachments.remove(current)
        db.session.flush()
    attachment = Attachment(
        kind_code=kind.code,
        original_filename=clean_filename(filename),
        stored_name=stored.stored_name,
        content_type="application/pdf",
        size_bytes=stored.size_bytes,
        sha256=stored.sha256,
        uploaded_by_id=actor.id,
    )
    proposal.attachments.append(attachment)
    _touch(proposal)
    db.session.flush()
    record(
        actor,
        "proposal.attachment_uploaded",
        proposal,
        before=before,
        after={
            "kind": kind.code,
            "sha256": stored.sha256,
            "size": stored.size_bytes,
            "filename": attachment.original_filename,
        },
    )
    db.session.flush()
    return attachment


def delete_attachment(proposal: Proposal, attachment: Attachment, actor: User) -> None:
    _check_editable(proposal, None)
    if not _kept_by_a_submission(proposal, attachment.stored_name):
        delete_later(db.session, attachment.stored_name)
    record(
        actor,
        "proposal.attachment_deleted",
        proposal,
        before={"kind": attachment.kind_code, "sha256": attachment.sha256},
    )
    proposal.attachments.remove(attachment)
    _touch(proposal)
    db.session.flush()


# --- submitting ------------------------------------------------------------------------------


def snapshot_of(proposal: Proposal) -> dict:
    """The submitted content, in plain JSON: texts, teams, budget and each file's SHA-256."""
    call = proposal.call
    kinds = {k.code: k for k in call.attachment_kinds}
    content = {
        "reference": proposal.reference,
        "call_id": call.id,
        "stage": proposal.stage,
        **{
            name: getattr(proposal, name)
            for name in (
                "title",
                "acronym",
                "abstract_fr",
                "abstract_en",
                "keywords",
                "theme_id",
                "history",
                "programme",
                "mobility_plan",
                "ethics",
                "duration_years",
                "co_coordinator_name",
                "co_coordinator_email",
            )
        },
        "coordinator": {
            "id": proposal.coordinator_id,
            "name": proposal.coordinator.full_name,
            "email": proposal.coordinator.email,
        },
        "teams": [
            {
                name: getattr(team, name)
                for name in (
                    "is_inserm",
                    "laboratory",
                    "unit_code",
                    "institution_name",
                    "country_code",
                    "authority",
                    "leader_name",
                    "leader_email",
                    "leader_position",
                    "leader_permanent",
                )
            }
            for team in proposal.teams
        ],
        "budget": [
            {
                "year": line.year,
                "category": line.category,
                "amount_eur": line.amount_eur,
                "partner_cash_eur": line.partner_cash_eur,
                "partner_in_kind_eur": line.partner_in_kind_eur,
                "note": line.note,
            }
            for line in proposal.budget_lines
        ],
        "attachments": [
            {
                "kind": a.kind_code,
                "label_fr": kinds[a.kind_code].label_fr if a.kind_code in kinds else a.kind_code,
                "label_en": kinds[a.kind_code].label_en if a.kind_code in kinds else a.kind_code,
                "filename": a.original_filename,
                "size_bytes": a.size_bytes,
                "sha256": a.sha256,
                "stored_name": a.stored_name,
            }
            for a in sorted(
                proposal.attachments,
                key=lambda a: (kinds[a.kind_code].position if a.kind_code in kinds else 999, a.kind_code),
            )
        ],
    }
    content["content_sha256"] = fingerprint(content)
    return content


class AlreadySubmitted(Exception):
    """The proposal was submitted already (a double click, a second tab, a retry)."""


def _refusal_from(refused: TransitionRefused) -> SubmissionRefused:
    if "deadline" in refused.reason:
        return SubmissionRefused(REFUSALS["deadline"])
    if "incomplete" in refused.reason or "conditions" in refused.reason:
        return SubmissionRefused(REFUSALS["incomplete"])
    return SubmissionRefused(REFUSALS["move"])


def submit(
    proposal: Proposal, actor: User, received_at: datetime, locale: str, expected_version: int | None
) -> Submission:
    """Submit the draft (or the letter of intent): a frozen snapshot, its receipt (PDF, stored
    with its SHA-256), the e-mails to both coordinators and the audit row, in one unit.

    ``received_at`` is when the request started: a submission sent before the deadline and
    still running when the deadline passes is on time.
    """
    if proposal.state != ProposalState.DRAFT:
        if proposal.submitted_at is not None and ProposalState(proposal.state) != ProposalState.WITHDRAWN:
            raise AlreadySubmitted()
        raise SubmissionRefused(REFUSALS["move"])
    if not proposal.is_coordinated_by(actor):
        raise SubmissionRefused(REFUSALS["co_coordinator_only"])
    if expected_version is not None and expected_version != proposal.version_id:
        raise ProposalConflict()
    found = review(proposal, locale)
    action = submit_action(proposal)
    try:
        apply_transition(
            proposal,
            MOVES,
            action,
            role=Role.APPLICANT,
            facts=proposal_facts(proposal, received_at, found),
            actor=actor,
            details={"received_at": received_at.isoformat(), "stage": proposal.stage},
        )
    except TransitionRefused as refused:
        raise _refusal_from(refused) from None
    proposal.submitted_at = received_at
    proposal.country_flagged = found.eligibility.country_flagged
    if proposal.stage == STAGE_FULL:
        proposal.requested_annual_eur = requested_annual_eur(budget_of(proposal))
    # The state change is flushed first: a second submission racing this one fails here on the
    # proposal's version, before any receipt is rendered.
    db.session.flush()
    version = (
        db.session.scalar(select(func.max(Submission.version)).where(Submission.proposal_id == proposal.id))
        or 0
    ) + 1
    snapshot = snapshot_of(proposal)
    submission = Submission(
        proposal_id=proposal.id,
        version=version,
        stage=proposal.stage,
        received_at=received_at,
        submitted_by_id=actor.id,
        snapshot=snapshot,
    )
    db.session.add(submission)
    db.session.flush()
    submission.receipt = _issue_receipt(proposal, submission, actor, locale)
    record(
        actor,
        "proposal.receipt_issued",
        proposal,
        after={
            "version": version,
            "receipt": submission.receipt.reference,
            "receipt_sha256": submission.receipt.sha256,
            "content_sha256": snapshot["content_sha256"],
        },
    )
    for mail in _mails(proposal, "proposal_submitted", submission=submission):
        queue_mail(mail.to, mail.template, locale=mail.locale, **mail.context)
    db.session.flush()
    return submission


def _issue_receipt(proposal: Proposal, submission: Submission, actor: User, locale: str) -> IssuedDocument:
    reference = receipt_reference(proposal.reference, submission.version)
    data = {
        "proposal_reference": proposal.reference,
        "version": submission.version,
        "stage": submission.stage,
        "received_at": submission.received_at.isoformat(),
        "content_sha256": submission.snapshot["content_sha256"],
        "attachments": [
            {k: a[k] for k in ("kind", "filename", "size_bytes", "sha256")}
            for a in submission.snapshot["attachments"]
        ],
    }
    # The verification page belongs to the documents the platform issues; link it when present.
    verify_url = (
        external_url(url_for("public.verify", reference=reference))
        if "public.verify" in current_app.view_functions
        else None
    )
    with force_locale(locale):
        pdf = render_pdf(
            "documents/receipt.html",
            verify_url=verify_url,
            proposal=proposal,
            submission=submission,
            reference=reference,
            snapshot=submission.snapshot,
            locale=locale,
        )
    stored = save_bytes(db.session, pdf, "pdf")
    document = IssuedDocument(
        reference=reference,
        version=1,
        kind="receipt",
        language=locale,
        proposal_id=proposal.id,
        stored_name=stored.stored_name,
        size_bytes=stored.size_bytes,
        sha256=stored.sha256,
        data=data,
        issued_at=utcnow(),
        issued_by_id=actor.id,
    )
    db.session.add(document)
    db.session.flush()
    return document


def reopen(proposal: Proposal, actor: User, now: datetime | None = None) -> None:
    """Take a submitted proposal back to draft while the call is open: it no longer counts as
    submitted until it is submitted again (its earlier receipts stay valid records)."""
    if not proposal.is_coordinated_by(actor):
        raise SubmissionRefused(REFUSALS["co_coordinator_only"])
    try:
        apply_transition(
            proposal,
            MOVES,
            ProposalAction.REOPEN,
            role=Role.APPLICANT,
            facts=proposal_facts(proposal, now),
            actor=actor,
            mails=_mails(proposal, "proposal_reopened", deadline=deadline_of(proposal)),
        )
    except TransitionRefused as refused:
        raise _refusal_from(refused) from None


def withdraw(proposal: Proposal, actor: User, reason: str, now: datetime | None = None) -> None:
    """Withdraw the proposal for good (any state before the Directorate-General's decision is
    released: a pending decision lapses with the proposal)."""
    if not proposal.is_coordinated_by(actor):
        raise SubmissionRefused(REFUSALS["co_coordinator_only"])
    reason = (reason or "").strip()
    try:
        apply_transition(
            proposal,
            MOVES,
            ProposalAction.WITHDRAW,
            role=Role.APPLICANT,
            facts=proposal_facts(proposal, now, reason=reason),
            actor=actor,
            details={"reason": reason},
            mails=_mails(proposal, "proposal_withdrawn", reason=reason),
        )
    except TransitionRefused as refused:
        raise _refusal_from(refused) from None
    proposal.withdrawn_at = now or utcnow()
    proposal.withdraw_reason = reason
    db.session.flush()


def start_full_proposal(proposal: Proposal, actor: User) -> None:
    """After a shortlisted letter of intent, the full proposal is written on the same record."""
    if not proposal.is_coordinated_by(actor):
        raise SubmissionRefused(REFUSALS["co_coordinator_only"])
    try:
        apply_transition(
            proposal,
            MOVES,
            ProposalAction.START_FULL_PROPOSAL,
            role=Role.APPLICANT,
            facts=proposal_facts(proposal),
            actor=actor,
        )
    except TransitionRefused as refused:
        raise _refusal_from(refused) from None
    proposal.stage = STAGE_FULL
    db.session.flush()


def may_take(proposal: Proposal, action: ProposalAction, now: datetime | None = None) -> bool:
    """Whether the applicant's move is open now (state and deadline; content aside)."""
    return can_move(proposal.state, action, Role.APPLICANT, proposal_facts(proposal, now))


# --- for other capabilities ------------------------------------------------------------------


def has_submissions(call_id: int) -> bool:
    from webapp.models.proposals import submitted_count

    return submitted_count(call_id) > 0


def draft_holders(call_id: int) -> list[tuple[str, str, str, str]]:
    """(e-mail, language, name, proposal title) of everyone holding a draft to the call: the
    coordinators, and the co-coordinators who joined."""
    drafts = db.session.scalars(
        select(Proposal)
        .where(Proposal.call_id == call_id, Proposal.state == ProposalState.DRAFT)
        .order_by(Proposal.id)
    ).all()
    people, seen = [], set()
    for proposal in drafts:
        title = proposal.title or proposal.reference
        for user in (proposal.coordinator, proposal.co_coordinator):
            if user is not None and (user.email, proposal.id) not in seen:
                seen.add((user.email, proposal.id))
                people.append((user.email, user.locale, user.full_name, title))
    return people


# --- demo data -------------------------------------------------------------------------------

DEMO_PROPOSAL_TITLE = "Ageing brains across two continents (demo)"


def seed_demo_proposal() -> None:
    """A draft of the demo applicant on the demo LEA/LIA call, the demo co-coordinator joined,
    so `make run` shows a proposal being written. Idempotent (found by title)."""
    from webapp.operations.calls import DEMO_LEA_TITLE_EN

    if db.session.scalar(select(Proposal.id).where(Proposal.title == DEMO_PROPOSAL_TITLE)) is not None:
        return
    call = db.session.scalar(select(Call).where(Call.title_en == DEMO_LEA_TITLE_EN))
    applicant = db.session.scalar(select(User).where(User.email == "applicant@demo.inserm.fr"))
    partner = db.session.scalar(select(User).where(User.email == "coapplicant@demo.example.br"))
    if call is None or applicant is None or not call.is_published or can_start(applicant, call):
        return
    proposal = start_proposal(call, applicant)
    proposal.title, proposal.acronym = DEMO_PROPOSAL_TITLE, "AGE2C"
    proposal.abstract_fr = "Ce projet compare le vieillissement cérébral dans deux cohortes."
    proposal.abstract_en = "This project compares brain ageing in two cohorts."
    proposal.keywords = "ageing, neurodegeneration, cohorts"
    inserm = proposal.teams[0]
    inserm.laboratory, inserm.unit_code = "Institut de neurobiologie (démo)", "U1234"
    proposal.teams.append(
        Team(
            position=2,
            country_code="BR",
            laboratory="Laboratório de Neurociência (demo)",
            institution_name="Universidade de São Paulo",
            authority="USP",
            leader_name="Joana Silva",
            leader_email="coapplicant@demo.example.br",
            leader_position="Professor",
            leader_permanent=True,
        )
    )
    if partner is not None:
        proposal.co_coordinator_name, proposal.co_coordinator_email = partner.full_name, partner.email
        proposal.co_coordinator_id = partner.id
    proposal.budget_lines = [
        BudgetLine(year=y, category=c, amount_eur=a, partner_cash_eur=p)
        for y in range(1, call.duration_years + 1)
        for c, a, p in (("mobility", 10_000, 3_000), ("meetings", 2_000, 0))
    ]
    db.session.flush()
