"""Conflicts hidden everywhere, and reviewer anonymity: a conflicted reviewer never meets the
proposal again (lists, counts, pages, files, exports, e-mails); applicants never learn who
reviewed them (pages, decision letter, e-mails); reviewers see each other's names only once a
manager opens the consensus; the confidential comment stays with the managers and neither it nor
the ethics note ever reaches the applicants."""

from __future__ import annotations

import io
import json

import pypdf
import pytest

from tests.decisions_factories import decide_and_release
from tests.factories import make_call, make_proposal
from tests.webapp.assessment_fixtures import (
    accept_and_declare,
    in_request,
    propose,
    record_consensus,
    reviewer,
    scores,
    send,
    submit,
)
from webapp.extensions import db as _db
from webapp.models import Attachment, OutboxMessage, Proposal
from webapp.models.assessment import Review
from webapp.operations import assessment as ops
from webapp.storage import save_bytes


@pytest.fixture
def setting(manager, make_user, db):
    call = make_call(manager)
    owner = make_user(email="claire.martin@inserm.example", first_name="Claire", last_name="Martin")
    proposal = make_proposal(call, owner, "eligible", title="Secret neurons", acronym="SECRETN")
    stored = save_bytes(db.session, b"%PDF-1.4 letter of support", "pdf")
    db.session.add(
        Attachment(
            proposal_id=proposal.id,
            kind_code="support_letter",
            original_filename="support-letter.pdf",
            stored_name=stored.stored_name,
            content_type="application/pdf",
            size_bytes=stored.size_bytes,
            sha256=stored.sha256,
        )
    )
    db.session.commit()
    r1 = reviewer(make_user, "anna.berg@ki.example", first_name="Anna", last_name="Berg")
    r2 = reviewer(
        make_user,
        "paul.bernard@inserm.fr",
        external=False,
        institution="Inserm",
        unit_code="U9",
        first_name="Paul",
        last_name="Bernard",
    )
    conflicted = reviewer(make_user, "omar.haddad@pasteur.example", first_name="Omar", last_name="Haddad")
    assignments = [propose(proposal, r, manager) for r in (r1, r2, conflicted)]
    send(call, manager)
    for a in assignments:
        db.session.refresh(a)
    return call, owner, proposal, (r1, r2, conflicted), assignments


def _mentions(text: str, proposal) -> bool:
    return any(token in text for token in (proposal.title, proposal.acronym, proposal.reference))


CONFIDENTIAL = "Committee only: the partner lab lost its accreditation in 2023."
ETHICS_NOTE = "The primate protocol of the partner team has no approval number."


