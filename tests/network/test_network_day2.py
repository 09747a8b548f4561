"""Day-2 changes to the front door never hand a unique key from one resource to another, or replace one.

Pulumi runs creates and updates while the program registers resources and deletes only after it ends
(pulumi/pulumi pkg/resource/deploy/step_generator.go GenerateDeletes, deployment_executor.go
performPostSteps), and AWS keeps some keys unique: one rule per listener priority (CreateRule and
SetRulePriorities fail with ``PriorityInUse``), one listener per port (CreateListener ``DuplicateListener``;
both botocore elbv2 2015-12-01), one security-group rule per group, protocol, ports and source
(``InvalidPermission.Duplicate``, hashicorp/terraform-provider-aws internal/service/ec2/errors.go). So whatever
holds such a key before and after a change must be the same logical resource: another one would be created on
it, or moved onto it, while the old holder still has it.

Each scenario is a change a team makes in its first months, run through the real program under mocks.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest
from stack_runs import named, of_type, run_stack, stack_raw

from components.cli.program import ProgramRun, RecordedResource, offline_id

RULE = "aws:lb/listenerRule:ListenerRule"
LISTENER = "aws:lb/listener:Listener"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0123abcd-4567-89ef-0123-456789abcdef"
SOURCES = ("cidrIpv4", "cidrIpv6", "referencedSecurityGroupId", "prefixListId")
# Inputs that replace the resource when they change (create before delete), per the provider's schema:
# hashicorp/terraform-provider-aws internal/service/ec2/vpc_security_group.go @0160692 (description, vpc_id),
# elbv2/target_group.go @013cfb4 (port, protocol, vpc_id, target_type), elbv2/listener.go @01c0800
# (load_balancer_arn), ec2/vpc_security_group_ingress_rule.go @00a3220 (security_group_id, the source kind).
FORCE_NEW = {
    SECURITY_GROUP: ("description", "vpcId"),
    TARGET_GROUP: ("port", "protocol", "vpcId", "targetType"),
    LISTENER: ("loadBalancerArn",),
    INGRESS: ("securityGroupId",),
    EGRESS: ("securityGroupId",),
}

PROD_RAW, _ = stack_raw("prod")
MODELS: list[dict[str, Any]] = PROD_RAW["models"]
# The scenarios start from prod's load balancer served over plain HTTP (chosen explicitly), then add HTTPS.
LOAD_BALANCER: dict[str, Any] = {
    k: v for k, v in PROD_RAW["loadBalancer"].items() if k not in ("domain", "hostedZoneId")
}
PLAIN_HTTP: dict[str, Any] = {**LOAD_BALANCER, "allowPlainHttp": True}
OWN_ZONE = {"domain": "llm.example.com", "hostedZoneId": "Z0123456789ABCDEFGHIJ"}
SMALL = {"name": "qwen-7b", "id": "Qwen/Qwen2.5-7B-Instruct-AWQ", "instanceType": "g6.xlarge", "maxModelLen": 8192}
TWO_CIDRS = {"allowedCidrs": ["10.0.0.0/8", "192.168.0.0/16"]}

# name -> (config overrides before, config overrides after)
SCENARIOS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "remove-the-first-model": ({}, {"models": MODELS[1:]}),
    "remove-the-last-model": ({}, {"models": MODELS[:1]}),
    "reorder-models-new-default": ({}, {"models": MODELS[::-1]}),
    "add-a-model-in-front": ({}, {"models": [SMALL, *MODELS]}),
    "rename-a-model": ({}, {"models": [MODELS[0], {**MODELS[1], "name": "qwen3-8b"}]}),
    "add-a-domain": ({}, {"loadBalancer": {**PLAIN_HTTP, "domain": "llm.example.com"}}),
    "add-the-stacks-own-zone": ({}, {"loadBalancer": {**LOAD_BALANCER, **OWN_ZONE}}),
    "add-a-certificate": ({}, {"loadBalancer": {**LOAD_BALANCER, "certificateArn": CERT}}),
    "add-a-certificate-and-a-domain": (
        {},
        {"loadBalancer": {**LOAD_BALANCER, "certificateArn": CERT, "domain": "llm.example.com"}},
    ),
    "drop-the-first-allowed-cidr": ({"network": TWO_CIDRS}, {"network": {"allowedCidrs": ["192.168.0.0/16"]}}),
    "add-an-ipv6-cidr-in-front": (
        {"network": TWO_CIDRS},
        {"network": {"allowedCidrs": ["2001:db8::/32", *TWO_CIDRS["allowedCidrs"]]}},
    ),
    "scale-a-model-out": ({}, {"models": [MODELS[0], {**MODELS[1], "replicas": 6}]}),
}


@cache
def _run(overrides: str) -> ProgramRun:
    return run_stack("prod", **{"loadBalancer": PLAIN_HTTP, **json.loads(overrides)})


def run(overrides: dict[str, Any]) -> ProgramRun:
    """The prod stack with ``overrides``, run once per distinct configuration."""
    return _run(json.dumps(overrides, sort_keys=True))


def unique_key(resource: RecordedResource) -> tuple[Any, ...] | None:
    """The key AWS keeps unique for this resource, or None."""
    inputs = resource.inputs
    if resource.type == RULE:
        return (RULE, inputs["listenerArn"], inputs["priority"])
    if resource.type == LISTENER:
        return (LISTENER, inputs["loadBalancerArn"], inputs["port"])
    if resource.type in (INGRESS, EGRESS):
        (source,) = [inputs[key] for key in SOURCES if key in inputs]
        return (
            resource.type,
            inputs["securityGroupId"],
            inputs["ipProtocol"],
            inputs.get("fromPort"),
            inputs.get("toPort"),
            source,
        )
    return None


def key_holders(run: ProgramRun) -> dict[tuple[Any, ...], str]:
    holders: dict[tuple[Any, ...], str] = {}
    for resource in run.resources:
        key = unique_key(resource)
        if key is not None:
            assert key not in holders, f"{resource.name} and {holders[key]} both hold {key}"
            holders[key] = resource.name
    return holders


def source_kind(resource: RecordedResource) -> str:
    (kind,) = [key for key in SOURCES if key in resource.inputs]
    return kind


@pytest.mark.parametrize("scenario", SCENARIOS, ids=list(SCENARIOS))
def test_no_unique_key_passes_from_one_resource_to_another(scenario: str) -> None:
    before, after = (run(overrides) for overrides in SCENARIOS[scenario])
    old, new = key_holders(before), key_holders(after)
    handovers = {key: (old[key], name) for key, name in new.items() if key in old and old[key] != name}
    assert not handovers


@pytest.mark.parametrize("scenario", SCENARIOS, ids=list(SCENARIOS))
def test_no_front_door_resource_is_replaced(scenario: str) -> None:
    """Force-new inputs stay put; only model rules follow the listener to HTTPS, which is a new listener."""
    before, after = (run(overrides) for overrides in SCENARIOS[scenario])
    old = {(r.type, r.name): r for r in before.resources}
    for resource in after.resources:
        previous = old.get((resource.type, resource.name))
        if previous is None:
            continue
        for key in FORCE_NEW.get(resource.type, ()):
            assert resource.inputs.get(key) == previous.inputs.get(key), (resource.name, key)
        if resource.type in (INGRESS, EGRESS):
            assert source_kind(resource) == source_kind(previous), resource.name
        if resource.type == RULE and resource.inputs["listenerArn"] != previous.inputs["listenerArn"]:
            assert "certificate" in scenario or "own-zone" in scenario  # the scenarios that turn HTTPS on
            assert previous.inputs["listenerArn"].endswith(":endpoint-http")
            assert resource.inputs["listenerArn"].endswith(":endpoint-https")


@pytest.mark.parametrize("scenario", ["remove-the-first-model", "reorder-models-new-default", "add-a-model-in-front"])
def test_remaining_models_keep_their_rules_names_and_priorities(scenario: str) -> None:
    before, after = (run(overrides) for overrides in SCENARIOS[scenario])

    def model_rules(run: ProgramRun) -> dict[str, tuple[int, str]]:
        return {
            r.name: (r.inputs["priority"], r.inputs["listenerArn"])
            for r in of_type(run, RULE)
            if r.name != "endpoint-default-rule"
        }

    old, new = model_rules(before), model_rules(after)
    assert {name: new[name] for name in old if name in new} == {name: old[name] for name in new if name in old}
    assert set(old) & set(new)


def test_a_new_default_model_changes_the_one_default_rule_in_place() -> None:
    before, after = (run(overrides) for overrides in SCENARIOS["reorder-models-new-default"])
    old, new = named(before, "endpoint-default-rule"), named(after, "endpoint-default-rule")
    unchanged = ("listenerArn", "priority", "conditions")
    assert {key: old.inputs[key] for key in unchanged} == {key: new.inputs[key] for key in unchanged}
    assert old.inputs["actions"][0]["targetGroupArn"].endswith(":qwen-72b-tg")
    assert new.inputs["actions"][0]["targetGroupArn"].endswith(":qwen-8b-tg")
    assert old.parent == new.parent == "endpoint"


def test_the_port_80_listener_keeps_its_name_and_changes_its_action_with_a_certificate() -> None:
    before, after = (run(overrides) for overrides in SCENARIOS["add-a-certificate"])
    (http_before,) = [r for r in of_type(before, LISTENER) if r.inputs["port"] == 80]
    (http_after,) = [r for r in of_type(after, LISTENER) if r.inputs["port"] == 80]
    assert http_before.name == http_after.name == "endpoint-http"
    assert http_before.inputs["defaultActions"][0]["type"] == "fixed-response"
    assert http_after.inputs["defaultActions"][0]["type"] == "redirect"
    assert [r.name for r in of_type(after, LISTENER) if r.inputs["port"] == 443] == ["endpoint-https"]


def test_security_group_descriptions_do_not_depend_on_the_certificate() -> None:
    before, after = (run(overrides) for overrides in SCENARIOS["add-a-certificate"])
    descriptions = [{g.name: g.inputs["description"] for g in of_type(r, SECURITY_GROUP)} for r in (before, after)]
    assert descriptions[0] == descriptions[1]
    assert "HTTP" not in descriptions[0]["endpoint-sg"]


def test_the_load_balancer_group_holds_one_rule_per_model_whatever_the_hosts() -> None:
    """3 models x 24 replicas used to put 72 rules out of the ALB's group (AWS's default quota: 60 per direction)."""
    models = [
        {"name": name, "id": "Qwen/Qwen2.5-1.5B-Instruct", "instanceType": "g6.xlarge", "maxModelLen": 8192}
        for name in ("chat", "code", "embed")
    ]
    small, large = (run_stack("dev", models=[{**m, "replicas": replicas} for m in models]) for replicas in (1, 24))

    def alb_group_rules(run: ProgramRun) -> dict[str, list[str]]:
        group_id = _id(named(run, "endpoint-sg"))
        return {
            kind: sorted(r.name for r in of_type(run, kind) if r.inputs["securityGroupId"] == group_id)
            for kind in (INGRESS, EGRESS)
        }

    assert alb_group_rules(large) == alb_group_rules(small)
    assert len(alb_group_rules(large)[EGRESS]) == 3
    for model in models:
        members = [i for i in of_type(large, "aws:ec2/instance:Instance") if i.name.startswith(f"{model['name']}-")]
        assert len(members) == 24
        targets_group = _id(named(large, f"{model['name']}-targets-sg"))
        assert all(targets_group in i.inputs["vpcSecurityGroupIds"] for i in members)


def _id(resource: RecordedResource) -> str:
    return offline_id(resource.type, resource.name)


def test_scenarios_start_from_the_shipped_prod_stack() -> None:
    assert [m["name"] for m in MODELS] == ["qwen-72b", "qwen-8b"]
