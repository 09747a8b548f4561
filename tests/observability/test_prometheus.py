"""The monitoring host's prometheus.yml: promtool accepts it, and its EC2 discovery and relabelling find exactly
the stack's GPU hosts, labelled by model, replica and zone, on exactly their servers' ports."""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError
from rendered import INVENTORY, SPEC, all_rules, promtool

from components.observability import (
    ALERT_RULES_FILE_NAME,
    ALERTMANAGER_ADDRESS,
    DCGM_EXPORTER_PORT,
    MAX_SERVERS_PER_HOST,
    NODE_EXPORTER_PORT,
    PROMETHEUS_CONFIG_PATH,
    PROMETHEUS_RULES_DIR,
    SERVERS_TAG,
    VLLM_PORT,
    PrometheusSpec,
    render_alert_rules,
    render_prometheus_config,
)

# --- prometheus.yml -------------------------------------------------------------------------------------


def write_prometheus_dir(directory: Path, rules_text: str | None = None) -> Path:
    """prometheus.yml and rules/ laid out as in the container (relative rule_files resolve the same)."""
    (directory / "rules").mkdir()
    (directory / "rules" / ALERT_RULES_FILE_NAME).write_text(rules_text or render_alert_rules(INVENTORY))
    config = directory / "prometheus.yml"
    config.write_text(render_prometheus_config(SPEC))
    return config


