"""Two-stage calls: the letters of intent of a call, shortlisted or turned down by the
programme manager (one letter at a time, or the chosen letters of a page at once)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from forms.assessment import BulkLettersForm, LetterOutcomeForm
from webapp.access import can_screen, roles_required
from webapp.extensions import db
from webapp.manage import bp
from webapp.manage.screening import actor, attachment_response, call_or_404
from webapp.models import Proposal
from webapp.operations import letters_of_intent as ops
from webapp.pagination import paginate
from workflows.proposal_states import STAGE_LOI, ProposalState


def _two_stage_call_or_404(call_id: int):
    call = call_or_404(call_id)
    if not call.two_stage:
        abort(404)
    return call


def _letter_or_404(call_id: int, proposal_id: int) -> Proposal:
    proposal = ops.letter_or_none(call_id, proposal_id)
    if proposal is None:
        abort(404)
    return proposal


@bp.route("/calls/<int:call_id>/letters", methods=["GET", "POST"])
@roles_required(can_screen)
def letters(call_id: int):
    call = _two_stage_call_or_404(call_id)
    state = request.args.get("state", "pending")
    if state not in ops.FILTERS and state != "all":
        state = "pending"
    q = (request.args.get("q") or "").strip()[:100]
    form = BulkLettersForm()
    status = 200
    if request.method == "POST":
        # The choices are the call's pending letters, read again from the database.
        form.proposal_ids.choices = [
            (p.id, p.reference)
            for p in db.session.scalars(
                select(Proposal).where(
                    Proposal.call_id == call.id,
                    Proposal.stage == STAGE_LOI,
                    Proposal.state == ProposalState.LOI_SUBMITTED,
                )
            )
        ]
        if form.validate_on_submit():
            done, refused = ops.bulk_shortlist(call, form.proposal_ids.data, actor())
            db.session.commit()
            if done:
                message = _(
                    "%(n)d letter(s) shortlisted; the applicants were invited to the full proposal.", n=done
                )
                flash(message, "success")
            for message in refused:
                flash(message, "danger")
            return redirect(url_for(".letters", call_id=call.id, state=state, q=q or None))
        status = 422
    page = paginate(db, ops.letters_query(call, state, q))
    return render_template(
        "manage/assessment/letters.html",
        call=call,
        page=page,
        form=form,
        state=state,
        q=q,
        counts=ops.counts(call),
    ), status


def _render_letter(call, proposal: Proposal, form: LetterOutcomeForm, status: int = 200, refused=()):
    return render_template(
        "manage/assessment/letter.html",
        call=call,
        proposal=proposal,
        form=form,
        refused=list(refused),
        min_reason=ops.MIN_LOI_REASON_CHARS,
    ), status


@bp.route("/calls/<int:call_id>/letters/<int:proposal_id>", methods=["GET", "POST"])
@roles_required(can_screen)
def letter(call_id: int, proposal_id: int):
    call = _two_stage_call_or_404(call_id)
    proposal = _letter_or_404(call.id, proposal_id)
    form = LetterOutcomeForm()
    if request.method == "GET":
        return _render_letter(call, proposal, form)
    if not form.validate_on_submit():
        return _render_letter(call, proposal, form, 422)
    try:
        if form.action.data == "shortlist":
            ops.shortlist(proposal, actor(), form.message.data or "")
            message = _("%(ref)s is shortlisted; the applicants were invited to the full proposal.",
                        ref=proposal.reference)
        elif form.action.data == "turn_down":
            ops.turn_down(proposal, actor(), form.reason.data or "")
            message = _("%(ref)s is not shortlisted; the applicants were told why.", ref=proposal.reference)
        else:
            abort(400)
    except ops.LetterRefused as refused:
        db.session.rollback()
        proposal = _letter_or_404(call.id, proposal_id)
        return _render_letter(call, proposal, form, 422, refused.messages)
    db.session.commit()
    flash(message, "success")
    return redirect(url_for(".letters", call_id=call.id))


@bp.get("/calls/<int:call_id>/letters/<int:proposal_id>/files/<int:attachment_id>")
@roles_required(can_screen)
def letter_file(call_id: int, proposal_id: int, attachment_id: int):
    call = _two_stage_call_or_404(call_id)
    return attachment_response(_letter_or_404(call.id, proposal_id), attachment_id)
