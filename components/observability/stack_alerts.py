"""Alert rules that need to know what the stack created: missing servers and hosts, disk headroom, the watchdog.

**Missing, not down.** EC2 discovery lists running instances only, so the targets of a stopped, terminated or
spot-interrupted host vanish: Prometheus stops scraping them and marks their series stale (about two scrape
intervals after the target is dropped), and no ``up == 0`` ever fires for them. Only the stack knows what should
be there, so these rules are rendered from its inventory (:class:`StackAlertsSpec`, a pure function of the plan):

- one recording rule per expected vLLM server, ``vllm_aws:expected_vllm_server{model, replica, port} = 1``, and
  per expected GPU host, ``vllm_aws:expected_gpu_host{model, replica} = 1``;
- ``VllmReplicaMissing``: ``expected unless on (model, replica, port) up{job="vllm"}``, and ``GpuHostMissing``:
  the host's node and dcgm exporters both undiscovered.

Decision (#14): recording rules of the inventory plus one alert each, rather than one ``absent(up{...})`` alert
per expected server. One alert keeps one ``for``, one set of annotations and one promtool-tested text however
many replicas there are; the inventory is a series of its own, so a dashboard or a query can count expected
against reporting servers; and ``unless`` against any ``up`` series (whatever its value) leaves a target that is
discovered but failing to ``VllmReplicaDown`` and ``VllmReplicaNeverReady`` (which keep a cold start from paging),
so each failure has one alert. A server is identified by ``(model, replica, port)``, never by instance: a host
replaced under the same replica label (new instance id and address) satisfies it as soon as it is scraped.

**Within 5 minutes.** After a host stops, discovery drops its targets within :data:`EC2_SD_REFRESH_SECONDS`
(60 s), the staleness markers follow 2.1 scrape intervals later (32 s at the stack's 15 s), the next rule
evaluation sees the series gone (30 s) and the alert fires :data:`MISSING_FOR` (2 m) later: 4 minutes at worst.
``tests/data/stack_alert_rules_test.yml`` replays that timeline with promtool.

**Disk.** A cache volume must hold a second revision of its model (the Hugging Face cache keeps the old one until
it is deleted): free space under the model's weight bytes alerts. The root volume holds the Docker images: free
space under what one pull of the serving image needs (its compressed layers and their extracted copy, beside
the running image) alerts, before an image upgrade fails half-way.

**Watchdog.** ``Watchdog`` always fires; Alertmanager sends it to a heartbeat receiver (see :mod:`.alertmanager`)
whose dead-man's switch alarms when the pings stop, so a dead Prometheus, Alertmanager or delivery path is seen.
"""

from __future__ import annotations

import math
import re
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..config.sections import MAX_SERVERS_PER_HOST
from ..host.bootstrap import CACHE_MOUNT
from ..planner.memory import weights_bytes
from ..planner.plan import StackPlan
from ..planner.root_disk import IMAGE_ON_DISK_BYTES
from ..planner.vllm_args import VLLM_PORT
from .prometheus import alert_rule

EXPECTED_SERVER_METRIC = "vllm_aws:expected_vllm_server"
EXPECTED_HOST_METRIC = "vllm_aws:expected_gpu_host"
WEIGHT_BYTES_METRIC = "vllm_aws:model_weight_bytes"
MISSING_FOR = "2m"  # see "Within 5 minutes" above
DISK_HEADROOM_FOR = "15m"
DELIVERY_FAILING_ALERT = "AlertDeliveryFailing"
WATCHDOG_ALERT = "Watchdog"
ROOT_MOUNT = "/"

GIB = 1024**3
# The config's model names (DNS-safe), so a name is safe inside a PromQL string and a YAML label.
_MODEL_NAME = re.compile(r"^[a-z]([a-z0-9-]*[a-z0-9])?$")


