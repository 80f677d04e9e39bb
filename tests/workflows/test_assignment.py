"""Automatic reviewer assignment: hard constraints, coverage, external reviewers, balance,
expertise and optimality (against brute force on small instances)."""

from __future__ import annotations

import itertools
from fractions import Fraction

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workflows.assignment import (
    AssignmentProblem,
    ProposalNeed,
    Reviewer,
    assign,
    build_network,
    keywords,
    match,
    objective,
    serves_everyone,
    violations,
)


def networkx_solver(demands, edges):
    """The production solver (webapp.operations.assessment.networkx_solver): network simplex."""
    graph = nx.MultiDiGraph()
    for node, demand in demands.items():
        graph.add_node(node, demand=demand)
    edge_keys = [graph.add_edge(u, v, capacity=c, weight=w) for u, v, c, w in edges]
    _, flow = nx.network_simplex(graph)
    return [flow[u][v][k] for (u, v, _, _), k in zip(edges, edge_keys, strict=True)]


def R(key, external=False, capacity=3, load=0, kw=""):
    return Reviewer(key, external, capacity, load, keywords(kw))


def P(key, need=2, needs_external=True, kw="", forbidden=()):
    return ProposalNeed(key, need, needs_external, keywords(kw), frozenset(forbidden))


def test_keywords_and_match():
    assert keywords("Neuroscience; brain Ageing,\n  ÉPIGÉNÉTIQUE ,") == {
        "neuroscience",
        "brain ageing",
        "epigenetique",
    }
    assert keywords(["a", " "]) == {"a"}
    assert match(keywords("ageing, malaria"), keywords("brain ageing")) == Fraction(1, 2)
    assert match(keywords("brain ageing"), keywords("ageing")) == 1
    assert match(frozenset(), keywords("x")) == 0


def test_two_reviewers_each_with_one_external():
    problem = AssignmentProblem(
        [P("p1"), P("p2"), P("p3")],
        [R("i1"), R("i2"), R("e1", external=True), R("e2", external=True)],
    )
    result = assign(problem, networkx_solver)
    assert result.feasible
    assert serves_everyone(problem, result.pairs)
    externals = {"e1", "e2"}
    for p in ("p1", "p2", "p3"):
        assert len(result.reviewers_of(p)) == 2
        assert externals & set(result.reviewers_of(p))
    # Six slots over four reviewers: loads 2, 2, 1, 1 (balanced).
    assert sorted(result.load_added().values()) == [1, 1, 2, 2]


def test_conflicts_and_caps_are_respected_and_shortfalls_explained():
    problem = AssignmentProblem(
        [P("p1", forbidden={"e1"}), P("p2")],
        [R("i1", capacity=2), R("e1", external=True, capacity=5), R("i2", capacity=0)],
    )
    result = assign(problem, networkx_solver)
    assert ("p1", "e1") not in result.pairs
    assert not violations(problem, result.pairs)
    assert not result.feasible
    shortfall = {s.key: s for s in result.shortfalls}
    assert shortfall["p1"].missing_external is True
    assert shortfall["p1"].external_candidates == 0
    assert shortfall["p1"].candidates == 1  # i1 only: e1 conflicts, i2 has no capacity
    assert "p2" not in shortfall  # i1 and e1
    assert set(result.reviewers_of("p2")) == {"i1", "e1"}


def test_existing_load_and_an_external_already_there():
    # p1 already has an external reviewer and needs one more of any kind; i1 is busy already.
    problem = AssignmentProblem(
        [P("p1", need=1, needs_external=False)],
        [R("i1", load=3, capacity=1), R("i2", load=0, capacity=1)],
    )
    assert assign(problem, networkx_solver).pairs == (("p1", "i2"),)


def test_expertise_decides_between_equally_loaded_reviewers():
    problem = AssignmentProblem(
        [
            P("p1", need=1, needs_external=False, kw="malaria, immunology"),
            P("p2", need=1, needs_external=False, kw="ageing, neurodegeneration"),
        ],
        [R("neuro", kw="neurodegeneration, ageing"), R("immuno", kw="immunology; malaria")],
    )
    result = assign(problem, networkx_solver)
    assert set(result.pairs) == {("p1", "immuno"), ("p2", "neuro")}
    assert result.match_of[("p1", "immuno")] == 1


