"""The awarded structure's life and its annual grant cycle (DOMAIN.md section 6).

Two tables on the shared engine of `workflows.transitions`:

- `MOVES` for the structure (LEA/LIA, GDRE/GDRI, UME/UMI) from agreement to closure;
- `GRANT_MOVES` for one year's grant: notified -> report due -> report approved -> released
  (the next year's instalment has been released on the strength of the approved report).

One addition to the domain sketch: ``start_new_mandate`` (renewed -> active), because a renewal
is a new mandate by amendment and the structure must run its grants again once the amendment is
signed; without it ``renewed`` would be a dead end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from workflows import transitions
from workflows.errors import RuleError
from workflows.instruments import Instrument, rules_for
from workflows.roles import Role
from workflows.timeutils import ensure_aware, paris_date, utcnow
from workflows.transitions import Move, move


class StructureState(StrEnum):
    """Where an awarded structure stands."""

    AGREEMENT_PENDING = "agreement_pending"
    ACTIVE = "active"
    FINAL_REPORT_DUE = "final_report_due"
    ENDED = "ended"
    RENEWAL_REQUESTED = "renewal_requested"
    RENEWED = "renewed"
    CLOSED = "closed"
    TERMINATED_EARLY = "terminated_early"


class StructureAction(StrEnum):
    """Something a role does to an awarded structure."""

    SIGN_ALL = "sign_all"
    REQUEST_FINAL_REPORT = "request_final_report"
    END = "end"
    REQUEST_RENEWAL = "request_renewal"
    RENEW = "renew"
    START_NEW_MANDATE = "start_new_mandate"
    CLOSE = "close"
    TERMINATE = "terminate"


@dataclass(frozen=True)
class StructureFacts:
    """What the structure guards need, gathered by the web layer.

    - ``parties_total`` / ``parties_signed``: signatures of the agreement (or of the renewal
      amendment, for ``start_new_mandate``).
    - ``mandate_ends_on``: last day of the current mandate (Paris calendar day).
    - ``final_report_approved``: the final report of the mandate has been approved.
    - ``instrument`` / ``renewals_used`` / ``max_renewals``: the renewal limit is
      ``max_renewals`` when set (the agreement's own figure), else the instrument's default.
    - ``reason``: the justification typed by the person acting (early termination).
    """

    now: datetime = field(default_factory=utcnow)
    parties_total: int = 0
    parties_signed: int = 0
    mandate_ends_on: date | None = None
    final_report_approved: bool = False
    instrument: Instrument | None = None
    renewals_used: int = 0
    max_renewals: int | None = None
    reason: str | None = None

    def __post_init__(self) -> None:
        ensure_aware(self.now, "now")


def _all_signed(facts: StructureFacts) -> str | None:
    if facts.parties_total < 2:
        return "an agreement needs at least two parties"
    if facts.parties_signed < facts.parties_total:
        return f"signed by {facts.parties_signed} of {facts.parties_total} parties"
    return None


def _mandate_end_reached(facts: StructureFacts) -> str | None:
    if facts.mandate_ends_on is None:
        return "the mandate's end date is not set"
    if paris_date(facts.now) < facts.mandate_ends_on:
        return f"the mandate runs until {facts.mandate_ends_on.isoformat()}"
    return None


def _final_report_approved(facts: StructureFacts) -> str | None:
    if not facts.final_report_approved:
        return "the final report has not been approved"
    return None


def renewal_limit(facts: StructureFacts) -> int:
    """How many renewals this structure may have: its agreement's figure, else the default."""
    if facts.max_renewals is not None:
        return facts.max_renewals
    if facts.instrument is None:
        raise RuleError("The instrument is needed to know how many renewals are allowed.")
    return rules_for(facts.instrument).max_renewals


def _renewal_left(facts: StructureFacts) -> str | None:
    # renewals_used counts renewals already granted; the web layer adds one after ``renew``.
    if facts.max_renewals is None and facts.instrument is None:
        return "the instrument is needed to know how many renewals are allowed"
    limit = renewal_limit(facts)
    if facts.renewals_used >= limit:
        return f"no renewal left ({facts.renewals_used} of {limit} used)"
    return None


def _reason_given(facts: StructureFacts) -> str | None:
    if not (facts.reason or "").strip():
        return "a reason is required"
    return None


St = StructureState
SA = StructureAction

MOVES: dict[tuple[StructureAction, StructureState], Move[StructureState]] = {
    # Manager records the signed agreement; the platform does it when e-signatures complete.
    (SA.SIGN_ALL, St.AGREEMENT_PENDING): move(St.ACTIVE, {Role.MANAGER, Role.SYSTEM}, _all_signed),
    (SA.REQUEST_FINAL_REPORT, St.ACTIVE): move(
        St.FINAL_REPORT_DUE, {Role.MANAGER, Role.SYSTEM}, _mandate_end_reached
    ),
    (SA.END, St.FINAL_REPORT_DUE): move(St.ENDED, {Role.MANAGER}, _final_report_approved),
    # The coordinator asks; the Directorate-General decides after evaluation.
    (SA.REQUEST_RENEWAL, St.ENDED): move(St.RENEWAL_REQUESTED, {Role.APPLICANT}, _renewal_left),
    (SA.RENEW, St.RENEWAL_REQUESTED): move(St.RENEWED, {Role.DIRECTORATE}, _renewal_left),
    (SA.START_NEW_MANDATE, St.RENEWED): move(St.ACTIVE, {Role.MANAGER, Role.SYSTEM}, _all_signed),
    # Closing an ended structure is routine; refusing a requested renewal is the DG's decision.
    (SA.CLOSE, St.ENDED): move(St.CLOSED, {Role.MANAGER, Role.DIRECTORATE}),
    (SA.CLOSE, St.RENEWAL_REQUESTED): move(St.CLOSED, {Role.DIRECTORATE}),
    (SA.TERMINATE, St.ACTIVE): move(St.TERMINATED_EARLY, {Role.DIRECTORATE}, _reason_given),
}

TERMINAL_STATES: frozenset[StructureState] = frozenset({St.CLOSED, St.TERMINATED_EARLY})


def next_state(
    state: StructureState | str,
    action: StructureAction | str,
    role: Role | str,
    facts: StructureFacts,
) -> StructureState:
    """The structure's state after the move; raises `TransitionRefused` with the reason."""
    return transitions.apply(MOVES, state, action, role, facts, subject="structure")


def available_actions(
    state: StructureState | str, role: Role | str, facts: StructureFacts
) -> list[StructureAction]:
    """The structure actions ``role`` may take now."""
    return transitions.available(MOVES, state, role, facts)


def can_move(
    state: StructureState | str,
    action: StructureAction | str,
    role: Role | str,
    facts: StructureFacts,
) -> bool:
    """Whether the structure move would succeed."""
    return transitions.refusal(MOVES, state, action, role, facts) is None


# --- The annual grant cycle -------------------------------------------------------------------


class GrantState(StrEnum):
    """Where one year's grant stands."""

    NOTIFIED = "notified"
    REPORT_DUE = "report_due"
    REPORT_APPROVED = "report_approved"
    RELEASED = "released"


class GrantAction(StrEnum):
    """Something a role does to one year's grant."""

    REQUEST_REPORT = "request_report"
    APPROVE_REPORT = "approve_report"
    RELEASE_NEXT = "release_next"


@dataclass(frozen=True)
class GrantFacts:
    """What the grant guards need.

    - ``year``: the fiscal year the grant covers (credits are annual, not carried over).
    - ``report_received``: the annual report for ``year`` has been received.
    - ``last_year``: the mandate's last grant year (``None``: not known, so nothing follows).
    """

    year: int
    now: datetime = field(default_factory=utcnow)
    report_received: bool = False
    last_year: int | None = None

    def __post_init__(self) -> None:
        ensure_aware(self.now, "now")


def first_grant_year(decision_date: date | datetime) -> int:
    """The first grant comes in the fiscal year after the decision (DOMAIN.md section 6).

    An aware datetime is read on the Paris calendar (a decision at 00:30 Paris time on
    1 January belongs to the new year even though it is still 31 December in UTC).
    """
    if isinstance(decision_date, datetime):
        decision_date = paris_date(decision_date)
    return decision_date.year + 1


def report_due_date(year: int) -> date:
    """The annual report for year ``n`` is due on 31 January of year ``n + 1`` [default]."""
    return date(year + 1, 1, 31)


def report_overdue(year: int, now: datetime) -> bool:
    """Whether the report for ``year`` is late: after its due day, on the Paris calendar."""
    return paris_date(now) > report_due_date(year)


def grant_notification_problems(
    year: int,
    decision_date: date | datetime,
    previous_state: GrantState | str | None,
    last_year: int | None = None,
) -> list[str]:
    """Why a grant for ``year`` may not be notified yet (empty list: it may).

    The first grant is for the fiscal year after the decision; each next one only once the
    previous year's report is approved (previous grant ``report_approved`` or ``released``).
    """
    problems: list[str] = []
    first = first_grant_year(decision_date)
    if year < first:
        problems.append(f"The first grant is for {first}, the year after the decision.")
    if last_year is not None and year > last_year:
        problems.append(f"The mandate's last grant year is {last_year}.")
    if year > first:
        ok = {GrantState.REPORT_APPROVED, GrantState.RELEASED}
        if previous_state is None:
            problems.append(f"There is no grant for {year - 1} to follow.")
        elif GrantState(previous_state) not in ok:
            problems.append(f"The report for {year - 1} has not been approved yet.")
    return problems


def _year_over(facts: GrantFacts) -> str | None:
    if paris_date(facts.now).year <= facts.year:
        return f"the year {facts.year} is not over"
    return None


def _report_received(facts: GrantFacts) -> str | None:
    if not facts.report_received:
        return f"the report for {facts.year} has not been received"
    return None


def _next_year_in_mandate(facts: GrantFacts) -> str | None:
    if facts.last_year is None or facts.year >= facts.last_year:
        return f"no grant follows {facts.year} in this mandate"
    return None


G = GrantState
GA = GrantAction

GRANT_MOVES: dict[tuple[GrantAction, GrantState], Move[GrantState]] = {
    (GA.REQUEST_REPORT, G.NOTIFIED): move(G.REPORT_DUE, {Role.MANAGER, Role.SYSTEM}, _year_over),
    (GA.APPROVE_REPORT, G.REPORT_DUE): move(G.REPORT_APPROVED, {Role.MANAGER}, _report_received),
    (GA.RELEASE_NEXT, G.REPORT_APPROVED): move(
        G.RELEASED, {Role.MANAGER, Role.SYSTEM}, _next_year_in_mandate
    ),
}


def next_grant_state(
    state: GrantState | str,
    action: GrantAction | str,
    role: Role | str,
    facts: GrantFacts,
) -> GrantState:
    """The grant's state after the move; raises `TransitionRefused` with the reason."""
    return transitions.apply(GRANT_MOVES, state, action, role, facts, subject="annual grant")


def available_grant_actions(
    state: GrantState | str, role: Role | str, facts: GrantFacts
) -> list[GrantAction]:
    """The grant actions ``role`` may take now."""
    return transitions.available(GRANT_MOVES, state, role, facts)


def can_move_grant(
    state: GrantState | str,
    action: GrantAction | str,
    role: Role | str,
    facts: GrantFacts,
) -> bool:
    """Whether the grant move would succeed."""
    return transitions.refusal(GRANT_MOVES, state, action, role, facts) is None
