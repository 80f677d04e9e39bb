"""Writing a proposal: sections, limits, autosave, conflicts, teams, budget, the co-coordinator,
and who may see or change what."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.factories import make_call, make_proposal
from tests.submission_support import (  # noqa: F401 - fixtures, by their names
    as_coordinator_fixture,
    as_partner_fixture,
    coordinator_fixture,
    open_call_fixture,
    page_text,
    partner_fixture,
    programme_manager_fixture,
)
from webapp.models import AuditEvent, BudgetLine, Proposal, Team, utcnow
from workflows.proposal_states import ProposalState


@pytest.fixture
def draft(as_coordinator, open_call, db):
    assert as_coordinator.post(f"/calls/{open_call.id}/apply").status_code == 302
    return db.session.scalar(db.select(Proposal))


def fresh(db, proposal):
    db.session.expire_all()
    return db.session.get(Proposal, proposal.id)


def general(proposal, **values):
    data = {
        "version": proposal.version_id,
        "title": "Ageing brains",
        "acronym": "AGE",
        "abstract_fr": "Résumé.",
        "abstract_en": "Abstract.",
        "keywords": "ageing, brain",
        "theme_id": "",
        "duration_years": "4",
    }
    data.update(values)
    return data


# --- sections ---


def test_general_information_is_saved_and_shown(as_coordinator, draft, db):
    response = as_coordinator.post(f"/proposals/{draft.id}/general", data=general(draft))
    assert response.status_code == 302
    saved = fresh(db, draft)
    assert (saved.title, saved.acronym, saved.keywords, saved.duration_years) == (
        "Ageing brains",
        "AGE",
        "ageing, brain",
        4,
    )
    shown = page_text(as_coordinator.get(f"/proposals/{draft.id}"))
    assert "Ageing brains (AGE)" in shown and "Résumé." in shown
    event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "proposal.edited"))
    assert event.after == {
        "section": "general",
        "fields": ["title", "acronym", "abstract_fr", "abstract_en", "keywords"],
    }


def test_bad_input_comes_back_with_its_messages_and_nothing_typed_is_lost(as_coordinator, draft, db):
    data = general(draft, acronym="A" * 41, duration_years="12", abstract_en="My long abstract, typed once.")
    response = as_coordinator.post(f"/proposals/{draft.id}/general", data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Field cannot be longer than 40 characters." in html
    assert "Number must be between 1 and 10." in html
    assert "My long abstract, typed once." in html
    assert fresh(db, draft).abstract_en == ""


def test_texts_over_the_call_limit_are_kept_but_stop_the_submission(as_coordinator, draft, open_call, db):
    too_long = "x" * (open_call.max_chars_history + 1)
    data = {
        "version": draft.version_id,
        "history": too_long,
        "programme": "WP1",
        "mobility_plan": "PhD",
        "ethics": "None",
    }
    assert as_coordinator.post(f"/proposals/{draft.id}/texts", data=data).status_code == 302
    assert fresh(db, draft).history == too_long
    editor = page_text(as_coordinator.get(f"/proposals/{draft.id}/texts"))
    limit = open_call.max_chars_history
    assert f"{limit + 1} of {limit} characters: too long to submit" in editor
    overview = page_text(as_coordinator.get(f"/proposals/{draft.id}"))
    assert (
        f"The history of the collaboration has {limit + 1} characters, above the limit of {limit}."
        in overview
    )


def test_windows_line_ends_are_stored_as_one_character(as_coordinator, draft, db):
    data = {
        "version": draft.version_id,
        "history": "a\r\nb",
        "programme": "",
        "mobility_plan": "",
        "ethics": "",
    }
    as_coordinator.post(f"/proposals/{draft.id}/texts", data=data)
    assert fresh(db, draft).history == "a\nb"


def test_posted_fields_outside_the_form_change_nothing(as_coordinator, draft, make_user, db):
    other = make_user()
    data = general(
        draft,
        state="awarded",
        coordinator_id=str(other.id),
        reference="HACK-1",
        decision_annual_eur="99999",
        co_coordinator_id=str(other.id),
        stage="loi",
    )
    assert as_coordinator.post(f"/proposals/{draft.id}/general", data=data).status_code == 302
    saved = fresh(db, draft)
    assert (saved.state, saved.stage, saved.reference, saved.decision_annual_eur) == (
        "draft",
        "full",
        draft.reference,
        None,
    )
    assert saved.coordinator_id != other.id and saved.co_coordinator_id is None


def test_the_theme_is_one_of_the_call_themes(as_coordinator, draft, open_call, db):
    from webapp.models.calls import Theme

    ours, other = (
        Theme(label_fr="Vieillissement", label_en="Ageing"),
        Theme(label_fr="Autre", label_en="Other"),
    )
    db.session.add_all([ours, other])
    open_call.themes = [ours]
    db.session.commit()
    page = as_coordinator.get(f"/proposals/{draft.id}/general")
    assert "Ageing" in page_text(page) and "Other" not in page_text(page)
    response = as_coordinator.post(
        f"/proposals/{draft.id}/general", data=general(draft, theme_id=str(other.id))
    )
    assert response.status_code == 422
    assert "Not a valid choice" in response.get_data(as_text=True)
    assert fresh(db, draft).theme_id is None
    ok = as_coordinator.post(f"/proposals/{draft.id}/general", data=general(draft, theme_id=str(ours.id)))
    assert ok.status_code == 302 and fresh(db, draft).theme_id == ours.id


# --- autosave and conflicts ---


def test_autosave_saves_and_returns_the_new_version(as_coordinator, draft, db):
    data = {
        "version": draft.version_id,
        "history": "Autosaved text",
        "programme": "",
        "mobility_plan": "",
        "ethics": "",
    }
    response = as_coordinator.post(f"/proposals/{draft.id}/autosave/texts", data=data)
    assert response.status_code == 200
    saved = fresh(db, draft)
    first = saved.version_id
    assert response.json == {
        "ok": True,
        "version": first,
        "changed": ["history"],
        "message": "Draft saved automatically.",
    }
    assert saved.history == "Autosaved text"
    # The next save carries the new version and goes through; the old one is a conflict.
    data.update(version=first, programme="WP")
    assert as_coordinator.post(f"/proposals/{draft.id}/autosave/texts", data=data).status_code == 200
    data.update(version=first, programme="stale")
    stale = as_coordinator.post(f"/proposals/{draft.id}/autosave/texts", data=data)
    assert stale.status_code == 409 and stale.json["conflict"] is True
    assert fresh(db, draft).programme == "WP"


def test_autosave_reports_invalid_fields_without_saving(as_coordinator, draft, db):
    response = as_coordinator.post(
        f"/proposals/{draft.id}/autosave/general", data=general(draft, acronym="A" * 50)
    )
    assert response.status_code == 422
    assert response.json["errors"]["acronym"] == ["Field cannot be longer than 40 characters."]
    assert fresh(db, draft).title == ""
    assert as_coordinator.post(f"/proposals/{draft.id}/autosave/other", data={}).status_code == 404


def test_a_save_over_a_newer_save_shows_a_conflict_and_keeps_the_typed_text(
    as_coordinator, as_partner, draft, partner, db
):
    draft.co_coordinator_id, draft.co_coordinator_email = partner.id, partner.email
    db.session.commit()
    opened_at = fresh(db, draft).version_id
    # The co-coordinator saves first...
    as_partner.post(f"/proposals/{draft.id}/general", data=general(fresh(db, draft), title="Partner's title"))
    # ... then the coordinator saves the form opened before.
    mine = general(draft, title="My title", abstract_en="Typed for an hour.")
    mine["version"] = opened_at
    conflict = as_coordinator.post(f"/proposals/{draft.id}/general", data=mine)
    assert conflict.status_code == 409
    html = conflict.get_data(as_text=True)
    assert "Someone else saved this proposal while you were editing it." in page_text(conflict)
    assert "Typed for an hour." in html and 'value="My title"' in html
    assert fresh(db, draft).title == "Partner's title"
    # Saving again from the conflict page keeps the coordinator's version, knowingly.
    again = re.search(r'name="version" type="hidden" value="(\d+)"', html).group(1)
    mine["version"] = again
    assert as_coordinator.post(f"/proposals/{draft.id}/general", data=mine).status_code == 302
    assert fresh(db, draft).title == "My title"


# --- teams ---


def team_form(draft, **values):
    data = {
        "version": draft.version_id,
        "laboratory": "Laboratório de Neurociência",
        "unit_code": "",
        "institution_name": "Universidade de São Paulo",
        "country_code": "BR",
        "authority": "USP",
        "leader_name": "Joana Silva",
        "leader_email": "joana@usp.example",
        "leader_position": "Professor",
        "leader_permanent": "y",
    }
    data.update(values)
    return data


def test_teams_are_added_edited_and_removed(as_coordinator, draft, db):
    assert as_coordinator.post(f"/proposals/{draft.id}/teams/new", data=team_form(draft)).status_code == 302
    proposal = fresh(db, draft)
    foreign = next(t for t in proposal.teams if not t.is_inserm)
    foreign_id = foreign.id
    assert (foreign.country_code, foreign.position, foreign.laboratory) == (
        "BR",
        2,
        "Laboratório de Neurociência",
    )
    assert "Laboratório de Neurociência" in page_text(as_coordinator.get(f"/proposals/{draft.id}"))

    edit = team_form(proposal, laboratory="LabNeuro", country_code="JP")
    assert as_coordinator.post(f"/proposals/{draft.id}/teams/{foreign_id}", data=edit).status_code == 302
    assert db.session.get(Team, foreign_id).country_code == "JP"

    assert as_coordinator.post(f"/proposals/{draft.id}/teams/{foreign_id}/delete").status_code == 302
    db.session.expire_all()
    assert db.session.get(Team, foreign_id) is None
    actions = db.session.scalars(
        db.select(AuditEvent.action).where(AuditEvent.action.like("proposal.team%"))
    ).all()
    assert actions == ["proposal.team_added", "proposal.team_edited", "proposal.team_removed"]


def test_team_errors_are_shown_beside_the_fields(as_coordinator, draft, db):
    response = as_coordinator.post(
        f"/proposals/{draft.id}/teams/new",
        data=team_form(draft, is_inserm="y", country_code="BR", leader_email="not-an-address"),
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "The Inserm team is in France." in html
    assert "Enter a valid e-mail address." in html
    assert "Laboratório de Neurociência" in html
    no_country = as_coordinator.post(
        f"/proposals/{draft.id}/teams/new", data=team_form(draft, country_code="")
    )
    assert "Choose the country of the team." in no_country.get_data(as_text=True)
    assert len(fresh(db, draft).teams) == 1


def test_a_team_of_another_proposal_is_not_found(as_coordinator, draft, open_call, make_user, db):
    other = make_proposal(open_call, make_user(), ProposalState.DRAFT)
    team = other.teams[0]
    assert as_coordinator.get(f"/proposals/{draft.id}/teams/{team.id}").status_code == 404
    assert as_coordinator.post(f"/proposals/{draft.id}/teams/{team.id}/delete").status_code == 404
    assert db.session.get(Team, team.id) is not None


# --- budget ---


def budget_rows(proposal, cells):
    """The budget form as the page posts it: every row of the grid, ``cells`` filled in."""
    data = {"version": proposal.version_id}
    i = 0
    for year in range(1, 5):
        for category in ("mobility", "meetings", "other"):
            amount, cash = cells.get((year, category), ("", ""))
            data.update(
                {
                    f"rows-{i}-year": year,
                    f"rows-{i}-category": category,
                    f"rows-{i}-amount_eur": amount,
                    f"rows-{i}-partner_cash_eur": cash,
                    f"rows-{i}-partner_in_kind_eur": "",
                    f"rows-{i}-note": "",
                }
            )
            i += 1
    return data


def test_the_budget_grid_is_saved_and_summed(as_coordinator, draft, db):
    page = as_coordinator.get(f"/proposals/{draft.id}/budget")
    assert page.status_code == 200
    assert "Year 4" in page_text(page) and "Salaries are not eligible." in page_text(page)
    cells = {(y, "mobility"): (10_000, 3_000) for y in range(1, 5)}
    cells.update({(y, "meetings"): (2_000, "") for y in range(1, 5)})
    assert (
        as_coordinator.post(f"/proposals/{draft.id}/budget", data=budget_rows(draft, cells)).status_code
        == 302
    )
    lines = fresh(db, draft).budget_lines
    assert len(lines) == 8
    assert sum(line.amount_eur for line in lines) == 48_000
    assert sum(line.partner_cash_eur for line in lines) == 12_000
    assert "€48,000" in page_text(as_coordinator.get(f"/proposals/{draft.id}"))

    # Saving again updates in place, and emptied cells disappear.
    cells = {(1, "mobility"): (11_000, 3_000), (2, "mobility"): (11_000, "")}
    assert (
        as_coordinator.post(
            f"/proposals/{draft.id}/budget", data=budget_rows(fresh(db, draft), cells)
        ).status_code
        == 302
    )
    lines = fresh(db, draft).budget_lines
    assert [(line.year, line.category, line.amount_eur) for line in lines] == [
        (1, "mobility", 11_000),
        (2, "mobility", 11_000),
    ]


def test_the_budget_shows_what_breaks_the_call_rules(as_coordinator, draft, db):
    cells = {(1, "mobility"): (10_000, ""), (1, "other"): (9_000, "")}
    as_coordinator.post(f"/proposals/{draft.id}/budget", data=budget_rows(draft, cells))
    shown = page_text(as_coordinator.get(f"/proposals/{draft.id}/budget"))
    assert "Year 1 asks for €19,000, above the call's maximum of €15,000 a year." in shown
    assert "Year 1: costs other than mobility are €9,000 of €19,000, above the 20 % cap." in shown


def test_budget_cells_outside_the_grid_and_negative_amounts_are_refused(as_coordinator, draft, db):
    data = budget_rows(draft, {(1, "mobility"): (5_000, "")})
    data.update(
        {
            "rows-12-year": "9",
            "rows-12-category": "mobility",
            "rows-12-amount_eur": "5000",
            "rows-13-year": "1",
            "rows-13-category": "salaries",
            "rows-13-amount_eur": "5000",
        }
    )
    assert as_coordinator.post(f"/proposals/{draft.id}/budget", data=data).status_code == 302
    assert [(line.year, line.category) for line in fresh(db, draft).budget_lines] == [(1, "mobility")]

    bad = budget_rows(fresh(db, draft), {(1, "mobility"): ("-5", ""), (2, "meetings"): ("lots", "")})
    response = as_coordinator.post(f"/proposals/{draft.id}/budget", data=bad)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Number must be between 0 and 10000000." in html and "Not a valid integer value." in html
    assert db.session.scalar(db.select(BudgetLine.amount_eur)) == 5_000


# --- the co-coordinator ---


def test_the_co_coordinator_is_invited_joins_and_co_edits(
    as_coordinator, as_partner, draft, partner, outbox, db
):
    response = as_coordinator.post(
        f"/proposals/{draft.id}/co-coordinator",
        data={"version": draft.version_id, "name": "Joana Silva", "email": "Joana.Silva@USP.example"},
    )
    assert response.status_code == 302
    [mail] = outbox("joana.silva@usp.example")
    assert mail.subject == f"[Inserm] Invitation to co-coordinate the proposal {draft.reference}"
    assert f"http://calls.test/proposals/{draft.id}" in mail.body_text
    assert "Claire Martin named you as the foreign co-coordinator" in mail.body_text
    proposal = fresh(db, draft)
    assert proposal.co_coordinator_email == "joana.silva@usp.example" and proposal.co_coordinator_invited_at

    # Invited: sees the proposal and its invitation, may not edit before joining.
    assert "invitation" in page_text(as_partner.get("/proposals"))
    page = as_partner.get(f"/proposals/{draft.id}")
    assert page.status_code == 200 and "Join as co-coordinator" in page_text(page)
    refused = as_partner.get(f"/proposals/{draft.id}/texts")
    assert refused.status_code == 403 and "Join the proposal as co-coordinator first" in page_text(refused)

    assert as_partner.post(f"/proposals/{draft.id}/join").status_code == 302
    assert fresh(db, draft).co_coordinator_id == partner.id
    data = {
        "version": fresh(db, draft).version_id,
        "history": "Written by Joana",
        "programme": "",
        "mobility_plan": "",
        "ethics": "",
    }
    assert as_partner.post(f"/proposals/{draft.id}/texts", data=data).status_code == 302
    assert fresh(db, draft).history == "Written by Joana"
    # Only the coordinator submits or names another co-coordinator's... the partner may edit it too.
    refused = as_partner.post(f"/proposals/{draft.id}/submit", data={"version": fresh(db, draft).version_id})
    assert refused.status_code == 403 and "Only the coordinator can submit" in page_text(refused)
    assert db.session.scalar(
        db.select(AuditEvent).where(AuditEvent.action == "proposal.co_coordinator_joined")
    )


def test_an_unconfirmed_account_or_another_address_cannot_join(app, make_user, login, draft, db):
    draft.co_coordinator_email = "late@usp.example"
    db.session.commit()
    unconfirmed = login(make_user(email="late@usp.example", confirmed=False), app.test_client())
    assert unconfirmed.get(f"/proposals/{draft.id}").status_code == 404
    assert unconfirmed.post(f"/proposals/{draft.id}/join").status_code == 404
    stranger = login(make_user(email="someone@usp.example"), app.test_client())
    assert stranger.post(f"/proposals/{draft.id}/join").status_code == 404
    assert fresh(db, draft).co_coordinator_id is None


def test_a_new_co_coordinator_replaces_the_previous_one(
    as_coordinator, as_partner, draft, partner, outbox, db
):
    draft.co_coordinator_id, draft.co_coordinator_email = partner.id, partner.email
    db.session.commit()
    assert as_partner.get(f"/proposals/{draft.id}").status_code == 200
    as_coordinator.post(
        f"/proposals/{draft.id}/co-coordinator",
        data={"version": fresh(db, draft).version_id, "name": "Kenji Sato", "email": "kenji@u-tokyo.example"},
    )
    proposal = fresh(db, draft)
    assert proposal.co_coordinator_id is None and proposal.co_coordinator_email == "kenji@u-tokyo.example"
    assert as_partner.get(f"/proposals/{draft.id}").status_code == 404
    assert len(outbox("kenji@u-tokyo.example")) == 1
    # Resending the invitation sends one more.
    assert as_coordinator.post(f"/proposals/{draft.id}/co-coordinator/invite").status_code == 302
    assert len(outbox("kenji@u-tokyo.example")) == 2


def test_the_coordinator_cannot_be_their_own_co_coordinator(as_coordinator, draft, coordinator, db):
    response = as_coordinator.post(
        f"/proposals/{draft.id}/co-coordinator",
        data={"version": draft.version_id, "name": "Me", "email": coordinator.email},
    )
    assert response.status_code == 422
    assert "must be someone other than the coordinator" in page_text(response)
    assert fresh(db, draft).co_coordinator_email == ""


# --- who sees what, and when ---

EDIT_PAGES = ("general", "texts", "co-coordinator", "budget", "teams/new")


def test_nobody_else_sees_the_proposal(app, make_user, login, draft, db):
    for roles in (("applicant",), ("reviewer",), ("manager",), ("directorate",), ("admin",)):
        client = login(make_user(roles=roles), app.test_client())
        for path in ("", "/documents", "/withdraw", *(f"/{p}" for p in EDIT_PAGES)):
            assert client.get(f"/proposals/{draft.id}{path}").status_code == 404, (roles, path)
        assert (
            client.post(f"/proposals/{draft.id}/general", data=general(draft, title="x")).status_code == 404
        )
        assert draft.reference not in page_text(client.get("/proposals"))
    assert fresh(db, draft).title == ""
    assert app.test_client().get(f"/proposals/{draft.id}").status_code == 302  # to the login page


def test_a_submitted_proposal_is_not_edited(as_coordinator, open_call, coordinator, db):
    submitted = make_proposal(open_call, coordinator, ProposalState.SUBMITTED)
    for path in EDIT_PAGES:
        refused = as_coordinator.get(f"/proposals/{submitted.id}/{path}")
        assert refused.status_code == 403
        assert "take it back to edit it first" in page_text(refused)
    refused = as_coordinator.post(f"/proposals/{submitted.id}/general", data=general(submitted, title="Late"))
    assert refused.status_code == 403
    assert fresh(db, submitted).title != "Late"
    assert (
        "Edit"
        not in page_text(as_coordinator.get(f"/proposals/{submitted.id}")).split("General information")[1][
            :20
        ]
    )


def test_a_draft_is_frozen_once_the_deadline_and_grace_have_passed(
    as_coordinator, programme_manager, coordinator, db
):
    call = make_call(
        programme_manager,
        opens_at=utcnow() - timedelta(days=60),
        closes_at=utcnow() - timedelta(minutes=5),
        grace_minutes=10,
    )
    late = make_proposal(call, coordinator, ProposalState.DRAFT)
    assert as_coordinator.get(f"/proposals/{late.id}/general").status_code == 200  # inside the grace
    call.grace_minutes = 0
    db.session.commit()
    refused = as_coordinator.post(f"/proposals/{late.id}/general", data=general(late, title="Too late"))
    assert refused.status_code == 403
    assert "The deadline has passed: this proposal can no longer be changed or submitted." in page_text(
        refused
    )
    overview = page_text(as_coordinator.get(f"/proposals/{late.id}"))
    assert "The deadline has passed" in overview and "Submit the proposal" not in overview


def test_my_proposals_are_searched_filtered_and_paged(as_coordinator, open_call, coordinator, db):
    make_proposal(open_call, coordinator, ProposalState.DRAFT, title="Zebrafish ageing")
    make_proposal(open_call, coordinator, ProposalState.SUBMITTED, title="Malaria vectors")
    make_proposal(open_call, coordinator, ProposalState.RANKED, title="Gut microbiota")
    listing = page_text(as_coordinator.get("/proposals"))
    assert "Zebrafish ageing" in listing and "Malaria vectors" in listing
    assert "Under assessment" in listing and "Ranked" not in listing  # no internal step leaks
    found = page_text(as_coordinator.get("/proposals?q=zebra"))
    assert "Zebrafish ageing" in found and "Malaria" not in found
    submitted = page_text(as_coordinator.get("/proposals?status=submitted"))
    assert "Malaria vectors" in submitted and "Zebrafish" not in submitted
    assert "No proposal matches these filters." in page_text(as_coordinator.get("/proposals?q=nothing"))
    assert as_coordinator.get("/proposals?status=bogus&page=-3").status_code == 200
    for n in range(26):
        make_proposal(open_call, coordinator, ProposalState.DRAFT, title=f"Bulk {n}")
    assert "Page 1 of 2" in page_text(as_coordinator.get("/proposals"))
    second = page_text(as_coordinator.get("/proposals?page=2"))
    assert "Page 2 of 2" in second and second.count("Bulk ") + second.count("Zebrafish") + second.count(
        "Malaria"
    ) + second.count("Gut microbiota") == 4  # 29 proposals: 25 on the first page, 4 on the second
    beyond = page_text(as_coordinator.get("/proposals?page=7"))  # past the end: no rows, the total kept
    assert "Page 7 of 2" in beyond and "Bulk " not in beyond
    assert "My proposals" in page_text(as_coordinator.get("/dashboard"))


def test_an_expired_form_gives_back_what_was_typed(app, coordinator, login, draft, db):
    app.config["WTF_CSRF_ENABLED"] = True
    for client in (login(coordinator, app.test_client()), app.test_client()):  # logged in, or logged out
        response = client.post(
            f"/proposals/{draft.id}/texts",
            data={"history": "Three pages typed offline.", "csrf_token": "stale"},
        )
        assert response.status_code == 400
        assert "Your form has expired or was sent from elsewhere, so nothing was saved." in page_text(
            response
        )
        assert "Three pages typed offline." in response.get_data(as_text=True)
    auto = login(coordinator, app.test_client()).post(
        f"/proposals/{draft.id}/autosave/texts", data={"history": "x"}
    )
    assert auto.status_code == 400 and auto.json["ok"] is False
    assert fresh(db, draft).history == ""


def test_the_list_and_the_card_ask_the_database_the_same_number_of_times_whatever_the_number(
    app, as_coordinator, open_call, coordinator, db
):
    from sqlalchemy import event

    from webapp.applicant.views import dashboard_cards

    def statements(work):
        count = {"n": 0}

        def counter(*args):
            count["n"] += 1

        event.listen(db.engine, "before_cursor_execute", counter)
        try:
            work()
        finally:
            event.remove(db.engine, "before_cursor_execute", counter)
        return count["n"]

    def listing():
        assert as_coordinator.get("/proposals").status_code == 200

    def card():
        db.session.expire_all()
        with app.test_request_context(headers={"Accept-Language": "en"}):
            assert "proposal(s)" in dashboard_cards(db.session.get(type(coordinator), coordinator.id))[0].text

    make_proposal(open_call, coordinator, ProposalState.DRAFT)
    few = statements(listing), statements(card)
    for _ in range(20):
        make_proposal(open_call, coordinator, ProposalState.SUBMITTED)
    assert (statements(listing), statements(card)) == few