def test_prometheus_config_passes_promtool_check_config(tmp_path: Path) -> None:
    result = promtool("check", "config", write_prometheus_dir(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    output = result.stdout + result.stderr
    assert "SUCCESS: 1 rule files found" in output, output
    assert f"SUCCESS: {len(all_rules())} rules found" in output, output


def test_promtool_check_config_rejects_a_broken_rule_file(tmp_path: Path) -> None:
    # The config check really loads the rule files it points at.
    result = promtool(
        "check", "config", write_prometheus_dir(tmp_path, render_alert_rules(INVENTORY).replace(" > 10", " >"))
    )
    assert result.returncode != 0, result.stdout


def test_rule_files_resolve_to_the_container_rules_dir() -> None:
    config = yaml.safe_load(render_prometheus_config(SPEC))
    [pattern] = config["rule_files"]
    resolved = posixpath.join(posixpath.dirname(PROMETHEUS_CONFIG_PATH), pattern)
    assert resolved == f"{PROMETHEUS_RULES_DIR}/*.yml" == "/etc/prometheus/rules/*.yml"
    assert ALERT_RULES_FILE_NAME.endswith(".yml")


def test_prometheus_config_scrapes_discovered_gpu_hosts_and_itself() -> None:
    text = render_prometheus_config(PrometheusSpec(stack="prod", region="eu-west-1", retention_days=30))
    config = yaml.safe_load(text)
    assert config["global"] == {
        "scrape_interval": "15s",
        "evaluation_interval": "30s",
        "external_labels": {"stack": "prod"},
    }
    assert "--storage.tsdb.retention.time=30d" in text.split("global:")[0]  # documented in the header comment
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == {"vllm", "node", "dcgm", "prometheus"}
    assert jobs["prometheus"]["static_configs"] == [{"targets": ["localhost:9090"]}]
    for name, port in {"vllm": VLLM_PORT, "node": NODE_EXPORTER_PORT, "dcgm": DCGM_EXPORTER_PORT}.items():
        job = jobs[name]
        assert job["metrics_path"] == "/metrics"
        [sd] = job["ec2_sd_configs"]
        assert sd["region"] == "eu-west-1" and sd["port"] == port
        filters = {f["name"]: f["values"] for f in sd["filters"]}
        assert filters["tag:vllm-aws:stack"] == ["prod"]
        assert filters["tag:vllm-aws:role"] == ["gpu-host"]
    assert (VLLM_PORT, NODE_EXPORTER_PORT, DCGM_EXPORTER_PORT) == (8000, 9100, 9400)


def relabel(configs: list[dict[str, Any]], labels: dict[str, str]) -> dict[str, str]:
    """Prometheus' `replace` relabelling (the only action the config uses), then meta labels dropped."""
    labels = dict(labels)
    for config in configs:
        assert config.get("action", "replace") == "replace", config
        value = config.get("separator", ";").join(labels.get(name, "") for name in config["source_labels"])
        match = re.fullmatch(config.get("regex", "(.*)"), value)
        if match is None:
            continue
        # Go's $1 / ${1} as Python's \g<1>.
        replacement = match.expand(re.sub(r"\$\{?(\d+)\}?", r"\\g<\1>", config.get("replacement", "$1")))
        if replacement:
            labels[config["target_label"]] = replacement
        else:
            labels.pop(config["target_label"], None)
    return {name: value for name, value in labels.items() if not name.startswith("__meta_")}


# What EC2 discovery hands to relabelling for one GPU host (tag keys sanitised as Prometheus does); EC2
# discovery sets __address__ to <private ip>:<port of the sd config that found it>.
DISCOVERED = {
    "__meta_ec2_private_ip": "10.0.1.23",
    "__meta_ec2_public_ip": "54.1.2.3",
    "__meta_ec2_instance_id": "i-0123456789abcdef0",
    "__meta_ec2_availability_zone": "eu-west-1b",
    "__meta_ec2_instance_type": "g6e.xlarge",
    "__meta_ec2_tag_vllm_aws_model": "qwen-8b",
    "__meta_ec2_tag_vllm_aws_replica": "1",
    "__meta_ec2_tag_vllm_aws_stack": "prod",
    "__meta_ec2_tag_vllm_aws_servers": "4",
}


def scrape_jobs(spec: PrometheusSpec = SPEC) -> dict[str, dict[str, Any]]:
    return {job["job_name"]: job for job in yaml.safe_load(render_prometheus_config(spec))["scrape_configs"]}


@pytest.mark.parametrize(
    ("name_tag", "instance"),
    [({"__meta_ec2_tag_Name": "vllm-aws-prod-qwen-8b-1"}, "vllm-aws-prod-qwen-8b-1"), ({}, "i-0123456789abcdef0")],
    ids=["name-tag", "instance-id"],
)
def test_relabelling_targets_the_private_ip_and_labels_model_replica_zone(
    name_tag: dict[str, str], instance: str
) -> None:
    jobs = scrape_jobs(PrometheusSpec(stack="prod", region="eu-west-1", max_servers_per_host=4))
    scraped: dict[str, list[str]] = {}
    for job, config in jobs.items():
        for sd in config.get("ec2_sd_configs", []):
            # The public address as __address__ too: relabelling must still take the private one.
            for address in (f"10.0.1.23:{sd['port']}", f"54.1.2.3:{sd['port']}"):
                labels = relabel(config["relabel_configs"], DISCOVERED | name_tag | {"__address__": address})
                assert labels["__address__"] == f"10.0.1.23:{sd['port']}"
                assert labels["instance"] == instance
                assert labels["instance_id"] == "i-0123456789abcdef0"
                assert (labels["model"], labels["replica"], labels["availability_zone"]) == (
                    "qwen-8b",
                    "1",
                    "eu-west-1b",
                )
                assert labels["instance_type"] == "g6e.xlarge"
                # port tells apart the servers of one host; the exporters (one per host) do not need it.
                assert labels.get("port") == (str(sd["port"]) if job == "vllm" else None)
            scraped.setdefault(job, []).append(labels["__address__"])
    assert scraped == {
        "vllm": ["10.0.1.23:8000", "10.0.1.23:8001", "10.0.1.23:8002", "10.0.1.23:8003"],
        "node": ["10.0.1.23:9100"],
        "dcgm": ["10.0.1.23:9400"],
    }


def matches_filters(filters: list[dict[str, Any]], tags: dict[str, str]) -> bool:
    """EC2 DescribeInstances filters: AND across filters, OR across one filter's values."""
    for f in filters:
        if f["name"] == "instance-state-name":
            continue  # the hosts below are running
        assert f["name"].startswith("tag:"), f
        if tags.get(f["name"].removeprefix("tag:")) not in f["values"]:
            return False
    return True


@pytest.mark.parametrize("max_servers", [1, 3, MAX_SERVERS_PER_HOST])
def test_vllm_job_scrapes_each_host_on_exactly_its_servers_ports(max_servers: int) -> None:
    spec = PrometheusSpec(stack="prod", region="eu-west-1", max_servers_per_host=max_servers)
    sds = scrape_jobs(spec)["vllm"]["ec2_sd_configs"]
    assert [sd["port"] for sd in sds] == [VLLM_PORT + s for s in range(max_servers)]
    for slot, sd in enumerate(sds):
        filters = {f["name"]: f["values"] for f in sd["filters"]}
        if slot == 0:  # every GPU host runs a server on 8000, tagged or not
            assert f"tag:{SERVERS_TAG}" not in filters
        else:
            assert filters[f"tag:{SERVERS_TAG}"] == [str(n) for n in range(slot + 1, 9)]
    base = {"vllm-aws:stack": "prod", "vllm-aws:role": "gpu-host"}
    for servers in range(1, max_servers + 1):
        tags = base | {SERVERS_TAG: str(servers)}
        ports = [sd["port"] for sd in sds if matches_filters(sd["filters"], tags)]
        assert ports == list(range(8000, 8000 + servers)), servers
    # Another stack's host, or the monitoring host, is never scraped.
    assert not any(matches_filters(sd["filters"], base | {"vllm-aws:stack": "dev"}) for sd in sds)
    assert not any(matches_filters(sd["filters"], base | {"vllm-aws:role": "monitoring"}) for sd in sds)
    assert SERVERS_TAG == "vllm-aws:servers" and MAX_SERVERS_PER_HOST == 8


def test_multi_server_config_passes_promtool_check_config(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / ALERT_RULES_FILE_NAME).write_text(render_alert_rules(INVENTORY))
    config = tmp_path / "prometheus.yml"
    config.write_text(
        render_prometheus_config(PrometheusSpec(stack="prod", region="eu-west-1", max_servers_per_host=8))
    )
    result = promtool("check", "config", config)
    assert result.returncode == 0, result.stdout + result.stderr


def test_prometheus_sends_alerts_to_the_alertmanager_container_only_when_given_one(tmp_path: Path) -> None:
    plain = yaml.safe_load(render_prometheus_config(SPEC))
    assert "alerting" not in plain  # the config the stack ships until it runs an Alertmanager
    spec = PrometheusSpec(stack="prod", region="eu-west-1", alertmanager=ALERTMANAGER_ADDRESS)
    config = yaml.safe_load(render_prometheus_config(spec))
    # The container's name on the monitoring Docker network, as Grafana reaches Prometheus.
    assert config["alerting"] == {"alertmanagers": [{"static_configs": [{"targets": ["alertmanager:9093"]}]}]}
    # And scrapes it: its failed-notification counters feed AlertDeliveryFailing.
    assert config["scrape_configs"][-1] == {
        "job_name": "alertmanager",
        "static_configs": [{"targets": ["alertmanager:9093"]}],
    }
    config["scrape_configs"].pop()
    assert {key: value for key, value in config.items() if key != "alerting"} == plain
    (tmp_path / "rules").mkdir()
    (tmp_path / "prometheus.yml").write_text(render_prometheus_config(spec))
    result = promtool("check", "config", tmp_path / "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "change",
    [
        {"region": "eu-west"},
        {"stack": "prod stack"},
        {"scrape_interval_seconds": 1},
        {"retention_days": 0},
        {"port": 1},
        {"max_servers_per_host": 0},
        {"max_servers_per_host": 9},
        {"alertmanager": "alertmanager"},
        {"alertmanager": "http://alertmanager:9093"},
        {"alertmanager": "alert manager:9093"},
    ],
)
def test_prometheus_spec_rejects_bad_values(change: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        PrometheusSpec.model_validate({"stack": "prod", "region": "eu-west-1"} | change)


def test_prometheus_spec_is_frozen() -> None:
    with pytest.raises(ValidationError):
        SPEC.stack = "dev"  # type: ignore[misc]
