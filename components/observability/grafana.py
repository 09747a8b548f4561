"""Grafana provisioning: the Prometheus datasource, the dashboard provider and the dashboards' JSON.

Every panel names the datasource by :data:`PROMETHEUS_DATASOURCE_UID`, the uid the provisioned datasource
gets, so the dashboards work on a fresh Grafana without an import step or a "select datasource" prompt.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from ..host.bootstrap import CACHE_MOUNT

PROMETHEUS_DATASOURCE_UID = "vllm-aws-prometheus"
# Not under /var/lib/grafana: that is Grafana's data directory, a bind mount of the host's persisted data, so
# dashboards uploaded there would land in (and outlive the deploy in) the data volume; here each container has its own.
GRAFANA_DASHBOARDS_DIR = "/etc/grafana/dashboards"
DASHBOARD_FOLDER = "vLLM"
SCHEMA_VERSION = 39  # Grafana 10.4/11; newer Grafana migrates it on load

_DATASOURCE: dict[str, str] = {"type": "prometheus", "uid": PROMETHEUS_DATASOURCE_UID}
_URL = re.compile(r"^https?://[^\s/]+(/\S*)?$")
_MODEL = 'model=~"$model"'
_RATE = "[$__rate_interval]"  # at least four scrapes, whatever the zoom (Grafana needs the scrape interval)
_WIDTH = 24  # Grafana's grid


def render_grafana_datasource(prometheus_url: str, *, scrape_interval_seconds: int = 15) -> str:
    """provisioning/datasources/*.yaml: Prometheus at ``prometheus_url`` as the default datasource."""
    if not _URL.fullmatch(prometheus_url):
        raise ValueError(f"not an http(s) URL like 'http://prometheus:9090' (got {prometheus_url!r})")
    document = {
        "apiVersion": 1,
        "datasources": [
            {
                "name": "Prometheus",
                "type": "prometheus",
                "uid": PROMETHEUS_DATASOURCE_UID,
                "access": "proxy",  # the Grafana server queries Prometheus; browsers never reach it
                "url": prometheus_url,
                "isDefault": True,
                "editable": False,
                # $__rate_interval is derived from it: must be the scrape interval.
                "jsonData": {"timeInterval": f"{scrape_interval_seconds}s", "httpMethod": "POST"},
            }
        ],
    }
    return yaml.safe_dump(document, sort_keys=False)


def render_grafana_dashboard_provider() -> str:
    """provisioning/dashboards/*.yaml: load the dashboard JSON files from :data:`GRAFANA_DASHBOARDS_DIR`."""
    document = {
        "apiVersion": 1,
        "providers": [
            {
                "name": "vllm-aws",
                "orgId": 1,
                "folder": DASHBOARD_FOLDER,
                "type": "file",
                # The files are the source of truth: edits in the UI would be lost at the next deploy.
                "disableDeletion": True,
                "allowUiUpdates": False,
                "updateIntervalSeconds": 60,
                "options": {"path": GRAFANA_DASHBOARDS_DIR, "foldersFromFilesStructure": False},
            }
        ],
    }
    return yaml.safe_dump(document, sort_keys=False)


def _target(ref_id: str, expr: str, legend: str) -> dict[str, Any]:
    return {"refId": ref_id, "datasource": _DATASOURCE, "expr": expr, "legendFormat": legend, "range": True}


def _timeseries(title: str, unit: str, targets: list[tuple[str, str]], description: str = "") -> dict[str, Any]:
    """A time-series panel; ids and positions are assigned by :func:`_layout`."""
    return {
        "type": "timeseries",
        "title": title,
        "description": description,
        "datasource": _DATASOURCE,
        "fieldConfig": {"defaults": {"unit": unit, "min": 0}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom"}, "tooltip": {"mode": "multi"}},
        "targets": [_target(chr(ord("A") + i), expr, legend) for i, (expr, legend) in enumerate(targets)],
    }


def _layout(panels: list[dict[str, Any]], width: int = 12, height: int = 8) -> list[dict[str, Any]]:
    """Ids 1..n in order, two panels per row."""
    per_row = _WIDTH // width
    return [
        {"id": i + 1, "gridPos": {"h": height, "w": width, "x": (i % per_row) * width, "y": (i // per_row) * height}}
        | panel
        for i, panel in enumerate(panels)
    ]


def _quantiles(metric: str) -> list[tuple[str, str]]:
    return [
        (
            f"histogram_quantile({q}, sum by (model, le) (rate({metric}_bucket{{{_MODEL}}}{_RATE})))",
            f"{{{{model}}}} p{round(q * 100)}",
        )
        for q in (0.5, 0.95, 0.99)
    ]


def _variable(name: str, query: str, label: str) -> dict[str, Any]:
    return {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": _DATASOURCE,
        "query": {"query": query, "refId": f"{name}-variable"},
        "definition": query,
        "refresh": 2,  # on time-range change: new replicas and models appear without a reload
        "includeAll": True,
        "multi": True,
        "allValue": ".*",
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "sort": 1,
    }


def _dashboard(uid: str, title: str, panels: list[dict[str, Any]], variables: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "uid": uid,
        "title": title,
        "tags": ["vllm-aws"],
        "timezone": "browser",
        "editable": False,
        "graphTooltip": 1,  # shared crosshair
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": variables},
        "annotations": {"list": []},
        "panels": _layout(panels),
    }


def _model_variable() -> dict[str, Any]:
    # `model` is the EC2 tag label set at scrape time: the same on vLLM, node and dcgm series.
    return _variable("model", "label_values(vllm:num_requests_running, model)", "Model")


def _vllm_overview() -> dict[str, Any]:
    by_model = "sum by (model)"
    panels = [
        _timeseries(
            "Token throughput",
            "suffix: tok/s",
            [
                (f"{by_model} (rate(vllm:prompt_tokens_total{{{_MODEL}}}{_RATE}))", "{{model}} prompt"),
                (f"{by_model} (rate(vllm:generation_tokens_total{{{_MODEL}}}{_RATE}))", "{{model}} generation"),
            ],
            "Prompt (prefill) and generated tokens per second, all replicas of a model.",
        ),
        _timeseries(
            "Finished requests",
            "reqps",
            [
                (
                    f"sum by (model, finished_reason) (rate(vllm:request_success_total{{{_MODEL}}}{_RATE}))",
                    "{{model}} {{finished_reason}}",
                )
            ],
            "Requests per second by how they ended: stop, length, abort.",
        ),
        _timeseries("Time to first token", "s", _quantiles("vllm:time_to_first_token_seconds")),
        _timeseries("Inter-token latency", "s", _quantiles("vllm:inter_token_latency_seconds")),
        _timeseries("End-to-end request latency", "s", _quantiles("vllm:e2e_request_latency_seconds")),
        _timeseries("Queue time", "s", _quantiles("vllm:request_queue_time_seconds")),
        _timeseries(
            "Running and waiting requests",
            "short",
            [
                (f"{by_model} (vllm:num_requests_running{{{_MODEL}}})", "{{model}} running"),
                (f"{by_model} (vllm:num_requests_waiting{{{_MODEL}}})", "{{model}} waiting"),
            ],
        ),
        _timeseries(
            "KV cache usage",
            "percentunit",
            [(f"max by (model, replica) (vllm:kv_cache_usage_perc{{{_MODEL}}})", "{{model}} replica {{replica}}")],
            "Fraction of KV-cache blocks in use; above 95% requests queue and get preempted.",
        ),
        _timeseries(
            "Prefix cache hit rate",
            "percentunit",
            [
                (
                    f"{by_model} (rate(vllm:prefix_cache_hits_total{{{_MODEL}}}{_RATE}))"
                    f" / {by_model} (rate(vllm:prefix_cache_queries_total{{{_MODEL}}}{_RATE}))",
                    "{{model}}",
                )
            ],
            "Prompt tokens served from the prefix cache over prompt tokens looked up.",
        ),
        _timeseries(
            "Preemptions",
            "short",
            [
                (
                    f"sum by (model, replica) (rate(vllm:num_preemptions_total{{{_MODEL}}}{_RATE}))",
                    "{{model}} replica {{replica}}",
                )
            ],
            "Preemptions per second: requests whose KV cache was freed and must be recomputed.",
        ),
        _timeseries(
            "Replicas up",
            "short",
            [(f'sum by (model) (up{{job="vllm", {_MODEL}}})', "{{model}}")],
            "Replicas whose /metrics Prometheus scraped successfully.",
        ),
    ]
    return _dashboard("vllm-aws-overview", "vLLM overview", panels, [_model_variable()])


def _gpu_hosts() -> dict[str, Any]:
    host = f'{_MODEL}, instance=~"$instance"'
    per_gpu = "{{instance}} GPU {{gpu}}"
    panels = [
        _timeseries("GPU utilization", "percent", [(f"DCGM_FI_DEV_GPU_UTIL{{{host}}}", per_gpu)]),
        _timeseries(
            "GPU memory used",
            "mbytes",  # dcgm reports framebuffer memory in MiB
            [(f"DCGM_FI_DEV_FB_USED{{{host}}}", per_gpu)],
            "vLLM reserves --gpu-memory-utilization of each GPU at start-up, so this stays flat while serving.",
        ),
        _timeseries("GPU temperature", "celsius", [(f"DCGM_FI_DEV_GPU_TEMP{{{host}}}", per_gpu)]),
        _timeseries(
            "Model cache disk usage",
            "percentunit",
            [
                (
                    f'1 - node_filesystem_avail_bytes{{mountpoint="{CACHE_MOUNT}", {host}}}'
                    f' / node_filesystem_size_bytes{{mountpoint="{CACHE_MOUNT}", {host}}}',
                    "{{instance}}",
                )
            ],
            f"Used fraction of {CACHE_MOUNT} (model weights and compile cache); alert below 10% free.",
        ),
    ]
    instance = _variable("instance", f"label_values(DCGM_FI_DEV_GPU_TEMP{{{_MODEL}}}, instance)", "Host")
    return _dashboard("vllm-aws-gpu-hosts", "GPU hosts", panels, [_model_variable(), instance])


def render_dashboards() -> dict[str, str]:
    """Dashboard file name -> Grafana dashboard JSON, for :data:`GRAFANA_DASHBOARDS_DIR`."""
    return {
        "vllm-overview.json": json.dumps(_vllm_overview(), indent=2) + "\n",
        "gpu-hosts.json": json.dumps(_gpu_hosts(), indent=2) + "\n",
    }
