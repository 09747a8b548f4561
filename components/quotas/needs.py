"""The AWS quotas a stack consumes, and the one message to show when it does not fit.

Pure. What the stack needs comes from its plan: EC2 vCPUs per instance-family group (on-demand and spot
apart), and per-load-balancer limits (``stack_counts``). The account's limits are read at preview
(``quota_check``); offline the mock engine answers with AWS's documented defaults, and with a generous
placeholder for the vCPU quotas, whose applied value differs from account to account.

The vCPU quotas are account-wide per region: other instances of the same family group count against them too,
and only Service Quotas' usage metrics know about those. So the rule is the one that cannot refuse a valid
change: the stack's whole need (its existing hosts included, since they are part of the plan) must fit the
applied quota. An update that adds one host asks for the new total, never for the total on top of what the
stack already runs; a need above the quota fails for certain, whatever else runs in the account. GPU hosts are
replaced delete-before-create, so a replacement never holds two hosts' vCPUs at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..config.schema import StackConfig
from ..errors import ConfigError, ConfigIssue, key_path
from ..planner.plan import StackPlan, hosts_for
from .counts import StackCounts, stack_counts


@dataclass(frozen=True)
class Quota:
    """One quota as Service Quotas names it."""

    name: str
    code: str | None
    """Service Quotas code; None for a fixed limit that Service Quotas does not list."""
    service: str
    unit: str
    aws_default: int
    """AWS's documented default value (the applied value can be higher: increases, and EC2's own with usage)."""


# EC2 vCPU quotas: names, codes (in the Service Quotas console links) and defaults from the EC2 documentation,
# "Amazon EC2 instance type quotas" (https://docs.aws.amazon.com/ec2/latest/instancetypes/ec2-instance-quotas.html),
# consistent with the EC2 User Guide's "On-Demand Instance quotas" and "Spot Instance quotas" (using-spot-limits)
# and, for the Standard pair, the AWS EKS Best Practices Guide (aws/aws-eks-best-practices
# latest/bpg/scalability/quotas.adoc). AWS raises them with usage; a new account often has the default.
G_AND_VT = (
    Quota("Running On-Demand G and VT instances", "L-DB2E81BA", "ec2", "vCPUs", 0),
    Quota("All G and VT Spot Instance Requests", "L-3819A6DF", "ec2", "vCPUs", 0),
)
STANDARD = (
    Quota("Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances", "L-1216C47A", "ec2", "vCPUs", 5),
    Quota("All Standard (A, C, D, H, I, M, R, T, Z) Spot Instance Requests", "L-34B43A08", "ec2", "vCPUs", 5),
)
P_ON_DEMAND = Quota("Running On-Demand P instances", "L-417A185B", "ec2", "vCPUs", 0)
# Spot P capacity is split by generation. The spot table places P2-P4 and P5 (p5, p5e, p5en), and no P6 family.
P_SPOT_BY_GENERATION = {
    **dict.fromkeys((2, 3, 4), Quota("All P4, P3 and P2 Spot Instance Requests", "L-7212CCBC", "ec2", "vCPUs", 0)),
    5: Quota("All P5 Spot Instance Requests", "L-C4BD4855", "ec2", "vCPUs", 0),
}
# The letters before a family's generation digit select its group: g6e, g7e, gr6 and vt1 are G and VT; p5en and
# p6-b200 are P; t3 and m6i are Standard. The other groups (DL, F, Inf, Trn, X, HPC, High Memory) serve no model
# or monitoring host of this stack and are left out rather than guessed.
FAMILY_GROUPS: Mapping[str, tuple[Quota, Quota]] = {
    "g": G_AND_VT,
    "gr": G_AND_VT,
    "vt": G_AND_VT,
    **{letter: STANDARD for letter in "acdhimrtz"},
}

# Application Load Balancer limits: Elastic Load Balancing User Guide, "Quotas for your Application Load
# Balancers" (awsdocs/elb-application-load-balancers-user-guide doc_source/load-balancer-limits.md).
RULES_PER_LOAD_BALANCER = Quota(
    "Rules per Application Load Balancer (excluding default rules)", "L-7EED9B64", "elasticloadbalancing", "rules", 100
)
LISTENERS_PER_LOAD_BALANCER = Quota(
    "Listeners per Application Load Balancer", "L-B6DF7632", "elasticloadbalancing", "listeners", 50
)
TARGET_GROUPS_PER_LOAD_BALANCER = Quota(
    "Target Groups per Application Load Balancer", None, "elasticloadbalancing", "target groups", 100
)
TARGETS_PER_LOAD_BALANCER = Quota(
    "Targets per Application Load Balancer", "L-7E6692B2", "elasticloadbalancing", "targets", 1000
)
# Amazon VPC User Guide, "Amazon VPC quotas" (awsdocs/amazon-vpc-user-guide doc_source/amazon-vpc-limits.md):
# per direction, and separately for IPv4 and IPv6.
RULES_PER_SECURITY_GROUP = Quota("Inbound or outbound rules per security group", "L-0EA8095F", "vpc", "rules", 60)

ALL_QUOTAS = (
    *G_AND_VT,
    P_ON_DEMAND,
    *dict.fromkeys(P_SPOT_BY_GENERATION.values()),
    *STANDARD,
    RULES_PER_LOAD_BALANCER,
    LISTENERS_PER_LOAD_BALANCER,
    TARGET_GROUPS_PER_LOAD_BALANCER,
    TARGETS_PER_LOAD_BALANCER,
    RULES_PER_SECURITY_GROUP,
)
BY_CODE = {quota.code: quota for quota in ALL_QUOTAS if quota.code}


def vcpu_quota(instance_type: str, spot: bool) -> Quota | None:
    """The EC2 vCPU quota an instance type draws from; None where AWS documents none this module knows."""
    family = re.match(r"([a-z]+)(\d*)", instance_type)
    if family is None:
        return None
    letters, generation = family.groups()
    if letters == "p":
        return P_SPOT_BY_GENERATION.get(int(generation or 0)) if spot else P_ON_DEMAND
    group = FAMILY_GROUPS.get(letters)
    return None if group is None else group[1 if spot else 0]


@dataclass(frozen=True)
class QuotaNeed:
    """What the stack needs of one quota, where, and what to change if the account has less."""

    quota: Quota
    needed: int
    scope: str
    path: str
    """The config key the need comes from (the error message names it)."""
    parts: Mapping[str, int] = field(default_factory=dict)
    """What adds up to ``needed``, e.g. vCPUs per model."""
    alternative: str = ""
    """A fix other than a quota increase."""


MONITORING_PATH = key_path(("monitoring", "instanceType"))


@dataclass(frozen=True)
class HostGroup:
    label: str
    path: str
    instance_type: str
    vcpus: int
    count: int
    spot: bool


def vcpu_needs(groups: Iterable[HostGroup], region: str) -> tuple[list[QuotaNeed], list[HostGroup]]:
    """vCPUs per quota, the sum over hosts of their type's vCPUs, on-demand and spot apart; and the host groups
    whose quota is not known."""
    by_quota: dict[Quota, list[HostGroup]] = {}
    unknown: list[HostGroup] = []
    for group in groups:
        quota = vcpu_quota(group.instance_type, group.spot)
        if quota is None:
            unknown.append(group)
        else:
            by_quota.setdefault(quota, []).append(group)
    needs = []
    for quota in ALL_QUOTAS:
        members = by_quota.get(quota, [])
        if not members:
            continue
        paths = {group.path for group in members}
        path = paths.pop() if len(paths) == 1 else key_path(("models",))
        needs.append(
            QuotaNeed(
                quota=quota,
                needed=sum(group.vcpus * group.count for group in members),
                scope=f"region {region}",
                path=path,
                parts={group.label: group.vcpus * group.count for group in members},
                alternative="or use monitoring.placement: colocated, which needs no host of its own"
                if path == MONITORING_PATH
                else "or plan fewer or smaller GPU hosts",
            )
        )
    return needs, unknown


def host_groups(config: StackConfig, plan: StackPlan, monitoring_vcpus: int) -> list[HostGroup]:
    """Every host the stack runs: each model's GPU hosts and, when it has one, the monitoring host."""
    groups = [
        HostGroup(
            label=model.config.name,
            path=key_path(("models", index, "replicas")),
            instance_type=model.instance.name,
            vcpus=model.instance.vcpu,
            count=hosts_for(model.config),
            spot=model.config.spot,
        )
        for index, model in enumerate(plan.models)
    ]
    if monitoring_vcpus:
        groups.append(
            HostGroup(
                label="monitoring",
                path=MONITORING_PATH,
                instance_type=config.monitoring.instance_type,
                vcpus=monitoring_vcpus,
                count=1,
                spot=False,
            )
        )
    return groups


