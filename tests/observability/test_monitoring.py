"""Monitoring as the real program registers it: placement, security chain, loopback-only UIs, secrets."""

from __future__ import annotations

import yaml
from stack_runs import named, of_type, run_stack

from components.cli.program import offline_id
from components.observability import EXPECTED_SERVER_METRIC, GRAFANA_DASHBOARDS_DIR, SERVERS_TAG, render_dashboards
from components.planner.root_disk import IMAGE_ON_DISK_BYTES

INSTANCE = "aws:ec2/instance:Instance"
CONTAINER = "docker:index/container:Container"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"


def test_dev_colocates_monitoring_on_the_first_gpu_host() -> None:
    run = run_stack("dev")
    assert [i.parent for i in of_type(run, INSTANCE)] == ["qwen-7b-0"]
    prometheus = named(run, "monitoring-prometheus")
    assert prometheus.options["provider"] == "qwen-7b-0-docker"
    assert named(run, "qwen-7b-0-discovery").inputs["policy"].count("ec2:DescribeInstances") == 1


def test_prod_runs_monitoring_on_a_dedicated_cpu_host_with_its_own_data_volume() -> None:
    run = run_stack("prod")
    host = named(run, "monitoring-instance")
    assert host.inputs["instanceType"] == "t3.medium"
    assert host.inputs["metadataOptions"]["httpTokens"] == "required"
    assert "ec2-user" in host.inputs["userData"] and "- docker" in host.inputs["userData"]
    assert "nvidia-smi" not in named(run, "monitoring-ready").inputs["create"]
    assert named(run, "monitoring-cache-volume").inputs["encrypted"] is True
    discovery = [r.parent for r in of_type(run, "aws:iam/rolePolicy:RolePolicy") if r.name.endswith("-discovery")]
    assert discovery == ["monitoring"]  # GPU hosts cannot list instances
    assert named(run, "monitoring-prometheus").options["provider"] == "monitoring-docker"


def test_gpu_hosts_admit_only_the_scrape_ports_and_only_from_the_monitoring_group() -> None:
    run = run_stack("prod")
    rules = [r for r in of_type(run, INGRESS) if r.name.startswith("monitoring-scrape-")]
    assert rules, "no scrape rules"
    for rule in rules:
        assert rule.parent == "monitoring"
        assert rule.inputs["referencedSecurityGroupId"] == offline_id(SECURITY_GROUP, "monitoring-sg")
        assert "cidrIpv4" not in rule.inputs and "cidrIpv6" not in rule.inputs
    ports = {(r.inputs["fromPort"], r.inputs["toPort"]) for r in rules}
    assert ports == {(8000, 8000), (9100, 9100), (9400, 9400)}
    targets = {r.inputs["securityGroupId"] for r in rules}
    assert targets == {offline_id(SECURITY_GROUP, f"{host}-sg") for host in ("qwen-72b-0", "qwen-8b-0", "qwen-8b-1")}


def test_uis_listen_on_loopback_only() -> None:
    run = run_stack("prod")
    for name in ("monitoring-prometheus", "monitoring-grafana"):
        (port,) = named(run, name).inputs["ports"]
        assert port["ip"] == "127.0.0.1"
    assert "grafanaAdminPassword" in run.outputs  # the password itself: tests/observability/test_grafana_password.py


def test_prometheus_gets_the_rendered_config_rules_and_retention() -> None:
    run = run_stack("prod", monitoring={"placement": "dedicated", "retentionDays": 30})
    prometheus = named(run, "monitoring-prometheus")
    files = {u["file"]: u["content"] for u in prometheus.inputs["uploads"]}
    assert "ec2_sd_configs" in files["/etc/prometheus/prometheus.yml"]
    assert "vllm:num_requests_waiting" in files["/etc/prometheus/rules/vllm-aws.yml"]
    assert "--storage.tsdb.retention.time=30d" in prometheus.inputs["command"]
    # The config's header documents the same retention as the flag.
    assert "--storage.tsdb.retention.time=30d" in files["/etc/prometheus/prometheus.yml"].split("global:")[0]


