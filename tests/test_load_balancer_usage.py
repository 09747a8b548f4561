"""The quota counts (components.load_balancer_usage) are what the real program registers, for any shape of stack."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from stack_runs import of_type, run_stack, stack_raw

from components.cli.program import ProgramRun, offline_id
from components.config import parse_stack_config
from components.load_balancer_usage import GroupRules, LoadBalancerUsage, RuleCount, listener_rules, load_balancer_usage
from components.sizing import plan_stack

CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0123abcd-4567-89ef-0123-456789abcdef"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
SMALL = {"name": "qwen-7b", "id": "Qwen/Qwen2.5-7B-Instruct-AWQ", "instanceType": "g6.xlarge", "maxModelLen": 8192}

SHAPES: dict[str, dict[str, Any]] = {
    "prod": {},
    "prod-https-domain-dual-stack": {
        "loadBalancer": {"certificateArn": CERT, "domain": "llm.example.com"},
        "network": {"allowedCidrs": ["10.0.0.0/8", "192.168.0.0/16", "2001:db8::/32"]},
    },
    "three-models-many-replicas": {
        "models": [
            {**SMALL, "name": "chat", "replicas": 5},
            {**SMALL, "name": "code", "replicas": 3},
            {**SMALL, "name": "embed", "instanceType": "g6.12xlarge", "replicas": 6, "replicasPerHost": 4},
        ]
    },
}


def recorded_usage(run: ProgramRun) -> LoadBalancerUsage:
    listeners = {listener.name: listener.inputs["port"] for listener in of_type(run, "aws:lb/listener:Listener")}
    rules = Counter(
        rule.inputs["listenerArn"].rsplit(":", 1)[1] for rule in of_type(run, "aws:lb/listenerRule:ListenerRule")
    )
    groups = {offline_id(SECURITY_GROUP, g.name): g.name for g in of_type(run, SECURITY_GROUP)}

    def group_rules(name: str) -> GroupRules:
        group_id = next(id_ for id_, group in groups.items() if group == name)

        def count(kind: str) -> RuleCount:
            mine = [r.inputs for r in of_type(run, kind) if r.inputs["securityGroupId"] == group_id]
            return RuleCount(
                ipv4=sum(1 for r in mine if "cidrIpv6" not in r),
                ipv6=sum(1 for r in mine if "cidrIpv4" not in r),
            )

        return GroupRules(inbound=count(INGRESS), outbound=count(EGRESS))

    return LoadBalancerUsage(
        rules_per_listener={port: rules[name] for name, port in listeners.items()},
        target_groups=len(of_type(run, "aws:lb/targetGroup:TargetGroup")),
        targets=len(of_type(run, "aws:lb/targetGroupAttachment:TargetGroupAttachment")),
        load_balancer_group=group_rules("endpoint-sg"),
        targets_groups={
            name.removesuffix("-targets-sg"): group_rules(name)
            for name in groups.values()
            if name.endswith("-targets-sg")
        },
    )


@pytest.mark.parametrize("shape", SHAPES, ids=list(SHAPES))
def test_counts_match_what_the_program_registers(shape: str) -> None:
    raw, _ = stack_raw("prod")
    raw.update(SHAPES[shape])
    predicted = load_balancer_usage(plan_stack(parse_stack_config(raw)))
    assert predicted == recorded_usage(run_stack("prod", **SHAPES[shape]))


def test_the_rules_quota_counts_every_listener_and_no_default_action() -> None:
    raw, _ = stack_raw("prod")
    raw["loadBalancer"] = {"certificateArn": CERT, "domain": "llm.example.com"}
    usage = load_balancer_usage(plan_stack(parse_stack_config(raw)))
    assert usage.rules_per_listener == {443: 5, 80: 0}
    assert usage.rules == listener_rules(2, domain=True) == 5
    assert usage.load_balancer_group.inbound == RuleCount(ipv4=2, ipv6=0)  # 0.0.0.0/0 on 80 and 443
