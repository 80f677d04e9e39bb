"""Budget rules over whole euros."""

from __future__ import annotations

import pytest

from workflows.errors import RuleError
from workflows.money import BudgetLine, BudgetRules, BudgetTotals, check_budget, format_eur, totals

LEA = BudgetRules(max_per_year_eur=15_000, duration_years=4)


def year_lines(year: int, mobility: int, meetings: int = 0, other: int = 0) -> list[BudgetLine]:
    lines = [BudgetLine(year, "mobility", mobility)]
    if meetings:
        lines.append(BudgetLine(year, "meetings", meetings))
    if other:
        lines.append(BudgetLine(year, "other", other))
    return lines


def test_a_valid_four_year_budget_has_no_problem():
    lines = [line for y in range(1, 5) for line in year_lines(y, 12_000, 2_000, 1_000)]
    assert check_budget(lines, LEA) == []


@pytest.mark.parametrize(
    "lines, problems",
    [
        ([], ["The budget is empty."]),
        (
            year_lines(1, 13_000, 2_001),
            ["Year 1 asks for €15,001, above the maximum of €15,000 a year."],
        ),
        (year_lines(1, 15_000), []),
        (
            [BudgetLine(0, "mobility", 100), BudgetLine(5, "mobility", 100)],
            [
                "Year 0 is outside the project's 4 years (1 to 4).",
                "Year 5 is outside the project's 4 years (1 to 4).",
            ],
        ),
        (
            [BudgetLine(1, "mobility", 10_000), BudgetLine(1, "salaries", 1)],
            ["Salaries are not an eligible expense (year 1: €1)."],
        ),
        ([BudgetLine(1, "mobility", 10_000), BudgetLine(1, "salaries", 0)], []),
        (
            [BudgetLine(1, "mobility", -5)],
            ["The amount cannot be negative (year 1, mobility: -€5)."],
        ),
        (
            [BudgetLine(1, "mobility", 100, partner_cash_eur=-1, partner_in_kind_eur=-2)],
            [
                "The partner cash contribution cannot be negative (year 1, mobility: -€1).",
                "The partner in-kind contribution cannot be negative (year 1, mobility: -€2).",
            ],
        ),
        (
            [BudgetLine(1, "mobility", 100), BudgetLine(1, "caviar", 1)],
            ["Unknown budget category 'caviar' (year 1)."],
        ),
        # Non-mobility share: exactly 20 % is allowed, one euro more is not.
        (year_lines(2, 12_000, 3_000), []),
        (year_lines(2, 8_000, 1_000, 1_000), []),
        (
            year_lines(2, 11_999, 3_001),
            ["Year 2: costs other than mobility are €3,001 of €15,000, above the 20% cap."],
        ),
        (
            [BudgetLine(3, "meetings", 500)],
            ["Year 3: costs other than mobility are €500 of €500, above the 20% cap."],
        ),
    ],
)
def test_budget_problems(lines, problems):
    assert check_budget(lines, LEA) == problems


def test_cap_is_checked_per_year_not_over_the_whole_budget():
    # Year 1 is all mobility, year 2 breaks the cap: the overall share (25 %) would hide nothing,
    # but year 2 alone (50 %) must be reported.
    lines = year_lines(1, 10_000) + year_lines(2, 5_000, 5_000)
    assert check_budget(lines, LEA) == [
        "Year 2: costs other than mobility are €5,000 of €10,000, above the 20% cap."
    ]


def test_several_lines_of_a_year_add_up_before_the_maximum():
    lines = [BudgetLine(1, "mobility", 8_000), BudgetLine(1, "mobility", 8_000)]
    assert check_budget(lines, LEA) == [
        "Year 1 asks for €16,000, above the maximum of €15,000 a year."
    ]


def test_salaries_allowed_still_count_as_non_mobility():
    rules = BudgetRules(15_000, 4, salaries_allowed=True)
    assert (
        check_budget([BudgetLine(1, "mobility", 8_000), BudgetLine(1, "salaries", 2_000)], rules)
        == []
    )
    assert check_budget([BudgetLine(1, "mobility", 7_000), BudgetLine(1, "salaries", 3_000)], rules)


def test_cap_can_be_lifted_or_tightened():
    lines = year_lines(1, 5_000, 5_000)
    assert check_budget(lines, BudgetRules(15_000, 4, non_mobility_cap_pct=None)) == []
    assert check_budget(year_lines(1, 5_000, 1), BudgetRules(15_000, 4, non_mobility_cap_pct=0))


def test_partner_contributions_are_not_capped():
    lines = [BudgetLine(1, "mobility", 15_000, partner_cash_eur=50_000, partner_in_kind_eur=9)]
    assert check_budget(lines, LEA) == []


def test_totals():
    lines = [
        BudgetLine(2, "meetings", 1_000, partner_cash_eur=500),
        BudgetLine(1, "mobility", 10_000, partner_in_kind_eur=2_000),
        BudgetLine(1, "meetings", 2_000, partner_cash_eur=1_000),
        BudgetLine(2, "mobility", 9_000),
    ]
    result = totals(lines)
    assert result == BudgetTotals(
        by_year={1: 12_000, 2: 10_000},
        by_category={"meetings": 3_000, "mobility": 19_000},
        by_year_category={1: {"meetings": 2_000, "mobility": 10_000},
                          2: {"meetings": 1_000, "mobility": 9_000}},
        total_eur=22_000,
        partner_cash_eur=1_500,
        partner_in_kind_eur=2_000,
    )  # fmt: skip
    assert list(result.by_year) == [1, 2]
    assert result.partner_total_eur == 3_500
    assert totals([]).total_eur == 0


@pytest.mark.parametrize("amount", [1.5, "100", True, None])
def test_lines_take_whole_euros_only(amount):
    with pytest.raises(TypeError, match="whole euros"):
        BudgetLine(1, "mobility", amount)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_per_year_eur": -1, "duration_years": 4},
        {"max_per_year_eur": 1, "duration_years": 0},
        {"max_per_year_eur": 1, "duration_years": 4, "non_mobility_cap_pct": 101},
        {"max_per_year_eur": 1, "duration_years": 4, "non_mobility_cap_pct": -1},
    ],
)
def test_rules_validate_themselves(kwargs):
    with pytest.raises(ValueError):
        BudgetRules(**kwargs)


def test_rules_for_instrument():
    assert BudgetRules.for_instrument("lea_lia") == BudgetRules(15_000, 4, False, 20)
    assert BudgetRules.for_instrument("gdre_gdri") == BudgetRules(15_000, 4, False, 20)
    with pytest.raises(RuleError, match="set per agreement"):
        BudgetRules.for_instrument("ume_umi")


@pytest.mark.parametrize(
    "amount, text", [(0, "€0"), (15_000, "€15,000"), (1_234_567, "€1,234,567"), (-5, "-€5")]
)
def test_format_eur(amount, text):
    assert format_eur(amount) == text
