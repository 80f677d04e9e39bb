"""Eligibility screening of a submitted proposal (DOMAIN.md sections 4 and 5).

Two halves: the **automatic checks** (team shape, budget, partner countries: computed by
`automatic_problems` from `workflows.teams`, `workflows.money` and `workflows.calls`), and a
**manual checklist** a programme manager ticks after reading the proposal and its files
(`CHECKLIST`). A proposal may be marked eligible only when the automatic checks pass and every
checklist item is ticked (`eligible_problems`); marking it ineligible needs a reason, which the
applicant is told.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from workflows.calls import CountryPolicy, country_check
from workflows.instruments import Instrument
from workflows.money import BudgetLine, BudgetRules, check_budget
from workflows.teams import TeamFacts, check_team_shape

MIN_REASON_CHARS = 10


@dataclass(frozen=True)
class ChecklistItem:
    code: str
    label_en: str
    label_fr: str


#: What a programme manager checks by hand [default].
CHECKLIST: tuple[ChecklistItem, ...] = (
    ChecklistItem(
        "coordinator_permanent",
        "The Inserm coordinator holds a permanent position in an Inserm unit (unit code given).",
        "Le coordinateur Inserm occupe un poste permanent dans une unité Inserm (code d'unité indiqué).",
    ),
    ChecklistItem(
        "attachments_readable",
        "The required attachments are present, readable and are what they claim to be.",
        "Les pièces jointes obligatoires sont présentes, lisibles et conformes à leur intitulé.",
    ),
    ChecklistItem(
        "partner_cofunding",
        "The partner institution's letter of support attests its co-funding.",
        "La lettre de soutien de l'institution partenaire atteste son cofinancement.",
    ),
    ChecklistItem(
        "director_endorsement",
        "The unit director has endorsed the proposal.",
        "Le directeur d'unité a donné son avis favorable.",
    ),
    ChecklistItem(
        "scope",
        "The proposal fits the call's themes and its instrument.",
        "La proposition relève des thèmes de l'appel et de son instrument.",
    ),
)

CHECKLIST_CODES: tuple[str, ...] = tuple(item.code for item in CHECKLIST)


def automatic_problems(
    instrument: Instrument | str,
    teams: Sequence[TeamFacts],
    budget: Sequence[BudgetLine],
    rules: BudgetRules,
    country_policy: CountryPolicy | str,
    eligible_countries: Collection[str],
) -> tuple[list[str], list[str]]:
    """``(problems, warnings)`` of the automatic checks, in plain English.

    Problems block eligibility: the team shape of the instrument, the budget rules, a partner
    country outside the call under the "refuse" policy. Warnings do not: a partner country
    outside the call under the "flag" policy, for the manager's attention.
    """
    problems = list(check_team_shape(instrument, teams))
    problems.extend(check_budget(budget, rules))
    warnings: list[str] = []
    for index, team in enumerate(teams, start=1):
        if team.is_french:
            continue
        ok, flagged = country_check(country_policy, team.country_code, eligible_countries)
        if not ok:
            problems.append(f"Team {index} is in {team.country_code or '?'}, which this call does not cover.")
        elif flagged:
            warnings.append(
                f"Team {index} is in {team.country_code or '?'}, outside the call's countries (flagged)."
            )
    return problems, warnings


def eligible_problems(automatic: Sequence[str], checklist: Mapping[str, bool]) -> list[str]:
    """Why a proposal cannot be marked eligible yet (empty list: it can)."""
    problems = [f"Automatic check: {p}" for p in automatic]
    missing = [item for item in CHECKLIST if not checklist.get(item.code)]
    problems.extend(f"Checklist item not confirmed: {item.label_en}" for item in missing)
    return problems


def ineligible_problems(reason: str, *, min_chars: int = MIN_REASON_CHARS) -> list[str]:
    """Why a proposal cannot be marked ineligible with this reason (empty list: it can)."""
    if len((reason or "").strip()) < min_chars:
        return [f"Give the applicant a reason of at least {min_chars} characters."]
    return []
