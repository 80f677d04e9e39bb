"""Eligibility screening: per proposal (automatic checks and the manual checklist) and in bulk
for a call. Also the helpers the other assessment pages share (loading with 404s)."""

from __future__ import annotations

import io

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from forms.assessment import CHECKLIST_LABELS, BulkScreeningForm, ScreeningForm
from webapp.access import can_assign, can_screen, roles_required
from webapp.extensions import db
from webapp.manage import bp
from webapp.models import Attachment, Proposal, User
from webapp.models.calls import Call
from webapp.operations import assessment as ops
from webapp.pagination import paginate
from webapp.storage import read_bytes
from workflows.proposal_states import ProposalState
from workflows.screening import CHECKLIST

SCREENING_FILTERS = {
    "submitted": (ProposalState.SUBMITTED,),
    "eligible": (
        ProposalState.ELIGIBLE,
        ProposalState.UNDER_REVIEW,
        ProposalState.REVIEWED,
        ProposalState.RANKED,
        ProposalState.PROPOSED,
        ProposalState.WAITLISTED,
        ProposalState.NOT_RETAINED,
        ProposalState.AWARDED,
        ProposalState.REJECTED,
        ProposalState.AGREEMENT_PENDING,
    ),
    "ineligible": (ProposalState.INELIGIBLE,),
}


# --- shared by the assessment pages ----------------------------------------------------------


def locale() -> str:
    return str(get_locale() or "fr")


def actor() -> User:
    return current_user._get_current_object()


def call_or_404(call_id: int, options=()) -> Call:
    """A published call (404 otherwise); ``options``: loader options, e.g. `without_collections()`."""
    call = db.session.get(Call, call_id, options=list(options))
    if call is None or not call.is_published:
        abort(404)
    return call


def proposal_or_404(proposal_id: int) -> Proposal:
    """A proposal a manager may assess: anything past the applicant's draft (404 otherwise)."""
    proposal = db.session.get(Proposal, proposal_id)
    if (
        proposal is None
        or proposal.submitted_at is None
        or proposal.state
        in (
            ProposalState.DRAFT,
            ProposalState.LOI_SUBMITTED,
            ProposalState.LOI_SHORTLISTED,
            ProposalState.LOI_REJECTED,
        )
    ):
        abort(404)
    return proposal


def flash_refusal(refused: ops.AssessmentRefused) -> None:
    for message in refused.messages:
        flash(message, "danger")


