"""Instrument defaults and roles, against DOMAIN.md sections 1 and 2."""

from __future__ import annotations

import pytest

from workflows.errors import RuleError
from workflows.instruments import CALL_INSTRUMENTS, RULES, Instrument, rules_for
from workflows.roles import ACCOUNT_ROLES, Role


def test_role_values():
    assert [r.value for r in Role] == [
        "applicant", "reviewer", "manager", "directorate", "admin", "system",
    ]  # fmt: skip
    assert [r.value for r in ACCOUNT_ROLES] == [
        "applicant", "reviewer", "manager", "directorate", "admin",
    ]  # fmt: skip
    assert Role.SYSTEM not in ACCOUNT_ROLES


def test_instrument_values_and_coverage():
    assert [i.value for i in Instrument] == [
        "lea_lia", "gdre_gdri", "ume_umi", "cooperation_agreement",
    ]  # fmt: skip
    assert set(RULES) == set(Instrument)


# instrument: duration, renewals, French min/max, foreign min/max, call, rolling, committees
EXPECTED = {
    "lea_lia": (4, 1, 1, 1, 1, 1, True, False, False),
    "gdre_gdri": (4, 1, 2, None, 1, None, True, True, True),
    "ume_umi": (5, 2, 1, None, 1, None, False, False, False),
    "cooperation_agreement": (5, 1, 1, 1, 1, 1, False, False, False),
}


@pytest.mark.parametrize("instrument, expected", EXPECTED.items())
def test_rules_match_the_domain(instrument, expected):
    r = rules_for(instrument)
    assert (
        r.duration_years, r.max_renewals, r.min_french_teams, r.max_french_teams,
        r.min_foreign_teams, r.max_foreign_teams, r.has_call, r.rolling_call,
        r.requires_committees,
    ) == expected  # fmt: skip
    assert r.min_inserm_teams == 1
    assert not r.salaries_allowed
    assert r.non_mobility_cap_pct == 20


def test_amounts():
    lea, gdre, ume = (
        RULES[Instrument.LEA_LIA],
        RULES[Instrument.GDRE_GDRI],
        RULES[Instrument.UME_UMI],
    )
    assert (lea.default_annual_amount_eur, lea.default_max_annual_amount_eur) == (15_000, 15_000)
    assert gdre.default_annual_amount_eur is None
    assert (gdre.default_min_annual_amount_eur, gdre.default_max_annual_amount_eur) == (
        10_000,
        15_000,
    )
    assert ume.default_annual_amount_eur is None
    assert ume.default_max_annual_amount_eur is None


def test_call_instruments():
    assert CALL_INSTRUMENTS == (Instrument.LEA_LIA, Instrument.GDRE_GDRI)


def test_labels():
    lea = rules_for(Instrument.LEA_LIA)
    assert lea.label("fr") == lea.label_fr
    assert lea.label("fr_FR") == lea.label_fr
    assert lea.label("en") == lea.label_en
    assert lea.short_label_en == "LEA / LIA"
    assert rules_for("cooperation_agreement").short_label_en == "Cooperation agreement"
    assert all(r.label_en and r.label_fr for r in RULES.values())


def test_unknown_instrument():
    with pytest.raises(RuleError, match="Unknown instrument 'erc'"):
        rules_for("erc")
