"""Team shape and country rules of a proposal (DOMAIN.md sections 1 and 4)."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from workflows.instruments import Instrument, rules_for

_COUNTRY_CODE = re.compile(r"[A-Z]{2}")


@dataclass(frozen=True)
class TeamFacts:
    """What the rules need to know about one team of a proposal.

    ``country_code`` is ISO 3166-1 alpha-2; ``has_authority`` means the team's supervising
    authority (tutelle) is named, which GDRE/GDRI need for their steering committee.
    """

    is_french: bool
    is_inserm: bool
    country_code: str
    has_authority: bool


def _n_teams(count: int, kind: str = "") -> str:
    kind = f"{kind} " if kind else ""
    return f"{count} {kind}team{'' if count == 1 else 's'}"


def _count_problem(kind: str, count: int, low: int, high: int | None, label: str) -> str | None:
    if low == high and count != low:
        return f"{label} needs exactly {_n_teams(low, kind)}; has {count}."
    if count < low:
        return f"{label} needs at least {_n_teams(low, kind)}; has {count}."
    if high is not None and count > high:
        return f"{label} allows at most {_n_teams(high, kind)}; has {count}."
    return None


def _describe(index: int, team: TeamFacts) -> str:
    return f"Team {index} ({team.country_code or 'no country'})"


def check_team_shape(instrument: Instrument | str, teams: Sequence[TeamFacts]) -> list[str]:
    """How the teams break the instrument's shape, in plain English (empty list: they fit).

    LEA/LIA: exactly one Inserm team and one foreign team. GDRE/GDRI: at least two French teams
    and one foreign team, each naming its authority (the steering committee is made of one
    representative per authority). The counts come from `workflows.instruments.RULES`.
    """
    rules = rules_for(instrument)
    label = rules.short_label_en
    french = [t for t in teams if t.is_french]
    foreign = [t for t in teams if not t.is_french]
    inserm = [t for t in teams if t.is_inserm]
    problems = [
        p
        for p in (
            _count_problem(
                "French", len(french), rules.min_french_teams, rules.max_french_teams, label
            ),
            _count_problem(
                "foreign", len(foreign), rules.min_foreign_teams, rules.max_foreign_teams, label
            ),
        )
        if p
    ]
    if len(inserm) < rules.min_inserm_teams:
        if rules.max_french_teams == 1 and len(french) == 1:
            problems.append(f"{label}: the French team must be an Inserm team.")
        else:
            problems.append(
                f"{label} needs at least {_n_teams(rules.min_inserm_teams, 'Inserm')}; "
                f"has {len(inserm)}."
            )
    for index, team in enumerate(teams, start=1):
        if not team.is_french and team.country_code.strip().upper() == "FR":
            problems.append(f"{_describe(index, team)} is a foreign team located in France.")
        if rules.requires_committees and not team.has_authority:
            problems.append(f"{_describe(index, team)} must name its authority (tutelle).")
    return problems


def check_countries(
    teams: Sequence[TeamFacts], eligible_country_codes: Collection[str] | None
) -> list[str]:
    """Which foreign teams sit in a country the call does not cover (empty list: all do).

    ``eligible_country_codes`` ``None`` means the call is open to every country; an empty
    collection means none is eligible. Codes are compared case-insensitively. French teams are
    not checked: the call's countries are those of the partners.
    """
    eligible = (
        None
        if eligible_country_codes is None
        else {c.strip().upper() for c in eligible_country_codes}
    )
    problems: list[str] = []
    for index, team in enumerate(teams, start=1):
        if team.is_french:
            continue
        code = team.country_code.strip().upper()
        if not _COUNTRY_CODE.fullmatch(code):
            problems.append(f"Team {index} has no valid country code ({team.country_code!r}).")
        elif eligible is not None and code not in eligible:
            problems.append(f"Team {index} is in {code}, which this call does not cover.")
    return problems
