"""Views of the applicant's workspace. Thin: load (404 for what the user may not see), check
the predicate (403 with a message for what they see but may not do), call the use case, commit
once."""

from __future__ import annotations

import io

from flask import abort, flash, g, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf.csrf import CSRFError
from sqlalchemy import func, or_, select
from sqlalchemy.orm import lazyload, load_only
from sqlalchemy.orm.exc import StaleDataError

from forms.auth import ConfirmForm
from forms.calls import instrument_label
from forms.proposals import (
    AttachmentForm,
    BudgetForm,
    CoCoordinatorForm,
    GeneralForm,
    ProposalFilterForm,
    SubmitForm,
    TeamForm,
    TextsForm,
    WithdrawForm,
)
from webapp.access import (
    Refused,
    can_accept_co_coordination,
    can_edit_proposal,
    can_reopen_proposal,
    can_start_full_proposal,
    can_submit_proposal,
    can_view_proposal,
    can_withdraw_proposal,
    require,
)
from webapp.applicant import bp
from webapp.dashboard import Card
from webapp.extensions import db
from webapp.models import Attachment, Country, IssuedDocument, Proposal, Submission, Team, utcnow
from webapp.models.calls import Call, call_without_collections
from webapp.operations import submission as ops
from webapp.pagination import paginate_counted
from webapp.storage import read_bytes
from workflows.proposal_states import (
    APPLICANT_VISIBLE_STATUS,
    STAGE_FULL,
    STAGE_LOI,
    ApplicantStatus,
    ProposalState,
    applicant_status,
)
from workflows.roles import Role

STATUS_LABELS = {
    ApplicantStatus.DRAFT: _l("Draft"),
    ApplicantStatus.LOI_SUBMITTED: _l("Letter of intent submitted"),
    ApplicantStatus.LOI_SHORTLISTED: _l("Invited to submit a full proposal"),
    ApplicantStatus.LOI_REJECTED: _l("Letter of intent not retained"),
    ApplicantStatus.SUBMITTED: _l("Submitted"),
    ApplicantStatus.INELIGIBLE: _l("Ineligible"),
    ApplicantStatus.UNDER_ASSESSMENT: _l("Under assessment"),
    ApplicantStatus.AWARDED: _l("Awarded"),
    ApplicantStatus.REJECTED: _l("Not funded"),
    ApplicantStatus.AGREEMENT_PENDING: _l("Agreement in preparation"),
    ApplicantStatus.WITHDRAWN: _l("Withdrawn"),
}
CATEGORY_LABELS = {
    "mobility": _l("Mobility"),
    "meetings": _l("Meetings, seminars"),
    "other": _l("Other costs"),
    "salaries": _l("Salaries"),
}
SECTIONS = ("general", "texts")


def _locale() -> str:
    return str(get_locale() or "fr")


def _actor():
    return current_user._get_current_object()


def status_of(proposal: Proposal) -> str:
    return applicant_status(proposal.state, proposal.decision_released_at is not None)


def status_label(proposal: Proposal) -> str:
    return str(STATUS_LABELS[status_of(proposal)])


@bp.before_request
def _received_at() -> None:
    # A submission is judged on when its request arrived, not on when its work finished.
    g.received_at = utcnow()


def category_label(category: str) -> str:
    return str(CATEGORY_LABELS.get(category, category))


@bp.errorhandler(CSRFError)
def _expired_form(error):
    """A form whose token no longer holds (the session expired, or the page was opened long
    ago in another session): nothing is saved, but what was typed comes back to be copied."""
    db.session.rollback()
    message = _(
        "Your form has expired or was sent from elsewhere, so nothing was saved. What you typed is "
        "below: copy it, reload the page (log in again if asked) and paste it back."
    )
    if request.endpoint == "applicant.autosave":
        return jsonify(ok=False, message=message), 400
    typed = [
        (name, value)
        for name, value in request.form.items(multi=True)
        if name not in {"csrf_token", "version", "next"} and value.strip()
    ]
    return render_template("applicant/expired.html", message=message, typed=typed), 400


