"""The Directorate-General's rules, table-driven: who validates what, the budget summary, the
terms of a letter, the redress deadline, and each instrument's parties, committees and articles."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from workflows import decisions as rules
from workflows.decisions import DgAct, Outcome
from workflows.errors import RuleError
from workflows.instruments import Instrument
from workflows.proposal_states import ProposalState as S
from workflows.roles import Role

ALL_STATES = list(S)


@pytest.mark.parametrize("state", ALL_STATES)
@pytest.mark.parametrize(
    "roles",
    [
        {Role.DIRECTORATE},
        {Role.MANAGER},
        {Role.ADMIN},
        {Role.APPLICANT},
        {Role.REVIEWER},
        {Role.MANAGER, Role.ADMIN},
        set(),
    ],
)
def test_only_the_dg_validates_only_what_was_proposed(state, roles):
    problem = rules.validation_problem(state, roles)
    allowed = Role.DIRECTORATE in roles and state in (S.PROPOSED, S.WAITLISTED, S.NOT_RETAINED)
    assert (problem is None) is allowed
    if Role.DIRECTORATE not in roles:
        assert problem == "only the Directorate-General validates decisions"
    elif not allowed:
        assert problem == "this proposal has not been proposed for a decision"


@pytest.mark.parametrize(
    "act, comment, amount, cap, expected",
    [
        (DgAct.AWARD, "", 15_000, 15_000, None),
        (DgAct.AWARD, "", 15_001, 15_000, "the annual amount is above the call's maximum of €15,000 a year"),
        (DgAct.AWARD, "", 0, None, "the annual amount must be a positive number of euros"),
        (DgAct.AWARD, "", None, None, "the annual amount must be a positive number of euros"),
        (DgAct.AWARD, "", 9_999_999, None, None),
        (DgAct.REJECT, "", None, None, "a comment is required"),
        (DgAct.REJECT, "  ", None, None, "a comment is required"),
        (DgAct.REJECT, "Below the funding line.", None, None, None),
        (DgAct.SEND_BACK, "", None, None, "a comment is required"),
        (DgAct.SEND_BACK, "Check the budget.", None, None, None),
        (
            DgAct.SEND_BACK,
            "x" * (rules.MAX_COMMENT + 1),
            None,
            None,
            f"the comment is longer than {rules.MAX_COMMENT} characters",
        ),
    ],
)
def test_what_each_act_needs(act, comment, amount, cap, expected):
    assert rules.act_problem(act, comment, amount, cap) == expected


def test_whole_list_awards_the_main_list_rejects_the_rest_and_leaves_the_waiting_list():
    acts = rules.whole_list_acts({1: S.PROPOSED, 2: S.WAITLISTED, 3: "not_retained", 4: S.PROPOSED})
    assert acts == {1: DgAct.AWARD, 3: DgAct.REJECT, 4: DgAct.AWARD}
    assert (
        rules.whole_list_problem(is_rolling=True, pending=3)
        == "proposals of a rolling call are validated one by one"
    )
    assert (
        rules.whole_list_problem(is_rolling=False, pending=0) == "no proposal of this call awaits a decision"
    )
    assert rules.whole_list_problem(is_rolling=False, pending=2) is None
    assert rules.release_problem(0) is not None and rules.release_problem(1) is None


@pytest.mark.parametrize(
    "envelope, awarded, proposed, remaining, after, over",
    [
        (100_000, [15_000, 12_000], [10_000], 73_000, 63_000, False),
        (20_000, [15_000, 12_000], [], -7_000, -7_000, True),
        (None, [15_000], [5_000], None, None, False),
        (50_000, [None, 10_000], [None], 40_000, 40_000, False),
    ],
)
def test_budget_summary(envelope, awarded, proposed, remaining, after, over):
    summary = rules.budget_summary(envelope, awarded, proposed)
    assert summary.committed_eur == sum(a or 0 for a in awarded)
    assert summary.remaining_eur == remaining
    assert summary.remaining_after_proposed_eur == after
    assert summary.over_envelope is over


def test_award_terms_start_the_year_after_the_decision_in_paris_time():
    # 23:30 UTC on 31 December is already 1 January in Paris: the first grant year is the next one.
    decided = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    terms = rules.award_terms(decided_at=decided, duration_years=4, annual_eur=15_000)
    assert terms.start == date(2028, 1, 1)
    assert terms.end == date(2031, 12, 31)
    assert terms.grant_years == (2028, 2029, 2030, 2031)
    assert terms.total_eur == 60_000
    assert terms.reporting[0] == (2028, date(2029, 1, 31))
    assert terms.reporting[-1] == (2031, date(2032, 1, 31))
    assert terms.conditions[0] == rules.Condition.AGREEMENT_SIGNED
    assert rules.Condition.INSTALMENTS_ON_REPORTS in terms.conditions


def test_award_terms_follow_the_calls_funding_start():
    terms = rules.award_terms(
        decided_at=datetime(2026, 11, 1, tzinfo=UTC),
        duration_years=4,
        annual_eur=10_000,
        call_funding_start=date(2027, 3, 1),
        partner_contribution_expected=False,
    )
    assert (terms.start, terms.end) == (date(2027, 3, 1), date(2031, 2, 28))
    assert terms.grant_years == (2027, 2028, 2029, 2030)
    assert rules.Condition.PARTNER_COMMITMENT not in terms.conditions


@pytest.mark.parametrize("annual", [0, -5, 1.5, True, None])
def test_award_terms_refuse_a_bad_amount(annual):
    with pytest.raises(RuleError):
        rules.award_terms(decided_at=datetime(2026, 11, 1, tzinfo=UTC), duration_years=4, annual_eur=annual)


def test_mandate_dates_handle_29_february():
    assert rules.mandate_dates(date(2028, 2, 29), 4) == (date(2028, 2, 29), date(2032, 2, 28))
    assert rules.mandate_dates(date(2028, 2, 29), 3) == (date(2028, 2, 29), date(2031, 2, 27))
    with pytest.raises(RuleError):
        rules.mandate_dates(date(2028, 1, 1), 0)


RELEASED = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "state, released, now, filed, allowed",
    [
        (S.REJECTED, RELEASED, RELEASED + timedelta(days=1), False, True),
        (S.REJECTED, RELEASED, RELEASED + timedelta(days=30), False, True),
        (S.REJECTED, RELEASED, RELEASED + timedelta(days=30, seconds=1), False, False),
        (S.REJECTED, RELEASED, RELEASED + timedelta(days=2), True, False),
        (S.REJECTED, None, RELEASED, False, False),  # pending: nothing to contest yet
        (S.AWARDED, RELEASED, RELEASED + timedelta(days=1), False, False),
        (S.NOT_RETAINED, RELEASED, RELEASED + timedelta(days=1), False, False),
    ],
)
def test_redress_within_30_days_of_a_released_rejection(state, released, now, filed, allowed):
    assert (rules.redress_problem(state, released, now, filed) is None) is allowed


def test_redress_deadline_is_30_days():
    assert rules.redress_deadline(RELEASED) == RELEASED + timedelta(days=30)


INSERM_TEAM = rules.TeamInfo("Institut de biologie", "Inserm", "Inserm", "FR", "Claire Martin", True)
LYON = rules.TeamInfo("Neurosciences", "Université de Lyon", "CNRS", "FR", "Luc Moreau")
LYON_2 = rules.TeamInfo("Génétique", "Université de Lyon", "CNRS", "FR", "Anne Roy")
USP = rules.TeamInfo("Partner lab", "Universidade de São Paulo", "USP", "BR", "Joana Silva")


def test_lea_lia_parties_are_inserm_and_the_foreign_institution():
    parties = rules.agreement_parties(Instrument.LEA_LIA, [INSERM_TEAM, USP])
    assert [(p.name, p.kind) for p in parties] == [
        ("Inserm", "inserm"),
        ("Universidade de São Paulo", "partner"),
    ]
    members = rules.committees(
        Instrument.LEA_LIA, [INSERM_TEAM, USP], "Claire Martin", "Joana Silva", parties
    )
    assert [(m.committee, m.name, m.role) for m in members] == [
        ("coordination", "Claire Martin", "chair"),
        ("coordination", "Joana Silva", "member"),
    ]


def test_gdre_gdri_parties_are_every_authority_once_and_the_committees_follow_the_laboratories():
    teams = [INSERM_TEAM, LYON, LYON_2, USP]
    parties = rules.agreement_parties(Instrument.GDRE_GDRI, teams)
    assert [p.name for p in parties] == ["Inserm", "CNRS", "USP"]
    members = rules.committees(Instrument.GDRE_GDRI, teams, "Claire Martin")
    scientific = [m for m in members if m.committee == "scientific"]
    steering = [m for m in members if m.committee == "steering"]
    assert len(scientific) == 4  # one representative per laboratory
    assert [m for m in scientific if m.role == "chair"] == [scientific[0]]
    assert scientific[0].name == "Claire Martin"
    assert [m.affiliation for m in steering] == ["Inserm", "CNRS", "USP"]  # one per authority


def test_ume_umi_parties_are_inserm_and_the_host():
    parties = rules.agreement_parties(Instrument.UME_UMI, [], "University of Tokyo")
    assert [(p.name, p.kind) for p in parties] == [("Inserm", "inserm"), ("University of Tokyo", "host")]
    assert [m.committee for m in rules.committees(Instrument.UME_UMI, [], "", "", parties)] == [
        "governance"
    ] * 2
    with pytest.raises(RuleError):
        rules.agreement_parties(Instrument.UME_UMI, [], " ")
    with pytest.raises(RuleError):
        rules.agreement_parties(Instrument.LEA_LIA, [INSERM_TEAM])


@pytest.mark.parametrize("instrument", [Instrument.LEA_LIA, Instrument.GDRE_GDRI, Instrument.UME_UMI])
def test_every_instrument_has_the_sixteen_articles_of_domain_section_7(instrument):
    articles = rules.agreement_articles(instrument)
    assert [a.number for a in articles] == list(range(1, 17))
    assert [a.title_en for a in articles] == [
        "Purpose",
        "Parties, teams and coordinators",
        "Scientific programme",
        "Duration, entry into force and renewal",
        "Governance",
        "Resources and provisional budget",
        "Staff and mobility",
        "Reporting and evaluation",
        "Confidentiality",
        "Publications",
        "Intellectual property",
        "Liability and insurance",
        "Amendments, accession and withdrawal of teams",
        "Early termination",
        "Applicable law and disputes",
        "Languages and signatures",
    ]
    assert all(a.body_fr and a.body_en and a.title("fr") == a.title_fr for a in articles)
    assert "legal personality" in articles[0].body_en
    assert len(rules.annex_titles(instrument)) == 4


def test_articles_are_shaped_per_instrument():
    lea = {a.number: a for a in rules.agreement_articles(Instrument.LEA_LIA)}
    gdr = {a.number: a for a in rules.agreement_articles(Instrument.GDRE_GDRI)}
    umi = {a.number: a for a in rules.agreement_articles(Instrument.UME_UMI)}
    assert "two coordinators" in lea[2].body_en
    assert "authorities (tutelles) of all partner laboratories" in gdr[2].body_en
    assert "chairs the scientific committee" in gdr[5].body_en and "each authority" in gdr[5].body_en
    assert "host institution" in umi[2].body_en and "staffing provisions" in umi[7].body_en
    assert "for 4 years" in lea[4].body_en and "for 5 years" in umi[4].body_en
    assert "every two years" in lea[5].body_en and "at least once a year" in lea[5].body_en
    with pytest.raises(RuleError):
        rules.agreement_articles(Instrument.COOPERATION_AGREEMENT)


def test_outcome_and_status_values_are_stable():
    assert [o.value for o in Outcome] == ["award", "reject"]
    assert [s.value for s in rules.JobStatus] == ["queued", "running", "done", "failed"]
    assert [s.value for s in rules.RedressStatus] == ["open", "upheld", "dismissed"]
