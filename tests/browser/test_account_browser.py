"""A visitor registers, confirms through the e-mail, logs in and switches language, in Chromium."""

from __future__ import annotations

import re

from webapp.models import OutboxMessage


def test_register_confirm_login_switch_language(live_server, page, db):
    page.goto(live_server + "/auth/register")
    page.get_by_label("First name").fill("Amina")
    page.get_by_label("Last name").fill("Benali")
    page.get_by_label("E-mail").fill("amina.benali@inserm.fr")
    page.get_by_label("Preferred language").select_option("en")
    page.get_by_label("Password", exact=True).fill("my long research passphrase")
    page.get_by_label("Repeat the password").fill("my long research passphrase")
    page.get_by_role("button", name="Create my account").click()
    page.get_by_text("we sent a confirmation link").wait_for()

    # The e-mail went to the outbox; its link is built from the platform's configured address.
    db.session.expire_all()
    message = db.session.scalar(
        db.select(OutboxMessage).where(OutboxMessage.recipient == "amina.benali@inserm.fr")
    )
    link = re.search(r"http://\S+", message.body_text).group(0)
    assert link.startswith(live_server + "/auth/confirm/")
    db.session.commit()

    page.goto(link)
    page.get_by_role("button", name="Confirm my address").click()
    page.get_by_text("Your e-mail address is confirmed").wait_for()

    page.get_by_label("E-mail").fill("amina.benali@inserm.fr")
    page.get_by_label("Password").fill("my long research passphrase")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Welcome, Amina Benali").wait_for()

    page.get_by_test_id("lang-switch").click()
    page.get_by_role("heading", name="Bienvenue, Amina Benali").wait_for()
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.get_by_role("button", name="Se déconnecter").is_visible()
