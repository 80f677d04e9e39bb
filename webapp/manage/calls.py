"""The call editor: list, create, edit, preview, publish, unpublish, extend, clone."""

from __future__ import annotations

from dataclasses import replace

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError

from forms.auth import ConfirmForm
from forms.calls import CallForm, ExtendDeadlineForm, instrument_label
from webapp.access import (
    can_edit_calls,
    can_extend_deadline,
    can_publish_call,
    require,
    roles_required,
)
from webapp.dashboard import Card
from webapp.extensions import db
from webapp.manage import bp
from webapp.models import Country, utcnow
from webapp.models.calls import Call, Theme
from webapp.operations import calls as ops
from webapp.pagination import paginate
from workflows.calls import CountryPolicy
from workflows.instruments import CALL_INSTRUMENTS, Instrument


def _locale() -> str:
    return str(get_locale() or "fr")


def get_call_or_404(call_id: int) -> Call:
    call = db.session.get(Call, call_id)
    if call is None:
        abort(404)
    return call


def _actor():
    return current_user._get_current_object()


def country_choices(extra_codes=()) -> list[tuple[str, str]]:
    """Countries a call may make eligible: the registry's, plus those it already holds."""
    codes = set(ops.registry_country_codes()) | set(extra_codes)
    if not codes:
        return []
    locale = _locale()
    countries = db.session.scalars(select(Country).where(Country.code.in_(codes)))
    return sorted(((c.code, c.name(locale)) for c in countries), key=lambda c: c[1])


def theme_choices() -> list[tuple[int, str]]:
    locale = _locale()
    themes = db.session.scalars(select(Theme))
    return sorted(((t.id, t.label(locale)) for t in themes), key=lambda t: t[1])


def _editor_form(call: Call | None = None) -> CallForm:
    form = CallForm(
        country_choices=country_choices(call.country_codes if call else ()),
        theme_choices=theme_choices(),
    )
    if call is not None:
        if call.has_submissions:  # the grid is frozen: the editor neither shows nor takes it
            for name in CallForm.GRID_FIELDS:
                del form[name]
        if call.is_published:  # dates move through "extend the deadline" only
            for name in (*CallForm.DATE_FIELDS, "instrument"):
                del form[name]
    return form


def _data_from_form(form: CallForm, base: ops.CallData) -> ops.CallData:
    data = replace(base)
    if "instrument" in form:
        data.instrument = Instrument(form.instrument.data)
    data.year = form.year.data
    data.title_fr, data.title_en = form.title_fr.data or "", form.title_en.data or ""
    data.text_fr, data.text_en = form.text_fr.data or "", form.text_en.data or ""
    if "opens_at" in form:
        data.opens_at = form.opens_at.utc()
        data.is_rolling = bool(form.is_rolling.data)
        data.closes_at = None if data.is_rolling else form.closes_at.utc()
        data.two_stage = bool(form.two_stage.data) and not data.is_rolling
        data.loi_deadline_at = form.loi_deadline_at.utc() if data.two_stage else None
    data.grace_minutes = form.grace_minutes.data or 0
    data.country_codes = list(form.countries.data or [])
    data.theme_ids = list(form.themes.data or [])
    data.country_policy = CountryPolicy(form.country_policy.data)
    data.budget_envelope_eur = form.budget_envelope_eur.data
    data.max_per_year_eur = form.max_per_year_eur.data
    data.duration_years = form.duration_years.data
    data.salaries_allowed = bool(form.salaries_allowed.data)
    data.non_mobility_cap_pct = form.non_mobility_cap_pct.data
    data.char_limits = form.char_limits()
    data.attachments = form.attachment_specs()
    data.grid = form.grid()
    data.reviewers_per_proposal = form.reviewers_per_proposal.data
    data.target_awards = form.target_awards.data
    data.funding_start = form.funding_start.data
    return data


def _render_editor(form, call=None, problems=(), conflict=False, status=200):
    return render_template(
        "manage/calls/edit.html", form=form, call=call, problems=list(problems),
        conflict=conflict,
    ), status