# --- loading ---------------------------------------------------------------------------------


def get_proposal_or_404(proposal_id: int) -> Proposal:
    """A proposal the user may see; any other looks exactly like one that does not exist."""
    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None or not can_view_proposal(current_user, proposal):
        abort(404)
    return proposal


def _edit_refusal(proposal: Proposal) -> str:
    if not (proposal.is_coordinated_by(current_user) or proposal.is_co_coordinated_by(current_user)):
        return _("Join the proposal as co-coordinator first (button on its page).")
    if proposal.state != ProposalState.DRAFT:
        if can_reopen_proposal(current_user, proposal):
            return str(ops.REFUSALS["not_draft"])
        return str(ops.REFUSALS["not_editable"])
    return str(ops.REFUSALS["deadline"])


def require_editable(proposal: Proposal) -> None:
    require(can_edit_proposal(current_user, proposal), _edit_refusal(proposal))


def _refusal(refused: ops.SubmissionRefused) -> Refused:
    """A use case's refusal as the page's (a 403 saying why), nothing of it kept."""
    db.session.rollback()
    return Refused(" ".join(refused.messages))


def _country_choices() -> list[tuple[str, str]]:
    locale = _locale()
    return sorted(((c.code, c.name(locale)) for c in db.session.scalars(select(Country))), key=lambda c: c[1])


def _theme_choices(call: Call) -> list[tuple[str, str]]:
    locale = _locale()
    return sorted(((str(t.id), t.label(locale)) for t in call.themes), key=lambda t: t[1])


# --- starting --------------------------------------------------------------------------------


@bp.route("/calls/<int:call_id>/apply", methods=["GET", "POST"])
@login_required
def start(call_id: int):
    call = db.session.get(Call, call_id)
    if call is None or not call.is_published:
        abort(404)
    reason = ops.can_start(current_user, call)
    require(reason is None, str(ops.REFUSALS.get(reason, "")) if reason else None)
    form = ConfirmForm()
    if request.method == "POST" and form.validate_on_submit():
        proposal = ops.start_proposal(call, _actor(), g.received_at)
        db.session.commit()
        flash(
            _(
                "Your proposal %(reference)s is started. Fill in each section; it is saved as a "
                "draft until you submit it.",
                reference=proposal.reference,
            ),
            "success",
        )
        return redirect(url_for(".proposal", proposal_id=proposal.id))
    mine = db.session.scalars(
        select(Proposal)
        .where(Proposal.call_id == call.id, Proposal.coordinator_id == current_user.id)
        .order_by(Proposal.id)
    ).all()
    return render_template(
        "applicant/start.html",
        call=call,
        form=form,
        mine=mine,
        loi=call.two_stage,
        instrument_label=instrument_label,
        now=utcnow(),
    )


# --- my proposals ----------------------------------------------------------------------------


#: What the list of proposals shows or tests (status, decision links, the co-coordinator badge).
LIST_COLUMNS = (
    Proposal.reference, Proposal.title, Proposal.acronym, Proposal.state, Proposal.stage,
    Proposal.call_id, Proposal.coordinator_id, Proposal.co_coordinator_id, Proposal.updated_at,
    Proposal.decision_released_at,
)


@bp.get("/proposals")
@login_required
def proposals():
    statuses = [s for s in ApplicantStatus if s in set(APPLICANT_VISIBLE_STATUS.values())]
    form = ProposalFilterForm(request.args, status_choices=[(s.value, STATUS_LABELS[s]) for s in statuses])
    form.validate()
    stmt = (
        select(Proposal)
        .where(ops.proposals_of(current_user))
        .order_by(Proposal.updated_at.desc(), Proposal.id.desc())
        # The list shows a few columns of each proposal and its call's title: neither the texts,
        # the call's collections nor the coordinator are loaded.
        .options(
            load_only(*LIST_COLUMNS),
            call_without_collections(Proposal.call).load_only(Call.title_fr, Call.title_en),
            lazyload(Proposal.coordinator),
        )
    )
    query = (form.q.data or "").strip()
    if query and not form.q.errors:
        like = f"%{query.lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(Proposal.title).like(like),
                func.lower(Proposal.acronym).like(like),
                func.lower(Proposal.reference).like(like),
            )
        )
    if form.status.data and not form.status.errors:
        states = [s for s, shown in APPLICANT_VISIBLE_STATUS.items() if shown == form.status.data]
        stmt = stmt.where(Proposal.state.in_(states))
    page = paginate_counted(db.session, stmt)
    return render_template("applicant/list.html", page=page, form=form, now=utcnow())


