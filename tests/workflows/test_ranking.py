"""Ranking: fundability, order with tie-breaks and the final rule, manual moves, draw-down."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflows.calls import CriterionSpec, GradeBand, Grid
from workflows.ranking import (
    FINAL_RULE_EN,
    Candidate,
    ManualMove,
    RankList,
    apply_moves,
    draw_down,
    main_list_total,
    order,
    rank,
)

T0 = datetime(2027, 6, 15, 15, 0, tzinfo=UTC)


def grid(thresholds=None, overall=None, tie_break=("C1", "C3")) -> Grid:
    thresholds = thresholds or {}
    return Grid(
        criteria=tuple(
            CriterionSpec(code, code, code, weight, threshold=thresholds.get(code))
            for code, weight in (("C1", 40), ("C2", 30), ("C3", 30))
        ),
        overall_threshold=overall,
        grade_bands=(GradeBand("A", 4.0), GradeBand("C", 1.0)),
        tie_break=tie_break,
    )


def cand(key, score, c1=3, c2=3, c3=3, eur=10_000, minutes=0, ref=None):
    return Candidate(
        key=key,
        reference=ref or f"LEA-{key}",
        score=None if score is None else Decimal(str(score)),
        means={"C1": c1, "C2": c2, "C3": c3},
        annual_eur=eur,
        submitted_at=T0 + timedelta(minutes=minutes),
    )


def keys(rows):
    return [r.candidate.key if hasattr(r, "candidate") else r.key for r in rows]


@pytest.mark.parametrize(
    "candidates, expected",
    [
        ([cand("a", 3.5), cand("b", 4.5), cand("c", 4.0)], ["b", "c", "a"]),
        # Equal scores: C1 decides.
        ([cand("a", 4, c1=3), cand("b", 4, c1=5)], ["b", "a"]),
        # Equal scores and C1: C3 decides (C2 is not in the tie-break order).
        ([cand("a", 4, c1=4, c2=5, c3=2), cand("b", 4, c1=4, c2=1, c3=3)], ["b", "a"]),
        # Everything equal: the earlier submission, then the smaller reference.
        ([cand("a", 4, minutes=5), cand("b", 4, minutes=1)], ["b", "a"]),
        ([cand("a", 4, ref="LEA-2"), cand("b", 4, ref="LEA-1")], ["b", "a"]),
    ],
)
def test_order(candidates, expected):
    assert keys(order(candidates, ("C1", "C3"))) == expected


def test_the_final_rule_is_documented():
    assert "submitted earlier" in FINAL_RULE_EN


def test_thresholds_make_a_proposal_unfundable_whatever_its_score():
    rows = rank(
        [cand("top", 4.9, c2=1), cand("mid", 3.5), cand("low", 2.9), cand("none", None)],
        grid(thresholds={"C2": 2}, overall=3.0),
        envelope_eur=1_000_000,
        target_awards=None,
    )
    by_key = {r.candidate.key: r for r in rows}
    assert keys(rows) == ["mid", "top", "low", "none"]
    assert by_key["mid"].rank_list is RankList.MAIN
    assert [f.code for f in by_key["top"].failures] == ["C2"]
    assert [f.code for f in by_key["low"].failures] == [None]
    assert not by_key["none"].fundable
    assert all(by_key[k].rank_list is RankList.NOT_RETAINED for k in ("top", "low", "none"))
    assert [r.position for r in rows] == [1, 2, 3, 4]
    assert by_key["top"].running_total_eur is None


@pytest.mark.parametrize(
    "amounts, envelope, target, expected",
    [
        ([10, 10, 10], 30, None, ["main", "main", "main"]),
        ([10, 10, 10], 25, None, ["main", "main", "waiting"]),
        # Strictly in rank order: the cheap third one does not jump over the second.
        ([10, 20, 5], 25, None, ["main", "waiting", "waiting"]),
        ([10, 10, 10], None, 2, ["main", "main", "waiting"]),
        ([10, 10, 10], 100, 1, ["main", "waiting", "waiting"]),
        ([40], 30, None, ["waiting"]),
        ([10, 10], None, None, ["main", "main"]),
        ([10, 10], 0, None, ["waiting", "waiting"]),
        ([0, 10], 0, None, ["main", "waiting"]),
    ],
)
def test_draw_down(amounts, envelope, target, expected):
    fundable = [cand(str(i), 4, eur=a) for i, a in enumerate(amounts)]
    rows = draw_down(fundable, envelope, target)
    assert [str(r[1]) for r in rows] == expected
    running, total = [], 0
    for a in amounts:
        total += a
        running.append(total)
    assert [r[2] for r in rows] == running


def test_manual_moves_apply_in_sequence_and_clamp():
    base = [cand(k, 4) for k in "abcd"]
    assert keys(apply_moves(base, [ManualMove("d", 1)])) == ["d", "a", "b", "c"]
    assert keys(apply_moves(base, [ManualMove("a", 3), ManualMove("d", 2)])) == ["b", "d", "c", "a"]
    assert keys(apply_moves(base, [ManualMove("b", 99)])) == ["a", "c", "d", "b"]
    assert keys(apply_moves(base, [ManualMove("b", 0)])) == ["b", "a", "c", "d"]
    assert keys(apply_moves(base, [ManualMove("zz", 1)])) == ["a", "b", "c", "d"]


def test_a_move_changes_the_lists_and_never_lifts_an_unfundable_proposal():
    candidates = [cand("a", 4.5, eur=15_000), cand("b", 4.0, eur=10_000), cand("c", 2.0, c1=1)]
    g = grid(thresholds={"C1": 2})
    rows = rank(
        candidates, g, envelope_eur=15_000, target_awards=None, moves=[ManualMove("b", 1), ManualMove("c", 1)]
    )
    assert keys(rows) == ["b", "a", "c"]
    assert [str(r.rank_list) for r in rows] == ["main", "waiting", "not_retained"]
    assert main_list_total(rows) == 10_000


amounts = st.lists(st.integers(min_value=0, max_value=40_000), max_size=25)


@settings(max_examples=300, deadline=None)
@given(
    amounts,
    st.one_of(st.none(), st.integers(min_value=0, max_value=200_000)),
    st.one_of(st.none(), st.integers(min_value=0, max_value=10)),
    st.lists(st.tuples(st.integers(0, 24), st.integers(-2, 30)), max_size=5),
)
def test_the_draw_down_never_exceeds_the_envelope_nor_the_target(amounts, envelope, target, moves):
    candidates = [cand(str(i), Decimal(i % 7) / 2 + 1, eur=a, minutes=i) for i, a in enumerate(amounts)]
    rows = rank(
        candidates,
        grid(),
        envelope_eur=envelope,
        target_awards=target,
        moves=[ManualMove(str(k), p) for k, p in moves],
    )
    main = [r for r in rows if r.rank_list is RankList.MAIN]
    if envelope is not None:
        assert main_list_total(rows) <= envelope
    if target is not None:
        assert len(main) <= target
    # The main list is a prefix of the ranking, and it stops only where a limit stops it.
    lists = [r.rank_list for r in rows]
    assert lists == sorted(lists, key=[RankList.MAIN, RankList.WAITING, RankList.NOT_RETAINED].index)
    waiting = [r for r in rows if r.rank_list is RankList.WAITING]
    if waiting:
        first = waiting[0].candidate.annual_eur
        over_money = envelope is not None and main_list_total(rows) + first > envelope
        over_count = target is not None and len(main) >= target
        assert over_money or over_count
    # Every proposal appears once, positions 1..n.
    assert sorted(r.candidate.key for r in rows) == sorted(c.key for c in candidates)
    assert [r.position for r in rows] == list(range(1, len(rows) + 1))
