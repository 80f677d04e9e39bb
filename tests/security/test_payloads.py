"""The payload corpus typed into every text field of every form comes out inert (QUALITY.md,
"Injection"): in pages (nothing runs, no attribute or element is injected, no external fetch),
in confirmation dialogs, in e-mails (no header injection, plain bodies), in PDFs (literal text,
nothing fetched or embedded) and in spreadsheets (no cell becomes a formula).

The fields come from the WTForms classes themselves (`text_fields`): a field added to a form is
filled by these tests without touching them, and a new form class with text fields fails
`test_every_form_with_text_fields_is_walked` until it is walked here or skipped with a reason.
Each test builds one world, posts every form of its area through the real pages (their CSRF
token included), then reads back every page, e-mail, PDF and export that could show the text.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from openpyxl import Workbook, load_workbook

from forms import admin as admin_forms
from forms import assessment as assessment_forms
from forms import auth as auth_forms
from forms import calls as call_forms
from forms import decisions as decision_forms
from forms import proposals as proposal_forms
from tests.factories import make_call, make_proposal
from tests.security.payload_support import Outputs, TextField, form_classes_with_text_fields, text_fields
from tests.security.payload_walk import (  # noqa: F401 - fixtures, by their names
    PASSWORD,
    assert_clean,
    fetches_fixture,
    listener_fixture,
    name_users,
    outputs_fixture,
    walker_fixture,
)
from tests.security.payloads import CRLF, FORMULAS, LITERAL_PROBE, NUL, long_text, valid_pdf
from tests.security.world import build_world
from tests.webapp import assessment_fixtures as fx
from webapp.mail import deliver_outbox
from webapp.models import OutboxMessage, User, utcnow
from webapp.models.assessment import ReviewAssignment
from webapp.models.decisions import RedressRequest, StructureAgreement
from workflows.reviews import AssignmentStatus

# form class -> the test (area) that posts it through its page
WALKED: dict[str, str] = {
    # accounts
    "LoginForm": "accounts",
    "RegistrationForm": "accounts",
    "ForgotPasswordForm": "accounts",
    "ResendConfirmationForm": "accounts",
    "UserSearchForm": "accounts",
    "CreateUserForm": "accounts",
    # calls and the agreement registry
    "CallForm": "calls",
    "AgreementForm": "calls",
    "ThemeForm": "calls",
    # submission
    "GeneralForm": "submission",
    "TextsForm": "submission",
    "CoCoordinatorForm": "submission",
    "TeamForm": "submission",
    "BudgetForm": "submission",
    "WithdrawForm": "submission",
    "ProposalFilterForm": "submission",
    # assessment
    "ScreeningForm": "assessment",
    "LetterOutcomeForm": "assessment",
    "PoolSearchForm": "assessment",
    "ReviewerProfileForm": "assessment",
    "InviteReviewerForm": "assessment",
    "ReasonForm": "assessment",
    "DeclarationForm": "assessment",
    "ReviewFormBase": "assessment",
    "ConsensusForm": "assessment",
    "RequiredReasonForm": "assessment",
    # decisions, from the ranking to the signed agreement
    "MoveForm": "decisions",
    "DecideForm": "decisions",
    "ValidateListForm": "decisions",
    "CorrectLetterForm": "decisions",
    "CommitteesForm": "decisions",
    "SignatureForm": "decisions",
    "RedressForm": "decisions",
    "AnswerRedressForm": "decisions",
    "UnitAgreementForm": "decisions",
}
# rows of a FieldList: filled through the form that holds them
SUBFORMS: dict[str, str] = {
    "CriterionForm": "CallForm",
    "AttachmentKindForm": "CallForm",
    "GradeBandForm": "CallForm",
    "PartnerForm": "AgreementForm",
    "BudgetRowForm": "BudgetForm",
}
# form class -> why no test posts it
SKIPPED: dict[str, str] = {}


def test_every_form_with_text_fields_is_walked():
    found = set(form_classes_with_text_fields())
    assert found, "no form class found: the discovery is broken"
    known = set(WALKED) | set(SUBFORMS) | set(SKIPPED)
    missing = sorted(found - known)
    assert not missing, (
        f"form classes with text fields that no payload test posts: {missing}; walk them in "
        "tests/security/test_payloads.py (WALKED) or list them in SKIPPED with the reason"
    )
    stale = sorted(known - found)
    assert not stale, f"listed but no longer forms with text fields: {stale}"
    assert set(SUBFORMS.values()) <= set(WALKED)


def assert_walked(walker, area: str) -> None:
    """Every text field of every form of ``area`` was given a payload."""
    classes = form_classes_with_text_fields()
    for name, where in WALKED.items():
        if where != area:
            continue
        wanted = {f.path for f in text_fields(classes[name])}
        missing = wanted - walker.posted.get(name, set())
        assert not missing, f"{name}: fields not posted: {sorted(missing)}"


# (form, field) -> why its text is shown nowhere (the payload is still posted and refused or kept)
NOT_SHOWN: dict[tuple[str, str], str] = {
    ("ForgotPasswordForm", "email"): "the same answer for every address: nothing typed is echoed",
    ("ResendConfirmationForm", "email"): "the same answer for every address: nothing typed is echoed",
    ("ScreeningForm", "action"): "the value of the button pressed: it picks the step, never shown",
    ("ReviewFormBase", "action"): "the value of the button pressed: it picks the step, never shown",
    ("DecideForm", "act"): "the value of the button pressed (award, reject, send back), never shown",
    ("LetterOutcomeForm", "action"): "the value of the button pressed: it picks the step, never shown",
}


def assert_all_shown(outputs) -> None:
    """Every field's typed value came back somewhere (a page, an e-mail, a PDF, an export) at
    least once, unless the field is one that nothing shows: else its checks checked nothing."""

    def field(origin):
        return origin[0], re.sub(r"(-|_)\d+(-|$)", r"\1*\2", origin[1])

    typed = {field(origin) for origin in outputs.tags.values()}
    shown = {field(origin) for tag, origin in outputs.tags.items() if tag in outputs.seen}
    missing = typed - shown - set(NOT_SHOWN)
    assert not missing, f"typed values shown nowhere: {sorted(missing)}"


def assert_literal_shown(outputs) -> None:
    """The escaped payload is shown as text (not dropped): the checks could have failed."""
    assert outputs.pages > 0
    shown = [t for t, v in outputs.values.items() if LITERAL_PROBE in v and t in outputs.seen]
    assert shown, "no page showed a typed payload: the walk read nothing back"


@pytest.mark.parametrize(
    "html",
    [
        '<p><script>alert("xss")</script></p>',
        "<img src=x onerror=alert(1)>",
        '<a href="javascript:alert(5)">x</a>',
        '<a href=" java\tscript:alert(5)">x</a>',
        "<textarea></textarea><script>alert(6)</script>",
        '<p style="background:url(http://127.0.0.1:9/x)">x</p>',
        "<iframe src=/x></iframe>",
        '<link rel="stylesheet" href="http://127.0.0.1:9/x.css">',
        '<meta http-equiv="refresh" content="0;url=/x">',
        '<form data-confirm="Sure?" onsubmit="alert(1)"></form>',
        "<style>@import url(http://127.0.0.1:9/i.css);</style>",
        "<svg/onload=alert(2)>",
    ],
)
def test_the_page_check_sees_live_markup(html):

    outputs = Outputs(9, "s3cret")
    outputs.check_html(f"<html><body>{html}</body></html>", "sample")
    assert outputs.problems


def test_the_checks_pass_escaped_text_and_catch_the_rest():

    outputs = Outputs(9, "s3cret")

    def caught(check, *args) -> list[str]:
        before = len(outputs.problems)
        check(*args)
        return outputs.problems[before:]

    escaped = (
        '<p>&lt;script&gt;alert("xss")&lt;/script&gt; ZQ001Q</p><textarea name="t">&lt;/textarea&gt;'
        '&lt;script&gt;</textarea><a href="/x" data-confirm="Delete &quot;x&quot; onclick=y?">x</a>'
        '<script src="/static/app.js" nonce="n"></script>'
    )
    assert caught(outputs.check_html, escaped, "escaped") == []
    assert "ZQ001Q" in outputs.seen and outputs.dialogs == 1
    assert caught(outputs.check_csv, "\ufeffa,b\r\n'=1+1,-5\r\n".encode(), "csv") == []
    assert caught(outputs.check_csv, b"a\r\n=1+1\r\n", "csv")
    workbook = Workbook()
    workbook.active["A1"] = "=1+1"
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert caught(outputs.check_xlsx, buffer.getvalue(), "xlsx")
    message = SimpleNamespace(
        template="t", recipient="a@b.c", subject="x\r\nBcc: y", body_html=None, body_text="&lt;b&gt;"
    )
    assert len(caught(outputs.check_mail, message)) == 2
    assert caught(outputs.check_html, "<p>s3cret</p>", "secret")


# --- accounts ---------------------------------------------------------------------------------


def test_account_forms(app, db, make_user, outbox, walker, outputs, listener):
    anonymous = walker.client()
    walker.post_form(
        anonymous,
        "/auth/register",
        auth_forms.RegistrationForm,
        fixed={"email": "new.applicant@example.org", "password": PASSWORD, "confirm": PASSWORD},
        constrained=("email",),
    )
    walker.post_form(
        anonymous, "/auth/login", auth_forms.LoginForm, fixed={"password": "wrong"}, expect=(200,)
    )
    walker.post_form(anonymous, "/auth/forgot", auth_forms.ForgotPasswordForm)
    walker.post_form(anonymous, "/auth/confirm", auth_forms.ResendConfirmationForm)

    admin = walker.client(make_user(roles=("admin",), email="admin@example.org"))
    walker.post_form(
        admin,
        "/admin/users/new",
        admin_forms.CreateUserForm,
        fixed={"email": "created@example.org", "roles": ["reviewer"]},
        constrained=("email",),
    )
    walker.search(admin, "/admin/users", admin_forms.UserSearchForm)

    registered = db.session.scalar(db.select(User).where(User.email == "new.applicant@example.org"))
    assert registered is not None and "ZQ" in registered.first_name
    registered.email_confirmed_at = registered.created_at
    db.session.commit()
    own = walker.client(registered)
    for url in ("/auth/account", "/dashboard", "/", "/calls", "/proposals"):
        walker.get(own, url)
    walker.admin_views(admin, outbox)
    messages = walker.check_outbox(outbox)
    assert {m.template for m in messages} >= {"confirm_account", "account_invitation"}

    assert_clean(outputs, listener)
    assert_walked(walker, "accounts")
    assert_all_shown(outputs)
    assert_literal_shown(outputs)


# --- calls ------------------------------------------------------------------------------------


CALL_CODES = ("criteria-*-code", "attachments-*-code", "tie_break")


def test_call_forms(app, db, make_user, outbox, walker, outputs, listener, fetches):
    world = build_world(make_user, db)
    manager = walker.client(world.users["manager"])
    for call in (world.draft_call, world.published_call):
        walker.post_form(
            manager, f"/manage/calls/{call.id}/edit", call_forms.CallForm, constrained=CALL_CODES
        )
    walker.confirm(
        manager, f"/manage/calls/{world.draft_call.id}", f"/manage/calls/{world.draft_call.id}/publish"
    )
    walker.post_form(manager, f"/manage/agreements/themes/{world.theme.id}/edit", call_forms.ThemeForm)
    page = walker.get(manager, f"/manage/agreements/{world.agreement.id}/edit").get_data(as_text=True)
    countries = {n: "JP" for n in re.findall(r'name="(partners-\d+-country_code)"', page)}
    walker.post_form(
        manager,
        f"/manage/agreements/{world.agreement.id}/edit",
        call_forms.AgreementForm,
        fixed={"countries": ["BR", "JP"], **countries},
    )

    walker.walk_matrix(
        world,
        (
            "public.",
            "manage.call",
            "manage.preview",
            "manage.agreements",
            "manage.edit_",
            "manage.themes",
            "applicant.start",
        ),
    )
    # The matrix reads the published call and the draft's preview; the draft is published now.
    walker.get(manager, f"/calls/{world.draft_call.id}")
    walker.get(manager, f"/calls/{world.draft_call.id}.pdf?lang=fr")
    walker.check_outbox(outbox)

    assert_clean(outputs, listener, fetches)
    assert_walked(walker, "calls")
    assert_all_shown(outputs)
    assert_literal_shown(outputs)
    assert outputs.literal_pdf, "no PDF showed the typed payload as text"


# --- submission -------------------------------------------------------------------------------


def test_proposal_forms(app, db, make_user, outbox, walker, outputs, listener, fetches):
    world = build_world(make_user, db)
    name_users(db, [world.users["owner"], world.users["co_coordinator"]], outputs)
    owner = walker.client(world.users["owner"])
    draft = world.sub_draft
    base = f"/proposals/{draft.id}"
    walker.post_form(owner, f"{base}/general", proposal_forms.GeneralForm)
    walker.post_form(owner, f"{base}/texts", proposal_forms.TextsForm)
    walker.post_form(
        owner,
        f"{base}/co-coordinator",
        proposal_forms.CoCoordinatorForm,
        fixed={"email": world.users["co_coordinator"].email},
        constrained=("email",),
    )
    walker.post_form(
        owner,
        f"{base}/teams/{world.sub_team.id}",
        proposal_forms.TeamForm,
        fixed={"leader_email": "leader@partner.example"},
        constrained=("leader_email",),
    )
    walker.post_form(owner, f"{base}/budget", proposal_forms.BudgetForm, rows=2)
    # The name of an uploaded file is typed text too (cleaned, then shown and put in the receipt).
    tag = outputs.new_tag("AttachmentForm", "filename")
    # (not the kind of the world's attachment: the matrix reads that one)
    kind = next(k.code for k in draft.call.required_attachments if k.code != world.sub_attachment.kind_code)
    walker.upload(
        owner, f"{base}/documents", f"{base}/documents/{kind}", valid_pdf(), f"{tag} {LITERAL_PROBE}.pdf"
    )
    walker.post_form(owner, base, proposal_forms.SubmitForm, action=f"{base}/submit", having="version")
    walker.get(owner, f"{base}/receipts/1.pdf")
    walker.post_form(owner, f"/proposals/{world.sub_submitted.id}/withdraw", proposal_forms.WithdrawForm)
    walker.search(owner, "/proposals", proposal_forms.ProposalFilterForm)

    walker.walk_matrix(world, ("applicant.", "public.dashboard", "manage.screening_list"))
    for proposal in (draft, world.sub_submitted):
        walker.get(walker.client(world.users["manager"]), f"/manage/proposals/{proposal.id}/screening")
    walker.admin_views(walker.client(world.users["admin"]), outbox)
    messages = walker.check_outbox(outbox)
    assert {m.template for m in messages} >= {"proposal_submitted", "proposal_withdrawn"}

    assert_clean(outputs, listener, fetches)
    assert_walked(walker, "submission")
    assert outputs.dialogs, "no confirmation dialog was read"
    assert_all_shown(outputs)
    assert_literal_shown(outputs)
    assert outputs.literal_pdf, "the receipt does not show the typed payload as text"


# --- assessment -------------------------------------------------------------------------------


def _invitation(db, proposal, reviewer, manager):
    row = ReviewAssignment(
        proposal_id=proposal.id,
        call_id=proposal.call_id,
        reviewer_id=reviewer.id,
        status=AssignmentStatus.INVITED,
        assigned_by_id=manager.id,
        due_at=utcnow() + timedelta(days=20),
        invited_at=utcnow(),
    )
    db.session.add(row)
    db.session.commit()
    return row


def test_assessment_forms(app, db, make_user, outbox, walker, outputs, listener):
    world = build_world(make_user, db)
    users = world.users
    name_users(db, [users[r] for r in ("owner", "assigned_reviewer", "unassigned_reviewer")], outputs)
    manager = walker.client(users["manager"])
    reviewer = walker.client(users["assigned_reviewer"])
    other_reviewer = walker.client(users["unassigned_reviewer"])
    submitted, proposal = world.assessment_submitted, world.assessment_proposal
    to_decline = _invitation(db, world.assessment_invited, users["unassigned_reviewer"], users["manager"])
    to_remove = _invitation(db, proposal, users["unassigned_reviewer"], users["manager"])

    # screening: ineligible, with the reason the applicants are told
    walker.post_form(
        manager,
        f"/manage/proposals/{submitted.id}/screening",
        assessment_forms.ScreeningForm,
        fixed={"action": "ineligible"},
        constrained=("action",),
    )
    # two-stage calls: a letter of intent shortlisted with a word, another turned down
    two_stage = world.sub_two_stage
    second_letter = make_proposal(two_stage, users["owner"], "loi_submitted", stage="loi")
    for letter, act in ((world.sub_letter, "shortlist"), (second_letter, "turn_down")):
        walker.post_form(
            manager,
            f"/manage/calls/{two_stage.id}/letters/{letter.id}",
            assessment_forms.LetterOutcomeForm,
            having="reason",
            fixed={"action": act},
            constrained=("action",),
        )
    # the reviewer pool
    walker.search(manager, "/manage/reviewers", assessment_forms.PoolSearchForm)
    walker.post_form(
        manager, f"/manage/reviewers/{users['assigned_reviewer'].id}", assessment_forms.ReviewerProfileForm
    )
    walker.post_form(
        manager,
        "/manage/reviewers/invite",
        assessment_forms.InviteReviewerForm,
        fixed={"email": "invited.expert@example.org"},
        constrained=("email",),
    )
    # the reviewers: a declared conflict, a declined invitation, a submitted review
    invitation = world.assessment_invitation
    walker.confirm(
        reviewer, f"/review/assignments/{invitation.id}", f"/review/assignments/{invitation.id}/accept"
    )
    walker.post_form(
        reviewer,
        f"/review/assignments/{invitation.id}/declaration",
        assessment_forms.DeclarationForm,
        fixed={"kind": "personal"},
    )
    walker.post_form(
        other_reviewer,
        f"/review/assignments/{to_decline.id}",
        assessment_forms.ReasonForm,
        action=f"/review/assignments/{to_decline.id}/decline",
    )
    criteria = list(proposal.call.criteria)
    walker.post_form(
        reviewer,
        f"/review/assignments/{world.assessment_assignment.id}/review",
        assessment_forms.ReviewFormBase,
        fixed={"action": "submit", **{f"score_{i}": "4" for i in range(len(criteria))}},
        extra=(TextField("comment_*", 10_000, True, False),),
        rows=len(criteria),
        constrained=("action",),
    )
    # the programme manager: consensus, a reopened review, a removed reviewer
    reviewed = world.assessment_reviewed
    walker.post_form(
        manager,
        f"/manage/proposals/{reviewed.id}/consensus",
        assessment_forms.ConsensusForm,
        having="comment",
        fixed={"score": "2.5"},  # not the computed score: the justification is kept
    )
    walker.post_form(
        manager,
        f"/manage/proposals/{reviewed.id}/consensus",
        assessment_forms.RequiredReasonForm,
        action=f"/manage/reviews/{world.assessment_review.id}/reopen",
    )
    walker.post_form(
        manager,
        f"/manage/proposals/{proposal.id}/assignment",
        assessment_forms.ReasonForm,
        action=f"/manage/assignments/{to_remove.id}/remove",
    )

    walker.walk_matrix(
        world,
        (
            "manage.screen",
            "manage.proposal_",
            "manage.reviewer",
            "manage.assignment",
            "manage.consensus",
            "manage.ranking",
            "manage.export",
            "manage.letter",
            "review.",
            "applicant.proposal",
        ),
    )
    walker.get(manager, f"/manage/proposals/{proposal.id}/consensus")
    walker.get(walker.client(users["owner"]), f"/proposals/{submitted.id}")
    walker.admin_views(walker.client(users["admin"]), outbox)
    messages = walker.check_outbox(outbox)
    assert {m.template for m in messages} >= {
        "screening_ineligible",
        "review_pool_invitation",
        "review_conflict_alert",
        "review_declined",
        "review_reopened",
        "review_removed",
        "loi_shortlisted",
        "loi_not_shortlisted",
    }

    assert_clean(outputs, listener)
    assert_walked(walker, "assessment")
    assert outputs.dialogs, "no confirmation dialog was read"
    assert_all_shown(outputs)
    assert_literal_shown(outputs)


# --- decisions ----------------------------------------------------------------------------------


def _reviewed_call(db, make_user, outputs, manager):
    """A call whose two proposals are reviewed (reviews written through the use cases, with
    payloads in every comment), by coordinators and reviewers whose names are formulas."""
    call = make_call(
        manager,
        title_en=outputs.value_for("CallForm", TextField("title_en", 300, False, False)),
        budget_envelope_eur=60_000,  # room for one of the two: the other waits, or is not retained
    )
    reviewers = [
        fx.reviewer(
            make_user, f"reviewer{i}@expert{i}.example", first_name=FORMULAS[2 + i], last_name="Expert"
        )
        for i in range(2)
    ]
    texts = {f.path: f for f in text_fields(proposal_forms.TextsForm)}
    general = {f.path: f for f in text_fields(proposal_forms.GeneralForm)}
    team = {f.path: f for f in text_fields(proposal_forms.TeamForm)}
    review = {f.path: f for f in text_fields(assessment_forms.ReviewFormBase)}
    proposals = []
    for i, (title, acronym) in enumerate([(FORMULAS[1], FORMULAS[3]), (FORMULAS[0], "-B")]):
        coordinator = make_user(
            email=f"coordinator{i}@example.org", first_name=FORMULAS[i], last_name="Martin"
        )
        proposal = make_proposal(call, coordinator, "eligible", title=title, acronym=acronym)
        # what the applicants typed in the editor (posted through it in test_proposal_forms)
        proposal.abstract_en = outputs.value_for("GeneralForm", general["abstract_en"])
        for name in ("programme", "mobility_plan"):
            setattr(proposal, name, outputs.value_for("TextsForm", texts[name]))
        for t in proposal.teams:
            for name in ("laboratory", "institution_name", "leader_name"):
                setattr(t, name, outputs.value_for("TeamForm", team[name]))
        db.session.commit()
        proposals.append(proposal)
    assignments = [(p, r, fx.propose(p, r, manager)) for p in proposals for r in reviewers]
    fx.send(call, manager)
    for n, (_proposal, reviewer_user, assignment) in enumerate(assignments):
        db.session.refresh(assignment)
        fx.accept_and_declare(assignment, reviewer_user)
        fx.submit(
            assignment,
            reviewer_user,
            fx.scores(call, 5 - (n // 2)),
            for_applicants=outputs.value_for("ReviewFormBase", review["comment_for_applicants"]),
            comment=outputs.value_for("ReviewFormBase", TextField("comment_*", 10_000, True, False)),
        )
    return call, proposals


def test_decision_forms(app, db, make_user, outbox, walker, outputs, listener, fetches):
    manager_user = make_user(roles=("manager",), email="manager@example.org")
    dg_user = make_user(roles=("directorate",), email="dg@example.org")
    call, proposals = _reviewed_call(db, make_user, outputs, manager_user)
    manager, dg = walker.client(manager_user), walker.client(dg_user)
    ranking = f"/manage/calls/{call.id}/ranking"

    for proposal in proposals:
        walker.post_form(
            manager,
            f"/manage/proposals/{proposal.id}/consensus",
            assessment_forms.ConsensusForm,
            having="comment",
            fixed={"justification": ""},
            skip=("justification",),
        )
    walker.confirm(manager, ranking, f"{ranking}/rank")
    walker.post_form(
        manager, ranking, assessment_forms.MoveForm, action=f"{ranking}/move", fixed={"position": "2"}
    )
    exports = {
        (kind, fmt): walker.get(manager, f"/manage/calls/{call.id}/{kind}.{fmt}")
        for kind in ("ranking", "scores")
        for fmt in ("xlsx", "csv")
    }
    walker.confirm(manager, ranking, f"{ranking}/propose")

    # the Directorate-General: the lower one rejected alone, then the rest of the list at once
    db.session.expire_all()
    second = next((p for p in proposals if p.state != "proposed"), None) or max(
        proposals, key=lambda p: p.rank_position
    )
    first = next(p for p in proposals if p is not second)
    walker.post_form(
        dg,
        f"/directorate/proposals/{second.id}",
        decision_forms.DecideForm,
        action=f"/directorate/proposals/{second.id}",
        fixed={"act": "reject"},
        constrained=("act",),
    )
    walker.post_form(
        dg,
        f"/directorate/calls/{call.id}",
        decision_forms.ValidateListForm,
        action=f"/directorate/calls/{call.id}/validate",
    )
    walker.confirm(manager, f"/directorate/calls/{call.id}", f"/directorate/calls/{call.id}/release")
    for proposal in proposals:
        walker.get(walker.client(proposal.coordinator), f"/decisions/proposals/{proposal.id}/letter")
    walker.post_form(
        manager,
        f"/directorate/proposals/{first.id}",
        decision_forms.CorrectLetterForm,
        action=f"/directorate/proposals/{first.id}/letter/correct",
    )
    walker.get(manager, f"/decisions/proposals/{first.id}/letter")

    # the agreement of the awarded structure, signed by every party
    walker.confirm(
        manager, f"/directorate/proposals/{first.id}", f"/directorate/proposals/{first.id}/agreement"
    )
    agreement = db.session.scalar(
        db.select(StructureAgreement).where(StructureAgreement.proposal_id == first.id)
    )
    assert agreement.members, "no committee to name"
    walker.post_form(
        manager,
        f"/directorate/agreements/{agreement.id}",
        decision_forms.CommitteesForm,
        action=f"/directorate/agreements/{agreement.id}/committees",
        extra=(TextField("member_*", 200, False, False),),
        rows="all",
    )
    walker.get(manager, f"/directorate/agreements/{agreement.id}/pdf")
    for party in list(agreement.parties):
        walker.post_form(
            manager,
            f"/directorate/agreements/{agreement.id}",
            decision_forms.SignatureForm,
            action=f"/directorate/agreements/{agreement.id}/parties/{party.id}/signature",
            files={"scan": (valid_pdf(), "signed.pdf")},
        )
    # a joint unit's agreement, typed in its form
    walker.post_form(
        manager,
        "/directorate/agreements/new",
        decision_forms.UnitAgreementForm,
        fixed={"host_country_code": "JP", "starts_on": "2028-01-01", "duration_years": "5"},
    )
    unit = db.session.scalar(db.select(StructureAgreement).order_by(StructureAgreement.id.desc()))
    walker.get(manager, f"/directorate/agreements/{unit.id}/pdf")

    # a request for review of the rejection, and its answer
    rejected = walker.client(second.coordinator)
    walker.post_form(rejected, f"/decisions/proposals/{second.id}/redress", decision_forms.RedressForm)
    redress = db.session.scalar(db.select(RedressRequest).where(RedressRequest.proposal_id == second.id))
    walker.post_form(
        manager,
        f"/decisions/redress/{redress.id}",
        decision_forms.AnswerRedressForm,
        action=f"/decisions/redress/{redress.id}",
        fixed={"status": "dismissed"},
    )

    for client in (manager, dg):
        for url in (
            ranking,
            f"/directorate/calls/{call.id}",
            "/directorate/",
            "/directorate/agreements",
            f"/directorate/agreements/{agreement.id}",
            f"/directorate/agreements/{unit.id}",
            "/decisions/redress",
            f"/decisions/redress/{redress.id}",
            "/dashboard",
        ):
            walker.get(client, url)
    for proposal in proposals:
        owner = walker.client(proposal.coordinator)
        walker.get(owner, f"/proposals/{proposal.id}")
        walker.get(manager, f"/directorate/proposals/{proposal.id}")
        walker.get(manager, f"/manage/proposals/{proposal.id}/consensus")
    walker.get(rejected, f"/decisions/redress/{redress.id}")
    walker.admin_views(walker.client(make_user(roles=("admin",), email="admin@example.org")), outbox)
    messages = walker.check_outbox(outbox)
    assert {m.template for m in messages} >= {
        "decision_released",
        "decision_redress_filed",
        "decision_redress_answered",
        "decision_agreement_issued",
        "decision_structure_active",
    }

    assert_clean(outputs, listener, fetches)
    # The formulas came out of the exports as text, whole.
    cells = [
        c
        for row in load_workbook(io.BytesIO(exports["ranking", "xlsx"].data)).active.iter_rows()
        for c in row
        if c.value in FORMULAS
    ]
    assert cells and all(c.data_type == "s" for c in cells)
    assert "'" + FORMULAS[1] in exports["ranking", "csv"].get_data(as_text=True)
    assert "'" + FORMULAS[2] in exports["scores", "csv"].get_data(as_text=True)
    assert_walked(walker, "decisions")
    assert outputs.dialogs, "no confirmation dialog was read"
    assert_all_shown(outputs)
    assert_literal_shown(outputs)
    assert outputs.literal_pdf, "no letter or agreement showed the typed payload as text"


# --- limits: line breaks, control characters, length ---------------------------------------------

def test_no_line_break_reaches_an_email_header(app, db, make_user, outbox, walker, outputs):
    world = build_world(make_user, db)
    manager = walker.client(world.users["manager"])
    call = world.sub_call  # published, with drafts whose applicants are told of a new deadline
    walker.post_form(
        manager,
        f"/manage/calls/{call.id}/edit",
        call_forms.CallForm,
        fixed={"title_en": CRLF, "title_fr": CRLF},
        constrained=CALL_CODES,
    )
    walker.post_form(
        manager,
        f"/manage/calls/{call.id}/extend",
        call_forms.ExtendDeadlineForm,
        having="closes_at",
        fixed={"closes_at": "2031-01-15T17:00"},
    )
    messages = walker.check_outbox(outbox)
    assert {m.template for m in messages} == {"call_deadline_extended"}
    assert not outputs.problems, "\n".join(outputs.problems)


def test_a_message_the_mailer_refuses_does_not_stop_the_outbox(app, db, smtp_sink):
    for subject in (CRLF, "A fine subject"):
        db.session.add(
            OutboxMessage(
                recipient="someone@example.org",
                subject=subject,
                body_text="Hello.",
                template="test",
                status="queued",
                next_attempt_at=utcnow(),
            )
        )
    db.session.commit()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_sink.port)
    counts = deliver_outbox()
    assert counts["sent"] == 1 and len(smtp_sink.messages) == 1
    for message in smtp_sink.messages:
        assert b"Bcc: victim" not in message.content


def test_a_nul_character_is_refused_or_removed(app, db, make_user, walker, outputs):
    world = build_world(make_user, db)
    owner = walker.client(world.users["owner"])
    walker.post_form(
        owner,
        f"/proposals/{world.sub_draft.id}/general",
        proposal_forms.GeneralForm,
        value=lambda form, field: NUL,
        expect=(302, 400, 422),
    )
    walker.get(owner, f"/proposals/{world.sub_draft.id}")
    assert not outputs.problems, "\n".join(outputs.problems)


def test_control_characters_do_not_break_the_exports(app, db, make_user, walker, outputs):
    world = build_world(make_user, db)
    owner = walker.client(world.users["owner"])
    walker.post_form(
        owner,
        f"/proposals/{world.sub_draft.id}/general",
        proposal_forms.GeneralForm,
        value=lambda form, field: "tab\x0bescape\x1b",
        expect=(302, 400, 422),
    )
    db.session.expire_all()
    # What the editor kept is what a reviewed proposal of the same kind carries into the exports.
    world.assessment_reviewed.acronym = world.sub_draft.acronym
    db.session.commit()
    manager = walker.client(world.users["manager"])
    for kind in ("scores", "ranking"):
        response = walker.get(manager, f"/manage/calls/{world.assessment_call.id}/{kind}.xlsx")
        assert response.status_code == 200
    assert not outputs.problems, "\n".join(outputs.problems)


def test_text_stored_before_input_was_cleaned_still_exports():
    from webapp.operations.ranking import to_xlsx

    data = to_xlsx(["Acronym"], [["tab\x0bescape\x1b"], ["=1+1"]], "Ranking")
    sheet = load_workbook(io.BytesIO(data)).active
    assert [c.value for c in sheet["A"]] == ["Acronym", "tabescape", "=1+1"]
    assert sheet["A3"].data_type == "s"


def test_long_values_are_kept_whole_or_refused(app, db, make_user, walker, outputs):
    """At its maximum length a value is saved and shown; one character more is refused beside
    the field (never cut silently, never a server error), even a field of several megabytes."""
    world = build_world(make_user, db)
    owner = walker.client(world.users["owner"])
    draft = world.sub_draft
    forms_and_pages = [
        (proposal_forms.GeneralForm, f"/proposals/{draft.id}/general", {}),
        (proposal_forms.TextsForm, f"/proposals/{draft.id}/texts", {}),
        (
            proposal_forms.TeamForm,
            f"/proposals/{draft.id}/teams/{world.sub_team.id}",
            {"leader_email": "leader@partner.example"},
        ),
        (
            proposal_forms.CoCoordinatorForm,
            f"/proposals/{draft.id}/co-coordinator",
            {"email": world.users["co_coordinator"].email},
        ),
    ]
    for form_class, page, fixed in forms_and_pages:
        for extra, expect in ((0, (302,)), (1, (422,))):
            walker.post_form(
                owner,
                page,
                form_class,
                fixed=fixed,
                expect=expect,
                value=lambda form, field, extra=extra: long_text((field.max_length or 5000) + extra),
            )
    db.session.expire_all()
    assert draft.title == long_text(300) and draft.acronym == long_text(40)
    walker.get(owner, f"/proposals/{draft.id}")
    walker.get(walker.client(world.users["manager"]), f"/manage/calls/{draft.call_id}/screening")
    walker.post_form(
        owner,
        f"/proposals/{draft.id}/texts",
        proposal_forms.TextsForm,
        expect=(413, 422),
        value=lambda form, field: "W" * (3 * 1024 * 1024),  # over MAX_FORM_MEMORY_SIZE
    )
    assert not outputs.problems, "\n".join(outputs.problems)
