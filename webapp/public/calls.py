"""Public call pages (no login): open, upcoming and closed calls; one call; its PDF."""

from __future__ import annotations

from flask import abort, make_response, render_template, request
from flask_babel import force_locale, get_locale
from sqlalchemy import select

from forms.calls import CallFilterForm, instrument_label
from webapp.documents.render import render_pdf
from webapp.extensions import db
from webapp.models import Country, utcnow
from webapp.models.calls import Call, call_country, without_collections
from webapp.operations.calls import published_calls_query
from webapp.pagination import paginate
from webapp.public import bp
from workflows.instruments import CALL_INSTRUMENTS, Instrument

PER_PAGE = 10


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


@bp.get("/calls")
def calls():
    countries, years = _published_filter_choices()
    form = CallFilterForm(request.args, country_choices=countries, year_choices=years)
    form.validate()  # an unknown value in the query string is ignored, not an error page
    status = form.status.data if form.status.data in {"open", "upcoming", "closed", "all"} \
        else "open"
    now = utcnow()
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
    return render_template("public/calls/list.html", form=form, page=page, status=status,
                           now=now, instrument_label=instrument_label)


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
