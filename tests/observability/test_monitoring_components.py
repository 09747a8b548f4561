"""Monitoring and the dedicated monitoring host constructed directly under the plan's mock engine: on a GPU host
(colocated) or its own host (dedicated), with and without Grafana, scraping hosts with several servers."""

from __future__ import annotations

import pytest
import yaml
from constructs import SUBNETS, VPC, construct, gpu_host, ssh_access
from pydantic import ValidationError
from rendered import INVENTORY
from stack_runs import named, of_type

from components import (
    Monitoring,
    MonitoringArgs,
    MonitoringHostArgs,
    create_monitoring_host,
    monitoring_outputs,
)
from components.cli.program import Recording, resolved
from components.host.ami import MONITORING_AMI_PARAMETER
from components.network.placement import HostZones, Zone

CONTAINER = "docker:index/container:Container"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"


def uploads(recording: Recording, name: str) -> dict[str, str]:
    return {upload["file"]: upload["content"] for upload in named(recording, name).inputs["uploads"]}


def test_colocated_monitoring_renders_its_own_files_and_admits_scrapes(pulumi_mocks: Recording) -> None:
    def build() -> None:
        host = gpu_host("qwen-8b-0")
        other = gpu_host("qwen-8b-1")
        Monitoring(
            "monitoring",
            MonitoringArgs(
                host_instance=host.instance,
                host_ready=host.readiness,
                security_group_id=host.security_group_id,
                target_security_group_ids={"qwen-8b-0": host.security_group_id, "qwen-8b-1": other.security_group_id},
                stack="dev",
                region="us-east-1",
                inventory=INVENTORY,
                max_servers_per_host=3,
                grafana_admin_password_file="/etc/vllm-aws/service-secrets/GF_SECURITY_ADMIN_PASSWORD",
            ),
        )

    construct(build)
    prometheus = uploads(pulumi_mocks, "monitoring-prometheus")
    config = yaml.safe_load(prometheus["/etc/prometheus/prometheus.yml"])
    assert {job["job_name"] for job in config["scrape_configs"]} >= {"vllm", "node", "dcgm"}
    assert "groups:" in prometheus["/etc/prometheus/rules/vllm-aws.yml"]
    retention = named(pulumi_mocks, "monitoring-prometheus").inputs["command"]
    assert "--storage.tsdb.retention.time=15d" in retention  # Monitoring's own default
    grafana = uploads(pulumi_mocks, "monitoring-grafana")
    datasource = yaml.safe_load(grafana["/etc/grafana/provisioning/datasources/vllm-aws.yml"])
    assert datasource["datasources"][0]["url"] == "http://prometheus:9090"  # the Prometheus container's alias
    assert any(file.endswith(".json") for file in grafana)
    # Each target admits each job's ports from the monitoring host: vLLM on its three servers' ports.
    rules = {r.name: r.inputs for r in of_type(pulumi_mocks, INGRESS) if r.parent == "monitoring"}
    assert len(rules) == 6
    vllm = rules["monitoring-scrape-vllm-qwen-8b-1"]
    assert (vllm["fromPort"], vllm["toPort"]) == (8000, 8002)
    assert rules["monitoring-scrape-dcgm-qwen-8b-0"]["fromPort"] == 9400
    assert rules["monitoring-scrape-node-qwen-8b-0"]["toPort"] == 9100


def test_without_grafana_only_prometheus_runs_and_no_password_is_needed(pulumi_mocks: Recording) -> None:
    def build() -> None:
        host = gpu_host("h")
        Monitoring(
            "monitoring",
            MonitoringArgs(
                host_instance=host.instance,
                host_ready=host.readiness,
                security_group_id=host.security_group_id,
                target_security_group_ids={"h": host.security_group_id},
                stack="dev",
                region="us-east-1",
                inventory=INVENTORY,
                retention_days=30,
                grafana=False,
            ),
        )

    construct(build)
    assert sorted(r.name for r in of_type(pulumi_mocks, CONTAINER)) == ["monitoring-prometheus"]
    assert "--storage.tsdb.retention.time=30d" in named(pulumi_mocks, "monitoring-prometheus").inputs["command"]


def test_grafana_never_runs_open(pulumi_mocks: Recording) -> None:
    def build() -> None:
        host = gpu_host("h")
        with pytest.raises(ValidationError, match="grafana_admin_password_file is required when grafana is on"):
            MonitoringArgs(
                host_instance=host.instance,
                host_ready=host.readiness,
                security_group_id=host.security_group_id,
                target_security_group_ids={},
                stack="dev",
                region="us-east-1",
                inventory=INVENTORY,
            )

    construct(build)


def test_the_dedicated_monitoring_host_keeps_its_names_at_the_stack_root(pulumi_mocks: Recording) -> None:
    created = []
    zones = HostZones(
        usable=(Zone("us-east-1a", SUBNETS[0]), Zone("us-east-1b", SUBNETS[1])),
        spread=(Zone("us-east-1b", SUBNETS[1]),),
    )

    def build() -> None:
        created.append(
            create_monitoring_host(
                MonitoringHostArgs(
                    instance_type="t3.medium",
                    zones=zones,
                    vpc_id=VPC,
                    region="us-east-1",
                    ssh=ssh_access(),
                    access_mode="ssh",
                    ssh_cidrs=("10.0.0.0/8",),
                    tags={"vllm-aws:stack": "prod"},
                )
            )
        )

    construct(build)
    for name, type_ in [
        ("monitoring-cache", "vllm-aws:index:ModelCache"),
        ("monitoring", "vllm-aws:index:GpuHost"),
        ("monitoring-docker", "pulumi:providers:docker"),
    ]:
        resource = named(pulumi_mocks, name)
        assert (resource.type, resource.parent) == (type_, None)
    assert named(pulumi_mocks, "monitoring-cache-volume").inputs["availabilityZone"] == "us-east-1b"
    instance = named(pulumi_mocks, "monitoring-instance").inputs
    assert instance["instanceType"] == "t3.medium" and instance["subnetId"] == SUBNETS[1]
    assert instance["tags"]["vllm-aws:role"] == "monitoring" and instance["rootBlockDevice"]["volumeSize"] == 30
    assert "nvidia-smi" not in named(pulumi_mocks, "monitoring-ready").inputs["create"]
    lookups = [args.get("name") for token, args in pulumi_mocks.invokes if token == "aws:ssm/getParameter:getParameter"]
    assert lookups == [MONITORING_AMI_PARAMETER]
    commands = resolved(monitoring_outputs(created[0].host.instance_id, "us-east-1"))
    assert "portNumber=9090,localPortNumber=9090" in commands["prometheus"]
    assert "portNumber=3000,localPortNumber=3000" in commands["grafana"]
    assert commands["instanceId"].startswith("i-")
