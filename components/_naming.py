"""Type tokens, child names and tags: one place, so logical names (a contract) cannot drift."""

from __future__ import annotations

from collections.abc import Mapping

TYPE_PREFIX = "vllm-aws:index"
TAG_PREFIX = "vllm-aws"


def type_token(class_name: str) -> str:
    """``vllm-aws:index:<Class>``: the index module lets the package become a component provider as is."""
    return f"{TYPE_PREFIX}:{class_name}"


def child_name(parent: str, role: str) -> str:
    """Logical name of a component's child. Renaming one replaces the resource: add an alias if you must."""
    return f"{parent}-{role}"


def replica_name(model: str, replica: int) -> str:
    """Replicas are keyed by model name and replica number, never by list position of unrelated things."""
    return f"{model}-{replica}"


def merge_tags(*layers: Mapping[str, str], name: str) -> dict[str, str]:
    """Later layers win; ``Name`` is always the resource's own."""
    merged: dict[str, str] = {}
    for layer in layers:
        merged.update(layer)
    merged["Name"] = name
    return merged