def attachment_response(proposal: Proposal, attachment_id: int):
    """A proposal's file as a download (never shown inline), or 404."""
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.proposal_id != proposal.id:
        abort(404)
    try:
        data = read_bytes(attachment.stored_name)
    except (OSError, ValueError):
        abort(404)
    response = send_file(
        io.BytesIO(data),
        mimetype=attachment.content_type or "application/octet-stream",
        as_attachment=True,
        download_name=attachment.original_filename or "file",
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/proposals/<int:proposal_id>/files/<int:attachment_id>")
@roles_required(lambda user: can_screen(user) or can_assign(user))
def proposal_file(proposal_id: int, attachment_id: int):
    return attachment_response(proposal_or_404(proposal_id), attachment_id)


# --- one proposal --------------------------------------------------------------------------------


def _render_screening(proposal: Proposal, form: ScreeningForm, status: int = 200, refused=()):
    problems, warnings = ops.automatic_checks(proposal)
    return render_template(
        "manage/assessment/screening.html",
        proposal=proposal,
        call=proposal.call,
        form=form,
        problems=problems,
        warnings=warnings,
        screening=ops.screening_of(proposal),
        checklist=[(item, form[f"check_{item.code}"]) for item in CHECKLIST],
        refused=list(refused),
        annual_eur=ops.requested_annual_eur(proposal),
        checklist_labels=CHECKLIST_LABELS,
    ), status


@bp.route("/proposals/<int:proposal_id>/screening", methods=["GET", "POST"])
@roles_required(can_screen)
def screen_proposal(proposal_id: int):
    proposal = proposal_or_404(proposal_id)
    form = ScreeningForm()
    screening = ops.screening_of(proposal)
    if request.method == "GET":
        if screening is not None:
            form.notes.data = screening.notes
            for item in CHECKLIST:
                form[f"check_{item.code}"].data = bool(screening.checklist.get(item.code))
        form.reason.data = proposal.ineligible_reason
        return _render_screening(proposal, form)
    if not form.validate_on_submit():
        return _render_screening(proposal, form, 422)
    action = form.action.data or "save"
    try:
        if action == "eligible":
            ops.mark_eligible(proposal, actor(), form.checklist(), form.notes.data or "")
            message = _("%(ref)s is eligible; the applicants were told.", ref=proposal.reference)
        elif action == "ineligible":
            ops.mark_ineligible(
                proposal, actor(), form.reason.data or "", form.checklist(), form.notes.data or ""
            )
            message = _("%(ref)s is ineligible; the applicants were told why.", ref=proposal.reference)
        else:
            ops.save_checklist(proposal, actor(), form.checklist(), form.notes.data or "")
            message = _("Checklist saved.")
    except ops.AssessmentRefused as refused:
        db.session.rollback()
        proposal = proposal_or_404(proposal_id)
        return _render_screening(proposal, form, 422, refused.messages)
    db.session.commit()
    flash(message, "success")
    if action == "save":
        return redirect(url_for(".screen_proposal", proposal_id=proposal.id))
    return redirect(url_for(".screening_list", call_id=proposal.call_id))


# --- a whole call --------------------------------------------------------------------------------


def _screening_page(call: Call, state: str):
    stmt = (
        select(Proposal)
        .where(Proposal.call_id == call.id, Proposal.submitted_at.is_not(None))
        .options(selectinload(Proposal.teams), selectinload(Proposal.budget_lines))
        .order_by(Proposal.reference)
    )
    if state in SCREENING_FILTERS:
        stmt = stmt.where(Proposal.state.in_(list(SCREENING_FILTERS[state])))
    else:
        stmt = stmt.where(Proposal.state.in_([s for states in SCREENING_FILTERS.values() for s in states]))
    q = (request.args.get("q") or "").strip()[:100]
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(
            Proposal.reference.ilike(like) | Proposal.title.ilike(like) | Proposal.acronym.ilike(like)
        )
    return paginate(db, stmt), q


@bp.route("/calls/<int:call_id>/screening", methods=["GET", "POST"])
@roles_required(can_screen)
def screening_list(call_id: int):
    call = call_or_404(call_id)
    state = request.args.get("state", "submitted")
    page, q = _screening_page(call, state)
    checks = {p.id: ops.automatic_checks(p) for p in page.items}
    form = BulkScreeningForm()
    form.proposal_ids.choices = [
        (p.id, p.reference) for p in page.items if p.state == ProposalState.SUBMITTED and not checks[p.id][0]
    ]
    status = 200
    if request.method == "POST":
        # The choices are the proposals of the page shown; re-read them from the database.
        form.proposal_ids.choices = [
            (p.id, p.reference)
            for p in db.session.scalars(
                select(Proposal).where(Proposal.call_id == call.id, Proposal.state == ProposalState.SUBMITTED)
            )
        ]
        if form.validate_on_submit():
            done, refused = ops.bulk_mark_eligible(call, form.proposal_ids.data, actor())
            db.session.commit()
            if done:
                flash(_("%(n)d proposal(s) marked eligible; the applicants were told.", n=done), "success")
            for message in refused:
                flash(message, "danger")
            return redirect(url_for(".screening_list", call_id=call.id, state=state))
        status = 422
    return render_template(
        "manage/assessment/screening_list.html",
        call=call,
        page=page,
        checks=checks,
        form=form,
        state=state,
        q=q,
    ), status
