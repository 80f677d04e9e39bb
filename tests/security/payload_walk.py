"""Posting payloads through the real pages: `Walker` gets a page as a browser would, fills the
text fields of its form (derived from the WTForms class) with tagged payloads, posts it with
the page's CSRF token, follows the redirect, and hands every response to `Outputs`."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from urllib.parse import urlencode, urlsplit

import pytest
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from tests.security.payload_support import (
    Listener,
    Outputs,
    TextField,
    fetch_problems,
    field_names,
    fill,
    read_page,
    scrape_form,
    spy_on_fetcher,
    text_fields,
)
from tests.security.permission_matrix import MATRIX
from tests.security.world import ROLES

PASSWORD = "a long and unusual passphrase 42"


# Who reads a page first: those who see the most of what others typed, then the applicants.
READERS = (
    "manager", "owner", "directorate", "assigned_reviewer", "co_coordinator", "admin", "anonymous",
    "other_applicant", "unassigned_reviewer", "conflicted_reviewer",
)  # fmt: skip
assert set(READERS) == set(ROLES)


class Walker:
    """Browses as several users at once (one test client each) and checks all it receives."""

    def __init__(self, app, outputs: Outputs, login):
        self.app = app
        self.out = outputs
        self._login = login
        self._clients: dict = {}
        self.posted: dict[str, set[str]] = {}  # form class -> field names given a payload

    # -- clients
    def client(self, user=None):
        key = getattr(user, "id", None)
        if key not in self._clients:
            client = self.app.test_client()
            if user is not None:
                self._login(user, client)
            self._clients[key] = client
        return self._clients[key]

    # -- requests
    def get(self, client, url: str, where: str | None = None, *, follow: bool = True):
        response = client.get(url)
        self.out.check_response(response, where or f"GET {url}")
        if follow and response.status_code in (301, 302, 303) and response.location:
            return self.get(client, _local(response.location), f"{where or url} -> redirect", follow=False)
        return response

    def post(self, client, url: str, data, where: str | None = None, *, expect=None, follow=True):
        items = list(data.items(multi=True) if isinstance(data, MultiDict) else data.items())
        if any(isinstance(v, tuple) for _, v in items):
            # Encoded in memory: the test client spools big bodies to temporary files it never closes.
            fields = MultiDict(
                (
                    k,
                    FileStorage(v[0], filename=v[1], content_type="application/pdf")
                    if isinstance(v, tuple)
                    else v,
                )
                for k, v in items
            )
            boundary, body = encode_multipart(fields)
            response = client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")
        else:
            response = client.post(url, data=data)
        where = where or f"POST {url}"
        self.out.check_response(response, where)
        if expect is not None and response.status_code not in expect:
            self.out.problems.append(
                f"{where}: status {response.status_code}, expected {expect}: " + _excerpt(response)
            )
        if follow and response.status_code in (301, 302, 303) and response.location:
            self.get(client, _local(response.location), f"{where} -> redirect", follow=False)
        return response

    def confirm(self, client, page_url: str, action: str, expect=(302,)):
        """Press a confirmation button (a form with only the CSRF token) found on a page."""
        page = self.get(client, page_url)
        form = scrape_form(page.get_data(as_text=True), action=action)
        return self.post(client, action, fill(form, {}), f"POST {action}", expect=expect)

    def upload(
        self,
        client,
        page_url: str,
        action: str,
        content: bytes,
        filename: str,
        *,
        expect=(302,),
        fields: dict | None = None,
    ):
        """Send a file through the upload form of a page (its CSRF token included)."""
        page = self.get(client, page_url)
        forms = [
            f
            for f in read_page(page.get_data(as_text=True)).forms
            if f.files and urlsplit(f.action).path == action
        ]
        assert forms, f"{page_url} has no upload form posting to {action}"
        form = forms[0]
        data = fill(form, fields or {})
        data.add(form.files[0], (io.BytesIO(content), filename))
        return self.post(client, action, data, f"POST {action} (file {filename[:40]!r})", expect=expect)

    def post_form(
        self,
        client,
        page_url: str,
        form_class,
        *,
        action: str | None = None,
        having: str | None = None,
        fixed: dict | None = None,
        constrained: tuple[str, ...] = (),
        extra: tuple[TextField, ...] = (),
        skip: tuple[str, ...] = (),
        expect=(302,),
        rows: int | str = 1,
        files: dict | None = None,
        value=None,
    ):
        """Fill every text field of ``form_class`` (plus ``extra`` ones, minus ``skip``) on the
        form of ``page_url`` with tagged payloads, or with ``value(form_name, text_field)``, and
        post it with the page's other values, ``fixed`` ones on top. ``constrained`` fields
        (addresses, codes, button values) keep a valid value for this post, then get payloads
        in a second post, which must be refused without harm. Returns the first response."""
        name = form_class.__name__
        fixed = dict(fixed or {})
        fields = [*text_fields(form_class), *extra]
        page = self.get(client, page_url)
        html = page.get_data(as_text=True)
        if having is None:
            having = next((f.path.replace("*", "0") for f in fields if f.path not in skip), None)
        form = scrape_form(html, action=action, having=having)
        target = form.action or page_url
        values, payloads = {}, {}
        for text_field in fields:
            if text_field.path in skip:
                continue
            for control in field_names(form, text_field.path, [f.path for f in fields], rows=rows):
                typed = (value or self.out.value_for)(name, replace(text_field, path=control))
                if text_field.path in constrained or control in fixed:
                    payloads[control] = typed
                else:
                    values[control] = typed
                self.posted.setdefault(name, set()).add(text_field.path)
        values.update(fixed)
        data = fill(form, values)
        for key, (content, filename) in (files or {}).items():
            data.add(key, (io.BytesIO(content), filename))
        response = self.post(client, target, data, f"POST {target} ({name})", expect=expect)
        if payloads:
            # The form again (fresh values), or as first sent if the page no longer offers it.
            page = self.get(client, page_url)
            try:
                again = scrape_form(page.get_data(as_text=True), action=action, having=having)
            except AssertionError:
                again = form
            data = fill(again, {**values, **fixed, **payloads})
            for key, (content, filename) in (files or {}).items():
                data.add(key, (io.BytesIO(content), filename))
            self.post(client, target, data, f"POST {target} ({name}, payloads in {sorted(payloads)})")
        return response

    def search(self, client, url: str, form_class, **fixed):
        """A GET search form: its text fields in the query string."""
        query = {}
        for text_field in text_fields(form_class):
            query[text_field.path] = self.out.value_for(form_class.__name__, text_field)
            self.posted.setdefault(form_class.__name__, set()).add(text_field.path)
        query.update(fixed)
        return self.get(client, f"{url}?{urlencode(query)}")

    # -- reading everything back
    def walk_matrix(self, world, endpoints, roles_per_page: int = 2):
        """GET every page of the permission matrix whose endpoint starts with one of
        ``endpoints``, as the first roles of `READERS` the matrix lets in (documents once)."""
        from flask import url_for

        for (method, endpoint), row in sorted(MATRIX.items()):
            if method != "GET" or not endpoint.startswith(tuple(endpoints)):
                continue
            with self.app.test_request_context():
                url = url_for(endpoint, **(row.args(world) if row.args else {}))
            readers = [role for role in READERS if row.expected[role] == 200][:roles_per_page]
            for role in readers:
                user = None if role == "anonymous" else world.users[role]
                response = self.get(self.client(user), url, f"GET {url} as {role}")
                if response.mimetype != "text/html":
                    break

    def check_outbox(self, outbox):
        messages = outbox()
        for message in messages:
            self.out.check_mail(message)
        return messages

    def admin_views(self, admin, outbox):
        """The administrator's pages that show what others typed: users, outbox, audit."""
        from webapp.extensions import db
        from webapp.models import User

        self.get(admin, "/admin/users")
        self.get(admin, "/admin/audit")
        self.get(admin, "/admin/outbox")
        for message in outbox():
            self.get(admin, f"/admin/outbox/{message.id}")
        for user_id in db.session.scalars(db.select(User.id).order_by(User.id.desc()).limit(8)):
            self.get(admin, f"/admin/users/{user_id}")


