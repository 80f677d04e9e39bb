"""Permission-matrix rows of the assessment capability: the managers' screening, pool,
assignment, consensus and ranking pages (/manage), and the reviewers' pages (/review).

Managers only on /manage (administrators hold no proposal moves: 403, as the other roles).
On /review, accounts without the reviewer role get 403; a reviewer asking for an assignment that
is not theirs, or one removed after they declared a conflict, gets 404, as for one that does not
exist. POSTs send data that makes the allowed roles succeed (302) or get their form back (422).
"""

from __future__ import annotations

from tests.security.permission_matrix import Row, expect

REVIEWERS = ("assigned_reviewer", "unassigned_reviewer", "conflicted_reviewer")
MANAGER_GET = expect(403, anonymous=302, manager=200)
MANAGER_POST = expect(403, anonymous=302, manager=302)
MANAGER_FORM_BACK = expect(403, anonymous=302, manager=422)
REVIEWER_QUEUE = expect(403, anonymous=302, **dict.fromkeys(REVIEWERS, 200))
ASSIGNED_GET = expect(
    403, anonymous=302, assigned_reviewer=200, unassigned_reviewer=404, conflicted_reviewer=404
)
ASSIGNED_POST = expect(
    403, anonymous=302, assigned_reviewer=302, unassigned_reviewer=404, conflicted_reviewer=404
)
ASSIGNED_FORM_BACK = expect(
    403, anonymous=302, assigned_reviewer=422, unassigned_reviewer=404, conflicted_reviewer=404
)


def _call(w):
    return {"call_id": w.assessment_call.id}


def _submitted(w):
    return {"proposal_id": w.assessment_submitted.id}


def _proposal(w):
    return {"proposal_id": w.assessment_proposal.id}


def _reviewed(w):
    return {"proposal_id": w.assessment_reviewed.id}


def _assignment(w):
    return {"assignment_id": w.assessment_assignment.id}


def _invitation(w):
    return {"assignment_id": w.assessment_invitation.id}


def _reviewed_assignment(w):
    return {"assignment_id": w.assessment_reviewed_assignment.id}


ROWS: dict = {
    # screening
    ("GET", "manage.screening_list"): Row(MANAGER_GET, args=_call),
    ("POST", "manage.screening_list"): Row(
        MANAGER_FORM_BACK, args=_call, note="nothing chosen: the list again"
    ),
    ("GET", "manage.screen_proposal"): Row(MANAGER_GET, args=_submitted),
    ("POST", "manage.screen_proposal"): Row(
        MANAGER_POST, args=_submitted, data=lambda w: {"action": "save", "check_scope": "y"}
    ),
    ("GET", "manage.proposal_file"): Row(
        MANAGER_GET, args=lambda w: {**_proposal(w), "attachment_id": w.assessment_attachment.id}
    ),
    # the reviewer pool
    ("GET", "manage.reviewers"): Row(MANAGER_GET),
    ("GET", "manage.invite_reviewer"): Row(MANAGER_GET),
    ("POST", "manage.invite_reviewer"): Row(MANAGER_FORM_BACK, data=lambda w: {"email": "not an address"}),
    ("GET", "manage.reviewer_profile"): Row(
        MANAGER_GET, args=lambda w: {"user_id": w.users["assigned_reviewer"].id}
    ),
    ("POST", "manage.reviewer_profile"): Row(
        MANAGER_FORM_BACK,
        args=lambda w: {"user_id": w.users["assigned_reviewer"].id},
        data=lambda w: {"max_load": "-1", "is_external": "external"},
    ),
    # assignment
    ("GET", "manage.assignment"): Row(MANAGER_GET, args=_call),
    ("POST", "manage.auto_assign"): Row(MANAGER_POST, args=_call, data=lambda w: {"due_date": "2031-05-15"}),
    ("POST", "manage.send_assignments"): Row(
        MANAGER_POST, args=_call, note="nothing proposed: refused, back"
    ),
    ("POST", "manage.discard_assignments"): Row(MANAGER_POST, args=_call),
    ("GET", "manage.proposal_assignment"): Row(MANAGER_GET, args=_proposal),
    ("POST", "manage.proposal_assignment"): Row(MANAGER_FORM_BACK, args=_proposal, note="no reviewer chosen"),
    ("POST", "manage.remove_assignment"): Row(
        MANAGER_POST, args=_assignment, data=lambda w: {"reason": "Slow."}
    ),
    # consensus
    ("GET", "manage.consensus"): Row(MANAGER_GET, args=_reviewed),
    ("POST", "manage.consensus"): Row(MANAGER_FORM_BACK, args=_reviewed, note="no score: the form again"),
    ("POST", "manage.reopen_review"): Row(
        MANAGER_POST,
        args=lambda w: {"review_id": w.assessment_review.id},
        data=lambda w: {"reason": "Please justify C3."},
    ),
    # ranking
    ("GET", "manage.ranking"): Row(MANAGER_GET, args=_call),
    ("POST", "manage.rank_call"): Row(
        MANAGER_POST, args=_call, note="proposals still in review: refused, back"
    ),
    ("POST", "manage.move_in_ranking"): Row(MANAGER_POST, args=_call, note="no data: the errors, back"),
    ("POST", "manage.propose_ranking"): Row(MANAGER_POST, args=_call),
    ("GET", "manage.export_ranking"): Row(MANAGER_GET, args=lambda w: {**_call(w), "fmt": "xlsx"}),
    ("GET", "manage.export_scores"): Row(MANAGER_GET, args=lambda w: {**_call(w), "fmt": "csv"}),
    # the reviewers' pages
    ("GET", "review.queue"): Row(REVIEWER_QUEUE),
    ("GET", "review.invitation"): Row(ASSIGNED_GET, args=_invitation),
    ("POST", "review.accept"): Row(ASSIGNED_POST, args=_invitation),
    ("POST", "review.decline"): Row(ASSIGNED_POST, args=_invitation, data=lambda w: {"reason": "On leave."}),
    ("GET", "review.declaration"): Row(ASSIGNED_GET, args=_invitation),
    ("POST", "review.declaration"): Row(ASSIGNED_FORM_BACK, args=_invitation, note="no answer chosen"),
    ("GET", "review.score"): Row(ASSIGNED_GET, args=_assignment),
    ("POST", "review.score"): Row(
        ASSIGNED_POST,
        args=_assignment,
        data=lambda w: {"action": "save", "version": "0", "comment_0": "Started."},
    ),
    ("GET", "review.proposal_file"): Row(
        ASSIGNED_GET, args=lambda w: {**_assignment(w), "attachment_id": w.assessment_attachment.id}
    ),
    ("GET", "review.consensus"): Row(ASSIGNED_GET, args=_reviewed_assignment),
}
