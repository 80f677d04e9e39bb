"""Assignment of reviewers: the automatic assignment and its preview, sending, manual
assignment and reassignment, detected conflicts, load caps, infeasibility."""

from __future__ import annotations

import pytest

from tests.factories import make_call, make_proposal
from tests.webapp.assessment_fixtures import accept_and_declare, propose, reviewer, send
from webapp.models import AuditEvent, OutboxMessage, Proposal
from webapp.models.assessment import ReviewAssignment
from workflows.reviews import AssignmentStatus


@pytest.fixture
def call(manager):
    return make_call(manager)


@pytest.fixture
def owner(make_user):
    return make_user(email="claire.martin@inserm.example", first_name="Claire", last_name="Martin")


@pytest.fixture
def pool(make_user):
    return {
        "ext1": reviewer(make_user, "anna.berg@ki.example", external=True, keywords="neuroscience, ageing"),
        "ext2": reviewer(
            make_user,
            "marco.rossi@unimi.example",
            external=True,
            keywords="malaria",
            institution="Università di Milano",
        ),
        "int1": reviewer(
            make_user,
            "paul.bernard@inserm.fr",
            external=False,
            institution="Inserm",
            unit_code="U999",
            keywords="ageing",
        ),
        "int2": reviewer(
            make_user,
            "lea.petit@inserm.fr",
            external=False,
            institution="Inserm",
            unit_code="U777",
            keywords="cardiology",
        ),
    }


def _assignments(db, proposal_id=None):
    db.session.expire_all()
    stmt = db.select(ReviewAssignment).order_by(ReviewAssignment.id)
    if proposal_id:
        stmt = stmt.where(ReviewAssignment.proposal_id == proposal_id)
    return db.session.scalars(stmt).all()


def test_automatic_assignment_is_a_preview_until_sent(call, owner, pool, manager_client, db, outbox):
    proposals = [make_proposal(call, owner, "eligible", title=f"P{n}") for n in range(3)]
    response = manager_client.post(
        f"/manage/calls/{call.id}/assignment/auto", data={"due_date": "2031-05-15"}
    )
    assert response.status_code == 302
    rows = _assignments(db)
    assert len(rows) == 6 and {r.status for r in rows} == {AssignmentStatus.PROPOSED}
    assert outbox() == []  # nothing sent yet
    for proposal in proposals:
        mine = [r for r in rows if r.proposal_id == proposal.id]
        assert len(mine) == 2
        assert any(r.reviewer_id in (pool["ext1"].id, pool["ext2"].id) for r in mine)  # one external at least
    page = manager_client.get(f"/manage/calls/{call.id}/assignment?show=preview").get_data(as_text=True)
    assert "not sent yet" in page

    response = manager_client.post(f"/manage/calls/{call.id}/assignment/send", data={})
    assert response.status_code == 302
    rows = _assignments(db)
    assert {r.status for r in rows} == {AssignmentStatus.INVITED}
    invitations = [m for m in outbox() if m.template == "review_invitation"]
    assert len(invitations) == len({r.reviewer_id for r in rows})  # one e-mail per reviewer
    for mail in invitations:
        # The e-mail names the call, never a proposal: a reviewer may turn out to be conflicted.
        assert all(p.title not in mail.body_text and p.reference not in mail.body_text for p in proposals)
        assert "15 May 2031" in mail.body_text


def test_discarding_the_preview(call, owner, pool, manager_client, db, outbox):
    make_proposal(call, owner, "eligible")
    manager_client.post(f"/manage/calls/{call.id}/assignment/auto", data={"due_date": "2031-05-15"})
    assert _assignments(db)
    assert manager_client.post(f"/manage/calls/{call.id}/assignment/discard").status_code == 302
    assert _assignments(db) == []
    assert outbox() == []


def test_infeasible_assignment_is_reported(call, owner, make_user, manager_client, db):
    reviewer(make_user, "only.internal@inserm.fr", external=False, institution="Inserm", unit_code="U1")
    proposal = make_proposal(call, owner, "eligible")
    response = manager_client.post(
        f"/manage/calls/{call.id}/assignment/auto", data={"due_date": "2031-05-15"}, follow_redirects=True
    )
    page = response.get_data(as_text=True)
    assert "cannot serve every proposal" in page
    assert f"{proposal.reference}: 1 reviewer(s) missing, no external reviewer yet" in page
    assert "1 candidate(s) without conflict and with capacity left, 0 of them external" in page


