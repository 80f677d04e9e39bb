"""Assessment use cases: screening, the reviewer pool, conflicts, assignment and reviews.

Each use case loads what it needs, asks `workflows` for the rules, changes the models, writes the
audit row and the outbox messages, then flushes; none commits (the view does, once). A refusal
raises `AssessmentRefused` with messages meant for the user, before anything is written.

Reviewer anonymity and conflicts are enforced here as much as in the views: the queries a
reviewer's pages use (`reviewer_assignments`, `visible_assignment`) only ever return their own
invited or accepted assignments, so a reviewer who declared a conflict (the assignment is then
removed) meets the proposal in no list, count, page or e-mail again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import cache

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, bindparam, case, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, selectinload

from forms.assessment import CHECKLIST_LABELS
from webapp.extensions import db
from webapp.mail import queue_mail
from webapp.models import BudgetLine, Institution, Proposal, User, UserRole, utcnow
from webapp.models.assessment import (
    ConflictDeclaration,
    EligibilityScreening,
    PoolInvitation,
    Review,
    ReviewAssignment,
    ReviewerProfile,
    ReviewReminder,
    ReviewScore,
)
from webapp.models.calls import Call
from webapp.operations import accounts
from webapp.operations.audit import record
from webapp.operations.transitions import Mail, apply_transition
from workflows import conflicts as conflict_rules
from workflows import money, transitions
from workflows.assignment import (
    AssignmentProblem,
    AssignmentResult,
    ProposalNeed,
)
from workflows.assignment import Reviewer as ReviewerSlot
from workflows.assignment import assign as solve_assignment
from workflows.assignment import keywords as parse_keywords
from workflows.assignment import match as keyword_match
from workflows.conflicts import ConflictKind
from workflows.errors import TransitionRefused
from workflows.instruments import rules_for
from workflows.proposal_states import MOVES, ProposalAction, ProposalFacts, ProposalState, can_move
from workflows.reviews import (
    REVIEW_MOVES,
    REVIEWER_VISIBLE_STATUSES,
    AssignmentAction,
    AssignmentStatus,
    ReviewAction,
    ReviewFacts,
    ReviewStatus,
    next_assignment_status,
)
from workflows.roles import Role
from workflows.scoring import MIN_COMMENT_CHARS, review_problems
from workflows.screening import (
    CHECKLIST_CODES,
    automatic_problems,
    eligible_problems,
    ineligible_problems,
)
from workflows.teams import TeamFacts
from workflows.timeutils import paris_date, paris_to_utc

#: States in which a proposal's reviewers are assigned and at work.
REVIEW_STATES = (ProposalState.ELIGIBLE, ProposalState.UNDER_REVIEW)
#: States in which an assigned reviewer may still open the proposal (to read their own review).
READABLE_STATES = (ProposalState.ELIGIBLE, ProposalState.UNDER_REVIEW, ProposalState.REVIEWED)
DEFAULT_DUE_DAYS = 30
REMINDER_DAYS = (7, 3, 1)  # days before the due date a reminder goes out [default]
NO_ANNUAL_MAXIMUM = 10**12  # a call and instrument without an annual maximum


class AssessmentRefused(Exception):
    """A refusal whose messages can be shown to the user; nothing was written."""

    def __init__(self, messages: str | Iterable[str]):
        many = isinstance(messages, list | tuple | set)
        self.messages = [str(m) for m in (messages if many else [messages])]
        super().__init__("; ".join(self.messages))


class ReviewConflict(Exception):
    """Someone saved the same review meanwhile (optimistic locking): the typed text is kept."""


def _refusal(exc: TransitionRefused) -> AssessmentRefused:
    return AssessmentRefused(_l("This step is not possible now: %(reason)s.", reason=exc.reason))


def min_comment_chars() -> int:
    return int(current_app.config.get("REVIEW_MIN_COMMENT_CHARS", MIN_COMMENT_CHARS))


def due_at_end_of(day: date) -> datetime:
    """A due date typed as a day means the end of that day in Paris (23:59)."""
    return paris_to_utc(datetime.combine(day, time(23, 59)))


def default_due_date(now: datetime | None = None) -> date:
    return paris_date(now or utcnow()) + timedelta(days=DEFAULT_DUE_DAYS)


def _applicant_recipients(proposal: Proposal) -> list[User]:
    people = [proposal.coordinator]
    if proposal.co_coordinator is not None:
        people.append(proposal.co_coordinator)
    return [p for p in people if p is not None and not p.is_disabled]


def _managers() -> list[User]:
    stmt = (
        select(User)
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == Role.MANAGER, User.disabled_at.is_(None))
        .order_by(User.id)
    )
    return list(db.session.scalars(stmt).unique())


# --- screening -----------------------------------------------------------------------------------


def annual_rules(proposal: Proposal) -> money.BudgetRules:
    call = proposal.call
    maximum = call.max_per_year_eur
    if maximum is None:
        maximum = rules_for(call.instrument).default_max_annual_amount_eur
    return money.BudgetRules(
        max_per_year_eur=maximum if maximum is not None else NO_ANNUAL_MAXIMUM,
        duration_years=proposal.duration_years or call.duration_years,
        salaries_allowed=call.salaries_allowed,
        non_mobility_cap_pct=call.non_mobility_cap_pct,
    )


def budget_facts(lines: Iterable[BudgetLine]) -> list[money.BudgetLine]:
    return [
        money.BudgetLine(
            line.year, line.category, line.amount_eur, line.partner_cash_eur, line.partner_in_kind_eur
        )
        for line in lines
    ]


def automatic_checks(proposal: Proposal) -> tuple[list[str], list[str]]:
    """``(problems, warnings)`` of the automatic eligibility checks (workflows)."""
    call = proposal.call
    teams = [
        TeamFacts(t.is_french, t.is_inserm, t.country_code or "", bool((t.authority or "").strip()))
        for t in proposal.teams
    ]
    return automatic_problems(
        call.instrument,
        teams,
        budget_facts(proposal.budget_lines),
        annual_rules(proposal),
        call.country_policy,
        call.country_codes,
    )


def requested_annual_eur(proposal: Proposal) -> int:
    """The annual amount the ranking draws down: the largest yearly Inserm amount."""
    return max(money.totals(budget_facts(proposal.budget_lines)).by_year.values(), default=0)


def screening_of(proposal: Proposal) -> EligibilityScreening | None:
    return db.session.scalar(
        select(EligibilityScreening).where(EligibilityScreening.proposal_id == proposal.id)
    )


def _save_screening(proposal: Proposal, checklist: Mapping[str, bool], notes: str) -> EligibilityScreening:
    screening = screening_of(proposal)
    if screening is None:
        screening = EligibilityScreening(proposal_id=proposal.id)
        db.session.add(screening)
    screening.checklist = {code: bool(checklist.get(code)) for code in CHECKLIST_CODES}
    screening.notes = (notes or "").strip()
    return screening


def save_checklist(proposal: Proposal, actor: User, checklist: Mapping[str, bool], notes: str) -> None:
    if proposal.state != ProposalState.SUBMITTED:
        raise AssessmentRefused(_l("This proposal has already been screened."))
    screening = _save_screening(proposal, checklist, notes)
    db.session.flush()
    record(actor, "screening.saved", proposal, after={"checklist": screening.checklist})


def mark_eligible(proposal: Proposal, actor: User, checklist: Mapping[str, bool], notes: str = "") -> None:
    """submitted -> eligible, once the automatic checks pass and the checklist is complete."""
    if proposal.state != ProposalState.SUBMITTED:
        raise AssessmentRefused(_l("Only a submitted proposal can be screened."))
    problems, _warnings = automatic_checks(proposal)
    if eligible_problems(problems, checklist):
        raise AssessmentRefused(
            [_l("Automatic check: %(problem)s", problem=p) for p in problems]
            + [
                _l("Checklist item not confirmed: %(item)s", item=CHECKLIST_LABELS[code])
                for code in CHECKLIST_CODES
                if not checklist.get(code)
            ]
        )
    screening = _save_screening(proposal, checklist, notes)
    screening.outcome = "eligible"
    screening.automatic_problems = []
    screening.screened_by_id = actor.id
    screening.screened_at = utcnow()
    try:
        apply_transition(
            proposal,
            MOVES,
            ProposalAction.MARK_ELIGIBLE,
            role=Role.MANAGER,
            facts=ProposalFacts(now=utcnow()),
            actor=actor,
            mails=[
                Mail(
                    "screening_eligible",
                    to=user.email,
                    locale=user.locale,
                    context={"proposal": proposal, "user": user},
                )
                for user in _applicant_recipients(proposal)
            ],
        )
    except TransitionRefused as exc:
        raise _refusal(exc) from None


def mark_ineligible(
    proposal: Proposal, actor: User, reason: str, checklist: Mapping[str, bool], notes: str = ""
) -> None:
    """submitted -> ineligible with the reason the applicants are told (outbox)."""
    if proposal.state != ProposalState.SUBMITTED:
        raise AssessmentRefused(_l("Only a submitted proposal can be screened."))
    reason = (reason or "").strip()
    refusals = ineligible_problems(reason)
    if refusals:
        raise AssessmentRefused(_l("Give the applicants a reason of at least 10 characters."))
    problems, _warnings = automatic_checks(proposal)
    screening = _save_screening(proposal, checklist, notes)
    screening.outcome = "ineligible"
    screening.automatic_problems = problems
    screening.screened_by_id = actor.id
    screening.screened_at = utcnow()
    proposal.ineligible_reason = reason
    try:
        apply_transition(
            proposal,
            MOVES,
            ProposalAction.MARK_INELIGIBLE,
            role=Role.MANAGER,
            facts=ProposalFacts(now=utcnow(), reason=reason),
            actor=actor,
            details={"reason": reason},
            mails=[
                Mail(
                    "screening_ineligible",
                    to=user.email,
                    locale=user.locale,
                    context={"proposal": proposal, "user": user, "reason": reason},
                )
                for user in _applicant_recipients(proposal)
            ],
        )
    except TransitionRefused as exc:
        raise _refusal(exc) from None


def bulk_mark_eligible(call: Call, proposal_ids: Sequence[int], actor: User) -> tuple[int, list[str]]:
    """Mark the chosen submitted proposals of ``call`` eligible, the checklist confirmed for all.

    Returns how many were marked and the refusals (reference: reason) of the others.
    """
    proposals = db.session.scalars(
        select(Proposal)
        .where(Proposal.call_id == call.id, Proposal.id.in_(list(proposal_ids)))
        .order_by(Proposal.reference)
    ).all()
    everything = dict.fromkeys(CHECKLIST_CODES, True)
    done, refused = 0, []
    for proposal in proposals:
        try:
            with db.session.begin_nested():
                mark_eligible(proposal, actor, everything)
        except AssessmentRefused as exc:
            refused.append(f"{proposal.reference}: {'; '.join(exc.messages)}")
        else:
            done += 1
    return done, refused


# --- the reviewer pool ---------------------------------------------------------------------------


@dataclass
class ProfileData:
    keywords: str = ""
    institution_name: str = ""
    unit_code: str = ""
    country_code: str | None = None
    is_external: bool = True
    max_load: int = 5
    active: bool = True

    def apply(self, profile: ReviewerProfile) -> None:
        profile.keywords = ", ".join(sorted(parse_keywords(self.keywords)))[:500]
        profile.institution_name = self.institution_name.strip()
        profile.unit_code = self.unit_code.strip().upper()
        profile.country_code = self.country_code or None
        profile.is_external = bool(self.is_external)
        profile.max_load = max(int(self.max_load), 0)
        profile.active = bool(self.active)
        institution = (
            db.session.scalar(
                select(Institution).where(func.lower(Institution.name) == profile.institution_name.lower())
            )
            if profile.institution_name
            else None
        )
        profile.institution_id = institution.id if institution is not None else None


def _profile_snapshot(profile: ReviewerProfile) -> dict:
    return {
        "keywords": profile.keywords,
        "institution": profile.institution_name,
        "unit_code": profile.unit_code,
        "country": profile.country_code,
        "external": profile.is_external,
        "max_load": profile.max_load,
        "active": profile.active,
    }


def profile_of(user: User) -> ReviewerProfile | None:
    return db.session.scalar(select(ReviewerProfile).where(ReviewerProfile.user_id == user.id))


def invite_reviewer(
    email: str, first_name: str, last_name: str, locale: str, data: ProfileData, actor: User
) -> tuple[ReviewerProfile, bool]:
    """Invite someone to the pool: create the account (or link the existing one), grant the
    reviewer role, keep their profile and e-mail them. Returns ``(profile, account_created)``."""
    user = accounts.find_user(email)
    created = user is None
    if user is None:
        user = accounts.create_user(
            email,
            first_name=first_name,
            last_name=last_name,
            roles=(Role.REVIEWER,),
            locale=locale,
            confirmed=True,
            actor=actor,
        )
        # The new reviewer chooses a password through the reset link (as admin invitations do).
        link = accounts.external_url(url_for("auth.reset_password", token=accounts.reset_token(user)))
    else:
        if user.is_disabled:
            raise AssessmentRefused(_l("This account is disabled: ask an administrator first."))
        accounts.grant_role(user, Role.REVIEWER, actor)
        link = accounts.external_url(url_for("review.queue"))
    profile = profile_of(user)
    before = _profile_snapshot(profile) if profile is not None else None
    if profile is None:
        profile = ReviewerProfile(user_id=user.id)
        db.session.add(profile)
    data.apply(profile)
    db.session.add(
        PoolInvitation(email=user.email, user_id=user.id, created_account=created, invited_by_id=actor.id)
    )
    db.session.flush()
    record(
        actor,
        "reviewer.invited",
        profile,
        before=before,
        after={**_profile_snapshot(profile), "user_id": user.id, "account_created": created},
    )
    queue_mail(
        user.email,
        "review_pool_invitation",
        locale=user.locale,
        user=user,
        link=link,
        new_account=created,
        inviter=actor,
    )
    return profile, created


def update_profile(profile: ReviewerProfile, data: ProfileData, actor: User) -> None:
    before = _profile_snapshot(profile)
    data.apply(profile)
    db.session.flush()
    after = _profile_snapshot(profile)
    if after != before:
        record(actor, "reviewer.profile_changed", profile, before=before, after=after)


def reviewer_pool_query(q: str = "", kind: str = "", country: str = "", status: str = ""):
    """The pool with search (name, e-mail, keywords, institution) and filters."""
    stmt = select(ReviewerProfile).join(User, User.id == ReviewerProfile.user_id)
    if q:
        like = f"%{q.strip().lower()}%"
        stmt = stmt.where(
            func.lower(User.email).like(like)
            | func.lower(User.first_name).like(like)
            | func.lower(User.last_name).like(like)
            | func.lower(ReviewerProfile.keywords).like(like)
            | func.lower(ReviewerProfile.institution_name).like(like)
        )
    if kind == "external":
        stmt = stmt.where(ReviewerProfile.is_external.is_(True))
    elif kind == "internal":
        stmt = stmt.where(ReviewerProfile.is_external.is_(False))
    if country:
        stmt = stmt.where(ReviewerProfile.country_code == country.upper())
    if status == "active":
        stmt = stmt.where(ReviewerProfile.active.is_(True))
    elif status == "inactive":
        stmt = stmt.where(ReviewerProfile.active.is_(False))
    return stmt.order_by(User.last_name, User.first_name, User.id)


def loads_in_call(call_id: int) -> dict[int, int]:
    """Active assignments per reviewer in a call (their load)."""
    rows = db.session.execute(
        select(ReviewAssignment.reviewer_id, func.count(ReviewAssignment.id))
        .where(ReviewAssignment.call_id == call_id, ReviewAssignment.status.in_(list(_ACTIVE)))
        .group_by(ReviewAssignment.reviewer_id)
    ).all()
    return {reviewer_id: count for reviewer_id, count in rows}


_ACTIVE = (AssignmentStatus.PROPOSED, AssignmentStatus.INVITED, AssignmentStatus.ACCEPTED)
_SENT = (AssignmentStatus.INVITED, AssignmentStatus.ACCEPTED)


# --- conflicts -----------------------------------------------------------------------------------


def institution_domains(ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = db.session.execute(
        select(Institution.id, Institution.email_domain).where(Institution.id.in_(sorted(wanted)))
    )
    return {i: d or "" for i, d in rows}


def reviewer_facts(
    profile: ReviewerProfile, domains: Mapping[int, str] | None = None
) -> conflict_rules.ReviewerFacts:
    user = profile.user
    domains = domains if domains is not None else institution_domains([profile.institution_id])
    return conflict_rules.ReviewerFacts(
        email=user.email,
        first_name=user.first_name,
        last_name=user.last_name,
        institution_id=profile.institution_id,
        institution_name=profile.institution_name,
        institution_domain=domains.get(profile.institution_id, "") if profile.institution_id else "",
        unit_code=profile.unit_code,
    )


def proposal_facts(
    proposal: Proposal, domains: Mapping[int, str] | None = None
) -> conflict_rules.ProposalFacts:
    domains = (
        domains if domains is not None else institution_domains(t.institution_id for t in proposal.teams)
    )
    coordinator = proposal.coordinator
    return conflict_rules.ProposalFacts(
        teams=tuple(
            conflict_rules.TeamFacts(
                t.leader_name,
                t.leader_email,
                t.institution_id,
                t.institution_name,
                domains.get(t.institution_id, "") if t.institution_id else "",
                t.unit_code,
            )
            for t in proposal.teams
        ),
        people_emails=tuple(
            e for e in (coordinator.email if coordinator else "", proposal.co_coordinator_email) if e
        ),
        people_names=tuple(
            n for n in (coordinator.full_name if coordinator else "", proposal.co_coordinator_name) if n
        ),
        texts=(proposal.history, proposal.programme),
    )


DETECTED_MESSAGES = {
    conflict_rules.DetectedReason.SAME_INSTITUTION: _l("Same institution as a team (%(detail)s)."),
    conflict_rules.DetectedReason.SAME_EMAIL_DOMAIN: _l("Same e-mail domain as a team (%(detail)s)."),
    conflict_rules.DetectedReason.NAMED_IN_PROPOSAL: _l("Named in the proposal (%(detail)s)."),
}


def detected_message(conflict: conflict_rules.DetectedConflict) -> str:
    return str(DETECTED_MESSAGES[conflict.reason]) % {"detail": conflict.detail}


def detected_conflicts(profile: ReviewerProfile, proposal: Proposal) -> list[conflict_rules.DetectedConflict]:
    return conflict_rules.detect_conflicts(reviewer_facts(profile), proposal_facts(proposal))


def declared_conflicts(proposal_ids: Iterable[int]) -> dict[tuple[int, int], ConflictDeclaration]:
    ids = list(proposal_ids)
    if not ids:
        return {}
    rows = db.session.scalars(select(ConflictDeclaration).where(ConflictDeclaration.proposal_id.in_(ids)))
    return {(d.proposal_id, d.reviewer_id): d for d in rows}


def is_applicant_on(user: User, proposal: Proposal) -> bool:
    """A reviewer is never an applicant on what they review (DOMAIN.md section 2)."""
    emails = {proposal.co_coordinator_email.lower()} | {t.leader_email.lower() for t in proposal.teams}
    return (
        proposal.coordinator_id == user.id
        or proposal.co_coordinator_id == user.id
        or user.email.lower() in emails
    )


# --- assignment ----------------------------------------------------------------------------------


def assignments_of(proposal: Proposal) -> list[ReviewAssignment]:
    return list(
        db.session.scalars(
            select(ReviewAssignment)
            .where(ReviewAssignment.proposal_id == proposal.id)
            .order_by(ReviewAssignment.id)
        )
    )


def _record_assignment(actor, action: str, assignment: ReviewAssignment, before=None, **after) -> None:
    record(
        actor,
        action,
        assignment,
        before=before,
        after={
            "status": str(assignment.status),
            "proposal_id": assignment.proposal_id,
            "reviewer_id": assignment.reviewer_id,
            **after,
        },
    )


def _move_assignment(assignment: ReviewAssignment, action: AssignmentAction, role: Role) -> AssignmentStatus:
    try:
        return next_assignment_status(assignment.status, action, role)
    except TransitionRefused as exc:
        raise _refusal(exc) from None


def add_assignment(
    proposal: Proposal,
    reviewer: User,
    actor: User,
    *,
    due_at: datetime | None = None,
    source: str = "manual",
    override_detection: bool = False,
    expertise: Decimal | None = None,
) -> ReviewAssignment:
    """Propose ``reviewer`` for ``proposal`` (a preview row until the manager sends it)."""
    if proposal.state not in REVIEW_STATES:
        raise AssessmentRefused(_l("Reviewers are assigned to eligible proposals under review only."))
    profile = profile_of(reviewer)
    if profile is None or not reviewer.has_role(Role.REVIEWER) or reviewer.is_disabled:
        raise AssessmentRefused(_l("This person is not in the reviewer pool."))
    if not profile.active:
        raise AssessmentRefused(_l("This reviewer is marked inactive in the pool."))
    if is_applicant_on(reviewer, proposal):
        raise AssessmentRefused(_l("This person is an applicant on the proposal."))
    declaration = declared_conflicts([proposal.id]).get((proposal.id, reviewer.id))
    if declaration is not None and declaration.is_conflict:
        raise AssessmentRefused(_l("This reviewer declared a conflict of interest on this proposal."))
    detected = detected_conflicts(profile, proposal)
    if detected and not override_detection:
        raise AssessmentRefused(
            [_l("Possible conflict of interest detected:")] + [detected_message(d) for d in detected]
        )
    existing = db.session.scalar(
        select(ReviewAssignment).where(
            ReviewAssignment.proposal_id == proposal.id, ReviewAssignment.reviewer_id == reviewer.id
        )
    )
    if existing is not None and existing.is_active:
        raise AssessmentRefused(_l("This reviewer is already on the proposal."))
    load = loads_in_call(proposal.call_id).get(reviewer.id, 0)
    if load >= profile.max_load:
        raise AssessmentRefused(
            _l("This reviewer has reached their load cap in this call (%(n)d proposals).", n=profile.max_load)
        )
    if expertise is None:
        expertise = Decimal(
            str(
                round(
                    float(keyword_match(parse_keywords(proposal.keywords), parse_keywords(profile.keywords))),
                    3,
                )
            )
        )
    if existing is not None:
        before = {"status": str(existing.status)}
        existing.status = _move_assignment(existing, AssignmentAction.REINSTATE, Role.MANAGER)
        assignment = existing
        assignment.removed_at = None
        assignment.removed_reason = ""
        assignment.decline_reason = ""
        assignment.responded_at = None
        assignment.invited_at = None
    else:
        before = None
        assignment = ReviewAssignment(
            proposal_id=proposal.id,
            call_id=proposal.call_id,
            reviewer_id=reviewer.id,
            status=AssignmentStatus.PROPOSED,
        )
        db.session.add(assignment)
    assignment.source = source
    assignment.due_at = due_at
    assignment.assigned_by_id = actor.id
    assignment.expertise_match = expertise
    db.session.flush()
    _record_assignment(
        actor,
        "assignment.proposed",
        assignment,
        before=before,
        source=source,
        detected_overridden=[d.message for d in detected] if detected else None,
    )
    return assignment


def networkx_solver(demands, edges):
    """The solver `workflows.assignment` needs: networkx's network simplex (exact on integers)."""
    import networkx as nx

    graph = nx.MultiDiGraph()
    for node, demand in demands.items():
        graph.add_node(node, demand=demand)
    keys = [graph.add_edge(u, v, capacity=c, weight=w) for u, v, c, w in edges]
    _, flow = nx.network_simplex(graph)
    return [flow[u][v][k] for (u, v, _, _), k in zip(edges, keys, strict=True)]


