"""Which new resource continues which old one: by URN, then by alias, as the engine looks them up.

pulumi/pulumi ``pkg/resource/deploy/step_generator.go``: ``getOldResource`` tries the URN first, then each
alias (``generateAliases``: the resource's own, plus one inherited from a parent found under an alias,
``inheritedChildAlias``). No match: the new URN is created at registration and the old one deleted at the end
(``continueStepsFromImport`` case 4, ``GenerateDeletes``) -- a reparent without an alias is a delete and a
create, never an update.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .graph import topological
from .plan_model import Resource
from .urns import inherited_alias


@dataclass(frozen=True)
class Matching:
    pairs: dict[str, str]
    """New URN -> the old URN it continues."""
    created: tuple[str, ...]
    deleted: tuple[str, ...]
    aliased: dict[str, str]
    """The pairs found through an alias."""
    moved: dict[str, str]
    """New URN -> old URN of the same type and name under another URN (re-created: no alias)."""


def match(old: Mapping[str, Resource], new: Mapping[str, Resource]) -> Matching:
    pairs: dict[str, str] = {}
    aliased: dict[str, str] = {}
    for urn in topological(new, lambda r: {r.parent} if r.parent else set()):
        resource = new[urn]
        candidates = [urn, *resource.aliases]
        parent_alias = aliased.get(resource.parent or "")
        if parent_alias and resource.parent:
            parent_name = new[resource.parent].name
            candidates.append(inherited_alias(resource.type, resource.name, parent_name, parent_alias))
            candidates += [
                inherited_alias(resource.type, alias.rsplit("::", 1)[-1], parent_name, parent_alias)
                for alias in resource.aliases
            ]
        claimed = set(pairs.values())
        found = next((c for c in candidates if c in old and c not in claimed), None)
        if found is not None:
            pairs[urn] = found
            if found != urn:
                aliased[urn] = found
    created = tuple(sorted(set(new) - set(pairs)))
    deleted = tuple(sorted(set(old) - set(pairs.values())))
    by_type_name = {(old[u].type, old[u].name): u for u in deleted}
    moved = {u: by_type_name[(new[u].type, new[u].name)] for u in created if (new[u].type, new[u].name) in by_type_name}
    return Matching(pairs=pairs, created=created, deleted=deleted, aliased=aliased, moved=moved)
