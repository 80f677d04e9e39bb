"""The reviewer pool: invitation by e-mail (creating or linking an account), profiles, search,
filters and pages."""

from __future__ import annotations

import re

from tests.webapp.assessment_fixtures import reviewer
from webapp.models import AuditEvent, User
from webapp.models.assessment import PoolInvitation, ReviewerProfile

INVITE = {
    "email": "Hiro.Tanaka@u-tokyo.example",
    "first_name": "Hiro",
    "last_name": "Tanaka",
    "locale": "en",
    "keywords": "Ageing; regenerative medicine, stem cells",
    "institution_name": "University of Tokyo",
    "unit_code": "",
    "country_code": "JP",
    "is_external": "external",
    "max_load": "4",
    "active": "y",
}


def test_inviting_a_new_person_creates_a_reviewer_account(manager_client, db, outbox, app):
    response = manager_client.post("/manage/reviewers/invite", data=INVITE)
    assert response.status_code == 302
    user = db.session.scalar(db.select(User).where(User.email == "hiro.tanaka@u-tokyo.example"))
    assert user is not None and "reviewer" in {r.value for r in user.roles}
    assert user.password_hash is None  # chosen through the e-mailed link
    profile = db.session.scalar(db.select(ReviewerProfile).where(ReviewerProfile.user_id == user.id))
    assert (profile.is_external, profile.max_load, profile.country_code) == (True, 4, "JP")
    assert profile.keywords == "ageing, regenerative medicine, stem cells"
    [mail] = outbox(user.email)
    assert mail.template == "review_pool_invitation"
    link = re.search(r"http://\S+", mail.body_text).group(0)
    assert link.startswith("http://calls.test/auth/reset/")
    invitation = db.session.scalar(db.select(PoolInvitation))
    assert invitation.created_account is True
    assert db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "reviewer.invited")) is not None
    # The new reviewer sets a password through the link and reaches their (empty) queue.
    client = app.test_client()
    page = client.get(link[len("http://calls.test") :])
    assert page.status_code == 200


def test_inviting_an_existing_account_links_it(manager_client, db, outbox, make_user):
    existing = make_user(roles=("applicant",), email="hiro.tanaka@u-tokyo.example")
    response = manager_client.post(
        "/manage/reviewers/invite", data={**INVITE, "email": "HIRO.TANAKA@u-tokyo.example"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    user = db.session.get(User, existing.id)
    assert {r.value for r in user.roles} == {"applicant", "reviewer"}
    assert db.session.scalar(db.select(db.func.count(User.id))) == 2  # the manager and this one
    [mail] = outbox(user.email)
    assert "/review/" in mail.body_text and "/auth/reset/" not in mail.body_text


def test_bad_input_keeps_what_was_typed(manager_client):
    response = manager_client.post(
        "/manage/reviewers/invite", data={**INVITE, "email": "not-an-address", "max_load": "-3"}
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Enter a valid e-mail address." in page
    assert "University of Tokyo" in page and "regenerative medicine" in page


def test_profile_edit(manager_client, db, make_user):
    user = reviewer(make_user, "anna.berg@ki.example")
    page = manager_client.get(f"/manage/reviewers/{user.id}")
    assert page.status_code == 200 and "Karolinska Institutet" in page.get_data(as_text=True)
    response = manager_client.post(
        f"/manage/reviewers/{user.id}",
        data={
            "keywords": "malaria",
            "institution_name": "Karolinska Institutet",
            "unit_code": "",
            "country_code": "",
            "is_external": "internal",
            "max_load": "2",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    profile = db.session.scalar(db.select(ReviewerProfile).where(ReviewerProfile.user_id == user.id))
    assert (profile.keywords, profile.is_external, profile.max_load, profile.active) == (
        "malaria",
        False,
        2,
        False,
    )
    event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "reviewer.profile_changed"))
    assert event.before["max_load"] == 5 and event.after["max_load"] == 2
    assert manager_client.get("/manage/reviewers/999999").status_code == 404


def test_search_filters_and_pages(manager_client, make_user):
    for n in range(30):
        reviewer(
            make_user,
            f"pool{n}@lab{n}.example",
            external=n % 2 == 0,
            keywords="malaria" if n == 7 else "ageing",
            last_name=f"Pool{n:02d}",
        )
    first = manager_client.get("/manage/reviewers").get_data(as_text=True)
    assert "Page 1 of 2" in first
    assert manager_client.get("/manage/reviewers?page=2").status_code == 200
    found = manager_client.get("/manage/reviewers?q=malaria").get_data(as_text=True)
    assert "pool7@lab7.example" in found and "pool8@lab8.example" not in found
    internal = manager_client.get("/manage/reviewers?kind=internal").get_data(as_text=True)
    assert "pool1@lab1.example" in internal and "pool2@lab2.example" not in internal


def test_only_managers_keep_the_pool(app, login, make_user):
    for roles in (("reviewer",), ("applicant",), ("admin",)):
        client = login(make_user(roles=roles), app.test_client())
        assert client.get("/manage/reviewers").status_code == 403
        assert client.post("/manage/reviewers/invite", data=INVITE).status_code == 403
