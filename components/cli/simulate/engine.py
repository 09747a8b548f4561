"""The steps ``pulumi up`` runs for an old and a new plan, in the engine's order.

Sources (pulumi/pulumi @1b594989, ``pkg/resource/deploy/``):

- ``step_generator.go`` ``generateStepsFromDiff``/``diff``: per resource, in this order: ``--replace``, a
  ``replaceWith`` resource replaced in this run, the ``deletedWith`` resource replaced, the provider's diff
  (here: :mod:`components.cli.simulate.provider_rules`) after ``ignoreChanges`` masking, a fired
  ``replacementTrigger``, then ``replaceOnChanges`` (``applyReplaceOnChanges``).
- Inputs that take a value from a resource replaced in this run are unknown until it exists, and the provider
  diffs them as changed (``calculateDependentReplacements`` turns them into computed values).
- Creates, updates and create-before-delete replacements run when the resource registers; the program
  registers a resource once everything it depends on has finished (``deployment_executor.go``
  ``handleSingleEvent``; the SDK awaits dependencies before ``RegisterResource``).
- Delete-before-replace (``deleteBeforeReplace`` option if set, else the provider's default) deletes the old
  dependents that must be replaced with it, then the old resource, then creates, all at its registration
  (``calculateDependentReplacements``); its dependents are re-created when they register.
- Deletes of removed resources and of the old halves of create-before-delete replacements wait for the end of
  the program and run in rounds, dependents first (``GenerateDeletes``, ``ScheduleDeletes``). A provider delete
  is skipped for ``retainOnDelete`` and when the ``deletedWith`` resource is deleted too (``step.go``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace

from .graph import ancestors, delete_antichains, topological
from .identity import Matching
from .paths import diff, mask, matches, parse, render
from .plan_model import Resource
from .provider_rules import ANY, TypeRule, rule_for
from .urns import urn_name

CBD = "create-before-delete"
DBR = "delete-before-replace"


@dataclass(frozen=True)
class Decision:
    """What happens to one new resource (``op``: create, same, update, stop-start, replace)."""

    op: str
    old: str | None = None
    reasons: tuple[str, ...] = ()
    mode: str | None = None
    causes: frozenset[str] = frozenset()
    chained_to: str | None = None
    """Replaced in the delete-before-replace chain of this resource: its old half goes at that registration."""


@dataclass(frozen=True)
class Step:
    phase: str  # "program" or "delete"
    op: str  # create, update, create-replacement, delete-replaced, delete
    urn: str  # the new resource for create/update/create-replacement, the old one for deletes
    at: str | None = None  # program phase: the registration that runs it
    round: int | None = None  # delete phase: the antichain
    skipped: str | None = None  # why the provider's delete does not run


@dataclass(frozen=True)
class EngineRun:
    old: Mapping[str, Resource]
    new: Mapping[str, Resource]
    matching: Matching
    decisions: dict[str, Decision]
    steps: list[Step]
    new_ancestors: dict[str, frozenset[str]]


def run(
    old: Mapping[str, Resource],
    new: Mapping[str, Resource],
    matching: Matching,
    forced: Collection[str] = (),
    rotated: Collection[str] = (),
) -> EngineRun:
    """``rotated``: secrets whose value changes, which the plans cannot show (both record ``[secret]``): updated in
    place, with new outputs (an SSM parameter's ``version``)."""
    order = topological(new, lambda r: r.edges)
    decisions: dict[str, Decision] = {}
    replaced: set[str] = set()
    # A created resource has new outputs too: whatever reads them gets values it never had.
    fresh: set[str] = set(matching.created) | set(rotated)
    for urn in order:
        old_urn = matching.pairs.get(urn)
        if old_urn is None:
            decisions[urn] = Decision(op="create")
            continue
        forced_here = urn in forced or old_urn in forced
        decision = decide(old[old_urn], new[urn], replaced, fresh | replaced, forced=forced_here)
        if urn in rotated and decision.op == "same":
            decision = Decision(op="update", reasons=("value (rotated secret)",))
        decisions[urn] = replace(decision, old=old_urn)
        if decision.op == "replace":
            replaced.add(urn)
    _chain_delete_before_replace(order, decisions)
    condemned = set(matching.deleted) | {
        d.old for d in decisions.values() if d.op == "replace" and d.mode == CBD and not d.chained_to and d.old
    }
    deleted_in_run = frozenset(condemned | {d.old for d in decisions.values() if d.op == "replace" and d.old})

    def skipped(urn: str) -> str | None:
        resource = old[urn]
        if resource.retain_on_delete:
            return "retainOnDelete"
        return "deletedWith" if resource.deleted_with in deleted_in_run else None

    steps = _program_steps(order, decisions, skipped)
    old_ancestors = ancestors(old, lambda r: r.edges)
    for index, round_ in enumerate(delete_antichains(condemned, old_ancestors)):
        for urn in round_:
            op = "delete" if urn in matching.deleted else "delete-replaced"
            steps.append(Step(phase="delete", op=op, urn=urn, round=index, skipped=skipped(urn)))
    return EngineRun(
        old=old,
        new=new,
        matching=matching,
        decisions=decisions,
        steps=steps,
        new_ancestors=ancestors(new, lambda r: r.edges),
    )


def decide(
    old: Resource,
    new: Resource,
    replaced: Collection[str],
    fresh: Collection[str] | None = None,
    *,
    forced: bool = False,
) -> Decision:
    """The engine's verdict for one matched resource.

    ``replaced``: the resources already replaced in this run; ``fresh``: every resource whose outputs are new
    in this run (replaced or created; default: the replaced ones).
    """
    fresh = set(replaced if fresh is None else fresh)
    if forced:
        return _replacement(new, ("--replace",), frozenset())
    if not new.custom:
        # Components have no provider: their inputs are compared and nothing outside the state changes.
        return Decision(op="same" if dict(old.inputs) == dict(new.inputs) else "update")
    cascade = sorted(new.replace_with & set(replaced))
    if cascade:
        return _replacement(new, tuple(f"replaceWith {c.rsplit('::', 1)[-1]}" for c in cascade), frozenset(cascade))
    if new.deleted_with in replaced and new.deleted_with is not None:
        name = new.deleted_with.rsplit("::", 1)[-1]
        return _replacement(new, (f"deletedWith {name} (replaced)",), frozenset({new.deleted_with}))
    if new.provider in replaced and new.provider is not None:
        return _replacement(new, ("provider replaced",), frozenset({new.provider}))

    masked = mask(old.inputs, new.inputs, new.ignore_changes)
    ignored = {parse(path) for path in new.ignore_changes}
    unknown = {
        key: deps & fresh for key, deps in new.property_dependencies.items() if deps & fresh and (key,) not in ignored
    }
    changed = sorted({*diff(dict(old.inputs), masked), *((key,) for key in unknown)})
    rule = rule_for(new.type)
    if _trigger_fired(old.replacement_trigger, new.replacement_trigger):
        return _replacement(new, ("replacementTrigger",), frozenset())
    if not changed:
        return Decision(op="same")
    forcing, stop_start = _classify(rule, old.inputs, masked, changed)
    forcing += [
        path
        for path in changed
        if path not in forcing and any(p == ANY or matches(parse(p), path) for p in new.replace_on_changes)
    ]
    if forcing:
        causes = frozenset(dep for path in forcing if path[0] in unknown for dep in unknown[path[0]] if dep in replaced)
        return _replacement(new, _reasons(forcing, unknown), causes, rule)
    if stop_start:
        return Decision(op="stop-start", reasons=_reasons(stop_start, unknown))
    return Decision(op="update", reasons=_reasons(changed, unknown))


def _reasons(paths: list[tuple[str, ...]], unknown: Mapping[str, frozenset[str]]) -> tuple[str, ...]:
    """Changed paths; an input that takes a new value from a resource new in this run says which."""
    return tuple(
        f"{render(p)} (new value from {', '.join(sorted(urn_name(u) for u in unknown[p[0]]))})"
        if p[0] in unknown and len(p) == 1
        else render(p)
        for p in paths
    )


def replace_mode(resource: Resource, rule: TypeRule | None = None) -> str:
    """Delete-before-replace: the option when set, else the provider's default (an explicit, auto-nameable
    ``name`` on an SDKv2 resource included: TB ``schema.go`` ``nameRequiresDeleteBeforeReplace``)."""
    rule = rule or rule_for(resource.type)
    if resource.delete_before_replace is not None:
        return DBR if resource.delete_before_replace else CBD
    explicit_name = rule.auto_name_length is not None and "name" in resource.inputs
    return DBR if rule.delete_before_replace or explicit_name else CBD


def _replacement(
    new: Resource, reasons: tuple[str, ...], causes: frozenset[str], rule: TypeRule | None = None
) -> Decision:
    return Decision(op="replace", reasons=reasons, mode=replace_mode(new, rule), causes=causes)


def _trigger_fired(old: object, new: object) -> bool:
    # A null on either side never fires (``shouldTriggerReplace``): adding or removing the option is free.
    return old is not None and new is not None and old != new


def _classify(
    rule: TypeRule, old: Mapping[str, object], new: Mapping[str, object], changed: list[tuple[str, ...]]
) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    forcing: list[tuple[str, ...]] = []
    stop_start: list[tuple[str, ...]] = []
    flags = dict(rule.replace_if_flag)
    for path in changed:
        flag = flags.get(path[0])
        if flag is not None and new.get(flag) is True:
            forcing.append(path)
        elif any(matches(parse(p), path) for p in rule.stop_start_on):
            stop_start.append(path)
        elif _forces(rule, path):
            forcing.append(path)
    kinds = rule.replace_on_kind_change
    if kinds and {k for k in kinds if old.get(k) is not None} != {k for k in kinds if new.get(k) is not None}:
        forcing += [path for path in changed if path[0] in kinds and path not in forcing]
    return forcing, stop_start


def _forces(rule: TypeRule, path: tuple[str, ...]) -> bool:
    if ANY in rule.replace_on:
        return path[0] not in rule.in_place
    return any(matches(parse(p), path) for p in rule.replace_on)


def _chain_delete_before_replace(order: list[str], decisions: dict[str, Decision]) -> None:
    """Mark the replacements whose old halves a delete-before-replace root deletes at its registration."""
    for root in order:
        decision = decisions[root]
        if decision.op != "replace" or decision.mode != DBR or decision.chained_to:
            continue
        chain = {root}
        for urn in order:
            other = decisions[urn]
            if urn not in chain and other.op == "replace" and not other.chained_to and other.causes & chain:
                decisions[urn] = replace(other, chained_to=root)
                chain.add(urn)


def _program_steps(
    order: list[str], decisions: Mapping[str, Decision], skipped: Callable[[str], str | None]
) -> list[Step]:
    steps: list[Step] = []
    chains: dict[str, list[str]] = {}
    for urn in order:
        if decisions[urn].chained_to:
            chains.setdefault(str(decisions[urn].chained_to), []).append(urn)
    for urn in order:
        decision = decisions[urn]
        if decision.op == "create":
            steps.append(Step(phase="program", op="create", urn=urn, at=urn))
        elif decision.op in ("update", "stop-start"):
            steps.append(Step(phase="program", op="update", urn=urn, at=urn))
        elif decision.op == "replace":
            if decision.mode == DBR and not decision.chained_to:
                # Dependents first, in reverse registration order, then the resource itself.
                for dependent in reversed(chains.get(urn, [])):
                    steps.append(Step(phase="program", op="delete-replaced", urn=str(decisions[dependent].old), at=urn))
                steps.append(Step(phase="program", op="delete-replaced", urn=str(decision.old), at=urn))
            steps.append(Step(phase="program", op="create-replacement", urn=urn, at=urn))
    return steps
