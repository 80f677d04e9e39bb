"""The cooperation-agreement registry, its themes, the countries calls draw from it, the demo."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.webapp.call_forms import call_form
from tests.webapp.test_calls_editor import only_call, text_of
from webapp.models import AuditEvent, Institution, utcnow
from webapp.models.calls import Call, CooperationAgreement, Theme
from webapp.operations import calls as call_ops
from webapp.operations.agreements import seed_priority_agreements
from workflows.timeutils import paris_date


def agreement_named(db, title) -> CooperationAgreement:
    db.session.expire_all()
    return db.session.scalar(select(CooperationAgreement).where(CooperationAgreement.title == title))


def test_the_registry_is_seeded_with_the_priority_countries_and_themes(db):
    assert seed_priority_agreements() == 12
    assert seed_priority_agreements() == 0  # idempotent
    db.session.commit()
    china = agreement_named(db, "Inserm – China")
    assert [c.code for c in china.countries] == ["CN"]
    assert [t.label_en for t in china.themes] == ["Infectious diseases"]
    japan = agreement_named(db, "Inserm – Japan")
    assert sorted(t.label_en for t in japan.themes) == ["Ageing", "Regenerative medicine and cell therapy"]
    assert sorted(c.code for c in agreement_named(db, "Inserm – Maghreb").countries) == ["DZ", "MA", "TN"]
    europe = {c.code for c in agreement_named(db, "Inserm – Europe").countries}
    assert {"DE", "IT", "PL", "GB"} <= europe and "FR" not in europe
    assert {"BR", "CA", "CN", "IN", "IL", "JP", "SG", "KR", "TW", "US", "DE"} <= call_ops.registry_country_codes()


def test_a_manager_records_an_agreement(manager_client, db):
    theme = Theme(label_fr="Vieillissement", label_en="Ageing")
    db.session.add(theme)
    db.session.commit()
    response = manager_client.post("/manage/agreements/new", data={
        "title": "Inserm – Chile",
        "countries": ["CL"],
        "starts_on": "2026-01-01",
        "ends_on": "2030-12-31",
        "themes": [str(theme.id)],
        "partners-0-name": "Universidad de Chile",
        "partners-0-acronym": "UChile",
        "partners-0-country_code": "CL",
        "partners-1-name": "",
        "notes": "Signed in Santiago.",
    })
    assert response.status_code == 302
    agreement = agreement_named(db, "Inserm – Chile")
    assert [c.code for c in agreement.countries] == ["CL"]
    assert [p.name for p in agreement.partners] == ["Universidad de Chile"]
    assert agreement.partners[0].country_code == "CL" and agreement.partners[0].kind == "foreign"
    assert [t.label_en for t in agreement.themes] == ["Ageing"]
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.object_type == "cooperation_agreement")) \
        == "agreement.created"
    page = text_of(manager_client.get("/manage/agreements"))
    assert "Inserm – Chile" in page and "Universidad de Chile (UChile)" in page
    assert "CL" in call_ops.registry_country_codes(paris_date(utcnow()).replace(year=2027))
    # the partner is one institution, found again rather than duplicated
    manager_client.post(f"/manage/agreements/{agreement.id}/edit", data={
        "title": "Inserm – Chile", "countries": ["CL"], "partners-0-name": "universidad de chile",
        "partners-0-country_code": "CL"})
    assert db.session.scalar(select(func.count(Institution.id))) == 1


def test_agreement_refusals_keep_what_was_typed(manager_client, db):
    response = manager_client.post("/manage/agreements/new", data={
        "title": "Inserm – Peru", "countries": [], "starts_on": "2026-01-01", "ends_on": "2025-01-01",
        "partners-0-name": "Universidad Nacional", "partners-0-country_code": ""})
    assert response.status_code == 422
    page = text_of(response)
    assert "Choose at least one country." in page
    assert "The agreement ends before it starts." in page
    assert "Choose the institution's country." in page
    assert 'value="Inserm – Peru"' in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(CooperationAgreement.id))) == 0


def test_themes(manager_client, db):
    assert manager_client.post("/manage/agreements/themes", data={
        "label_fr": "Maladies rares", "label_en": "Rare diseases"}).status_code == 302
    again = manager_client.post("/manage/agreements/themes", data={
        "label_fr": "Maladies rares bis", "label_en": "rare diseases"})
    assert again.status_code == 422 and "This theme already exists." in text_of(again)
    theme = db.session.scalar(select(Theme))
    assert manager_client.post(f"/manage/agreements/themes/{theme.id}/edit", data={
        "label_fr": "Maladies rares", "label_en": "Rare disorders"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Theme, theme.id).label_en == "Rare disorders"
    assert manager_client.get("/manage/agreements/themes/987654/edit").status_code == 404


@pytest.mark.usefixtures("registry")
def test_a_call_only_offers_the_registrys_countries(manager_client, db):
    response = manager_client.post("/manage/calls/new", data=call_form(countries=["BR", "US"]))
    assert response.status_code == 422
    assert "'US' is not a valid choice for this field." in text_of(response)
    assert db.session.scalar(select(func.count(Call.id))) == 0


@pytest.mark.usefixtures("registry")
def test_a_country_whose_agreement_ended_cannot_be_published(manager_client, db):
    ended = CooperationAgreement(title="Old agreement", ends_on=paris_date(utcnow()) - timedelta(days=1))
    from webapp.models import Country

    ended.countries = [db.session.get(Country, "MX")]
    db.session.add(ended)
    db.session.commit()
    assert "MX" not in call_ops.registry_country_codes()
    manager_client.post("/manage/calls/new", data=call_form())
    call = only_call(db)
    call.countries.append(db.session.get(Country, "MX"))  # held from before the agreement ended
    db.session.commit()
    assert 'value="MX"' in manager_client.get(f"/manage/calls/{call.id}/edit").get_data(as_text=True)
    response = manager_client.post(f"/manage/calls/{call.id}/publish")
    assert response.status_code == 422
    assert "Not covered by a cooperation agreement in force: MX." in text_of(response)


def test_the_country_policy_is_stored(manager_client, db, registry):
    manager_client.post("/manage/calls/new", data=call_form(country_policy="flag"))
    assert only_call(db).country_policy == "flag"
    page = text_of(manager_client.post(f"/manage/calls/{only_call(db).id}/publish", follow_redirects=True))
    assert "The call is published." in page


def test_seed_demo_creates_the_demo_calls_once(app, db):
    runner = app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["seed-demo"])
        assert result.exit_code == 0, result.output
    db.session.expire_all()
    calls = db.session.scalars(select(Call).order_by(Call.id)).all()
    assert [(c.instrument.value, c.is_rolling) for c in calls] == [("lea_lia", False), ("gdre_gdri", True)]
    now = utcnow()
    for call in calls:
        assert call.is_published and call.status(now) == "open"
        assert [c.weight for c in call.criteria] == [25, 20, 20, 10, 10, 10, 5]
        assert call_ops.call_problems(call) == []
        assert now - timedelta(weeks=6) < call.opens_at < now - timedelta(weeks=2)
    lea = calls[0]
    assert timedelta(days=80) < lea.closes_at - now < timedelta(days=100)
    assert db.session.scalar(select(func.count(CooperationAgreement.id))) == 12
