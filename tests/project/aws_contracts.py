"""Checks recorded Pulumi resources against the AWS API calls that create them (the table: aws_contract_table.py).

The mocks accept any input; AWS does not. Each AWS resource type maps its Pulumi inputs to members of the API
operation its provider calls (pulumi-aws bridges terraform-provider-aws, whose create functions name the calls).
A member is checked against its shape in botocore's model (:mod:`aws_api_models`); limits the model only
states in prose, or that an AWS page states, are :class:`Rule` s carrying their :class:`Source`. Names Pulumi
generates count too: ``<logical name>-<7 random hex>`` must fit the resource's maximum.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import aws_api_models

from components.cli.program import ProgramRun, RecordedResource

# pulumi-terraform-bridge pkg/tfbridge/info/autonaming.go AutoName: Randlen 7 after the separator "-";
# pulumi/pulumi sdk/go/common/resource/resource_id.go NewUniqueHex fails "name '<name>-' plus 7 random chars is
# longer than maximum length N" instead of truncating.
AUTO_NAME_SUFFIX = "-0a1b2c3"

Problem = str | None
Check = Callable[[Any], Problem]


@dataclass(frozen=True)
class Source:
    """Where a rule is written. With ``service``, ``where`` is a member (or operation) of that botocore model
    whose documentation must contain ``quote``; otherwise ``where`` is an AWS page or a source file."""

    where: str
    quote: str
    service: str | None = None

    def __str__(self) -> str:
        return f"{self.service} model {self.where}" if self.service else self.where


@dataclass(frozen=True)
class Member:
    """A Pulumi input (camelCase path as registered, ``[]`` steps into a list) and the API member it becomes."""

    pulumi: str
    api: str
    note: str = ""  # where the provider renames or converts the input on its way to the API
    convert: Callable[[Any], Any] | None = None


@dataclass(frozen=True)
class Rule:
    """A limit the model's shapes do not carry. ``pulumi`` "" hands the check all inputs (cross-field rules)."""

    pulumi: str
    check: Check
    source: Source
    when: str | None = None  # applies only when this input is set


@dataclass(frozen=True)
class AutoName:
    """pulumi-aws fills ``name`` with ``<logical name>-<7 hex>`` when the program gives none; either must pass."""

    api: str  # the member that receives the name
    max_length: int  # the AutoName maxlen pulumi-aws sets for this resource
    source: str
    rules: tuple[Rule, ...] = ()  # documented name rules, applied to a generated name


@dataclass(frozen=True)
class Tagging:
    """How ``tags`` reach the API: each key and value is a member; ``rules`` read the whole tag map."""

    key: str
    value: str
    tag_list: str
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class Contract:
    """One Pulumi resource type: the API call(s) that create it and what each input must satisfy there."""

    type: str
    service: str
    created_by: str  # the API operations and the provider code that calls them
    members: tuple[Member, ...] = ()
    rules: tuple[Rule, ...] = ()
    tags: Tagging | None = None
    auto_name: AutoName | None = None
    unchecked: Mapping[str, str] = field(default_factory=dict)  # input -> why no API constraint applies


# --- checks the rules use ---------------------------------------------------------------------------------------


def between(low: int, high: int) -> Check:
    def check(value: Any) -> Problem:
        return None if low <= value <= high else f"{value:g} is outside {low}-{high}"

    return check


def at_most_characters(limit: int) -> Check:
    def check(value: Any) -> Problem:
        return None if len(value) <= limit else f"{len(value)} characters, more than {limit}: {value!r}"

    return check


def one_of(*allowed: Any) -> Check:
    def check(value: Any) -> Problem:
        return None if value in allowed else f"{value!r} is not one of {list(allowed)}"

    return check


def characters(allowed: str) -> Check:
    allowed_set = set(allowed)

    def check(value: Any) -> Problem:
        bad = sorted({char for char in value if char not in allowed_set})
        return f"{value!r} contains {''.join(bad)!r}, outside the allowed set" if bad else None

    return check


def not_prefixed(prefix: str) -> Check:
    def check(value: Any) -> Problem:
        return f"{value!r} starts with the reserved {prefix!r}" if value.lower().startswith(prefix) else None

    return check


def all_of(*checks: Check) -> Check:
    def check(value: Any) -> Problem:
        return next((problem for c in checks if (problem := c(value)) is not None), None)

    return check


ALNUM = string.ascii_letters + string.digits


# --- the checker ------------------------------------------------------------------------------------------------