class ExpectedModel(BaseModel):
    """One served model as the stack deploys it: how many servers, how they share hosts, how big its weights are."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str  # the `model` label: the host's vllm-aws:model tag
    replicas: int = Field(ge=1, le=32)  # vLLM servers of the model
    replicas_per_host: int = Field(default=1, ge=1, le=MAX_SERVERS_PER_HOST)
    weight_bytes: int = Field(gt=0)  # all of its weight files: what a second revision adds to the cache volume

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _MODEL_NAME.fullmatch(value):
            raise ValueError(f"not a model name (lowercase letters, digits, '-') (got {value!r})")
        return value

    def servers_per_host(self) -> list[int]:
        """Servers on host 0, 1, ...: full hosts, then the remainder (as VllmDeployment places them)."""
        full, rest = divmod(self.replicas, self.replicas_per_host)
        return [self.replicas_per_host] * full + ([rest] if rest else [])


class StackAlertsSpec(BaseModel):
    """The stack's inventory, as the rules need it: its models and the size of its serving image."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    models: tuple[ExpectedModel, ...] = Field(min_length=1)
    # Free root-volume space one pull of the serving image needs: its compressed layers plus their extracted copy.
    image_pull_bytes: int = Field(gt=0)

    @model_validator(mode="after")
    def _unique_names(self) -> Self:
        names = [model.name for model in self.models]
        if len(set(names)) != len(names):
            raise ValueError(f"model names must be unique (got {names})")
        return self

    def expected_servers(self) -> list[tuple[str, int, int]]:
        """(model, replica, port) of every vLLM server: ``replica`` is the host's index, ``port`` the server's."""
        return [
            (model.name, replica, VLLM_PORT + slot)
            for model in self.models
            for replica, servers in enumerate(model.servers_per_host())
            for slot in range(servers)
        ]

    def expected_hosts(self) -> list[tuple[str, int]]:
        """(model, replica) of every GPU host."""
        return [(model.name, replica) for model in self.models for replica in range(len(model.servers_per_host()))]


def stack_inventory(plan: StackPlan) -> StackAlertsSpec:
    """What the stack deploys, as the rules need it: every model's servers and hosts and its weight bytes."""
    return StackAlertsSpec(
        models=tuple(
            ExpectedModel(
                name=model.config.name,
                replicas=model.config.replicas,
                replicas_per_host=model.config.replicas_per_host,
                weight_bytes=math.ceil(weights_bytes(model.spec, model.settings.weight_format)),
            )
            for model in plan.models
        ),
        image_pull_bytes=IMAGE_ON_DISK_BYTES,  # one more pull, beside the image in use
    )


def _inventory_rules(spec: StackAlertsSpec) -> list[dict[str, Any]]:
    servers = [
        {
            "record": EXPECTED_SERVER_METRIC,
            "expr": "vector(1)",
            "labels": {"model": m, "replica": str(r), "port": str(port)},
        }
        for m, r, port in spec.expected_servers()
    ]
    hosts = [
        {"record": EXPECTED_HOST_METRIC, "expr": "vector(1)", "labels": {"model": m, "replica": str(r)}}
        for m, r in spec.expected_hosts()
    ]
    return servers + hosts


def _missing_alerts() -> list[dict[str, Any]]:
    return [
        alert_rule(
            "VllmReplicaMissing",
            f'{EXPECTED_SERVER_METRIC} unless on (model, replica, port) up{{job="vllm"}}',
            MISSING_FOR,
            "critical",
            summary="{{ $labels.model }} replica {{ $labels.replica }} (port {{ $labels.port }}) is missing",
            description=(
                "The stack runs a vLLM server for {{ $labels.model }} on replica {{ $labels.replica }}, port"
                " {{ $labels.port }}, but discovery finds no such target: its host is stopped, terminated or"
                " interrupted, or lost its vllm-aws tags. The model serves with one replica fewer until the host"
                " runs again: start a stopped host (aws ec2 start-instances); `pulumi up --refresh` recreates a"
                " terminated one."
            ),
        ),
        alert_rule(
            "GpuHostMissing",
            f'{EXPECTED_HOST_METRIC} unless on (model, replica) up{{job=~"node|dcgm"}}',
            MISSING_FOR,
            "critical",
            summary="GPU host of {{ $labels.model }} replica {{ $labels.replica }} is missing",
            description=(
                "Discovery finds neither the node nor the dcgm exporter of {{ $labels.model }} replica"
                " {{ $labels.replica }}: the host is not running (stopped, terminated or spot-interrupted). If every"
                " host is missing at once, check discovery instead: the vllm-aws:stack and vllm-aws:role tags and"
                " the monitoring role's ec2:DescribeInstances permission."
            ),
        ),
    ]


