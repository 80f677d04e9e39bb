"""Conflict detection and eligibility screening rules."""

from __future__ import annotations

import pytest

from workflows.calls import CountryPolicy
from workflows.conflicts import (
    CONFLICT_KINDS,
    ConflictKind,
    DetectedReason,
    ProposalFacts,
    ReviewerFacts,
    TeamFacts,
    detect_conflicts,
    email_domain,
    is_conflicted,
    normalise,
    same_domain,
)
from workflows.money import BudgetLine, BudgetRules
from workflows.screening import (
    CHECKLIST_CODES,
    automatic_problems,
    eligible_problems,
    ineligible_problems,
)
from workflows.teams import TeamFacts as ShapeFacts

PROPOSAL = ProposalFacts(
    teams=(
        TeamFacts("Claire Martin", "claire.martin@inserm.fr", None, "Inserm", "", "U1234"),
        TeamFacts("Joana Silva", "joana.silva@usp.br", 7, "Universidade de São Paulo", "usp.br"),
    ),
    people_emails=("claire.martin@inserm.fr", "joana.silva@usp.br"),
    people_names=("Claire Martin", "Joana Silva"),
    texts=(
        "Joint publications: Silva J, Tanaka H, Martin C (2024). Cell 12:3.",
        "We thank Prof. Hiro Tanaka for his advice.",
    ),
)


@pytest.mark.parametrize(
    "reviewer, reasons",
    [
        # A reviewer with nothing in common.
        (ReviewerFacts("anna.berg@ki.se", "Anna", "Berg", 3, "Karolinska Institutet"), []),
        # Same institution, by id or by name (accents and case do not matter).
        (ReviewerFacts("x@other.org", "Ana", "Souza", 7, ""), [DetectedReason.SAME_INSTITUTION]),
        (
            ReviewerFacts("x@other.org", "Ana", "Souza", None, "UNIVERSIDADE DE SAO PAULO"),
            [DetectedReason.SAME_INSTITUTION],
        ),
        # Same e-mail domain as a team leader, or a subdomain of it.
        (ReviewerFacts("ana.souza@usp.br", "Ana", "Souza"), [DetectedReason.SAME_EMAIL_DOMAIN]),
        (ReviewerFacts("ana.souza@fm.usp.br", "Ana", "Souza"), [DetectedReason.SAME_EMAIL_DOMAIN]),
        # Inserm is an umbrella: another Inserm unit is no conflict, the same unit is.
        (ReviewerFacts("paul.bernard@inserm.fr", "Paul", "Bernard", None, "Inserm", "", "U999"), []),
        (
            ReviewerFacts("paul.bernard@inserm.fr", "Paul", "Bernard", None, "Inserm", "", "u1234"),
            [DetectedReason.SAME_INSTITUTION],
        ),
        # Public webmail is no sign of anything.
        (ReviewerFacts("someone@gmail.com", "Some", "One"), []),
        # Named in the proposal: as a leader, by e-mail, or in its text (either name order).
        (
            ReviewerFacts("joana.silva@usp.br", "Joana", "Silva"),
            [DetectedReason.SAME_EMAIL_DOMAIN, DetectedReason.NAMED_IN_PROPOSAL],
        ),
        (ReviewerFacts("h.tanaka@u-tokyo.ac.jp", "Hiro", "Tanaka"), [DetectedReason.NAMED_IN_PROPOSAL]),
        (ReviewerFacts("c.martin@pasteur.fr", "Claire", "MARTIN"), [DetectedReason.NAMED_IN_PROPOSAL]),
        # A surname alone does not count (too many false alarms).
        (ReviewerFacts("k.tanaka@kyoto-u.ac.jp", "Kenji", "Tanaka"), []),
    ],
)
def test_detect_conflicts(reviewer, reasons):
    assert [c.reason for c in detect_conflicts(reviewer, PROPOSAL)] == reasons
    assert all(c.message for c in detect_conflicts(reviewer, PROPOSAL))


def test_helpers():
    assert normalise("  Université  PARIS-Cité ") == "universite paris cite"
    assert email_domain("A@Inserm.FR") == "inserm.fr"
    assert email_domain("nobody") == ""
    assert same_domain("u-paris.fr", "med.u-paris.fr")
    assert not same_domain("u-paris.fr", "paris.fr.example")
    assert not same_domain("gmail.com", "gmail.com")
    assert not same_domain("inserm.fr", "inserm.fr")


@pytest.mark.parametrize(
    "declared, detected, expected",
    [
        (None, [], False),
        ("none", [], False),
        ("coauthor_5y", [], True),
        (None, detect_conflicts(ReviewerFacts("a@usp.br"), PROPOSAL), True),
    ],
)
def test_is_conflicted(declared, detected, expected):
    assert is_conflicted(declared, detected) is expected


def test_conflict_kinds():
    assert [k.value for k in CONFLICT_KINDS] == [
        "same_institution",
        "coauthor_5y",
        "supervisor_student",
        "personal",
        "other",
    ]
    assert ConflictKind.NONE not in CONFLICT_KINDS


# --- screening --------------------------------------------------------------------------------

LEA_TEAMS = [ShapeFacts(True, True, "FR", True), ShapeFacts(False, False, "BR", True)]
RULES = BudgetRules(max_per_year_eur=15_000, duration_years=4)
GOOD_BUDGET = [BudgetLine(y, "mobility", 12_000) for y in range(1, 5)]


@pytest.mark.parametrize(
    "teams, budget, policy, problems, warnings",
    [
        (LEA_TEAMS, GOOD_BUDGET, "refuse", 0, 0),
        (LEA_TEAMS[:1], GOOD_BUDGET, "refuse", 1, 0),  # LEA needs a foreign team
        (LEA_TEAMS, [BudgetLine(1, "mobility", 20_000)], "refuse", 1, 0),  # above the annual max
        ([LEA_TEAMS[0], ShapeFacts(False, False, "US", True)], GOOD_BUDGET, "refuse", 1, 0),
        ([LEA_TEAMS[0], ShapeFacts(False, False, "US", True)], GOOD_BUDGET, "flag", 0, 1),
    ],
)
def test_automatic_problems(teams, budget, policy, problems, warnings):
    found, flagged = automatic_problems("lea_lia", teams, budget, RULES, CountryPolicy(policy), ["BR", "JP"])
    assert (len(found), len(flagged)) == (problems, warnings)


def test_eligibility_needs_every_checklist_item_and_no_automatic_problem():
    everything = dict.fromkeys(CHECKLIST_CODES, True)
    assert eligible_problems([], everything) == []
    assert len(eligible_problems(["budget"], everything)) == 1
    missing_one = {**everything, "partner_cofunding": False}
    assert len(eligible_problems([], missing_one)) == 1
    assert len(eligible_problems([], {})) == len(CHECKLIST_CODES)


@pytest.mark.parametrize("reason, ok", [("", False), ("  short ", False), ("Out of the call's scope.", True)])
def test_ineligible_needs_a_reason(reason, ok):
    assert (ineligible_problems(reason) == []) is ok