def load_balancer_needs(config: StackConfig, counts: StackCounts) -> list[QuotaNeed]:
    models = key_path(("models",))
    second_stack = "or serve some models from a second vllm-aws stack, which has its own load balancer"
    fewer_rules = (
        "or unset loadBalancer.domain (two rules per model instead of four: each route has a loading rule), "
        + second_stack
        if config.load_balancer.domain
        else second_stack
    )
    return [
        QuotaNeed(RULES_PER_LOAD_BALANCER, counts.rules, "the load balancer", models, alternative=fewer_rules),
        QuotaNeed(LISTENERS_PER_LOAD_BALANCER, counts.listeners, "the load balancer", key_path(("loadBalancer",))),
        QuotaNeed(
            TARGET_GROUPS_PER_LOAD_BALANCER, counts.target_groups, "the load balancer", models, alternative=second_stack
        ),
        QuotaNeed(
            TARGETS_PER_LOAD_BALANCER,
            counts.targets,
            "the load balancer",
            models,
            parts={model.name: model.replicas for model in config.models},
            alternative="or fewer replicas",
        ),
        QuotaNeed(
            RULES_PER_SECURITY_GROUP,
            counts.load_balancer_inbound.most,
            "the load balancer's security group, inbound",
            key_path(("network", "allowedCidrs")),
            alternative="or aggregate network.allowedCidrs into fewer, larger blocks",
        ),
        QuotaNeed(
            RULES_PER_SECURITY_GROUP,
            counts.load_balancer_outbound.most,
            "the load balancer's security group, outbound",
            models,
            parts={model.name: 1 for model in config.models},
            alternative=second_stack,
        ),
        QuotaNeed(
            RULES_PER_SECURITY_GROUP,
            counts.host_inbound.most,
            "each GPU host's security group, inbound",
            key_path(("access", "sshCidrs")),
            alternative="or aggregate access.sshCidrs into fewer blocks, or use access.mode ssm",
        ),
    ]


