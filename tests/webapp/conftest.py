"""Fixtures of the web tests: a logged-in programme manager and a `create_call` factory."""

from __future__ import annotations

import pytest

from tests.factories import ensure_agreements, make_call


def use_english(client) -> None:
    """Tests read the English interface (the French catalogue may translate any message)."""
    with client.session_transaction() as session:
        session["lang"] = "en"


@pytest.fixture
def manager(make_user):
    return make_user(roles=("manager",), email="manager@example.org", first_name="Sophie")


@pytest.fixture
def manager_client(app, manager, login):
    client = app.test_client()
    login(manager, client)
    use_english(client)
    return client


@pytest.fixture
def public_client(app):
    client = app.test_client()
    use_english(client)
    return client


@pytest.fixture
def registry(app, db):
    """Cooperation agreements covering BR, JP, DE, CA and IN (the calls' eligible countries)."""
    ensure_agreements()
    db.session.commit()


@pytest.fixture
def create_call(app, db, manager):
    """create_call(instrument="lea_lia", published=True, opens_at=..., closes_at=..., **fields)
    -> Call, committed; open now by default (opened 30 days ago, closing in 60 days)."""

    from webapp.operations import calls as ops

    def create(instrument="lea_lia", published=True, **kwargs):
        # The shared factory fixes texts and countries; set them afterwards through the editor's
        # use case, then publish.
        extra = {k: kwargs.pop(k) for k in ("text_fr", "text_en", "country_codes") if k in kwargs}
        call = make_call(manager, instrument, published=published and not extra, **kwargs)
        if extra:
            data = ops.call_data(call)
            for name, value in extra.items():
                setattr(data, name, value)
            ops.update_call(call, data, manager, None)
            if published:
                ops.publish_call(call, manager)
            db.session.commit()
        return call

    return create