def test_detected_conflicts_keep_reviewers_away(call, owner, make_user, manager_client, db):
    same_domain = reviewer(make_user, "ana.souza@usp.example", external=True, institution="Other")
    same_unit = reviewer(
        make_user, "jean.dupont@inserm.fr", external=False, institution="Inserm", unit_code="U1234"
    )
    named = reviewer(make_user, "joana.silva2@elsewhere.example", first_name="Joana", last_name="Silva")
    clean = [reviewer(make_user, f"clean{n}@lab{n}.example", external=True) for n in range(2)]
    proposal = make_proposal(call, owner, "eligible")
    manager_client.post(f"/manage/calls/{call.id}/assignment/auto", data={"due_date": "2031-05-15"})
    chosen = {r.reviewer_id for r in _assignments(db, proposal.id)}
    assert chosen == {c.id for c in clean}
    page = manager_client.get(f"/manage/proposals/{proposal.id}/assignment").get_data(as_text=True)
    assert "Same e-mail domain as a team (usp.example)." in page
    assert "Same institution as a team (Inserm U1234)." in page
    assert "Named in the proposal (Joana Silva)." in page

    # A manual assignment of a detected conflict is refused, unless the manager overrides it.
    response = manager_client.post(
        f"/manage/proposals/{proposal.id}/assignment",
        data={"reviewer_id": same_domain.id, "due_date": "2031-05-15"},
    )
    assert response.status_code == 422
    assert "Possible conflict of interest detected" in response.get_data(as_text=True)
    response = manager_client.post(
        f"/manage/proposals/{proposal.id}/assignment",
        data={"reviewer_id": same_domain.id, "due_date": "2031-05-15", "override_detection": "y"},
    )
    assert response.status_code == 302
    event = db.session.scalar(
        db.select(AuditEvent).where(AuditEvent.action == "assignment.proposed").order_by(AuditEvent.id.desc())
    )
    assert event.after["detected_overridden"] == ["Same e-mail domain as a team (usp.example)."]
    del same_unit, named


def test_load_caps_hold(call, owner, make_user, manager_client, db):
    busy = reviewer(make_user, "busy@lab.example", max_load=1)
    first, second = make_proposal(call, owner, "eligible"), make_proposal(call, owner, "eligible")
    assert (
        manager_client.post(
            f"/manage/proposals/{first.id}/assignment",
            data={"reviewer_id": busy.id, "due_date": "2031-05-15"},
        ).status_code
        == 302
    )
    response = manager_client.post(
        f"/manage/proposals/{second.id}/assignment", data={"reviewer_id": busy.id, "due_date": "2031-05-15"}
    )
    assert response.status_code == 422
    assert "reached their load cap" in response.get_data(as_text=True)


def test_reassignment_and_the_move_to_under_review(call, owner, pool, manager, manager_client, db, outbox):
    proposal = make_proposal(call, owner, "eligible")
    a1 = propose(proposal, pool["ext1"], manager)
    a2 = propose(proposal, pool["int1"], manager)
    send(call, manager)
    db.session.refresh(a1)
    db.session.refresh(a2)
    accept_and_declare(a1, pool["ext1"])
    assert db.session.get(Proposal, proposal.id).state == "eligible"  # one declaration still pending

    # int1 is taken off (e.g. too slow) and replaced by int2.
    response = manager_client.post(f"/manage/assignments/{a2.id}/remove", data={"reason": "No answer."})
    assert response.status_code == 302
    assert db.session.get(ReviewAssignment, a2.id).status == AssignmentStatus.REMOVED
    assert [m for m in outbox(pool["int1"].email) if m.template == "review_removed"]
    a3 = propose(proposal, pool["int2"], manager)
    send(call, manager)
    db.session.refresh(a3)
    accept_and_declare(a3, pool["int2"])
    db.session.expire_all()
    assert db.session.get(Proposal, proposal.id).state == "under_review"
    event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "proposal.start_review"))
    assert event.actor_id == manager.id and event.after["automatic"]


def test_a_reviewer_declaring_a_conflict_is_removed_and_the_manager_alerted(
    call, owner, pool, manager, db, outbox, login, app
):
    proposal = make_proposal(call, owner, "eligible", title="Confidential neurons")
    assignment = propose(proposal, pool["ext1"], manager)
    send(call, manager)
    client = login(pool["ext1"], app.test_client())
    response = client.post(
        f"/review/assignments/{assignment.id}/declaration",
        data={"kind": "coauthor_5y", "comment": "We published together in 2024."},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(ReviewAssignment, assignment.id).status == AssignmentStatus.REMOVED
    [alert] = [m for m in outbox(manager.email) if m.template == "review_conflict_alert"]
    assert proposal.reference in alert.subject and "Co-author (last 5 years)" in alert.body_text
    # The manager cannot put them back on it.
    manager_client = login(manager, app.test_client())
    response = manager_client.post(
        f"/manage/proposals/{proposal.id}/assignment",
        data={"reviewer_id": pool["ext1"].id, "due_date": "2031-05-15", "override_detection": "y"},
    )
    assert response.status_code == 422
    assert (
        db.session.scalar(
            db.select(db.func.count(OutboxMessage.id)).where(
                OutboxMessage.recipient == pool["ext1"].email, OutboxMessage.template == "review_invitation"
            )
        )
        == 1
    )


def test_only_managers_assign(call, owner, pool, app, login, make_user):
    proposal = make_proposal(call, owner, "eligible")
    for roles in (("reviewer",), ("applicant",), ("admin",), ("directorate",)):
        client = login(make_user(roles=roles), app.test_client())
        assert client.get(f"/manage/calls/{call.id}/assignment").status_code == 403
        assert (
            client.post(
                f"/manage/calls/{call.id}/assignment/auto", data={"due_date": "2031-01-01"}
            ).status_code
            == 403
        )
        assert client.get(f"/manage/proposals/{proposal.id}/assignment").status_code == 403
