"""What the engine receives for one registered resource, as the offline plan records it: type, name, parent,
inputs (secrets redacted) and the resource options, with the URN the engine computes.

Reads the SDK's ``RegisterResourceRequest`` fields only (public protobuf); the mock engine that receives them is
:mod:`.program`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from google.protobuf import json_format

from .simulate.urns import make_urn, stack_and_project


@dataclass
class RecordedResource:
    """One registration as the engine would receive it."""

    type: str
    name: str
    parent: str | None
    inputs: dict[str, Any]
    options: dict[str, Any]
    urn: str
    custom: bool = True


def options_of(request: Any, urn: str, parent: str | None, engine_urns: Mapping[str, str]) -> dict[str, Any]:
    return {
        "protect": bool(request.protect),
        "retainOnDelete": bool(request.retainOnDelete),
        # null: not set, so the provider's default applies (an explicit false overrides it).
        "deleteBeforeReplace": bool(request.deleteBeforeReplace) if request.deleteBeforeReplaceDefined else None,
        "ignoreChanges": sorted(request.ignoreChanges),
        "replaceOnChanges": sorted(request.replaceOnChanges),
        "dependsOn": sorted(name_from_urn(urn) or urn for urn in request.dependencies),
        "propertyDependencies": {
            key: sorted(name_from_urn(urn) or urn for urn in deps.urns)
            for key, deps in sorted(request.propertyDependencies.items())
            if deps.urns
        },
        "provider": _provider_name(request.provider),
        "deletedWith": name_from_urn(request.deletedWith),
        "replaceWith": sorted(name_from_urn(urn) or urn for urn in request.replace_with),
        "replacementTrigger": _replacement_trigger(request),
        "aliases": _aliases(request, urn, parent, engine_urns),
    }


def _aliases(request: Any, urn: str, parent: str | None, engine_urns: Mapping[str, str]) -> list[str]:
    """Each alias as the URN the engine looks up (unset spec fields default to the resource's own)."""
    stack, project = stack_and_project(urn)
    out = []
    for alias in request.aliases:
        if alias.HasField("urn"):
            out.append(alias.urn)
            continue
        spec = alias.spec
        alias_parent = None if spec.noParent else (engine_urns.get(spec.parentUrn, spec.parentUrn) or parent)
        out.append(
            make_urn(
                spec.stack or stack,
                spec.project or project,
                alias_parent,
                spec.type or request.type,
                spec.name or request.name,
            )
        )
    return sorted(out)


def _replacement_trigger(request: Any) -> Any:
    if not request.HasField("replacement_trigger"):
        return None
    return json_format.MessageToDict(request.replacement_trigger)


def name_from_urn(urn: str) -> str | None:
    if not urn or (urn.endswith("pulumi:pulumi:Stack::" + urn.rsplit("::", 1)[-1]) and "$" not in urn):
        return None
    return urn.rsplit("::", 1)[-1]


def _provider_name(reference: str) -> str | None:
    # "<provider urn>::<id>"; default providers are an implementation detail of the engine.
    if not reference:
        return None
    urn = reference.rsplit("::", 1)[0]
    name = urn.rsplit("::", 1)[-1]
    return None if name.startswith("default") else name
