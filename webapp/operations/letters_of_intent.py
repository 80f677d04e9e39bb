"""Two-stage calls: the programme manager shortlists letters of intent or turns them down.

A shortlisted letter's applicants are invited by e-mail to write the full proposal (on the same
record: `operations.submission.start_full_proposal`); the others are told why. The rule of when a
letter may be decided is `workflows.submission.loi_outcome_problems`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from webapp.extensions import db
from webapp.models import Proposal, User, utcnow
from webapp.models.calls import Call
from webapp.operations.accounts import external_url
from webapp.operations.transitions import Mail, apply_transition
from webapp.templating import paris_datetime
from workflows.errors import TransitionRefused
from workflows.proposal_states import MOVES, STAGE_LOI, ProposalAction, ProposalFacts, ProposalState
from workflows.roles import Role
from workflows.submission import MIN_LOI_REASON_CHARS, loi_outcome_problems

#: The list's filters: what a programme manager looks for in a call's letters.
FILTERS = ("pending", "shortlisted", "not_shortlisted")
#: The states of a letter that is still a letter (a shortlisted one whose applicants started the
#: full proposal becomes a full-stage draft on the same record, and stays in "shortlisted").
LETTER_STATES = (ProposalState.LOI_SUBMITTED, ProposalState.LOI_SHORTLISTED, ProposalState.LOI_REJECTED)


def _where(state: str):
    pending = (Proposal.stage == STAGE_LOI) & (Proposal.state == ProposalState.LOI_SUBMITTED)
    shortlisted = Proposal.loi_decided_at.is_not(None) & (Proposal.state != ProposalState.LOI_REJECTED)
    turned_down = Proposal.state == ProposalState.LOI_REJECTED
    return {"pending": pending, "shortlisted": shortlisted, "not_shortlisted": turned_down}.get(
        state, pending | shortlisted | turned_down
    )


MESSAGES = {
    "loi_not_pending": _l("Only a submitted letter of intent awaiting its outcome can be decided."),
    "loi_stage_open": _l(
        "Letters of intent are decided once their deadline has passed (%(deadline)s): until then "
        "applicants may still send or take back theirs."
    ),
    "full_deadline_passed": _l(
        "The full-proposal deadline (%(deadline)s) has passed: nobody can be invited any more."
    ),
    "loi_reason_short": _l("Give the applicants a reason of at least %(min_chars)s characters."),
}


class LetterRefused(Exception):
    def __init__(self, *messages: str):
        super().__init__(*messages)
        self.messages = [str(m) for m in messages]


def _message(problem) -> str:
    params = {k: paris_datetime(v, "d MMMM y, HH:mm") if isinstance(v, datetime) else v
              for k, v in problem.params.items()}
    return str(MESSAGES.get(problem.code, problem.message)) % params


def letters_query(call: Call, state: str = "pending", q: str = ""):
    """The call's letters of intent, filtered by outcome and searched by reference, title,
    acronym or coordinator's name."""
    stmt = (
        select(Proposal)
        .where(Proposal.call_id == call.id, Proposal.submitted_at.is_not(None), _where(state))
        .options(selectinload(Proposal.teams))
        .order_by(Proposal.reference)
    )
    q = (q or "").strip()[:100]
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.join(User, User.id == Proposal.coordinator_id).where(
            func.lower(Proposal.reference).like(like)
            | func.lower(Proposal.title).like(like)
            | func.lower(Proposal.acronym).like(like)
            | func.lower(User.last_name).like(like)
        )
    return stmt


def counts(call: Call) -> dict[str, int]:
    """How many letters each filter holds (the tabs' badges): one query."""
    row = db.session.execute(
        select(
            *(func.count().filter(_where(name)).label(name) for name in FILTERS)
        ).where(Proposal.call_id == call.id, Proposal.submitted_at.is_not(None))
    ).one()
    return dict(row._mapping)


def letter_or_none(call_id: int | None, proposal_id: int) -> Proposal | None:
    """A letter of intent a programme manager may decide or read (``None``: 404)."""
    proposal = db.session.get(Proposal, proposal_id)
    if (
        proposal is None
        or proposal.stage != STAGE_LOI
        or proposal.submitted_at is None
        or ProposalState(proposal.state) not in LETTER_STATES
        or (call_id is not None and proposal.call_id != call_id)
    ):
        return None
    return proposal


def _recipients(proposal: Proposal) -> list[User]:
    people = [proposal.coordinator, proposal.co_coordinator]
    return [p for p in people if p is not None and not p.is_disabled]


def _decide(proposal: Proposal, actor: User, *, shortlist: bool, text: str, now: datetime | None) -> None:
    now = now or utcnow()
    call = proposal.call
    text = (text or "").replace("\r\n", "\n").strip()
    problems = loi_outcome_problems(
        now,
        shortlist=shortlist,
        state=proposal.state,
        stage=proposal.stage,
        loi_deadline_at=call.loi_deadline_at,
        closes_at=call.closes_at,
        grace=call.grace,
        reason=text,
    )
    if problems:
        raise LetterRefused(*(_message(p) for p in problems))
    link = external_url(url_for("applicant.proposal", proposal_id=proposal.id))
    template = "loi_shortlisted" if shortlist else "loi_not_shortlisted"
    try:
        apply_transition(
            proposal,
            MOVES,
            ProposalAction.SHORTLIST_LOI if shortlist else ProposalAction.REJECT_LOI,
            role=Role.MANAGER,
            facts=ProposalFacts(now=now, reason=text or None, stage=STAGE_LOI, two_stage=True),
            actor=actor,
            details={"feedback": text} if text else None,
            mails=[
                Mail(
                    template,
                    to=user.email,
                    locale=user.locale,
                    context={
                        "proposal": proposal,
                        "user": user,
                        "feedback": text,
                        "deadline": call.closes_at,
                        "link": link,
                    },
                )
                for user in _recipients(proposal)
            ],
        )
    except TransitionRefused:
        raise LetterRefused(MESSAGES["loi_not_pending"]) from None
    proposal.loi_feedback = text
    proposal.loi_decided_at = now
    proposal.loi_decided_by_id = actor.id
    db.session.flush()


def shortlist(proposal: Proposal, actor: User, message: str = "", now: datetime | None = None) -> None:
    """loi_submitted -> loi_shortlisted; the applicants are invited to the full proposal."""
    _decide(proposal, actor, shortlist=True, text=message, now=now)


def turn_down(proposal: Proposal, actor: User, reason: str, now: datetime | None = None) -> None:
    """loi_submitted -> loi_rejected; the applicants are told why."""
    _decide(proposal, actor, shortlist=False, text=reason, now=now)


def bulk_shortlist(call: Call, proposal_ids: Sequence[int], actor: User) -> tuple[int, list[str]]:
    """Shortlist the chosen letters of ``call``: how many were, and why the others were not."""
    letters = db.session.scalars(
        select(Proposal)
        .where(Proposal.call_id == call.id, Proposal.id.in_(list(proposal_ids)))
        .order_by(Proposal.reference)
    ).all()
    done, refused = 0, []
    now = utcnow()
    for proposal in letters:
        try:
            with db.session.begin_nested():
                shortlist(proposal, actor, now=now)
        except LetterRefused as exc:
            refused.append(f"{proposal.reference}: {'; '.join(exc.messages)}")
        else:
            done += 1
    return done, refused


__all__ = [
    "FILTERS",
    "MIN_LOI_REASON_CHARS",
    "LetterRefused",
    "bulk_shortlist",
    "counts",
    "letter_or_none",
    "letters_query",
    "shortlist",
    "turn_down",
]