def proposals_in_review(call: Call) -> list[Proposal]:
    return list(
        db.session.scalars(
            select(Proposal)
            .options(selectinload(Proposal.teams))
            .where(Proposal.call_id == call.id, Proposal.state.in_(list(REVIEW_STATES)))
            .order_by(Proposal.reference)
        )
    )


def active_profiles() -> list[ReviewerProfile]:
    return list(
        db.session.scalars(
            select(ReviewerProfile)
            .join(User, User.id == ReviewerProfile.user_id)
            .join(UserRole, UserRole.user_id == User.id)
            .where(
                ReviewerProfile.active.is_(True), User.disabled_at.is_(None), UserRole.role == Role.REVIEWER
            )
            .order_by(ReviewerProfile.id)
        ).unique()
    )


@dataclass
class AssignmentPlan:
    """The problem of a call as the page and the solver see it."""

    problem: AssignmentProblem
    proposals: dict[int, Proposal]
    profiles: dict[int, ReviewerProfile]  # by user id
    detected: dict[tuple[int, int], list] = field(default_factory=dict)


def assignment_plan(call: Call) -> AssignmentPlan:
    """Needs, capacities and forbidden pairs of a call (reads only)."""
    proposals = proposals_in_review(call)
    profiles = {p.user_id: p for p in active_profiles()}
    loads = loads_in_call(call.id)
    required = max(call.reviewers_per_proposal or 0, 1)
    rows = db.session.scalars(select(ReviewAssignment).where(ReviewAssignment.call_id == call.id)).all()
    by_proposal: dict[int, list[ReviewAssignment]] = {}
    for row in rows:
        by_proposal.setdefault(row.proposal_id, []).append(row)
    declarations = declared_conflicts(p.id for p in proposals)
    domains = institution_domains(
        [p.institution_id for p in profiles.values()] + [t.institution_id for p in proposals for t in p.teams]
    )
    reviewer_facts_of = {uid: reviewer_facts(p, domains) for uid, p in profiles.items()}
    needs, detected_pairs = [], {}
    for proposal in proposals:
        mine = by_proposal.get(proposal.id, [])
        active = [a for a in mine if a.is_active]
        forbidden = {a.reviewer_id for a in mine}  # on it already, declined or removed before
        facts = proposal_facts(proposal, domains)
        for uid, profile in profiles.items():
            declaration = declarations.get((proposal.id, uid))
            if declaration is not None and declaration.is_conflict:
                forbidden.add(uid)
                continue
            found = conflict_rules.detect_conflicts(reviewer_facts_of[uid], facts)
            if found or is_applicant_on(profile.user, proposal):
                forbidden.add(uid)
                detected_pairs[(proposal.id, uid)] = found
        has_external = any(
            profiles.get(a.reviewer_id) is not None and profiles[a.reviewer_id].is_external for a in active
        )
        needs.append(
            ProposalNeed(
                proposal.id,
                max(required - len(active), 0),
                not has_external,
                parse_keywords(proposal.keywords),
                frozenset(forbidden),
            )
        )
    slots = [
        ReviewerSlot(
            uid,
            p.is_external,
            max(p.max_load - loads.get(uid, 0), 0),
            loads.get(uid, 0),
            parse_keywords(p.keywords),
        )
        for uid, p in profiles.items()
    ]
    return AssignmentPlan(
        AssignmentProblem(needs, slots), {p.id: p for p in proposals}, profiles, detected_pairs
    )


