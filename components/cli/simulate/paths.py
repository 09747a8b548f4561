"""Property paths (``a.b``, ``a[0]``, ``a[*].b``, ``["key.with.dots"]``): diffing inputs, masking ignored paths.

Syntax as pulumi.com/docs/reference/property-paths; ``ignoreChanges`` resets the listed paths to the old
values before the diff (pulumi/pulumi ``step_generator.go`` ``processIgnoreChanges``).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from typing import Any

WILDCARD = "*"
_TOKEN = re.compile(r'\["((?:[^"\\]|\\.)*)"\]|\[(\*|\d+)\]|\.?([^.\[\]]+)')


def parse(path: str) -> tuple[str, ...]:
    return tuple(quoted or index or plain for quoted, index, plain in _TOKEN.findall(path))


def render(tokens: Sequence[str]) -> str:
    out = ""
    for token in tokens:
        if token.isdigit() or token == WILDCARD:
            out += f"[{token}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", token):
            out += f".{token}" if out else token
        else:
            out += f'["{token}"]'
    return out


def diff(old: Any, new: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """The paths where ``new`` differs from ``old``, as deep as both sides have the same shape."""
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        out: list[tuple[str, ...]] = []
        for key in sorted(set(old) | set(new), key=str):
            if key not in old or key not in new:
                out.append((*prefix, str(key)))
            else:
                out.extend(diff(old[key], new[key], (*prefix, str(key))))
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [
            path
            for index, (a, b) in enumerate(zip(old, new, strict=True))
            for path in diff(a, b, (*prefix, str(index)))
        ]
    return [] if old == new else [prefix]


def matches(pattern: Sequence[str], path: Sequence[str]) -> bool:
    """True when one path lies under the other (a change to ``a`` touches ``a.b`` and the reverse)."""
    return all(WILDCARD in (p, q) or p == q for p, q in zip(pattern, path, strict=False))


def mask(old: Mapping[str, Any], new: Mapping[str, Any], ignored: Sequence[str]) -> dict[str, Any]:
    """``new`` with every ignored path set back to its value in ``old`` (removed where ``old`` has none)."""
    masked = copy.deepcopy(dict(new))
    for path in ignored:
        _reset(old, masked, parse(path))
    return masked


def _reset(old: Any, new: Any, tokens: tuple[str, ...]) -> None:
    if not tokens or not isinstance(new, dict | list):
        return
    head, rest = tokens[0], tokens[1:]
    keys: list[Any]
    if isinstance(new, list):
        keys = list(range(len(new))) if head == WILDCARD else [int(head)] if head.isdigit() else []
        keys = [k for k in keys if k < len(new)]
    else:
        keys = list(new) if head == WILDCARD else [head]
    for key in keys:
        before = _get(old, key)
        if rest:
            if key in (range(len(new)) if isinstance(new, list) else new):
                _reset(before, new[key], rest)
        elif before is _MISSING:
            if isinstance(new, dict):
                new.pop(key, None)
        else:
            new[key] = copy.deepcopy(before)


_MISSING = object()


def _get(value: Any, key: Any) -> Any:
    if isinstance(value, Mapping):
        return value.get(key, _MISSING)
    if isinstance(value, list) and isinstance(key, int) and key < len(value):
        return value[key]
    return _MISSING
