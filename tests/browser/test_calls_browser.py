"""A programme manager writes and publishes a call in Chromium; a visitor finds it on the public
pages, with the deadline in Paris time, a running countdown and the visitor's own time."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

from tests.browser import steps
from tests.factories import ensure_agreements
from webapp.models import utcnow
from webapp.models.calls import Call
from workflows.timeutils import paris_to_utc, to_paris

PASSWORD = "my long research passphrase"


def test_a_manager_publishes_a_call_that_visitors_see(live_server, page, make_user, db):
    ensure_agreements()  # the cooperation agreements the call draws its countries from
    db.session.commit()
    make_user(roles=("manager",), email="sophie.durand@inserm.fr", password=PASSWORD,
              first_name="Sophie", last_name="Durand")
    csp_errors = []
    page.on("console", lambda msg: csp_errors.append(msg.text)
            if "Content Security Policy" in msg.text else None)

    # Log in through the real form.
    page.goto(live_server + "/auth/login")
    page.get_by_label("E-mail", exact=True).fill("sophie.durand@inserm.fr")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Welcome, Sophie Durand").wait_for()

    # Programme management > Calls > New LEA/LIA call.
    steps.menu_item(page, "Programme management", "nav-manage-calls")
    page.get_by_test_id("new-call-lea_lia").click()
    page.get_by_role("heading", name="New call").wait_for()

    today = to_paris(utcnow()).replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0)
    opens = (today - timedelta(days=1)).replace(hour=9)
    closes = (today + timedelta(days=60)).replace(hour=17)
    year = str(closes.year)
    page.get_by_label("Year", exact=True).fill(year)
    page.get_by_label("Title (French)", exact=True).fill(f"Laboratoires associés internationaux {year}")
    page.get_by_label("Title (English)", exact=True).fill(f"International associated laboratories {year}")
    page.get_by_label("Text of the call (French, Markdown)", exact=True).fill("Un appel **ouvert** aux équipes.")
    page.get_by_label("Text of the call (English, Markdown)", exact=True).fill("A call **open** to teams.")
    page.get_by_label("Opens (Paris time)", exact=True).fill(opens.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label(re.compile(r"^Closes \(Paris time")).fill(closes.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Budget envelope (€)", exact=True).fill("300000")
    page.get_by_label("Funding starts on", exact=True).fill(f"{closes.year + 1}-01-01")
    page.get_by_test_id("save-call").click()
    page.get_by_text("Draft call saved").wait_for()
    page.get_by_text("The call is complete and consistent: it can be published.").wait_for()

    # Publish, confirming the dialog.
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("publish").click()
    page.get_by_text("The call is published.").wait_for()
    db.session.expire_all()
    call = db.session.scalar(db.select(Call))
    assert call.is_published and call.closes_at == paris_to_utc(closes)
    db.session.commit()  # end the test's read transaction: on SQLite it holds the write lock

    # The public list (no login needed) shows it among the open calls; its page shows the deadline.
    page.get_by_test_id("nav-public-calls").click()
    page.get_by_role("link", name=re.compile(f"International associated laboratories {year}")).click()
    page.get_by_role("heading", name=f"International associated laboratories {year}").wait_for()
    deadline = page.get_by_test_id("call-deadline")
    assert "(Paris time)" in deadline.inner_text()
    assert f"{closes.day} {closes.strftime('%B')} {closes.year}, 17:00" in deadline.inner_text()
    countdown = page.locator("[data-countdown]").first
    page.wait_for_function("el => /left/.test(el.textContent)", arg=countdown.element_handle())
    first = countdown.inner_text()
    assert re.match(r"\d+ d \d\d h \d\d min \d\d s left", first), first
    page.wait_for_function("([el, before]) => el.textContent !== before",
                           arg=[countdown.element_handle(), first])  # it runs
    # The browser is in Montreal: the deadline is also given on its clock.
    local = page.locator("[data-local-time]").first
    local.wait_for(state="visible")
    montreal = paris_to_utc(closes).astimezone(ZoneInfo("America/Toronto"))
    expected_hour = montreal.strftime("%I:%M").lstrip("0")
    assert expected_hour in local.inner_text() and "America/" in local.inner_text()
    assert page.get_by_text("A call open to teams.").is_visible()

    # Logged out, a visitor sees it too.
    page.context.clear_cookies()
    page.goto(live_server + "/calls")
    assert page.get_by_role("link", name=re.compile(f"International associated laboratories {year}")).is_visible()
    assert csp_errors == []
