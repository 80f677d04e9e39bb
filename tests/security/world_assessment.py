"""Objects of the assessment capability in the security world (keys prefixed "assessment_").

A published call with, all the owner's:
- ``assessment_submitted``: a submitted proposal (screening);
- ``assessment_proposal``: a proposal under review, assigned to ``assigned_reviewer`` (accepted,
  no conflict declared, no review yet) with a file attached; ``conflicted_reviewer`` declared a
  conflict on it (their assignment is removed: ``assessment_conflicted_assignment``);
- ``assessment_invited``: an eligible proposal to which ``assigned_reviewer`` is only invited;
- ``assessment_reviewed``: a reviewed proposal whose consensus is open to its reviewers, with the
  assigned reviewer's submitted review (``assessment_review``); ``conflicted_reviewer`` declared a
  conflict on it too.
The three world reviewers are in the pool. Rows are written directly: the world is a fixture,
the use cases are tested elsewhere.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from tests.factories import make_call, make_proposal
from tests.security.world import world_builder
from webapp.models import Attachment, utcnow
from webapp.models.assessment import (
    ConflictDeclaration,
    Consensus,
    Review,
    ReviewAssignment,
    ReviewerProfile,
    ReviewScore,
)
from webapp.storage import save_bytes
from workflows.conflicts import ConflictKind
from workflows.reviews import AssignmentStatus, ReviewStatus

LONG = "A careful and well argued comment of sufficient length."


def _assignment(db, proposal, reviewer, manager, status, **fields):
    row = ReviewAssignment(
        proposal_id=proposal.id,
        call_id=proposal.call_id,
        reviewer_id=reviewer.id,
        status=status,
        assigned_by_id=manager.id,
        due_at=utcnow() + timedelta(days=20),
        invited_at=utcnow(),
        **fields,
    )
    db.session.add(row)
    db.session.flush()
    return row


def _declare(db, proposal, reviewer, kind):
    db.session.add(ConflictDeclaration(proposal_id=proposal.id, reviewer_id=reviewer.id, kind=kind))


@world_builder
def assessment_world(world, make_user, db):
    manager, owner = world.users["manager"], world.users["owner"]
    assigned, conflicted = world.users["assigned_reviewer"], world.users["conflicted_reviewer"]
    for role, external in (
        ("assigned_reviewer", True),
        ("unassigned_reviewer", True),
        ("conflicted_reviewer", False),
    ):
        db.session.add(
            ReviewerProfile(
                user_id=world.users[role].id,
                keywords="neuroscience",
                institution_name=f"World institute {role}",
                is_external=external,
            )
        )
    call = make_call(manager, title_en="World assessment call")
    world.objects["assessment_call"] = call
    world.objects["assessment_submitted"] = make_proposal(call, owner, "submitted", title="World submitted")

    proposal = make_proposal(call, owner, "under_review", title="World under review")
    world.objects["assessment_proposal"] = proposal
    world.objects["assessment_assignment"] = _assignment(
        db, proposal, assigned, manager, AssignmentStatus.ACCEPTED
    )
    _declare(db, proposal, assigned, ConflictKind.NONE)
    world.objects["assessment_conflicted_assignment"] = _assignment(
        db,
        proposal,
        conflicted,
        manager,
        AssignmentStatus.REMOVED,
        removed_reason="conflict declared: personal",
    )
    _declare(db, proposal, conflicted, ConflictKind.PERSONAL)
    stored = save_bytes(db.session, b"%PDF-1.4 world letter", "pdf")
    attachment = Attachment(
        proposal_id=proposal.id,
        kind_code="support_letter",
        original_filename="letter.pdf",
        stored_name=stored.stored_name,
        content_type="application/pdf",
        size_bytes=stored.size_bytes,
        sha256=stored.sha256,
    )
    db.session.add(attachment)
    db.session.flush()
    world.objects["assessment_attachment"] = attachment

    invited = make_proposal(call, owner, "eligible", title="World invited")
    world.objects["assessment_invited"] = invited
    world.objects["assessment_invitation"] = _assignment(
        db, invited, assigned, manager, AssignmentStatus.INVITED
    )

    reviewed = make_proposal(call, owner, "reviewed", title="World reviewed")
    world.objects["assessment_reviewed"] = reviewed
    done = _assignment(db, reviewed, assigned, manager, AssignmentStatus.ACCEPTED)
    world.objects["assessment_reviewed_assignment"] = done
    _declare(db, reviewed, assigned, ConflictKind.NONE)
    _assignment(db, reviewed, conflicted, manager, AssignmentStatus.REMOVED)
    _declare(db, reviewed, conflicted, ConflictKind.COAUTHOR_5Y)
    review = Review(
        assignment_id=done.id,
        proposal_id=reviewed.id,
        reviewer_id=assigned.id,
        status=ReviewStatus.SUBMITTED,
        comment_for_applicants=LONG,
        submitted_at=utcnow(),
    )
    review.scores = [ReviewScore(criterion_code=c.code, score=4, comment=LONG) for c in call.criteria]
    db.session.add(review)
    db.session.add(
        Consensus(
            proposal_id=reviewed.id,
            computed_score=Decimal("4.000"),
            score=Decimal("4.000"),
            grade="A",
            comment="World consensus.",
            open_to_reviewers=True,
            moderated_by_id=manager.id,
        )
    )
    db.session.flush()
    world.objects["assessment_review"] = review
