"""The validation queue: per call, the proposed ranking with the budget summary; validate the
list, decide one proposal, send it back; release the call's decisions; follow the letters."""

from __future__ import annotations

import click
from flask import abort, flash, jsonify, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user

from forms.auth import ConfirmForm
from forms.decisions import CorrectLetterForm, DecideForm, ValidateListForm
from webapp import jobs
from webapp.access import (
    can_file_redress,
    can_issue_agreement,
    can_release,
    can_validate,
    can_view_decisions,
    roles_required,
)
from webapp.dashboard import Card
from webapp.directorate import bp
from webapp.documents import issued
from webapp.extensions import db
from webapp.models import Proposal
from webapp.models.calls import Call
from webapp.models.decisions import StructureAgreement
from webapp.operations import decisions as ops
from workflows.decisions import DECIDABLE_STATES, DECIDED_STATES, DgAct
from workflows.instruments import Instrument, rules_for
from workflows.roles import Role


def _actor():
    return current_user._get_current_object()


def get_call_or_404(call_id: int) -> Call:
    call = db.session.get(Call, call_id)
    if call is None:
        abort(404)
    return call


def get_decision_proposal_or_404(proposal_id: int) -> Proposal:
    """A proposal the DG has before it (proposed, or decided); any other looks absent."""
    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None or proposal.state not in DECIDABLE_STATES | DECIDED_STATES:
        abort(404)
    return proposal


def instrument_label(instrument) -> str:
    from flask_babel import get_locale

    return rules_for(Instrument(instrument)).label(str(get_locale() or "fr"))


@bp.get("/")
@roles_required(can_view_decisions)
def queue():
    return render_template(
        "directorate/queue.html",
        calls=ops.queue_counts(),
        rolling=ops.rolling_queue(),
        instrument_label=instrument_label,
    )


def _render_call(call: Call, *, refused=(), list_form=None, status=200):
    proposals = ops.decision_proposals(call)
    agreements = (
        {
            a.proposal_id: a
            for a in db.session.scalars(
                db.select(StructureAgreement).where(
                    StructureAgreement.proposal_id.in_([p.id for p in proposals])
                )
            )
        }
        if proposals
        else {}
    )
    letters = {}
    if proposals:
        from webapp.models import IssuedDocument

        refs = [issued.letter_reference(p) for p in proposals]
        for doc in db.session.scalars(
            db.select(IssuedDocument)
            .where(IssuedDocument.reference.in_(refs))
            .order_by(IssuedDocument.version)
        ):
            letters[doc.proposal_id] = doc
    batch = jobs.latest_batch(call.id)
    return render_template(
        "directorate/call.html",
        call=call,
        proposals=proposals,
        budget=ops.budget_of(call, proposals),
        unreleased=ops.unreleased_count(call),
        pending=sum(1 for p in proposals if p.state in DECIDABLE_STATES),
        refused=list(refused),
        list_form=list_form or ValidateListForm(),
        confirm_form=ConfirmForm(),
        letters=letters,
        agreements=agreements,
        progress=_progress(batch),
        has_batch=bool(batch),
        instrument_label=instrument_label,
    ), status


@bp.get("/calls/<int:call_id>")
@roles_required(can_view_decisions)
def call(call_id: int):
    return _render_call(get_call_or_404(call_id))


@bp.post("/calls/<int:call_id>/validate")
@roles_required(can_validate)
def validate_call(call_id: int):
    call = get_call_or_404(call_id)
    form = ValidateListForm()
    if not form.validate_on_submit():
        return _render_call(call, list_form=form, status=422)
    try:
        counts = ops.validate_call(call, _actor(), comment=form.comment.data or "")
    except ops.DecisionRefused as refused:
        db.session.rollback()
        return _render_call(get_call_or_404(call_id), refused=refused.messages, list_form=form, status=422)
    db.session.commit()
    flash(
        _(
            "List validated: %(a)d awarded, %(r)d rejected, %(w)d on the waiting list still to decide. "
            "The decisions stay pending until they are released.",
            a=counts["awarded"],
            r=counts["rejected"],
            w=counts["waiting"],
        ),
        "success",
    )
    return redirect(url_for(".call", call_id=call_id))


