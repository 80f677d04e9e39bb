"""Automatic assignment of reviewers to the proposals of a call, as a min-cost flow.

The problem (`AssignmentProblem`): each proposal needs a number of additional reviewers (the
call's reviewers per proposal minus those it already has), at least one of them external when it
has no external reviewer yet; each reviewer may take a number of additional proposals (their load
cap minus their current load in the call); some pairs are forbidden (conflicts declared or
detected, a reviewer already on the proposal or who declined it).

The network (`build_network`), with integer capacities and costs:

    must(p), supply 1 ----------> hub(p) --1--> reviewer r   (r external)
    any(p), supply need - 1 ----> hub(p)
    any(p) -----------------1-----------------> reviewer r   (r internal)
    reviewer r --1, cost B*(2k-1)--> sink, for its k-th proposal in the call (k = load+1...)
    must(p), any(p) --cost UNFILLED--> sink                   (a slot left empty)

When the proposal already has an external reviewer, ``any(p)`` supplies the whole need and is
linked to every reviewer directly. The edge into reviewer r costs ``-EXPERTISE * match(p, r)``,
match being the share of the proposal's keywords found in the reviewer's expertise keywords.

**Guarantees**, for the optimum the solver returns (networkx's network simplex is exact on
integer data):

1. Hard constraints are never violated: a forbidden pair is not an edge; a reviewer gets at
   most their remaining capacity (one unit edge per free slot); a reviewer is on a proposal at
   most once (unit capacity through X(p, r) or p -> r); a proposal gets at most its need.
2. Coverage is maximal: an empty slot costs ``UNFILLED``, more than every other cost of the
   network together, so no assignment fills more slots (the external requirement included: the
   must-external unit counts as a slot). In particular, if an assignment giving every proposal
   its reviewers with at least one external exists, the result is one (`feasible`).
3. Among maximal-coverage assignments, loads are as even as the constraints allow: the sum of
   the squared loads in the call is minimal (the marginal cost of a reviewer's k-th proposal
   grows with k; the balance weight B is larger than any expertise total, so balance comes
   first). Without binding conflicts or caps, loads therefore differ by at most one.
4. Among those, the total expertise match is maximal.

Together: the result minimises ``B * sum(load_r ** 2) - EXPERTISE * sum(match(p, r))`` among
the assignments of maximal coverage (`objective`), B = `balance_weight`.

The solver is passed in (`Solver`): `workflows` imports only the standard library, so the web
layer hands over networkx's network simplex (``webapp.operations.assessment.networkx_solver``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from workflows.conflicts import normalise

EXPERTISE = 100  # gain of a perfect keyword match, per pair

Node = Hashable
Edge = tuple[Node, Node, int, int]  # tail, head, capacity, cost
#: (node demands, edges) -> flow on each edge, in the order of the edges. A node's demand is
#: negative for a supply, positive for a sink; the demands add up to zero.
Solver = Callable[[Mapping[Node, int], Sequence[Edge]], Sequence[int]]


def keywords(text: str | Iterable[str]) -> frozenset[str]:
    """Keywords from a comma/semicolon/newline separated text (or a list), normalised."""
    parts = re.split(r"[,;\n]+", text) if isinstance(text, str) else list(text)
    return frozenset(k for k in (normalise(p) for p in parts) if k)


def match(proposal_keywords: frozenset[str], reviewer_keywords: frozenset[str]) -> Fraction:
    """The share of a proposal's keywords found in a reviewer's expertise (0 to 1).

    A keyword matches when it equals one of the reviewer's or one contains the other as whole
    words ("ageing" matches "brain ageing").
    """
    if not proposal_keywords:
        return Fraction(0)
    found = 0
    for word in proposal_keywords:
        padded = f" {word} "
        if any(word == mine or padded in f" {mine} " or f" {mine} " in padded for mine in reviewer_keywords):
            found += 1
    return Fraction(found, len(proposal_keywords))


@dataclass(frozen=True)
class Reviewer:
    key: Hashable
    external: bool
    capacity: int  # proposals the reviewer may still take in this call
    load: int = 0  # proposals the reviewer already has in this call
    keywords: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ProposalNeed:
    key: Hashable
    need: int  # reviewers still to add
    needs_external: bool  # no external reviewer among those it already has
    keywords: frozenset[str] = frozenset()
    forbidden: frozenset = frozenset()  # reviewer keys that may not review it


@dataclass(frozen=True)
class AssignmentProblem:
    proposals: tuple[ProposalNeed, ...]
    reviewers: tuple[Reviewer, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "proposals", tuple(self.proposals))
        object.__setattr__(self, "reviewers", tuple(self.reviewers))

    def allowed(self, proposal: ProposalNeed, reviewer: Reviewer) -> bool:
        return reviewer.key not in proposal.forbidden and reviewer.capacity > 0


@dataclass(frozen=True)
class Shortfall:
    """A proposal the assignment could not fully serve, and why."""

    key: Hashable
    missing: int  # reviewers still missing
    missing_external: bool  # still without an external reviewer
    candidates: int  # reviewers allowed on it (no conflict, some capacity)
    external_candidates: int


@dataclass(frozen=True)
class AssignmentResult:
    pairs: tuple[tuple[Hashable, Hashable], ...]  # (proposal key, reviewer key)
    shortfalls: tuple[Shortfall, ...]
    cost: int = 0
    match_of: Mapping[tuple[Hashable, Hashable], Fraction] = field(default_factory=dict)

    @property
    def feasible(self) -> bool:
        return not self.shortfalls

    def reviewers_of(self, proposal_key: Hashable) -> list[Hashable]:
        return [r for p, r in self.pairs if p == proposal_key]

    def load_added(self) -> dict[Hashable, int]:
        loads: dict[Hashable, int] = {}
        for _, r in self.pairs:
            loads[r] = loads.get(r, 0) + 1
        return loads


def _must(p: ProposalNeed) -> int:
    return 1 if p.needs_external and p.need > 0 else 0


def balance_weight(problem: AssignmentProblem) -> int:
    """B: one unit of load imbalance outweighs every possible expertise gain together."""
    return 1 + EXPERTISE * sum(max(p.need, 0) for p in problem.proposals)


def marginal_balance_cost(k: int, weight: int) -> int:
    """Cost of a reviewer's k-th proposal: weight * (k**2 - (k-1)**2)."""
    return weight * (2 * k - 1)