def dashboard_cards(user) -> list[Card]:
    if not user.has_role(Role.APPLICANT):
        return []
    counts = dict(
        db.session.execute(
            select(Proposal.state, func.count(Proposal.id))
            .where(ops.proposals_of(user))
            .group_by(Proposal.state)
        ).all()
    )
    drafts = counts.get(ProposalState.DRAFT, 0)
    total = sum(counts.values())
    text = _("%(total)d proposal(s), %(drafts)d draft(s) not yet submitted.", total=total, drafts=drafts)
    return [
        Card(
            _("My proposals"),
            text,
            [(_("My proposals"), url_for("applicant.proposals")), (_("Open calls"), url_for("public.calls"))],
        )
    ]


# --- one proposal ----------------------------------------------------------------------------


def _render_proposal(proposal: Proposal, refused=(), conflict=False, status=200):
    locale = _locale()
    found = ops.review(proposal, locale) if proposal.state == ProposalState.DRAFT else None
    submissions = db.session.scalars(
        select(Submission).where(Submission.proposal_id == proposal.id).order_by(Submission.version.desc())
    ).all()
    submit_form = SubmitForm()
    submit_form.version.data = proposal.version_id
    return render_template(
        "applicant/show.html",
        proposal=proposal,
        call=proposal.call,
        review=found,
        submissions=submissions,
        deadline=ops.deadline_of(proposal),
        now=utcnow(),
        submit_form=submit_form,
        confirm_form=ConfirmForm(),
        refused=list(refused),
        conflict=conflict,
        labels=ops.attachment_labels(proposal.call, locale),
        instrument_label=instrument_label,
        stage_loi=proposal.stage == STAGE_LOI,
        budget=_budget_table(proposal),
    ), status


def _budget_table(proposal: Proposal) -> dict:
    from workflows.money import totals

    summed = totals(ops.budget_of(proposal))
    return {"totals": summed, "requested": max(summed.by_year.values(), default=0)}


@bp.get("/proposals/<int:proposal_id>")
@login_required
def proposal(proposal_id: int):
    return _render_proposal(get_proposal_or_404(proposal_id))


# --- general information and texts (with autosave) -------------------------------------------


def _section_form(section: str, proposal: Proposal, formdata=None):
    if section == "general":
        return GeneralForm(formdata=formdata, theme_choices=_theme_choices(proposal.call))
    return TextsForm(formdata=formdata)


def _fill(form, proposal: Proposal, section: str) -> None:
    for name in ops.SECTION_FIELDS[section]:
        value = getattr(proposal, name)
        getattr(form, name).data = value
    form.version.data = proposal.version_id


def _render_section(section, proposal, form, conflict=False, problems=(), status=200):
    return render_template(
        f"applicant/edit_{section}.html",
        proposal=proposal,
        call=proposal.call,
        form=form,
        conflict=conflict,
        problems=list(problems),
        limits=proposal.call.char_limits,
        section=section,
    ), status


