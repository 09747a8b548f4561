"""How many load-balancer objects and security-group rules the stack registers, from its configuration alone.

Pure, so the quota check can run before any resource is registered. The counts mirror what
``LoadBalancer``, ``ModelEndpoint``, ``GpuHost`` and ``Monitoring`` register; tests/quotas/test_quota_stack.py counts
the same things in a real program run, so a change to those components that changes a count fails there until
this module follows.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from ..config.schema import StackConfig

# Prometheus scrapes three jobs on every GPU host (vLLM, node exporter, DCGM exporter): one inbound rule each.
SCRAPE_JOBS = 3


@dataclass(frozen=True)
class RuleCount:
    """Rules of one security group in one direction, per IP version.

    AWS enforces the rules-per-group quota separately for IPv4 and IPv6 (Amazon VPC User Guide, "Amazon VPC
    quotas"). A rule that references another security group counts as one rule (same guide, "Security group
    size") without saying for which IP version, so such rules are counted in both.
    """

    ipv4: int
    ipv6: int

    @property
    def most(self) -> int:
        return max(self.ipv4, self.ipv6)


@dataclass(frozen=True)
class StackCounts:
    listeners: int
    rules: int
    """Listener rules of the load balancer, the listeners' default actions excluded."""
    target_groups: int
    targets: int
    """Registered (instance, port) targets: one per vLLM server."""
    load_balancer_inbound: RuleCount
    load_balancer_outbound: RuleCount
    host_inbound: RuleCount
    """The fullest GPU host security group."""


def _by_version(cidrs: Iterable[str], references: int = 0, per_cidr: int = 1) -> RuleCount:
    versions = [ipaddress.ip_network(cidr).version for cidr in cidrs]
    return RuleCount(
        ipv4=references + per_cidr * versions.count(4),
        ipv6=references + per_cidr * versions.count(6),
    )


def listener_rules(models: int, domain: bool) -> int:
    """Rules on the serving listener: a path rule per model, a host rule per model with a domain, the default, and
    a loading rule behind each of them (components.network.routing)."""
    return 2 * (models * (2 if domain else 1) + 1)


def stack_counts(config: StackConfig) -> StackCounts:
    https = config.load_balancer.https
    listener_ports = 2 if https else 1  # HTTPS plus the HTTP redirect, or plain HTTP
    ssh_cidrs = config.access.ssh_cidrs if config.access.mode == "ssh" else ()
    return StackCounts(
        listeners=listener_ports,
        rules=listener_rules(len(config.models), config.load_balancer.domain is not None),
        target_groups=len(config.models),
        targets=sum(model.replicas for model in config.models),
        load_balancer_inbound=_by_version(config.network.allowed_cidrs, per_cidr=listener_ports),
        # One egress rule per model, to the targets group its hosts are members of (never one per host).
        load_balancer_outbound=_by_version((), references=len(config.models)),
        # Prometheus' scrapes and SSH from access.sshCidrs; the load balancer comes in through the targets group.
        host_inbound=_by_version(ssh_cidrs, references=SCRAPE_JOBS if config.monitoring.enabled else 0),
    )