def auto_assign(call: Call, actor: User, due_at: datetime) -> AssignmentResult:
    """Compute the optimal assignment of the call and store it as a preview (proposed rows).

    Nothing is sent: the manager reviews the preview, then sends it (`send_proposed`).
    """
    plan = assignment_plan(call)
    result = solve_assignment(plan.problem, networkx_solver)
    for proposal_id, reviewer_id in result.pairs:
        proposal = plan.proposals[proposal_id]
        reviewer = plan.profiles[reviewer_id].user
        add_assignment(
            proposal,
            reviewer,
            actor,
            due_at=due_at,
            source="automatic",
            expertise=Decimal(str(round(float(result.match_of[(proposal_id, reviewer_id)]), 3))),
        )
    record(
        actor,
        "assignment.computed",
        call,
        after={
            "pairs": len(result.pairs),
            "shortfalls": [
                {"proposal_id": s.key, "missing": s.missing, "missing_external": s.missing_external}
                for s in result.shortfalls
            ],
        },
    )
    return result


def proposed_assignments(call: Call) -> list[ReviewAssignment]:
    return list(
        db.session.scalars(
            select(ReviewAssignment)
            .where(ReviewAssignment.call_id == call.id, ReviewAssignment.status == AssignmentStatus.PROPOSED)
            .order_by(ReviewAssignment.id)
        )
    )