def build_network(problem: AssignmentProblem) -> tuple[dict[Node, int], list[Edge], dict[int, tuple]]:
    """The flow network of the module docstring: demands, edges, and what each edge means.

    The meaning of an edge index is ``("pair", p, r)``, ``("unfilled", p, must)`` or ``None``.
    """
    demands: dict[Node, int] = {}
    edges: list[Edge] = []
    meaning: dict[int, tuple] = {}
    sink = ("sink",)
    reviewers = {r.key: r for r in problem.reviewers}
    # The largest cost any assignment can gather, so that one empty slot outweighs it all.
    slots = sum(p.need for p in problem.proposals)
    weight = balance_weight(problem)
    worst_balance = max(
        (marginal_balance_cost(r.load + r.capacity, weight) for r in problem.reviewers), default=0
    )
    unfilled = 1 + slots * (EXPERTISE + worst_balance)
    total = 0
    for p in problem.proposals:
        if p.need <= 0:
            continue
        must = _must(p)
        rest = p.need - must
        pm, pa = ("must", p.key), ("any", p.key)
        if must:
            demands[pm] = -1
            meaning[len(edges)] = ("unfilled", p.key, True)
            edges.append((pm, sink, 1, unfilled))
        if rest:
            demands[pa] = -rest
            meaning[len(edges)] = ("unfilled", p.key, False)
            edges.append((pa, sink, rest, unfilled))
        total += p.need
        hub = ("external", p.key)
        if must:
            edges.append((pm, hub, 1, 0))
            if rest:
                edges.append((pa, hub, rest, 0))
        for r in reviewers.values():
            if not problem.allowed(p, r):
                continue
            gain = -round(EXPERTISE * match(p.keywords, r.keywords))
            tail = hub if (must and r.external) else pa
            if tail == pa and not rest:
                continue
            meaning[len(edges)] = ("pair", p.key, r.key)
            edges.append((tail, ("reviewer", r.key), 1, gain))
    for r in reviewers.values():
        for k in range(r.load + 1, r.load + r.capacity + 1):
            edges.append((("reviewer", r.key), sink, 1, marginal_balance_cost(k, weight)))
    demands[sink] = total
    return demands, edges, meaning


