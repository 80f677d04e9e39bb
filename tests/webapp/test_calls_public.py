"""Public call pages: listing by derived status with filters and pages, a call's page, its PDF."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from pypdf import PdfReader

from tests.webapp.test_calls_editor import text_of
from webapp.models import utcnow
from webapp.operations.calls import published_calls_query

pytestmark = pytest.mark.usefixtures("registry")


def titles(response) -> list[str]:
    html = response.get_data(as_text=True)
    return re.findall(r'<h2 class="h5 mb-1">([^<]*)</h2>', html)


@pytest.fixture
def calls(create_call):
    now = utcnow()
    return {
        "open": create_call(title_en="Open LEA"),
        "rolling": create_call("gdre_gdri", title_en="Rolling GDRE",
                               opens_at=now - timedelta(days=400)),
        "upcoming": create_call(title_en="Upcoming LEA", opens_at=now + timedelta(days=10),
                                closes_at=now + timedelta(days=90)),
        "closed": create_call(title_en="Closed LEA", opens_at=now - timedelta(days=100),
                              closes_at=now - timedelta(days=5)),
        "draft": create_call(title_en="Draft LEA", published=False),
    }


def test_open_calls_are_listed_by_default(public_client, calls):
    assert sorted(titles(public_client.get("/calls"))) == ["Open LEA", "Rolling GDRE"]


@pytest.mark.parametrize(
    "status, expected",
    [
        ("open", ["Open LEA", "Rolling GDRE"]),
        ("upcoming", ["Upcoming LEA"]),
        ("closed", ["Closed LEA"]),
        ("all", ["Closed LEA", "Open LEA", "Rolling GDRE", "Upcoming LEA"]),
        ("nonsense", ["Open LEA", "Rolling GDRE"]),
    ],
)
def test_listing_by_status(public_client, calls, status, expected):
    response = public_client.get(f"/calls?status={status}")
    assert response.status_code == 200
    assert sorted(titles(response)) == expected  # never the draft


def test_status_follows_the_clock_not_a_stored_flag(public_client, calls, db):
    call = calls["open"]
    call.closes_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert "Open LEA" not in titles(public_client.get("/calls"))
    assert "Open LEA" in titles(public_client.get("/calls?status=closed"))


def test_the_sql_listing_agrees_with_the_rule(db, calls):
    now = utcnow()
    for status in ("open", "upcoming", "closed"):
        listed = {c.id for c in db.session.scalars(published_calls_query(status, now))}
        expected = {c.id for c in calls.values() if c.status(now) == status}
        assert listed == expected, status


@pytest.mark.parametrize(
    "query, expected",
    [
        ("instrument=gdre_gdri", ["Rolling GDRE"]),
        ("instrument=lea_lia", ["Japan LEA", "Open LEA"]),
        ("country=JP", ["Japan LEA"]),
        ("country=BR", ["Open LEA", "Rolling GDRE"]),
        ("year=2031", ["Japan LEA"]),
        ("instrument=lea_lia&country=JP&year=2031", ["Japan LEA"]),
        ("instrument=lea_lia&year=2031&country=BR", []),
        ("country=ZZ", ["Japan LEA", "Open LEA", "Rolling GDRE"]),  # unknown values are ignored
    ],
)
def test_filters(public_client, calls, create_call, db, query, expected):
    japan = create_call(title_en="Japan LEA", year=2031)
    for call, code in ((japan, "JP"), (calls["open"], "BR"), (calls["rolling"], "BR")):
        call.countries = [c for c in call.countries if c.code == code]
    db.session.commit()
    assert sorted(titles(public_client.get(f"/calls?{query}"))) == expected


def test_the_filter_offers_only_what_published_calls_hold(public_client, calls):
    html = public_client.get("/calls").get_data(as_text=True)
    assert '<option value="JP">Japan</option>' in html
    assert 'value="US"' not in html


def test_pages_of_ten(public_client, create_call):
    for n in range(12):
        create_call(title_en=f"Call {n:02d}", closes_at=utcnow() + timedelta(days=30 + n))
    first = public_client.get("/calls")
    assert titles(first) == [f"Call {n:02d}" for n in range(10)]  # soonest deadline first
    assert "Page 1 of 2" in text_of(first)
    assert titles(public_client.get("/calls?page=2")) == ["Call 10", "Call 11"]


# --- the list is rendered once per version of the calls ----------------------------------------


def test_a_change_to_the_calls_shows_at_once(public_client, calls, create_call, manager, db):
    from webapp.operations import calls as ops

    assert sorted(titles(public_client.get("/calls"))) == ["Open LEA", "Rolling GDRE"]
    create_call(title_en="Brand new LEA")  # published: the next visitor sees it
    assert "Brand new LEA" in titles(public_client.get("/calls"))
    data = ops.call_data(calls["open"])
    data.title_en = "Renamed LEA"
    ops.update_call(calls["open"], data, manager, None)
    db.session.commit()
    assert "Renamed LEA" in titles(public_client.get("/calls"))
    ops.unpublish_call(calls["rolling"], manager)
    db.session.commit()
    assert sorted(titles(public_client.get("/calls"))) == ["Brand new LEA", "Renamed LEA"]


def test_the_kept_list_follows_the_clock(public_client, calls):
    assert "Upcoming LEA" not in titles(public_client.get("/calls"))
    assert "Open LEA" in titles(public_client.get("/calls"))
    # Nothing is saved, only time passes: the upcoming call opens, the open one closes.
    with time_machine.travel(utcnow() + timedelta(days=70)):
        listed = titles(public_client.get("/calls"))
        assert "Upcoming LEA" in listed and "Open LEA" not in listed
        assert "Open LEA" in titles(public_client.get("/calls?status=closed"))


def test_the_kept_list_is_per_language_and_per_filter(app, public_client, calls):
    french = app.test_client()
    french.post("/language/fr")
    assert "Appels à projets" in text_of(french.get("/calls"))
    assert "Calls for proposals" in text_of(public_client.get("/calls"))
    assert titles(public_client.get("/calls?status=upcoming")) == ["Upcoming LEA"]
    assert sorted(titles(public_client.get("/calls"))) == ["Open LEA", "Rolling GDRE"]


def test_unknown_parameters_are_served_not_kept(app, public_client, calls):
    response = public_client.get("/calls?utm_source=newsletter&status=closed")
    assert response.status_code == 200 and titles(response) == ["Closed LEA"]
    with app.app_context():
        from webapp.extensions import cache

        assert not any("utm_source" in key for key in cache.cache._cache)


def test_a_draft_is_not_public(public_client, calls):
    draft = calls["draft"]
    assert public_client.get(f"/calls/{draft.id}").status_code == 404
    assert public_client.get(f"/calls/{draft.id}.pdf").status_code == 404
    assert public_client.get("/calls/987654").status_code == 404


def test_the_home_page_shows_the_open_calls(public_client, calls):
    page = text_of(public_client.get("/"))
    assert "Open LEA" in page and "Rolling GDRE" in page
    assert "Upcoming LEA" not in page and "Closed LEA" not in page and "Draft LEA" not in page


def test_the_home_page_without_open_calls(public_client):
    assert "No call is open at the moment." in text_of(public_client.get("/"))


# --- a call's page -------------------------------------------------------------------------------

DEADLINE = datetime(2030, 6, 14, 15, 0, tzinfo=UTC)  # Friday 14 June 2030, 17:00 Paris


@pytest.fixture
def open_call(create_call):
    return create_call(title_en="Associated laboratories 2030", title_fr="Laboratoires associés 2030",
                       closes_at=DEADLINE, text_en="Apply **before** the deadline.",
                       text_fr="Candidatez **avant** la date limite.")


def test_a_calls_page(public_client, open_call):
    response = public_client.get(f"/calls/{open_call.id}")
    assert response.status_code == 200
    page = text_of(response)
    assert "Associated laboratories 2030" in page
    assert "Deadline: Friday 14 June 2030, 17:00 (GMT+02:00) (Paris time)" in page
    assert "Apply before the deadline." in page
    assert "One Inserm team and one foreign team" in page
    assert "Brazil" in page and "Japan" in page
    assert "Up to €15,000 a year" in page and "Duration: 4 years" in page
    assert "Salaries are not eligible." in page
    assert "C1 Scientific excellence and originality of the project" in page
    assert re.search(r"C7 Budget justification and partner contribution .*? 5 %", page)
    assert "CV of the Inserm coordinator (required, PDF, 5 MB max.)" in page
    assert "Publication list (including joint publications) (optional, PDF, 5 MB max.)" in page


def test_the_page_follows_the_visitors_language(app, open_call):
    client = app.test_client()
    with client.session_transaction() as session:
        session["lang"] = "fr"
    page = text_of(client.get(f"/calls/{open_call.id}"))
    assert "Laboratoires associés 2030" in page and "Candidatez avant la date limite." in page
    assert "vendredi 14 juin 2030, 17:00" in page


def test_the_countdown_and_local_time_are_scripted_under_the_csp(public_client, open_call):
    response = public_client.get(f"/calls/{open_call.id}")
    html = response.get_data(as_text=True)
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"])[1]
    assert f'<script src="/static/countdown.js" nonce="{nonce}"></script>' in html
    assert re.search(r'data-countdown data-target="2030-06-14T15:00:00\+00:00"', html)
    assert 'data-local-time="2030-06-14T15:00:00+00:00"' in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "no inline script"
    assert " style=" not in html, "no style attribute"
    script = public_client.get("/static/countdown.js")
    assert script.status_code == 200 and b"data-countdown" in script.data
    script.close()


def test_an_upcoming_call_counts_down_to_its_opening(public_client, create_call):
    opens = utcnow().replace(microsecond=0) + timedelta(days=3)
    call = create_call(opens_at=opens, closes_at=opens + timedelta(days=60))
    html = public_client.get(f"/calls/{call.id}").get_data(as_text=True)
    assert f'data-target="{opens.isoformat()}"' in html
    assert "Upcoming" in text_of(public_client.get(f"/calls/{call.id}"))


# --- the PDF -------------------------------------------------------------------------------------


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() or "" for page in reader.pages))


def test_the_call_as_a_pdf(public_client, open_call):
    response = public_client.get(f"/calls/{open_call.id}.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    text = pdf_text(response.data)
    assert "Associated laboratories 2030" in text
    assert "Friday 14 June 2030, 17:00 (GMT+02:00)" in text
    assert "Scientific excellence and originality of the project" in text
    assert "CV of the Inserm coordinator" in text


def test_nothing_is_fetched_into_the_pdf(public_client, create_call, monkeypatch):
    import socket

    attempts = []
    real_connect = socket.socket.connect

    def spy(self, address):
        attempts.append(address)
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", spy)
    call = create_call(text_en=(
        'Look: <img src="file:///etc/passwd"> <link rel="attachment" href="file:///etc/passwd">\n\n'
        "![metadata](http://169.254.169.254/latest/meta-data/) ![local](file:///etc/passwd)\n\n"
        "[secrets](file:///etc/passwd) <iframe src=\"http://169.254.169.254/\"></iframe>"
    ))
    response = public_client.get(f"/calls/{call.id}.pdf")
    assert response.status_code == 200
    reader = PdfReader(io.BytesIO(response.data))
    assert not reader.attachments
    text = pdf_text(response.data)
    assert "root:x:0:0" not in text
    assert "Look:" in text  # the text is there, inert
    assert attempts == []
    html = public_client.get(f"/calls/{call.id}").get_data(as_text=True)
    assert "<img" not in html.split('data-testid="call-text"')[1].split("</section>")[0]


def test_the_pdf_follows_the_visitors_language(app, open_call):
    client = app.test_client()
    with client.session_transaction() as session:
        session["lang"] = "fr"
    text = pdf_text(client.get(f"/calls/{open_call.id}.pdf").data)
    assert "Laboratoires associés 2030" in text
    assert "vendredi 14 juin 2030, 17:00" in text
    assert "Associated laboratories 2030" not in text
