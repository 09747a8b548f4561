"""A small evaluator of identity-based IAM policies, as IAM defines them, for the effective-policy tests.

Scope: the identity policies of one principal in its own account (managed + inline), with no SCP, permissions
boundary, session policy or resource policy in play, which is the host roles' case. Rules implemented, from the
IAM User Guide:

- Policy evaluation logic ("Determining whether a request is allowed or denied within an account"): an explicit
  Deny in any policy wins; otherwise an Allow in any policy allows; otherwise the request is implicitly denied.
- ``Action``/``NotAction`` ("IAM JSON policy elements: Action"): ``service:Action`` with ``*`` and ``?``
  wildcards; prefix and action name are case insensitive.
- ``Resource``/``NotResource`` ("IAM JSON policy elements: Resource", "Using wildcards in resource ARNs"): ``*`` is
  any combination of characters and ``?`` any single character within an ARN segment (the parts separated by
  colons); a ``*`` that is the last character of a segment can expand beyond the colon boundaries. Matching is
  case sensitive (SSM parameter names are).

- ``Condition`` with ``StringEquals`` only ("IAM JSON policy elements: Condition operators"): every key listed must
  be in the request context with one of the listed values (exact, case-sensitive match; condition key names are
  case insensitive); a key absent from the request context does not match ("If the key that you specify in a
  policy condition is not present in the request context, the values do not match"), and the conditions of one
  statement are ANDed.

Any other condition operator (or a ``Principal``, which identity policies cannot have) is refused rather than
guessed at: a policy this evaluator cannot judge makes the test fail, it never passes by accident.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

Decision = Literal["allowed", "explicitly denied", "implicitly denied"]


def _as_list(value: str | Sequence[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _action_regex(pattern: str) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, re.IGNORECASE | re.DOTALL)


def _resource_regex(pattern: str) -> re.Pattern[str]:
    if pattern == "*":
        return re.compile(".*", re.DOTALL)
    parts = []
    for index, char in enumerate(pattern):
        if char == "*":
            # Within its segment, unless it ends the segment (then it may run past the colons).
            at_segment_end = index + 1 == len(pattern) or pattern[index + 1] == ":"
            parts.append(".*" if at_segment_end else "[^:]*")
        elif char == "?":
            parts.append("[^:]")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts), re.DOTALL)


def action_matches(pattern: str, action: str) -> bool:
    return _action_regex(pattern).fullmatch(action) is not None


def resource_matches(pattern: str, arn: str) -> bool:
    return _resource_regex(pattern).fullmatch(arn) is not None


@dataclass(frozen=True)
class Statement:
    effect: Literal["Allow", "Deny"]
    actions: tuple[str, ...]
    not_actions: bool
    resources: tuple[str, ...]
    not_resources: bool
    string_equals: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> Statement:
        known = {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition"}
        unsupported = sorted(set(raw) - known)
        operators = sorted(set(raw.get("Condition", {})) - {"StringEquals"})
        if operators:
            unsupported.append(f"Condition {operators}")
        if unsupported:
            raise ValueError(f"statement uses {unsupported}, which this evaluator does not judge: {raw}")
        if raw["Effect"] not in ("Allow", "Deny"):
            raise ValueError(f"Effect must be Allow or Deny: {raw}")
        if ("Action" in raw) == ("NotAction" in raw) or ("Resource" in raw) == ("NotResource" in raw):
            raise ValueError(f"a statement has exactly one of Action/NotAction and one of Resource/NotResource: {raw}")
        return cls(
            effect=raw["Effect"],
            actions=tuple(_as_list(raw.get("Action", raw.get("NotAction")))),
            not_actions="NotAction" in raw,
            resources=tuple(_as_list(raw.get("Resource", raw.get("NotResource")))),
            not_resources="NotResource" in raw,
            string_equals=tuple(
                (key.lower(), tuple(_as_list(values)))
                for key, values in raw.get("Condition", {}).get("StringEquals", {}).items()
            ),
        )

    def applies(self, action: str, resource: str, context: Mapping[str, str] | None = None) -> bool:
        action_listed = any(action_matches(p, action) for p in self.actions)
        resource_listed = any(resource_matches(p, resource) for p in self.resources)
        given = {key.lower(): value for key, value in (context or {}).items()}
        conditions_met = all(given.get(key) in values for key, values in self.string_equals)
        return action_listed != self.not_actions and resource_listed != self.not_resources and conditions_met


def statements(documents: Iterable[str | Mapping[str, Any]]) -> list[Statement]:
    parsed = []
    for document in documents:
        body = json.loads(document) if isinstance(document, str) else document
        if body.get("Version") != "2012-10-17":
            raise ValueError(f"policy language version must be 2012-10-17: {body}")
        raw = body["Statement"]
        parsed += [Statement.parse(s) for s in ([raw] if isinstance(raw, Mapping) else raw)]
    return parsed


def decide(
    policy_statements: Sequence[Statement], action: str, resource: str, context: Mapping[str, str] | None = None
) -> Decision:
    """The decision for one action on one resource, with these request context keys, under these policies."""
    matching = [s for s in policy_statements if s.applies(action, resource, context)]
    if any(s.effect == "Deny" for s in matching):
        return "explicitly denied"
    if any(s.effect == "Allow" for s in matching):
        return "allowed"
    return "implicitly denied"
