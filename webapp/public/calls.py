"""Public call pages (no login): open, upcoming and closed calls; one call; its PDF."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlencode

from flask import abort, make_response, render_template, request
from flask_babel import force_locale, get_locale
from markupsafe import Markup
from sqlalchemy import func, select

from forms.calls import CallFilterForm, instrument_label
from webapp.documents.render import render_pdf
from webapp.extensions import cache, db
from webapp.models import Country, utcnow
from webapp.models.calls import Call, call_country, without_collections
from webapp.operations.calls import published_calls_query
from webapp.pagination import paginate
from webapp.public import bp
from workflows.instruments import CALL_INSTRUMENTS, Instrument
from workflows.timeutils import ensure_aware

PER_PAGE = 10
#: How long a rendered list is kept at most, whatever happens.
LIST_TTL = timedelta(hours=1)


def _locale() -> str:
    return str(get_locale() or "fr")


def _published_filter_choices() -> tuple[list[tuple[str, str]], list[int]]:
    """The countries and the years of the published calls, for the filter (one query, rows not
    entities)."""
    rows = db.session.execute(
        select(Call.year, Country.code, Country.name_fr, Country.name_en)
        .select_from(Call)
        .outerjoin(call_country, call_country.c.call_id == Call.id)
        .outerjoin(Country, Country.code == call_country.c.country_code)
        .where(Call.published_at.is_not(None))
        .distinct()
    ).all()
    french = _locale().startswith("fr")
    countries = {code: (fr if french else en) for _y, code, fr, en in rows if code}
    years = sorted({year for year, *_rest in rows}, reverse=True)
    return sorted(countries.items(), key=lambda c: c[1]), years


#: The list's own query parameters: a request with others (or long values) is served, not cached.
LIST_ARGS = frozenset({"status", "instrument", "country", "year", "page"})


def _list_key(locale: str) -> str | None:
    """The cache key of the list's content for this request: its language, its parameters and
    the version of the calls (their number and latest change, read now: a call saved, published
    or deleted anywhere gives a new key at once)."""
    args = sorted(request.args.items(multi=True))
    if any(name not in LIST_ARGS or len(value) > 40 for name, value in args):
        return None
    count, changed = db.session.execute(select(func.count(Call.id), func.max(Call.updated_at))).one()
    return f"calls-list:{locale}:{urlencode(args)}:{count}:{changed.isoformat() if changed else ''}"


def _next_change(now: datetime) -> datetime:
    """When a published call next opens or closes: statuses and tabs change then."""
    opens = select(func.min(Call.opens_at)).where(Call.published_at.is_not(None), Call.opens_at > now)
    closes = select(func.min(Call.closes_at)).where(
        Call.published_at.is_not(None), Call.is_rolling.is_(False), Call.closes_at >= now
    )
    moments = [m for m in (db.session.scalar(opens), db.session.scalar(closes)) if m is not None]
    return min([ensure_aware(m, "moment") for m in moments] + [now + LIST_TTL])


def _list_content(now: datetime) -> str:
    countries, years = _published_filter_choices()
    form = CallFilterForm(request.args, country_choices=countries, year_choices=years)
    form.validate()  # an unknown value in the query string is ignored, not an error page
    status = form.status.data if form.status.data in {"open", "upcoming", "closed", "all"} \
        else "open"
    stmt = published_calls_query(None if status == "all" else status, now)
    if form.instrument.data in {i.value for i in CALL_INSTRUMENTS}:
        stmt = stmt.where(Call.instrument == Instrument(form.instrument.data))
    if form.country.data and not form.country.errors:
        stmt = stmt.where(Call.countries.any(Country.code == form.country.data))
    if (form.year.data or "").isdigit() and not form.year.errors:
        stmt = stmt.where(Call.year == int(form.year.data))
    # The list shows neither countries, themes, criteria nor documents: none is loaded.
    stmt = stmt.options(*without_collections())
    page = paginate(db, stmt, per_page=PER_PAGE)
    return render_template("public/calls/_list.html", form=form, page=page, status=status,
                           now=now, instrument_label=instrument_label)


@bp.get("/calls")
def calls():
    """The public list: the same content for every reader in one language, so it is rendered
    once per version of the calls and kept until a call next opens or closes."""
    now = utcnow()
    key = _list_key(_locale())
    kept = cache.get(key) if key else None
    if kept is not None and now < kept[1]:
        content = kept[0]
    else:
        content = _list_content(now)
        if key:
            cache.set(key, (content, _next_change(now)))
    return render_template(
        "public/calls/list.html", content=Markup(content)  # noqa: S704 - our own rendered template
    )


def get_published_call_or_404(call_id: int) -> Call:
    """A published call; a draft looks exactly like a call that does not exist."""
    call = db.session.get(Call, call_id)
    if call is None or not call.is_published:
        abort(404)
    return call


@bp.get("/calls/<int:call_id>")
def call(call_id: int):
    call = get_published_call_or_404(call_id)
    return render_template("public/calls/show.html", call=call, now=utcnow(), preview=False,
                           content_locale=_locale(), instrument_label=instrument_label)


def pdf_response(call: Call, locale: str, preview: bool = False):
    """The call as a PDF in one language, rendered through the one PDF renderer."""
    with force_locale(locale):
        pdf = render_pdf("documents/call.html", call=call, content_locale=locale, now=utcnow(),
                         preview=preview, instrument_label=instrument_label)
    response = make_response(pdf)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = (
        f'inline; filename="inserm-call-{call.year}-{call.id}-{locale}.pdf"'
    )
    return response


@bp.get("/calls/<int:call_id>.pdf")
def call_pdf(call_id: int):
    call = get_published_call_or_404(call_id)
    return pdf_response(call, _locale())
