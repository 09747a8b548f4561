"""prometheus.yml and the alert rules: what the monitoring host scrapes and when it pages.

Targets come from EC2 service discovery, not from a list rendered at deploy time: every running instance
tagged with this stack and the ``gpu-host`` role is scraped, so a new replica (or a replaced host) is
monitored without redeploying Prometheus. The monitoring host's role therefore needs
``ec2:DescribeInstances`` and ``ec2:DescribeAvailabilityZones`` (which Prometheus' EC2 discovery calls).

A host may run several vLLM servers, on ports 8000, 8001, ... (``replicasPerHost``); it carries the tag
:data:`SERVERS_TAG` = how many. The ``vllm`` job discovers once per port, port 8000+s only on the hosts
tagged with more than s servers, and labels each target with its ``port``: the servers of one host share
``instance`` and ``replica`` and are told apart by ``port``.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from .._naming import (
    GPU_HOST_ROLE,
    MODEL_TAG,
    REPLICA_TAG,
    ROLE_TAG,
    SERVERS_TAG,
    STACK_TAG,
)
from ..config import aws_ids
from ..host.bootstrap import CACHE_MOUNT
from ..planner.vllm_args import VLLM_PORT

NODE_EXPORTER_PORT = 9100
DCGM_EXPORTER_PORT = 9400
PROMETHEUS_PORT = 9090
GRAFANA_PORT = 3000

MAX_SERVERS_PER_HOST = 8  # the config's replicasPerHost limit
DEFAULT_RETENTION_DAYS = 15

# Where the container finds its files: the image's default --config.file, and the rules beside it.
PROMETHEUS_CONFIG_PATH = "/etc/prometheus/prometheus.yml"
PROMETHEUS_RULES_DIR = "/etc/prometheus/rules"
ALERT_RULES_FILE_NAME = "vllm-aws.yml"
# Relative to the config file, as Prometheus and promtool resolve it: /etc/prometheus/rules/*.yml in the
# container, and a temporary directory in the tests, from the same rendered text.
RULE_FILES_GLOB = "rules/*.yml"
EVALUATION_INTERVAL_SECONDS = 30

# Alert thresholds: defaults for interactive serving; a batch workload would tolerate a longer queue.
QUEUE_WAITING_THRESHOLD = 10  # requests waiting per replica
KV_CACHE_USAGE_THRESHOLD = 0.95  # fraction of KV-cache blocks in use
TTFT_P95_THRESHOLD_SECONDS = 5.0
ABORTED_FRACTION_THRESHOLD = 0.05  # of finished requests
GPU_TEMPERATURE_THRESHOLD_CELSIUS = 85  # below the slowdown temperature of the L4/L40S/A10G/H100 class
CACHE_FREE_FRACTION_THRESHOLD = 0.10
REPLICA_UP_LOOKBACK = "1h"  # VllmReplicaDown: only a server up within this window
NEVER_READY_AFTER = "30m"  # VllmReplicaNeverReady: never up for this long since discovered

_STACK = re.compile(r"^[A-Za-z0-9_.-]+$")  # Pulumi stack names


class PrometheusSpec(BaseModel):
    """What the monitoring host's Prometheus scrapes: the GPU hosts of one stack in one region."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stack: str  # value of the EC2 tag vllm-aws:stack to discover
    region: str
    scrape_interval_seconds: int = Field(default=15, ge=5, le=300)
    # Only documented in the rendered config: retention is the container's --storage.tsdb.retention.time flag.
    retention_days: int = Field(default=DEFAULT_RETENTION_DAYS, ge=1)
    # The most vLLM servers any host runs (the largest replicasPerHost): the vllm job discovers that many ports.
    max_servers_per_host: int = Field(default=1, ge=1, le=MAX_SERVERS_PER_HOST)

    @field_validator("stack")
    @classmethod
    def _stack(cls, value: str) -> str:
        if not _STACK.fullmatch(value):
            raise ValueError(f"not a Pulumi stack name (letters, digits, '-', '_', '.') (got {value!r})")
        return value

    _region = field_validator("region")(aws_ids.check_region)


def _tag_label(tag: str) -> str:
    # EC2 discovery exposes tag K as __meta_ec2_tag_<K with every character outside [A-Za-z0-9_] as "_">.
    return "__meta_ec2_tag_" + re.sub(r"[^A-Za-z0-9_]", "_", tag)


def _gpu_host_sd(spec: PrometheusSpec, port: int, extra_filters: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "region": spec.region,
        "port": port,
        "refresh_interval": "60s",
        "filters": [
            {"name": f"tag:{STACK_TAG}", "values": [spec.stack]},
            {"name": f"tag:{ROLE_TAG}", "values": [GPU_HOST_ROLE]},
            # A stopped instance keeps its private IP; scraping it would only report it down.
            {"name": "instance-state-name", "values": ["running"]},
            *extra_filters,
        ],
    }


