"""Dependency-graph helpers: registration order, what must finish before what, delete antichains."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar

T = TypeVar("T")


def topological(nodes: Mapping[str, T], edges: Callable[[T], Iterable[str]]) -> list[str]:
    """Dependencies first; ties (and edges to unknown nodes) resolved by URN, so the order is stable."""
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(urn: str) -> None:
        if state.get(urn) == 2:
            return
        if state.get(urn) == 1:  # a cycle cannot be registered; keep going rather than loop
            return
        state[urn] = 1
        for dependency in sorted(edges(nodes[urn])):
            if dependency in nodes:
                visit(dependency)
        state[urn] = 2
        order.append(urn)

    for urn in sorted(nodes):
        visit(urn)
    return order


def ancestors(nodes: Mapping[str, T], edges: Callable[[T], Iterable[str]]) -> dict[str, frozenset[str]]:
    """Each node's transitive dependencies: the steps that finish before its registration returns."""
    out: dict[str, frozenset[str]] = {}
    for urn in topological(nodes, edges):
        found: set[str] = set()
        for dependency in edges(nodes[urn]):
            if dependency in nodes:
                found.add(dependency)
                found |= out.get(dependency, frozenset())
        out[urn] = frozenset(found)
    return out


def delete_antichains(condemned: Iterable[str], dependencies: Mapping[str, frozenset[str]]) -> list[list[str]]:
    """Delete-phase rounds, dependents before their dependencies (pulumi/pulumi ``ScheduleDeletes``).

    ``dependencies`` are the transitive ones; each round runs in parallel and finishes before the next.
    """
    remaining = set(condemned)
    # How many condemned resources still depend on each one: it may go once none does.
    waiting = {urn: 0 for urn in remaining}
    for urn in remaining:
        for dependency in dependencies.get(urn, frozenset()) & remaining:
            waiting[dependency] += 1
    rounds: list[list[str]] = []
    while remaining:
        ready = sorted(u for u in remaining if waiting[u] == 0) or sorted(remaining)  # a cycle: all at once
        for urn in ready:
            for dependency in dependencies.get(urn, frozenset()) & remaining:
                waiting[dependency] -= 1
        rounds.append(ready)
        remaining -= set(ready)
    return rounds
