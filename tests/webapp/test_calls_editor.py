"""The call editor (/manage/calls): create, validate, publish, extend, freeze, clone, permissions."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.webapp.call_forms import call_form
from webapp.models import AuditEvent
from webapp.models.calls import Call
from webapp.operations import calls as ops

pytestmark = pytest.mark.usefixtures("registry")


def text_of(response) -> str:
    """The page as a reader sees it: tags dropped, entities and spaces normalised."""
    import html

    body = re.sub(r"<(script|style)\b.*?</\1>", " ", response.get_data(as_text=True), flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body)))


def input_tag(html: str, name: str) -> str:
    match = re.search(rf'<input\b[^>]*\bname="{re.escape(name)}"[^>]*>', html)
    assert match, f"no input {name}"
    return match[0]


def value_of(html: str, name: str) -> str | None:
    match = re.search(r'\bvalue="([^"]*)"', input_tag(html, name))
    return match[1] if match else None


def only_call(db) -> Call:
    db.session.expire_all()
    calls = db.session.scalars(select(Call)).all()
    assert len(calls) == 1, calls
    return calls[0]


def count_calls(db) -> int:
    return db.session.scalar(select(func.count(Call.id)))


def save_new(client, **overrides):
    return client.post("/manage/calls/new?instrument=lea_lia", data=call_form(**overrides))


def audit_actions(db, call) -> list[str]:
    return list(db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.object_type == "call",
                                        AuditEvent.object_id == call.id).order_by(AuditEvent.id)
    ))


# --- creating ----------------------------------------------------------------------------------


def test_a_new_call_starts_from_the_defaults(manager_client):
    page = manager_client.get("/manage/calls/new?instrument=lea_lia")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    grid = [(value_of(html, f"criteria-{i}-code"), value_of(html, f"criteria-{i}-weight"))
            for i in range(9)]
    assert grid == [("C1", "25"), ("C2", "20"), ("C3", "20"), ("C4", "10"), ("C5", "10"),
                    ("C6", "10"), ("C7", "5"), ("", ""), ("", "")]  # and two empty rows to add
    assert value_of(html, "tie_break") == "C1, C3"
    assert value_of(html, "duration_years") == "4"
    assert value_of(html, "max_per_year_eur") == "15000"
    assert "checked" not in input_tag(html, "is_rolling")
    # the registry's countries are offered and pre-selected; others are not offered
    assert '<option selected value="BR">Brazil</option>' in html
    assert 'value="US"' not in html
    assert "cv_coordinator" in html and "publication_list" in html


def test_a_gdre_call_starts_rolling(manager_client):
    html = manager_client.get("/manage/calls/new?instrument=gdre_gdri").get_data(as_text=True)
    assert "checked" in input_tag(html, "is_rolling")


def test_saving_a_new_call_stores_it_in_utc(manager_client, db, manager):
    response = save_new(manager_client)
    assert response.status_code == 302
    call = only_call(db)
    assert response.headers["Location"].endswith(f"/manage/calls/{call.id}")
    assert call.opens_at == datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # 09:00 Paris, winter time
    assert call.closes_at == datetime(2026, 6, 15, 15, 0, tzinfo=UTC)  # 17:00 Paris, summer time
    assert call.budget_envelope_eur == 300_000  # typed "300 000"
    assert call.max_per_year_eur == 15_000
    assert [(c.code, c.weight) for c in call.criteria][:2] == [("C1", 25), ("C2", 20)]
    assert call.tie_break == ["C1", "C3"]
    assert [k.code for k in call.required_attachments] == [
        "cv_coordinator", "cv_co_coordinator", "support_letter", "unit_director_endorsement"]
    assert [k.code for k in call.optional_attachments] == ["publication_list"]
    assert sorted(call.country_codes) == ["BR", "JP"]
    assert not call.is_published
    assert audit_actions(db, call) == ["call.created"]
    page = manager_client.get(f"/manage/calls/{call.id}")
    assert "The call is complete and consistent: it can be published." in text_of(page)
    assert "Monday 15 June 2026, 17:00 (GMT+02:00)" in text_of(page)


def test_bad_fields_are_refused_and_nothing_typed_is_lost(manager_client, db):
    response = save_new(manager_client, max_per_year_eur="lots", **{"criteria-1-code": "C1"})
    assert response.status_code == 422
    page = text_of(response)
    assert "Nothing was saved" in page
    assert "Not a valid integer value." in page
    assert "This code is used twice in the grid." in page
    assert count_calls(db) == 0
    html = response.get_data(as_text=True)
    assert value_of(html, "title_en") == "LEA/LIA call 2026"
    assert value_of(html, "max_per_year_eur") == "lots"


# --- daylight saving time ------------------------------------------------------------------------


def test_a_deadline_in_the_spring_gap_is_refused_clearly(manager_client, db):
    response = save_new(manager_client, closes_at="2026-03-29T02:30")
    assert response.status_code == 422
    assert ("2026-03-29 02:30 does not exist in Paris: the clocks jump forward one hour that "
            "night (from 02:00 to 03:00). Please choose another time.") in text_of(response)
    assert count_calls(db) == 0
    assert value_of(response.get_data(as_text=True), "closes_at") == "2026-03-29T02:30"  # kept


def test_a_deadline_in_the_repeated_autumn_hour_is_its_first_occurrence(manager_client, db):
    assert save_new(manager_client, closes_at="2026-10-25T02:30",
                    funding_start="2027-01-01").status_code == 302
    call = only_call(db)
    assert call.closes_at == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 summer time
    page = text_of(manager_client.get(f"/manage/calls/{call.id}"))
    assert "Sunday 25 October 2026, 02:30 (GMT+02:00)" in page
    # and the editor shows it back as typed
    html = manager_client.get(f"/manage/calls/{call.id}/edit").get_data(as_text=True)
    assert value_of(html, "closes_at") == "2026-10-25T02:30"


def test_a_deadline_just_after_the_spring_change(manager_client, db):
    assert save_new(manager_client, closes_at="2026-03-29T03:00").status_code == 302
    assert only_call(db).closes_at == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)


# --- publication refusals ------------------------------------------------------------------------

REFUSALS = [
    ({"closes_at": "2026-03-01T12:00"},
     "The call closes (2026-03-01 12:00 (Paris)) before it opens (2026-03-02 09:00 (Paris))."),
    ({"criteria-0-weight": "30"}, "The weights of the criteria add up to 105, not 100."),
    ({**{f"criteria-{i}-{f}": "" for i in range(7)
         for f in ("code", "label_fr", "label_en", "guidance_fr", "guidance_en", "weight")},
      "tie_break": ""}, "The evaluation grid has no criteria."),
    ({"title_fr": ""}, "The French title is missing."),
    ({"title_en": ""}, "The English title is missing."),
    ({"two_stage": "y", "loi_deadline_at": "2026-07-01T12:00"},
     "The letter-of-intent deadline (2026-07-01 12:00 (Paris)) must come before the "
     "full-proposal deadline (2026-06-15 17:00 (Paris))."),
    ({"two_stage": "y"}, "A two-stage call needs a letter-of-intent deadline."),
    ({"countries": None}, "No eligible country is chosen."),
    ({"opens_at": ""}, "The opening date is missing."),
    ({"closes_at": ""}, "The closing date is missing (or make the call rolling)."),
    ({"tie_break": "C1, C9"}, "The tie-break order names 'C9', which is not a criterion of the grid."),
    ({"grade_bands-1-min_score": "4.8"}, "Grade A must start below grade A+ (4.8 is not below 4.5)."),
    ({"max_per_year_eur": ""}, "The maximum amount per year must be a positive number of euros."),
    ({"budget_envelope_eur": "10000"},
     "The budget envelope (€10,000) is smaller than the maximum amount per year (€15,000)."),
    ({"criteria-0-threshold": "7"}, "The threshold of criterion C1 (7) is outside the scale 1-5."),
    ({"funding_start": "2026-05-01"}, "Funding starts (2026-05-01) before the call closes."),
    ({"attachments-0-max_mb": "500"}, "The size limit of document 'cv_coordinator' must be between 1 and 30 MB."),
    ({"max_chars_ethics": ""}, "The character limit of the ethics statement must be a positive number."),
]


@pytest.mark.parametrize("changes, message", REFUSALS, ids=[m[:40] for _, m in REFUSALS])
def test_each_publication_refusal_is_explained(manager_client, db, changes, message):
    assert save_new(manager_client, **changes).status_code == 302  # a draft may be incomplete
    call = only_call(db)
    assert message in text_of(manager_client.get(f"/manage/calls/{call.id}"))  # the checklist
    response = manager_client.post(f"/manage/calls/{call.id}/publish")
    assert response.status_code == 422
    page = text_of(response)
    assert "The call cannot be published yet:" in page
    assert message in page
    assert only_call(db).published_at is None


def test_every_problem_is_listed_at_once(manager_client, db):
    save_new(manager_client, title_fr="", title_en="", closes_at="2026-03-01T12:00",
             countries=None, **{"criteria-0-weight": "30"})
    call = only_call(db)
    page = text_of(manager_client.post(f"/manage/calls/{call.id}/publish"))
    refusal = page.split("The call cannot be published yet:")[1].split("Publication")[0]
    for message in ("The French title is missing.", "The English title is missing.",
                    "before it opens", "No eligible country is chosen.",
                    "add up to 105, not 100."):
        assert message in refusal


def test_publishing_a_complete_call(manager_client, db, public_client):
    save_new(manager_client)
    call = only_call(db)
    assert public_client.get(f"/calls/{call.id}").status_code == 404  # a draft is not public
    response = manager_client.post(f"/manage/calls/{call.id}/publish")
    assert response.status_code == 302
    call = only_call(db)
    assert call.is_published
    assert audit_actions(db, call) == ["call.created", "call.published"]
    assert "The call is published." in text_of(manager_client.get(response.headers["Location"]))
    assert "LEA/LIA call 2026" in text_of(public_client.get(f"/calls/{call.id}"))
    again = manager_client.post(f"/manage/calls/{call.id}/publish")
    assert again.status_code == 403
    assert "This call is already published." in text_of(again)


# --- rolling and two-stage calls -----------------------------------------------------------------


def test_a_rolling_call_has_no_closing_date(manager_client, db, public_client):
    response = manager_client.post("/manage/calls/new?instrument=gdre_gdri", data=call_form(
        instrument="gdre_gdri", is_rolling="y", closes_at="2026-06-15T17:00", funding_start="",
        target_awards=""))
    assert response.status_code == 302
    call = only_call(db)
    assert call.is_rolling and call.closes_at is None  # a typed closing date is not kept
    assert manager_client.post(f"/manage/calls/{call.id}/publish").status_code == 302
    assert call.status(datetime(2031, 1, 1, tzinfo=UTC)) == "open"
    page = text_of(public_client.get(f"/calls/{call.id}"))
    assert "Rolling call: proposals are received all year round and designated case by case." in page
    assert "Deadline:" not in page
    assert manager_client.get(f"/manage/calls/{call.id}/extend").status_code == 403


def test_a_two_stage_call(manager_client, db, public_client):
    save_new(manager_client, two_stage="y", loi_deadline_at="2026-04-15T12:00")
    call = only_call(db)
    assert call.loi_deadline_at == datetime(2026, 4, 15, 10, 0, tzinfo=UTC)
    assert manager_client.post(f"/manage/calls/{call.id}/publish").status_code == 302
    page = text_of(public_client.get(f"/calls/{call.id}"))
    assert "Letter of intent due: Wednesday 15 April 2026, 12:00 (GMT+02:00)" in page
    assert "Full proposal due (on invitation): Monday 15 June 2026, 17:00 (GMT+02:00)" in page


# --- after publication ---------------------------------------------------------------------------


@pytest.fixture
def published(create_call):
    return create_call(title_en="Published call 2027", title_fr="Appel publié 2027")


def test_a_published_call_keeps_its_dates_and_stays_consistent(manager_client, db, published):
    closes = published.closes_at
    html = manager_client.get(f"/manage/calls/{published.id}/edit").get_data(as_text=True)
    assert 'name="closes_at"' not in html and 'name="instrument"' not in html
    assert "its dates change only through" in text_of(manager_client.get(
        f"/manage/calls/{published.id}/edit"))
    form = call_form(closes_at="2030-01-01T12:00", title_en="Renamed call", countries=["BR", "JP"],
                     funding_start="")
    form["version"] = str(published.version_id)
    assert manager_client.post(f"/manage/calls/{published.id}/edit", data=form).status_code == 302
    call = only_call(db)
    assert call.title_en == "Renamed call" and call.closes_at == closes  # the date did not move
    # an edit that would make the published call inconsistent is refused, nothing saved
    form = call_form(title_fr="", countries=["BR"], funding_start="")
    form["version"] = str(call.version_id)
    response = manager_client.post(f"/manage/calls/{call.id}/edit", data=form)
    assert response.status_code == 422
    assert "The French title is missing." in text_of(response)
    assert only_call(db).title_fr == "Appel LEA/LIA 2026"  # as saved by the first edit


def test_updating_a_published_call_refuses_moved_dates(db, manager, published):
    data = ops.call_data(published)
    data.closes_at = published.closes_at + timedelta(days=1)
    with pytest.raises(ops.CallRefused) as refused:
        ops.update_call(published, data, manager, published.version_id)
    assert [p.code for p in refused.value.problems] == ["dates_locked"]


def test_extending_the_deadline(manager_client, db, published, outbox, monkeypatch):
    old = published.closes_at
    new_paris = (old + timedelta(days=14)).astimezone(UTC)
    notices = [
        ops.DraftNotice("coord@example.org", "en", "Ana Coord", "Brain ageing network"),
        ops.DraftNotice("partner@example.org", "fr", "Joana Silva", "Réseau vieillissement"),
    ]
    monkeypatch.setattr(ops, "drafts_to_notify", lambda call: notices)
    earlier = manager_client.post(f"/manage/calls/{published.id}/extend", data={
        "closes_at": (old - timedelta(days=1)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M"),
        "version": str(published.version_id)})
    assert earlier.status_code == 422
    assert "a deadline can only be extended" in text_of(earlier)
    from workflows.timeutils import to_paris

    typed = to_paris(new_paris).strftime("%Y-%m-%dT%H:%M")
    response = manager_client.post(f"/manage/calls/{published.id}/extend", data={
        "closes_at": typed, "version": str(published.version_id)})
    assert response.status_code == 302
    call = only_call(db)
    assert call.closes_at == new_paris.replace(second=0, microsecond=0)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "call.deadline_extended"))
    assert event.before == {"closes_at": old.isoformat()}
    assert event.after == {"closes_at": call.closes_at.isoformat()}
    assert "Applicants with a draft notified: 2." in text_of(manager_client.get(response.headers["Location"]))
    messages = outbox()
    assert [m.recipient for m in messages] == ["coord@example.org", "partner@example.org"]
    assert "Brain ageing network" in messages[0].body_text
    assert to_paris(call.closes_at).strftime("%H:%M") in messages[0].body_text
    assert f"/calls/{call.id}" in messages[0].body_text
    assert messages[0].body_text.startswith("Hello Ana Coord,")


def test_no_draft_no_mail(manager_client, db, published, outbox):
    assert ops.drafts_to_notify(published) == []  # nobody holds a draft
    new = (published.closes_at + timedelta(days=2)).astimezone(UTC)
    from workflows.timeutils import to_paris

    response = manager_client.post(f"/manage/calls/{published.id}/extend", data={
        "closes_at": to_paris(new).strftime("%Y-%m-%dT%H:%M"), "version": str(published.version_id)})
    assert response.status_code == 302
    assert outbox() == []


def test_unpublishing(manager_client, db, published, public_client):
    assert public_client.get(f"/calls/{published.id}").status_code == 200
    assert manager_client.post(f"/manage/calls/{published.id}/unpublish").status_code == 302
    call = only_call(db)
    assert call.published_at is None
    assert public_client.get(f"/calls/{call.id}").status_code == 404
    assert "call.unpublished" in audit_actions(db, call)


def test_the_holder_of_a_real_draft_is_told(manager_client, db, published, outbox, make_user):
    from tests.factories import make_proposal
    from workflows.timeutils import to_paris

    holder = make_user(email="holder@inserm.fr", first_name="Claire", last_name="Martin", locale="en")
    make_proposal(published, holder, "draft", title="Brain ageing across borders")
    make_proposal(published, make_user(), "submitted")  # submitted: no mail
    new = (published.closes_at + timedelta(days=3)).astimezone(UTC)
    response = manager_client.post(f"/manage/calls/{published.id}/extend", data={
        "closes_at": to_paris(new).strftime("%Y-%m-%dT%H:%M"), "version": str(published.version_id)})
    assert response.status_code == 302
    [message] = outbox()
    assert message.recipient == "holder@inserm.fr"
    assert "Brain ageing across borders" in message.body_text


# --- the frozen grid -----------------------------------------------------------------------------


def test_a_submitted_proposal_freezes_the_grid(manager_client, db, published, make_user):
    from tests.factories import make_proposal

    assert published.has_submissions is False
    assert 'name="criteria-0-weight"' in manager_client.get(
        f"/manage/calls/{published.id}/edit").get_data(as_text=True)
    make_proposal(published, make_user(), "submitted")
    db.session.expire_all()
    assert only_call(db).has_submissions is True
    page = manager_client.get(f"/manage/calls/{published.id}/edit")
    assert "The evaluation grid is frozen" in text_of(page)
    assert manager_client.post(f"/manage/calls/{published.id}/unpublish").status_code == 422


@pytest.fixture
def with_submissions(monkeypatch):
    """As if a proposal had been submitted (the Proposal query replaces Call.has_submissions)."""
    monkeypatch.setattr(Call, "has_submissions", property(lambda self: True))


def test_the_grid_is_frozen_in_the_editor(manager_client, db, published, with_submissions):
    page = manager_client.get(f"/manage/calls/{published.id}/edit")
    assert "The evaluation grid is frozen" in text_of(page)
    assert 'name="criteria-0-weight"' not in page.get_data(as_text=True)
    form = call_form(title_en="Still editable", countries=["BR", "JP"], funding_start="",
                     **{"criteria-0-weight": "5", "criteria-1-weight": "40", "tie_break": "C2"})
    form["version"] = str(published.version_id)
    assert manager_client.post(f"/manage/calls/{published.id}/edit", data=form).status_code == 302
    call = only_call(db)
    assert call.title_en == "Still editable"
    assert [c.weight for c in call.criteria][:2] == [25, 20] and call.tie_break == ["C1", "C3"]


def test_the_grid_is_frozen_in_the_use_case(db, manager, published, with_submissions):
    data = ops.call_data(published)
    data.grid = ops.grid_from_rows(
        [{"code": "C1", "label_fr": "a", "label_en": "b", "weight": 100}],
        scale_min=1, scale_max=5, overall_threshold=None, grade_bands=[("A", 1.0)], tie_break=[])
    with pytest.raises(ops.CallRefused) as refused:
        ops.update_call(published, data, manager, published.version_id)
    assert "grid_frozen" in [p.code for p in refused.value.problems]


def test_no_unpublishing_once_proposals_are_submitted(manager_client, db, published, with_submissions):
    page = manager_client.get(f"/manage/calls/{published.id}")
    assert "Unpublish" not in text_of(page)
    response = manager_client.post(f"/manage/calls/{published.id}/unpublish")
    assert response.status_code == 422
    assert "Proposals have already been submitted to this call" in text_of(response)
    assert only_call(db).is_published


# --- clone, conflicts, preview ---------------------------------------------------------------------


def test_cloning_into_next_years_draft(manager_client, db, manager):
    save_new(manager_client, two_stage="y", loi_deadline_at="2026-04-15T12:00")
    call = only_call(db)
    manager_client.post(f"/manage/calls/{call.id}/publish")
    response = manager_client.post(f"/manage/calls/{call.id}/clone")
    assert response.status_code == 302
    db.session.expire_all()
    clone = db.session.scalar(select(Call).where(Call.id != call.id))
    assert response.headers["Location"].endswith(f"/manage/calls/{clone.id}/edit")
    assert (clone.year, clone.title_en, clone.title_fr) == (2027, "LEA/LIA call 2027", "Appel LEA/LIA 2027")
    assert clone.opens_at == datetime(2027, 3, 2, 8, 0, tzinfo=UTC)  # 09:00 Paris again
    assert clone.closes_at == datetime(2027, 6, 15, 15, 0, tzinfo=UTC)  # 17:00 Paris again
    assert clone.loi_deadline_at == datetime(2027, 4, 15, 10, 0, tzinfo=UTC)
    assert clone.funding_start.isoformat() == "2028-01-01"
    assert clone.published_at is None and clone.cloned_from_id == call.id
    assert [(c.code, c.weight) for c in clone.criteria] == [(c.code, c.weight) for c in call.criteria]
    assert sorted(clone.country_codes) == ["BR", "JP"]
    assert ops.call_problems(clone) == []
    assert call.is_published and call.year == 2026


def test_two_editors_saving_the_same_call(manager_client, db, app, login, make_user):
    save_new(manager_client)
    call = only_call(db)
    version = call.version_id
    colleague = app.test_client()
    login(make_user(roles=("manager",)), colleague)
    form = call_form(title_en="Colleague's title")
    form["version"] = str(version)
    assert colleague.post(f"/manage/calls/{call.id}/edit", data=form).status_code == 302
    mine = call_form(title_en="My title", text_en="My long text, typed for an hour.")
    mine["version"] = str(version)
    response = manager_client.post(f"/manage/calls/{call.id}/edit", data=mine)
    assert response.status_code == 409
    assert "Someone else saved this call while you were editing it." in text_of(response)
    assert "My long text, typed for an hour." in response.get_data(as_text=True)
    assert only_call(db).title_en == "Colleague's title"
    # saving again, knowingly, keeps mine
    mine["version"] = value_of(response.get_data(as_text=True), "version")
    assert manager_client.post(f"/manage/calls/{call.id}/edit", data=mine).status_code == 302
    assert only_call(db).title_en == "My title"


def test_preview_shows_the_draft_in_either_language(manager_client, db):
    save_new(manager_client, text_en="Read **this** <script>alert(1)</script> [x](javascript:alert(1))")
    call = only_call(db)
    page = manager_client.get(f"/manage/calls/{call.id}/preview?lang=en")
    html = page.get_data(as_text=True)
    assert "Preview: this is the call as applicants will see it." in text_of(page)
    assert "<strong>this</strong>" in html
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html  # shown, inert
    assert 'href="javascript:' not in html
    assert "Appel LEA/LIA 2026" in text_of(manager_client.get(f"/manage/calls/{call.id}/preview?lang=fr"))
    pdf = manager_client.get(f"/manage/calls/{call.id}/preview.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"


def test_the_managers_dashboard_card(manager_client, create_call):
    create_call()
    create_call(published=False)
    page = text_of(manager_client.get("/dashboard"))
    assert "1 open, 0 upcoming, 1 draft(s)." in page


# --- permissions -------------------------------------------------------------------------------

ROUTES = [
    ("GET", "/manage/calls"),
    ("GET", "/manage/calls/new"),
    ("POST", "/manage/calls/new"),
    ("GET", "/manage/calls/{id}"),
    ("GET", "/manage/calls/{id}/edit"),
    ("POST", "/manage/calls/{id}/edit"),
    ("GET", "/manage/calls/{id}/preview"),
    ("POST", "/manage/calls/{id}/publish"),
    ("POST", "/manage/calls/{id}/unpublish"),
    ("GET", "/manage/calls/{id}/extend"),
    ("POST", "/manage/calls/{id}/clone"),
    ("GET", "/manage/agreements"),
]


@pytest.mark.parametrize("role", ["applicant", "reviewer", "directorate"])
@pytest.mark.parametrize("method, path", ROUTES)
def test_only_managers_and_admins_edit_calls(app, make_user, login, create_call, db, role, method, path):
    call = create_call()
    client = login(make_user(roles=(role,)), app.test_client())
    url = path.format(id=call.id)
    response = client.open(url, method=method, data=call_form() if method == "POST" else None)
    assert response.status_code == 403
    assert only_call(db).is_published and count_calls(db) == 1


@pytest.mark.parametrize("method, path", ROUTES)
def test_anonymous_visitors_are_sent_to_log_in(app, create_call, method, path):
    call = create_call()
    response = app.test_client().open(path.format(id=call.id), method=method)
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


@pytest.mark.parametrize("method, path", [r for r in ROUTES if "{id}" in r[1]])
def test_a_call_that_does_not_exist_is_404(manager_client, method, path):
    assert manager_client.open(path.format(id=987654), method=method).status_code == 404


def test_an_administrator_may_edit_calls(app, make_user, login, create_call):
    call = create_call()
    client = login(make_user(roles=("admin",)), app.test_client())
    assert client.get(f"/manage/calls/{call.id}/edit").status_code == 200


def test_the_navigation_shows_what_each_role_may_use(app, make_user, login, manager_client):
    html = manager_client.get("/").get_data(as_text=True)
    assert 'href="/manage/calls"' in html and 'href="/manage/agreements"' in html
    assert 'href="/calls"' in html
    applicant = login(make_user(roles=("applicant",)), app.test_client())
    html = applicant.get("/").get_data(as_text=True)
    assert 'href="/manage/calls"' not in html and 'href="/calls"' in html
