"""What a vllm-aws stack puts on its load balancer, counted for AWS's per-ALB and per-security-group quotas.

Pure functions of the plan: no Pulumi engine, no AWS call. A quota check compares them with the account's
limits. The defaults they are meant for:

- Application Load Balancers (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/
  load-balancer-limits.html): rules per load balancer, default rules not counted, 100; target groups per
  load balancer 100 (not adjustable); targets per load balancer 1,000.
- Security groups (Amazon VPC quotas, https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html
  #vpc-limits-security-groups): inbound or outbound rules per security group 60, "enforced separately for IPv4
  rules and IPv6 rules"; a rule that references a security group "counts as one rule" (security-group-rules
  .html#security-group-size). The docs do not say which family a reference counts against, so it is counted
  in both.

The counts are the stack's own, and match what the program registers (tests/test_load_balancer_usage.py).
Each model that another stack attaches to the same listener (``ExistingEndpoint``: examples/extra-model, the
component provider) adds one path rule (two with a domain), one target group, its replicas as targets and one
outbound rule on the load balancer's group.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from components.routing import HTTP_PORT, HTTPS_PORT
from components.sizing import StackPlan


@dataclass(frozen=True)
class RuleCount:
    """Rules of one direction of one security group, per address family (the quota applies to each)."""

    ipv4: int
    ipv6: int


@dataclass(frozen=True)
class GroupRules:
    """Inbound and outbound rules of one security group."""

    inbound: RuleCount
    outbound: RuleCount


@dataclass(frozen=True)
class LoadBalancerUsage:
    """The stack's load balancer, counted as AWS counts it against its quotas."""

    rules_per_listener: dict[int, int]
    """Listener port -> its rules, the listener's default action not included."""
    target_groups: int
    """Target groups the load balancer's rules forward to (one per model)."""
    targets: int
    """Registered targets: one per vLLM server (instance and port)."""
    load_balancer_group: GroupRules
    """The load balancer's security group: clients in on the listener ports, one rule out per model."""
    targets_groups: dict[str, GroupRules]
    """Each model's targets group (its hosts are members), by model name: the load balancer in, nothing out."""

    @property
    def rules(self) -> int:
        """Rules on the load balancer, all listeners together (the quota is per load balancer)."""
        return sum(self.rules_per_listener.values())


def listener_rules(models: int, domain: bool) -> int:
    """Rules on the listener that serves: a path rule per model, a host rule per model with a domain, a default."""
    return models * (2 if domain else 1) + 1


def load_balancer_usage(plan: StackPlan) -> LoadBalancerUsage:
    """The counts for the stack ``plan`` describes."""
    config = plan.config
    https = config.load_balancer.certificate_arn is not None
    serving_port = HTTPS_PORT if https else HTTP_PORT
    rules_per_listener = {serving_port: listener_rules(len(plan.models), config.load_balancer.domain is not None)}
    if https:
        rules_per_listener[HTTP_PORT] = 0  # it only redirects, by its default action

    networks = {ipaddress.ip_network(cidr) for cidr in config.network.allowed_cidrs}
    listener_ports = len(rules_per_listener)
    clients_in = RuleCount(
        ipv4=listener_ports * sum(1 for network in networks if network.version == 4),
        ipv6=listener_ports * sum(1 for network in networks if network.version == 6),
    )
    one_reference = RuleCount(ipv4=1, ipv6=1)
    return LoadBalancerUsage(
        rules_per_listener=rules_per_listener,
        target_groups=len(plan.models),
        targets=sum(model.config.replicas for model in plan.models),
        load_balancer_group=GroupRules(
            inbound=clients_in, outbound=RuleCount(ipv4=len(plan.models), ipv6=len(plan.models))
        ),
        targets_groups={
            model.config.name: GroupRules(inbound=one_reference, outbound=RuleCount(ipv4=0, ipv6=0))
            for model in plan.models
        },
    )
