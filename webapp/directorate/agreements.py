"""Agreements of awarded structures: issue, follow the signatures, record a countersigned scan;
a UME/UMI agreement from a form (no call)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from forms.auth import ConfirmForm
from forms.decisions import SignatureForm, UnitAgreementForm, committees_form
from webapp.access import can_issue_agreement, can_view_decisions, roles_required
from webapp.directorate import bp
from webapp.directorate.views import _render_proposal, get_decision_proposal_or_404, instrument_label
from webapp.documents import issued
from webapp.extensions import db
from webapp.models import Country, IssuedDocument
from webapp.models.decisions import AgreementParty, StructureAgreement
from webapp.operations import structure_agreements as ops
from webapp.operations.decisions import DecisionRefused
from webapp.pagination import paginate


def _actor():
    return current_user._get_current_object()


def get_agreement_or_404(agreement_id: int) -> StructureAgreement:
    agreement = db.session.get(StructureAgreement, agreement_id)
    if agreement is None:
        abort(404)
    return agreement


def _pdf(stored_name: str, name: str):
    return issued.pdf_download(stored_name, name)


@bp.get("/agreements")
@roles_required(can_view_decisions)
def agreements():
    stmt = select(StructureAgreement).order_by(
        StructureAgreement.created_at.desc(), StructureAgreement.id.desc()
    )
    search = (request.args.get("q") or "").strip()[:100]
    if search:
        like = f"%{search}%"
        stmt = stmt.where(
            StructureAgreement.title.ilike(like)
            | StructureAgreement.reference.ilike(like)
            | StructureAgreement.acronym.ilike(like)
        )
    return render_template(
        "directorate/agreements.html",
        page=paginate(db, stmt),
        search=search,
        instrument_label=instrument_label,
    )


@bp.post("/proposals/<int:proposal_id>/agreement")
@roles_required(can_issue_agreement)
def issue_agreement(proposal_id: int):
    proposal = get_decision_proposal_or_404(proposal_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        agreement = ops.issue_agreement_for_proposal(proposal, _actor())
    except DecisionRefused as refused:
        db.session.rollback()
        return _render_proposal(
            get_decision_proposal_or_404(proposal_id), refused=refused.messages, status=422
        )
    agreement_id = agreement.id
    db.session.commit()
    flash(
        _("Agreement issued and signed by the platform; record each party's countersigned copy."), "success"
    )
    return redirect(url_for(".agreement", agreement_id=agreement_id))


def _country_choices():
    locale = str(get_locale() or "fr")
    countries = db.session.scalars(select(Country).where(Country.code != "FR"))
    return sorted(((c.code, c.name(locale)) for c in countries), key=lambda c: c[1])


@bp.route("/agreements/new", methods=["GET", "POST"])
@roles_required(can_issue_agreement)
def new_unit_agreement():
    form = UnitAgreementForm(country_choices=_country_choices())
    if request.method == "GET" or not form.validate_on_submit():
        return render_template("directorate/unit_form.html", form=form, problems=[]), (
            200 if request.method == "GET" else 422
        )
    data = ops.UnitData(
        title=form.title.data,
        acronym=form.acronym.data or "",
        host_institution=form.host_institution.data,
        host_country_code=form.host_country_code.data,
        director_name=form.director_name.data,
        deputy_director_name=form.deputy_director_name.data or "",
        programme=form.programme.data or "",
        staffing_provisions=form.staffing_provisions.data,
        governance_notes=form.governance_notes.data or "",
        annual_eur=form.annual_eur.data,
        duration_years=form.duration_years.data,
        starts_on=form.starts_on.data,
        language=form.language.data,
    )
    try:
        agreement = ops.create_unit_agreement(data, _actor())
    except DecisionRefused as refused:
        db.session.rollback()
        return render_template("directorate/unit_form.html", form=form, problems=refused.messages), 422
    agreement_id = agreement.id
    db.session.commit()
    flash(_("The joint unit's agreement is issued."), "success")
    return redirect(url_for(".agreement", agreement_id=agreement_id))


def _render_agreement(agreement, form=None, refused=(), party_id=None, status=200, committees=None):
    versions = list(
        db.session.scalars(
            select(IssuedDocument)
            .where(IssuedDocument.reference == agreement.reference)
            .order_by(IssuedDocument.version)
        )
    )
    return render_template(
        "directorate/agreement.html",
        agreement=agreement,
        structure=ops.structure_of(agreement),
        versions=versions,
        form=form or SignatureForm(),
        refused=list(refused),
        failed_party=party_id,
        instrument_label=instrument_label,
        committees_editable=ops.committees_editable(agreement),
        committees=committees or committees_form(agreement.members, formdata=None),
    ), status


@bp.get("/agreements/<int:agreement_id>")
@roles_required(can_view_decisions)
def agreement(agreement_id: int):
    return _render_agreement(get_agreement_or_404(agreement_id))


@bp.get("/agreements/<int:agreement_id>/pdf")
@roles_required(can_view_decisions)
def agreement_pdf(agreement_id: int):
    agreement = get_agreement_or_404(agreement_id)
    document = agreement.document
    version = request.args.get("version", type=int)
    if version is not None:
        document = db.session.scalar(
            select(IssuedDocument).where(
                IssuedDocument.reference == agreement.reference, IssuedDocument.version == version
            )
        )
    if document is None:
        abort(404)
    return _pdf(document.stored_name, f"{document.reference}-v{document.version}.pdf")


def _party_or_404(agreement: StructureAgreement, party_id: int) -> AgreementParty:
    party = db.session.get(AgreementParty, party_id)
    if party is None or party.agreement_id != agreement.id:
        abort(404)
    return party


@bp.post("/agreements/<int:agreement_id>/parties/<int:party_id>/signature")
@roles_required(can_issue_agreement)
def record_signature(agreement_id: int, party_id: int):
    agreement = get_agreement_or_404(agreement_id)
    party = _party_or_404(agreement, party_id)
    form = SignatureForm()
    if not form.validate_on_submit():
        return _render_agreement(agreement, form, party_id=party_id, status=422)
    scan = form.scan.data.read(ops.MAX_SCAN_BYTES + 1)
    try:
        structure = ops.record_signature(agreement, party, scan, form.signatory_name.data, _actor())
    except DecisionRefused as refused:
        db.session.rollback()
        return _render_agreement(
            get_agreement_or_404(agreement_id), form, refused.messages, party_id, status=422
        )
    created = structure is not None
    db.session.commit()
    if created:
        flash(_("Every party has signed: the structure is now active."), "success")
    else:
        flash(_("Signature recorded."), "success")
    return redirect(url_for(".agreement", agreement_id=agreement_id))


@bp.get("/agreements/<int:agreement_id>/parties/<int:party_id>/scan")
@roles_required(can_view_decisions)
def party_scan(agreement_id: int, party_id: int):
    agreement = get_agreement_or_404(agreement_id)
    party = _party_or_404(agreement, party_id)
    if not party.scan_stored_name:
        abort(404)
    return _pdf(party.scan_stored_name, f"{agreement.reference}-signature-{party.position + 1}.pdf")


@bp.post("/agreements/<int:agreement_id>/committees")
@roles_required(can_issue_agreement)
def update_committees(agreement_id: int):
    agreement = get_agreement_or_404(agreement_id)
    form = committees_form(agreement.members)
    if not form.validate_on_submit():
        return _render_agreement(agreement, committees=form, status=422)
    try:
        document = ops.update_committees(agreement, form.names(), form.reason.data, _actor())
    except DecisionRefused as refused:
        db.session.rollback()
        agreement = get_agreement_or_404(agreement_id)
        return _render_agreement(agreement, refused=refused.messages, committees=form, status=422)
    version = document.version
    db.session.commit()
    flash(_("Committees saved: version %(n)d of the agreement is issued and supersedes the previous one.",
            n=version), "success")
    return redirect(url_for(".agreement", agreement_id=agreement_id))
