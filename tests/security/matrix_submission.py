"""Permission-matrix rows of the submission capability: the applicant's workspace.

The owner is the proposals' coordinator; "co_coordinator" has joined them (or, on the
invitation row, is only invited). Everyone else gets 404 for a proposal, exactly as for one
that does not exist; anonymous visitors go to the login page. Starting a proposal is for
accounts holding the applicant role (403 for the others). POSTs send valid data, so the roles
allowed to act get the redirect that follows a success.
"""

from __future__ import annotations

import io

from tests.security.permission_matrix import LOGGED_IN, Row, expect
from tests.submission_support import pdf_bytes

APPLICANTS = ("owner", "other_applicant", "co_coordinator")
OTHERS = (
    "assigned_reviewer",
    "unassigned_reviewer",
    "conflicted_reviewer",
    "manager",
    "directorate",
    "admin",
)
START_GET = expect(403, anonymous=302, **dict.fromkeys(APPLICANTS, 200))
START_POST = expect(403, anonymous=302, **dict.fromkeys(APPLICANTS, 302))
BOTH_GET = expect(404, anonymous=302, owner=200, co_coordinator=200)
BOTH_POST = expect(404, anonymous=302, owner=302, co_coordinator=302)
BOTH_JSON = expect(404, anonymous=302, owner=200, co_coordinator=200)
OWNER_GET = expect(404, anonymous=302, owner=200, co_coordinator=403)
OWNER_POST = expect(404, anonymous=302, owner=302, co_coordinator=403)


def _call(w):
    return {"call_id": w.sub_call.id}


def _draft(w):
    return {"proposal_id": w.sub_draft.id}


def _team(w):
    return {"proposal_id": w.sub_draft.id, "team_id": w.sub_team.id}


def _kind(w):
    return {"proposal_id": w.sub_draft.id, "kind_code": "cv_coordinator"}


def _team_left(w):
    # Read when the request is made: the owner removes one partner team, the co-coordinator the
    # next; the roles after them (refused anyway) are pointed at the Inserm team that remains.
    teams = sorted(w.sub_teams.teams, key=lambda t: t.is_inserm)
    return {"proposal_id": w.sub_teams.id, "team_id": teams[0].id}


def _submitted(w):
    return {"proposal_id": w.sub_submitted.id}


def _team_data(w):
    return {"laboratory": "Lab", "institution_name": "USP", "country_code": "BR", "leader_name": "J"}


MANAGER_GET = expect(403, anonymous=302, manager=200)
MANAGER_POST = expect(403, anonymous=302, manager=302)
MANAGER_FORM_BACK = expect(403, anonymous=302, manager=422)


def _letters(w):
    return {"call_id": w.sub_two_stage.id}


def _letter(w):
    return {"call_id": w.sub_two_stage.id, "proposal_id": w.sub_letter.id}


ROWS: dict = {
    ("GET", "applicant.start"): Row(START_GET, args=_call),
    ("POST", "applicant.start"): Row(START_POST, args=_call, note="a new draft for each applicant"),
    ("GET", "applicant.proposals"): Row(LOGGED_IN),
    ("GET", "applicant.proposal"): Row(BOTH_GET, args=_draft),
    ("GET", "applicant.edit_general"): Row(BOTH_GET, args=_draft),
    ("POST", "applicant.edit_general"): Row(BOTH_POST, args=_draft, data=lambda w: {"title": "Changed"}),
    ("GET", "applicant.edit_texts"): Row(BOTH_GET, args=_draft),
    ("POST", "applicant.edit_texts"): Row(BOTH_POST, args=_draft, data=lambda w: {"history": "Changed"}),
    ("POST", "applicant.autosave"): Row(
        BOTH_JSON, args=lambda w: {**_draft(w), "section": "texts"}, data=lambda w: {"ethics": "Autosaved"}
    ),
    ("GET", "applicant.edit_co_coordinator"): Row(OWNER_GET, args=_draft),
    ("POST", "applicant.edit_co_coordinator"): Row(
        OWNER_POST,
        args=_draft,
        data=lambda w: {"name": "Joana S. Silva", "email": w.users["co_coordinator"].email},
        note="the same address: the co-coordinator stays joined for the next role",
    ),
    ("POST", "applicant.resend_invitation"): Row(
        OWNER_POST,
        args=lambda w: {"proposal_id": w.sub_invited.id},
        note="the co-coordinator is the one invited here: they see it, only the owner resends",
    ),
    ("POST", "applicant.join"): Row(
        expect(404, anonymous=302, owner=403, co_coordinator=302),
        args=lambda w: {"proposal_id": w.sub_invited.id},
    ),
    ("GET", "applicant.new_team"): Row(BOTH_GET, args=_draft),
    ("POST", "applicant.new_team"): Row(BOTH_POST, args=_draft, data=_team_data),
    ("GET", "applicant.edit_team"): Row(BOTH_GET, args=_team),
    ("POST", "applicant.edit_team"): Row(BOTH_POST, args=_team, data=_team_data),
    ("POST", "applicant.delete_team"): Row(BOTH_POST, args=_team_left),
    ("GET", "applicant.edit_budget"): Row(BOTH_GET, args=_draft),
    ("POST", "applicant.edit_budget"): Row(
        BOTH_POST,
        args=_draft,
        data=lambda w: {"rows-0-year": "1", "rows-0-category": "mobility", "rows-0-amount_eur": "9000"},
    ),
    ("GET", "applicant.documents"): Row(BOTH_GET, args=_draft),
    ("POST", "applicant.upload_document"): Row(
        BOTH_POST, args=_kind, data=lambda w: {"cv_coordinator-file": (io.BytesIO(pdf_bytes()), "cv.pdf")}
    ),
    ("POST", "applicant.delete_document"): Row(
        BOTH_POST, args=_kind, note="removing what is gone already is no error"
    ),
    ("GET", "applicant.download_document"): Row(
        BOTH_GET, args=lambda w: {**_draft(w), "attachment_id": w.sub_attachment.id}
    ),
    ("POST", "applicant.submit"): Row(OWNER_POST, args=_draft, note="the draft is complete"),
    ("POST", "applicant.reopen"): Row(OWNER_POST, args=_submitted),
    ("GET", "applicant.withdraw"): Row(OWNER_GET, args=_submitted),
    ("POST", "applicant.withdraw"): Row(OWNER_POST, args=_submitted, data=lambda w: {"reason": "No partner"}),
    ("POST", "applicant.start_full"): Row(OWNER_POST, args=lambda w: {"proposal_id": w.sub_shortlisted.id}),
    ("GET", "applicant.receipt"): Row(BOTH_GET, args=lambda w: {**_submitted(w), "version": 1}),
    # the programme manager's side of two-stage calls: letters of intent
    ("GET", "manage.letters"): Row(MANAGER_GET, args=_letters),
    ("POST", "manage.letters"): Row(MANAGER_FORM_BACK, args=_letters, note="nothing chosen: the list again"),
    ("GET", "manage.letter"): Row(MANAGER_GET, args=_letter),
    ("POST", "manage.letter"): Row(MANAGER_POST, args=_letter, data=lambda w: {"action": "shortlist"}),
    ("GET", "manage.letter_file"): Row(
        MANAGER_GET, args=lambda w: {**_letter(w), "attachment_id": w.sub_letter_file.id}
    ),
}
