"""A reviewer's pages: the queue, an invitation (accept, decline, declare a conflict), the
conflict-of-interest declaration, the scoring form, and the consensus once a manager opens it.

Every page loads the assignment through `visible_assignment`: the reviewer's own invitation or
accepted assignment, nothing else. Another reviewer's assignment, a declined one, or one removed
after a declared conflict answers 404, like an assignment that does not exist.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError

from forms.assessment import CONFLICT_SHORT_LABELS, DeclarationForm, ReasonForm, review_form
from forms.auth import ConfirmForm
from webapp.access import can_screen, can_see_consensus, is_reviewer, roles_required
from webapp.dashboard import Card
from webapp.extensions import db
from webapp.models import Proposal
from webapp.models.assessment import ReviewAssignment
from webapp.operations import assessment as ops
from webapp.operations import ranking as ranking_ops
from webapp.pagination import PER_PAGE, Page, page_number
from webapp.review import bp
from workflows.proposal_states import ProposalState
from workflows.reviews import AssignmentStatus
from workflows.scoring import review_problems, to_decimal, weighted_total


def _locale() -> str:
    return str(get_locale() or "fr")


def _user():
    return current_user._get_current_object()


def _assignment_or_404(assignment_id: int) -> ReviewAssignment:
    assignment = ops.visible_assignment(_user(), assignment_id)
    if assignment is None:
        abort(404)
    return assignment


def _flash_refusal(refused: ops.AssessmentRefused) -> None:
    for message in refused.messages:
        flash(message, "danger")


# --- the queue -------------------------------------------------------------------------------------


@bp.get("/")
@roles_required(is_reviewer)
def queue():
    show = request.args.get("show", "all")
    if show not in ops.QUEUE_FILTERS:
        show = "all"
    number = page_number()
    rows, total = ops.reviewer_queue(_user(), show, number, PER_PAGE)
    cleared = ops.cleared_assignment_ids(rows)
    entries = [(row, ops.queue_stand(row, cleared)) for row in rows]
    return render_template(
        "review/queue.html", page=Page(rows, total, number), entries=entries, show=show
    )


def dashboard_cards(user) -> list[Card]:
    if not is_reviewer(user):
        return []
    counts = ops.reviewer_counts(user)
    text = _(
        "%(invited)d invitation(s) awaiting your answer, %(open)d review(s) to finish.",
        invited=counts.invited,
        open=counts.open,
    )
    if counts.next_due is not None:
        from webapp.templating import paris_datetime

        text += " " + _("Next due: %(date)s.", date=paris_datetime(counts.next_due, "d MMMM y"))
    return [Card(_("My reviews"), text, [(_("My reviews"), url_for("review.queue"))])]


def manager_cards(user) -> list[Card]:
    """The assessment at a glance for programme managers, over every call."""
    S = ProposalState
    if not can_screen(user):
        return []
    counts = dict(
        db.session.execute(
            select(Proposal.state, func.count(Proposal.id))
            .where(Proposal.state.in_([S.SUBMITTED, S.ELIGIBLE, S.UNDER_REVIEW, S.REVIEWED, S.RANKED]))
            .group_by(Proposal.state)
        ).all()
    )
    text = _(
        "%(screen)d proposal(s) to screen, %(review)d in review, %(rank)d to moderate or rank.",
        screen=counts.get(S.SUBMITTED, 0),
        review=counts.get(S.ELIGIBLE, 0) + counts.get(S.UNDER_REVIEW, 0),
        rank=counts.get(S.REVIEWED, 0) + counts.get(S.RANKED, 0),
    )
    return [
        Card(
            _("Assessment"),
            text,
            [(_("Calls"), url_for("manage.calls")), (_("Reviewer pool"), url_for("manage.reviewers"))],
        )
    ]


# --- an invitation ---------------------------------------------------------------------------------


@bp.get("/assignments/<int:assignment_id>")
@roles_required(is_reviewer)
def invitation(assignment_id: int):
    assignment = _assignment_or_404(assignment_id)
    if assignment.status == AssignmentStatus.ACCEPTED:
        if ops.has_declared_no_conflict(assignment):
            return redirect(url_for(".score", assignment_id=assignment.id))
        return redirect(url_for(".declaration", assignment_id=assignment.id))
    return render_template(
        "review/invitation.html",
        assignment=assignment,
        proposal=assignment.proposal,
        confirm_form=ConfirmForm(),
        decline_form=ReasonForm(formdata=None),
    )


@bp.post("/assignments/<int:assignment_id>/accept")
@roles_required(is_reviewer)
def accept(assignment_id: int):
    assignment = _assignment_or_404(assignment_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        ops.accept(assignment, _user())
    except ops.AssessmentRefused as refused:
        db.session.rollback()
        _flash_refusal(refused)
        return redirect(url_for(".queue"))
    db.session.commit()
    flash(_("Thank you. Before you open the proposal, declare your conflicts of interest."), "success")
    return redirect(url_for(".declaration", assignment_id=assignment.id))


@bp.post("/assignments/<int:assignment_id>/decline")
@roles_required(is_reviewer)
def decline(assignment_id: int):
    assignment = _assignment_or_404(assignment_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        ops.decline(assignment, _user(), form.reason.data or "")
    except ops.AssessmentRefused as refused:
        db.session.rollback()
        _flash_refusal(refused)
        return redirect(url_for(".queue"))
    db.session.commit()
    flash(_("You declined the invitation; the programme manager was told."), "info")
    return redirect(url_for(".queue"))


# --- the conflict-of-interest declaration ----------------------------------------------------------


@bp.route("/assignments/<int:assignment_id>/declaration", methods=["GET", "POST"])
@roles_required(is_reviewer)
def declaration(assignment_id: int):
    assignment = _assignment_or_404(assignment_id)
    if ops.has_declared_no_conflict(assignment) and request.method == "GET":
        return redirect(url_for(".score", assignment_id=assignment.id))
    form = DeclarationForm()
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            try:
                ops.declare(assignment, _user(), form.kind.data, form.comment.data or "")
            except ops.AssessmentRefused as refused:
                db.session.rollback()
                form.kind.errors = list(form.kind.errors) + refused.messages
                assignment = _assignment_or_404(assignment_id)
            else:
                db.session.commit()
                if form.kind.data == "none":
                    flash(_("Thank you: you may now read and score the proposal."), "success")
                    return redirect(url_for(".score", assignment_id=assignment_id))
                flash(
                    _(
                        "Your declaration is recorded: you are no longer assigned to this proposal. "
                        "The programme manager was told."
                    ),
                    "info",
                )
                return redirect(url_for(".queue"))
    return render_template(
        "review/declaration.html", assignment=assignment, proposal=assignment.proposal, form=form
    ), status


# --- the scoring form ------------------------------------------------------------------------------

PROBLEM_MESSAGES = {
    "score_missing": lambda p: _("Give a score."),
    "score_outside": lambda p: _("Choose a score from %(low)s to %(high)s.", low=p["low"], high=p["high"]),
    "comment_short": lambda p: _(
        "Write at least %(min)s characters (%(length)s so far).", min=p["min"], length=p["length"]
    ),
    "applicants_comment_short": lambda p: _(
        "Write at least %(min)s characters (%(length)s so far).", min=p["min"], length=p["length"]
    ),
}


def _field_name(grid, problem_field: str) -> str:
    for index, criterion in enumerate(grid.criteria):
        if problem_field == f"score_{criterion.code}":
            return f"score_{index}"
        if problem_field == f"comment_{criterion.code}":
            return f"comment_{index}"
    return problem_field


def _fill(form, review) -> None:
    scores, comments = review.score_map(), review.comment_map()
    for index, criterion in enumerate(form.grid.criteria):
        form[f"score_{index}"].data = scores.get(criterion.code)
        form[f"comment_{index}"].data = comments.get(criterion.code, "")
    form.comment_for_applicants.data = review.comment_for_applicants
    form.confidential_comment.data = review.confidential_comment
    form.ethics_flag.data = review.ethics_flag
    form.ethics_comment.data = review.ethics_comment
    form.version.data = str(review.version_id)


def _render_score(assignment, form, status=200, conflict=False, problems=()):
    grid = assignment.proposal.call.grid()
    review = assignment.review
    scores = form.scores() if form is not None else (review.score_map() if review else {})
    total = weighted_total(grid, scores)
    return render_template(
        "review/score.html",
        assignment=assignment,
        proposal=assignment.proposal,
        grid=grid,
        form=form,
        review=review,
        editable=ops.can_edit_review(assignment),
        conflict=conflict,
        problems=list(problems),
        total=None if total is None else to_decimal(total, 2),
        min_chars=ops.min_comment_chars(),
        fields=[(c, form[f"score_{i}"], form[f"comment_{i}"]) for i, c in enumerate(grid.criteria)]
        if form is not None
        else [],
        consensus_open=can_see_consensus(_user(), assignment.proposal),
    ), status


@bp.route("/assignments/<int:assignment_id>/review", methods=["GET", "POST"])
@roles_required(is_reviewer)
def score(assignment_id: int):
    assignment = _assignment_or_404(assignment_id)
    if assignment.status != AssignmentStatus.ACCEPTED:
        return redirect(url_for(".invitation", assignment_id=assignment.id))
    if not ops.has_declared_no_conflict(assignment):
        flash(_("Declare your conflicts of interest before opening the proposal."), "warning")
        return redirect(url_for(".declaration", assignment_id=assignment.id))
    grid = assignment.proposal.call.grid()
    form = review_form(grid, _locale())
    if request.method == "GET":
        if assignment.review is not None:
            _fill(form, assignment.review)
        else:
            form.version.data = "0"
        return _render_score(assignment, form)
    if not ops.can_edit_review(assignment):
        flash(_("This review is locked: it was submitted, or the review is over."), "danger")
        return redirect(url_for(".score", assignment_id=assignment.id))
    if not form.validate_on_submit():
        return _render_score(assignment, form, 422)
    data = ops.ReviewData(
        scores=form.scores(),
        comments=form.comments(),
        for_applicants=form.comment_for_applicants.data or "",
        confidential=form.confidential_comment.data or "",
        ethics_flag=bool(form.ethics_flag.data),
        ethics_comment=form.ethics_comment.data or "",
    )
    submit = form.action.data == "submit"
    problems = (
        review_problems(
            grid, data.scores, data.comments, data.for_applicants, min_chars=ops.min_comment_chars()
        )
        if submit
        else []
    )
    try:
        review = ops.save_review(
            assignment, _user(), data, form.expected_version(), submit=submit and not problems
        )
        db.session.commit()
    except (ops.ReviewConflict, StaleDataError):
        db.session.rollback()
        assignment = _assignment_or_404(assignment_id)
        current = assignment.review
        form.version.data = str(current.version_id) if current is not None else "0"
        return _render_score(assignment, form, 409, conflict=True)
    except ops.AssessmentRefused as refused:
        db.session.rollback()
        _flash_refusal(refused)
        return _render_score(_assignment_or_404(assignment_id), form, 422)
    if problems:
        # Nothing typed is lost: the review is kept as a draft, and each problem shows by its field.
        form.version.data = str(review.version_id)
        for problem in problems:
            field = form[_field_name(grid, problem.field)]
            field.errors = list(field.errors) + [PROBLEM_MESSAGES[problem.code](problem.params)]
        return _render_score(_assignment_or_404(assignment_id), form, 422, problems=problems)
    if submit:
        flash(_("Your review is submitted. Thank you."), "success")
    else:
        flash(_("Draft saved."), "success")
    return redirect(url_for(".score", assignment_id=assignment_id))


@bp.get("/assignments/<int:assignment_id>/files/<int:attachment_id>")
@roles_required(is_reviewer)
def proposal_file(assignment_id: int, attachment_id: int):
    """A file of the proposal, for its assigned reviewer once they declared no conflict."""
    from webapp.manage.screening import attachment_response

    assignment = _assignment_or_404(assignment_id)
    if assignment.status != AssignmentStatus.ACCEPTED or not ops.has_declared_no_conflict(assignment):
        abort(404)
    return attachment_response(assignment.proposal, attachment_id)


# --- the consensus, once opened to the reviewers ------------------------------------------------------


@bp.get("/assignments/<int:assignment_id>/consensus")
@roles_required(is_reviewer)
def consensus(assignment_id: int):
    assignment = _assignment_or_404(assignment_id)
    proposal = assignment.proposal
    if not can_see_consensus(_user(), proposal):
        abort(404)
    grid = proposal.call.grid()
    return render_template(
        "review/consensus.html",
        assignment=assignment,
        proposal=proposal,
        grid=grid,
        reviews=ranking_ops.counted_reviews(proposal),
        stats=ranking_ops.scores_of(proposal, grid),
        consensus=ranking_ops.consensus_of(proposal),
        to_decimal=to_decimal,
        conflict_labels=CONFLICT_SHORT_LABELS,
    )