def test_hosts_are_tagged_with_their_server_count_and_every_server_port_is_scraped() -> None:
    # 6 servers, 4 to a host: host 0 runs 4 (ports 8000-8003), host 1 the other 2 (8000-8001).
    model = {
        "name": "qwen-small",
        "id": "Qwen/Qwen2.5-1.5B-Instruct",
        "instanceType": "g6.12xlarge",
        "replicas": 6,
        "replicasPerHost": 4,
        "maxModelLen": 8192,
    }
    run = run_stack("dev", models=[model])
    tags = {i.parent: i.inputs["tags"] for i in of_type(run, INSTANCE)}
    assert {host: t[SERVERS_TAG] for host, t in tags.items()} == {"qwen-small-0": "4", "qwen-small-1": "2"}
    assert SERVERS_TAG == "vllm-aws:servers"
    files = {u["file"]: u["content"] for u in named(run, "monitoring-prometheus").inputs["uploads"]}
    config = yaml.safe_load(files["/etc/prometheus/prometheus.yml"])
    [vllm] = [job for job in config["scrape_configs"] if job["job_name"] == "vllm"]
    assert [sd["port"] for sd in vllm["ec2_sd_configs"]] == [8000, 8001, 8002, 8003]
    vllm_rules = [r for r in of_type(run, INGRESS) if r.name.startswith("monitoring-scrape-vllm-")]
    assert {(r.inputs["fromPort"], r.inputs["toPort"]) for r in vllm_rules} == {(8000, 8003)}


def test_one_server_hosts_are_tagged_one_and_scraped_on_8000_only() -> None:
    run = run_stack("prod")
    assert {i.inputs["tags"][SERVERS_TAG] for i in of_type(run, INSTANCE) if i.parent != "monitoring"} == {"1"}
    assert SERVERS_TAG not in named(run, "monitoring-instance").inputs["tags"]
    files = {u["file"]: u["content"] for u in named(run, "monitoring-prometheus").inputs["uploads"]}
    [vllm] = [
        j for j in yaml.safe_load(files["/etc/prometheus/prometheus.yml"])["scrape_configs"] if j["job_name"] == "vllm"
    ]
    assert [sd["port"] for sd in vllm["ec2_sd_configs"]] == [8000]


def test_dashboards_are_uploaded_outside_grafanas_persisted_data_dir() -> None:
    grafana = named(run_stack("prod"), "monitoring-grafana")
    [data] = [m for m in grafana.inputs["mounts"] if m["target"] == "/var/lib/grafana"]
    assert data["type"] == "bind"
    files = {u["file"]: u["content"] for u in grafana.inputs["uploads"]}
    dashboards = {f: c for f, c in files.items() if f.endswith(".json")}
    assert dashboards == {f"{GRAFANA_DASHBOARDS_DIR}/{name}": body for name, body in render_dashboards().items()}
    assert not any(f.startswith(data["target"] + "/") for f in files)  # uploads under a bind mount hit the host
    assert f"path: {GRAFANA_DASHBOARDS_DIR}" in files["/etc/grafana/provisioning/dashboards/vllm-aws.yml"]


def test_monitoring_disabled_registers_nothing_of_it() -> None:
    run = run_stack("prod", monitoring={"enabled": False})
    assert not [r for r in run.resources if r.name.startswith("monitoring")]
    assert [r.parent for r in of_type(run, INGRESS) if not r.parent.endswith("endpoint")] == []


def test_grafana_off_leaves_prometheus_only() -> None:
    run = run_stack("dev", monitoring={"placement": "colocated", "grafana": False})
    assert not [r for r in run.resources if "grafana" in r.name]
    assert named(run, "monitoring-prometheus")


def test_the_rules_carry_the_stacks_inventory_and_upload_after_every_gpu_host_runs() -> None:
    # prod: qwen-8b twice, qwen-72b once, one server a host; weights and the image pull size from the plan.
    run = run_stack("prod")
    prometheus = named(run, "monitoring-prometheus")
    files = {u["file"]: u["content"] for u in prometheus.inputs["uploads"]}
    groups = {g["name"]: g["rules"] for g in yaml.safe_load(files["/etc/prometheus/rules/vllm-aws.yml"])["groups"]}
    servers = sorted(
        (r["labels"]["model"], r["labels"]["replica"], r["labels"]["port"])
        for r in groups["vllm-aws.inventory"]
        if r.get("record") == EXPECTED_SERVER_METRIC
    )
    assert servers == [("qwen-72b", "0", "8000"), ("qwen-8b", "0", "8000"), ("qwen-8b", "1", "8000")]
    weights = {r["labels"]["model"]: r["expr"] for r in groups["vllm-aws.disk"] if "record" in r}
    assert set(weights) == {"qwen-72b", "qwen-8b"}
    [root] = [r for r in groups["vllm-aws.disk"] if r.get("alert") == "RootDiskCannotHoldImageUpgrade"]
    assert root["expr"].endswith(f"< {IMAGE_ON_DISK_BYTES}") and IMAGE_ON_DISK_BYTES == 41_200_000_000
    # A replica being created is not reported missing: the new rules wait for every GPU host's readiness gate.
    ready = {f"{host}-ready" for host in ("qwen-72b-0", "qwen-8b-0", "qwen-8b-1")}
    assert ready <= set(prometheus.options["dependsOn"])
