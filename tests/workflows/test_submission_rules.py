"""Submission rules: completeness, eligibility, time, references, file names, fingerprints."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from workflows.calls import CountryPolicy
from workflows.errors import NaiveDatetimeError
from workflows.money import BudgetLine, BudgetRules, check_budget
from workflows.proposal_states import STAGE_FULL, STAGE_LOI, ProposalState
from workflows.submission import (
    CallConditions,
    ProposalContent,
    TeamContent,
    clean_filename,
    eligibility,
    facts,
    fingerprint,
    may_change,
    missing_items,
    next_reference_number,
    proposal_reference,
    receipt_reference,
    reference_prefix,
    requested_annual_eur,
    stage_deadline,
    start_stage,
)
from workflows.teams import check_team_shape

NOW = datetime(2027, 6, 15, 15, 0, tzinfo=UTC)
DOCS = ("cv_coordinator", "support_letter")

INSERM = TeamContent(
    is_inserm=True,
    country_code="FR",
    laboratory="Lab A",
    unit_code="U1234",
    institution_name="Inserm",
    authority="Inserm",
    leader_name="Claire Martin",
    leader_email="claire@inserm.fr",
    leader_position="DR2",
    leader_permanent=True,
)
FRENCH = TeamContent(
    is_inserm=False,
    country_code="FR",
    laboratory="Lab B",
    institution_name="CNRS",
    authority="CNRS",
    leader_name="Luc",
    leader_email="luc@cnrs.fr",
    leader_position="CR",
    leader_permanent=True,
)
BRAZIL = TeamContent(
    is_inserm=False,
    country_code="BR",
    laboratory="Lab C",
    institution_name="USP",
    authority="USP",
    leader_name="Joana",
    leader_email="joana@usp.br",
    leader_position="Professor",
    leader_permanent=True,
)


def budget(per_year=((10_000, 2_000),), years=4):
    lines = []
    for year in range(1, years + 1):
        mobility, meetings = per_year[min(year - 1, len(per_year) - 1)]
        lines.append(BudgetLine(year, "mobility", mobility, partner_cash_eur=1_000))
        lines.append(BudgetLine(year, "meetings", meetings))
    return tuple(lines)


COMPLETE = ProposalContent(
    stage=STAGE_FULL,
    title="Ageing brains",
    acronym="AGE",
    abstract_fr="Résumé",
    abstract_en="Abstract",
    keywords="ageing",
    theme_id=3,
    history="Since 2019",
    programme="WP1",
    mobility_plan="PhD",
    ethics="None",
    duration_years=4,
    coordinator_email="claire@inserm.fr",
    co_coordinator_name="Joana",
    co_coordinator_email="joana@usp.br",
    teams=(INSERM, BRAZIL),
    budget=budget(),
    attachment_codes=frozenset(DOCS),
)
LEA = CallConditions(
    instrument="lea_lia",
    duration_years=4,
    max_per_year_eur=15_000,
    char_limits={
        "abstract": 2_000,
        "history": 5_000,
        "programme": 15_000,
        "mobility_plan": 5_000,
        "ethics": 3_000,
    },
    required_attachments=DOCS,
    eligible_countries=("BR", "JP"),
    theme_ids=frozenset({3, 4}),
)
GDR = replace(LEA, instrument="gdre_gdri")


def codes(problems):
    return sorted(p.code for p in problems)


# --- completeness ---


def test_a_complete_proposal_misses_nothing_and_is_eligible():
    assert missing_items(COMPLETE, LEA) == []
    assert eligibility(COMPLETE, LEA).ok
    assert not eligibility(COMPLETE, LEA).country_flagged


@pytest.mark.parametrize(
    "change, code, detail",
    [
        ({"title": "  "}, "field_missing", {"field": "title"}),
        ({"abstract_en": ""}, "field_missing", {"field": "abstract_en"}),
        ({"co_coordinator_email": ""}, "field_missing", {"field": "co_coordinator_email"}),
        ({"programme": ""}, "field_missing", {"field": "programme"}),
        ({"ethics": ""}, "field_missing", {"field": "ethics"}),
        ({"theme_id": None}, "theme_missing", {}),
        ({"duration_years": None}, "duration_missing", {}),
        ({"teams": (BRAZIL,)}, "inserm_team_missing", {}),
        ({"teams": (INSERM,)}, "foreign_team_missing", {}),
        (
            {"teams": (replace(INSERM, unit_code=""), BRAZIL)},
            "team_incomplete",
            {"n": 1, "fields": "unit_code"},
        ),
        (
            {"teams": (INSERM, replace(BRAZIL, leader_email="", laboratory=""))},
            "team_incomplete",
            {"n": 2, "fields": "laboratory, leader_email"},
        ),
        ({"budget": ()}, "budget_missing", {}),
        ({"budget": (BudgetLine(1, "mobility", 0, partner_cash_eur=500),)}, "budget_missing", {}),
        (
            {"attachment_codes": frozenset({"cv_coordinator"})},
            "attachment_missing",
            {"code": "support_letter"},
        ),
    ],
)
def test_each_missing_item_is_named(change, code, detail):
    problems = missing_items(replace(COMPLETE, **change), LEA)
    assert [p.code for p in problems] == [code]
    assert {k: problems[0].params[k] for k in detail} == detail


def test_every_missing_item_is_listed_at_once():
    empty = ProposalContent(stage=STAGE_FULL)
    found = codes(missing_items(empty, LEA))
    assert found.count("field_missing") == 11
    assert {
        "theme_missing",
        "duration_missing",
        "inserm_team_missing",
        "foreign_team_missing",
        "budget_missing",
        "attachment_missing",
    } <= set(found)


def test_a_letter_of_intent_needs_no_texts_budget_or_documents():
    loi = replace(
        COMPLETE,
        stage=STAGE_LOI,
        programme="",
        ethics="",
        history="",
        mobility_plan="",
        keywords="",
        budget=(),
        attachment_codes=frozenset(),
        theme_id=None,
    )
    assert missing_items(loi, LEA) == []
    assert eligibility(loi, LEA).ok
    assert codes(missing_items(replace(loi, acronym=""), LEA)) == ["field_missing"]


def test_a_call_without_themes_needs_no_theme():
    assert missing_items(replace(COMPLETE, theme_id=None), replace(LEA, theme_ids=frozenset())) == []


# --- eligibility ---


@pytest.mark.parametrize(
    "call, teams, expected",
    [
        (LEA, (INSERM, BRAZIL), []),
        (LEA, (INSERM, FRENCH, BRAZIL), ["french_teams_exactly"]),
        (LEA, (INSERM, BRAZIL, replace(BRAZIL, laboratory="Lab D")), ["foreign_teams_exactly"]),
        (LEA, (replace(INSERM, is_inserm=False), BRAZIL), ["inserm_teams_count"]),
        (GDR, (INSERM, FRENCH, BRAZIL), []),
        (GDR, (INSERM, BRAZIL), ["french_teams_at_least"]),
        (GDR, (INSERM, FRENCH), ["foreign_teams_at_least"]),
        (GDR, (INSERM, replace(FRENCH, authority=" "), BRAZIL), ["authority_missing"]),
    ],
)
def test_team_shapes(call, teams, expected):
    found = eligibility(replace(COMPLETE, teams=teams), call)
    assert codes(found.problems) == expected


@pytest.mark.parametrize(
    "policy, country, ok, flagged",
    [
        (CountryPolicy.REFUSE, "BR", True, False),
        (CountryPolicy.REFUSE, "us", False, False),
        (CountryPolicy.FLAG, "US", True, True),
        (CountryPolicy.FLAG, "jp", True, False),
    ],
)
def test_partner_countries_follow_the_call_policy(policy, country, ok, flagged):
    content = replace(COMPLETE, teams=(INSERM, replace(BRAZIL, country_code=country)))
    found = eligibility(content, replace(LEA, country_policy=policy))
    assert found.ok is ok
    assert found.country_flagged is flagged
    if not ok:
        assert found.problems[0].code == "country_not_eligible"
        assert found.problems[0].params["country"] == country.upper()


@pytest.mark.parametrize(
    "change, code",
    [
        ({"teams": (replace(INSERM, leader_permanent=False), BRAZIL)}, "coordinator_not_permanent"),
        ({"abstract_fr": "x" * 2_001}, "text_too_long"),
        ({"programme": "x" * 15_001}, "text_too_long"),
        ({"duration_years": 5}, "duration_too_long"),
        ({"theme_id": 99}, "theme_not_eligible"),
        ({"co_coordinator_email": "claire@INSERM.fr"}, "co_coordinator_is_coordinator"),
        ({"co_coordinator_email": "not an address"}, "co_coordinator_email_invalid"),
        ({"budget": budget(((10_000, 6_000),))}, "budget_above_max"),
        ({"budget": budget(((9_000, 4_000),))}, "budget_cap"),
        ({"budget": (*budget(), BudgetLine(1, "salaries", 1_000))}, "budget_salaries"),
        ({"budget": (*budget(), BudgetLine(5, "mobility", 1_000))}, "budget_year_outside"),
    ],
)
def test_each_condition_is_checked(change, code):
    found = eligibility(replace(COMPLETE, **change), LEA)
    assert code in codes(found.problems), found.problems


def test_text_limits_count_characters_not_bytes_and_the_limit_itself_is_accepted():
    at_limit = replace(COMPLETE, abstract_fr="é" * 2_000, ethics="ü" * 3_000)
    assert eligibility(at_limit, LEA).ok


def test_salaries_are_accepted_where_the_call_allows_them():
    content = replace(COMPLETE, budget=(*budget(((8_000, 1_000),)), BudgetLine(1, "salaries", 1_000)))
    call = replace(LEA, salaries_allowed=True, non_mobility_cap_pct=None)
    assert eligibility(content, call).ok
    assert "salaries" in call.categories
    assert "salaries" not in LEA.categories


def test_the_budget_is_not_checked_for_a_letter_of_intent():
    loi = replace(COMPLETE, stage=STAGE_LOI, budget=budget(((40_000, 40_000),)))
    assert eligibility(loi, LEA).ok


team_strategy = st.builds(
    TeamContent,
    is_inserm=st.booleans(),
    country_code=st.sampled_from(["FR", "BR", "JP"]),
    authority=st.sampled_from(["", "CNRS"]),
)
line_strategy = st.builds(
    BudgetLine,
    year=st.integers(1, 5),
    category=st.sampled_from(["mobility", "meetings", "other", "salaries"]),
    amount_eur=st.integers(0, 12_000),
    partner_cash_eur=st.integers(0, 3),
)


@settings(max_examples=150, deadline=None)
@given(teams=st.lists(team_strategy, max_size=5), instrument=st.sampled_from(["lea_lia", "gdre_gdri"]))
def test_team_problems_agree_with_check_team_shape(teams, instrument):
    shape_codes = {
        "french_teams_exactly",
        "french_teams_at_least",
        "french_teams_at_most",
        "foreign_teams_exactly",
        "foreign_teams_at_least",
        "foreign_teams_at_most",
        "inserm_teams_count",
        "authority_missing",
    }
    content = replace(COMPLETE, teams=tuple(teams))
    ours = [
        p for p in eligibility(content, replace(LEA, instrument=instrument)).problems if p.code in shape_codes
    ]
    theirs = check_team_shape(instrument, [t.facts for t in teams])
    assert bool(ours) == bool(theirs)
    assert len(ours) == len(theirs)


@settings(max_examples=150, deadline=None)
@given(
    lines=st.lists(line_strategy, min_size=1, max_size=8, unique_by=lambda line: (line.year, line.category))
)
def test_budget_problems_agree_with_check_budget(lines):
    ours = [
        p
        for p in eligibility(replace(COMPLETE, budget=tuple(lines)), LEA).problems
        if p.code.startswith("budget")
    ]
    # Two deliberate differences: an empty budget is a missing item (not a broken rule), and an
    # empty cell beyond the project's years is ignored rather than refused.
    relevant = [line for line in lines if line.amount_eur or 1 <= line.year <= 4]
    assume(relevant)
    theirs = check_budget(relevant, BudgetRules(max_per_year_eur=15_000, duration_years=4))
    assert bool(ours) == bool(theirs), (ours, theirs)


def test_the_annual_request_is_the_largest_year():
    assert requested_annual_eur(budget(((10_000, 2_000), (13_000, 2_000)))) == 15_000
    assert requested_annual_eur(()) == 0


# --- time ---

LOI_DEADLINE = datetime(2027, 4, 1, 15, 0, tzinfo=UTC)
CLOSES = datetime(2027, 6, 15, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "stage, two_stage, rolling, expected",
    [
        (STAGE_FULL, False, False, CLOSES),
        (STAGE_LOI, True, False, LOI_DEADLINE),
        (STAGE_FULL, True, False, CLOSES),
        (STAGE_FULL, False, True, None),
    ],
)
def test_the_deadline_of_each_stage(stage, two_stage, rolling, expected):
    assert (
        stage_deadline(
            stage=stage,
            two_stage=two_stage,
            is_rolling=rolling,
            closes_at=None if rolling else CLOSES,
            loi_deadline_at=LOI_DEADLINE,
        )
        == expected
    )


@pytest.mark.parametrize(
    "offset, grace, editable",
    [
        (timedelta(seconds=-1), timedelta(0), True),
        (timedelta(0), timedelta(0), True),
        (timedelta(seconds=1), timedelta(0), False),
        (timedelta(minutes=10), timedelta(minutes=10), True),
        (timedelta(minutes=10, seconds=1), timedelta(minutes=10), False),
    ],
)
def test_a_draft_changes_until_the_deadline_and_its_grace(offset, grace, editable):
    found = facts(
        now=CLOSES + offset,
        stage=STAGE_FULL,
        two_stage=False,
        is_rolling=False,
        closes_at=CLOSES,
        loi_deadline_at=None,
        grace=grace,
    )
    assert may_change(ProposalState.DRAFT, found) is editable
    assert may_change(ProposalState.SUBMITTED, found) is False


def test_a_rolling_draft_always_changes():
    found = facts(
        now=CLOSES + timedelta(days=999),
        stage=STAGE_FULL,
        two_stage=False,
        is_rolling=True,
        closes_at=None,
        loi_deadline_at=None,
    )
    assert may_change("draft", found)


@pytest.mark.parametrize(
    "now, two_stage, expected",
    [
        (LOI_DEADLINE - timedelta(days=1), False, STAGE_FULL),
        (LOI_DEADLINE - timedelta(days=1), True, STAGE_LOI),
        (LOI_DEADLINE, True, STAGE_LOI),
        (LOI_DEADLINE + timedelta(seconds=1), True, None),
    ],
)
def test_the_stage_a_new_proposal_starts_in(now, two_stage, expected):
    assert start_stage(now, two_stage=two_stage, loi_deadline_at=LOI_DEADLINE) == expected


def test_naive_times_are_refused():
    with pytest.raises(NaiveDatetimeError):
        start_stage(datetime(2027, 1, 1), two_stage=True, loi_deadline_at=LOI_DEADLINE)  # noqa: DTZ001


# --- references, file names, fingerprints ---


def test_references():
    assert reference_prefix("lea_lia", 2027) == "LEA-2027-"
    assert reference_prefix("gdre_gdri", 2028) == "GDR-2028-"
    assert proposal_reference("lea_lia", 2027, 42) == "LEA-2027-0042"
    assert (
        next_reference_number(
            ["LEA-2027-0007", "LEA-2027-T0001", "GDR-2027-0099", "LEA-2027-0003"], "LEA-2027-"
        )
        == 8
    )
    assert next_reference_number([], "LEA-2027-") == 1
    assert receipt_reference("LEA-2027-0042", 2) == "REC-LEA-2027-0042-2"
    with pytest.raises(ValueError):
        proposal_reference("lea_lia", 2027, 0)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("cv.pdf", "cv.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\x\\cv final.pdf", "cv final.pdf"),
        ("cv\u202efdp.exe", "cvfdp.exe"),
        ("lettre\u200b de soutien.pdf", "lettre de soutien.pdf"),
        ("a\x00b\nc.pdf", "abc.pdf"),
        ("...hidden.pdf", "hidden.pdf"),
        ("", "document.pdf"),
        ("/", "document.pdf"),
        ("Été 2027.pdf", "Été 2027.pdf"),
    ],
)
def test_file_names_are_cleaned_for_display(raw, expected):
    assert clean_filename(raw) == expected


def test_long_file_names_keep_their_extension():
    name = clean_filename("x" * 300 + ".pdf")
    assert len(name) == 120 and name.endswith(".pdf")


def test_the_fingerprint_ignores_key_order_and_sees_every_character():
    a = {"title": "Été", "teams": [{"x": 1, "y": 2}]}
    b = {"teams": [{"y": 2, "x": 1}], "title": "Été"}
    assert fingerprint(a) == fingerprint(b)
    assert len(fingerprint(a)) == 64
    assert fingerprint(a) != fingerprint({**a, "title": "Ete"})
