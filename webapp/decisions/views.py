"""The decision letter and requests for review.

A pending decision is invisible to applicants: before release every route here answers them 404,
exactly as for a proposal that does not exist or is someone else's.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from forms.decisions import AnswerRedressForm, RedressForm
from webapp.access import (
    Refused,
    can_answer_redress,
    can_file_redress,
    can_view_decisions,
    can_view_letter,
    can_view_redress,
    roles_required,
)
from webapp.decisions import bp
from webapp.documents import issued
from webapp.extensions import db
from webapp.models import IssuedDocument, Proposal
from webapp.models.decisions import RedressRequest
from webapp.operations import decisions as ops
from webapp.pagination import paginate
from workflows.decisions import RedressStatus


def _actor():
    return current_user._get_current_object()


def _letter_proposal_or_404(proposal_id: int) -> Proposal:
    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None or not can_view_letter(current_user, proposal):
        abort(404)
    return proposal


@bp.get("/proposals/<int:proposal_id>/letter")
@login_required
def letter(proposal_id: int):
    proposal = _letter_proposal_or_404(proposal_id)
    reference = f"DEC-{proposal.reference}"
    version = request.args.get("version", type=int)
    stmt = select(IssuedDocument).where(IssuedDocument.reference == reference)
    if version is not None:
        stmt = stmt.where(IssuedDocument.version == version)
    document = db.session.scalar(stmt.order_by(IssuedDocument.version.desc()).limit(1))
    if document is None:
        if version is not None or not ops.is_released(proposal):
            abort(404)
        return render_template("decisions/letter_pending.html", proposal=proposal)
    return issued.pdf_download(document.stored_name, f"{document.reference}-v{document.version}.pdf")


def _own_released_or_404(proposal_id: int) -> Proposal:
    """The coordinator's (or co-coordinator's) proposal with a released decision; else 404."""
    proposal = db.session.get(Proposal, proposal_id)
    mine = proposal is not None and (
        proposal.is_coordinated_by(current_user) or proposal.is_co_coordinated_by(current_user)
    )
    if not mine or not ops.is_released(proposal):
        abort(404)
    return proposal


@bp.route("/proposals/<int:proposal_id>/redress", methods=["GET", "POST"])
@login_required
def file_redress(proposal_id: int):
    proposal = _own_released_or_404(proposal_id)
    window = ops.redress_window(proposal)
    if not can_file_redress(current_user, proposal):
        raise Refused(
            ops.translate(window.reason)
            if window.reason and proposal.is_coordinated_by(current_user)
            else _("Only the coordinator may file a request for review.")
        )
    form = RedressForm()
    if request.method == "GET" or not form.validate_on_submit():
        return render_template(
            "decisions/redress_form.html", proposal=proposal, form=form, window=window, problems=[]
        ), (200 if request.method == "GET" else 422)
    try:
        redress = ops.file_redress(proposal, _actor(), form.grounds.data)
    except ops.DecisionRefused as refused:
        db.session.rollback()
        return render_template(
            "decisions/redress_form.html",
            proposal=proposal,
            form=form,
            window=window,
            problems=refused.messages,
        ), 422
    request_id = redress.id
    db.session.commit()
    flash(_("Your request for review is filed. The programme managers will answer it."), "success")
    return redirect(url_for(".redress", request_id=request_id))


@bp.get("/redress")
@roles_required(can_view_decisions)
def redress_requests():
    status = request.args.get("status", "open")
    stmt = select(RedressRequest).order_by(RedressRequest.filed_at.desc(), RedressRequest.id.desc())
    if status in {s.value for s in RedressStatus}:
        stmt = stmt.where(RedressRequest.status == RedressStatus(status))
    else:
        status = "all"
    return render_template("decisions/redress_list.html", page=paginate(db, stmt), status=status)


def _redress_or_404(request_id: int) -> RedressRequest:
    redress = db.session.get(RedressRequest, request_id)
    if redress is None or not can_view_redress(current_user, redress):
        abort(404)
    return redress


@bp.get("/redress/<int:request_id>")
@login_required
def redress(request_id: int):
    return render_template(
        "decisions/redress.html", redress=_redress_or_404(request_id), form=AnswerRedressForm(), problems=[]
    )


@bp.post("/redress/<int:request_id>")
@login_required
def answer_redress(request_id: int):
    redress = _redress_or_404(request_id)
    if not can_answer_redress(current_user, redress):
        abort(403)
    form = AnswerRedressForm()
    if not form.validate_on_submit():
        return render_template("decisions/redress.html", redress=redress, form=form, problems=[]), 422
    try:
        ops.answer_redress(redress, _actor(), form.status.data, form.answer.data)
    except ops.DecisionRefused as refused:
        db.session.rollback()
        return render_template(
            "decisions/redress.html",
            redress=_redress_or_404(request_id),
            form=form,
            problems=refused.messages,
        ), 422
    db.session.commit()
    flash(_("The answer is recorded and sent to the applicant."), "success")
    return redirect(url_for(".redress", request_id=request_id))