def send_proposed(call: Call, actor: User, default_due_at: datetime | None = None) -> int:
    """Send the preview: proposed -> invited, one e-mail per reviewer (no proposal named in it:
    the reviewer first sees the proposal in their queue, where they may declare a conflict)."""
    rows = proposed_assignments(call)
    if not rows:
        raise AssessmentRefused(_l("There is no proposed assignment to send."))
    now = utcnow()
    per_reviewer: dict[int, list[ReviewAssignment]] = {}
    for assignment in rows:
        if assignment.proposal.state not in REVIEW_STATES:
            raise AssessmentRefused(
                _l(
                    "Proposal %(ref)s is no longer under review: remove its proposed reviewers first.",
                    ref=assignment.proposal.reference,
                )
            )
        assignment.status = _move_assignment(assignment, AssignmentAction.SEND, Role.MANAGER)
        assignment.invited_at = now
        assignment.due_at = assignment.due_at or default_due_at or due_at_end_of(default_due_date(now))
        _record_assignment(actor, "assignment.sent", assignment, before={"status": "proposed"})
        per_reviewer.setdefault(assignment.reviewer_id, []).append(assignment)
    for invitations in per_reviewer.values():
        reviewer = invitations[0].reviewer
        queue_mail(
            reviewer.email,
            "review_invitation",
            locale=reviewer.locale,
            user=reviewer,
            call=call,
            count=len(invitations),
            due_at=min(a.due_at for a in invitations),
            link=accounts.external_url(url_for("review.queue")),
        )
    db.session.flush()
    return len(rows)