def assign(problem: AssignmentProblem, solve: Solver) -> AssignmentResult:
    """The optimal assignment of the module docstring, with the shortfalls if it is infeasible."""
    demands, edges, meaning = build_network(problem)
    if not edges:
        return AssignmentResult((), (), 0, {})
    flows = list(solve(demands, edges))
    if len(flows) != len(edges):
        raise ValueError("the solver must return one flow per edge")
    pairs: list[tuple[Hashable, Hashable]] = []
    missing: dict[Hashable, int] = {}
    missing_external: dict[Hashable, bool] = {}
    cost = 0
    for index, (flow, edge) in enumerate(zip(flows, edges, strict=True)):
        cost += flow * edge[3]
        what = meaning.get(index)
        if not flow or what is None:
            continue
        if what[0] == "pair":
            pairs.append((what[1], what[2]))
        else:
            missing[what[1]] = missing.get(what[1], 0) + flow
            if what[2]:
                missing_external[what[1]] = True
    reviewers = {r.key: r for r in problem.reviewers}
    shortfalls = []
    for p in problem.proposals:
        if p.key in missing:
            allowed = [r for r in reviewers.values() if problem.allowed(p, r)]
            shortfalls.append(
                Shortfall(
                    p.key,
                    missing[p.key],
                    missing_external.get(p.key, False),
                    len(allowed),
                    sum(1 for r in allowed if r.external),
                )
            )
    proposals = {p.key: p for p in problem.proposals}
    match_of = {(p, r): match(proposals[p].keywords, reviewers[r].keywords) for p, r in pairs}
    result = AssignmentResult(tuple(sorted(pairs, key=repr)), tuple(shortfalls), cost, match_of)
    broken = violations(problem, result.pairs)
    if broken:  # never expected: the network forbids it; fail loudly rather than send it out
        raise AssertionError("assignment breaks its constraints: " + "; ".join(broken))
    return result


def violations(problem: AssignmentProblem, pairs: Sequence[tuple[Hashable, Hashable]]) -> list[str]:
    """Every hard constraint ``pairs`` break (empty list: none). Used as a last check and in tests."""
    problems: list[str] = []
    proposals = {p.key: p for p in problem.proposals}
    reviewers = {r.key: r for r in problem.reviewers}
    seen: set[tuple[Hashable, Hashable]] = set()
    per_reviewer: dict[Hashable, int] = {}
    per_proposal: dict[Hashable, int] = {}
    for p, r in pairs:
        if p not in proposals or r not in reviewers:
            problems.append(f"unknown pair {p!r}, {r!r}")
            continue
        if (p, r) in seen:
            problems.append(f"reviewer {r!r} twice on proposal {p!r}")
        seen.add((p, r))
        if r in proposals[p].forbidden:
            problems.append(f"reviewer {r!r} is forbidden on proposal {p!r}")
        per_reviewer[r] = per_reviewer.get(r, 0) + 1
        per_proposal[p] = per_proposal.get(p, 0) + 1
    for r, n in per_reviewer.items():
        if n > reviewers[r].capacity:
            problems.append(f"reviewer {r!r} gets {n}, above the capacity {reviewers[r].capacity}")
    for p, n in per_proposal.items():
        if n > proposals[p].need:
            problems.append(f"proposal {p!r} gets {n} reviewers, needs {proposals[p].need}")
    return problems


def objective(problem: AssignmentProblem, pairs: Sequence[tuple[Hashable, Hashable]]) -> int:
    """The cost minimised among maximal-coverage assignments (guarantees 3 and 4)."""
    proposals = {p.key: p for p in problem.proposals}
    reviewers = {r.key: r for r in problem.reviewers}
    weight = balance_weight(problem)
    added: dict[Hashable, int] = {}
    cost = 0
    for p, r in pairs:
        added[r] = added.get(r, 0) + 1
        cost -= round(EXPERTISE * match(proposals[p].keywords, reviewers[r].keywords))
    for r, n in added.items():
        load = reviewers[r].load
        cost += sum(marginal_balance_cost(k, weight) for k in range(load + 1, load + n + 1))
    return cost


def serves_everyone(problem: AssignmentProblem, pairs: Sequence[tuple[Hashable, Hashable]]) -> bool:
    """Whether every proposal gets its full need, with an external reviewer where one is due."""
    reviewers = {r.key: r for r in problem.reviewers}
    for p in problem.proposals:
        mine = [r for q, r in pairs if q == p.key]
        if len(mine) != max(p.need, 0):
            return False
        if _must(p) and not any(reviewers[r].external for r in mine):
            return False
    return True
