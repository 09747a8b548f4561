"""prometheus.yml: what the monitoring host scrapes, and where it sends alerts; the rule format they share.

Targets come from EC2 service discovery, not from a list rendered at deploy time: every running instance
tagged with this stack and the ``gpu-host`` role is scraped, so a new replica (or a replaced host) is
monitored without redeploying Prometheus. The monitoring host's role therefore needs
``ec2:DescribeInstances`` and ``ec2:DescribeAvailabilityZones`` (which Prometheus' EC2 discovery calls).

A host may run several vLLM servers, on ports 8000, 8001, ... (``replicasPerHost``); it carries the tag
:data:`SERVERS_TAG` = how many. The ``vllm`` job discovers once per port, port 8000+s only on the hosts
tagged with more than s servers, and labels each target with its ``port``: the servers of one host share
``instance`` and ``replica`` and are told apart by ``port``.

With an Alertmanager (:attr:`PrometheusSpec.alertmanager`, its container on the monitoring Docker network,
as Grafana reaches Prometheus), the config gains an ``alerting:`` section; without one it is unchanged.
The alert rules are in :mod:`.alert_rules` and :mod:`.stack_alerts`.
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
from ..config.sections import DEFAULT_RETENTION_DAYS, MAX_SERVERS_PER_HOST
from ..planner.vllm_args import VLLM_PORT

NODE_EXPORTER_PORT = 9100
DCGM_EXPORTER_PORT = 9400
PROMETHEUS_PORT = 9090
GRAFANA_PORT = 3000


# Where the container finds its files: the image's default --config.file, and the rules beside it.
PROMETHEUS_CONFIG_PATH = "/etc/prometheus/prometheus.yml"
PROMETHEUS_RULES_DIR = "/etc/prometheus/rules"
ALERT_RULES_FILE_NAME = "vllm-aws.yml"
# Relative to the config file, as Prometheus and promtool resolve it: /etc/prometheus/rules/*.yml in the
# container, and a temporary directory in the tests, from the same rendered text.
RULE_FILES_GLOB = "rules/*.yml"
EVALUATION_INTERVAL_SECONDS = 30
# How often EC2 discovery lists the running instances: a stopped host's targets vanish within this.
EC2_SD_REFRESH_SECONDS = 60

_STACK = re.compile(r"^[A-Za-z0-9_.-]+$")  # Pulumi stack names
# host:port of a container on the monitoring network (Docker DNS name), or an IP address.
_HOST_PORT = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?:\d{1,5}$")


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
    # host:port of the Alertmanager that receives the alerts; None renders no `alerting:` section.
    alertmanager: str | None = None

    @field_validator("stack")
    @classmethod
    def _stack(cls, value: str) -> str:
        if not _STACK.fullmatch(value):
            raise ValueError(f"not a Pulumi stack name (letters, digits, '-', '_', '.') (got {value!r})")
        return value

    _region = field_validator("region")(aws_ids.check_region)

    @field_validator("alertmanager")
    @classmethod
    def _alertmanager(cls, value: str | None) -> str | None:
        if value is not None and not _HOST_PORT.fullmatch(value):
            raise ValueError(f"not a host:port like 'alertmanager:9093' (got {value!r})")
        return value


def _tag_label(tag: str) -> str:
    # EC2 discovery exposes tag K as __meta_ec2_tag_<K with every character outside [A-Za-z0-9_] as "_">.
    return "__meta_ec2_tag_" + re.sub(r"[^A-Za-z0-9_]", "_", tag)


def _gpu_host_sd(spec: PrometheusSpec, port: int, extra_filters: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "region": spec.region,
        "port": port,
        "refresh_interval": f"{EC2_SD_REFRESH_SECONDS}s",
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


def _alerting(spec: PrometheusSpec) -> dict[str, Any]:
    if spec.alertmanager is None:
        return {}
    # Prometheus' default Alertmanager API (v2) and path; it resends firing alerts every minute (resend_delay).
    return {"alerting": {"alertmanagers": [{"static_configs": [{"targets": [spec.alertmanager]}]}]}}


def render_prometheus_config(spec: PrometheusSpec) -> str:
    """prometheus.yml: the vllm, node and dcgm jobs on every discovered GPU host, plus Prometheus itself."""
    config: dict[str, Any] = {
        "global": {
            "scrape_interval": f"{spec.scrape_interval_seconds}s",
            "evaluation_interval": f"{EVALUATION_INTERVAL_SECONDS}s",
            "external_labels": {"stack": spec.stack},
        },
        "rule_files": [RULE_FILES_GLOB],
        **_alerting(spec),
        "scrape_configs": [
            # vLLM serves /metrics on the API port without the API key (only /v1 routes check it).
            _gpu_host_job("vllm", _vllm_sd_configs(spec), [_PORT_LABEL]),
            _gpu_host_job("node", [_gpu_host_sd(spec, NODE_EXPORTER_PORT, [])]),
            _gpu_host_job("dcgm", [_gpu_host_sd(spec, DCGM_EXPORTER_PORT, [])]),
            {"job_name": "prometheus", "static_configs": [{"targets": [f"localhost:{PROMETHEUS_PORT}"]}]},
            # Its notification counters: a failing destination (a webhook, SNS) is an alert of its own.
            *(
                [{"job_name": "alertmanager", "static_configs": [{"targets": [spec.alertmanager]}]}]
                if spec.alertmanager
                else []
            ),
        ],
    }
    header = (
        f"# Prometheus of the vllm-aws stack {spec.stack!r} ({spec.region}); rendered by components.observability.\n"
        f"# Retention: {spec.retention_days} days, set by the container flag"
        f" --storage.tsdb.retention.time={spec.retention_days}d (a flag, not a setting of this file).\n"
        f"# Rule files are relative to this file: {PROMETHEUS_RULES_DIR}/*.yml beside {PROMETHEUS_CONFIG_PATH}.\n"
    )
    return header + yaml.safe_dump(config, sort_keys=False, width=1000)


def alert_rule(name: str, expr: str, duration: str, severity: str, *, summary: str, description: str) -> dict[str, Any]:
    """One alerting rule of a Prometheus rule group; ``duration`` "0m" fires on the first evaluation."""
    rule: dict[str, Any] = {"alert": name, "expr": expr}
    if duration != "0m":
        rule["for"] = duration
    rule["labels"] = {"severity": severity}
    rule["annotations"] = {"summary": summary, "description": description}
    return rule
