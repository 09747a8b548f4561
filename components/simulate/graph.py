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
    rounds: list[list[str]] = []
    while remaining:
        # A resource may go once nothing still waiting depends on it.
        ready = sorted(u for u in remaining if not any(u in dependencies.get(o, frozenset()) for o in remaining))
        if not ready:  # a cycle: delete the rest together rather than never
            ready = sorted(remaining)
        rounds.append(ready)
        remaining -= set(ready)
    return rounds