def _edit_section(proposal_id: int, section: str):
    proposal = get_proposal_or_404(proposal_id)
    require_editable(proposal)
    if request.method == "GET":
        form = _section_form(section, proposal)
        _fill(form, proposal, section)
        return _render_section(section, proposal, form)
    form = _section_form(section, proposal, formdata=request.form)
    if not form.validate_on_submit():
        return _render_section(section, proposal, form, status=422)
    try:
        ops.update_section(proposal, section, form.values(), _actor(), form.expected_version())
        db.session.commit()
    except ops.SubmissionRefused as refused:
        db.session.rollback()
        return _render_section(
            section, get_proposal_or_404(proposal_id), form, problems=refused.messages, status=422
        )
    except (ops.ProposalConflict, StaleDataError):
        db.session.rollback()
        proposal = get_proposal_or_404(proposal_id)
        form.version.data = proposal.version_id  # saving again now keeps this version, knowingly
        return _render_section(section, proposal, form, conflict=True, status=409)
    flash(_("Saved."), "success")
    if request.form.get("next") == "stay":
        return redirect(url_for(f".edit_{section}", proposal_id=proposal.id))
    return redirect(url_for(".proposal", proposal_id=proposal.id))


@bp.route("/proposals/<int:proposal_id>/general", methods=["GET", "POST"])
@login_required
def edit_general(proposal_id: int):
    return _edit_section(proposal_id, "general")


@bp.route("/proposals/<int:proposal_id>/texts", methods=["GET", "POST"])
@login_required
def edit_texts(proposal_id: int):
    return _edit_section(proposal_id, "texts")


@bp.post("/proposals/<int:proposal_id>/autosave/<section>")
@login_required
def autosave(proposal_id: int, section: str):
    """The editor's periodic save (static/submission.js): JSON in, JSON out."""
    if section not in SECTIONS:
        abort(404)
    proposal = get_proposal_or_404(proposal_id)
    if not can_edit_proposal(current_user, proposal):
        return jsonify(ok=False, message=_edit_refusal(proposal)), 403
    form = _section_form(section, proposal, formdata=request.form)
    if not form.validate_on_submit():
        return jsonify(
            ok=False,
            message=_("Not saved: correct the fields marked in red."),
            errors={k: [str(e) for e in v] for k, v in form.errors.items()},
        ), 422
    try:
        changed = ops.update_section(proposal, section, form.values(), _actor(), form.expected_version())
        db.session.commit()
    except ops.SubmissionRefused as refused:
        db.session.rollback()
        return jsonify(ok=False, message=" ".join(refused.messages)), 422
    except (ops.ProposalConflict, StaleDataError):
        db.session.rollback()
        return jsonify(
            ok=False,
            conflict=True,
            message=_(
                "Someone else saved this proposal meanwhile. Your text is still here: press "
                "\u201cSave\u201d to compare and keep it."
            ),
        ), 409
    return jsonify(
        ok=True, version=proposal.version_id, changed=changed, message=_("Draft saved automatically.")
    )


# --- co-coordinator --------------------------------------------------------------------------


@bp.route("/proposals/<int:proposal_id>/co-coordinator", methods=["GET", "POST"])
@login_required
def edit_co_coordinator(proposal_id: int):
    proposal = get_proposal_or_404(proposal_id)
    require_editable(proposal)
    require(proposal.is_coordinated_by(current_user), _("Only the coordinator names the co-coordinator."))
    form = CoCoordinatorForm()
    problems: list[str] = []
    conflict = False
    if request.method == "GET":
        form.name.data, form.email.data = proposal.co_coordinator_name, proposal.co_coordinator_email
        form.version.data = proposal.version_id
    elif form.validate_on_submit():
        try:
            invited = ops.set_co_coordinator(
                proposal, form.name.data, form.email.data, _actor(), form.expected_version()
            )
            db.session.commit()
        except ops.SubmissionRefused as refused:
            db.session.rollback()
            problems = refused.messages
        except (ops.ProposalConflict, StaleDataError):
            db.session.rollback()
            conflict = True
            proposal = get_proposal_or_404(proposal_id)
            form.version.data = proposal.version_id
        else:
            if invited:
                flash(
                    _(
                        "Saved. An invitation to view and co-edit the proposal was sent to %(email)s.",
                        email=proposal.co_coordinator_email,
                    ),
                    "success",
                )
            else:
                flash(_("Saved."), "success")
            return redirect(url_for(".proposal", proposal_id=proposal.id))
    status = 200 if request.method == "GET" else (409 if conflict else 422)
    return render_template(
        "applicant/co_coordinator.html",
        proposal=proposal,
        form=form,
        problems=problems,
        conflict=conflict,
        confirm_form=ConfirmForm(),
    ), status