def _vllm_sd_configs(spec: PrometheusSpec) -> list[dict[str, Any]]:
    """One discovery per server slot s (port 8000+s), slot s >= 1 only on hosts tagged with more than s servers."""
    configs = []
    for slot in range(spec.max_servers_per_host):
        # EC2 filters: the values of one filter are OR-ed, so "any count above slot".
        counts = [str(n) for n in range(slot + 1, MAX_SERVERS_PER_HOST + 1)]
        servers = [{"name": f"tag:{SERVERS_TAG}", "values": counts}] if slot else []
        configs.append(_gpu_host_sd(spec, VLLM_PORT + slot, servers))
    return configs


def _gpu_host_job(
    job: str, sd_configs: list[dict[str, Any]], extra_relabel: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {
        "job_name": job,
        "metrics_path": "/metrics",
        "ec2_sd_configs": sd_configs,
        "relabel_configs": [
            # The monitoring host is in the VPC: scrape the private address, never a public one, on the port
            # of the discovery that found the target (__address__ is <ip>:<that port>).
            {
                "source_labels": ["__meta_ec2_private_ip", "__address__"],
                "regex": r"(.+);.*:(\d+)",
                "target_label": "__address__",
                "replacement": "${1}:${2}",
            },
            {"source_labels": ["__meta_ec2_instance_id"], "target_label": "instance_id"},
            # instance: the Name tag when there is one (readable, stable across jobs), else the instance id.
            {"source_labels": ["__meta_ec2_instance_id"], "target_label": "instance"},
            {"source_labels": ["__meta_ec2_tag_Name"], "regex": "(.+)", "target_label": "instance"},
            {"source_labels": [_tag_label(MODEL_TAG)], "target_label": "model"},
            {"source_labels": [_tag_label(REPLICA_TAG)], "target_label": "replica"},
            {"source_labels": ["__meta_ec2_availability_zone"], "target_label": "availability_zone"},
            {"source_labels": ["__meta_ec2_instance_type"], "target_label": "instance_type"},
            *(extra_relabel or []),
        ],
    }


# The servers of one host differ only by port: without it their series would collide.
_PORT_LABEL = {"source_labels": ["__address__"], "regex": r".*:(\d+)", "target_label": "port"}


def render_prometheus_config(spec: PrometheusSpec) -> str:
    """prometheus.yml: the vllm, node and dcgm jobs on every discovered GPU host, plus Prometheus itself."""
    config: dict[str, Any] = {
        "global": {
            "scrape_interval": f"{spec.scrape_interval_seconds}s",
            "evaluation_interval": f"{EVALUATION_INTERVAL_SECONDS}s",
            "external_labels": {"stack": spec.stack},
        },
        "rule_files": [RULE_FILES_GLOB],
        "scrape_configs": [
            # vLLM serves /metrics on the API port without the API key (only /v1 routes check it).
            _gpu_host_job("vllm", _vllm_sd_configs(spec), [_PORT_LABEL]),
            _gpu_host_job("node", [_gpu_host_sd(spec, NODE_EXPORTER_PORT, [])]),
            _gpu_host_job("dcgm", [_gpu_host_sd(spec, DCGM_EXPORTER_PORT, [])]),
            {"job_name": "prometheus", "static_configs": [{"targets": [f"localhost:{PROMETHEUS_PORT}"]}]},
        ],
    }
    header = (
        f"# Prometheus of the vllm-aws stack {spec.stack!r} ({spec.region}); rendered by components.observability.\n"
        f"# Retention: {spec.retention_days} days, set by the container flag"
        f" --storage.tsdb.retention.time={spec.retention_days}d (a flag, not a setting of this file).\n"
        f"# Rule files are relative to this file: {PROMETHEUS_RULES_DIR}/*.yml beside {PROMETHEUS_CONFIG_PATH}.\n"
    )
    return header + yaml.safe_dump(config, sort_keys=False, width=1000)


def _alert(name: str, expr: str, duration: str, severity: str, *, summary: str, description: str) -> dict[str, Any]:
    rule: dict[str, Any] = {"alert": name, "expr": expr}
    if duration != "0m":
        rule["for"] = duration
    rule["labels"] = {"severity": severity}
    rule["annotations"] = {"summary": summary, "description": description}
    return rule


# Per-server aggregation: drops vLLM's own model_name/engine labels (one series per engine with data parallelism);
# keeps port, which tells apart the servers of one host (same instance and replica).
_REPLICA = "model, instance, replica, port"


def _vllm_alerts() -> list[dict[str, Any]]:
    tokens = (
        f"sum by ({_REPLICA}) (rate(vllm:prompt_tokens_total[5m]))"
        f" + sum by ({_REPLICA}) (rate(vllm:generation_tokens_total[5m]))"
    )
    return [
        _alert(
            "VllmQueueBuildingUp",
            f"sum by ({_REPLICA}) (vllm:num_requests_waiting) > {QUEUE_WAITING_THRESHOLD}",
            "5m",
            "warning",
            summary="{{ $labels.model }} replica {{ $labels.replica }}: {{ $value }} requests waiting",
            description=(
                f"More than {QUEUE_WAITING_THRESHOLD} requests have waited on {{{{ $labels.instance }}}} for 5"
                " minutes: the replica is saturated. Add replicas."
            ),
        ),
        _alert(
            "VllmKvCacheSaturated",
            f"max by ({_REPLICA}) (vllm:kv_cache_usage_perc) > {KV_CACHE_USAGE_THRESHOLD}",
            "10m",
            "warning",
            summary="{{ $labels.model }} replica {{ $labels.replica }}: KV cache {{ $value | humanizePercentage }}",
            description=(
                "The KV cache of {{ $labels.instance }} has been above"
                f" {KV_CACHE_USAGE_THRESHOLD:.0%} for 10 minutes; new requests queue and running ones get preempted."
            ),
        ),
        _alert(
            "VllmTimeToFirstTokenHigh",
            "histogram_quantile(0.95, sum by (model, le) (rate(vllm:time_to_first_token_seconds_bucket[5m])))"
            f" > {TTFT_P95_THRESHOLD_SECONDS:g}",
            "10m",
            "warning",
            summary="{{ $labels.model }}: p95 time to first token {{ $value | humanizeDuration }}",
            description=(
                "The 95th percentile time to first token of {{ $labels.model }} has been above"
                f" {TTFT_P95_THRESHOLD_SECONDS:g}s for 10 minutes (queueing or long prompts)."
            ),
        ),
        _alert(
            "VllmPreemptions",
            f"sum by ({_REPLICA}) (rate(vllm:num_preemptions_total[5m])) > 0",
            "10m",
            "warning",
            summary='{{ $labels.model }} replica {{ $labels.replica }}: {{ printf "%.2f" $value }} preemptions/s',
            description=(
                "{{ $labels.instance }} keeps preempting requests (their KV cache is freed and recomputed): the KV"
                " cache is too small for the load. Lower max-num-seqs or add replicas."
            ),
        ),
        _alert(
            "VllmRequestsAborted",
            # request_success counts every finished request; its finished_reason says how it ended.
            'sum by (model) (rate(vllm:request_success_total{finished_reason=~"abort|error"}[5m]))'
            " / sum by (model) (rate(vllm:request_success_total[5m]))"
            f" > {ABORTED_FRACTION_THRESHOLD}",
            "10m",
            "warning",
            summary="{{ $labels.model }}: {{ $value | humanizePercentage }} of requests aborted",
            description=(
                f"More than {ABORTED_FRACTION_THRESHOLD:.0%} of the requests to {{{{ $labels.model }}}} ended"
                " aborted or in error for 10 minutes (client timeouts while queued, or engine errors)."
            ),
        ),
        _alert(
            # vLLM serves /metrics only once the model is loaded: a first start (10+ minutes for a 70B) is down
            # from its first scrape. Only a server that was up within the hour is a replica going down.
            "VllmReplicaDown",
            'up{job="vllm"} == 0'
            f' and on (instance, port) max_over_time(up{{job="vllm"}}[{REPLICA_UP_LOOKBACK}]) == 1',
            "5m",
            "critical",
            summary="{{ $labels.model }} replica {{ $labels.replica }} is down",
            description=(
                "Prometheus cannot scrape vLLM on {{ $labels.instance }} ({{ $labels.availability_zone }}) for 5"
                f" minutes, after it served within the last {REPLICA_UP_LOOKBACK}: the container stopped or is"
                " reloading the model, or the host is unreachable."
            ),
        ),
        _alert(
            # A cold start far past its budget. `offset` requires the target to have been discovered at least
            # NEVER_READY_AFTER ago: a new target has no earlier sample, and its max_over_time is 0 at once.
            "VllmReplicaNeverReady",
            f'max_over_time(up{{job="vllm"}}[{NEVER_READY_AFTER}]) == 0'
            f' and on (instance, port) up{{job="vllm"}} offset {NEVER_READY_AFTER}',
            "5m",
            "warning",
            summary="{{ $labels.model }} replica {{ $labels.replica }} never became ready",
            description=(
                "vLLM on {{ $labels.instance }} ({{ $labels.availability_zone }}, port {{ $labels.port }}) has not"
                f" served /metrics once in {NEVER_READY_AFTER}: the model download or load is stuck or failing."
                " Read the container's log on the host."
            ),
        ),
        _alert(
            # What a failing /health looks like from /metrics: the API server answers, the engine does no work.
            "VllmEngineStalled",
            f"(sum by ({_REPLICA}) (vllm:num_requests_running) + sum by ({_REPLICA}) (vllm:num_requests_waiting) > 0)"
            f" unless on ({_REPLICA}) ({tokens} > 0)",
            "5m",
            "critical",
            summary="{{ $labels.model }} replica {{ $labels.replica }}: engine stalled, /health failing",
            description=(
                "{{ $labels.instance }} has requests but processed no token for 5 minutes: the engine core is hung"
                " or dead, so /health fails and the load balancer takes the replica out. Restart the container."
            ),
        ),
        _alert(
            "VllmNoReplicaDiscovered",
            'absent(up{job="vllm"})',
            "10m",
            "critical",
            summary="no vLLM replica is discovered",
            description=(
                "EC2 discovery finds no running GPU host of this stack: check the vllm-aws:stack/vllm-aws:role tags"
                " and the monitoring role's ec2:DescribeInstances permission."
            ),
        ),
    ]


def _host_alerts() -> list[dict[str, Any]]:
    return [
        _alert(
            "ExporterDown",
            'up{job=~"node|dcgm"} == 0',
            "10m",
            "warning",
            summary="{{ $labels.job }} exporter down on {{ $labels.instance }}",
            description=(
                "Prometheus cannot scrape the {{ $labels.job }} exporter of {{ $labels.model }} replica"
                " {{ $labels.replica }}: the GPU and disk alerts of this host are blind."
            ),
        ),
        _alert(
            "GpuXidError",
            # dcgm-exporter reports the code of the last XID error; 0 means none.
            "DCGM_FI_DEV_XID_ERRORS > 0",
            "0m",
            "critical",
            summary="GPU {{ $labels.gpu }} on {{ $labels.instance }}: XID {{ $value }}",
            description=(
                "The NVIDIA driver reported XID {{ $value }} on GPU {{ $labels.gpu }} of {{ $labels.instance }}"
                " ({{ $labels.model }} replica {{ $labels.replica }}); look it up in NVIDIA's XID catalog."
            ),
        ),
        _alert(
            "GpuEccDoubleBitErrors",
            "increase(DCGM_FI_DEV_ECC_DBE_VOL_TOTAL[10m]) > 0",
            "0m",
            "critical",
            summary="GPU {{ $labels.gpu }} on {{ $labels.instance }}: uncorrectable ECC errors",
            description=(
                "GPU {{ $labels.gpu }} of {{ $labels.instance }} had double-bit (uncorrectable) ECC errors in the"
                " last 10 minutes; results may be corrupt. Replace the host (stop/start moves it to new hardware)."
            ),
        ),
        _alert(
            "GpuTemperatureHigh",
            f"DCGM_FI_DEV_GPU_TEMP > {GPU_TEMPERATURE_THRESHOLD_CELSIUS}",
            "5m",
            "warning",
            summary="GPU {{ $labels.gpu }} on {{ $labels.instance }} at {{ $value }}°C",
            description=(
                f"GPU {{{{ $labels.gpu }}}} of {{{{ $labels.instance }}}} has been above"
                f" {GPU_TEMPERATURE_THRESHOLD_CELSIUS}°C for 5 minutes and will throttle its clocks."
            ),
        ),
        _alert(
            "ModelCacheDiskNearlyFull",
            f'node_filesystem_avail_bytes{{mountpoint="{CACHE_MOUNT}"}}'
            f' / node_filesystem_size_bytes{{mountpoint="{CACHE_MOUNT}"}} < {CACHE_FREE_FRACTION_THRESHOLD}',
            "15m",
            "warning",
            summary="model cache on {{ $labels.instance }} {{ $value | humanizePercentage }} free",
            description=(
                f"Less than {CACHE_FREE_FRACTION_THRESHOLD:.0%} of {CACHE_MOUNT} on {{{{ $labels.instance }}}} is free:"
                " the next model download or torch.compile cache write may fail. Grow the cache volume."
            ),
        ),
    ]


def render_alert_rules() -> str:
    """The rules file (Prometheus rule-group YAML): vLLM serving alerts and GPU host alerts."""
    groups = [
        {"name": "vllm-aws.vllm", "rules": _vllm_alerts()},
        {"name": "vllm-aws.gpu-hosts", "rules": _host_alerts()},
    ]
    header = "# Alert rules of vllm-aws; rendered by components.observability. vLLM metric names of vLLM 0.33.\n"
    return header + yaml.safe_dump({"groups": groups}, sort_keys=False, width=1000, allow_unicode=True)
