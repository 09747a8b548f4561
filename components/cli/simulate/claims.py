"""Uniqueness over time: a create or update that claims a key (a listener port, a rule priority, a volume)
while the old holder still holds it, because the engine lets go of old resources only later.

When a holder lets go: at its own registration (an update moving off the key, a delete-before-replace), or in
the delete phase after the whole program (removed resources, old halves of create-before-delete
replacements), or never (retained, unchanged). A claim is safe only when the release is a step that finishes
before the claiming step starts: the claimant (transitively) depends on the releasing resource.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .blocker import Blocker
from .engine import DBR, EngineRun
from .plan_model import Resource
from .uniqueness import KEYS, UniqueKey
from .urns import urn_name


def _fresh(run: EngineRun) -> set[str]:
    return set(run.matching.created) | {u for u, d in run.decisions.items() if d.op == "replace"}


def _key_inputs(resource: Resource, fresh: set[str]) -> dict[str, Any]:
    """Inputs whose value comes from a resource new in this run hold a value nothing old can equal."""
    inputs = dict(resource.inputs)
    for key, deps in resource.property_dependencies.items():
        if deps & fresh:
            inputs[key] = ("<new>", *sorted(deps & fresh))
    return inputs


def _keys(resource: Resource, inputs: Mapping[str, Any]) -> Iterator[tuple[UniqueKey, tuple[Any, ...]]]:
    for key in KEYS.get(resource.type, ()):
        for value in key.values(inputs, resource.provider):
            yield key, (resource.type, key.label, *map(_hashable, value))


def _hashable(value: Any) -> Any:
    return repr(value) if isinstance(value, dict | list) else value


def _release(run: EngineRun, old_urn: str, value: tuple[Any, ...], fresh: set[str]) -> tuple[str, str | None]:
    """When the old holder lets go of a key: ("never"), ("program", registration) or ("delete", None)."""
    resource = run.old[old_urn]
    new_urn = next((n for n, o in run.matching.pairs.items() if o == old_urn), None)
    if new_urn is None:
        return ("never", None) if resource.retain_on_delete else ("delete", None)
    decision = run.decisions[new_urn]
    if decision.op == "replace":
        if resource.retain_on_delete:
            return "never", None
        if decision.chained_to:
            return "program", decision.chained_to
        return ("program", new_urn) if decision.mode == DBR else ("delete", None)
    new = run.new[new_urn]
    still = {v for _k, v in _keys(new, _key_inputs(new, fresh))}
    return ("never", None) if value in still else ("program", new_urn)


def uniqueness(run: EngineRun) -> Iterator[Blocker]:
    fresh = _fresh(run)
    holders: dict[tuple[Any, ...], list[str]] = {}
    for urn, resource in run.old.items():
        for _key, value in _keys(resource, resource.inputs):
            holders.setdefault(value, []).append(urn)
    claims: dict[tuple[Any, ...], list[str]] = {}
    for urn, decision in run.decisions.items():
        if decision.op not in ("create", "replace", "update", "stop-start"):
            continue
        new = run.new[urn]
        before = set()
        if decision.op in ("update", "stop-start") and decision.old:
            before = {v for _k, v in _keys(run.old[decision.old], run.old[decision.old].inputs)}
        for key, value in _keys(new, _key_inputs(new, fresh)):
            if value in before:
                continue
            for other in claims.get(value, []):
                yield _blocker(run, urn, key, f"`{urn_name(other)}` claims the same {key.label} in this run")
            claims.setdefault(value, []).append(urn)
            for holder in holders.get(value, []):
                yield from _against_holder(run, _Claim(urn, key, value), holder, fresh)


@dataclass(frozen=True)
class _Claim:
    urn: str
    key: UniqueKey
    value: tuple[Any, ...]


def _against_holder(run: EngineRun, claim: _Claim, holder: str, fresh: set[str]) -> Iterator[Blocker]:
    urn, key = claim.urn, claim.key
    when, at = _release(run, holder, claim.value, fresh)
    if when == "program" and (at == urn or at in run.new_ancestors.get(urn, frozenset())):
        return  # released by a step that finishes before this one starts
    held = run.old[holder]
    new = run.new[urn]
    holder_name = f"the old `{held.name}`" if run.matching.pairs.get(urn) == holder else f"`{held.name}`"
    adopts = (
        key.adopts_always
        or (key.adopts_if_flag is not None and new.inputs.get(key.adopts_if_flag) is True)
        or (
            key.adopts_when_same is not None
            and all(new.inputs.get(f) == held.inputs.get(f) for f in key.adopts_when_same)
            and not set(key.adopts_when_same) & {k for k, d in new.property_dependencies.items() if d & fresh}
        )
    )
    timing = {
        "never": "keeps it",
        "delete": "lets go of it only in the delete phase, after the program has registered everything",
        "program": f"lets go of it when `{urn_name(str(at))}` registers, which nothing orders before this step",
    }[when]
    if adopts:
        if when == "never":
            return
        yield _blocker(
            run,
            urn,
            key,
            f"the create adopts the {key.label} that {holder_name} holds ({key.code}); {holder_name} {timing}, "
            "and its delete then removes what the new resource owns",
        )
        return
    yield _blocker(run, urn, key, f"{holder_name} holds the same {key.label} and {timing}")


def _blocker(run: EngineRun, urn: str, key: UniqueKey, detail: str) -> Blocker:
    new = run.new[urn]
    return Blocker(
        resource=new.name,
        type=new.type,
        code=key.code,
        reason=f"{key.code}: {detail}",
        source=key.source + "; engine order: pulumi/pulumi step_generator.go GenerateDeletes (deletes run last)",
        fix=key.fix,
    )