def pdf_text(data: bytes) -> str:
    """The text of a PDF, whitespace collapsed (as tests/webapp/test_decisions_documents.py)."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def _rank_propose_and_release(call, proposal, manager, make_user, login, app, db) -> Proposal:
    """The manager ranks and proposes the call; the Directorate-General awards the proposal and
    releases the decisions (the letter is issued)."""
    client = login(manager, app.test_client())
    assert client.post(f"/manage/calls/{call.id}/ranking/rank").status_code == 302
    assert client.post(f"/manage/calls/{call.id}/ranking/propose").status_code == 302
    db.session.expire_all()
    stored = db.session.get(Proposal, proposal.id)
    assert stored.state == "proposed"
    dg = make_user(roles=("directorate",), email="dg@inserm.example", first_name="Marc", last_name="Lefevre")
    decide_and_release(call, dg, manager, [stored], {stored: "award"})
    db.session.expire_all()
    stored = db.session.get(Proposal, proposal.id)
    assert stored.state == "awarded" and stored.decision_released_at is not None
    return stored


def _what_the_applicant_sees(owner, proposal, login, app) -> dict[str, str]:
    """What the applicant can read, by where: their pages about the proposal, the decision
    letter's text and every e-mail they received."""
    client = login(owner, app.test_client())
    seen = {}
    for url in (
        "/dashboard",
        "/proposals",
        f"/proposals/{proposal.id}",
        f"/proposals/{proposal.id}/documents",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        seen[url] = response.get_data(as_text=True)
    assert proposal.reference in seen[f"/proposals/{proposal.id}"]
    letter = client.get(f"/decisions/proposals/{proposal.id}/letter")
    assert letter.status_code == 200 and letter.mimetype == "application/pdf"
    seen["decision letter"] = pdf_text(letter.data)
    mails = _db.session.scalars(_db.select(OutboxMessage).where(OutboxMessage.recipient == owner.email)).all()
    assert mails
    for mail in mails:
        seen[f"mail {mail.template} #{mail.id}"] = "\n".join(
            (mail.subject, mail.body_text, mail.body_html or "")
        )
    return seen


def test_a_conflicted_reviewer_never_meets_the_proposal_again(setting, login, app, db, manager, outbox):
    call, owner, proposal, (r1, r2, conflicted), (a1, a2, ac) = setting
    client = login(conflicted, app.test_client())
    assert _mentions(client.get("/review/").get_data(as_text=True), proposal)  # invited: listed
    client.post(
        f"/review/assignments/{ac.id}/declaration", data={"kind": "personal", "comment": "My cousin."}
    )
    mails_before = {m.id for m in outbox(conflicted.email)}

    # The others carry on to the end, with the consensus opened to the reviewers.
    for r, a, v in ((r1, a1, 5), (r2, a2, 4)):
        accept_and_declare(a, r)
        submit(a, r, scores(call, v))
    db.session.expire_all()
    assert db.session.get(Proposal, proposal.id).state == "reviewed"
    record_consensus(db.session.get(Proposal, proposal.id), manager, open_=True)

    # Lists and counts.
    queue = client.get("/review/").get_data(as_text=True)
    assert not _mentions(queue, proposal) and "Nothing to review at the moment." in queue
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "0 invitation(s) awaiting your answer, 0 review(s) to finish." in dashboard
    # Pages and files.
    attachment = db.session.scalar(db.select(Attachment))
    for url in (
        f"/review/assignments/{ac.id}",
        f"/review/assignments/{ac.id}/review",
        f"/review/assignments/{ac.id}/declaration",
        f"/review/assignments/{ac.id}/consensus",
        f"/review/assignments/{ac.id}/files/{attachment.id}",
    ):
        assert client.get(url).status_code == 404, url
    # Exports are the managers'; the scores export holds no row of theirs.
    assert client.get(f"/manage/calls/{call.id}/scores.csv").status_code == 403
    manager_client = login(manager, app.test_client())
    export = manager_client.get(f"/manage/calls/{call.id}/scores.csv").data.decode("utf-8-sig")
    assert "Omar Haddad" not in export and "Anna Berg" in export
    # E-mails: no reminder, no news of the proposal after the declaration.
    runner = app.test_cli_runner()
    runner.invoke(args=["review-reminders", "--days", ",".join(str(d) for d in range(0, 60))])
    later = [m for m in outbox(conflicted.email) if m.id not in mails_before]
    assert later == []
    assert not any(_mentions(m.subject + m.body_text, proposal) for m in outbox(conflicted.email))


def _third_declines(assignment, user):
    in_request(ops.decline, assignment, user, "Too busy.")


def test_reviewers_see_each_other_only_once_the_consensus_is_opened(setting, login, app, db, manager):
    call, owner, proposal, (r1, r2, conflicted), (a1, a2, ac) = setting
    _third_declines(ac, conflicted)
    for r, a, v in ((r1, a1, 5), (r2, a2, 4)):
        accept_and_declare(a, r)
        submit(a, r, scores(call, v))
    client = login(r1, app.test_client())
    page = client.get(f"/review/assignments/{a1.id}/review").get_data(as_text=True)
    assert "Paul Bernard" not in page and "paul.bernard" not in page
    assert client.get(f"/review/assignments/{a1.id}/consensus").status_code == 404
    # The attached files are listed, and can be downloaded by the assigned reviewer.
    attachment = db.session.scalar(db.select(Attachment))
    assert "support-letter.pdf" in page
    download = client.get(f"/review/assignments/{a1.id}/files/{attachment.id}")
    assert download.status_code == 200 and download.headers["Content-Disposition"].startswith("attachment")
    assert download.data == b"%PDF-1.4 letter of support"

    record_consensus(db.session.get(Proposal, proposal.id), manager, open_=False)
    assert client.get(f"/review/assignments/{a1.id}/consensus").status_code == 404
    record_consensus(db.session.get(Proposal, proposal.id), manager, open_=True)
    opened = client.get(f"/review/assignments/{a1.id}/consensus")
    assert opened.status_code == 200 and "Paul Bernard" in opened.get_data(as_text=True)
    assert "Consensus" in client.get(f"/review/assignments/{a1.id}/review").get_data(as_text=True)


def test_applicants_never_learn_who_reviewed_them(setting, login, app, db, manager, make_user):
    call, owner, proposal, (r1, r2, conflicted), (a1, a2, ac) = setting
    _third_declines(ac, conflicted)
    accept_and_declare(a1, r1)
    accept_and_declare(a2, r2)
    # A reviewer signs the comment meant for the applicants; another names a colleague.
    submit(
        a1,
        r1,
        scores(call, 5),
        for_applicants="A convincing partnership. Best regards, Anna Berg (anna.berg@ki.example)",
        confidential=CONFIDENTIAL,
    )
    submit(
        a2, r2, scores(call, 4), for_applicants="I agree with Dr BERG on the programme; see also my notes."
    )
    db.session.expire_all()
    record_consensus(
        db.session.get(Proposal, proposal.id),
        manager,
        comment="Both reviewers (Berg and Paul Bernard) praised the mobility plan.",
    )
    stored = _rank_propose_and_release(call, proposal, manager, make_user, login, app, db)
    summary = json.dumps(stored.assessment_summary, ensure_ascii=False)
    identities = [
        r1.email,
        r2.email,
        conflicted.email,
        "Berg",
        "BERG",
        "Bernard",
        "Anna",
        "Paul Bernard",
        "Haddad",
    ]
    assert [i for i in identities if i in summary] == []
    assert "A convincing partnership." in summary and "praised the mobility plan" in summary
    assert CONFIDENTIAL not in summary
    for key in ("reviewer", "reviewer_id", "reviewers"):
        assert key not in stored.assessment_summary
    ids = {str(r.id) for r in (r1, r2, conflicted)}
    assert all(c.get("code") not in ids for c in stored.assessment_summary["criteria"])
    # An ineligible proposal's e-mail (its reason) is also among what the applicant receives.
    second = make_proposal(call, owner, "submitted", title="Second")
    manager_client = login(manager, app.test_client())
    manager_client.post(
        f"/manage/proposals/{second.id}/screening",
        data={"action": "ineligible", "reason": "The partner letter does not attest any co-funding."},
    )
    # Every page, the decision letter and every e-mail the applicant has are free of reviewer
    # identity and of the confidential comment.
    seen = _what_the_applicant_sees(owner, stored, login, app)
    mail_templates = {where.split()[1] for where in seen if where.startswith("mail ")}
    assert {"screening_ineligible", "decision_released"} <= mail_templates
    # The letter prints the anonymised summary: the scrubbed comments are there, the names not.
    assert "A convincing partnership." in seen["decision letter"]
    assert "praised the mobility plan" in seen["decision letter"]
    leaks = {
        where: [i for i in [*identities, CONFIDENTIAL] if i in text]
        for where, text in seen.items()
        if any(i in text for i in [*identities, CONFIDENTIAL])
    }
    assert leaks == {}


def test_the_confidential_comment_and_the_ethics_flag_never_reach_the_applicants(
    setting, login, app, db, manager, make_user
):
    call, owner, proposal, (r1, r2, conflicted), (a1, a2, ac) = setting
    _third_declines(ac, conflicted)
    for a, r in ((a1, r1), (a2, r2)):
        accept_and_declare(a, r)
    submit(a1, r1, scores(call, 5), confidential=CONFIDENTIAL, ethics=ETHICS_NOTE)
    submit(a2, r2, scores(call, 4))
    db.session.expire_all()
    review = db.session.scalar(db.select(Review).where(Review.assignment_id == a1.id))
    assert (review.confidential_comment, review.ethics_flag, review.ethics_comment) == (
        CONFIDENTIAL,
        True,
        ETHICS_NOTE,
    )
    other = db.session.scalar(db.select(Review).where(Review.assignment_id == a2.id))
    assert (other.confidential_comment, other.ethics_flag, other.ethics_comment) == ("", False, "")

    # The manager's consensus page shows both, the ethics issue flagged once (Anna Berg's column).
    manager_page = (
        login(manager, app.test_client())
        .get(f"/manage/proposals/{proposal.id}/consensus")
        .get_data(as_text=True)
    )
    assert CONFIDENTIAL in manager_page and "Confidential, for the committee" in manager_page
    assert manager_page.count('data-testid="ethics-flag"') == 1 and ETHICS_NOTE in manager_page

    # Once the consensus is opened, the fellow reviewer sees the scores and names, not the
    # confidential comment; neither does its author on the shared page.
    record_consensus(db.session.get(Proposal, proposal.id), manager, open_=True)
    for r, a in ((r2, a2), (r1, a1)):
        shared = login(r, app.test_client()).get(f"/review/assignments/{a.id}/consensus")
        assert shared.status_code == 200
        text = shared.get_data(as_text=True)
        assert "Anna Berg" in text and "Paul Bernard" in text
        assert CONFIDENTIAL not in text and "Confidential, for the committee" not in text

    # The anonymised summary (decision letters) holds neither the confidential comment nor the
    # ethics note; the applicant never meets them, in pages, letter or e-mails.
    stored = _rank_propose_and_release(call, proposal, manager, make_user, login, app, db)
    summary = json.dumps(stored.assessment_summary, ensure_ascii=False)
    assert stored.assessment_summary["comments_for_applicants"]  # the summary is not empty
    assert CONFIDENTIAL not in summary and ETHICS_NOTE not in summary
    assert "accreditation" not in summary and "primate" not in summary
    seen = _what_the_applicant_sees(owner, stored, login, app)
    leaks = {
        where: [t for t in (CONFIDENTIAL, ETHICS_NOTE, "accreditation", "primate") if t in text]
        for where, text in seen.items()
    }
    assert {where: found for where, found in leaks.items() if found} == {}