@bp.post("/calls/<int:call_id>/release")
@roles_required(can_release)
def release(call_id: int):
    call = get_call_or_404(call_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        released = ops.release_call(call, _actor())
    except ops.DecisionRefused as refused:
        db.session.rollback()
        return _render_call(get_call_or_404(call_id), refused=refused.messages, status=422)
    db.session.commit()  # the letter jobs are queued once this has committed
    flash(
        ngettext(
            "%(num)d decision released: the applicants are notified and the letter is being issued.",
            "%(num)d decisions released: the applicants are notified and the letters are being issued.",
            len(released),
        ),
        "success",
    )
    return redirect(url_for(".call", call_id=call_id) + "#letters")


@bp.post("/calls/<int:call_id>/letters")
@roles_required(can_release)
def issue_letters(call_id: int):
    """Queue the letters still missing (after a failed job, for instance); issued ones are kept."""
    call = get_call_or_404(call_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    missing = [
        p.id for p in ops.decision_proposals(call) if ops.is_released(p) and ops.current_letter(p) is None
    ]
    if not missing:
        flash(_("Every released decision already has its letter."), "info")
        return redirect(url_for(".call", call_id=call_id) + "#letters")
    jobs.create_letter_jobs(call, missing, _actor())
    db.session.commit()
    flash(_("%(n)d letters are being issued.", n=len(missing)), "success")
    return redirect(url_for(".call", call_id=call_id) + "#letters")


@bp.get("/calls/<int:call_id>/letters/progress")
@roles_required(can_view_decisions)
def letters_progress(call_id: int):
    call = get_call_or_404(call_id)
    return jsonify(_progress(jobs.latest_batch(call.id)))


def _progress(batch) -> dict:
    progress = jobs.progress(batch)
    return {**progress, "status_label": str(JOB_STATUS_LABELS.get(progress["status"], progress["status"]))}


#: The letters' progress in the reader's language (the page and its polling script).
JOB_STATUS_LABELS = {
    "none": _l("no letters yet"),
    "queued": _l("waiting for a worker"),
    "running": _l("being issued"),
    "done": _l("all issued"),
    "failed": _l("stopped: some letters could not be issued"),
}


# --- one proposal -------------------------------------------------------------------------------------


def _render_proposal(proposal: Proposal, form=None, refused=(), status=200):
    form = form or DecideForm(annual_eur=proposal.requested_annual_eur)
    return render_template(
        "directorate/proposal.html",
        proposal=proposal,
        call=proposal.call,
        form=form,
        refused=list(refused),
        letter=ops.current_letter(proposal),
        correct_form=CorrectLetterForm(),
        confirm_form=ConfirmForm(),
        instrument_label=instrument_label,
    ), status


@bp.get("/proposals/<int:proposal_id>")
@roles_required(can_view_decisions)
def proposal(proposal_id: int):
    return _render_proposal(get_decision_proposal_or_404(proposal_id))


@bp.post("/proposals/<int:proposal_id>")
@roles_required(can_validate)
def decide(proposal_id: int):
    proposal = get_decision_proposal_or_404(proposal_id)
    form = DecideForm()
    if not form.validate_on_submit():
        return _render_proposal(proposal, form, status=422)
    act = DgAct(form.act.data)
    try:
        ops.decide(
            proposal,
            act,
            _actor(),
            comment=form.comment.data or "",
            annual_eur=form.annual_eur.data,
            resubmission_allowed=bool(form.resubmission_allowed.data),
        )
    except ops.DecisionRefused as refused:
        db.session.rollback()
        return _render_proposal(get_decision_proposal_or_404(proposal_id), form, refused.messages, status=422)
    call_id = proposal.call_id
    db.session.commit()
    messages = {
        DgAct.AWARD: _("Proposal awarded. The decision stays pending until it is released."),
        DgAct.REJECT: _("Proposal rejected. The decision stays pending until it is released."),
        DgAct.SEND_BACK: _("Proposal sent back to the programme managers."),
    }
    flash(messages[act], "success")
    return redirect(url_for(".call", call_id=call_id))


@bp.post("/proposals/<int:proposal_id>/letter/correct")
@roles_required(can_issue_agreement)
def correct_letter(proposal_id: int):
    proposal = get_decision_proposal_or_404(proposal_id)
    form = CorrectLetterForm()
    if not form.validate_on_submit():
        return _render_proposal(proposal, refused=[_("Say what the correction changes.")], status=422)
    try:
        document = ops.correct_letter(proposal, _actor(), form.reason.data)
    except ops.DecisionRefused as refused:
        db.session.rollback()
        return _render_proposal(
            get_decision_proposal_or_404(proposal_id), refused=refused.messages, status=422
        )
    version = document.version
    db.session.commit()
    flash(
        _(
            "Version %(n)d of the letter is issued; the previous one is kept and marked superseded.",
            n=version,
        ),
        "success",
    )
    return redirect(url_for(".proposal", proposal_id=proposal_id))


# --- dashboard and CLI ----------------------------------------------------------------------------------


def _applicant_cards(user) -> list[Card]:
    """Released decisions on the user's proposals: the letter, and the request for review."""
    from webapp.operations.submission import proposals_of

    released = db.session.scalars(
        db.select(Proposal)
        .where(
            proposals_of(user, invitations=False),
            Proposal.decision_released_at.is_not(None),
            Proposal.state.in_(sorted(DECIDED_STATES)),
        )
        .order_by(Proposal.decision_released_at.desc())
        .limit(20)
    ).all()
    if not released:
        return []
    links = []
    for p in released:
        links.append(
            (_("Decision letter %(ref)s", ref=p.reference), url_for("decisions.letter", proposal_id=p.id))
        )
        if can_file_redress(user, p):
            links.append(
                (
                    _("Request a review (%(ref)s)", ref=p.reference),
                    url_for("decisions.file_redress", proposal_id=p.id),
                )
            )
    return [
        Card(_("Decisions on your proposals"), _("The decisions released to you, with their letters."), links)
    ]


def dashboard_cards(user) -> list[Card]:
    if not can_view_decisions(user):
        return _applicant_cards(user)
    counts = ops.queue_counts()
    waiting = sum(a for _c, a, _u in counts)
    unreleased = sum(u for _c, _a, u in counts)
    links = [(_("Validation queue"), url_for("directorate.queue"))]
    if user.has_role(Role.MANAGER, Role.DIRECTORATE):
        links.append((_("Agreements"), url_for("directorate.agreements")))
        links.append((_("Requests for review"), url_for("decisions.redress_requests")))
    return [
        Card(
            _("Decisions"),
            _("%(w)d proposals await a decision; %(u)d decisions await release.", w=waiting, u=unreleased),
            links,
        )
    ]


def register_cli(app) -> None:
    @app.cli.command("jobs-worker", with_appcontext=False)
    @click.option(
        "--workers", default=jobs.WORKERS, show_default=True, help="Worker processes (one per core)."
    )
    def jobs_worker(workers):
        """Run the background-job consumer (Huey): letters, with the stale-job sweeper."""
        from huey.consumer import Consumer

        jobs.huey.immediate = False
        jobs.warm_up()  # before the workers are forked: they start warm
        click.echo(f"Background jobs: {workers} process workers on {type(jobs.huey.storage).__name__}.")
        Consumer(jobs.huey, workers=workers, worker_type="process", periodic=True).run()

    @app.cli.command("jobs-sweep")
    def jobs_sweep():
        """Queue again the jobs whose worker died (stale heartbeat)."""
        requeued = jobs.sweep_stale_jobs()
        db.session.commit()
        click.echo(f"Queued again: {len(requeued)} job(s).")
