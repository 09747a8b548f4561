"""What the hosts may open outbound (components.host.egress): HTTPS and HTTP by default, scrapes from the
monitoring host to the VPC on the scrape ports, and everything with ``network.hostEgress: open`` under the rule's old
logical name. Security groups are stateful, so inbound traffic's answers need no egress rule."""

from __future__ import annotations

import pytest
from stack_runs import of_type, run_stack

from components.cli.program import offline_id
from components.observability.prometheus import DCGM_EXPORTER_PORT, NODE_EXPORTER_PORT
from components.planner.vllm_args import VLLM_PORT

EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
HOSTS = ("monitoring", "qwen-72b-0", "qwen-8b-0", "qwen-8b-1")


def group(host: str) -> str:
    return offline_id(SECURITY_GROUP, f"{host}-sg")


@pytest.mark.parametrize("stack", ["prod", "dev"])
def test_hosts_open_only_https_and_http_to_the_internet(stack: str) -> None:
    run = run_stack(stack)
    to_internet = [r for r in of_type(run, EGRESS) if r.inputs.get("cidrIpv4") == "0.0.0.0/0"]
    host_groups = {r.inputs["securityGroupId"] for r in of_type(run, EGRESS)} - {
        offline_id(SECURITY_GROUP, "endpoint-sg")
    }
    assert host_groups
    for host_group in host_groups:
        ports = sorted(
            (r.inputs["ipProtocol"], r.inputs["fromPort"], r.inputs["toPort"])
            for r in to_internet
            if r.inputs["securityGroupId"] == host_group
        )
        assert ports == [("tcp", 80, 80), ("tcp", 443, 443)], host_group
    assert not any(r.inputs["ipProtocol"] == "-1" for r in of_type(run, EGRESS))


def test_the_monitoring_host_opens_the_scrape_ports_to_the_vpc_only() -> None:
    run = run_stack("prod")
    (rule,) = [r for r in of_type(run, EGRESS) if r.name == "monitoring-scrape-out"]
    assert rule.inputs["securityGroupId"] == group("monitoring") and rule.inputs["ipProtocol"] == "tcp"
    assert rule.inputs["cidrIpv4"] == "172.31.0.0/16"  # the offline VPC's CIDR (cli/offline.py)
    assert (rule.inputs["fromPort"], rule.inputs["toPort"]) == (VLLM_PORT, DCGM_EXPORTER_PORT)
    # Each target admits only the jobs' ports, only from the monitoring group, all inside that range.
    for host in HOSTS[1:]:
        admitted = sorted(
            (r.inputs["fromPort"], r.inputs["toPort"])
            for r in of_type(run, INGRESS)
            if r.inputs["securityGroupId"] == group(host)
            and r.inputs.get("referencedSecurityGroupId") == group("monitoring")
        )
        assert admitted == [(VLLM_PORT, VLLM_PORT), (NODE_EXPORTER_PORT,) * 2, (DCGM_EXPORTER_PORT,) * 2], host


def test_open_egress_keeps_the_rule_every_host_had_before() -> None:
    restricted, opened = run_stack("prod"), run_stack("prod", network={"hostEgress": "open"})
    added = {r.urn: r for r in of_type(opened, EGRESS)}.keys() - {r.urn for r in of_type(restricted, EGRESS)}
    rules = [r for r in of_type(opened, EGRESS) if r.urn in added]
    assert sorted(r.name for r in rules) == sorted(f"{host}-egress" for host in HOSTS)
    for rule in rules:
        assert (rule.inputs["ipProtocol"], rule.inputs["cidrIpv4"]) == ("-1", "0.0.0.0/0")
        # Parent and name as before #13 (a child of the host component): the same URN, so no change for a stack
        # that keeps its egress open.
        host = rule.name.removesuffix("-egress")
        assert rule.parent == host
        assert rule.urn.endswith(f"vllm-aws:index:GpuHost${EGRESS}::{host}-egress")