def discard_proposed(call: Call, actor: User) -> int:
    """Drop the preview: proposed rows never sent are deleted (nothing went out)."""
    rows = proposed_assignments(call)
    for assignment in rows:
        if assignment.invited_at is None and assignment.responded_at is None and assignment.review is None:
            db.session.delete(assignment)
        else:
            assignment.status = AssignmentStatus.REMOVED
            assignment.removed_at = utcnow()
    record(actor, "assignment.preview_discarded", call, after={"count": len(rows)})
    db.session.flush()
    return len(rows)


def remove_assignment(assignment: ReviewAssignment, actor: User, reason: str) -> None:
    """A manager takes a reviewer off a proposal (reassignment starts here)."""
    was = assignment.status
    if was == AssignmentStatus.PROPOSED and assignment.invited_at is None and assignment.review is None:
        _move_assignment(assignment, AssignmentAction.REMOVE, Role.MANAGER)
        _record_assignment(
            actor, "assignment.removed", assignment, before={"status": str(was)}, reason=reason
        )
        db.session.delete(assignment)
        db.session.flush()
        return
    review = assignment.review
    if review is not None and review.is_submitted:
        raise AssessmentRefused(
            _l("This reviewer has submitted their review: reopen it first if it must go.")
        )
    assignment.status = _move_assignment(assignment, AssignmentAction.REMOVE, Role.MANAGER)
    assignment.removed_at = utcnow()
    assignment.removed_reason = (reason or "").strip()
    _record_assignment(actor, "assignment.removed", assignment, before={"status": str(was)}, reason=reason)
    if was in _SENT:
        reviewer = assignment.reviewer
        queue_mail(
            reviewer.email,
            "review_removed",
            locale=reviewer.locale,
            user=reviewer,
            proposal=assignment.proposal,
            link=accounts.external_url(url_for("review.queue")),
        )
    db.session.flush()
    advance_review_state(assignment.proposal)


# --- the reviewer's side -------------------------------------------------------------------------


def _seen_by_reviewer(reviewer_id) -> tuple:
    """The conditions of a reviewer's own invitations and accepted assignments (``reviewer_id``:
    a value, or a bound parameter for a statement built once)."""
    return (
        ReviewAssignment.reviewer_id == reviewer_id,
        ReviewAssignment.status.in_(list(REVIEWER_VISIBLE_STATUSES)),
        Proposal.state.in_(list(READABLE_STATES)),
    )


