"""Scoring of reviews and proposals (DOMAIN.md section 5).

A call's `Grid` (workflows.calls) gives the criteria, their weights (in percent), the scale, the
thresholds and the grade bands. Everything here is computed exactly with `fractions.Fraction`
(means of integer scores are often repeating decimals) and rounded only for display and
storage (`to_decimal`, three places, half up), so a threshold comparison never flips because of
a float rounding.

Vocabulary:

- a review's **weighted total**: sum of score x weight over the criteria, divided by the sum of
  the weights (the weights add up to 100 on a valid grid);
- a proposal's per-criterion **mean** and **spread** (highest minus lowest score) over its
  submitted reviews, and a **disagreement** flag when two reviewers differ by
  `DISAGREEMENT_GAP` points or more on one criterion;
- a proposal's **weighted score**: the weighted total of its criterion means (equal to the mean
  of its reviewers' weighted totals when every review scores every criterion);
- **thresholds**: a criterion mean below the criterion's threshold, or a consensus score below
  the overall threshold, makes the proposal unfundable whatever its rank;
- **grades** A+/A/B/C from the call's bands (`workflows.calls.grade_for`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from numbers import Rational

from workflows.calls import Grid, grade_for

#: Two reviewers this many points apart on one criterion are flagged for the consensus.
DISAGREEMENT_GAP = 2
#: The shortest comment a reviewer may submit for a criterion or for the applicants [default].
MIN_COMMENT_CHARS = 30
#: The shortest justification of a consensus score that differs from the computed one.
MIN_JUSTIFICATION_CHARS = 20

Number = int | Fraction | Decimal


def as_fraction(value: Number | float | str) -> Fraction:
    """An exact fraction of an int, Fraction, Decimal, float or numeric string."""
    if isinstance(value, Fraction):
        return value
    if isinstance(value, Rational):
        return Fraction(value)
    if isinstance(value, float):
        return Fraction(Decimal(repr(value)))
    return Fraction(Decimal(value))


def to_decimal(value: Number | None, places: int = 3) -> Decimal | None:
    """``value`` rounded half up to ``places`` decimals (``None`` stays ``None``)."""
    if value is None:
        return None
    exact = as_fraction(value)
    quantum = Decimal(1).scaleb(-places)
    return (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(quantum, rounding=ROUND_HALF_UP)


def weighted_total(grid: Grid, scores: Mapping[str, Number | None]) -> Fraction | None:
    """Sum of score x weight over the grid's criteria divided by the sum of the weights.

    ``None`` while any criterion has no score (a draft): a partial total would mislead.
    """
    if not grid.criteria:
        return None
    total = Fraction(0)
    weights = 0
    for criterion in grid.criteria:
        score = scores.get(criterion.code)
        if score is None:
            return None
        total += as_fraction(score) * criterion.weight
        weights += criterion.weight
    if weights == 0:
        return None
    return total / weights


# --- checking a review before it is submitted -----------------------------------------------


@dataclass(frozen=True)
class ScoreProblem:
    """One reason a review cannot be submitted; ``field`` names the form field it belongs to.

    ``code`` is stable (the web layer translates it with ``params``); ``message`` is English.
    """

    field: str
    code: str
    message: str
    params: Mapping[str, object]


def review_problems(
    grid: Grid,
    scores: Mapping[str, int | None],
    comments: Mapping[str, str],
    for_applicants: str,
    *,
    min_chars: int = MIN_COMMENT_CHARS,
) -> list[ScoreProblem]:
    """Everything that stops a review from being submitted, per field (empty: it can be).

    Each criterion needs a whole score on the call's scale and a comment of at least
    ``min_chars`` characters (spaces at the ends not counted); the comment for the applicants
    needs the same length. The confidential comment for the committee is optional.
    """
    problems: list[ScoreProblem] = []
    low, high = grid.scale_min, grid.scale_max
    for criterion in grid.criteria:
        code = criterion.code
        score = scores.get(code)
        if score is None:
            problems.append(
                ScoreProblem(
                    f"score_{code}", "score_missing", f"Criterion {code} has no score.", {"code": code}
                )
            )
        elif isinstance(score, bool) or not isinstance(score, int) or not low <= score <= high:
            problems.append(
                ScoreProblem(
                    f"score_{code}",
                    "score_outside",
                    f"The score of criterion {code} must be a whole number from {low} to {high}.",
                    {"code": code, "low": low, "high": high},
                )
            )
        length = len((comments.get(code) or "").strip())
        if length < min_chars:
            problems.append(
                ScoreProblem(
                    f"comment_{code}",
                    "comment_short",
                    f"The comment on criterion {code} needs at least {min_chars} "
                    f"characters ({length} written).",
                    {"code": code, "min": min_chars, "length": length},
                )
            )
    length = len((for_applicants or "").strip())
    if length < min_chars:
        problems.append(
            ScoreProblem(
                "comment_for_applicants",
                "applicants_comment_short",
                f"The comment for the applicants needs at least {min_chars} characters ({length} written).",
                {"min": min_chars, "length": length},
            )
        )
    return problems


# --- a proposal's reviews side by side ---------------------------------------------------------


@dataclass(frozen=True)
class CriterionStats:
    """One criterion over a proposal's submitted reviews."""

    code: str
    weight: int
    threshold: int | None
    scores: tuple[int, ...]
    mean: Fraction | None
    spread: int | None  # highest minus lowest score
    disagreement: bool
    below_threshold: bool


