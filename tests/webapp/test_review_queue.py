"""The reviewer's queue: where they stand on each assignment and the link to the next step, the
filters (to do, done), pages of 25, dates and call titles in the reviewer's language."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.factories import make_call, make_proposal
from tests.webapp.assessment_fixtures import (
    accept_and_declare,
    in_request,
    propose,
    reviewer,
    scores,
    send,
    submit,
)
from webapp.models import utcnow
from webapp.operations import assessment as ops


def _rows(page: str) -> list[str]:
    return page.split('data-testid="queue-row"')[1:]


def _button(row: str) -> tuple[str, str]:
    """The row's action: (href, label)."""
    href, label = re.search(r'<a class="btn[^"]*" href="([^"]+)">([^<]+)</a>', row).groups()
    return href, label


@pytest.fixture
def five(manager, make_user, db):
    """One reviewer on five proposals, soonest due first: invited, accepted (no declaration yet),
    declared (nothing written), a draft, a submitted review."""
    call = make_call(manager)
    owner = make_user(email="claire.martin@inserm.example")
    r = reviewer(make_user, "anna.berg@ki.example", max_load=10)
    start = utcnow() + timedelta(days=10)
    proposals = [make_proposal(call, owner, "eligible", title=f"Project {i}") for i in range(5)]
    assignments = [propose(p, r, manager, due_at=start + timedelta(days=i)) for i, p in enumerate(proposals)]
    send(call, manager)
    for a in assignments:
        db.session.refresh(a)
    invited, accepted, declared, draft, done = assignments
    in_request(ops.accept, accepted, r)
    for a in (declared, draft, done):
        accept_and_declare(a, r)
    in_request(
        ops.save_review,
        draft,
        r,
        ops.ReviewData(scores={}, comments={}, for_applicants="Half"),
        None,
        submit=False,
    )
    submit(done, r, scores(call))
    return call, r, proposals, assignments


def test_each_row_tells_where_the_reviewer_stands_and_links_the_next_step(five, login, app):
    call, r, proposals, (invited, accepted, declared, draft, done) = five
    page = login(r, app.test_client()).get("/review/").get_data(as_text=True)
    rows = _rows(page)
    assert len(rows) == 5
    for row, proposal in zip(rows, proposals, strict=True):
        assert proposal.reference in row and proposal.title in row and call.title_en in row
    expected = [
        ("Invitation awaiting your answer", f"/review/assignments/{invited.id}", "Answer"),
        ("Declare your conflicts of interest", f"/review/assignments/{accepted.id}/declaration", "Declare"),
        ("To review", f"/review/assignments/{declared.id}/review", "Open"),
        ("Draft saved", f"/review/assignments/{draft.id}/review", "Open"),
        ("Review submitted", f"/review/assignments/{done.id}/review", "Open"),
    ]
    for row, (badge, href, label) in zip(rows, expected, strict=True):
        assert f">{badge}</span>" in row
        assert _button(row) == (href, label)


def test_the_dashboard_counts_what_the_reviewer_has_left_to_do(five, login, app):
    call, r, proposals, (invited, *_rest) = five
    from flask_babel import force_locale

    from webapp.templating import paris_datetime

    with app.test_request_context(), force_locale("en"):
        due = paris_datetime(invited.due_at, "d MMMM y")
    page = login(r, app.test_client()).get("/dashboard").get_data(as_text=True)
    # One invitation; three accepted without a submitted review (not declared, nothing written,
    # a draft); the submitted one is done. The soonest due date is the invitation's.
    assert "1 invitation(s) awaiting your answer, 3 review(s) to finish." in page
    assert f"Next due: {due}." in page


def test_the_filters_split_what_is_left_to_do_from_the_submitted_reviews(five, login, app):
    call, r, proposals, _ = five
    client = login(r, app.test_client())
    todo = client.get("/review/?show=todo").get_data(as_text=True)
    assert [p.reference in todo for p in proposals] == [True, True, True, True, False]
    assert 'aria-current="page" href="/review/?show=todo">To do<' in todo
    done = client.get("/review/?show=done").get_data(as_text=True)
    assert [p.reference in done for p in proposals] == [False, False, False, False, True]
    assert len(_rows(done)) == 1 and "Review submitted" in done
    everything = client.get("/review/?show=whatever").get_data(as_text=True)  # unknown: all
    assert len(_rows(everything)) == 5
    assert 'aria-current="page" href="/review/">All<' in everything


def test_the_done_filter_says_when_nothing_is_submitted_yet(manager, make_user, login, app, db):
    call = make_call(manager)
    owner = make_user(email="claire.martin@inserm.example")
    r = reviewer(make_user, "anna.berg@ki.example")
    propose(make_proposal(call, owner, "eligible"), r, manager)
    send(call, manager)
    client = login(r, app.test_client())
    page = client.get("/review/?show=done").get_data(as_text=True)
    assert _rows(page) == [] and "No review submitted yet." in page
    assert len(_rows(client.get("/review/?show=todo").get_data(as_text=True))) == 1


def test_the_queue_shows_25_assignments_a_page(manager, make_user, login, app, db):
    call = make_call(manager)
    owner = make_user(email="claire.martin@inserm.example")
    r = reviewer(make_user, "anna.berg@ki.example", max_load=30)
    start = utcnow() + timedelta(days=10)
    proposals = [make_proposal(call, owner, "eligible") for _ in range(26)]
    for i, p in enumerate(proposals):
        propose(p, r, manager, due_at=start + timedelta(hours=i))
    send(call, manager)
    client = login(r, app.test_client())

    first = client.get("/review/").get_data(as_text=True)
    assert len(_rows(first)) == 25
    assert all(p.reference in first for p in proposals[:25]) and proposals[25].reference not in first
    assert "Page 1 of 2" in first and 'href="/review/?page=2"' in first

    second = client.get("/review/?page=2").get_data(as_text=True)
    assert len(_rows(second)) == 1 and proposals[25].reference in second
    assert "Page 2 of 2" in second and proposals[0].reference not in second

    # The pages keep the filter; past the last page the queue is empty, not an error.
    todo = client.get("/review/?show=todo").get_data(as_text=True)
    assert "Page 1 of 2" in todo and 'href="/review/?show=todo&amp;page=2"' in todo
    past = client.get("/review/?page=3")
    assert past.status_code == 200 and _rows(past.get_data(as_text=True)) == []
    assert "Page 3 of 2" in past.get_data(as_text=True)


def test_the_queue_speaks_the_reviewers_language(manager, make_user, login, app, db):
    call = make_call(manager)
    owner = make_user(email="claire.martin@inserm.example")
    r = reviewer(make_user, "anna.berg@ki.example")
    a = propose(make_proposal(call, owner, "eligible"), r, manager)
    send(call, manager)
    a.due_at = datetime(2031, 7, 1, 10, 0, tzinfo=UTC)
    db.session.commit()
    client = login(r, app.test_client())
    with client.session_transaction() as session:
        session["lang"] = "fr"
    page = client.get("/review/").get_data(as_text=True)
    assert call.title_fr in page and call.title_en not in page
    assert "1 juillet 2031, 12:00" in page  # Paris summer time, French month
    assert "Invitation en attente de votre réponse" in page