#: A reviewer's assignments come soonest due first, those without a due date last.
_QUEUE_ORDER = (ReviewAssignment.due_at.is_(None), ReviewAssignment.due_at, ReviewAssignment.id)


def reviewer_assignments_query(user: User):
    """A reviewer's own invitations and accepted assignments: the only ones they ever see."""
    return (
        select(ReviewAssignment)
        .join(Proposal, Proposal.id == ReviewAssignment.proposal_id)
        .options(contains_eager(ReviewAssignment.proposal), selectinload(ReviewAssignment.review))
        .where(*_seen_by_reviewer(user.id))
        .order_by(*_QUEUE_ORDER)
    )


#: The reviewer's queue filters: everything, what is still to do, the submitted reviews.
QUEUE_FILTERS = ("all", "todo", "done")


@cache
def _queue_statement(show: str):
    """One page of a reviewer's queue as plain rows (what the page shows, no entity): the same
    assignments in the same order as `reviewer_assignments_query`, the review's status joined,
    the total counted over the rows. Built once per filter; the reviewer and the page are
    parameters."""
    stmt = (
        select(
            ReviewAssignment.id,
            ReviewAssignment.proposal_id,
            ReviewAssignment.reviewer_id,
            ReviewAssignment.status,
            ReviewAssignment.due_at,
            Proposal.reference,
            Proposal.acronym,
            Proposal.title,
            Call.title_fr.label("call_title_fr"),
            Call.title_en.label("call_title_en"),
            Review.status.label("review_status"),
            func.count().over().label("total"),
        )
        .select_from(ReviewAssignment)
        .join(Proposal, Proposal.id == ReviewAssignment.proposal_id)
        .join(Call, Call.id == Proposal.call_id)
        .outerjoin(Review, Review.assignment_id == ReviewAssignment.id)
        .where(*_seen_by_reviewer(bindparam("reviewer_id")))
    )
    if show == "done":
        stmt = stmt.where(Review.status == ReviewStatus.SUBMITTED)
    elif show == "todo":
        stmt = stmt.where(or_(Review.id.is_(None), Review.status != ReviewStatus.SUBMITTED))
    return (
        stmt.order_by(*_QUEUE_ORDER)
        .limit(bindparam("limit", type_=Integer))
        .offset(bindparam("offset", type_=Integer))
    )


def reviewer_queue(reviewer: User, show: str, page: int, per_page: int) -> tuple[list, int]:
    """One page of the reviewer's queue (rows of `_queue_statement`) and how many there are."""
    stmt = _queue_statement(show if show in QUEUE_FILTERS else "all")
    params = {"reviewer_id": reviewer.id, "limit": per_page, "offset": (page - 1) * per_page}
    rows = db.session.execute(stmt, params).all()
    if not rows and page > 1:  # past the last page: the total from the first row
        rows_first = db.session.execute(stmt, {**params, "limit": 1, "offset": 0}).all()
        return rows, rows_first[0].total if rows_first else 0
    return rows, rows[0].total if rows else 0


@dataclass(frozen=True)
class ReviewerCounts:
    invited: int  # invitations awaiting an answer
    open: int  # accepted assignments whose review is not submitted
    next_due: datetime | None  # the soonest due date among both


def reviewer_counts(reviewer: User) -> ReviewerCounts:
    """The reviewer's dashboard figures, counted by the database (one statement)."""
    invited = ReviewAssignment.status == AssignmentStatus.INVITED
    open_ = (ReviewAssignment.status == AssignmentStatus.ACCEPTED) & (
        Review.id.is_(None) | (Review.status != ReviewStatus.SUBMITTED)
    )
    row = db.session.execute(
        select(
            func.coalesce(func.sum(case((invited, 1), else_=0)), 0),
            func.coalesce(func.sum(case((open_, 1), else_=0)), 0),
            func.min(case((invited | open_, ReviewAssignment.due_at), else_=None)),
        )
        .select_from(ReviewAssignment)
        .join(Proposal, Proposal.id == ReviewAssignment.proposal_id)
        .outerjoin(Review, Review.assignment_id == ReviewAssignment.id)
        .where(*_seen_by_reviewer(reviewer.id))
    ).one()
    return ReviewerCounts(int(row[0]), int(row[1]), row[2])


def queue_stand(row, cleared: set[int]) -> str:
    """Where the reviewer stands on one assignment of the queue: invited, declare (their
    conflicts), todo, draft or submitted."""
    if row.status == AssignmentStatus.INVITED:
        return "invited"
    if row.id not in cleared:
        return "declare"
    if row.review_status is None:
        return "todo"
    return "submitted" if row.review_status == ReviewStatus.SUBMITTED else "draft"


def visible_assignment(user: User, assignment_id: int) -> ReviewAssignment | None:
    """The assignment if it is the user's and visible to them; ``None`` (a 404) otherwise."""
    return db.session.scalar(reviewer_assignments_query(user).where(ReviewAssignment.id == assignment_id))


def declaration_of(assignment: ReviewAssignment) -> ConflictDeclaration | None:
    return db.session.scalar(
        select(ConflictDeclaration).where(
            ConflictDeclaration.proposal_id == assignment.proposal_id,
            ConflictDeclaration.reviewer_id == assignment.reviewer_id,
        )
    )


def cleared_assignment_ids(assignments: Sequence[ReviewAssignment]) -> set[int]:
    """Which of these assignments have their reviewer's "no conflict" declaration (one query)."""
    if not assignments:
        return set()
    pairs = {(a.proposal_id, a.reviewer_id): a.id for a in assignments}
    rows = db.session.execute(
        select(ConflictDeclaration.proposal_id, ConflictDeclaration.reviewer_id).where(
            ConflictDeclaration.proposal_id.in_(sorted({p for p, _ in pairs})),
            ConflictDeclaration.kind == ConflictKind.NONE,
        )
    ).all()
    return {pairs[(p, r)] for p, r in rows if (p, r) in pairs}


def has_declared_no_conflict(assignment: ReviewAssignment) -> bool:
    declaration = declaration_of(assignment)
    return declaration is not None and declaration.kind == ConflictKind.NONE


def accept(assignment: ReviewAssignment, user: User) -> None:
    was = assignment.status
    assignment.status = _move_assignment(assignment, AssignmentAction.ACCEPT, Role.REVIEWER)
    assignment.responded_at = utcnow()
    _record_assignment(user, "assignment.accepted", assignment, before={"status": str(was)})
    db.session.flush()


