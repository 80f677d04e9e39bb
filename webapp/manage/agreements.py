"""The cooperation-agreement registry and its themes."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from forms.calls import AgreementForm, ThemeForm
from webapp.access import can_manage_agreements, roles_required
from webapp.extensions import db
from webapp.manage import bp
from webapp.models import Country, utcnow
from webapp.models.calls import CooperationAgreement, Theme
from webapp.operations import agreements as ops
from webapp.pagination import paginate
from workflows.timeutils import paris_date


def _locale() -> str:
    return str(get_locale() or "fr")


def _country_choices() -> list[tuple[str, str]]:
    locale = _locale()
    return sorted(((c.code, c.name(locale)) for c in db.session.scalars(select(Country))),
                  key=lambda c: c[1])


def _theme_choices() -> list[tuple[int, str]]:
    locale = _locale()
    return sorted(((t.id, t.label(locale)) for t in db.session.scalars(select(Theme))),
                  key=lambda t: t[1])


def _form() -> AgreementForm:
    return AgreementForm(country_choices=_country_choices(), theme_choices=_theme_choices())


def _data(form: AgreementForm) -> ops.AgreementData:
    return ops.AgreementData(
        title=form.title.data or "",
        starts_on=form.starts_on.data,
        ends_on=form.ends_on.data,
        notes=form.notes.data or "",
        country_codes=list(form.countries.data or []),
        theme_ids=list(form.themes.data or []),
        partners=[
            ops.PartnerData(row.form.name.data or "", row.form.acronym.data or "",
                            row.form.country_code.data or "")
            for row in form.partners
            if (row.form.name.data or "").strip()
        ],
    )


def _get_agreement(agreement_id: int) -> CooperationAgreement:
    agreement = db.session.get(CooperationAgreement, agreement_id)
    if agreement is None:
        abort(404)
    return agreement


@bp.get("/agreements")
@roles_required(can_manage_agreements)
def agreements():
    stmt = select(CooperationAgreement).order_by(CooperationAgreement.title)
    return render_template("manage/agreements/list.html", page=paginate(db, stmt, per_page=50),
                           today=paris_date(utcnow()))


@bp.route("/agreements/new", methods=["GET", "POST"])
@roles_required(can_manage_agreements)
def new_agreement():
    form = _form()
    if request.method == "GET":
        form.add_partner_rows()
    elif form.validate_on_submit() and _saved(form, lambda data, actor: ops.create_agreement(data, actor)):
        return redirect(url_for(".agreements"))
    return render_template("manage/agreements/edit.html", form=form, agreement=None), (
        200 if request.method == "GET" else 422)


def _saved(form, save) -> bool:
    """Run ``save(data, actor)`` and commit; on a refusal, roll back and show it on the form."""
    try:
        save(_data(form), current_user._get_current_object())
    except ops.AgreementError as exc:
        db.session.rollback()
        form.title.errors.append(str(exc))
        return False
    db.session.commit()
    flash(_("Cooperation agreement saved."), "success")
    return True


@bp.route("/agreements/<int:agreement_id>/edit", methods=["GET", "POST"])
@roles_required(can_manage_agreements)
def edit_agreement(agreement_id: int):
    agreement = _get_agreement(agreement_id)
    form = _form()
    if request.method == "GET":
        form.title.data, form.notes.data = agreement.title, agreement.notes
        form.starts_on.data, form.ends_on.data = agreement.starts_on, agreement.ends_on
        form.countries.data = [c.code for c in agreement.countries]
        form.themes.data = [t.id for t in agreement.themes]
        form.add_partner_rows([
            ops.PartnerData(p.name, p.acronym, p.country_code) for p in agreement.partners
        ])
    elif form.validate_on_submit() and _saved(
        form, lambda data, actor: ops.update_agreement(agreement, data, actor)
    ):
        return redirect(url_for(".agreements"))
    return render_template("manage/agreements/edit.html", form=form, agreement=agreement), (
        200 if request.method == "GET" else 422)


@bp.route("/agreements/themes", methods=["GET", "POST"])
@roles_required(can_manage_agreements)
def themes():
    form = ThemeForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                ops.save_theme(None, form.label_fr.data, form.label_en.data,
                               current_user._get_current_object())
            except ops.AgreementError as exc:
                db.session.rollback()
                form.label_en.errors.append(str(exc))
            else:
                db.session.commit()
                flash(_("Theme added."), "success")
                return redirect(url_for(".themes"))
        status = 422
    items = db.session.scalars(select(Theme).order_by(Theme.label_en)).all()
    return render_template("manage/agreements/themes.html", form=form, themes=items), status


@bp.route("/agreements/themes/<int:theme_id>/edit", methods=["GET", "POST"])
@roles_required(can_manage_agreements)
def edit_theme(theme_id: int):
    theme = db.session.get(Theme, theme_id)
    if theme is None:
        abort(404)
    form = ThemeForm(obj=theme if request.method == "GET" else None)
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                ops.save_theme(theme, form.label_fr.data, form.label_en.data,
                               current_user._get_current_object())
            except ops.AgreementError as exc:
                db.session.rollback()
                form.label_en.errors.append(str(exc))
            else:
                db.session.commit()
                flash(_("Theme saved."), "success")
                return redirect(url_for(".themes"))
        return render_template("manage/agreements/theme_edit.html", form=form,
                               theme=theme), 422
    return render_template("manage/agreements/theme_edit.html", form=form, theme=theme)
