"""The ranking of a call: thresholds, order, the envelope drawn down, manual moves, the proposal
to the Directorate-General, exports (XLSX, CSV) and charts."""

from __future__ import annotations

import hashlib

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup

from forms.assessment import MoveForm
from forms.auth import ConfirmForm
from webapp.access import can_rank, roles_required
from webapp.extensions import cache, db
from webapp.manage import bp
from webapp.manage.screening import actor, call_or_404, flash_refusal, locale
from webapp.models import Country, Proposal
from webapp.models.calls import Call, without_collections
from webapp.operations import assessment as assessment_ops
from webapp.operations import ranking as ops
from workflows.calls import Grid

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
    call = call_or_404(call_id, without_collections())  # the grid loads the criteria when asked
    grid = call.grid()
    rank_list = request.args.get("list", "")
    q = (request.args.get("q") or "").strip()[:100]
    page = request.args.get("page", 1, type=int) or 1
    view = ops.ranking_page(call, page=page, rank_list=rank_list, q=q, grid=grid)
    return render_template(
        "manage/assessment/ranking.html",
        call=call,
        view=view,
        rank_list=rank_list,
        q=q,
        confirm_form=ConfirmForm() if view.has_reviewed or view.has_ranked else None,
        list_labels=ops.list_labels(),
        final_rule=final_rule_text(),
        table=ranking_table(call, grid, view, rank_list, q),
        charts=charts(ops.score_distribution(call, grid, view.score_counts), ops.partner_countries(call)),
        grid=grid,
    )


#: Where each move form's CSRF field goes in a kept table (escaped text can never look like it).
CSRF_FIELD = Markup("<!--move-form-csrf-->")


def ranking_table(call: Call, grid: Grid, view: ops.RankingPage, rank_list: str, q: str) -> Markup:
    """The page's table and pager. Drawn once per state of the ranking (its fingerprint), page,
    filter, language and address, and kept in the fragment cache; the move forms' CSRF field,
    which belongs to the reader's session, is filled in on every request."""
    key = None
    if len(request.query_string) <= 200:
        content = (
            call.id,
            view.facts.fingerprint,
            view.page.per_page,
            request.query_string,
            request.script_root,
        )
        key = f"ranking-table:{_language()}:{hashlib.sha256(repr(content).encode()).hexdigest()}"
    drawn = cache.get(key) if key else None
    if drawn is None:
        drawn = render_template(
            "manage/assessment/_ranking_table.html",
            call=call,
            view=view,
            grid=grid,
            rank_list=rank_list,
            q=q,
            list_labels=ops.list_labels(),
            move_csrf=CSRF_FIELD,
        )
        if key:
            cache.set(key, drawn)
    if view.has_ranked:
        form = MoveForm(formdata=None)
        drawn = drawn.replace(CSRF_FIELD, str(form.csrf_token()) if "csrf_token" in form else "")
    return Markup(drawn)  # noqa: S704 - our own rendered template


def _language() -> str:
    return str(get_locale() or "fr")


def charts(distribution: list[dict], countries: list[tuple]) -> Markup:
    """The page's score and country charts. Drawn once per content and language and kept in the
    fragment cache: the key holds everything they show (the counts, the labels, the names)."""
    language = _language()
    content = (
        tuple((d["code"], d["label_fr"], d["label_en"], tuple(d["counts"])) for d in distribution),
        tuple(countries),
    )
    key = f"ranking-charts:{language}:{hashlib.sha256(repr(content).encode()).hexdigest()}"
    drawn = cache.get(key)
    if drawn is None:
        drawn = render_template(
            "manage/assessment/_ranking_charts.html",
            distribution=distribution,
            per_country=[(code, n) for code, n, _fr, _en in countries],
            countries={
                code: Country(code=code, name_fr=fr, name_en=en) for code, _n, fr, en in countries if fr or en
            },
        )
        cache.set(key, drawn)
    return Markup(drawn)  # noqa: S704 - our own rendered template


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
        position = ops.move_in_ranking(call, proposal, form.position.data, form.justification.data, actor())
    except assessment_ops.AssessmentRefused as refused:
        db.session.rollback()
        flash_refusal(refused)
        return redirect(url_for(".ranking", call_id=call.id))
    db.session.commit()
    flash(
        _(
            "%(ref)s moved; the move and its justification are in the audit trail.",
            ref=proposal.reference,
        ),
        "success",
    )
    # The page that shows the proposal at its new place.
    page = ops.page_of_position(position)
    return redirect(url_for(".ranking", call_id=call.id, page=page if page > 1 else None))


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
