"""Ranking of a call and the budget draw-down (DOMAIN.md section 5).

The rules, in order:

1. **Fundability.** A proposal missing a threshold (a criterion mean below the criterion's
   threshold, or a consensus score below the overall threshold: `workflows.scoring`) or
   without a consensus score cannot be funded: it goes to the bottom, *not retained*.
2. **Order.** Fundable proposals are ordered by consensus score, highest first. Ties are broken
   by the call's tie-break order: the mean of each named criterion in turn, highest first. The
   **final rule**, documented here and printed on the ranking page, makes the order total:
   the proposal submitted earlier comes first, then the smaller reference (alphabetical) -
   references are unique, so two proposals never share a position.
3. **Manual moves.** A programme manager may move a fundable proposal to another position
   among the fundable ones, with a written justification; moves apply in the order they were
   made, on top of the computed order.
4. **Draw-down.** Walking down the fundable list, a proposal joins the **main list** while the
   running total of the annual amounts still fits the envelope and the main list is shorter
   than the target number of awards; from the first proposal that does not fit, every further
   fundable proposal is on the **waiting list** (the list is drawn strictly in rank order: a
   cheaper proposal further down never jumps over a dearer one above it). ``None`` for the
   envelope or the target means no limit of that kind.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from fractions import Fraction

from workflows.calls import Grid
from workflows.scoring import Number, ThresholdFailure, as_fraction, threshold_failures

FINAL_RULE_EN = "Remaining ties: the proposal submitted earlier comes first, then the smaller reference."


class RankList(StrEnum):
    """Where the draw-down puts a proposal."""

    MAIN = "main"
    WAITING = "waiting"
    NOT_RETAINED = "not_retained"


@dataclass(frozen=True)
class Candidate:
    """What the ranking needs to know about one proposal (built by the web layer)."""

    key: Hashable
    reference: str
    score: Number | None  # the consensus score
    means: Mapping[str, Number | None] = field(default_factory=dict)  # per criterion
    annual_eur: int = 0
    submitted_at: datetime | None = None


@dataclass(frozen=True)
class ManualMove:
    """Move the proposal ``key`` to ``position`` (1-based, among the fundable proposals)."""

    key: Hashable
    position: int


@dataclass(frozen=True)
class Ranked:
    """One row of the ranking."""

    candidate: Candidate
    position: int
    rank_list: RankList
    failures: tuple[ThresholdFailure, ...]
    running_total_eur: int | None  # cumulative annual amount down the fundable list

    @property
    def fundable(self) -> bool:
        return not self.failures and self.candidate.score is not None


def fundability(grid: Grid, candidate: Candidate) -> tuple[ThresholdFailure, ...]:
    """The thresholds a candidate misses; a missing score is reported as an overall failure."""
    failures = threshold_failures(grid, candidate.means, candidate.score)
    if candidate.score is None and not any(f.code is None for f in failures):
        failures.append(ThresholdFailure(None, None, Fraction(grid.scale_min)))
    return tuple(failures)


def _final_rule_key(candidate: Candidate) -> tuple:
    submitted = candidate.submitted_at
    # Proposals without a submission time (never the case after screening) go after the others.
    return (submitted is None, submitted.timestamp() if submitted else 0.0, candidate.reference)


def sort_key(candidate: Candidate, tie_break: Sequence[str]) -> tuple:
    """The key `order` sorts on (ascending): best proposal first."""
    score = as_fraction(candidate.score) if candidate.score is not None else None
    key: list = [score is None, -(score or 0)]
    for code in tie_break:
        mean = candidate.means.get(code)
        key.extend([mean is None, -(as_fraction(mean) if mean is not None else 0)])
    key.extend(_final_rule_key(candidate))
    return tuple(key)


def order(candidates: Sequence[Candidate], tie_break: Sequence[str]) -> list[Candidate]:
    """Candidates by consensus score, then the tie-break criteria, then the final rule."""
    return sorted(candidates, key=lambda c: sort_key(c, tie_break))


def apply_moves(ordered: Sequence[Candidate], moves: Sequence[ManualMove]) -> list[Candidate]:
    """Apply manual moves in sequence; a move naming an unknown key is ignored.

    Positions are clamped to the list (a move to position 0 or beyond the end goes to the
    first or the last place).
    """
    result = list(ordered)
    for move in moves:
        index = next((i for i, c in enumerate(result) if c.key == move.key), None)
        if index is None:
            continue
        candidate = result.pop(index)
        target = min(max(move.position, 1), len(result) + 1) - 1
        result.insert(target, candidate)
    return result


def draw_down(
    fundable: Sequence[Candidate], envelope_eur: int | None, target_awards: int | None
) -> list[tuple[Candidate, RankList, int]]:
    """Walk the fundable list: main list while the envelope and the target allow, then waiting.

    Returns ``(candidate, list, running total)`` per proposal, the running total being the
    cumulative annual amount down the list including this proposal.
    """
    rows: list[tuple[Candidate, RankList, int]] = []
    running = 0
    main_total = 0
    main_count = 0
    drawing = True
    for candidate in fundable:
        amount = max(candidate.annual_eur or 0, 0)
        running += amount
        fits_money = envelope_eur is None or main_total + amount <= envelope_eur
        fits_count = target_awards is None or main_count < target_awards
        if drawing and fits_money and fits_count:
            main_total += amount
            main_count += 1
            rows.append((candidate, RankList.MAIN, running))
        else:
            drawing = False
            rows.append((candidate, RankList.WAITING, running))
    return rows


def rank(
    candidates: Sequence[Candidate],
    grid: Grid,
    *,
    envelope_eur: int | None,
    target_awards: int | None,
    moves: Sequence[ManualMove] = (),
) -> list[Ranked]:
    """The whole ranking: fundability, order, manual moves, draw-down; positions 1..n.

    Fundable proposals come first (positions 1..F), in order; the unfundable ones follow in the
    same order, *not retained*, without running total.
    """
    failures = {c.key: fundability(grid, c) for c in candidates}
    ordered = order(candidates, grid.tie_break)
    fundable = [c for c in ordered if not failures[c.key]]
    unfundable = [c for c in ordered if failures[c.key]]
    fundable = apply_moves(fundable, [m for m in moves if not failures.get(m.key, (None,))])
    rows: list[Ranked] = []
    for position, (candidate, rank_list, running) in enumerate(
        draw_down(fundable, envelope_eur, target_awards), start=1
    ):
        rows.append(Ranked(candidate, position, rank_list, (), running))
    for position, candidate in enumerate(unfundable, start=len(rows) + 1):
        rows.append(Ranked(candidate, position, RankList.NOT_RETAINED, failures[candidate.key], None))
    return rows


def main_list_total(rows: Sequence[Ranked]) -> int:
    """The annual amount of the main list."""
    return sum(r.candidate.annual_eur for r in rows if r.rank_list is RankList.MAIN)
