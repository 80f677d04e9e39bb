"""Who may do what: one predicate per question, used by views and templates alike.

Missing objects and objects the user may not see both answer 404, so ids cannot be probed;
403 is for what the user can see but not do.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_login import current_user
from werkzeug.exceptions import Forbidden

from workflows.roles import Role


class Refused(Forbidden):
    """A 403 whose message is meant for the user."""

    def __init__(self, user_message: str):
        super().__init__(user_message)
        self.user_message = user_message


def require(allowed: bool, message: str | None = None) -> None:
    if not allowed:
        if message:
            raise Refused(message)
        abort(403)


def has_role(user, *roles: Role) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.has_role(*roles)


def can_administer(user) -> bool:
    return has_role(user, Role.ADMIN)


def can_manage_programme(user) -> bool:
    return has_role(user, Role.MANAGER, Role.ADMIN)


def can_view_outbox(user) -> bool:
    return can_administer(user)


# --- calls and the cooperation-agreement registry ---


def can_edit_calls(user) -> bool:
    """Write, publish and maintain calls: programme managers and administrators."""
    return has_role(user, Role.MANAGER, Role.ADMIN)


def can_manage_agreements(user) -> bool:
    """Keep the cooperation-agreement registry (and its themes)."""
    return has_role(user, Role.MANAGER, Role.ADMIN)


def can_view_call(user, call) -> bool:
    """Published calls are public; drafts are seen by those who edit calls."""
    return call.is_published or can_edit_calls(user)


def can_publish_call(user, call) -> bool:
    return can_edit_calls(user) and not call.is_published


def can_unpublish_call(user, call) -> bool:
    return can_edit_calls(user) and call.is_published and not call.has_submissions


def can_extend_deadline(user, call) -> bool:
    return can_edit_calls(user) and call.is_published and not call.is_rolling


def can_edit_grid(user, call) -> bool:
    """The grid is frozen once the first proposal is submitted."""
    return can_edit_calls(user) and not call.has_submissions


# --- proposals: the applicant's workspace (submission) ---


def _submission():
    from webapp.operations import submission

    return submission


def _coordinates(user, proposal) -> bool:
    return proposal.is_coordinated_by(user) or proposal.is_co_coordinated_by(user)


def can_start_proposal(user, call) -> bool:
    """An applicant, on a published call open to new proposals (or letters of intent)."""
    return _submission().can_start(user, call) is None


def can_view_proposal(user, proposal) -> bool:
    """The coordinator, the co-coordinator who joined, and the invited co-coordinator (who
    sees it before joining). Anyone else gets 404, as for a proposal that does not exist."""
    if not getattr(user, "is_authenticated", False):
        return False
    return _coordinates(user, proposal) or _submission().is_invited(user, proposal)


def request_arrival():
    """When the request arrived (deadlines are judged on arrival, not on when a check runs);
    None outside a request or before the arrival is noted (then: now)."""
    from flask import g, has_request_context

    return getattr(g, "received_at", None) if has_request_context() else None


def can_edit_proposal(user, proposal) -> bool:
    """Both coordinators, on a draft whose deadline (grace included) had not passed when the
    request arrived."""
    return _coordinates(user, proposal) and _submission().is_editable(proposal, request_arrival())


def can_submit_proposal(user, proposal) -> bool:
    """The coordinator submits (the content's completeness is checked on the way)."""
    return proposal.is_coordinated_by(user) and _submission().is_editable(proposal, request_arrival())


def can_reopen_proposal(user, proposal) -> bool:
    from workflows.proposal_states import ProposalAction

    return proposal.is_coordinated_by(user) and _submission().may_take(proposal, ProposalAction.REOPEN)


def can_withdraw_proposal(user, proposal) -> bool:
    from workflows.proposal_states import ProposalAction

    return proposal.is_coordinated_by(user) and _submission().may_take(proposal, ProposalAction.WITHDRAW)


def can_start_full_proposal(user, proposal) -> bool:
    from workflows.proposal_states import ProposalAction

    return proposal.is_coordinated_by(user) and _submission().may_take(
        proposal, ProposalAction.START_FULL_PROPOSAL
    )


def can_accept_co_coordination(user, proposal) -> bool:
    return _submission().is_invited(user, proposal)


# --- decisions, letters, agreements, redress (Directorate-General capability) ---


def can_validate(user, proposal=None) -> bool:
    """Award, reject or send back: the Directorate-General only, and only what a manager proposed."""
    from workflows.decisions import DECIDABLE_STATES

    if not has_role(user, Role.DIRECTORATE):
        return False
    return proposal is None or proposal.state in DECIDABLE_STATES


def can_release(user, call=None) -> bool:
    """Release a call's pending decisions to the applicants: a programme manager or the DG."""
    return has_role(user, Role.MANAGER, Role.DIRECTORATE)


def can_view_decisions(user) -> bool:
    """See the validation queue, rankings under decision, letters' progress and agreements."""
    return can_validate(user) or can_release(user)


def can_issue_agreement(user) -> bool:
    """Issue agreements, record the parties' signatures, correct issued letters: managers."""
    return has_role(user, Role.MANAGER)


def _decision_released(proposal) -> bool:
    from workflows.decisions import DECIDED_STATES

    return proposal.decision_released_at is not None and proposal.state in DECIDED_STATES


def can_view_letter(user, proposal) -> bool:
    """The decision letter: its coordinators once released; managers and the DG."""
    if has_role(user, Role.MANAGER, Role.DIRECTORATE):
        return True
    if not getattr(user, "is_authenticated", False) or not _decision_released(proposal):
        return False
    return proposal.is_coordinated_by(user) or proposal.is_co_coordinated_by(user)


def can_file_redress(user, proposal, now=None) -> bool:
    """The coordinator, within 30 days of a released rejection, once."""
    if not getattr(user, "is_authenticated", False) or not proposal.is_coordinated_by(user):
        return False
    from webapp.operations.decisions import redress_window

    return redress_window(proposal, now).open


def can_view_redress(user, request) -> bool:
    """A request for review: the coordinator who filed it, managers and the DG."""
    if has_role(user, Role.MANAGER, Role.DIRECTORATE):
        return True
    return getattr(user, "is_authenticated", False) and request.proposal.is_coordinated_by(user)


def can_answer_redress(user, request=None) -> bool:
    """Programme managers answer requests for review, once."""
    from workflows.decisions import RedressStatus

    if not has_role(user, Role.MANAGER):
        return False
    return request is None or request.status == RedressStatus.OPEN


# --- assessment: screening, assignment, review, consensus, ranking ---
# Managers only: the proposal moves of the assessment belong to the manager role
# (workflows.proposal_states gives administrators none, on purpose).


def can_screen(user) -> bool:
    return has_role(user, Role.MANAGER)


def can_assign(user) -> bool:
    return has_role(user, Role.MANAGER)


def can_moderate(user) -> bool:
    return has_role(user, Role.MANAGER)


def can_rank(user) -> bool:
    return has_role(user, Role.MANAGER)


def is_reviewer(user) -> bool:
    return has_role(user, Role.REVIEWER)


def can_review(user, proposal) -> bool:
    """An assigned reviewer who accepted and declared no conflict may open the proposal."""
    if not is_reviewer(user):
        return False
    from webapp.operations import assessment

    assignment = assessment.reviewer_assignment_for(user, proposal)
    return assignment is not None and assessment.has_declared_no_conflict(assignment)


def can_see_consensus(user, proposal) -> bool:
    """Reviewers see the consensus (and each other's names) only once a manager opens it."""
    if not can_review(user, proposal):
        return False
    from webapp.operations import ranking

    consensus = ranking.consensus_of(proposal)
    return consensus is not None and consensus.open_to_reviewers


def roles_required(predicate: Callable[[object], bool]):
    """Decorator: log in first, then the predicate must hold (403 otherwise)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            from flask import current_app

            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()
            require(predicate(current_user))
            return view(*args, **kwargs)

        return wrapped

    return decorator


PREDICATES = {
    "can_answer_redress": can_answer_redress,
    "can_file_redress": can_file_redress,
    "can_issue_agreement": can_issue_agreement,
    "can_release": can_release,
    "can_validate": can_validate,
    "can_view_decisions": can_view_decisions,
    "can_view_letter": can_view_letter,
    "can_view_redress": can_view_redress,
    "can_accept_co_coordination": can_accept_co_coordination,
    "can_edit_proposal": can_edit_proposal,
    "can_reopen_proposal": can_reopen_proposal,
    "can_start_full_proposal": can_start_full_proposal,
    "can_start_proposal": can_start_proposal,
    "can_submit_proposal": can_submit_proposal,
    "can_view_proposal": can_view_proposal,
    "can_withdraw_proposal": can_withdraw_proposal,
    "can_administer": can_administer,
    "can_edit_calls": can_edit_calls,
    "can_edit_grid": can_edit_grid,
    "can_extend_deadline": can_extend_deadline,
    "can_manage_agreements": can_manage_agreements,
    "can_publish_call": can_publish_call,
    "can_unpublish_call": can_unpublish_call,
    "can_view_call": can_view_call,
    "can_manage_programme": can_manage_programme,
    "can_view_outbox": can_view_outbox,
    "has_role": has_role,
    "can_screen": can_screen,
    "can_assign": can_assign,
    "can_moderate": can_moderate,
    "can_rank": can_rank,
    "is_reviewer": is_reviewer,
    "can_review": can_review,
    "can_see_consensus": can_see_consensus,
}
