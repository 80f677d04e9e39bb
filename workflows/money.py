"""Budget rules over whole euros (DOMAIN.md sections 3 and 4).

Money is ``int`` euros throughout: no floats, so totals and caps never drift by a cent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from workflows.errors import RuleError
from workflows.instruments import Instrument, rules_for


class BudgetCategory(StrEnum):
    """A budget category. Salaries exist only to be recognised and refused where not eligible."""

    MOBILITY = "mobility"
    MEETINGS = "meetings"
    OTHER = "other"
    SALARIES = "salaries"


CATEGORIES: frozenset[str] = frozenset(BudgetCategory)


def _require_int(value: object, name: str) -> None:
    # bool is an int subclass; True euros is a bug, not an amount.
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be whole euros (int), not {type(value).__name__}.")


@dataclass(frozen=True)
class BudgetLine:
    """One requested amount for a project year (1-based) and category, with the partner's share.

    ``amount_eur`` is what is asked of Inserm; the partner contribution (cash or in kind) is
    reported beside it and is not subject to the Inserm caps.
    """

    year: int
    category: str
    amount_eur: int
    partner_cash_eur: int = 0
    partner_in_kind_eur: int = 0

    def __post_init__(self) -> None:
        for name in ("year", "amount_eur", "partner_cash_eur", "partner_in_kind_eur"):
            _require_int(getattr(self, name), name)


@dataclass(frozen=True)
class BudgetRules:
    """The call's limits on the Inserm amount: per year, duration, eligible expenses."""

    max_per_year_eur: int
    duration_years: int
    salaries_allowed: bool = False
    non_mobility_cap_pct: int | None = 20  # None: no cap

    def __post_init__(self) -> None:
        _require_int(self.max_per_year_eur, "max_per_year_eur")
        _require_int(self.duration_years, "duration_years")
        if self.max_per_year_eur < 0:
            raise ValueError("max_per_year_eur cannot be negative.")
        if self.duration_years < 1:
            raise ValueError("duration_years must be at least 1.")
        if self.non_mobility_cap_pct is not None and not 0 <= self.non_mobility_cap_pct <= 100:
            raise ValueError("non_mobility_cap_pct must be between 0 and 100.")

    @classmethod
    def for_instrument(cls, instrument: Instrument | str) -> BudgetRules:
        """The instrument's default budget rules, for a call that sets none of its own."""
        rules = rules_for(instrument)
        if rules.default_max_annual_amount_eur is None:
            raise RuleError(
                f"{rules.label_en} has no default annual maximum: it is set per agreement."
            )
        return cls(
            max_per_year_eur=rules.default_max_annual_amount_eur,
            duration_years=rules.duration_years,
            salaries_allowed=rules.salaries_allowed,
            non_mobility_cap_pct=rules.non_mobility_cap_pct,
        )


@dataclass(frozen=True)
class BudgetTotals:
    """Sums of a budget, for the proposal page, the decision letter and the agreement annex."""

    by_year: dict[int, int] = field(default_factory=dict)
    by_category: dict[str, int] = field(default_factory=dict)
    by_year_category: dict[int, dict[str, int]] = field(default_factory=dict)
    total_eur: int = 0
    partner_cash_eur: int = 0
    partner_in_kind_eur: int = 0

    @property
    def partner_total_eur(self) -> int:
        """The partner's whole contribution, cash and in kind."""
        return self.partner_cash_eur + self.partner_in_kind_eur


def totals(lines: Iterable[BudgetLine]) -> BudgetTotals:
    """Sum the Inserm amounts per year, per category and overall, and the partner's share.

    Years and categories come out sorted so tables render in a stable order.
    """
    by_year: dict[int, int] = {}
    by_category: dict[str, int] = {}
    by_year_category: dict[int, dict[str, int]] = {}
    cash = in_kind = 0
    for line in lines:
        by_year[line.year] = by_year.get(line.year, 0) + line.amount_eur
        by_category[line.category] = by_category.get(line.category, 0) + line.amount_eur
        cell = by_year_category.setdefault(line.year, {})
        cell[line.category] = cell.get(line.category, 0) + line.amount_eur
        cash += line.partner_cash_eur
        in_kind += line.partner_in_kind_eur
    return BudgetTotals(
        by_year=dict(sorted(by_year.items())),
        by_category=dict(sorted(by_category.items())),
        by_year_category={y: dict(sorted(c.items())) for y, c in sorted(by_year_category.items())},
        total_eur=sum(by_year.values()),
        partner_cash_eur=cash,
        partner_in_kind_eur=in_kind,
    )


def format_eur(amount: int) -> str:
    """Whole euros for an English message: 15000 -> "€15,000"."""
    sign = "-" if amount < 0 else ""
    return f"{sign}€{abs(amount):,}"


def check_budget(lines: Iterable[BudgetLine], rules: BudgetRules) -> list[str]:
    """Every way the budget breaks the call's rules, in plain English (empty list: it is fine).

    Checks each line (negative amounts, unknown category, year outside the project, salaries
    when not eligible), then each year (total above the annual maximum, non-mobility share above
    the cap). All problems are listed at once so the applicant can fix them in one pass.
    """
    lines = list(lines)
    if not lines:
        return ["The budget is empty."]
    problems: list[str] = []
    for line in lines:
        where = f"year {line.year}, {line.category}"
        for name, label in (
            ("amount_eur", "amount"),
            ("partner_cash_eur", "partner cash contribution"),
            ("partner_in_kind_eur", "partner in-kind contribution"),
        ):
            value = getattr(line, name)
            if value < 0:
                problems.append(f"The {label} cannot be negative ({where}: {format_eur(value)}).")
        if line.category not in CATEGORIES:
            problems.append(f"Unknown budget category '{line.category}' (year {line.year}).")
        if not 1 <= line.year <= rules.duration_years:
            problems.append(
                f"Year {line.year} is outside the project's {rules.duration_years} years "
                f"(1 to {rules.duration_years})."
            )
        is_salary = line.category == BudgetCategory.SALARIES
        if is_salary and line.amount_eur > 0 and not rules.salaries_allowed:
            problems.append(
                f"Salaries are not an eligible expense (year {line.year}: "
                f"{format_eur(line.amount_eur)})."
            )
    summed = totals(lines)
    for year, amount in summed.by_year.items():
        if amount > rules.max_per_year_eur:
            problems.append(
                f"Year {year} asks for {format_eur(amount)}, above the maximum of "
                f"{format_eur(rules.max_per_year_eur)} a year."
            )
        cap = rules.non_mobility_cap_pct
        if cap is None or amount <= 0:
            continue
        mobility = summed.by_year_category[year].get(BudgetCategory.MOBILITY, 0)
        non_mobility = amount - mobility
        # Integer comparison of shares: non_mobility / amount > cap / 100.
        if non_mobility * 100 > cap * amount:
            problems.append(
                f"Year {year}: costs other than mobility are {format_eur(non_mobility)} of "
                f"{format_eur(amount)}, above the {cap}% cap."
            )
    return problems
