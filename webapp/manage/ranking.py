"""The ranking of a call: thresholds, order, the envelope drawn down, manual moves, the proposal
to the Directorate-General, exports (XLSX, CSV) and charts."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from forms.assessment import MoveForm
from forms.auth import ConfirmForm
from webapp.access import can_rank, roles_required
from webapp.extensions import db
from webapp.manage import bp
from webapp.manage.screening import actor, call_or_404, flash_refusal, locale
from webapp.models import Country, Proposal
from webapp.operations import assessment as assessment_ops
from webapp.operations import ranking as ops
from workflows.proposal_states import ProposalState

EXPORT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


def final_rule_text() -> str:
    """`workflows.ranking.FINAL_RULE_EN` in the reader's language."""
    return _("Remaining ties: the proposal submitted earlier comes first, then the smaller reference.")


@bp.get("/calls/<int:call_id>/ranking")
@roles_required(can_rank)
def ranking(call_id: int):
    call = call_or_404(call_id)
    view = ops.ranking_view(call)
    countries = {c.code: c for c in db.session.scalars(db.select(Country))}
    return render_template(
        "manage/assessment/ranking.html",
        call=call,
        view=view,
        confirm_form=ConfirmForm(),
        move_form=MoveForm(formdata=None),
        list_labels=ops.list_labels(),
        final_rule=final_rule_text(),
        distribution=ops.score_distribution(call),
        per_country=ops.proposals_per_country(call),
        countries=countries,
        grid=call.grid(),
        S=ProposalState,
    )


@bp.post("/calls/<int:call_id>/ranking/rank")
@roles_required(can_rank)
def rank_call(call_id: int):
    call = call_or_404(call_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        count = ops.rank_call(call, actor())
    except assessment_ops.AssessmentRefused as refused:
        db.session.rollback()
        flash_refusal(refused)
    else:
        db.session.commit()
        flash(_("%(n)d proposal(s) ranked.", n=count), "success")
    return redirect(url_for(".ranking", call_id=call.id))


@bp.post("/calls/<int:call_id>/ranking/move")
@roles_required(can_rank)
def move_in_ranking(call_id: int):
    call = call_or_404(call_id)
    form = MoveForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "danger")
        return redirect(url_for(".ranking", call_id=call.id))
    proposal = (
        db.session.get(Proposal, int(form.proposal_id.data)) if form.proposal_id.data.isdigit() else None
    )
    if proposal is None or proposal.call_id != call.id:
        abort(404)
    try:
        ops.move_in_ranking(call, proposal, form.position.data, form.justification.data, actor())
    except assessment_ops.AssessmentRefused as refused:
        db.session.rollback()
        flash_refusal(refused)
    else:
        db.session.commit()
        flash(
            _(
                "%(ref)s moved; the move and its justification are in the audit trail.",
                ref=proposal.reference,
            ),
            "success",
        )
    return redirect(url_for(".ranking", call_id=call.id))


@bp.post("/calls/<int:call_id>/ranking/propose")
@roles_required(can_rank)
def propose_ranking(call_id: int):
    call = call_or_404(call_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        counts = ops.propose_ranking(call, actor())
    except assessment_ops.AssessmentRefused as refused:
        db.session.rollback()
        flash_refusal(refused)
    else:
        db.session.commit()
        flash(
            _(
                "Ranking proposed to the Directorate-General: %(main)d on the main list, %(waiting)d on the "
                "waiting list, %(out)d not retained.",
                main=counts["main"],
                waiting=counts["waiting"],
                out=counts["not_retained"],
            ),
            "success",
        )
    return redirect(url_for(".ranking", call_id=call.id))


def _download(data: bytes, filename: str, fmt: str) -> Response:
    return Response(
        data,
        mimetype=EXPORT_TYPES[fmt],
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


@bp.get("/calls/<int:call_id>/ranking.<fmt>")
@roles_required(can_rank)
def export_ranking(call_id: int, fmt: str):
    call = call_or_404(call_id)
    if fmt not in EXPORT_TYPES:
        abort(404)
    headers, rows = ops.ranking_table(ops.ranking_view(call), locale())
    name = f"ranking-{call.instrument}-{call.year}-{call.id}.{fmt}"
    data = ops.to_xlsx(headers, rows, _("Ranking")) if fmt == "xlsx" else ops.to_csv(headers, rows)
    return _download(data, name, fmt)


@bp.get("/calls/<int:call_id>/scores.<fmt>")
@roles_required(can_rank)
def export_scores(call_id: int, fmt: str):
    call = call_or_404(call_id)
    if fmt not in EXPORT_TYPES:
        abort(404)
    headers, rows = ops.scores_table(call)
    name = f"scores-{call.instrument}-{call.year}-{call.id}.{fmt}"
    data = ops.to_xlsx(headers, rows, _("Scores")) if fmt == "xlsx" else ops.to_csv(headers, rows)
    return _download(data, name, fmt)
