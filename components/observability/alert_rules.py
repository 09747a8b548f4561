"""The alert rules file: vLLM serving alerts, GPU host alerts and, given the stack's inventory, the rules of
:mod:`.stack_alerts` (missing servers and hosts, disk headroom, the watchdog).

``promtool test rules`` runs tests/data/alert_rules_test.yml and tests/data/stack_alert_rules_test.yml on them.
"""

from __future__ import annotations

from typing import Any

import yaml

from ..host.bootstrap import CACHE_MOUNT
from .prometheus import alert_rule
from .stack_alerts import StackAlertsSpec, stack_alert_groups

# Alert thresholds: defaults for interactive serving; a batch workload would tolerate a longer queue.
QUEUE_WAITING_THRESHOLD = 10  # requests waiting per replica
KV_CACHE_USAGE_THRESHOLD = 0.95  # fraction of KV-cache blocks in use
TTFT_P95_THRESHOLD_SECONDS = 5.0
ABORTED_FRACTION_THRESHOLD = 0.05  # of finished requests
GPU_TEMPERATURE_THRESHOLD_CELSIUS = 85  # below the slowdown temperature of the L4/L40S/A10G/H100 class
CACHE_FREE_FRACTION_THRESHOLD = 0.10
REPLICA_UP_LOOKBACK = "1h"  # VllmReplicaDown: only a server up within this window
NEVER_READY_AFTER = "30m"  # VllmReplicaNeverReady: never up for this long since discovered

# VllmEngineStalled's summary and description. A hung engine still answers /health with 200: vLLM's /health fails
# (503) only on EngineDeadError, once the engine core has died (vllm-project/vllm
# vllm/entrypoints/serve/instrumentator/health.py), and Docker restarts a container only when it exits.
_STALLED_TEXT = (
    "{{ $labels.model }} replica {{ $labels.replica }}: engine stalled",
    "{{ $labels.instance }} (port {{ $labels.port }}) has requests but processed no token for 5 minutes: the engine"
    " is hung. vLLM's /health still answers 200 (it fails only once the engine core has died), so the load"
    " balancer keeps the replica in rotation. The host's watchdog (vllm-aws-watchdog.timer) restarts its vLLM"
    " container (vllm-{{ $labels.model }}-N serves port 800N) after 6 minutes without progress"
    # components.serving.watchdog.STALL_SECONDS (tests/serving/test_watchdog.py keeps them equal)
    "; if this alert still fires after that, the restart did not help: read `journalctl -u vllm-aws-watchdog`"
    " and the container's `docker logs` on the host.",
)
# Per-server aggregation: drops vLLM's own model_name/engine labels (one series per engine with data parallelism);
# keeps port, which tells apart the servers of one host (same instance and replica).
_REPLICA = "model, instance, replica, port"


def _vllm_alerts() -> list[dict[str, Any]]:
    tokens = (
        f"sum by ({_REPLICA}) (rate(vllm:prompt_tokens_total[5m]))"
        f" + sum by ({_REPLICA}) (rate(vllm:generation_tokens_total[5m]))"
    )
    return [
        alert_rule(
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
        alert_rule(
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
        alert_rule(
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
        alert_rule(
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
        alert_rule(
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
        alert_rule(
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
        alert_rule(
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
        alert_rule(
            # A hung engine seen from /metrics: the API server answers, the engine does no work.
            "VllmEngineStalled",
            f"(sum by ({_REPLICA}) (vllm:num_requests_running) + sum by ({_REPLICA}) (vllm:num_requests_waiting) > 0)"
            f" unless on ({_REPLICA}) ({tokens} > 0)",
            "5m",
            "critical",
            summary=_STALLED_TEXT[0],
            description=_STALLED_TEXT[1],
        ),
        alert_rule(
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
        alert_rule(
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
        alert_rule(
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
        alert_rule(
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
        alert_rule(
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
        alert_rule(
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


def render_alert_rules(spec: StackAlertsSpec) -> str:
    """The rules file (Prometheus rule-group YAML): vLLM serving alerts, GPU host alerts and, from the stack's
    inventory, its missing-server, missing-host, disk and watchdog rules."""
    groups = [
        {"name": "vllm-aws.vllm", "rules": _vllm_alerts()},
        {"name": "vllm-aws.gpu-hosts", "rules": _host_alerts()},
        *stack_alert_groups(spec),
    ]
    header = "# Alert rules of vllm-aws; rendered by components.observability. vLLM metric names of vLLM 0.33.\n"
    return header + yaml.safe_dump({"groups": groups}, sort_keys=False, width=1000, allow_unicode=True)