def _alert_managers(assignment: ReviewAssignment, template: str, **context) -> None:
    manager = assignment.assigned_by
    recipients = (
        [manager]
        if manager is not None and manager.has_role(Role.MANAGER) and not manager.is_disabled
        else _managers()
    )
    for person in recipients:
        queue_mail(
            person.email,
            template,
            locale=person.locale,
            user=person,
            assignment=assignment,
            proposal=assignment.proposal,
            reviewer=assignment.reviewer,
            link=accounts.external_url(
                url_for("manage.proposal_assignment", proposal_id=assignment.proposal_id)
            ),
            **context,
        )


def decline(assignment: ReviewAssignment, user: User, reason: str) -> None:
    was = assignment.status
    assignment.status = _move_assignment(assignment, AssignmentAction.DECLINE, Role.REVIEWER)
    assignment.responded_at = utcnow()
    assignment.decline_reason = (reason or "").strip()
    _record_assignment(user, "assignment.declined", assignment, before={"status": str(was)})
    _alert_managers(assignment, "review_declined", reason=assignment.decline_reason)
    db.session.flush()
    advance_review_state(assignment.proposal)


def declare(assignment: ReviewAssignment, user: User, kind: ConflictKind | str, comment: str = "") -> None:
    """The reviewer's conflict-of-interest declaration, before opening the proposal.

    "No conflict" opens the proposal to them (the assignment must be accepted first). A typed
    conflict removes the assignment at once and alerts the manager; the reviewer never sees the
    proposal again.
    """
    kind = ConflictKind(kind)
    review = assignment.review
    if kind == ConflictKind.NONE and assignment.status == AssignmentStatus.INVITED:
        accept(assignment, user)  # declaring no conflict on an invitation accepts it
    if kind == ConflictKind.NONE and assignment.status != AssignmentStatus.ACCEPTED:
        raise AssessmentRefused(_l("Accept the invitation first."))
    if kind != ConflictKind.NONE and review is not None and review.is_submitted:
        raise AssessmentRefused(
            _l("Your review is already submitted: please write to the programme manager.")
        )
    declaration = declaration_of(assignment)
    before = {"kind": str(declaration.kind)} if declaration is not None else None
    if declaration is not None and declaration.is_conflict:
        raise AssessmentRefused(_l("You already declared a conflict on this proposal."))
    if declaration is None:
        declaration = ConflictDeclaration(proposal_id=assignment.proposal_id, reviewer_id=user.id, kind=kind)
        db.session.add(declaration)
    declaration.kind = kind
    declaration.comment = (comment or "").strip()
    declaration.declared_at = utcnow()
    db.session.flush()
    record(
        user,
        "conflict.declared",
        declaration,
        before=before,
        after={"kind": str(kind), "proposal_id": assignment.proposal_id},
    )
    if kind == ConflictKind.NONE:
        advance_review_state(assignment.proposal)
        return
    was = assignment.status
    assignment.status = _move_assignment(assignment, AssignmentAction.DECLARE_CONFLICT, Role.REVIEWER)
    assignment.removed_at = utcnow()
    assignment.removed_reason = f"conflict declared: {kind}"
    if review is not None:  # a draft written before the conflict was found never counts
        db.session.delete(review)
    _record_assignment(
        user, "assignment.removed_for_conflict", assignment, before={"status": str(was)}, kind=str(kind)
    )
    _alert_managers(assignment, "review_conflict_alert", kind=kind, comment=declaration.comment)
    db.session.flush()
    advance_review_state(assignment.proposal)


def can_edit_review(assignment: ReviewAssignment) -> bool:
    review = assignment.review
    return (
        assignment.status == AssignmentStatus.ACCEPTED
        and assignment.proposal.state in REVIEW_STATES
        and (review is None or not review.is_submitted)
    )


@dataclass
class ReviewData:
    scores: dict[str, int | None]
    comments: dict[str, str]
    for_applicants: str = ""
    confidential: str = ""
    ethics_flag: bool = False
    ethics_comment: str = ""


def _review_snapshot(review: Review) -> dict:
    return {
        "status": str(review.status),
        "scores": {s.criterion_code: s.score for s in sorted(review.scores, key=lambda s: s.criterion_code)},
        "ethics_flag": review.ethics_flag,
    }


def save_review(
    assignment: ReviewAssignment, user: User, data: ReviewData, expected_version: int | None, *, submit: bool
) -> Review:
    """Save a draft, or submit (then locked). Raises `ReviewConflict` when someone saved the
    same review meanwhile, `AssessmentRefused` with the problems when it cannot be submitted."""
    if not has_declared_no_conflict(assignment):
        raise AssessmentRefused(_l("Declare your conflicts of interest first."))
    if not can_edit_review(assignment):
        raise AssessmentRefused(_l("This review is locked: it was submitted, or the review is over."))
    review = assignment.review
    if review is None:
        if expected_version not in (None, 0):
            raise ReviewConflict()
        review = Review(
            assignment=assignment,
            proposal_id=assignment.proposal_id,
            reviewer_id=user.id,
            status=ReviewStatus.DRAFT,
        )
        db.session.add(review)
        before = None
    else:
        if expected_version is not None and review.version_id != expected_version:
            raise ReviewConflict()
        before = _review_snapshot(review)
    grid = assignment.proposal.call.grid()
    existing = {s.criterion_code: s for s in review.scores}
    for criterion in grid.criteria:
        row = existing.get(criterion.code)
        if row is None:
            row = ReviewScore(criterion_code=criterion.code)
            review.scores.append(row)
        row.score = data.scores.get(criterion.code)
        row.comment = (data.comments.get(criterion.code) or "").strip()
    review.comment_for_applicants = (data.for_applicants or "").strip()
    review.confidential_comment = (data.confidential or "").strip()
    review.ethics_flag = bool(data.ethics_flag)
    review.ethics_comment = (data.ethics_comment or "").strip()
    if submit:
        problems = review_problems(
            grid, data.scores, data.comments, data.for_applicants, min_chars=min_comment_chars()
        )
        try:
            review.status = transitions.apply(
                REVIEW_MOVES,
                review.status,
                ReviewAction.SUBMIT,
                Role.REVIEWER,
                ReviewFacts(problems=[p.message for p in problems]),
                subject="review",
            )
        except TransitionRefused:
            raise AssessmentRefused([p.message for p in problems]) from None
        review.submitted_at = utcnow()
    db.session.flush()
    record(
        user,
        "review.submitted" if submit else "review.saved",
        review,
        before=before,
        after=_review_snapshot(review),
    )
    if submit:
        advance_review_state(assignment.proposal)
    return review