@dataclass(frozen=True)
class StackNeeds:
    needs: tuple[QuotaNeed, ...]
    warnings: tuple[str, ...]
    """Hosts whose vCPU quota AWS does not document (e.g. P6 on spot): not checked."""


def stack_needs(config: StackConfig, plan: StackPlan, monitoring_vcpus: int) -> StackNeeds:
    """Everything the stack needs of each quota; ``monitoring_vcpus`` is 0 without a dedicated monitoring host.

    Raises :class:`ConfigError` for a monitoring instance type outside the known groups: any G, P or Standard
    type serves Prometheus, so that is a choice to correct rather than a check to skip.
    """
    vcpus, unknown = vcpu_needs(host_groups(config, plan, monitoring_vcpus), config.region)
    monitoring = [group for group in unknown if group.path == MONITORING_PATH]
    if monitoring:
        raise ConfigError.single(
            MONITORING_PATH,
            config.monitoring.instance_type,
            "is in an EC2 family whose vCPU quota vllm-aws does not know, so the quota check cannot count it",
            "use a Standard (A, C, D, H, I, M, R, T, Z) instance type such as t3.medium",
        )
    warnings = tuple(
        f"{group.label}: AWS documents no {'spot ' if group.spot else ''}vCPU quota for {group.instance_type}; "
        f"its {group.vcpus * group.count} vCPUs are not checked against the account's quotas, and a launch above "
        "the account's limit fails during `pulumi up`. Fix: look the limit up in the Service Quotas console "
        "(Amazon EC2) before deploying"
        for group in unknown
    )
    return StackNeeds((*vcpus, *load_balancer_needs(config, stack_counts(config))), warnings)


def increase_command(quota: Quota, desired: int, region: str) -> str:
    return (
        f"aws service-quotas request-service-quota-increase --service-code {quota.service} "
        f"--quota-code {quota.code} --desired-value {desired} --region {region}"
    )


def exceeded(needs: Sequence[QuotaNeed], limits: Mapping[Quota, float], region: str) -> list[ConfigIssue]:
    """One issue per need above its limit; needs whose limit is unknown are not judged."""
    issues = []
    for need in needs:
        limit = limits.get(need.quota)
        if limit is None or need.needed <= limit:
            continue
        quota = need.quota
        code = f" ({quota.code})" if quota.code else ""
        limit_kind = "the account's applied value" if quota.code else "AWS's fixed limit"
        problem = (
            f'the stack needs {need.needed} {quota.unit} of the {quota.service} quota "{quota.name}"{code} for '
            f"{need.scope}, above {limit_kind} of {limit:g}"
        )
        if quota.unit == "vCPUs":
            problem += (
                "; other instances of this family group in the account and region count against it too: add "
                "their vCPUs to the request"
            )
        if quota.code is None:
            fix = f"this limit cannot be raised: {need.alternative.removeprefix('or ')}"
        else:
            fix = f"request the increase with `{increase_command(quota, need.needed, region)}`"
            fix += " (approval can take a day or more)"
            if need.alternative:
                fix += f", {need.alternative}"
        issues.append(ConfigIssue(need.path, dict(need.parts) or need.needed, problem, fix))
    return issues


def needs_json(needs: Iterable[QuotaNeed]) -> list[dict[str, Any]]:
    """The ``quotas`` section of the plan JSON (and the ``quotas`` stack output)."""
    return [
        {
            "quota": need.quota.name,
            "code": need.quota.code,
            "service": need.quota.service,
            "scope": need.scope,
            "unit": need.quota.unit,
            "needed": need.needed,
            "awsDefault": need.quota.aws_default,
        }
        for need in needs
    ]
