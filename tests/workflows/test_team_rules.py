"""Team shapes per instrument and partner countries."""

from __future__ import annotations

import pytest

from workflows.errors import RuleError
from workflows.teams import TeamFacts, check_countries, check_team_shape

INSERM = TeamFacts(is_french=True, is_inserm=True, country_code="FR", has_authority=True)
FRENCH_UNI = TeamFacts(is_french=True, is_inserm=False, country_code="FR", has_authority=True)
US = TeamFacts(is_french=False, is_inserm=False, country_code="US", has_authority=True)
JP = TeamFacts(is_french=False, is_inserm=False, country_code="JP", has_authority=True)
BR_NO_AUTHORITY = TeamFacts(False, False, "BR", has_authority=False)
FRENCH_NO_AUTHORITY = TeamFacts(True, False, "FR", has_authority=False)


@pytest.mark.parametrize(
    "instrument, teams, problems",
    [
        ("lea_lia", [INSERM, US], []),
        ("lea_lia", [US, INSERM], []),
        (
            "lea_lia",
            [],
            [
                "LEA / LIA needs exactly 1 French team; has 0.",
                "LEA / LIA needs exactly 1 foreign team; has 0.",
                "LEA / LIA needs at least 1 Inserm team; has 0.",
            ],
        ),
        ("lea_lia", [INSERM], ["LEA / LIA needs exactly 1 foreign team; has 0."]),
        ("lea_lia", [INSERM, US, JP], ["LEA / LIA needs exactly 1 foreign team; has 2."]),
        ("lea_lia", [INSERM, INSERM, US], ["LEA / LIA needs exactly 1 French team; has 2."]),
        ("lea_lia", [FRENCH_UNI, US], ["LEA / LIA: the French team must be an Inserm team."]),
        # LEA/LIA do not need authorities: no committees.
        ("lea_lia", [INSERM, BR_NO_AUTHORITY], []),
        ("gdre_gdri", [INSERM, FRENCH_UNI, US], []),
        ("gdre_gdri", [INSERM, INSERM, FRENCH_UNI, US, JP], []),
        ("gdre_gdri", [INSERM, US], ["GDRE / GDRI needs at least 2 French teams; has 1."]),
        ("gdre_gdri", [INSERM, FRENCH_UNI], ["GDRE / GDRI needs at least 1 foreign team; has 0."]),
        (
            "gdre_gdri",
            [FRENCH_UNI, FRENCH_UNI, US],
            ["GDRE / GDRI needs at least 1 Inserm team; has 0."],
        ),
        (
            "gdre_gdri",
            [INSERM, FRENCH_NO_AUTHORITY, BR_NO_AUTHORITY],
            [
                "Team 2 (FR) must name its authority (tutelle).",
                "Team 3 (BR) must name its authority (tutelle).",
            ],
        ),
        ("ume_umi", [INSERM, US], []),
        ("ume_umi", [INSERM], ["UME / UMI needs at least 1 foreign team; has 0."]),
        ("cooperation_agreement", [INSERM, JP], []),
        (
            "cooperation_agreement",
            [INSERM, JP, US],
            ["Cooperation agreement needs exactly 1 foreign team; has 2."],
        ),
    ],
)
def test_team_shape(instrument, teams, problems):
    assert check_team_shape(instrument, teams) == problems


def test_a_foreign_team_cannot_sit_in_france():
    odd = TeamFacts(is_french=False, is_inserm=False, country_code="fr", has_authority=True)
    assert check_team_shape("lea_lia", [INSERM, odd]) == [
        "Team 2 (fr) is a foreign team located in France."
    ]


def test_unknown_instrument():
    with pytest.raises(RuleError, match="Unknown instrument"):
        check_team_shape("erc", [INSERM, US])


@pytest.mark.parametrize(
    "teams, eligible, problems",
    [
        ([INSERM, US], {"US", "JP"}, []),
        ([INSERM, US], ["us"], []),
        ([INSERM, US, BR_NO_AUTHORITY], {"US", "JP"}, [
            "Team 3 is in BR, which this call does not cover."
        ]),
        ([INSERM, US], None, []),
        ([INSERM, US, JP], set(), [
            "Team 2 is in US, which this call does not cover.",
            "Team 3 is in JP, which this call does not cover.",
        ]),
        ([INSERM], set(), []),  # French teams are not checked against the partner countries
        ([INSERM, TeamFacts(False, False, " jp ", True)], {"JP"}, []),
        ([INSERM, TeamFacts(False, False, "USA", True)], None, [
            "Team 2 has no valid country code ('USA')."
        ]),
        ([INSERM, TeamFacts(False, False, "", True)], {"US"}, [
            "Team 2 has no valid country code ('')."
        ]),
    ],
)  # fmt: skip
def test_countries(teams, eligible, problems):
    assert check_countries(teams, eligible) == problems