@bp.post("/proposals/<int:proposal_id>/co-coordinator/invite")
@login_required
def resend_invitation(proposal_id: int):
    proposal = get_proposal_or_404(proposal_id)
    require(proposal.is_coordinated_by(current_user), _("Only the coordinator names the co-coordinator."))
    require_editable(proposal)
    require(
        bool(proposal.co_coordinator_email) and proposal.co_coordinator_id is None,
        _("There is no pending invitation to send again."),
    )
    if not ConfirmForm().validate_on_submit():
        abort(400)
    ops.resend_invitation(proposal, _actor())
    db.session.commit()
    flash(_("The invitation was sent again to %(email)s.", email=proposal.co_coordinator_email), "success")
    return redirect(url_for(".proposal", proposal_id=proposal.id))


@bp.post("/proposals/<int:proposal_id>/join")
@login_required
def join(proposal_id: int):
    return _confirmed_step(
        proposal_id,
        can_accept_co_coordination,
        _("Only the invited co-coordinator can join this proposal."),
        ops.accept_co_coordination,
        lambda p: _("You joined proposal %(reference)s as co-coordinator.", reference=p.reference),
    )


def _confirmed_step(proposal_id: int, allowed, refusal: str, step, done):
    """A one-button step on a proposal: the permission, the confirmation form, the use case
    ``step(proposal, actor)``, one commit, the message ``done(proposal)``, back to the proposal."""
    proposal = get_proposal_or_404(proposal_id)
    require(allowed(current_user, proposal), refusal)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    step(proposal, _actor())
    db.session.commit()
    flash(done(proposal), "success")
    return redirect(url_for(".proposal", proposal_id=proposal.id))


# --- teams -----------------------------------------------------------------------------------


def _team_or_404(proposal: Proposal, team_id: int) -> Team:
    team = db.session.get(Team, team_id)
    if team is None or team.proposal_id != proposal.id:
        abort(404)
    return team


def _team_data(form: TeamForm) -> ops.TeamData:
    return ops.TeamData(
        is_inserm=bool(form.is_inserm.data),
        country_code=form.country_code.data,
        laboratory=form.laboratory.data or "",
        unit_code=form.unit_code.data or "",
        institution_name=form.institution_name.data or "",
        authority=form.authority.data or "",
        leader_name=form.leader_name.data or "",
        leader_email=(form.leader_email.data or "").strip(),
        leader_position=form.leader_position.data or "",
        leader_permanent=bool(form.leader_permanent.data),
    )


def _edit_team(proposal: Proposal, team: Team | None):
    require_editable(proposal)
    form = TeamForm(obj=team if request.method == "GET" else None, country_choices=_country_choices())
    conflict = False
    if request.method == "GET":
        if team is None:
            form.country_code.data = ""
        form.version.data = proposal.version_id
        return render_template("applicant/team.html", proposal=proposal, team=team, form=form, conflict=False)
    if form.validate_on_submit():
        try:
            ops.save_team(proposal, team, _team_data(form), _actor(), form.expected_version())
            db.session.commit()
        except ops.SubmissionRefused as refused:
            db.session.rollback()
            flash(" ".join(refused.messages), "danger")  # the form keeps what was typed
        except (ops.ProposalConflict, StaleDataError):
            db.session.rollback()
            conflict = True
            proposal = get_proposal_or_404(proposal.id)
            form.version.data = proposal.version_id
        else:
            flash(_("Team saved."), "success")
            return redirect(url_for(".proposal", proposal_id=proposal.id, _anchor="teams"))
    return render_template(
        "applicant/team.html", proposal=proposal, team=team, form=form, conflict=conflict
    ), 409 if conflict else 422


@bp.route("/proposals/<int:proposal_id>/teams/new", methods=["GET", "POST"])
@login_required
def new_team(proposal_id: int):
    return _edit_team(get_proposal_or_404(proposal_id), None)