# --- list and overview -------------------------------------------------------------------------


@bp.get("/calls")
@roles_required(can_edit_calls)
def calls():
    stmt = select(Call).order_by(Call.year.desc(), Call.id.desc())
    instrument = request.args.get("instrument", "")
    if instrument in {i.value for i in CALL_INSTRUMENTS}:
        stmt = stmt.where(Call.instrument == Instrument(instrument))
    page = paginate(db, stmt)
    return render_template(
        "manage/calls/list.html", page=page, now=utcnow(), instruments=CALL_INSTRUMENTS,
        instrument=instrument, instrument_label=instrument_label,
    )


@bp.get("/calls/<int:call_id>")
@roles_required(can_edit_calls)
def call(call_id: int):
    call = get_call_or_404(call_id)
    return _render_overview(call)


def _render_overview(call: Call, refused=(), status=200):
    return render_template(
        "manage/calls/show.html", call=call, now=utcnow(), problems=ops.call_problems(call),
        refused=list(refused), confirm_form=ConfirmForm(), instrument_label=instrument_label,
    ), status


# --- create and edit ---------------------------------------------------------------------------


@bp.route("/calls/new", methods=["GET", "POST"])
@roles_required(can_edit_calls)
def new_call():
    instrument = request.args.get("instrument", Instrument.LEA_LIA.value)
    if instrument not in {i.value for i in CALL_INSTRUMENTS}:
        abort(404)
    base = ops.new_call_data(instrument, ops.default_year())
    form = _editor_form()
    if request.method == "GET":
        form.fill(base)
        return _render_editor(form)
    if not form.validate_on_submit():
        return _render_editor(form, status=422)
    try:
        call = ops.create_call(_data_from_form(form, base), _actor())
    except ops.CallRefused as refused:
        db.session.rollback()
        return _render_editor(form, problems=refused.messages, status=422)
    db.session.commit()
    flash(_("Draft call saved. Check the list below before publishing."), "success")
    return redirect(url_for(".call", call_id=call.id))


@bp.route("/calls/<int:call_id>/edit", methods=["GET", "POST"])
@roles_required(can_edit_calls)
def edit_call(call_id: int):
    call = get_call_or_404(call_id)
    form = _editor_form(call)
    if request.method == "GET":
        form.fill(ops.call_data(call))
        form.version.data = call.version_id
        return _render_editor(form, call)
    if not form.validate_on_submit():
        return _render_editor(form, call, status=422)
    try:
        expected = int(form.version.data) if (form.version.data or "").isdigit() else None
        ops.update_call(call, _data_from_form(form, ops.call_data(call)), _actor(), expected)
        db.session.commit()
    except ops.CallRefused as refused:
        db.session.rollback()
        return _render_editor(form, call, problems=refused.messages, status=422)
    except (ops.CallConflict, StaleDataError):
        db.session.rollback()
        call = get_call_or_404(call_id)
        form.version.data = call.version_id  # saving again now overwrites, knowingly
        return _render_editor(form, call, conflict=True, status=409)
    flash(_("Call saved."), "success")
    return redirect(url_for(".call", call_id=call.id))


# --- preview -----------------------------------------------------------------------------------


def _content_locale() -> str:
    lang = request.args.get("lang", "")
    return lang if lang in ("fr", "en") else _locale()


@bp.get("/calls/<int:call_id>/preview")
@roles_required(can_edit_calls)
def preview_call(call_id: int):
    call = get_call_or_404(call_id)
    return render_template(
        "public/calls/show.html", call=call, now=utcnow(), preview=True,
        content_locale=_content_locale(), instrument_label=instrument_label,
    )


@bp.get("/calls/<int:call_id>/preview.pdf")
@roles_required(can_edit_calls)
def preview_call_pdf(call_id: int):
    call = get_call_or_404(call_id)
    from webapp.public.calls import pdf_response

    return pdf_response(call, _content_locale(), preview=True)