def values_at(inputs: Mapping[str, Any], path: str) -> Iterator[Any]:
    """Every value at ``path`` ("" is the inputs themselves); absent or unknown values yield nothing."""
    if not path:
        yield inputs
        return
    head, _, rest = path.partition(".")
    name, is_list = (head[:-2], True) if head.endswith("[]") else (head, False)
    value = inputs.get(name) if isinstance(inputs, Mapping) else None
    if value is None:
        return
    items = value if is_list else [value]
    for item in items if isinstance(items, list) else []:
        yield from values_at(item, rest) if rest else [item]


def _top_level(path: str) -> str:
    return path.split(".", maxsplit=1)[0].removesuffix("[]")


def check_resource(resource: RecordedResource, contract: Contract) -> list[str]:
    """Every way ``resource``'s inputs break its contract, one line each with the rule's source."""
    found: list[str] = []

    def report(path: str, problem: str, source: object) -> None:
        found.append(f"{resource.type} {resource.name}: {path}: {problem} [{source}]")

    inputs = resource.inputs
    for member in contract.members:
        shape = aws_api_models.shape_of(contract.service, member.api)
        for value in values_at(inputs, member.pulumi):
            sent = member.convert(value) if member.convert else value
            for problem in aws_api_models.shape_violations(contract.service, shape, sent):
                report(member.pulumi, problem, f"{contract.service} {member.api}")
    for rule in contract.rules:
        if rule.when is not None and not list(values_at(inputs, rule.when)):
            continue
        for value in values_at(inputs, rule.pulumi):
            if (problem := rule.check(value)) is not None:
                report(rule.pulumi or "(inputs)", problem, rule.source)
    if contract.tags is not None and inputs.get("tags"):
        found += [f"{resource.type} {resource.name}: {p}" for p in _tag_problems(inputs["tags"], contract)]
    if contract.auto_name is not None:
        found += [f"{resource.type} {resource.name}: {p}" for p in _name_problems(resource, contract)]
    covered = {_top_level(m.pulumi) for m in contract.members} | {_top_level(r.pulumi) for r in contract.rules}
    covered |= set(contract.unchecked) | ({"tags"} if contract.tags else set())
    covered |= {"name"} if contract.auto_name else set()
    for name in sorted(set(inputs) - covered):
        report(name, "no contract maps this input to its API member", "tests/project/aws_contract_table.py")
    return found


def _member_violations(service: str, member_path: str, value: Any) -> list[str]:
    return aws_api_models.shape_violations(service, aws_api_models.shape_of(service, member_path), value)


def _tag_problems(tags: Mapping[str, Any], contract: Contract) -> list[str]:
    assert contract.tags is not None
    service, tagging = contract.service, contract.tags
    found = [
        f"tags: {problem} [{service} {tagging.tag_list}]"
        for problem in _member_violations(service, tagging.tag_list, list(tags))
    ]
    for key, value in tags.items():
        found += [
            f"tags[{key!r}] key: {p} [{service} {tagging.key}]" for p in _member_violations(service, tagging.key, key)
        ]
        found += [
            f"tags[{key!r}] value: {p} [{service} {tagging.value}]"
            for p in _member_violations(service, tagging.value, value)
        ]
    for rule in tagging.rules:
        if (problem := rule.check(tags)) is not None:
            found.append(f"tags: {problem} [{rule.source}]")
    return found


def _name_problems(resource: RecordedResource, contract: Contract) -> list[str]:
    """The name the program gives, else the one Pulumi generates from the logical name, against the API's rules."""
    assert contract.auto_name is not None
    auto, service = contract.auto_name, contract.service
    name = resource.inputs.get("name")
    if name is None:
        name = resource.name + AUTO_NAME_SUFFIX
        if len(name) > auto.max_length:
            return [
                f"name: Pulumi's auto-name '{resource.name}-' plus 7 random chars is longer than maximum length "
                f"{auto.max_length} [{auto.source}]"
            ]
    found = [f"name: {p} [{service} {auto.api}]" for p in _member_violations(service, auto.api, name)]
    found += [f"name: {p} [{rule.source}]" for rule in auto.rules if (p := rule.check(name)) is not None]
    return found


def check_run(run: ProgramRun, contracts: Mapping[str, Contract]) -> list[str]:
    """Check every AWS resource of a program run; an ``aws:`` type without a contract is itself a finding."""
    found: list[str] = []
    for resource in run.resources:
        if not resource.type.startswith("aws:"):
            continue
        contract = contracts.get(resource.type)
        if contract is None:
            found.append(f"{resource.type} {resource.name}: no contract for this resource type")
            continue
        found += check_resource(resource, contract)
    return found
