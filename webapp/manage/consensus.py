"""The consensus of a proposal: all reviews side by side, statistics and disagreement flags,
the moderated score and comment; reopening a submitted review."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm.exc import StaleDataError

from forms.assessment import ConsensusForm, RequiredReasonForm
from webapp.access import can_moderate, roles_required
from webapp.extensions import db
from webapp.manage import bp
from webapp.manage.screening import actor, flash_refusal, proposal_or_404
from webapp.models.assessment import Review
from webapp.operations import assessment as assessment_ops
from webapp.operations import ranking as ops
from workflows.scoring import is_override, to_decimal


def _render(proposal, form, status=200, refused=(), conflict=False):
    grid = proposal.call.grid()
    reviews = ops.counted_reviews(proposal)
    stats = ops.scores_of(proposal, grid)
    consensus = ops.consensus_of(proposal)
    profiles = {
        a.reviewer_id: assessment_ops.profile_of(a.reviewer) for a in assessment_ops.assignments_of(proposal)
    }
    return render_template(
        "manage/assessment/consensus.html",
        proposal=proposal,
        call=proposal.call,
        grid=grid,
        reviews=reviews,
        stats=stats,
        consensus=consensus,
        form=form,
        refused=list(refused),
        conflict=conflict,
        assignments=assessment_ops.assignments_of(proposal),
        profiles=profiles,
        reopen_form=RequiredReasonForm(formdata=None),
        to_decimal=to_decimal,
        editable=proposal.state in ops.CONSENSUS_STATES,
        override=consensus is not None and is_override(consensus.computed_score, consensus.score),
    ), status


@bp.route("/proposals/<int:proposal_id>/consensus", methods=["GET", "POST"])
@roles_required(can_moderate)
def consensus(proposal_id: int):
    proposal = proposal_or_404(proposal_id)
    form = ConsensusForm()
    if request.method == "GET":
        existing = ops.consensus_of(proposal)
        if existing is not None:
            form.score.data = existing.score
            form.comment.data = existing.comment
            form.justification.data = existing.override_justification
            form.open_to_reviewers.data = existing.open_to_reviewers
            form.version.data = str(existing.version_id)
        else:
            form.score.data = to_decimal(ops.scores_of(proposal).weighted_score)
            form.version.data = "0"
        return _render(proposal, form)
    if not form.validate_on_submit():
        return _render(proposal, form, 422)
    version = (form.version.data or "").strip()
    try:
        ops.record_consensus(
            proposal,
            actor(),
            form.score.data,
            form.comment.data or "",
            form.justification.data or "",
            bool(form.open_to_reviewers.data),
            int(version) if version.isdigit() else None,
        )
        db.session.commit()
    except assessment_ops.AssessmentRefused as refused:
        db.session.rollback()
        return _render(proposal_or_404(proposal_id), form, 422, refused.messages)
    except (ops.ConsensusConflict, StaleDataError):
        db.session.rollback()
        proposal = proposal_or_404(proposal_id)
        current = ops.consensus_of(proposal)
        form.version.data = str(current.version_id) if current is not None else "0"
        return _render(proposal, form, 409, conflict=True)
    flash(_("Consensus recorded for %(ref)s.", ref=proposal.reference), "success")
    return redirect(url_for(".consensus", proposal_id=proposal.id))


@bp.post("/reviews/<int:review_id>/reopen")
@roles_required(can_moderate)
def reopen_review(review_id: int):
    review = db.session.get(Review, review_id)
    if review is None:
        abort(404)
    proposal_id = review.proposal_id
    form = RequiredReasonForm()
    if not form.validate_on_submit():
        flash(_("Give the reviewer a reason to reopen their review."), "danger")
        return redirect(url_for(".consensus", proposal_id=proposal_id))
    try:
        assessment_ops.reopen_review(review, actor(), form.reason.data)
    except assessment_ops.AssessmentRefused as refused:
        db.session.rollback()
        flash_refusal(refused)
    else:
        db.session.commit()
        flash(_("The review is reopened; the reviewer was told."), "success")
    return redirect(url_for(".consensus", proposal_id=proposal_id))
