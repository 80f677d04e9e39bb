"""The reviewer's side: queue, accept or decline, the declaration before opening, the scoring
form built from the grid (draft, submit, lock, optimistic locking), reopening, reminders."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from markupsafe import escape

from tests.factories import make_call, make_proposal
from tests.webapp.assessment_fixtures import LONG, accept_and_declare, propose, reviewer, scores, send, submit
from webapp.models import AuditEvent, OutboxMessage, Proposal, utcnow
from webapp.models.assessment import Review, ReviewAssignment, ReviewReminder
from webapp.operations.assessment import due_at_end_of
from workflows.reviews import AssignmentStatus
from workflows.timeutils import paris_date, paris_to_utc


@pytest.fixture
def setting(manager, make_user, db):
    call = make_call(manager)
    owner = make_user(email="claire.martin@inserm.example", first_name="Claire", last_name="Martin")
    proposal = make_proposal(call, owner, "eligible", title="Neurons across borders")
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
    a1, a2 = propose(proposal, r1, manager), propose(proposal, r2, manager)
    send(call, manager)
    db.session.refresh(a1)
    db.session.refresh(a2)
    return call, owner, proposal, (r1, a1), (r2, a2)


def form_data(call, value=4, comment=LONG, action="submit", version="0", **over):
    data = {
        "action": action,
        "version": version,
        "comment_for_applicants": comment,
        "confidential_comment": "For the committee only.",
    }
    for index in range(len(call.criteria)):
        data[f"score_{index}"] = str(value)
        data[f"comment_{index}"] = comment
    data.update(over)
    return data


def test_queue_invitation_accept_declare_then_open(setting, login, app, db):
    call, owner, proposal, (r1, a1), _ = setting
    client = login(r1, app.test_client())
    queue = client.get("/review/").get_data(as_text=True)
    assert proposal.reference in queue and "Invitation awaiting your answer" in queue
    # Before the declaration the proposal cannot be opened.
    assert client.get(f"/review/assignments/{a1.id}/review").status_code == 302
    invitation = client.get(f"/review/assignments/{a1.id}").get_data(as_text=True)
    assert "Universidade de São Paulo" in invitation  # teams, to judge conflicts
    assert "Work packages 1 to 3." not in invitation  # but not the content yet
    assert client.post(f"/review/assignments/{a1.id}/accept").status_code == 302
    response = client.get(f"/review/assignments/{a1.id}/review")
    assert response.status_code == 302 and "/declaration" in response.headers["Location"]
    assert client.post(f"/review/assignments/{a1.id}/declaration", data={"kind": "none"}).status_code == 302
    page = client.get(f"/review/assignments/{a1.id}/review").get_data(as_text=True)
    assert "Work packages 1 to 3." in page
    for criterion in call.criteria:  # the form is the call's grid
        assert str(escape(criterion.label_en)) in page
    assert "Paul Bernard" not in page and "paul.bernard" not in page  # never the other reviewer


def test_the_queue_shows_due_dates_in_paris_time_soonest_first(setting, login, app, db, manager):
    call, owner, proposal, (r1, a1), _ = setting
    second = make_proposal(call, owner, "eligible", title="Synapses at sea")
    a3 = propose(second, r1, manager)
    send(call, manager)
    # The first assignment is due later (summer time, UTC+2) than the second (winter time, UTC+1).
    db.session.get(ReviewAssignment, a1.id).due_at = datetime(2031, 7, 1, 10, 0, tzinfo=UTC)
    db.session.get(ReviewAssignment, a3.id).due_at = datetime(2031, 3, 10, 10, 0, tzinfo=UTC)
    db.session.commit()
    queue = login(r1, app.test_client()).get("/review/").get_data(as_text=True)
    assert "Due (Paris time)" in queue
    rows = queue.split('data-testid="queue-row"')[1:]
    assert len(rows) == 2
    # Soonest first, whatever the order of the assignments.
    assert second.reference in rows[0] and proposal.reference in rows[1]
    assert "10 March 2031, 11:00" in rows[0] and "1 July 2031, 12:00" in rows[1]
    assert "10 March 2031, 10:00" not in queue and "1 July 2031, 10:00" not in queue  # not UTC


def test_declining_tells_the_manager(setting, login, app, db, outbox, manager):
    call, owner, proposal, (r1, a1), _ = setting
    client = login(r1, app.test_client())
    assert (
        client.post(f"/review/assignments/{a1.id}/decline", data={"reason": "On leave."}).status_code == 302
    )
    db.session.expire_all()
    assert db.session.get(ReviewAssignment, a1.id).status == AssignmentStatus.DECLINED
    [mail] = [m for m in outbox(manager.email) if m.template == "review_declined"]
    assert "On leave." in mail.body_text
    assert client.get(f"/review/assignments/{a1.id}").status_code == 404
    assert proposal.reference not in client.get("/review/").get_data(as_text=True)


def test_draft_submit_and_lock(setting, login, app, db, manager):
    call, owner, proposal, (r1, a1), (r2, a2) = setting
    accept_and_declare(a1, r1)
    client = login(r1, app.test_client())
    url = f"/review/assignments/{a1.id}/review"
    draft = {"action": "save", "version": "0", "score_0": "5", "comment_0": "Half written"}
    assert client.post(url, data=draft).status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "Half written" in page and "Draft saved." in page
    review = db.session.scalar(db.select(Review).where(Review.assignment_id == a1.id))
    assert review.status == "draft" and review.score_map()["C1"] == 5

    # Submitting an incomplete review keeps everything typed and marks the fields.
    response = client.post(url, data=form_data(call, comment="too short", version=str(review.version_id)))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Write at least 30 characters (9 so far)." in page
    assert "too short" in page
    db.session.expire_all()
    review = db.session.get(Review, review.id)
    assert review.status == "draft" and review.comment_map()["C2"] == "too short"

    response = client.post(url, data=form_data(call, value=4, version=str(review.version_id)))
    assert response.status_code == 302
    db.session.expire_all()
    review = db.session.get(Review, review.id)
    assert review.status == "submitted" and review.submitted_at is not None
    page = client.get(url).get_data(as_text=True)
    assert "The review is locked" in page
    assert 'data-testid="weighted-total"' in page and ">4.00<" in page
    # Locked: a further post changes nothing.
    client.post(url, data=form_data(call, value=1, version=str(review.version_id)))
    db.session.expire_all()
    assert db.session.get(Review, review.id).score_map()["C1"] == 4
    event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "review.submitted"))
    assert event.after["scores"]["C1"] == 4


def test_two_tabs_the_second_save_keeps_its_text(setting, login, app, db):
    call, owner, proposal, (r1, a1), _ = setting
    accept_and_declare(a1, r1)
    client = login(r1, app.test_client())
    url = f"/review/assignments/{a1.id}/review"
    assert (
        client.post(url, data={"action": "save", "version": "0", "comment_0": "First tab"}).status_code == 302
    )
    # The second tab still holds version 0.
    response = client.post(url, data={"action": "save", "version": "0", "comment_0": "Second tab text"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "saved elsewhere" in page and "Second tab text" in page
    db.session.expire_all()
    review = db.session.scalar(db.select(Review).where(Review.assignment_id == a1.id))
    assert review.comment_map()["C1"] == "First tab"
    # Saving again from the conflict page, knowingly, works.
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    assert (
        client.post(
            url, data={"action": "save", "version": version, "comment_0": "Second tab text"}
        ).status_code
        == 302
    )


def test_all_reviews_in_moves_the_proposal_to_reviewed(setting, db):
    call, owner, proposal, (r1, a1), (r2, a2) = setting
    accept_and_declare(a1, r1)
    assert db.session.get(Proposal, proposal.id).state == "eligible"
    accept_and_declare(a2, r2)
    db.session.expire_all()
    assert db.session.get(Proposal, proposal.id).state == "under_review"
    submit(a1, r1, scores(call, 4))
    assert db.session.get(Proposal, proposal.id).state == "under_review"
    submit(a2, r2, scores(call, 3))
    db.session.expire_all()
    assert db.session.get(Proposal, proposal.id).state == "reviewed"
    event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "proposal.complete_review"))
    assert event.actor_id is None and event.after["role"] == "system"


def test_a_manager_reopens_a_submitted_review(setting, db, login, app, manager, outbox):
    call, owner, proposal, (r1, a1), (r2, a2) = setting
    for r, a, v in ((r1, a1, 4), (r2, a2, 2)):
        accept_and_declare(a, r)
        submit(a, r, scores(call, v))
    db.session.expire_all()
    assert db.session.get(Proposal, proposal.id).state == "reviewed"
    review = db.session.scalar(db.select(Review).where(Review.assignment_id == a2.id))
    manager_client = login(manager, app.test_client())
    assert manager_client.post(f"/manage/reviews/{review.id}/reopen", data={"reason": ""}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Review, review.id).status == "submitted"  # a reason is required
    assert (
        manager_client.post(
            f"/manage/reviews/{review.id}/reopen", data={"reason": "C3 comment contradicts the score."}
        ).status_code
        == 302
    )
    db.session.expire_all()
    assert db.session.get(Review, review.id).status == "draft"
    assert db.session.get(Proposal, proposal.id).state == "under_review"
    [mail] = [m for m in outbox(r2.email) if m.template == "review_reopened"]
    assert "C3 comment contradicts the score." in mail.body_text
    # The reviewer may edit again; a reviewer can never reopen.
    reviewer_client = login(r2, app.test_client())
    assert (
        reviewer_client.post(f"/manage/reviews/{review.id}/reopen", data={"reason": "x"}).status_code == 403
    )
    page = reviewer_client.get(f"/review/assignments/{a2.id}/review").get_data(as_text=True)
    assert "C3 comment contradicts the score." in page and 'data-testid="submit-review"' in page


def test_reminders_are_sent_once_per_assignment_and_day(setting, db, app, manager):
    call, owner, proposal, (r1, a1), (r2, a2) = setting
    accept_and_declare(a1, r1)
    # Noon in Paris today, and reviews due at the end of the day three days later.
    today = paris_date(utcnow())
    noon = paris_to_utc(datetime.combine(today, time(12, 0)))
    for a in (a1, a2):
        db.session.get(ReviewAssignment, a.id).due_at = due_at_end_of(today + timedelta(days=3))
    db.session.commit()
    runner = app.test_cli_runner()

    def run(at):
        with time_machine.travel(at, tick=False):
            result = runner.invoke(args=["review-reminders"])
        assert result.exit_code == 0, result.output
        return result.output

    assert "Review reminders queued: 2" in run(noon)
    assert "Review reminders queued: 0" in run(noon + timedelta(hours=3))  # idempotent for the day
    db.session.expire_all()
    mails = db.session.scalars(
        db.select(OutboxMessage).where(OutboxMessage.template == "review_reminder")
    ).all()
    assert sorted(m.recipient for m in mails) == sorted([r1.email, r2.email])
    assert all(proposal.title not in m.body_text and proposal.reference not in m.body_text for m in mails)
    assert db.session.scalar(db.select(db.func.count(ReviewReminder.id))) == 2
    # Not on a day outside the schedule (7, 3, 1 days before); again the day before.
    assert "queued: 0" in run(noon + timedelta(days=1))
    # The day before, only the review still missing is reminded.
    submit(a1, r1, scores(call, 4))
    assert "queued: 1" in run(noon + timedelta(days=2))
    db.session.expire_all()
    last = db.session.scalars(
        db.select(OutboxMessage)
        .where(OutboxMessage.template == "review_reminder")
        .order_by(OutboxMessage.id.desc())
    ).first()
    assert last.recipient == r2.email


def test_review_pages_answer_404_to_others(setting, login, app, make_user, db):
    call, owner, proposal, (r1, a1), (r2, a2) = setting
    outsider = reviewer(make_user, "outsider@lab.example")
    client = login(outsider, app.test_client())
    for url in (
        f"/review/assignments/{a1.id}",
        f"/review/assignments/{a1.id}/review",
        f"/review/assignments/{a1.id}/declaration",
        f"/review/assignments/{a1.id}/consensus",
    ):
        assert client.get(url).status_code == 404
    assert client.post(f"/review/assignments/{a1.id}/accept").status_code == 404
    # The other assigned reviewer cannot reach a1 either.
    other = login(r2, app.test_client())
    assert other.get(f"/review/assignments/{a1.id}").status_code == 404
    # Applicants and managers are not reviewers.
    assert login(owner, app.test_client()).get("/review/").status_code == 403


def test_the_scoring_form_speaks_the_reviewers_language(setting, login, app, db):
    call, owner, proposal, (r1, a1), _ = setting
    accept_and_declare(a1, r1)
    client = login(r1, app.test_client())
    with client.session_transaction() as session:
        session["lang"] = "fr"
    page = client.get(f"/review/assignments/{a1.id}/review").get_data(as_text=True)
    assert str(escape(call.criteria[0].label_fr)) in page
    assert str(escape(call.criteria[0].label_en)) not in page
