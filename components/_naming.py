"""Type tokens, child names, tag keys and labels: one place, so logical names (a contract) and the tags that
discovery and cost reports read cannot drift."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping

TYPE_PREFIX = "vllm-aws:index"
TAG_PREFIX = "vllm-aws"

# EC2 tags the stack sets: Prometheus discovers and labels GPU hosts by them, cost reports group by them. A user's
# own tags may not use the prefix (components.config.schema).
STACK_TAG = f"{TAG_PREFIX}:stack"
PROJECT_TAG = f"{TAG_PREFIX}:project"
ROLE_TAG = f"{TAG_PREFIX}:role"
MODEL_TAG = f"{TAG_PREFIX}:model"
REPLICA_TAG = f"{TAG_PREFIX}:replica"
SERVERS_TAG = f"{TAG_PREFIX}:servers"  # vLLM servers on the host, on ports VLLM_PORT .. VLLM_PORT + n - 1
GPU_HOST_ROLE = "gpu-host"
MONITORING_ROLE = "monitoring"
MODEL_CACHE_ROLE = "model-cache"
# Docker labels: the model a vLLM server container serves (plan diffs find a host's servers by it), and the cache
# mount node-exporter reports on.
SERVER_MODEL_LABEL = f"{TAG_PREFIX}.model"
CACHE_MOUNT_LABEL = f"{TAG_PREFIX}.cache-mount"

# pulumi-aws gives a resource without an explicit `name` the AWS name "<logical name>-<7 random hex>", and fails
# preview (it never truncates) when that exceeds the resource's maximum: pulumi-terraform-bridge
# pkg/tfbridge/info/autonaming.go AutoName (Randlen 7, separator "-"); pulumi/pulumi
# sdk/go/common/resource/resource_id.go ("name '<name>-' plus 7 random chars is longer than maximum length N").
AUTO_NAME_SUFFIX_LENGTH = 8
# ELBv2 names: at most 32 characters (botocore elbv2 CreateTargetGroup/CreateLoadBalancer Name). pulumi-aws sets the
# target group's AutoName maximum to 32 (provider/aliases.go); the load balancer keeps the default 255, and
# terraform-provider-aws's validName (internal/service/elbv2/validate.go) rejects more than 32.
TARGET_GROUP_NAME_MAX = 32
LOAD_BALANCER_NAME_MAX = 32


def type_token(class_name: str) -> str:
    """``vllm-aws:index:<Class>``: the index module lets the package become a component provider as is."""
    return f"{TYPE_PREFIX}:{class_name}"


def child_name(parent: str, role: str) -> str:
    """Logical name of a component's child. Renaming one replaces the resource: add an alias if you must."""
    return f"{parent}-{role}"


def target_group_name(model: str) -> str:
    """A model's target group is named for the model alone: ``<model>-tg`` plus the random suffix must fit 32."""
    return child_name(model, "tg")


# The longest model name whose auto-named resources all fit. The target group is the tightest: a host's IAM role,
# "<model>-<n>-role" plus the suffix, has 64 (pulumi-aws provider/resource_overrides.go), security groups,
# instance profiles and role policies 128 or more.
MODEL_NAME_MAX = TARGET_GROUP_NAME_MAX - AUTO_NAME_SUFFIX_LENGTH - len(target_group_name(""))


def auto_named(logical_name: str, max_length: int) -> str:
    """``logical_name``, checked to leave room for Pulumi's auto-name suffix within ``max_length`` (raises ValueError).

    A component caller picks names freely; this fails at construction, with the fix, instead of at preview.
    """
    room = max_length - AUTO_NAME_SUFFIX_LENGTH
    if len(logical_name) > room:
        raise ValueError(
            f"{logical_name!r} is {len(logical_name)} characters: Pulumi names the AWS resource '{logical_name}-' "
            f"plus 7 random characters, and AWS allows {max_length}. Fix: shorten the name it comes from, so that "
            f"this one has at most {room} characters"
        )
    return logical_name


def replica_name(model: str, replica: int) -> str:
    """Replicas are keyed by model name and replica number, never by list position of unrelated things."""
    return f"{model}-{replica}"


def stack_tags(stack: str, project: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The tags of every resource of a stack: its stack and project, then the user's own (``vllm-aws:tags``)."""
    return {STACK_TAG: stack, PROJECT_TAG: project, **(extra or {})}


def merge_tags(*layers: Mapping[str, str], name: str) -> dict[str, str]:
    """Later layers win; ``Name`` is always the resource's own."""
    merged: dict[str, str] = {}
    for layer in layers:
        merged.update(layer)
    merged["Name"] = name
    return merged


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def distinct_networks(cidrs: Iterable[str]) -> list[Network]:
    """The CIDRs as networks, each once (``2001:DB8::/32`` and ``2001:db8::/32`` are one rule to AWS)."""
    return list(dict.fromkeys(ipaddress.ip_network(cidr) for cidr in cidrs))


def cidr_key(network: Network) -> str:
    """A CIDR as part of a logical name: ``10.0.0.0-8``, ``2001-db8---32`` (no ``:``, which URNs reserve).

    Rules keyed by their CIDR, never by list position: removing one CIDR must not turn the next rule into a
    duplicate of one still in place (``InvalidPermission.Duplicate``, create before delete).
    """
    return network.compressed.replace("/", "-").replace(":", "-")