def test_nothing_to_do():
    assert assign(AssignmentProblem([P("p", need=0)], []), networkx_solver).pairs == ()
    empty = assign(AssignmentProblem([], [R("r")]), networkx_solver)
    assert empty.feasible and empty.pairs == ()


def test_the_network_balances():
    problem = AssignmentProblem([P("p1"), P("p2", need=3)], [R("a", external=True), R("b")])
    demands, edges, _ = build_network(problem)
    assert sum(demands.values()) == 0


# --- properties ---------------------------------------------------------------------------


@st.composite
def problems(draw, max_proposals=4, max_reviewers=5):
    n_reviewers = draw(st.integers(1, max_reviewers))
    words = ["ageing", "malaria", "cancer", "neuro", "immunology"]
    reviewers = [
        Reviewer(
            f"r{i}",
            draw(st.booleans()),
            draw(st.integers(0, 3)),
            draw(st.integers(0, 2)),
            frozenset(draw(st.lists(st.sampled_from(words), max_size=3))),
        )
        for i in range(n_reviewers)
    ]
    proposals = [
        ProposalNeed(
            f"p{j}",
            draw(st.integers(0, 2)),
            draw(st.booleans()),
            frozenset(draw(st.lists(st.sampled_from(words), max_size=3))),
            frozenset(draw(st.lists(st.sampled_from([r.key for r in reviewers]), max_size=3))),
        )
        for j in range(draw(st.integers(0, max_proposals)))
    ]
    return AssignmentProblem(proposals, reviewers)


def full_assignments(problem):
    """Every assignment serving every proposal fully (brute force, small instances only)."""
    options = []
    for p in problem.proposals:
        allowed = [r.key for r in problem.reviewers if problem.allowed(p, r)]
        options.append(
            [tuple((p.key, r) for r in combo) for combo in itertools.combinations(allowed, max(p.need, 0))]
        )
    for choice in itertools.product(*options):
        pairs = [pair for group in choice for pair in group]
        if not violations(problem, pairs) and serves_everyone(problem, pairs):
            yield pairs


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_never_a_conflict_nor_a_cap_and_everyone_served_when_feasible(problem):
    result = assign(problem, networkx_solver)
    assert violations(problem, result.pairs) == []
    feasible = list(full_assignments(problem))
    if feasible:
        assert result.feasible
        assert serves_everyone(problem, result.pairs)
        # Optimal: no full assignment has a lower balance-and-expertise cost.
        assert objective(problem, result.pairs) == min(objective(problem, pairs) for pairs in feasible)
    else:
        assert not result.feasible
        assert result.shortfalls


@settings(max_examples=100, deadline=None)
@given(problems(max_proposals=6, max_reviewers=8))
def test_larger_instances_keep_the_hard_constraints(problem):
    result = assign(problem, networkx_solver)
    assert violations(problem, result.pairs) == []
    for p in problem.proposals:
        got = result.reviewers_of(p.key)
        short = next((s for s in result.shortfalls if s.key == p.key), None)
        assert len(got) + (short.missing if short else 0) == max(p.need, 0)


@pytest.mark.parametrize("n", [40])
def test_a_call_sized_instance(n):
    reviewers = [
        R(f"r{i}", external=i % 2 == 0, capacity=6, kw="ageing" if i % 3 else "malaria") for i in range(20)
    ]
    proposals = [
        P(f"p{j}", kw="malaria" if j % 4 == 0 else "ageing, neuro", forbidden={f"r{j % 20}"})
        for j in range(n)
    ]
    problem = AssignmentProblem(proposals, reviewers)
    result = assign(problem, networkx_solver)
    assert result.feasible and serves_everyone(problem, result.pairs)
    loads = result.load_added().values()
    assert max(loads) - min(loads) <= 1  # 80 slots over 20 reviewers: 4 each
