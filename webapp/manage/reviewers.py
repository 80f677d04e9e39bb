"""The reviewer pool: list with search, filters and pages; invitation by e-mail; profiles."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from forms import choices
from forms.assessment import InviteReviewerForm, PoolSearchForm, ReviewerProfileForm
from webapp.access import can_assign, roles_required
from webapp.extensions import db
from webapp.manage import bp
from webapp.manage.screening import actor, flash_refusal, locale
from webapp.models import Country, User
from webapp.models.assessment import ReviewAssignment, ReviewerProfile
from webapp.operations import accounts
from webapp.operations import assessment as ops
from webapp.pagination import paginate
from workflows.reviews import ACTIVE_STATUSES


def _country_choices(blank: str) -> list:
    current = locale()
    countries = sorted(
        ((c.code, c.name(current)) for c in db.session.scalars(select(Country))), key=lambda c: c[1]
    )
    return choices([("", blank), *countries])


def _profile_data(form: ReviewerProfileForm) -> ops.ProfileData:
    return ops.ProfileData(
        keywords=form.keywords.data or "",
        institution_name=form.institution_name.data or "",
        unit_code=form.unit_code.data or "",
        country_code=form.country_code.data or None,
        is_external=form.is_external.data == "external",
        max_load=form.max_load.data or 0,
        active=bool(form.active.data),
    )


@bp.get("/reviewers")
@roles_required(can_assign)
def reviewers():
    form = PoolSearchForm(request.args)
    form.country.choices = _country_choices(_("All"))
    if form.validate():
        stmt = ops.reviewer_pool_query(
            form.q.data or "", form.kind.data or "", form.country.data or "", form.status.data or ""
        )
    else:
        stmt = ops.reviewer_pool_query()
    page = paginate(db, stmt)
    user_ids = [p.user_id for p in page.items]
    loads = (
        dict(
            db.session.execute(
                select(ReviewAssignment.reviewer_id, func.count(ReviewAssignment.id))
                .where(
                    ReviewAssignment.reviewer_id.in_(user_ids),
                    ReviewAssignment.status.in_(list(ACTIVE_STATUSES)),
                )
                .group_by(ReviewAssignment.reviewer_id)
            ).all()
        )
        if user_ids
        else {}
    )
    return render_template("manage/assessment/reviewers.html", form=form, page=page, loads=loads)


@bp.route("/reviewers/invite", methods=["GET", "POST"])
@roles_required(can_assign)
def invite_reviewer():
    form = InviteReviewerForm()
    form.country_code.choices = _country_choices("—")
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            try:
                profile, created = ops.invite_reviewer(
                    form.email.data,
                    form.first_name.data,
                    form.last_name.data,
                    form.locale.data,
                    _profile_data(form),
                    actor(),
                )
            except (ops.AssessmentRefused, accounts.AccountError) as refused:
                db.session.rollback()
                messages = refused.messages if isinstance(refused, ops.AssessmentRefused) else [str(refused)]
                form.email.errors = list(form.email.errors) + messages
            else:
                db.session.commit()
                flash(
                    _("%(email)s is in the reviewer pool and received an e-mail.", email=profile.user.email)
                    if not created
                    else _(
                        "An account was created for %(email)s, who received a link to choose a password.",
                        email=profile.user.email,
                    ),
                    "success",
                )
                return redirect(url_for(".reviewer_profile", user_id=profile.user_id))
    return render_template("manage/assessment/invite_reviewer.html", form=form), status


@bp.route("/reviewers/<int:user_id>", methods=["GET", "POST"])
@roles_required(can_assign)
def reviewer_profile(user_id: int):
    profile = db.session.scalar(select(ReviewerProfile).where(ReviewerProfile.user_id == user_id))
    if profile is None:
        abort(404)
    form = ReviewerProfileForm()
    form.country_code.choices = _country_choices("—")
    status = 200
    if request.method == "GET":
        form.keywords.data = profile.keywords
        form.institution_name.data = profile.institution_name
        form.unit_code.data = profile.unit_code
        form.country_code.data = profile.country_code or ""
        form.is_external.data = "external" if profile.is_external else "internal"
        form.max_load.data = profile.max_load
        form.active.data = profile.active
    elif form.validate_on_submit():
        try:
            ops.update_profile(profile, _profile_data(form), actor())
        except ops.AssessmentRefused as refused:
            db.session.rollback()
            flash_refusal(refused)
            status = 422
        else:
            db.session.commit()
            flash(_("Profile saved."), "success")
            return redirect(url_for(".reviewer_profile", user_id=user_id))
    else:
        status = 422
    assignments = db.session.scalars(
        select(ReviewAssignment)
        .where(ReviewAssignment.reviewer_id == user_id)
        .order_by(ReviewAssignment.id.desc())
        .limit(50)
    ).all()
    user = db.session.get(User, user_id)
    return render_template(
        "manage/assessment/reviewer.html", form=form, profile=profile, user=user, assignments=assignments
    ), status