def reopen_review(review: Review, actor: User, reason: str) -> None:
    """A manager reopens a submitted review (the reviewer may then change and resubmit it)."""
    reason = (reason or "").strip()
    try:
        status = transitions.apply(
            REVIEW_MOVES,
            review.status,
            ReviewAction.REOPEN,
            Role.MANAGER,
            ReviewFacts(reason=reason),
            subject="review",
        )
    except TransitionRefused as exc:
        raise _refusal(exc) from None
    proposal = review.assignment.proposal
    if proposal.state not in (ProposalState.UNDER_REVIEW, ProposalState.REVIEWED):
        raise AssessmentRefused(_l("The reviews of this proposal can no longer be reopened."))
    before = _review_snapshot(review)
    review.status = status
    review.reopened_at = utcnow()
    review.reopened_by_id = actor.id
    review.reopen_reason = reason
    db.session.flush()
    record(
        actor, "review.reopened", review, before=before, after={**_review_snapshot(review), "reason": reason}
    )
    reviewer = review.assignment.reviewer
    queue_mail(
        reviewer.email,
        "review_reopened",
        locale=reviewer.locale,
        user=reviewer,
        proposal=proposal,
        reason=reason,
        link=accounts.external_url(url_for("review.score", assignment_id=review.assignment_id)),
    )
    if proposal.state == ProposalState.REVIEWED:
        apply_transition(
            proposal,
            MOVES,
            ProposalAction.REOPEN_REVIEW,
            role=Role.MANAGER,
            facts=review_progress(proposal),
            actor=actor,
            details={"review_id": review.id},
        )


# --- the proposal's review progress ----------------------------------------------------------------


def review_progress(proposal: Proposal) -> ProposalFacts:
    """The review facts of the proposal state machine, derived from the assignments."""
    rows = db.session.scalars(
        select(ReviewAssignment).where(
            ReviewAssignment.proposal_id == proposal.id, ReviewAssignment.status.in_(list(_SENT))
        )
    ).all()
    declarations = declared_conflicts([proposal.id])
    cleared = [
        a
        for a in rows
        if (d := declarations.get((proposal.id, a.reviewer_id))) is not None
        and d.kind == ConflictKind.NONE
        and a.status == AssignmentStatus.ACCEPTED
    ]
    submitted = [a for a in cleared if a.review is not None and a.review.is_submitted]
    required = max(proposal.call.reviewers_per_proposal or 0, 1)
    missing = (len(rows) - len(submitted)) + max(required - len(rows), 0)
    return ProposalFacts(
        now=utcnow(),
        reviewers_assigned=len(rows),
        reviewers_required=required,
        conflicts_pending=len(rows) - len(cleared),
        reviews_missing=missing,
    )


def advance_review_state(proposal: Proposal) -> ProposalState:
    """Take the automatic steps the review progress allows.

    eligible -> under_review once the call's number of reviewers have accepted and declared no
    conflict. `workflows.proposal_states` gives this move to the manager: it is the manager's
    assignment, carried out when its condition is met, so it is recorded under the manager who
    made the assignment (the audit row says it was automatic). under_review -> reviewed when
    every review is in, by the platform itself (role "system").
    """
    facts = review_progress(proposal)
    if proposal.state == ProposalState.ELIGIBLE and can_move(
        proposal.state, ProposalAction.START_REVIEW, Role.MANAGER, facts
    ):
        assigner = db.session.scalar(
            select(User)
            .join(ReviewAssignment, ReviewAssignment.assigned_by_id == User.id)
            .where(ReviewAssignment.proposal_id == proposal.id, ReviewAssignment.status.in_(list(_SENT)))
            .order_by(ReviewAssignment.invited_at.desc(), ReviewAssignment.id.desc())
            .limit(1)
        )
        apply_transition(
            proposal,
            MOVES,
            ProposalAction.START_REVIEW,
            role=Role.MANAGER,
            facts=facts,
            actor=assigner,
            details={"automatic": "reviewers assigned, conflicts cleared"},
        )
    if proposal.state == ProposalState.UNDER_REVIEW and can_move(
        proposal.state, ProposalAction.COMPLETE_REVIEW, Role.SYSTEM, facts
    ):
        apply_transition(
            proposal,
            MOVES,
            ProposalAction.COMPLETE_REVIEW,
            role=Role.SYSTEM,
            facts=facts,
            actor=None,
            details={"automatic": "all reviews submitted"},
        )
    return proposal.state


# --- reminders -------------------------------------------------------------------------------------


def send_review_reminders(now: datetime | None = None, days: Sequence[int] = REMINDER_DAYS) -> int:
    """E-mail the reviewers whose review is due in one of ``days`` days (Paris calendar).

    Idempotent per assignment and day: a `ReviewReminder` row (unique per assignment and day)
    is written with the message, so running the job twice a day sends nothing more. Only
    invited and accepted assignments count: a reviewer who declared a conflict (removed) or
    declined is never reminded of the proposal.
    """
    now = now or utcnow()
    today = paris_date(now)
    wanted = set(days)
    rows = db.session.scalars(
        select(ReviewAssignment)
        .join(Proposal, Proposal.id == ReviewAssignment.proposal_id)
        .where(
            ReviewAssignment.status.in_(list(_SENT)),
            ReviewAssignment.due_at.is_not(None),
            ReviewAssignment.due_at >= now,
            Proposal.state.in_(list(REVIEW_STATES)),
        )
        .order_by(ReviewAssignment.id)
    ).all()
    sent = 0
    for assignment in rows:
        if assignment.review is not None and assignment.review.is_submitted:
            continue
        days_left = (paris_date(assignment.due_at) - today).days
        if days_left not in wanted:
            continue
        already = db.session.scalar(
            select(ReviewReminder.id).where(
                ReviewReminder.assignment_id == assignment.id, ReviewReminder.sent_on == today
            )
        )
        if already is not None:
            continue
        try:
            with db.session.begin_nested():
                db.session.add(ReviewReminder(assignment_id=assignment.id, sent_on=today))
                db.session.flush()
        except IntegrityError:  # another run got there first
            continue
        reviewer = assignment.reviewer
        queue_mail(
            reviewer.email,
            "review_reminder",
            locale=reviewer.locale,
            user=reviewer,
            call=assignment.proposal.call,
            due_at=assignment.due_at,
            days_left=days_left,
            invited=assignment.status == AssignmentStatus.INVITED,
            link=accounts.external_url(url_for("review.queue")),
        )
        sent += 1
    db.session.flush()
    return sent


def reviewer_assignment_for(user: User, proposal: Proposal) -> ReviewAssignment | None:
    """The user's visible assignment on ``proposal`` (``None`` when they have none)."""
    return db.session.scalar(
        reviewer_assignments_query(user).where(ReviewAssignment.proposal_id == proposal.id)
    )