# --- publication -------------------------------------------------------------------------------


@bp.post("/calls/<int:call_id>/publish")
@roles_required(can_edit_calls)
def publish_call(call_id: int):
    call = get_call_or_404(call_id)
    require(can_publish_call(current_user, call), _("This call is already published."))
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        ops.publish_call(call, _actor())
    except ops.CallRefused as refused:
        db.session.rollback()
        return _render_overview(call, refused=refused.messages, status=422)
    db.session.commit()
    flash(_("The call is published."), "success")
    return redirect(url_for(".call", call_id=call.id))


@bp.post("/calls/<int:call_id>/unpublish")
@roles_required(can_edit_calls)
def unpublish_call(call_id: int):
    call = get_call_or_404(call_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        ops.unpublish_call(call, _actor())
    except ops.CallRefused as refused:
        db.session.rollback()
        return _render_overview(call, refused=refused.messages, status=422)
    db.session.commit()
    flash(_("The call is no longer published."), "success")
    return redirect(url_for(".call", call_id=call.id))


@bp.route("/calls/<int:call_id>/extend", methods=["GET", "POST"])
@roles_required(can_edit_calls)
def extend_deadline(call_id: int):
    call = get_call_or_404(call_id)
    require(can_extend_deadline(current_user, call),
            _("Only the deadline of a published call with a closing date can be extended."))
    form = ExtendDeadlineForm()
    if request.method == "GET":
        form.closes_at.set_utc(call.closes_at)
        form.loi_deadline_at.set_utc(call.loi_deadline_at)
        form.version.data = call.version_id
        return render_template("manage/calls/extend.html", form=form, call=call, problems=[])
    problems: list[str] = []
    if form.validate_on_submit():
        if (form.version.data or "") != str(call.version_id):
            problems = [_("Someone else changed this call meanwhile: check its deadline and "
                          "try again.")]
            form.version.data = call.version_id
        else:
            try:
                notified = ops.extend_deadline(
                    call, _actor(), form.closes_at.utc(),
                    form.loi_deadline_at.utc() if call.two_stage else None,
                )
                db.session.commit()
            except ops.CallRefused as refused:
                db.session.rollback()
                problems = refused.messages
            except StaleDataError:
                db.session.rollback()
                problems = [_("Someone else changed this call meanwhile: check its deadline "
                              "and try again.")]
            else:
                flash(_("Deadline extended. Applicants with a draft notified: %(n)d.",
                        n=notified), "success")
                return redirect(url_for(".call", call_id=call.id))
    return render_template("manage/calls/extend.html", form=form, call=call,
                           problems=problems), 422


@bp.post("/calls/<int:call_id>/clone")
@roles_required(can_edit_calls)
def clone_call(call_id: int):
    call = get_call_or_404(call_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    clone = ops.clone_call(call, _actor())
    db.session.commit()
    flash(_("Draft for %(year)d created from the %(old)d call: check its dates and texts.",
            year=clone.year, old=call.year), "success")
    return redirect(url_for(".edit_call", call_id=clone.id))


# --- dashboard ---------------------------------------------------------------------------------


def dashboard_cards(user) -> list[Card]:
    if not can_edit_calls(user):
        return []
    now = utcnow()
    counts = {
        status: db.session.scalar(
            select(func.count()).select_from(ops.published_calls_query(status, now).subquery())
        ) or 0
        for status in ("open", "upcoming")
    }
    drafts = db.session.scalar(
        select(func.count(Call.id)).where(Call.published_at.is_(None))
    ) or 0
    text = _("%(open)d open, %(upcoming)d upcoming, %(drafts)d draft(s).",
             open=counts["open"], upcoming=counts["upcoming"], drafts=drafts)
    return [Card(_("Calls"), text, [
        (_("Calls"), url_for("manage.calls")),
        (_("New call"), url_for("manage.new_call")),
        (_("Cooperation agreements"), url_for("manage.agreements")),
    ])]
