"""``plan --compare``: what a change does to resources, service, cost and capacity, from two plan documents.

The resource part comes from the day-2 simulator (:mod:`components.cli.simulate`): resources matched by URN and
alias as the engine matches them, each change classified by the provider's rules, the engine's step order, the
blockers (changes that would fail at ``pulumi up``) and the disruptions per host and per model. What only
``pulumi preview`` can know (drift, provider defaults, values looked up in AWS at preview) is said in
``previewOnly``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from .measured import cold_start_check
from .simulate import simulate
from .simulate.plan_model import Resource

SCHEMA_VERSION = 1
PREVIEW_ONLY = [
    "Drift (changes made outside Pulumi) and provider-side defaults are invisible offline.",
    "Values looked up in AWS at preview (latest DLAMI, AZ offerings, subnets, account quotas) are placeholders "
    "offline; a new DLAMI release never replaces a host (ignored), hosts stay in their caches' zones, and a zone "
    "that stops offering a host's type fails the preview with a fix.",
    "`pulumi preview` runs no command (pulumi-command runs nothing in preview): a one-shot command fails, if "
    "at all, only at `pulumi up`.",
]


def compare(
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    *,
    fresh_runner: bool = False,
    replace: Collection[str] = (),
    rotate: Collection[str] = (),
    deployed_outputs: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The diff document (docs/plan-json.md, "Plan diff JSON"). ``deployed_outputs``: the deployed stack's outputs,
    whose measured cold starts are set beside the old (deployed) plan's prediction."""
    simulation = simulate(old, new, fresh_runner=fresh_runner, replace=replace, rotate=rotate)
    run = simulation.run

    def ref(resource: Resource) -> dict[str, str]:
        return {"type": resource.type, "name": resource.name, "urn": resource.urn}

    def by_name(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return sorted(entries, key=lambda e: (e["type"], e["name"]))

    replaced, changed = [], []
    for urn, decision in run.decisions.items():
        resource = run.new[urn]
        reasons = list(decision.reasons)
        if decision.op == "replace":
            replaced.append({**ref(resource), "reasons": reasons, "mode": decision.mode})
        elif decision.op in ("update", "stop-start") and resource.custom:
            effect = "stop-start" if decision.op == "stop-start" else "in-place"
            changed.append({**ref(resource), "fields": reasons, "effect": effect})
    old_models = {m["name"]: m for m in old.get("models", [])}
    new_models = {m["name"]: m for m in new.get("models", [])}
    all_models = sorted(set(old_models) | set(new_models))
    return {
        "schemaVersion": SCHEMA_VERSION,
        "stack": new.get("stack"),
        "blockers": [b.as_json() for b in simulation.blockers],
        "resources": {
            "added": by_name([ref(run.new[u]) for u in run.matching.created]),
            "removed": by_name([ref(run.old[u]) for u in run.matching.deleted]),
            "recreated": by_name([{**ref(run.new[u]), "oldUrn": o} for u, o in sorted(run.matching.moved.items())]),
            "replaced": by_name(replaced),
            "changed": by_name(changed),
            "unchanged": sum(1 for d in run.decisions.values() if d.op == "same"),
        },
        "steps": simulation.steps_json(),
        "disruptions": simulation.disruptions,
        "availability": simulation.availability,
        "cost": _cost(old.get("cost") or {}, new.get("cost") or {}),
        "capacity": [_capacity(name, old_models.get(name), new_models.get(name)) for name in all_models],
        "coldStartCheck": cold_start_check(old, deployed_outputs),
        "upstreamMoved": [
            moved for name in all_models if (moved := upstream_moved(name, old_models.get(name), new_models.get(name)))
        ],
        "warnings": {
            "new": [w for w in new.get("warnings", []) if w not in set(old.get("warnings", []))],
            "resolved": [w for w in old.get("warnings", []) if w not in set(new.get("warnings", []))],
        },
        "notes": simulation.notes,
        "previewOnly": PREVIEW_ONLY,
    }


def upstream_moved(name: str, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The same configured revision now resolves to another commit: the model changes though the config did not."""
    if old is None or new is None or old.get("id") != new.get("id"):
        return None
    before, after = old.get("revision") or {}, new.get("revision") or {}
    if before.get("configured") != after.get("configured"):
        return None
    old_sha, new_sha = before.get("resolvedSha"), after.get("resolvedSha")
    if old_sha is None or new_sha is None or old_sha == new_sha:
        return None
    return {
        "model": name,
        "id": new.get("id"),
        "revision": after.get("configured"),
        "oldSha": old_sha,
        "newSha": new_sha,
        "message": f"{name}: {new.get('id')} {after.get('configured') or 'default branch'} moved upstream from "
        f"{old_sha[:12]} to {new_sha[:12]}; every replica is replaced to serve the new commit",
    }


def _delta(old: float | None, new: float | None) -> float | None:
    return None if old is None or new is None else round(new - old, 2)


def _cost(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("hourlyUsd", "monthlyUsd")
    return {
        "old": {k: old.get(k) for k in keys},
        "new": {k: new.get(k) for k in keys},
        "delta": {k: _delta(old.get(k), new.get(k)) for k in keys},
    }


_CAPACITY_FIELDS = ("instanceType", "tensorParallelSize", "replicas", "hosts")
_FIT_FIELDS = ("kvCacheTokens", "maxConcurrency", "maxModelLen")


def _capacity_view(model: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if model is None:
        return None
    view = {field: model.get(field) for field in _CAPACITY_FIELDS}
    view.update({field: model["fit"].get(field) for field in _FIT_FIELDS})
    return view


def _capacity(name: str, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> dict[str, Any]:
    before, after = _capacity_view(old), _capacity_view(new)
    status = "added" if before is None else "removed" if after is None else "changed" if before != after else "same"
    delta: dict[str, Any] = {}
    if before and after:
        for field in ("replicas", "hosts", *_FIT_FIELDS):
            if isinstance(before.get(field), int | float) and isinstance(after.get(field), int | float):
                delta[field] = round(after[field] - before[field], 2)
    return {"model": name, "status": status, "old": before, "new": after, "delta": delta}
