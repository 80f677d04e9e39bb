"""Permission-matrix rows of the decisions capability: /directorate (validation queue, release,
letters, agreements), /decisions (letters and requests for review), the public /verify page.

Applicants reach only their own released decisions; before release, or someone else's, the
answer is 404 as for a missing id. The DG validates (only it); a manager or the DG releases;
managers issue agreements, record signatures and answer requests for review."""

from __future__ import annotations

from tests.security.permission_matrix import Row, expect

DECIDERS = expect(403, anonymous=302, manager=200, directorate=200)
DG_POST = expect(403, anonymous=302, directorate=302)
DECIDERS_POST = expect(403, anonymous=302, manager=302, directorate=302)
MANAGER_POST = expect(403, anonymous=302, manager=302)
MANAGER_PAGE = expect(403, anonymous=302, manager=200)
HIDDEN = 404


def _call(w):
    return {"call_id": w.decisions_call.id}


def _proposal(name):
    return lambda w: {"proposal_id": w.objects[f"decisions_{name}"].id}


def _fresh_release_call(w):
    # 302 counts as a refusal in the matrix walk, so the manager and the DG share one world: each
    # gets its own call with a decision waiting to be released.
    from tests.security.world_decisions import call_with_unreleased_decision

    return {"call_id": call_with_unreleased_decision(w).id}


def _agreement(w):
    return {"agreement_id": w.decisions_agreement.id}


def _party(name):
    return lambda w: {"agreement_id": w.decisions_agreement.id, "party_id": w.objects[f"decisions_{name}"].id}


def _redress(w):
    return {"request_id": w.decisions_redress.id}


GROUNDS = "Le conflit d'intérêts déclaré n'a pas été pris en compte par le comité."

ROWS: dict = {
    # the Directorate-General's queue
    ("GET", "directorate.queue"): Row(DECIDERS),
    ("GET", "directorate.call"): Row(DECIDERS, args=_call),
    ("POST", "directorate.validate_call"): Row(DG_POST, args=_call, note="only the DG validates"),
    ("POST", "directorate.release"): Row(
        DECIDERS_POST, args=_fresh_release_call, note="one decided, unreleased proposal per role"
    ),
    ("POST", "directorate.issue_letters"): Row(DECIDERS_POST, args=_call),
    ("GET", "directorate.letters_progress"): Row(DECIDERS, args=_call),
    ("GET", "directorate.proposal"): Row(DECIDERS, args=_proposal("pending")),
    ("POST", "directorate.decide"): Row(DG_POST, args=_proposal("pending"), data=lambda w: {"act": "award"}),
    ("POST", "directorate.correct_letter"): Row(
        MANAGER_POST, args=_proposal("awarded"), data=lambda w: {"reason": "Typo in the laboratory's name."}
    ),
    # agreements
    ("GET", "directorate.agreements"): Row(DECIDERS),
    ("POST", "directorate.issue_agreement"): Row(MANAGER_POST, args=_proposal("awarded")),
    ("GET", "directorate.new_unit_agreement"): Row(MANAGER_PAGE),
    ("POST", "directorate.new_unit_agreement"): Row(
        expect(403, anonymous=302, manager=422), data=lambda w: {"title": ""}, note="incomplete: form again"
    ),
    ("GET", "directorate.agreement"): Row(DECIDERS, args=_agreement),
    ("GET", "directorate.agreement_pdf"): Row(DECIDERS, args=_agreement),
    ("POST", "directorate.record_signature"): Row(
        expect(403, anonymous=302, manager=422), args=_party("unsigned_party"), note="no scan: form again"
    ),
    ("GET", "directorate.party_scan"): Row(DECIDERS, args=_party("signed_party")),
    ("POST", "directorate.update_committees"): Row(
        expect(403, anonymous=302, manager=422), args=_agreement, note="no reason given: form again"
    ),
    # decisions as applicants meet them
    ("GET", "decisions.letter"): Row(
        expect(HIDDEN, anonymous=302, owner=200, co_coordinator=200, manager=200, directorate=200),
        args=_proposal("awarded"),
    ),
    ("GET", "decisions.file_redress"): Row(
        expect(HIDDEN, anonymous=302, owner=200, co_coordinator=403),
        args=_proposal("rejected"),
    ),
    ("POST", "decisions.file_redress"): Row(
        expect(HIDDEN, anonymous=302, owner=302, co_coordinator=403),
        args=_proposal("rejected"),
        data=lambda w: {"grounds": GROUNDS},
    ),
    ("GET", "decisions.redress_requests"): Row(DECIDERS),
    ("GET", "decisions.redress"): Row(
        expect(HIDDEN, anonymous=302, owner=200, manager=200, directorate=200),
        args=_redress,
    ),
    ("POST", "decisions.answer_redress"): Row(
        expect(HIDDEN, anonymous=302, owner=403, manager=302, directorate=403),
        args=_redress,
        data=lambda w: {"status": "dismissed", "answer": "La déclaration a été traitée avant l'évaluation."},
    ),
    # the public verification page
    ("GET", "public.verify"): Row(expect(200)),
    ("POST", "public.verify"): Row(expect(422), note="no file: the form comes back"),
}