@bp.route("/proposals/<int:proposal_id>/teams/<int:team_id>", methods=["GET", "POST"])
@login_required
def edit_team(proposal_id: int, team_id: int):
    proposal = get_proposal_or_404(proposal_id)
    return _edit_team(proposal, _team_or_404(proposal, team_id))


@bp.post("/proposals/<int:proposal_id>/teams/<int:team_id>/delete")
@login_required
def delete_team(proposal_id: int, team_id: int):
    proposal = get_proposal_or_404(proposal_id)
    team = _team_or_404(proposal, team_id)
    require_editable(proposal)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        ops.delete_team(proposal, team, _actor(), None)
    except ops.SubmissionRefused as refused:
        raise _refusal(refused) from refused
    db.session.commit()
    flash(_("Team removed."), "success")
    return redirect(url_for(".proposal", proposal_id=proposal.id, _anchor="teams"))


# --- budget ----------------------------------------------------------------------------------


def _budget_form(proposal: Proposal, formdata=None) -> BudgetForm:
    form = BudgetForm(formdata=formdata)
    if formdata is None:
        lines = {(line.year, line.category): line for line in proposal.budget_lines}
        form.rows.entries = []
        form.rows.last_index = -1
        for year, category in ops.budget_grid(proposal):
            line = lines.get((year, category))
            form.rows.append_entry(
                {
                    "year": year,
                    "category": category,
                    "amount_eur": line.amount_eur if line else None,
                    "partner_cash_eur": line.partner_cash_eur if line else None,
                    "partner_in_kind_eur": line.partner_in_kind_eur if line else None,
                    "note": line.note if line else "",
                }
            )
        form.version.data = proposal.version_id
    return form


def _budget_rows(form: BudgetForm) -> list[ops.BudgetRow]:
    rows = []
    for entry in form.rows:
        year, category = entry.form.year.data or "", entry.form.category.data or ""
        if not year.isdigit():
            continue
        rows.append(
            ops.BudgetRow(
                year=int(year),
                category=category,
                amount_eur=entry.form.amount_eur.data or 0,
                partner_cash_eur=entry.form.partner_cash_eur.data or 0,
                partner_in_kind_eur=entry.form.partner_in_kind_eur.data or 0,
                note=entry.form.note.data or "",
            )
        )
    return rows


def _render_budget(proposal, form, conflict=False, status=200):
    found = ops.review(proposal, _locale())
    budget_problems = [
        m
        for p, m in zip(found.eligibility.problems, found.eligibility_messages, strict=True)
        if p.code.startswith("budget")
    ]
    return render_template(
        "applicant/budget.html",
        proposal=proposal,
        call=proposal.call,
        form=form,
        conflict=conflict,
        budget=_budget_table(proposal),
        budget_problems=budget_problems,
    ), status


@bp.route("/proposals/<int:proposal_id>/budget", methods=["GET", "POST"])
@login_required
def edit_budget(proposal_id: int):
    proposal = get_proposal_or_404(proposal_id)
    require_editable(proposal)
    require(
        proposal.stage == STAGE_FULL, _("A letter of intent has no budget: it comes with the full proposal.")
    )
    if request.method == "GET":
        return _render_budget(proposal, _budget_form(proposal))
    form = _budget_form(proposal, formdata=request.form)
    if not form.validate_on_submit():
        return _render_budget(proposal, form, status=422)
    try:
        ops.save_budget(proposal, _budget_rows(form), _actor(), form.expected_version())
        db.session.commit()
    except ops.SubmissionRefused as refused:
        db.session.rollback()
        flash(" ".join(refused.messages), "danger")  # the form keeps what was typed
        return _render_budget(get_proposal_or_404(proposal_id), form, status=422)
    except (ops.ProposalConflict, StaleDataError):
        db.session.rollback()
        proposal = get_proposal_or_404(proposal_id)
        form.version.data = proposal.version_id
        return _render_budget(proposal, form, conflict=True, status=409)
    flash(_("Budget saved."), "success")
    if request.form.get("next") == "stay":
        return redirect(url_for(".edit_budget", proposal_id=proposal.id))
    return redirect(url_for(".proposal", proposal_id=proposal.id, _anchor="budget"))


