"""Factories shared by the suite: a published call and proposals in any state.

They build rows directly (through the calls use cases where those exist), so a test of
assessment or decisions does not have to click through submission first.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from itertools import count

from webapp.extensions import db
from webapp.models import BudgetLine, Country, Proposal, Team, User, utcnow
from webapp.models.calls import CooperationAgreement
from workflows.instruments import Instrument
from workflows.proposal_states import ProposalState

PARTNER_COUNTRIES = ("BR", "JP", "DE", "CA", "IN")
_numbers = count(1)


def ensure_agreements(countries=PARTNER_COUNTRIES) -> None:
    """Calls draw eligible countries from the cooperation agreements: make sure some exist."""
    existing = db.session.scalar(db.select(CooperationAgreement).where(CooperationAgreement.title == "Test agreements"))
    if existing is None:
        existing = CooperationAgreement(title="Test agreements")
        existing.countries = [db.session.get(Country, c) for c in countries]
        db.session.add(existing)
        db.session.flush()


def make_call(actor: User, instrument: Instrument | str = Instrument.LEA_LIA, *, published: bool = True,
              opens_at=None, closes_at=None, **overrides):
    """A call open now (opened 30 days ago, closing in 60 days; rolling calls have no closing)."""
    from webapp.operations.calls import create_call, new_call_data, publish_call

    ensure_agreements()
    instrument = Instrument(instrument)
    now = utcnow()
    data = new_call_data(instrument, now.year + 1)
    rolling = data.is_rolling
    data = replace(
        data,
        title_fr=overrides.pop("title_fr", f"Appel {instrument.value} de test"),
        title_en=overrides.pop("title_en", f"Test {instrument.value} call"),
        text_fr="Texte de l'appel.",
        text_en="The call's text.",
        opens_at=opens_at or now - timedelta(days=30),
        closes_at=None if rolling else (closes_at or now + timedelta(days=60)),
        country_codes=list(PARTNER_COUNTRIES),
        budget_envelope_eur=overrides.pop("budget_envelope_eur", 100_000),
        max_per_year_eur=overrides.pop("max_per_year_eur", 15_000),
        **overrides,
    )
    call = create_call(data, actor)
    if published:
        publish_call(call, actor)
    db.session.commit()
    return call


def _teams_for(instrument: Instrument, coordinator: User, partner_country: str) -> list[Team]:
    inserm = Team(position=0, is_inserm=True, laboratory="Institut de biologie", unit_code="U1234",
                  institution_name="Inserm", country_code="FR", authority="Inserm",
                  leader_name=coordinator.full_name, leader_email=coordinator.email,
                  leader_position="DR2", leader_permanent=True)
    foreign = Team(position=9, is_inserm=False, laboratory="Partner laboratory",
                   institution_name="Universidade de São Paulo", country_code=partner_country,
                   authority="USP", leader_name="Joana Silva", leader_email="joana.silva@usp.example",
                   leader_position="Professor", leader_permanent=True)
    if instrument == Instrument.GDRE_GDRI:
        second = Team(position=1, is_inserm=False, laboratory="Laboratoire de neurosciences",
                      institution_name="Université de Lyon", country_code="FR", authority="CNRS",
                      leader_name="Luc Moreau", leader_email="luc.moreau@univ-lyon.example",
                      leader_position="PR", leader_permanent=True)
        return [inserm, second, foreign]
    return [inserm, foreign]


def make_proposal(call, coordinator: User, state: ProposalState | str = ProposalState.SUBMITTED, *,
                  partner_country: str = "BR", annual_eur: int = 12_000, **fields) -> Proposal:
    """A complete proposal of `call` in `state` (submitted_at set for any state past draft)."""
    number = next(_numbers)
    state = ProposalState(state)
    prefix = {"lea_lia": "LEA", "gdre_gdri": "GDR"}.get(str(call.instrument), "PRJ")
    proposal = Proposal(
        call_id=call.id,
        reference=f"{prefix}-{call.year}-T{number:04d}",
        state=state,
        coordinator_id=coordinator.id,
        co_coordinator_name="Joana Silva",
        co_coordinator_email=f"joana.silva{number}@usp.example",
        title=fields.pop("title", f"Cooperative project {number}"),
        acronym=fields.pop("acronym", f"COOP{number}"),
        abstract_fr="Résumé du projet.",
        abstract_en="Abstract of the project.",
        keywords="neuroscience, ageing",
        history="Joint work since 2019; 6 joint publications.",
        programme="Work packages 1 to 3.",
        mobility_plan="Two PhD students per year.",
        ethics="No ethical issue.",
        duration_years=call.duration_years,
        requested_annual_eur=annual_eur,
        **fields,
    )
    proposal.teams = _teams_for(Instrument(call.instrument), coordinator, partner_country)
    proposal.budget_lines = [
        BudgetLine(year=y, category="mobility", amount_eur=annual_eur - 2_000, partner_cash_eur=3_000)
        for y in range(1, call.duration_years + 1)
    ] + [BudgetLine(year=y, category="meetings", amount_eur=2_000) for y in range(1, call.duration_years + 1)]
    if state not in (ProposalState.DRAFT,):
        proposal.submitted_at = utcnow() - timedelta(days=1)
    if state == ProposalState.INELIGIBLE:
        proposal.ineligible_reason = "Out of scope."
    db.session.add(proposal)
    db.session.commit()
    return proposal