@dataclass(frozen=True)
class ProposalScores:
    """A proposal's reviews summed up for the consensus and the ranking."""

    criteria: tuple[CriterionStats, ...]
    weighted_score: Fraction | None
    reviewer_totals: tuple[Fraction | None, ...]
    review_count: int

    @property
    def disagreement(self) -> bool:
        return any(c.disagreement for c in self.criteria)

    @property
    def means(self) -> dict[str, Fraction | None]:
        return {c.code: c.mean for c in self.criteria}

    def criterion(self, code: str) -> CriterionStats | None:
        return next((c for c in self.criteria if c.code == code), None)


def criterion_stats(code: str, weight: int, threshold: int | None, scores: Sequence[int]) -> CriterionStats:
    """Mean, spread, disagreement and threshold of one criterion's scores."""
    values = tuple(scores)
    if not values:
        return CriterionStats(code, weight, threshold, (), None, None, False, False)
    mean = Fraction(sum(values), len(values))
    spread = max(values) - min(values)
    return CriterionStats(
        code,
        weight,
        threshold,
        values,
        mean,
        spread,
        spread >= DISAGREEMENT_GAP,
        threshold is not None and mean < threshold,
    )


def proposal_scores(grid: Grid, reviews: Sequence[Mapping[str, int | None]]) -> ProposalScores:
    """Per-criterion statistics and the weighted score of a proposal's submitted reviews.

    ``reviews`` holds one mapping (criterion code -> score) per submitted review. The weighted
    score is the weighted total of the criterion means; it is ``None`` until every criterion
    has at least one score.
    """
    stats = []
    for criterion in grid.criteria:
        values = [r[criterion.code] for r in reviews if r.get(criterion.code) is not None]
        stats.append(criterion_stats(criterion.code, criterion.weight, criterion.threshold, values))
    means = {s.code: s.mean for s in stats}
    return ProposalScores(
        criteria=tuple(stats),
        weighted_score=weighted_total(grid, means),
        reviewer_totals=tuple(weighted_total(grid, r) for r in reviews),
        review_count=len(reviews),
    )


# --- thresholds, grades and the consensus --------------------------------------------------------


@dataclass(frozen=True)
class ThresholdFailure:
    """Why a proposal cannot be funded: ``code`` is a criterion code, or ``None`` for overall."""

    code: str | None
    value: Fraction | None
    threshold: Fraction

    @property
    def message(self) -> str:
        shown = "no score" if self.value is None else f"{float(self.value):.2f}"
        if self.code is None:
            return f"Overall score {shown} is below the threshold {float(self.threshold):g}."
        return f"Criterion {self.code}: {shown} is below the threshold {float(self.threshold):g}."


def threshold_failures(
    grid: Grid, means: Mapping[str, Number | None], overall: Number | None
) -> list[ThresholdFailure]:
    """The thresholds a proposal misses (empty list: it may be funded).

    A criterion with a threshold and no score at all counts as missed; so does a missing
    overall score when the grid has an overall threshold.
    """
    failures: list[ThresholdFailure] = []
    for criterion in grid.criteria:
        if criterion.threshold is None:
            continue
        mean = means.get(criterion.code)
        threshold = Fraction(criterion.threshold)
        if mean is None or as_fraction(mean) < threshold:
            failures.append(
                ThresholdFailure(criterion.code, None if mean is None else as_fraction(mean), threshold)
            )
    if grid.overall_threshold is not None:
        threshold = as_fraction(grid.overall_threshold)
        if overall is None or as_fraction(overall) < threshold:
            failures.append(
                ThresholdFailure(None, None if overall is None else as_fraction(overall), threshold)
            )
    return failures


def grade(grid: Grid, score: Number | None) -> str:
    """The grade of a score from the grid's bands ("" for no score or below every band)."""
    if score is None:
        return ""
    return grade_for(float(to_decimal(score, 3)), grid.grade_bands) or ""


def is_override(computed: Number | None, moderated: Number | None) -> bool:
    """Whether a moderated score departs from the computed one by more than display rounding."""
    if moderated is None or computed is None:
        return moderated is not None and computed is None
    return to_decimal(computed, 3) != to_decimal(moderated, 3)


def consensus_problems(
    grid: Grid,
    computed: Number | None,
    moderated: Number | None,
    justification: str,
    *,
    min_chars: int = MIN_JUSTIFICATION_CHARS,
) -> list[ScoreProblem]:
    """What stops a consensus from being recorded (empty list: it can be).

    The moderated score must lie on the call's scale; when it departs from the computed score
    (`is_override`), a written justification of at least ``min_chars`` characters is required.
    """
    problems: list[ScoreProblem] = []
    if moderated is None:
        return [ScoreProblem("score", "consensus_missing", "Give a consensus score.", {})]
    value = as_fraction(moderated)
    if not grid.scale_min <= value <= grid.scale_max:
        problems.append(
            ScoreProblem(
                "score",
                "consensus_outside",
                f"The consensus score must lie between {grid.scale_min} and {grid.scale_max}.",
                {"low": grid.scale_min, "high": grid.scale_max},
            )
        )
    if is_override(computed, moderated) and len((justification or "").strip()) < min_chars:
        problems.append(
            ScoreProblem(
                "justification",
                "justification_missing",
                "A consensus score that differs from the computed score needs a written "
                f"justification of at least {min_chars} characters.",
                {"min": min_chars},
            )
        )
    return problems
