"""Consensus and ranking of a call in `workflows` (pure Python), at several sizes.

    valgrind --tool=callgrind --instr-atstart=no python bench/workflow_scale.py --sizes 1000,10000

For each size N: N proposals with 3 reviews of the 7 default criteria (scores drawn with a fixed
seed, outside the measure), then, measured: every proposal's statistics and weighted score
(`workflows.scoring.proposal_scores`, the computed consensus) and grade, the candidates, and the
ranking with the envelope draw-down and three manual moves (`workflows.ranking.rank`). Each size
is a callgrind segment, beside an empty one (bench/cgreq.py).
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import cgreq  # noqa: E402

from workflows.calls import default_grid  # noqa: E402
from workflows.ranking import Candidate, ManualMove, rank  # noqa: E402
from workflows.scoring import grade, proposal_scores  # noqa: E402

REVIEWS = 3


def inputs(n: int, seed: int = 2026) -> list[tuple[str, datetime, int, list[dict[str, int]]]]:
    rng = random.Random(seed)
    codes = [c.code for c in default_grid().criteria]
    start = datetime(2026, 6, 15, 15, 0, tzinfo=UTC)
    rows = []
    for k in range(n):
        quality = rng.uniform(1.8, 4.9)
        reviews = [
            {c: min(5, max(1, round(quality + rng.gauss(0, 0.7)))) for c in codes} for _ in range(REVIEWS)
        ]
        rows.append(
            (f"LEA-2027-{k + 1:05d}", start - timedelta(minutes=k), rng.choice((8_000, 12_000)), reviews)
        )
    return rows


def consensus_and_ranking(grid, rows) -> int:
    candidates = []
    for key, (reference, submitted_at, annual, reviews) in enumerate(rows):
        stats = proposal_scores(grid, reviews)
        grade(grid, stats.weighted_score)
        candidates.append(
            Candidate(
                key=key,
                reference=reference,
                score=stats.weighted_score,
                means=stats.means,
                annual_eur=annual,
                submitted_at=submitted_at,
            )
        )
    moves = [ManualMove(k, 1) for k in range(0, min(len(rows), 30), 10)]
    envelope = max(1, len(rows) * 15 // 100) * 12_000
    return len(rank(candidates, grid, envelope_eur=envelope, target_awards=None, moves=moves))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000")
    args = parser.parse_args()
    grid = replace(default_grid(), overall_threshold=2.5)
    sizes = [int(s) for s in args.sizes.split(",")]
    data = {n: inputs(n) for n in sizes}
    consensus_and_ranking(grid, inputs(50))  # warm-up
    on_valgrind = cgreq.on_valgrind()
    if on_valgrind:
        cgreq.start()
    for n in [0, *sizes]:
        rows = data.get(n, [])
        gc.collect()
        cgreq.zero()
        consensus_and_ranking(grid, rows)
        cgreq.dump(f"workflows n={n}")
    if not on_valgrind:
        print("not under valgrind: nothing measured (bench/run.py runs this under callgrind)")


if __name__ == "__main__":
    main()
