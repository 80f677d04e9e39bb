"""Scoring rules: weighted totals, review checks, statistics, thresholds, grades, consensus."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from workflows.calls import CriterionSpec, GradeBand, Grid, default_grid
from workflows.scoring import (
    DISAGREEMENT_GAP,
    MIN_COMMENT_CHARS,
    consensus_problems,
    grade,
    is_override,
    proposal_scores,
    review_problems,
    threshold_failures,
    to_decimal,
    weighted_total,
)


def grid(thresholds=None, overall=None, bands=None, scale=(1, 5)) -> Grid:
    thresholds = thresholds or {}
    return Grid(
        criteria=(
            CriterionSpec("C1", "Excellence", "Excellence", 50, threshold=thresholds.get("C1")),
            CriterionSpec("C2", "Équipes", "Teams", 30, threshold=thresholds.get("C2")),
            CriterionSpec("C3", "Budget", "Budget", 20, threshold=thresholds.get("C3")),
        ),
        scale_min=scale[0],
        scale_max=scale[1],
        overall_threshold=overall,
        grade_bands=bands
        or (GradeBand("A+", 4.5), GradeBand("A", 4.0), GradeBand("B", 3.0), GradeBand("C", 1.0)),
        tie_break=("C1", "C2"),
    )


@pytest.mark.parametrize(
    "scores, expected",
    [
        ({"C1": 5, "C2": 5, "C3": 5}, Fraction(5)),
        ({"C1": 1, "C2": 1, "C3": 1}, Fraction(1)),
        ({"C1": 5, "C2": 3, "C3": 1}, Fraction(5 * 50 + 3 * 30 + 1 * 20, 100)),  # 3.6
        ({"C1": 4, "C2": 2, "C3": 3}, Fraction(4 * 50 + 2 * 30 + 3 * 20, 100)),  # 3.2
        ({"C1": 4, "C2": None, "C3": 3}, None),  # a draft: no partial total
        ({"C1": 4, "C3": 3}, None),
    ],
)
def test_weighted_total(scores, expected):
    assert weighted_total(grid(), scores) == expected


def test_weighted_total_of_the_default_grid():
    scores = {c.code: 4 for c in default_grid().criteria}
    scores["C1"] = 5  # 25 %
    assert weighted_total(default_grid(), scores) == Fraction(425, 100)


@pytest.mark.parametrize(
    "value, expected",
    [
        (Fraction(10, 3), Decimal("3.333")),
        (Fraction(35, 8), Decimal("4.375")),
        (Fraction(43755, 10000), Decimal("4.376")),  # half up
        (4, Decimal("4.000")),
        (Decimal("4.2"), Decimal("4.200")),
        (None, None),
    ],
)
def test_to_decimal(value, expected):
    assert to_decimal(value) == expected


LONG = "x" * MIN_COMMENT_CHARS


def _review(**over):
    scores = {"C1": 4, "C2": 3, "C3": 5}
    comments = {"C1": LONG, "C2": LONG, "C3": LONG}
    for key, value in over.items():
        if key.startswith("score_"):
            scores[key[6:]] = value
        elif key.startswith("comment_"):
            comments[key[8:]] = value
    return scores, comments


@pytest.mark.parametrize(
    "over, applicants, expected_fields",
    [
        ({}, LONG, []),
        ({"score_C1": None}, LONG, ["score_C1"]),
        ({"score_C2": 6}, LONG, ["score_C2"]),
        ({"score_C2": 0}, LONG, ["score_C2"]),
        ({"score_C2": True}, LONG, ["score_C2"]),
        ({"comment_C3": "too short"}, LONG, ["comment_C3"]),
        ({"comment_C3": " " * 40}, LONG, ["comment_C3"]),
        ({}, "short", ["comment_for_applicants"]),
        ({"score_C1": None, "comment_C1": ""}, "", ["score_C1", "comment_C1", "comment_for_applicants"]),
    ],
)
def test_review_problems(over, applicants, expected_fields):
    scores, comments = _review(**over)
    problems = review_problems(grid(), scores, comments, applicants)
    assert [p.field for p in problems] == expected_fields


def test_review_problems_on_another_scale():
    g = grid(scale=(0, 10))
    scores, comments = _review(score_C1=10, score_C2=0, score_C3=7)
    assert review_problems(g, scores, comments, LONG) == []


def test_proposal_scores_means_spread_and_disagreement():
    stats = proposal_scores(grid(), [{"C1": 5, "C2": 3, "C3": 2}, {"C1": 3, "C2": 3, "C3": 3}])
    c1, c2, c3 = stats.criteria
    assert (c1.mean, c1.spread, c1.disagreement) == (Fraction(4), 2, True)  # 5 vs 3: flagged
    assert (c2.mean, c2.spread, c2.disagreement) == (Fraction(3), 0, False)
    assert (c3.mean, c3.spread, c3.disagreement) == (Fraction(5, 2), 1, False)  # 1 apart: not flagged
    assert stats.disagreement is True
    # The weighted score of the means equals the mean of the reviewers' totals.
    assert stats.weighted_score == Fraction(4 * 50 + 3 * 30 + Fraction(5, 2) * 20, 100)
    assert stats.weighted_score == sum(stats.reviewer_totals) / 2
    assert DISAGREEMENT_GAP == 2


def test_proposal_scores_without_reviews():
    stats = proposal_scores(grid(), [])
    assert stats.weighted_score is None
    assert all(c.mean is None and not c.disagreement for c in stats.criteria)


@pytest.mark.parametrize(
    "thresholds, overall, means, score, failing",
    [
        ({}, None, {"C1": 1, "C2": 1, "C3": 1}, 1, []),
        ({"C1": 3}, None, {"C1": Fraction(5, 2), "C2": 5, "C3": 5}, 4, ["C1"]),
        ({"C1": 3}, None, {"C1": 3, "C2": 5, "C3": 5}, 4, []),  # at the threshold: passes
        ({"C2": 3}, 3.5, {"C1": 5, "C2": 2, "C3": 5}, Decimal("3.4"), ["C2", None]),
        ({}, 3.5, {"C1": 5}, Decimal("3.5"), []),
        ({}, 3.5, {}, None, [None]),
        ({"C3": 2}, None, {"C1": 5}, 5, ["C3"]),  # no score on a criterion with a threshold
    ],
)
def test_threshold_failures(thresholds, overall, means, score, failing):
    failures = threshold_failures(grid(thresholds, overall), means, score)
    assert [f.code for f in failures] == failing
    assert all(f.message for f in failures)


@pytest.mark.parametrize(
    "score, expected",
    [
        (5, "A+"),
        (Fraction(9, 2), "A+"),
        (Decimal("4.4999"), "A+"),  # rounds to 4.50 first (grade_for)
        (Decimal("4.49"), "A"),
        (4, "A"),
        (Decimal("3.99"), "B"),
        (3, "B"),
        (Decimal("2.5"), "C"),
        (1, "C"),
        (None, ""),
    ],
)
def test_grades(score, expected):
    assert grade(grid(), score) == expected


@pytest.mark.parametrize(
    "computed, moderated, justification, fields",
    [
        (Fraction(10, 3), Decimal("3.333"), "", []),  # the computed score as displayed: no override
        (Fraction(10, 3), Decimal("3.5"), "", ["justification"]),
        (Fraction(10, 3), Decimal("3.5"), "too short", ["justification"]),
        (Fraction(10, 3), Decimal("3.5"), "The panel weighed the partner letter heavily.", []),
        (Fraction(4), Decimal("6"), "The panel weighed the partner letter heavily.", ["score"]),
        (Fraction(4), None, "", ["score"]),
        (None, Decimal("4"), "", ["justification"]),  # no computed score: any score is an override
    ],
)
def test_consensus_problems(computed, moderated, justification, fields):
    assert [p.field for p in consensus_problems(grid(), computed, moderated, justification)] == fields


def test_is_override():
    assert not is_override(Fraction(10, 3), Decimal("3.333"))
    assert is_override(Fraction(10, 3), Decimal("3.334"))
    assert not is_override(None, None)
