"""Monitoring as the real program registers it: placement, security chain, loopback-only UIs, secrets."""

from __future__ import annotations

from stack_runs import named, of_type, run_stack

from components.cli.program import offline_id

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
    rules = of_type(run, INGRESS)
    assert rules, "no scrape rules"
    for rule in rules:
        assert rule.parent == "monitoring"
        assert rule.inputs["referencedSecurityGroupId"] == offline_id(SECURITY_GROUP, "monitoring-sg")
        assert "cidrIpv4" not in rule.inputs and "cidrIpv6" not in rule.inputs
    ports = {(r.inputs["fromPort"], r.inputs["toPort"]) for r in rules}
    assert ports == {(8000, 8000), (9100, 9100), (9400, 9400)}
    targets = {r.inputs["securityGroupId"] for r in rules}
    assert targets == {offline_id(SECURITY_GROUP, f"{host}-sg") for host in ("llama-70b-0", "llama-8b-0", "llama-8b-1")}


def test_uis_listen_on_loopback_only_and_the_grafana_password_is_secret() -> None:
    run = run_stack("prod")
    for name in ("monitoring-prometheus", "monitoring-grafana"):
        (port,) = named(run, name).inputs["ports"]
        assert port["ip"] == "127.0.0.1"
    assert named(run, "monitoring-grafana").inputs["envs"] == "[secret]"
    assert "grafanaAdminPassword" in run.outputs


def test_prometheus_gets_the_rendered_config_rules_and_retention() -> None:
    run = run_stack("prod", monitoring={"placement": "dedicated", "retentionDays": 30})
    prometheus = named(run, "monitoring-prometheus")
    files = {u["file"]: u["content"] for u in prometheus.inputs["uploads"]}
    assert "ec2_sd_configs" in files["/etc/prometheus/prometheus.yml"]
    assert "vllm:num_requests_waiting" in files["/etc/prometheus/rules/vllm-aws.yml"]
    assert "--storage.tsdb.retention.time=30d" in prometheus.inputs["command"]


def test_monitoring_disabled_registers_nothing_of_it() -> None:
    run = run_stack("prod", monitoring={"enabled": False})
    assert not [r for r in run.resources if r.name.startswith("monitoring")]
    assert of_type(run, INGRESS) == []


def test_grafana_off_leaves_prometheus_only() -> None:
    run = run_stack("dev", monitoring={"placement": "colocated", "grafana": False})
    assert not [r for r in run.resources if "grafana" in r.name]
    assert named(run, "monitoring-prometheus")
