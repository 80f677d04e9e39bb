"""Assignment of reviewers: a call's overview, the automatic assignment with its preview (sent
only when the manager says so), manual assignment and reassignment per proposal."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from forms import choices
from forms.assessment import (
    CONFLICT_SHORT_LABELS,
    AutoAssignForm,
    ManualAssignForm,
    ReasonForm,
    SendAssignmentsForm,
)
from forms.auth import ConfirmForm
from webapp.access import can_assign, roles_required
from webapp.extensions import db
from webapp.manage import bp
from webapp.manage.screening import actor, call_or_404, flash_refusal, proposal_or_404
from webapp.models import Proposal
from webapp.models.assessment import ReviewAssignment
from webapp.operations import assessment as ops
from webapp.pagination import paginate
from workflows.assignment import keywords as parse_keywords
from workflows.assignment import match as keyword_match
from workflows.conflicts import detect_conflicts
from workflows.reviews import ACTIVE_STATUSES, AssignmentStatus


def _gaps(plan: ops.AssignmentPlan) -> dict[int, dict]:
    """What each proposal still lacks, and how many reviewers could fill it."""
    gaps = {}
    slots = {r.key: r for r in plan.problem.reviewers}
    for need in plan.problem.proposals:
        allowed = [r for r in slots.values() if plan.problem.allowed(need, r)]
        gaps[need.key] = {
            "need": need.need,
            "needs_external": need.needs_external,
            "candidates": len(allowed),
            "external_candidates": sum(1 for r in allowed if r.external),
        }
    return gaps


def shortfall_message(proposal: Proposal, gap: dict) -> str:
    parts = []
    if gap["need"]:
        parts.append(_("%(n)d reviewer(s) missing", n=gap["need"]))
    if gap["needs_external"]:
        parts.append(_("no external reviewer yet"))
    detail = _(
        "%(all)d candidate(s) without conflict and with capacity left, %(ext)d of them external",
        all=gap["candidates"],
        ext=gap["external_candidates"],
    )
    return f"{proposal.reference}: {', '.join(parts)} ({detail})."


@bp.get("/calls/<int:call_id>/assignment")
@roles_required(can_assign)
def assignment(call_id: int):
    call = call_or_404(call_id)
    show = request.args.get("show", "")
    stmt = select(Proposal).where(Proposal.call_id == call.id, Proposal.state.in_(list(ops.REVIEW_STATES)))
    if show == "preview":
        stmt = stmt.where(
            Proposal.id.in_(
                select(ReviewAssignment.proposal_id).where(
                    ReviewAssignment.call_id == call.id, ReviewAssignment.status == AssignmentStatus.PROPOSED
                )
            )
        )
    page = paginate(db, stmt.order_by(Proposal.reference))
    ids = [p.id for p in page.items]
    rows = (
        db.session.scalars(
            select(ReviewAssignment)
            .where(ReviewAssignment.proposal_id.in_(ids))
            .order_by(ReviewAssignment.id)
        ).all()
        if ids
        else []
    )
    by_proposal: dict[int, list[ReviewAssignment]] = {}
    for row in rows:
        by_proposal.setdefault(row.proposal_id, []).append(row)
    plan = ops.assignment_plan(call)
    gaps = _gaps(plan)
    loads = ops.loads_in_call(call.id)
    preview = ops.proposed_assignments(call)
    auto_form = AutoAssignForm(formdata=None, due_date=ops.default_due_date())
    send_form = SendAssignmentsForm(formdata=None, due_date=ops.default_due_date())
    return render_template(
        "manage/assessment/assignment.html",
        call=call,
        page=page,
        by_proposal=by_proposal,
        gaps=gaps,
        loads=loads,
        profiles=plan.profiles,
        preview=preview,
        auto_form=auto_form,
        send_form=send_form,
        confirm_form=ConfirmForm(),
        show=show,
        shortfall_message=shortfall_message,
        unserved=[plan.proposals[k] for k, g in gaps.items() if g["need"] or g["needs_external"]],
    )


@bp.post("/calls/<int:call_id>/assignment/auto")
@roles_required(can_assign)
def auto_assign(call_id: int):
    call = call_or_404(call_id)
    form = AutoAssignForm()
    if not form.validate_on_submit():
        flash(_("Choose the date the reviews are due."), "danger")
        return redirect(url_for(".assignment", call_id=call.id))
    try:
        result = ops.auto_assign(call, actor(), ops.due_at_end_of(form.due_date.data))
    except ops.AssessmentRefused as refused:
        db.session.rollback()
        flash_refusal(refused)
        return redirect(url_for(".assignment", call_id=call.id))
    db.session.commit()
    flash(
        _(
            "Proposed assignment: %(n)d reviewer(s) to invite. Check the preview below, then send it.",
            n=len(result.pairs),
        ),
        "success" if result.feasible else "warning",
    )
    if not result.feasible:
        proposals = {p.id: p for p in ops.proposals_in_review(call)}
        flash(_("The assignment cannot serve every proposal as the rules require:"), "warning")
        for shortfall in result.shortfalls:
            flash(
                shortfall_message(
                    proposals[shortfall.key],
                    {
                        "need": shortfall.missing,
                        "needs_external": shortfall.missing_external,
                        "candidates": shortfall.candidates,
                        "external_candidates": shortfall.external_candidates,
                    },
                ),
                "warning",
            )
    return redirect(url_for(".assignment", call_id=call.id, show="preview"))


@bp.post("/calls/<int:call_id>/assignment/send")
@roles_required(can_assign)
def send_assignments(call_id: int):
    call = call_or_404(call_id)
    form = SendAssignmentsForm()
    if not form.validate_on_submit():
        abort(400)
    due_at = ops.due_at_end_of(form.due_date.data) if form.due_date.data else None
    try:
        sent = ops.send_proposed(call, actor(), due_at)
    except ops.AssessmentRefused as refused:
        db.session.rollback()
        flash_refusal(refused)
        return redirect(url_for(".assignment", call_id=call.id))
    db.session.commit()
    flash(_("%(n)d invitation(s) sent to the reviewers.", n=sent), "success")
    return redirect(url_for(".assignment", call_id=call.id))


@bp.post("/calls/<int:call_id>/assignment/discard")
@roles_required(can_assign)
def discard_assignments(call_id: int):
    call = call_or_404(call_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    dropped = ops.discard_proposed(call, actor())
    db.session.commit()
    flash(_("Preview discarded (%(n)d proposed assignment(s)).", n=dropped), "info")
    return redirect(url_for(".assignment", call_id=call.id))


def _candidates(proposal: Proposal):
    """The pool as seen from one proposal: load, expertise, detected and declared conflicts."""
    plan_profiles = ops.active_profiles()
    loads = ops.loads_in_call(proposal.call_id)
    declarations = ops.declared_conflicts([proposal.id])
    domains = ops.institution_domains(
        [p.institution_id for p in plan_profiles] + [t.institution_id for t in proposal.teams]
    )
    facts = ops.proposal_facts(proposal, domains)
    on_it = {a.reviewer_id for a in ops.assignments_of(proposal) if a.status in ACTIVE_STATUSES}
    wanted = parse_keywords(proposal.keywords)
    rows = []
    for profile in plan_profiles:
        declaration = declarations.get((proposal.id, profile.user_id))
        rows.append(
            {
                "profile": profile,
                "load": loads.get(profile.user_id, 0),
                "match": keyword_match(wanted, parse_keywords(profile.keywords)),
                "detected": detect_conflicts(ops.reviewer_facts(profile, domains), facts),
                "declared": declaration if declaration is not None and declaration.is_conflict else None,
                "applicant": ops.is_applicant_on(profile.user, proposal),
                "on_it": profile.user_id in on_it,
            }
        )
    rows.sort(
        key=lambda r: (
            r["declared"] is not None or r["applicant"],
            bool(r["detected"]),
            -r["match"],
            r["load"],
            r["profile"].user.last_name,
        )
    )
    return rows


@bp.route("/proposals/<int:proposal_id>/assignment", methods=["GET", "POST"])
@roles_required(can_assign)
def proposal_assignment(proposal_id: int):
    proposal = proposal_or_404(proposal_id)
    candidates = _candidates(proposal)
    form = ManualAssignForm()
    form.reviewer_id.choices = choices(
        [
            (r["profile"].user_id, f"{r['profile'].user.full_name} ({r['profile'].user.email})")
            for r in candidates
            if not (r["declared"] or r["applicant"] or r["on_it"])
        ]
    )
    status = 200
    if request.method == "GET":
        form.due_date.data = ops.default_due_date()
    elif form.validate_on_submit():
        reviewer = next(
            r["profile"].user for r in candidates if r["profile"].user_id == form.reviewer_id.data
        )
        try:
            ops.add_assignment(
                proposal,
                reviewer,
                actor(),
                due_at=ops.due_at_end_of(form.due_date.data),
                override_detection=bool(form.override_detection.data),
            )
        except ops.AssessmentRefused as refused:
            db.session.rollback()
            flash_refusal(refused)
            proposal = proposal_or_404(proposal_id)
            status = 422
        else:
            db.session.commit()
            flash(
                _(
                    "%(name)s is proposed for %(ref)s: send the invitations from the call's assignment page.",
                    name=reviewer.full_name,
                    ref=proposal.reference,
                ),
                "success",
            )
            return redirect(url_for(".proposal_assignment", proposal_id=proposal.id))
    else:
        status = 422
    return render_template(
        "manage/assessment/proposal_assignment.html",
        proposal=proposal,
        call=proposal.call,
        form=form,
        candidates=candidates,
        assignments=ops.assignments_of(proposal),
        reason_form=ReasonForm(formdata=None),
        declarations=ops.declared_conflicts([proposal.id]),
        conflict_labels=CONFLICT_SHORT_LABELS,
        progress=ops.review_progress(proposal),
    ), status


@bp.post("/assignments/<int:assignment_id>/remove")
@roles_required(can_assign)
def remove_assignment(assignment_id: int):
    assignment = db.session.get(ReviewAssignment, assignment_id)
    if assignment is None:
        abort(404)
    proposal_id = assignment.proposal_id
    form = ReasonForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        ops.remove_assignment(assignment, actor(), form.reason.data or "")
    except ops.AssessmentRefused as refused:
        db.session.rollback()
        flash_refusal(refused)
    else:
        db.session.commit()
        flash(_("The reviewer was taken off the proposal."), "success")
    return redirect(url_for(".proposal_assignment", proposal_id=proposal_id))
