"""Day-2 change simulator: what ``pulumi up`` does, in which order, and what fails, from two plan documents.

Pure (no Pulumi import): the plan JSON holds everything it reads. Entry point: :func:`simulate`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from . import engine, identity, plan_model
from .checks import Blocker, blockers
from .disruption import availability, disruptions
from .engine import EngineRun
from .provider_rules import has_rule, rule_for
from .urns import urn_name

__all__ = ["Blocker", "Simulation", "simulate"]


@dataclass(frozen=True)
class Simulation:
    run: EngineRun
    blockers: list[Blocker]
    disruptions: list[dict[str, Any]]
    availability: list[dict[str, Any]]
    notes: list[str]

    def steps_json(self) -> list[dict[str, Any]]:
        out = []
        for step in self.run.steps:
            resource = self.run.new.get(step.urn) if step.op in ("create", "update", "create-replacement") else None
            resource = resource or self.run.old[step.urn]
            entry: dict[str, Any] = {
                "phase": step.phase,
                "op": step.op,
                "type": resource.type,
                "name": resource.name,
                "urn": step.urn,
            }
            if step.phase == "program":
                entry["at"] = urn_name(str(step.at))
            else:
                entry["round"] = step.round
            if step.op.startswith("delete"):
                entry["skipped"] = step.skipped
            out.append(entry)
        return out


def simulate(
    old_document: Mapping[str, Any],
    new_document: Mapping[str, Any],
    *,
    fresh_runner: bool = False,
    replace: Collection[str] = (),
    rotate: Collection[str] = (),
) -> Simulation:
    """Simulate ``pulumi up`` from the state ``old_document`` describes to the program of ``new_document``.

    ``fresh_runner``: the deploying machine did not run earlier deploys (CI), so what one-shot local commands
    left on disk is not there. ``replace``: URNs or logical names forced to replace (``pulumi up --replace``).
    ``rotate``: URNs or logical names of secrets (SSM parameters) whose value changes, invisible in the plans.
    """
    new = plan_model.load(new_document)
    old = plan_model.load(old_document, reference=new.resources)
    forced = {
        urn
        for resources in (old.resources, new.resources)
        for urn, resource in resources.items()
        if urn in replace or resource.name in replace
    }
    rotated = {urn for urn, resource in new.resources.items() if urn in rotate or resource.name in rotate}
    matching = identity.match(old.resources, new.resources)
    run = engine.run(old.resources, new.resources, matching, forced, rotated)
    old_models = {m["name"]: m for m in old_document.get("models") or []}
    models = {**old_models, **{m["name"]: m for m in new_document.get("models") or []}}
    found = disruptions(run, models)
    notes = []
    if old.legacy:
        notes.append(
            "The old plan has no resource URNs (written before they were recorded): resources were matched by "
            "type and name, so a change of parent is not visible."
        )
    unknown = sorted({r.type for r in new.resources.values() if r.custom and not has_rule(r.type)})
    if unknown:
        notes.append(f"No provider rule for {', '.join(unknown)}: {rule_for(unknown[0]).source}.")
    return Simulation(
        run=run,
        blockers=blockers(run, fresh_runner=fresh_runner),
        disruptions=found,
        availability=availability(found, {m["name"]: m for m in new_document.get("models") or []}),
        notes=notes,
    )