# --- documents -------------------------------------------------------------------------------


def _kind_or_404(proposal: Proposal, kind_code: str):
    kind = next((k for k in proposal.call.attachment_kinds if k.code == kind_code), None)
    if kind is None:
        abort(404)
    return kind


def _render_documents(proposal, forms=None, status=200):
    current = {a.kind_code: a for a in proposal.attachments}
    forms = forms or {}
    for kind in proposal.call.attachment_kinds:
        forms.setdefault(kind.code, AttachmentForm(formdata=None, prefix=kind.code))
    return render_template(
        "applicant/documents.html",
        proposal=proposal,
        call=proposal.call,
        current=current,
        forms=forms,
        confirm_form=ConfirmForm(),
        editable=can_edit_proposal(current_user, proposal),
    ), status


@bp.get("/proposals/<int:proposal_id>/documents")
@login_required
def documents(proposal_id: int):
    proposal = get_proposal_or_404(proposal_id)
    require(
        proposal.stage == STAGE_FULL,
        _("A letter of intent has no documents: they come with the full proposal."),
    )
    return _render_documents(proposal)


@bp.post("/proposals/<int:proposal_id>/documents/<kind_code>")
@login_required
def upload_document(proposal_id: int, kind_code: str):
    proposal = get_proposal_or_404(proposal_id)
    kind = _kind_or_404(proposal, kind_code)
    require_editable(proposal)
    form = AttachmentForm(prefix=kind.code)
    if form.validate_on_submit():
        upload = form.file.data
        try:
            ops.store_attachment(proposal, kind, upload.filename or "", upload.read(), _actor())
            db.session.commit()
        except ops.UploadRefused as refused:
            db.session.rollback()
            form.file.errors = [refused.message]
        except ops.SubmissionRefused as refused:
            raise _refusal(refused) from refused
        except StaleDataError:
            db.session.rollback()
            form.file.errors = [_("Someone else changed the proposal at the same moment: upload again.")]
        else:
            flash(_("%(document)s uploaded.", document=kind.label(_locale())), "success")
            return redirect(url_for(".documents", proposal_id=proposal.id))
    proposal = get_proposal_or_404(proposal_id)
    return _render_documents(proposal, {kind.code: form}, status=422)


@bp.post("/proposals/<int:proposal_id>/documents/<kind_code>/delete")
@login_required
def delete_document(proposal_id: int, kind_code: str):
    proposal = get_proposal_or_404(proposal_id)
    _kind_or_404(proposal, kind_code)
    require_editable(proposal)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    attachment = next((a for a in proposal.attachments if a.kind_code == kind_code), None)
    if attachment is not None:  # else removed already (a second click, another tab): same outcome
        try:
            ops.delete_attachment(proposal, attachment, _actor())
        except ops.SubmissionRefused as refused:
            raise _refusal(refused) from refused
        db.session.commit()
    flash(_("Document removed."), "success")
    return redirect(url_for(".documents", proposal_id=proposal.id))


