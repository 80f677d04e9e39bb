"""Consensus, ranking, the draw-down of the envelope, manual moves, the proposal to the
Directorate-General, exports and charts."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from tests.factories import make_call, make_proposal
from tests.webapp.assessment_fixtures import in_request, record_consensus, reviewed, reviewer, scores
from webapp.extensions import db
from webapp.models import AuditEvent, Proposal
from webapp.models.assessment import Consensus, RankingMove, Review
from webapp.operations import assessment as assessment_ops
from workflows.calls import default_grid


@pytest.fixture
def call(manager):
    grid = default_grid()
    criteria = tuple(replace(c, threshold=3) if c.code == "C1" else c for c in grid.criteria)
    return make_call(manager, budget_envelope_eur=30_000, grid=replace(grid, criteria=criteria))


@pytest.fixture
def people(make_user):
    owner = make_user(email="claire.martin@inserm.example", first_name="Claire", last_name="Martin")
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
    return owner, r1, r2


@pytest.fixture
def four(call, people, manager):
    """A 5.0 (12 k€), B 4.0 (12 k€), C 3.75 but C1 below its threshold, D 3.0 (10 k€)."""
    owner, r1, r2 = people
    a = reviewed(call, owner, manager, [(r1, scores(call, 5)), (r2, scores(call, 5))], title="Alpha")
    b = reviewed(call, owner, manager, [(r1, scores(call, 4)), (r2, scores(call, 4))], title="Beta")
    c = reviewed(
        call, owner, manager, [(r1, scores(call, 4, C1=2)), (r2, scores(call, 4, C1=3))], title="Gamma"
    )
    d = reviewed(
        call, owner, manager, [(r1, scores(call, 3)), (r2, scores(call, 3))], title="Delta", annual_eur=10_000
    )
    return a, b, c, d


def test_consensus_page_and_override_justification(call, people, manager, manager_client, db):
    owner, r1, r2 = people
    proposal = reviewed(call, owner, manager, [(r1, scores(call, 5, C2=3)), (r2, scores(call, 3, C2=3))])
    page = manager_client.get(f"/manage/proposals/{proposal.id}/consensus").get_data(as_text=True)
    assert "Anna Berg" in page and "Paul Bernard" in page  # side by side, for the manager
    assert page.count('data-testid="disagreement"') == 6  # 5 vs 3 on every criterion but C2
    assert 'data-testid="weighted-score">3.800<' in page  # (4.6 + 3.0) / 2
    response = manager_client.post(
        f"/manage/proposals/{proposal.id}/consensus",
        data={"score": "4.5", "comment": "Strong.", "version": "0"},
    )
    assert response.status_code == 422
    assert "needs a written justification" in response.get_data(as_text=True)
    assert "Strong." in response.get_data(as_text=True)  # nothing typed is lost
    response = manager_client.post(
        f"/manage/proposals/{proposal.id}/consensus",
        data={
            "score": "4.5",
            "comment": "Strong.",
            "justification": "The panel discounted the outlier on C5.",
            "version": "0",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    consensus = db.session.scalar(db.select(Consensus).where(Consensus.proposal_id == proposal.id))
    assert (str(consensus.score), str(consensus.computed_score), consensus.grade) == ("4.500", "3.800", "A+")
    stored = db.session.get(Proposal, proposal.id)
    assert (str(stored.consensus_score), stored.consensus_grade, stored.consensus_comment) == (
        "4.500",
        "A+",
        "Strong.",
    )
    event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "consensus.recorded"))
    assert event.after["justification"] == "The panel discounted the outlier on C5."
    # A stale form (version 0 again) does not overwrite: the manager sees a conflict and keeps the text.
    response = manager_client.post(
        f"/manage/proposals/{proposal.id}/consensus",
        data={"score": "3.800", "comment": "Other text", "version": "0"},
    )
    assert response.status_code == 409 and "Other text" in response.get_data(as_text=True)


def test_ranking_draw_down_moves_and_proposal(call, four, manager, manager_client, db, outbox):
    a, b, c, d = four
    for p in four:
        record_consensus(p, manager)
    page = manager_client.get(f"/manage/calls/{call.id}/ranking").get_data(as_text=True)
    assert 'data-testid="rank"' in page
    assert manager_client.post(f"/manage/calls/{call.id}/ranking/rank").status_code == 302
    db.session.expire_all()
    got = {p.title: (p.state, p.rank_position, p.rank_list) for p in db.session.scalars(db.select(Proposal))}
    assert got == {
        "Alpha": ("ranked", 1, "main"),
        "Beta": ("ranked", 2, "main"),  # running total 24 000 <= 30 000
        "Delta": ("ranked", 3, "waiting"),  # 34 000 would exceed the envelope
        "Gamma": ("ranked", 4, "not_retained"),  # C1 mean 2.5 below the threshold 3
    }
    page = manager_client.get(f"/manage/calls/{call.id}/ranking").get_data(as_text=True)
    assert "Criterion C1: 2.50, below the threshold 3." in page
    assert "€24,000" in page  # the main list's total

    # Gamma cannot be moved into the money; a move needs a justification.
    response = manager_client.post(
        f"/manage/calls/{call.id}/ranking/move",
        data={"proposal_id": c.id, "position": 1, "justification": "A strategic priority for the institute."},
        follow_redirects=True,
    )
    assert "cannot be funded" in response.get_data(as_text=True)
    response = manager_client.post(
        f"/manage/calls/{call.id}/ranking/move",
        data={"proposal_id": d.id, "position": 1, "justification": "short"},
        follow_redirects=True,
    )
    assert "Justify the move in at least 20 characters." in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(RankingMove.id))) == 0
    response = manager_client.post(
        f"/manage/calls/{call.id}/ranking/move",
        data={"proposal_id": d.id, "position": 1, "justification": "Priority country of the 2027 agreement."},
    )
    assert response.status_code == 302
    db.session.expire_all()
    got = {p.title: (p.rank_position, p.rank_list) for p in db.session.scalars(db.select(Proposal))}
    assert got == {
        "Delta": (1, "main"),
        "Alpha": (2, "main"),
        "Beta": (3, "waiting"),
        "Gamma": (4, "not_retained"),
    }
    event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "ranking.moved"))
    assert event.before == {"position": 3, "list": "waiting"}
    assert event.after["justification"] == "Priority country of the 2027 agreement."

    assert manager_client.post(f"/manage/calls/{call.id}/ranking/propose").status_code == 302
    db.session.expire_all()
    states = {p.title: p.state for p in db.session.scalars(db.select(Proposal))}
    assert states == {"Delta": "proposed", "Alpha": "proposed", "Beta": "waitlisted", "Gamma": "not_retained"}
    alpha = db.session.get(Proposal, a.id)
    summary = alpha.assessment_summary
    assert summary["weighted_score"] == 5.0 and summary["grade"] == "A+"
    assert [c["code"] for c in summary["criteria"]] == [c.code for c in call.criteria]
    assert summary["criteria"][0] == {
        "code": "C1",
        "label_fr": call.criteria[0].label_fr,
        "label_en": call.criteria[0].label_en,
        "weight": 25,
        "score": 5.0,
    }
    assert summary["consensus_comment"] == "The panel agrees."
    # Once proposed, the lists no longer move here.
    response = manager_client.post(
        f"/manage/calls/{call.id}/ranking/move",
        data={"proposal_id": b.id, "position": 1, "justification": "Priority country of the 2027 agreement."},
        follow_redirects=True,
    )
    assert "Only a ranked proposal" in response.get_data(as_text=True)


def test_ranking_waits_for_screening_reviews_and_consensus(call, four, people, manager, manager_client, db):
    a, b, c, d = four
    owner, r1, r2 = people
    pending = make_proposal(call, owner, "under_review", title="Still in review")
    response = manager_client.post(f"/manage/calls/{call.id}/ranking/rank", follow_redirects=True)
    assert f"still being screened or reviewed: {pending.reference}" in response.get_data(as_text=True)
    db.session.delete(db.session.get(Proposal, pending.id))
    db.session.commit()
    response = manager_client.post(f"/manage/calls/{call.id}/ranking/rank", follow_redirects=True)
    assert "Record the consensus of every reviewed proposal first" in response.get_data(as_text=True)
    assert {p.state for p in db.session.scalars(db.select(Proposal))} == {"reviewed"}


FORMULA_STARTS = ("=", "+", "-", "@")


def _xlsx_cells(data: bytes) -> dict:
    sheet = load_workbook(io.BytesIO(data)).active
    return {cell.value: cell for row in sheet.iter_rows() for cell in row if cell.value is not None}


def _csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def test_exports_store_formulas_as_text(call, people, manager, manager_client, make_user, db):
    """Text typed by applicants (title, acronym) or reviewers (their name) starting with = + - @
    reaches both exports as inert text: a text cell in XLSX, a leading apostrophe in CSV. (Neither
    export carries the reviews' or the consensus' comments.)"""
    owner, _r1, _r2 = people
    # Reviewers' names reach the scores export only; the titles the ranking export only.
    equals = reviewer(make_user, "eq@lab.example", first_name="=1+2", last_name="Equals")
    minus = reviewer(make_user, "minus@lab.example", first_name='-2+3+cmd|" /C calc"!A0', last_name="Minus")
    first = reviewed(
        call,
        owner,
        manager,
        [(equals, scores(call, 4)), (minus, scores(call, 4))],
        title='=HYPERLINK("http://evil.example","click")',
        acronym="+SUM(1)",
    )
    second = reviewed(
        call,
        owner,
        manager,
        [(equals, scores(call, 3)), (minus, scores(call, 3))],
        title="-1+1 EVIL",
        acronym="@SUM(A1)",
    )
    for p in (first, second):
        record_consensus(p, manager)
    ranking_values = {  # column -> {reference: value}
        "Title": {first.reference: first.title, second.reference: second.title},
        "Acronym": {first.reference: "+SUM(1)", second.reference: "@SUM(A1)"},
    }
    scores_values = {
        "Acronym": {"+SUM(1)", "@SUM(A1)"},
        "Reviewer": {equals.full_name, minus.full_name},
    }
    assert {v[0] for column in ranking_values.values() for v in column.values()} == set(FORMULA_STARTS)
    assert {v[0] for column in scores_values.values() for v in column} == set(FORMULA_STARTS)

    # XLSX: each value is a text cell holding the literal text; no formula cell anywhere.
    for kind, expected in (
        ("ranking", {v for column in ranking_values.values() for v in column.values()}),
        ("scores", {v for column in scores_values.values() for v in column}),
    ):
        response = manager_client.get(f"/manage/calls/{call.id}/{kind}.xlsx")
        assert response.status_code == 200, kind
        assert response.headers["Content-Disposition"].startswith("attachment;")
        cells = _xlsx_cells(response.data)
        for value in expected:
            assert value in cells, (kind, value)
            assert cells[value].data_type == "s" and cells[value].value == value, (kind, value)
        assert [c.coordinate for c in cells.values() if c.data_type == "f"] == [], kind

    # CSV: each value is neutralised by a leading apostrophe, and no cell starts like a formula.
    ranking_rows = _csv_rows(manager_client.get(f"/manage/calls/{call.id}/ranking.csv").data)
    assert len(ranking_rows) == 2
    for row in ranking_rows:
        for column, by_reference in ranking_values.items():
            assert row[column] == "'" + by_reference[row["Reference"]], (column, row)
    scores_rows = _csv_rows(manager_client.get(f"/manage/calls/{call.id}/scores.csv").data)
    assert len(scores_rows) == 4  # two reviews of each proposal
    for column, values in scores_values.items():
        assert {row[column] for row in scores_rows} == {"'" + v for v in values}, column
    for rows in (ranking_rows, scores_rows):
        header_and_cells = [*rows[0].keys(), *(cell for row in rows for cell in row.values())]
        assert [c for c in header_and_cells if c.startswith(FORMULA_STARTS)] == []
    scores_sheet = load_workbook(
        io.BytesIO(manager_client.get(f"/manage/calls/{call.id}/scores.xlsx").data)
    ).active
    assert scores_sheet.max_row == 5  # the header and four reviews
    assert manager_client.get(f"/manage/calls/{call.id}/ranking.pdf").status_code == 404


def test_charts_are_drawn_in_the_page(call, four, manager_client):
    page = manager_client.get(f"/manage/calls/{call.id}/ranking").get_data(as_text=True)
    assert page.count('<svg class="chart"') == len(call.criteria) + 1
    assert 'data-testid="chart-C1"' in page and 'data-testid="chart-countries"' in page
    assert "<title>5: 2</title>" in page  # two reviews gave 5 on C1 (Alpha)
    assert "BR: " in page


def test_kept_charts_count_a_review_submitted_after_they_were_drawn(call, four, people, manager, manager_client):
    """The charts are kept under a fingerprint of the call's submitted reviews (read through their
    assignments): a new review shows at the next request, a review of another call does not."""
    owner, r1, r2 = people
    page = manager_client.get(f"/manage/calls/{call.id}/ranking").get_data(as_text=True)
    assert "<title>5: 2</title>" in page  # Alpha's two reviews gave 5 on C1
    other_call = make_call(manager, budget_envelope_eur=30_000)
    reviewed(other_call, owner, manager, [(r1, scores(other_call, 5))], title="Elsewhere")
    db.session.commit()
    page = manager_client.get(f"/manage/calls/{call.id}/ranking").get_data(as_text=True)
    assert "<title>5: 2</title>" in page  # another call's review changes nothing here
    reviewed(call, owner, manager, [(r1, scores(call, 5)), (r2, scores(call, 5))], title="Epsilon")
    db.session.commit()
    page = manager_client.get(f"/manage/calls/{call.id}/ranking").get_data(as_text=True)
    assert "<title>5: 4</title>" in page  # Epsilon's two reviews counted at once


# --- the page: one page of the stored ranking, the totals of the whole call ---------------------


def _agreed(call, owner, manager, score, **fields):
    """A reviewed proposal with its consensus (no review: no criterion mean, no threshold)."""
    proposal = make_proposal(call, owner, "reviewed", **fields)
    db.session.add(
        Consensus(
            proposal_id=proposal.id,
            score=Decimal(score),
            computed_score=Decimal(score),
            grade="A",
            moderated_by_id=manager.id,
        )
    )
    proposal.consensus_score = Decimal(score)
    proposal.consensus_grade = "A"
    db.session.commit()
    return proposal


def _rows(page: str) -> list[tuple[str, str]]:
    """(position, reference) of each row shown, in order."""
    return re.findall(r'data-testid="rank-row-([^"]+)">\s*<td>(\d+)</td>', page)


def _main_total(page: str) -> str:
    return re.search(r'data-testid="main-total">([^<]*)<', page).group(1)


@pytest.fixture
def many(manager, make_user):
    """27 reviewed proposals of a call without thresholds, consensus 4.90, 4.80, ... (12 k€ a
    year each, an envelope of 60 k€: the first five on the main list)."""
    call = make_call(manager, budget_envelope_eur=60_000)
    owner = make_user(email="many@inserm.example")
    proposals = [
        _agreed(call, owner, manager, f"{4.9 - n / 10:.2f}", title=f"Project {n + 1:02d}") for n in range(27)
    ]
    return call, proposals


def test_ranking_pages_keep_the_whole_call_s_positions_and_totals(many, manager_client):
    call, proposals = many
    url = f"/manage/calls/{call.id}/ranking"
    first = manager_client.get(url).get_data(as_text=True)
    assert _rows(first) == [(p.reference, str(n)) for n, p in enumerate(proposals[:25], start=1)]
    assert "Page 1 of 2" in first
    second = manager_client.get(f"{url}?page=2").get_data(as_text=True)
    assert _rows(second) == [(proposals[25].reference, "26"), (proposals[26].reference, "27")]
    # The envelope is drawn down over the whole call, whatever the page shown.
    assert _main_total(first) == _main_total(second) == "€60,000 · left in the envelope: €0"
    assert second.count("Main list</span>") == 0 and second.count("Waiting list</span>") == 2
    # One list, or a search on the reference, acronym or title; positions stay the call's.
    waiting = manager_client.get(f"{url}?list=waiting").get_data(as_text=True)
    assert [pos for _ref, pos in _rows(waiting)] == [str(n) for n in range(6, 28)][:25]
    found = manager_client.get(f"{url}?q=project+26").get_data(as_text=True)
    assert _rows(found) == [(proposals[25].reference, "26")]
    assert "No proposal here." in manager_client.get(f"{url}?q=nothing-like-it").get_data(as_text=True)
    # The export still holds the whole ranking.
    assert len(_csv_rows(manager_client.get(f"{url}.csv").data)) == 27


def test_moves_across_pages(many, manager_client, db):
    call, proposals = many
    url = f"/manage/calls/{call.id}/ranking"
    assert manager_client.post(f"{url}/rank").status_code == 302
    last_but_one = proposals[25]
    # From page 2 into the money: back on the page that shows it at its new place.
    response = manager_client.post(
        f"{url}/move",
        data={
            "proposal_id": last_but_one.id,
            "position": 2,
            "justification": "Priority country of the 2027 agreement.",
        },
    )
    assert response.status_code == 302 and response.headers["Location"].endswith(url)
    page = manager_client.get(url).get_data(as_text=True)
    assert _rows(page)[:3] == [
        (proposals[0].reference, "1"),
        (last_but_one.reference, "2"),
        (proposals[1].reference, "3"),
    ]
    assert f'id="pos-{last_but_one.id}" value="2"' in page  # its move form, on page 1 now
    # From page 1 to the end: shown on page 2.
    response = manager_client.post(
        f"{url}/move",
        data={
            "proposal_id": proposals[0].id,
            "position": 27,
            "justification": "Withdrawn partner, kept for the record.",
        },
    )
    assert response.headers["Location"].endswith(f"{url}?page=2")
    page = manager_client.get(f"{url}?page=2").get_data(as_text=True)
    assert _rows(page)[-1] == (proposals[0].reference, "27")
    db.session.expire_all()
    stored = {p.id: (p.rank_position, p.rank_list) for p in db.session.scalars(db.select(Proposal))}
    assert stored[last_but_one.id] == (1, "main")  # the first one moved down past it
    assert stored[proposals[1].id] == (2, "main")
    assert stored[proposals[0].id] == (27, "waiting")


def test_the_page_follows_changes_made_elsewhere(call, four, people, manager, manager_client, db):
    """The page shows a stored ranking: a consensus, a reopened review, an award or a new envelope
    recorded anywhere shows at the next view."""
    a, b, c, d = four
    for p in four:
        record_consensus(p, manager)
    url = f"/manage/calls/{call.id}/ranking"
    page = manager_client.get(url).get_data(as_text=True)
    assert [ref for ref, _pos in _rows(page)] == [a.reference, b.reference, d.reference, c.reference]
    assert "<title>5: 2</title>" in page  # two reviews gave 5 on C1 (Alpha)

    record_consensus(
        d, manager, score=Decimal("4.5"), justification="The panel discounted the outlier on C5."
    )
    page = manager_client.get(url).get_data(as_text=True)
    assert [ref for ref, _pos in _rows(page)] == [a.reference, d.reference, b.reference, c.reference]

    review = db.session.scalar(db.select(Review).where(Review.proposal_id == a.id))
    in_request(assessment_ops.reopen_review, review, manager, "Please look at the budget again.")
    page = manager_client.get(url).get_data(as_text=True)
    assert [ref for ref, _pos in _rows(page)] == [d.reference, b.reference, c.reference]
    assert a.reference in re.search(r'data-testid="unfinished">(.*?)</div>', page, re.S).group(1)
    assert "<title>5: 1</title>" in page  # one review of Alpha left to count

    db.session.get(type(call), call.id).budget_envelope_eur = 12_000
    db.session.commit()
    page = manager_client.get(url).get_data(as_text=True)
    assert _main_total(page) == "€10,000 · left in the envelope: €2,000"  # Delta (10 k€) alone

    awarded = db.session.get(Proposal, b.id)
    awarded.state, awarded.decision_annual_eur = "awarded", 5_000
    db.session.commit()
    page = manager_client.get(url).get_data(as_text=True)
    assert "already awarded: €5,000" in page
    assert [ref for ref, _pos in _rows(page)] == [d.reference, c.reference]
