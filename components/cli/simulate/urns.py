"""Pulumi resource identity: URNs, qualified types and aliases (pure; no Pulumi import).

The engine matches old and new resources by URN, then by alias; anything else is a new resource plus a deleted
one (pulumi/pulumi ``pkg/resource/deploy/step_generator.go`` ``getOldResource``, ``generateAliases``).
"""

from __future__ import annotations

ROOT_STACK_TYPE = "pulumi:pulumi:Stack"
TYPE_DELIMITER = "$"
_PREFIX = "urn:pulumi:"


def make_urn(stack: str, project: str, parent_urn: str | None, type_: str, name: str) -> str:
    """``urn:pulumi:<stack>::<project>::<qualified type>::<name>``.

    The qualified type is the parent's qualified type + ``$`` + the type, except under the root stack
    (pulumi/pulumi ``sdk/go/common/resource/urn/urn.go`` ``New``): a reparent changes the URN, the parent's
    name does not.
    """
    parent_type = qualified_type(parent_urn) if parent_urn else ""
    qualified = type_ if parent_type in ("", ROOT_STACK_TYPE) else f"{parent_type}{TYPE_DELIMITER}{type_}"
    return f"{_PREFIX}{stack}::{project}::{qualified}::{name}"


def _parts(urn: str) -> list[str]:
    if not urn.startswith(_PREFIX):
        raise ValueError(f"not a URN: {urn!r}")
    parts = urn[len(_PREFIX) :].split("::", 3)
    if len(parts) != 4:
        raise ValueError(f"not a URN: {urn!r}")
    return parts


def qualified_type(urn: str) -> str:
    return _parts(urn)[2]


def urn_name(urn: str) -> str:
    """The logical name (also of the ``legacy:<type>::<name>`` keys of plans written without URNs)."""
    return urn.split("::", 3)[3] if urn.startswith(_PREFIX) else urn.rsplit("::", 1)[-1]


def stack_and_project(urn: str) -> tuple[str, str]:
    stack, project, _type, _name = _parts(urn)
    return stack, project


def parent_urn(urn: str, parent_name: str | None) -> str | None:
    """The parent's URN from a child's URN and the parent's name (the child's type chain holds the rest)."""
    chain = qualified_type(urn)
    if parent_name is None or TYPE_DELIMITER not in chain:
        return None
    stack, project = stack_and_project(urn)
    return f"{_PREFIX}{stack}::{project}::{chain.rsplit(TYPE_DELIMITER, 1)[0]}::{parent_name}"


def inherited_alias(child_type: str, child_name: str, parent_name: str, parent_alias: str) -> str:
    """The alias a child gets when its parent was found under an alias (``inheritedChildAlias``).

    A child named ``<parent name>-x`` is assumed to follow the ``{name}-x`` convention, so the prefix is
    swapped for the aliased parent's name.
    """
    name = child_name
    if child_name.startswith(parent_name):
        name = urn_name(parent_alias) + child_name[len(parent_name) :]
    stack, project = stack_and_project(parent_alias)
    return make_urn(stack, project, parent_alias, child_type, name)