def _local(location: str) -> str:
    parts = urlsplit(location)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _excerpt(response) -> str:
    if response.mimetype != "text/html":
        return response.get_data(as_text=True)[:300]
    text = " ".join(" ".join(read_page(response.get_data(as_text=True)).text).split())
    errors = re.findall(r"[^.]*(?:Choose|Give|Enter|must|cannot|invalid|Write|not )[^.]*\.", text)
    return " | ".join(errors[:6]) or text[-400:]


def name_users(db, users, outputs: Outputs) -> None:
    """Give users hostile names, as registration would have stored them (it strips only the
    ends): names reach pages, letters, exports and e-mails."""
    from forms.auth import RegistrationForm

    by_path = {f.path: f for f in text_fields(RegistrationForm)}
    for user in users:
        user.first_name = outputs.value_for("RegistrationForm", by_path["first_name"]).strip()
        user.last_name = outputs.value_for("RegistrationForm", by_path["last_name"]).strip()
    db.session.commit()


# --- fixtures (imported by the payload test modules) ---------------------------------------------


@pytest.fixture(name="listener")
def listener_fixture():
    with Listener() as server:
        yield server


@pytest.fixture(name="outputs")
def outputs_fixture(app, listener):
    return Outputs(listener.port, app.config["SECRET_KEY"])


@pytest.fixture(name="walker")
def walker_fixture(app, outputs, login):
    return Walker(app, outputs, login)


@pytest.fixture(name="fetches")
def fetches_fixture(monkeypatch):
    return spy_on_fetcher(monkeypatch)


def assert_clean(outputs: Outputs, listener: Listener | None = None, fetches=None) -> None:
    problems = list(outputs.problems)
    if listener is not None and listener.hits:
        problems.append(f"the local listener was reached: {listener.hits}")
    if fetches is not None:
        problems.extend(fetch_problems(fetches))
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems[:60])
