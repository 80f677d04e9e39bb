"""Builders shared by the assessment tests: reviewers with a pool profile, assignments taken to
any step, submitted reviews. They go through the use cases (webapp.operations.assessment), so
what they build is what the pages would have built."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from webapp.extensions import db
from webapp.models import utcnow
from webapp.models.assessment import ReviewerProfile
from webapp.operations import assessment as ops
from webapp.operations import ranking as ranking_ops

LONG = "A careful and well argued comment of sufficient length."


def reviewer(
    make_user,
    email,
    *,
    external=True,
    keywords="neuroscience, ageing",
    institution="Karolinska Institutet",
    max_load=5,
    first_name="Rev",
    last_name=None,
    unit_code="",
):
    user = make_user(
        roles=("reviewer",),
        email=email,
        first_name=first_name,
        last_name=last_name or email.split("@")[0].replace(".", " ").title().replace(" ", ""),
    )
    db.session.add(
        ReviewerProfile(
            user_id=user.id,
            keywords=keywords,
            institution_name=institution,
            is_external=external,
            max_load=max_load,
            unit_code=unit_code,
        )
    )
    db.session.commit()
    return user


def in_request(fn, *args, **kwargs):
    """Run a use case as a request would (url_for needs one for the e-mailed links)."""
    with current_app.test_request_context():
        result = fn(*args, **kwargs)
        db.session.commit()
        return result


def propose(proposal, reviewer_user, manager, **kwargs):
    kwargs.setdefault("due_at", utcnow() + timedelta(days=20))
    return in_request(ops.add_assignment, proposal, reviewer_user, manager, **kwargs)


def send(call, manager):
    return in_request(ops.send_proposed, call, manager)


def accept_and_declare(assignment, reviewer_user, kind="none"):
    def run():
        if kind == "none":
            ops.accept(assignment, reviewer_user)
        ops.declare(assignment, reviewer_user, kind, "")

    return in_request(run)


def scores(call, value=4, **by_code):
    return {c.code: by_code.get(c.code, value) for c in call.criteria}


def submit(
    assignment,
    reviewer_user,
    score_map,
    *,
    for_applicants=LONG,
    comment=LONG,
    confidential="",
    ethics: bool | str = False,
):
    """Submit a review. ``confidential`` is the comment for the committee only; ``ethics`` raises
    the ethics flag (a string also gives the ethics comment)."""
    data = ops.ReviewData(
        scores=score_map,
        comments={code: comment for code in score_map},
        for_applicants=for_applicants,
        confidential=confidential,
        ethics_flag=bool(ethics),
        ethics_comment=ethics if isinstance(ethics, str) else "",
    )
    return in_request(ops.save_review, assignment, reviewer_user, data, None, submit=True)


def reviewed(call, coordinator, manager, reviewers_and_scores, **proposal_fields):
    """A proposal of ``call`` taken from eligible to reviewed by the given (reviewer, scores)."""
    from tests.factories import make_proposal

    proposal = make_proposal(call, coordinator, "eligible", **proposal_fields)
    assignments = [propose(proposal, r, manager) for r, _ in reviewers_and_scores]
    send(call, manager)
    for assignment, (r, score_map) in zip(assignments, reviewers_and_scores, strict=True):
        db.session.refresh(assignment)
        accept_and_declare(assignment, r)
        submit(assignment, r, score_map)
    db.session.refresh(proposal)
    return proposal


def record_consensus(
    proposal, manager, score=None, comment="The panel agrees.", justification="", open_=False
):
    stats = ranking_ops.scores_of(proposal)
    from workflows.scoring import to_decimal

    value = score if score is not None else to_decimal(stats.weighted_score)
    return in_request(
        ranking_ops.record_consensus, proposal, manager, value, comment, justification, open_, None
    )
