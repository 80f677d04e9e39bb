"""Permission-matrix rows of the calls capability: the public call pages and /manage/calls,
/manage/agreements. POSTs send incomplete data: managers get the form back (422) or the
refusal of an incomplete draft (422); the others are stopped before (403, or login for
anonymous)."""

from __future__ import annotations

from tests.security.permission_matrix import ANY, MANAGERS, MANAGERS_POST, Row, expect

MANAGERS_REFUSED = expect(403, anonymous=302, manager=422, admin=422)


def _draft(w):
    return {"call_id": w.draft_call.id}


def _published(w):
    return {"call_id": w.published_call.id}


def _fresh_published(w):
    # Each role unpublishes its own call: the routes it serves share one world (302 counts as a
    # refusal there), and a call unpublished by the manager would answer the admin differently.
    from tests.factories import make_call

    return {"call_id": make_call(w.users["manager"], title_en="World call to unpublish").id}


def _agreement(w):
    return {"agreement_id": w.agreement.id}


def _theme(w):
    return {"theme_id": w.theme.id}


def _bad_call_form(w):
    return {"instrument": "lea_lia", "year": "1066", "title_en": "x"}


ROWS: dict = {
    # public pages
    ("GET", "public.calls"): Row(ANY),
    ("GET", "public.call"): Row(ANY, args=_published),
    ("GET", "public.call_pdf"): Row(ANY, args=_published),
    # the call editor
    ("GET", "manage.calls"): Row(MANAGERS),
    ("GET", "manage.call"): Row(MANAGERS, args=_draft),
    ("GET", "manage.new_call"): Row(MANAGERS),
    ("POST", "manage.new_call"): Row(
        MANAGERS_REFUSED, data=_bad_call_form, note="invalid year: the form comes back"
    ),
    ("GET", "manage.edit_call"): Row(MANAGERS, args=_draft),
    ("POST", "manage.edit_call"): Row(MANAGERS_REFUSED, args=_draft, data=_bad_call_form),
    ("GET", "manage.preview_call"): Row(MANAGERS, args=_draft),
    ("GET", "manage.preview_call_pdf"): Row(MANAGERS, args=_draft),
    ("POST", "manage.publish_call"): Row(
        MANAGERS_REFUSED, args=_draft, note="the draft has no French title: refused"
    ),
    ("POST", "manage.unpublish_call"): Row(MANAGERS_POST, args=_fresh_published),
    ("GET", "manage.extend_deadline"): Row(MANAGERS, args=_published),
    ("POST", "manage.extend_deadline"): Row(
        MANAGERS_REFUSED, args=_published, note="no new date: the form comes back"
    ),
    ("POST", "manage.clone_call"): Row(MANAGERS_POST, args=_published),
    # the cooperation-agreement registry
    ("GET", "manage.agreements"): Row(MANAGERS),
    ("GET", "manage.new_agreement"): Row(MANAGERS),
    ("POST", "manage.new_agreement"): Row(MANAGERS_REFUSED, data=lambda w: {"title": ""}),
    ("GET", "manage.edit_agreement"): Row(MANAGERS, args=_agreement),
    ("POST", "manage.edit_agreement"): Row(MANAGERS_REFUSED, args=_agreement, data=lambda w: {"title": ""}),
    ("GET", "manage.themes"): Row(MANAGERS),
    ("POST", "manage.themes"): Row(MANAGERS_REFUSED, data=lambda w: {"label_fr": ""}),
    ("GET", "manage.edit_theme"): Row(MANAGERS, args=_theme),
    ("POST", "manage.edit_theme"): Row(MANAGERS_REFUSED, args=_theme, data=lambda w: {"label_fr": ""}),
}