def _disk_rules(spec: StackAlertsSpec) -> list[dict[str, Any]]:
    weights = [
        {"record": WEIGHT_BYTES_METRIC, "expr": f"vector({model.weight_bytes})", "labels": {"model": model.name}}
        for model in spec.models
    ]
    weights_of_model = (
        f"{{{{ with printf \"{WEIGHT_BYTES_METRIC}{{model='%s'}}\" $labels.model | query }}}}"
        "{{ . | first | value | humanize1024 }}B{{ end }}"
    )
    return [
        *weights,
        alert_rule(
            "ModelCacheCannotHoldNewRevision",
            f'node_filesystem_avail_bytes{{job="node", mountpoint="{CACHE_MOUNT}"}}'
            f" < on (model) group_left {WEIGHT_BYTES_METRIC}",
            DISK_HEADROOM_FOR,
            "warning",
            summary="model cache of {{ $labels.instance }}: {{ $value | humanize1024 }}B free",
            description=(
                f"{CACHE_MOUNT} on {{{{ $labels.instance }}}} has {{{{ $value | humanize1024 }}}}B free, less than the"
                f" {weights_of_model} of weights of {{{{ $labels.model }}}}: downloading a new revision would fail."
                " Delete old revisions from the cache or grow the cache volume (cache.sizeGib)."
            ),
        ),
        alert_rule(
            "RootDiskCannotHoldImageUpgrade",
            f'node_filesystem_avail_bytes{{job="node", mountpoint="{ROOT_MOUNT}"}} < {spec.image_pull_bytes}',
            DISK_HEADROOM_FOR,
            "warning",
            summary="root disk of {{ $labels.instance }}: {{ $value | humanize1024 }}B free",
            description=(
                "The root volume of {{ $labels.instance }} ({{ $labels.model }} replica {{ $labels.replica }}) has"
                f" {{{{ $value | humanize1024 }}}}B free; pulling the next serving image needs"
                f" {spec.image_pull_bytes / GIB:.1f} GiB beside the running one, so an image upgrade would fail."
                " Remove unused images (docker image prune -a) or grow the root volume."
            ),
        ),
    ]


def _watchdog() -> dict[str, Any]:
    return alert_rule(
        WATCHDOG_ALERT,
        "vector(1)",
        "0m",
        "none",
        summary="alerting pipeline heartbeat",
        description=(
            "Always firing. Alertmanager sends it to the heartbeat receiver every few minutes; the dead-man's"
            " switch there alarms when the heartbeats stop: Prometheus, Alertmanager, the monitoring host or the"
            " delivery path is down, and no other alert would get through."
        ),
    )


def _delivery_failing() -> dict[str, Any]:
    # notify/metrics.go at v0.34.0: alertmanager_notifications_failed_total{integration, reason}, counted per
    # failed notification after its retries; integration is "sns", "webhook", ...
    return alert_rule(
        DELIVERY_FAILING_ALERT,
        "sum by (integration, reason) (increase(alertmanager_notifications_failed_total[10m])) > 0",
        "0m",
        "critical",
        summary="Alertmanager could not deliver through {{ $labels.integration }}",
        description=(
            "{{ $value | humanize }} notifications through {{ $labels.integration }} failed in the last 10 minutes"
            " (reason {{ $labels.reason }}). A webhook: check that its URL (vllm-aws:alertsWebhookUrl) still works;"
            " `docker logs alertmanager` on the monitoring host names the error. SNS: the host's sns:Publish grant."
            " This alert reaches the other destinations of the alerts receiver."
        ),
    )


def stack_alert_groups(spec: StackAlertsSpec) -> list[dict[str, Any]]:
    """Rule groups of the inventory, disk headroom and the watchdog; recording rules come first in their group
    (a group evaluates its rules in order, so the alerts compare with this evaluation's inventory)."""
    return [
        {"name": "vllm-aws.inventory", "rules": [*_inventory_rules(spec), *_missing_alerts()]},
        {"name": "vllm-aws.disk", "rules": _disk_rules(spec)},
        {"name": "vllm-aws.watchdog", "rules": [_watchdog(), _delivery_failing()]},
    ]
