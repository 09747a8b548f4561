"""The resources of a plan document (docs/plan-json.md) as the simulator reads them: identity and edges.

Options name other resources by logical name; here every reference becomes a URN. A plan written before
resources carried their ``urn`` (schema 1 without it) is "legacy": its resources are keyed by (type, name),
which cannot see a reparent, and the diff says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .provider_rules import PROVIDER_PREFIX
from .urns import parent_urn

LEGACY_PREFIX = "legacy:"


@dataclass(frozen=True)
class Resource:
    """One registered resource, its inputs and the registration options the engine acts on."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str | None
    inputs: Mapping[str, Any]
    protect: bool = False
    retain_on_delete: bool = False
    delete_before_replace: bool | None = None
    ignore_changes: tuple[str, ...] = ()
    replace_on_changes: tuple[str, ...] = ()
    dependencies: frozenset[str] = frozenset()
    property_dependencies: Mapping[str, frozenset[str]] = field(default_factory=dict)
    deleted_with: str | None = None
    replace_with: frozenset[str] = frozenset()
    replacement_trigger: Any = None
    provider: str | None = None
    aliases: tuple[str, ...] = ()

    @property
    def edges(self) -> frozenset[str]:
        """What must exist before this resource registers (and be deleted after it)."""
        extra = {u for u in (self.parent, self.provider, self.deleted_with) if u}
        return self.dependencies | extra


@dataclass(frozen=True)
class PlanResources:
    resources: dict[str, Resource]
    legacy: bool


def load(document: Mapping[str, Any], reference: Mapping[str, Resource] | None = None) -> PlanResources:
    """The document's resources by URN. A legacy document borrows URNs from ``reference`` by (type, name)."""
    entries: Sequence[Mapping[str, Any]] = document.get("resources") or []
    legacy = any("urn" not in entry for entry in entries)
    parents = {entry.get("parent") for entry in entries}
    by_type_name: dict[tuple[str, str], list[str]] = {}
    for resource in (reference or {}).values():
        by_type_name.setdefault((resource.type, resource.name), []).append(resource.urn)

    urns: list[str] = []
    for entry in entries:
        if "urn" in entry:
            urns.append(str(entry["urn"]))
            continue
        borrowed = by_type_name.get((str(entry["type"]), str(entry["name"])), [])
        urns.append(borrowed[0] if len(borrowed) == 1 else f"{LEGACY_PREFIX}{entry['type']}::{entry['name']}")
    customs = [bool(entry.get("custom", entry["name"] not in parents)) for entry in entries]
    index = _NameIndex(entries, urns, customs)

    resources: dict[str, Resource] = {}
    for entry, urn, custom in zip(entries, urns, customs, strict=True):
        options: Mapping[str, Any] = entry.get("options") or {}
        parent_name = entry.get("parent")
        parent = (
            parent_urn(urn, parent_name) if not urn.startswith(LEGACY_PREFIX) else index.one(parent_name, custom=False)
        )
        dbr = options.get("deleteBeforeReplace")
        resources[urn] = Resource(
            urn=urn,
            type=str(entry["type"]),
            name=str(entry["name"]),
            custom=custom,
            parent=parent,
            inputs=entry.get("inputs") or {},
            protect=bool(options.get("protect")),
            retain_on_delete=bool(options.get("retainOnDelete")),
            # Legacy plans wrote false for "not set".
            delete_before_replace=None if dbr is None or (legacy and dbr is False) else bool(dbr),
            ignore_changes=tuple(options.get("ignoreChanges") or ()),
            replace_on_changes=tuple(options.get("replaceOnChanges") or ()),
            dependencies=index.all(options.get("dependsOn") or ()),
            property_dependencies={
                key: index.all(names) for key, names in (options.get("propertyDependencies") or {}).items()
            },
            deleted_with=index.one(options.get("deletedWith")),
            replace_with=index.all(options.get("replaceWith") or ()),
            replacement_trigger=options.get("replacementTrigger"),
            provider=index.one(options.get("provider"), provider=True),
            aliases=tuple(options.get("aliases") or ()),
        )
    return PlanResources(resources=resources, legacy=legacy)


class _NameIndex:
    """Logical name -> URN. Dependencies name custom resources (the SDK expands components to their children)."""

    def __init__(self, entries: Sequence[Mapping[str, Any]], urns: Sequence[str], customs: Sequence[bool]) -> None:
        self._by_name: dict[str, list[tuple[str, str, bool]]] = {}
        for entry, urn, custom in zip(entries, urns, customs, strict=True):
            self._by_name.setdefault(str(entry["name"]), []).append((urn, str(entry["type"]), custom))

    def candidates(self, name: str, *, custom: bool = True, provider: bool = False) -> list[str]:
        found = self._by_name.get(name, [])
        preferred = [
            urn
            for urn, type_, is_custom in found
            if is_custom == custom and type_.startswith(PROVIDER_PREFIX) == provider
        ]
        return preferred or [urn for urn, _type, _custom in found]

    def one(self, name: str | None, *, custom: bool = True, provider: bool = False) -> str | None:
        if not name:
            return None
        found = self.candidates(name, custom=custom, provider=provider)
        return found[0] if found else None

    def all(self, names: Iterable[str]) -> frozenset[str]:
        return frozenset(urn for name in names for urn in self.candidates(name))
