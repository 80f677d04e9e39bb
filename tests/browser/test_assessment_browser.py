"""In Chromium: a manager screens a submitted proposal (checklist, eligible), assigns reviewers
automatically and sends the preview; two reviewers accept, declare no conflict and score (the
weighted total computed live by static/review.js); the manager moderates the consensus, ranks the
call and proposes it to the Directorate-General."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.factories import make_call, make_proposal
from tests.webapp.assessment_fixtures import reviewer
from webapp.models import Proposal

PASSWORD = "correct horse battery"
COMMENT = "A careful and well argued comment of sufficient length."


def log_in(page, base, email):
    page.goto(base + "/auth/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Welcome").wait_for()


def log_out(page):
    page.get_by_role("button", name="Log out").click()


def live_total(values, weights) -> str:
    """The weighted total as review.js shows it: sum(score x weight) / sum(weights), 2 decimals."""
    return f"{sum(v * w for v, w in zip(values, weights, strict=True)) / sum(weights):.2f}"


def score_as(page, base, email, values, weights):
    log_in(page, base, email)
    page.get_by_test_id("nav-my-reviews").click()
    page.get_by_role("link", name="Answer").click()
    page.get_by_test_id("accept").click()
    # The declaration comes before the proposal can be opened.
    page.get_by_label("I have no conflict of interest with this proposal").check()
    page.get_by_test_id("declare").click()
    page.get_by_text("you may now read and score the proposal").wait_for()
    total = page.get_by_test_id("weighted-total")
    assert total.inner_text() == "—"
    for index in range(len(weights)):
        page.locator(f'input[name="score_{index}"][value="{values[index]}"]').check()
        page.locator(f'textarea[name="comment_{index}"]').fill(COMMENT)
        if index < len(weights) - 1:  # no total until every criterion has its score
            assert total.inner_text() == "—"
    page.get_by_label("Comment for the applicants").fill(COMMENT)
    # Computed in the page, before anything is sent to the server.
    expected = live_total(values, weights)
    expect(total).to_have_text(expected)
    assert total.inner_text() == expected
    # A changed score changes the total at once, and back.
    page.locator(f'input[name="score_0"][value="{values[0] % 5 + 1}"]').check()
    expect(total).to_have_text(live_total([values[0] % 5 + 1, *values[1:]], weights))
    page.locator(f'input[name="score_0"][value="{values[0]}"]').check()
    expect(total).to_have_text(expected)
    assert total.inner_text() == expected
    page.get_by_test_id("save-draft").click()
    page.get_by_text("Draft saved.").wait_for()
    page.get_by_test_id("submit-review").click()
    page.get_by_text("Your review is submitted. Thank you.").wait_for()
    text = page.get_by_test_id("weighted-total").inner_text()
    log_out(page)
    return text


def test_two_reviewers_score_and_a_manager_ranks(live_server, page, app, db, make_user):
    manager = make_user(
        roles=("manager",), email="sophie.durand@inserm.example", first_name="Sophie", last_name="Durand"
    )
    call = make_call(manager, title_en="Browser assessment call")
    owner = make_user(email="claire.martin@inserm.example", first_name="Claire", last_name="Martin")
    proposal = make_proposal(call, owner, "submitted", title="Neurons across borders")
    proposal_id, reference = proposal.id, proposal.reference
    reviewer(make_user, "anna.berg@ki.example", first_name="Anna", last_name="Berg", external=True)
    reviewer(
        make_user,
        "paul.bernard@inserm.fr",
        first_name="Paul",
        last_name="Bernard",
        external=False,
        institution="Inserm",
        unit_code="U9",
    )
    weights, call_id, manager_email = [c.weight for c in call.criteria], call.id, manager.email
    assert weights[0] == 25 and sum(weights) == 100
    db.session.commit()  # SQLite: the test never holds the write lock while the server works
    page.on("dialog", lambda dialog: dialog.accept())

    # The manager screens the submitted proposal: the whole checklist, then eligible.
    log_in(page, live_server, manager_email)
    page.goto(f"{live_server}/manage/calls/{call_id}")
    page.get_by_test_id("assessment-link").click()
    screening_list = page.get_by_test_id("screening-list")
    screening_list.wait_for()
    screening_list.get_by_role("row").filter(has_text=reference).get_by_role("link", name="Screen").click()
    page.get_by_test_id("automatic-ok").wait_for()
    boxes = page.locator('input[type="checkbox"][name^="check_"]')
    assert boxes.count() >= 1
    for index in range(boxes.count()):
        boxes.nth(index).check()
    page.get_by_test_id("mark-eligible").click()
    page.get_by_text(f"{reference} is eligible; the applicants were told.").wait_for()
    db.session.expire_all()
    assert db.session.get(Proposal, proposal_id).state == "eligible"
    db.session.commit()

    # The manager computes the assignment, checks the preview and sends it.
    page.get_by_role("link", name="Reviewers", exact=True).click()
    page.get_by_test_id("auto-assign").click()
    preview = page.get_by_test_id("preview")
    preview.wait_for()
    assert "Anna Berg" in preview.inner_text() and "Paul Bernard" in preview.inner_text()
    page.get_by_test_id("send-assignments").click()
    page.get_by_text("2 invitation(s) sent to the reviewers.").wait_for()
    log_out(page)

    # Two reviewers score; the total shown is the one computed live in the page.
    n = len(weights)
    first = score_as(page, live_server, "anna.berg@ki.example", [5] + [4] * (n - 1), weights)
    assert first == "4.25"  # C1 weighs 25 %; the server's total after the reload is the live one
    second = score_as(page, live_server, "paul.bernard@inserm.fr", [3] + [4] * (n - 1), weights)
    assert second == "3.75"
    db.session.expire_all()
    assert db.session.get(Proposal, proposal_id).state == "reviewed"
    db.session.commit()

    # The manager moderates: C1 is flagged (5 vs 3), the consensus overrides with a justification.
    log_in(page, live_server, manager_email)
    page.goto(f"{live_server}/manage/proposals/{proposal_id}/consensus")
    assert page.get_by_test_id("disagreement").count() == 1
    assert page.get_by_test_id("weighted-score").inner_text() == "4.000"
    page.get_by_label("Consensus score").fill("4.2")
    page.get_by_label("Consensus comment").fill("An ambitious and balanced partnership.")
    page.get_by_test_id("save-consensus").click()
    page.get_by_text("needs a written justification").first.wait_for()
    page.get_by_label("Justification of a score").fill("The panel weighed the partner's co-funding heavily.")
    page.get_by_test_id("save-consensus").click()
    page.get_by_text(f"Consensus recorded for {reference}.").wait_for()

    page.get_by_role("link", name="Consensus and ranking").click()
    page.get_by_test_id("rank").click()
    page.get_by_text("1 proposal(s) ranked.").wait_for()
    row = page.get_by_test_id(f"rank-row-{reference}")
    assert "Main list" in row.inner_text()
    assert page.get_by_test_id("chart-C1").is_visible()
    page.get_by_test_id("propose").click()
    page.get_by_text("Ranking proposed to the Directorate-General: 1 on the main list").wait_for()
    db.session.expire_all()
    stored = db.session.get(Proposal, proposal_id)
    assert (stored.state, stored.rank_list, str(stored.consensus_score)) == ("proposed", "main", "4.200")
    assert stored.assessment_summary["consensus_comment"] == "An ambitious and balanced partnership."
