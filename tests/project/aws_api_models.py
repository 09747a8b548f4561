"""botocore's service models as the source of truth for the inputs AWS accepts.

The JSON models shipped with botocore (requirements-dev.txt) are generated from the same Smithy models AWS
validates requests against: each input member has a shape with a type and, where AWS states one, a length or
value range, a regular expression (``pattern``) or an ``enum``. This module finds the shape behind an
operation's member (``elbv2`` ``CreateRule.Priority`` -> ``RulePriority``) and checks a value against it.

Limits the model states only in prose live in the members' ``documentation``; :func:`documentation` returns it
normalised, so a rule copied from it can be proved to be quoted, not invented.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import regex
from botocore.loaders import Loader

# Smithy patterns are Java regular expressions: `\w` is ASCII there, while the `regex` module (needed for
# `\p{L}`, `\p{Z}`, `\p{N}`) would read it as Unicode. Spelled out, inside or outside a character class.
_JAVA_WORD = "a-zA-Z0-9_"


@cache
def service_model(service: str) -> dict[str, Any]:
    """The model of ``service`` (``elbv2``, ``ec2``, ``iam``, ``ssm``) from the installed botocore."""
    model: dict[str, Any] = Loader().load_service_model(service, "service-2")
    return model


def _walk(service: str, member_path: str) -> tuple[str, dict[str, Any]]:
    """``CreateRule.Conditions[].PathPatternConfig.Values[]`` -> (shape name, the member reference).

    The first segment is an operation (its input shape); ``[]`` steps into a list's member.
    """
    model = service_model(service)
    operation, *segments = member_path.split(".")
    if operation not in model["operations"]:
        raise KeyError(f"{service} has no operation {operation!r}")
    shape_name = model["operations"][operation]["input"]["shape"]
    reference: dict[str, Any] = {"shape": shape_name}
    for segment in segments:
        name, is_item = (segment[:-2], True) if segment.endswith("[]") else (segment, False)
        members = model["shapes"][shape_name].get("members", {})
        if name not in members:
            raise KeyError(f"{service} {member_path}: {model['shapes'][shape_name]} has no member {name!r}")
        reference = members[name]
        shape_name = reference["shape"]
        if is_item:
            list_shape = model["shapes"][shape_name]
            if list_shape["type"] != "list":
                raise KeyError(f"{service} {member_path}: {name} is a {list_shape['type']}, not a list")
            reference = list_shape["member"]
            shape_name = reference["shape"]
    return shape_name, reference


def shape_of(service: str, member_path: str) -> str:
    """Name of the shape that constrains ``member_path`` (raises KeyError if the model has no such member)."""
    return _walk(service, member_path)[0]


def documentation(service: str, member_path: str) -> str:
    """The member's documentation (else its shape's; an operation's own for a bare operation name), as text."""
    model = service_model(service)
    if "." not in member_path:
        raw = model["operations"][member_path].get("documentation", "")
    else:
        shape_name, reference = _walk(service, member_path)
        raw = reference.get("documentation") or model["shapes"][shape_name].get("documentation", "")
    return normalise(raw)


def normalise(html: str) -> str:
    """Model documentation is HTML: inline tags dropped, block tags a space, entities decoded, spaces collapsed."""
    text = re.sub(r"</?(code|a|i|b|em|strong)\b[^>]*>", "", html)
    text = re.sub(r"<[^>]+>", " ", text).replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    return re.sub(r"\s+", " ", text).strip()


def _python_pattern(java: str) -> str:
    out, in_class, index = [], False, 0
    while index < len(java):
        char = java[index]
        if char == "\\" and index + 1 < len(java):
            pair = java[index : index + 2]
            out.append((_JAVA_WORD if in_class else f"[{_JAVA_WORD}]") if pair == r"\w" else pair)
            index += 2
            continue
        if char == "[":
            in_class = True
        elif char == "]":
            in_class = False
        out.append(char)
        index += 1
    return "".join(out)


@cache
def _compiled(java: str) -> regex.Pattern[str]:
    return regex.compile(_python_pattern(java))


def shape_violations(service: str, shape_name: str, value: Any) -> list[str]:
    """What AWS would reject about ``value`` for this shape: type, length or range, pattern, enum.

    Patterns must match the whole value: AWS applies them as Java ``matches()``, and the unanchored ones
    (IAM's ``[\\w+=,.@-]+``) describe the whole name.
    """
    shape = service_model(service)["shapes"][shape_name]
    kind = shape["type"]
    label = f"{service} {shape_name}"
    if kind == "string":
        if not isinstance(value, str):
            return [f"{label} expects a string, got {value!r}"]
        problems = []
        if "min" in shape and len(value) < shape["min"]:
            problems.append(f"{label}: {value!r} is shorter than {shape['min']}")
        if "max" in shape and len(value) > shape["max"]:
            problems.append(f"{label}: {len(value)} characters, more than {shape['max']}: {value!r}")
        if "pattern" in shape and not _compiled(shape["pattern"]).fullmatch(value):
            problems.append(f"{label}: {value!r} does not match {shape['pattern']}")
        if "enum" in shape and value not in shape["enum"]:
            problems.append(f"{label}: {value!r} is not one of {shape['enum']}")
        return problems
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
            return [f"{label} expects an integer, got {value!r}"]
        problems = []
        if "min" in shape and value < shape["min"]:
            problems.append(f"{label}: {value:g} is below the minimum {shape['min']}")
        if "max" in shape and value > shape["max"]:
            problems.append(f"{label}: {value:g} is above the maximum {shape['max']}")
        return problems
    if kind == "boolean":
        return [] if isinstance(value, bool) else [f"{label} expects a boolean, got {value!r}"]
    if kind == "list":
        if not isinstance(value, list):
            return [f"{label} expects a list, got {value!r}"]
        if "min" in shape and len(value) < shape["min"]:
            return [f"{label}: {len(value)} items, fewer than {shape['min']}"]
        if "max" in shape and len(value) > shape["max"]:
            return [f"{label}: {len(value)} items, more than {shape['max']}"]
        return []
    raise ValueError(f"{label}: checking a {kind} shape as a whole is not supported; map its members")