def _file_response(data: bytes, filename: str, mimetype: str = "application/pdf"):
    response = send_file(
        io.BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=filename, max_age=0
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/proposals/<int:proposal_id>/documents/<int:attachment_id>/download")
@login_required
def download_document(proposal_id: int, attachment_id: int):
    proposal = get_proposal_or_404(proposal_id)
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.proposal_id != proposal.id:
        abort(404)
    return _file_response(read_bytes(attachment.stored_name), attachment.original_filename)


# --- submission and afterwards ---------------------------------------------------------------


@bp.post("/proposals/<int:proposal_id>/submit")
@login_required
def submit(proposal_id: int):
    received_at = g.received_at
    proposal = get_proposal_or_404(proposal_id)
    form = SubmitForm()
    if not form.validate_on_submit():
        abort(400)
    require(proposal.is_coordinated_by(current_user), _("Only the coordinator can submit the proposal."))
    if proposal.state == ProposalState.DRAFT:
        require(can_submit_proposal(current_user, proposal), str(ops.REFUSALS["deadline"]))
    try:
        submission = ops.submit(proposal, _actor(), received_at, _locale(), form.expected_version())
        db.session.commit()
    except ops.AlreadySubmitted:
        db.session.rollback()
        return _already_submitted(proposal_id)
    except StaleDataError:
        # Another request submitted (or changed) it at the same moment.
        db.session.rollback()
        proposal = get_proposal_or_404(proposal_id)
        if proposal.state != ProposalState.DRAFT:
            return _already_submitted(proposal_id)
        return _render_proposal(proposal, conflict=True, status=409)
    except ops.ProposalConflict:
        db.session.rollback()
        return _render_proposal(get_proposal_or_404(proposal_id), conflict=True, status=409)
    except ops.SubmissionRefused as refused:
        db.session.rollback()
        return _render_proposal(get_proposal_or_404(proposal_id), refused=refused.messages, status=422)
    if submission.stage == STAGE_LOI:
        flash(
            _(
                "Your letter of intent is submitted (receipt %(receipt)s). A copy of the receipt was "
                "e-mailed to you.",
                receipt=submission.receipt.reference,
            ),
            "success",
        )
    else:
        flash(
            _(
                "Your proposal is submitted (receipt %(receipt)s). A copy of the receipt was e-mailed "
                "to you.",
                receipt=submission.receipt.reference,
            ),
            "success",
        )
    return redirect(url_for(".proposal", proposal_id=proposal_id))


def _already_submitted(proposal_id: int):
    flash(_("This proposal was already submitted: nothing was sent twice."), "info")
    return redirect(url_for(".proposal", proposal_id=proposal_id))


@bp.post("/proposals/<int:proposal_id>/reopen")
@login_required
def reopen(proposal_id: int):
    proposal = get_proposal_or_404(proposal_id)
    require(
        can_reopen_proposal(current_user, proposal),
        _("Only the coordinator can take a submitted proposal back, and only before the deadline."),
    )
    if not ConfirmForm().validate_on_submit():
        abort(400)
    ops.reopen(proposal, _actor(), g.received_at)
    db.session.commit()
    flash(
        _(
            "The proposal is a draft again. It no longer counts as submitted: submit it again "
            "before the deadline."
        ),
        "warning",
    )
    return redirect(url_for(".proposal", proposal_id=proposal.id))


@bp.route("/proposals/<int:proposal_id>/withdraw", methods=["GET", "POST"])
@login_required
def withdraw(proposal_id: int):
    proposal = get_proposal_or_404(proposal_id)
    require(
        can_withdraw_proposal(current_user, proposal),
        _("Only the coordinator can withdraw the proposal, and only before the final decision."),
    )
    form = WithdrawForm()
    if request.method == "POST" and form.validate_on_submit():
        ops.withdraw(proposal, _actor(), form.reason.data or "", g.received_at)
        db.session.commit()
        flash(_("The proposal is withdrawn."), "success")
        return redirect(url_for(".proposal", proposal_id=proposal.id))
    status = 422 if request.method == "POST" else 200
    return render_template("applicant/withdraw.html", proposal=proposal, form=form), status


@bp.post("/proposals/<int:proposal_id>/full-proposal")
@login_required
def start_full(proposal_id: int):
    return _confirmed_step(
        proposal_id,
        can_start_full_proposal,
        _("Only the coordinator of a shortlisted letter of intent can start the full proposal."),
        ops.start_full_proposal,
        lambda p: _("The full proposal is open: complete the texts, budget and documents, then submit."),
    )


@bp.get("/proposals/<int:proposal_id>/receipts/<int:version>.pdf")
@login_required
def receipt(proposal_id: int, version: int):
    proposal = get_proposal_or_404(proposal_id)
    submission = db.session.scalar(
        select(Submission).where(Submission.proposal_id == proposal.id, Submission.version == version)
    )
    if submission is None or submission.receipt_id is None:
        abort(404)
    document = db.session.get(IssuedDocument, submission.receipt_id)
    return _file_response(read_bytes(document.stored_name), f"{document.reference}.pdf")
