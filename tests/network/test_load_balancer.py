"""The front door as the real program registers it: listeners, rules, target groups, the security chain."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import pulumi
import pytest
from stack_runs import named, of_type, run_stack, stack_raw

from components import LoadBalancer, LoadBalancerArgs
from components.cli.program import offline_id, run_program
from components.cli.report import plan_json
from components.config import parse_stack_config
from components.network import routing
from components.planner import plan_stack

INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
RULE = "aws:lb/listenerRule:ListenerRule"
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0123abcd-4567-89ef-0123-456789abcdef"
GPU_HOSTS = ("qwen-72b-0", "qwen-8b-0", "qwen-8b-1")


def test_alb_defaults_are_safe() -> None:
    run = run_stack("prod")
    alb = named(run, "endpoint-alb")
    assert alb.inputs["loadBalancerType"] == "application"
    assert alb.inputs["internal"] is False
    assert alb.inputs["dropInvalidHeaderFields"] is True
    assert alb.inputs["idleTimeout"] == 600
    assert alb.inputs["enableDeletionProtection"] is True  # on in the prod stack
    assert len(alb.inputs["subnets"]) >= 2


def test_https_listener_with_modern_tls_and_http_redirect() -> None:
    run = run_stack("prod", loadBalancer={"certificateArn": CERT})
    https = named(run, "endpoint-https")
    assert (https.inputs["port"], https.inputs["protocol"]) == (443, "HTTPS")
    assert https.inputs["sslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09"
    assert https.inputs["certificateArn"] == CERT
    assert https.inputs["defaultActions"][0]["fixedResponse"]["statusCode"] == "404"
    redirect = named(run, "endpoint-http")
    assert redirect.inputs["port"] == 80
    assert redirect.inputs["defaultActions"][0]["redirect"] == {
        "protocol": "HTTPS",
        "port": "443",
        "statusCode": "HTTP_301",
    }
    for rule in of_type(run, RULE):
        assert rule.inputs["listenerArn"].endswith(":endpoint-https")


def test_plain_http_only_when_chosen_and_with_a_loud_warning() -> None:
    run = run_stack("prod", loadBalancer={"allowPlainHttp": True})
    assert named(run, "endpoint-http").inputs["port"] == 80
    assert not [r for r in run.resources if r.name == "endpoint-https"]
    raw, _ = stack_raw("prod")
    raw["loadBalancer"] = {"allowPlainHttp": True}
    document = plan_json("prod", plan_stack(parse_stack_config(raw)), run.resources)
    assert any(w.startswith("INSECURE: loadBalancer.allowPlainHttp") for w in document["warnings"])


def test_only_v1_and_health_are_forwarded_everything_else_is_a_fixed_404() -> None:
    run = run_stack("prod")
    listener = named(run, "endpoint-https")
    assert listener.inputs["defaultActions"] == [
        {
            "type": "fixedResponse" if False else "fixed-response",
            "fixedResponse": {
                "statusCode": "404",
                "contentType": "application/json",
                "messageBody": routing.NOT_FOUND_BODY,
            },
        }
    ]
    for rule in of_type(run, RULE):
        (path,) = [c["pathPattern"]["values"] for c in rule.inputs["conditions"] if "pathPattern" in c]
        for pattern in path:
            assert pattern.endswith("/v1/*") or pattern.endswith("/health"), pattern
        (action,) = rule.inputs["actions"]
        if rule.name.endswith("-loading-rule"):
            # The answer until the model's first replica is registered: never a loading server.
            assert action["type"] == "fixed-response" and action["fixedResponse"]["statusCode"] == "503"
        else:
            assert action["type"] == "forward"


def test_rules_with_prefix_rewrite_host_names_and_one_default_rule_last() -> None:
    run = run_stack("prod", loadBalancer={"domain": "llm.example.com", "allowPlainHttp": True})
    rules = {r.name: r for r in of_type(run, RULE) if not r.name.endswith("-loading-rule")}
    priority = {name: routing.derived_priority(name) for name in ("qwen-72b", "qwen-8b")}
    assert {name: r.inputs["priority"] for name, r in rules.items()} == {
        "qwen-72b-endpoint-prefix-rule": priority["qwen-72b"],
        "qwen-8b-endpoint-prefix-rule": priority["qwen-8b"],
        "qwen-72b-endpoint-host-rule": priority["qwen-72b"] + routing.HOST_RULE_OFFSET,
        "qwen-8b-endpoint-host-rule": priority["qwen-8b"] + routing.HOST_RULE_OFFSET,
        "endpoint-default-rule": routing.DEFAULT_PRIORITY,
    }
    prefix = rules["qwen-72b-endpoint-prefix-rule"]
    assert prefix.inputs["conditions"] == [{"pathPattern": {"values": ["/qwen-72b/v1/*", "/qwen-72b/health"]}}]
    assert prefix.inputs["transforms"] == [
        {"type": "url-rewrite", "urlRewriteConfig": {"rewrite": {"regex": "^/qwen\\-72b(/.*)$", "replace": "$1"}}}
    ]
    host = rules["qwen-8b-endpoint-host-rule"]
    assert {"hostHeader": {"values": ["qwen-8b.llm.example.com"]}} in host.inputs["conditions"]
    # The plain /v1/* belongs to the load balancer, not to a model: its identity never depends on the default.
    default = rules["endpoint-default-rule"]
    assert default.parent == "endpoint"
    assert default.inputs["conditions"] == [{"pathPattern": {"values": ["/v1/*", "/health"]}}]
    assert default.inputs["actions"][0]["targetGroupArn"].endswith(":qwen-72b-tg")  # the first model
    assert max(r.inputs["priority"] for r in rules.values()) == default.inputs["priority"]


def test_target_groups_per_model_with_health_checks_that_fit_the_cold_start() -> None:
    run = run_stack("prod")
    groups = {g.name: g.inputs for g in of_type(run, "aws:lb/targetGroup:TargetGroup")}
    assert set(groups) == {"qwen-72b-tg", "qwen-8b-tg"}
    for group in groups.values():
        assert group["loadBalancingAlgorithmType"] == "least_outstanding_requests"
        assert group["deregistrationDelay"] == 600  # = idle timeout: in-flight generations finish
        check = group["healthCheck"]
        assert (check["path"], check["matcher"], check["port"]) == ("/health", "200", "traffic-port")
        assert 5 <= check["interval"] <= 300 and check["timeout"] < check["interval"]


def test_every_replica_is_a_target_on_its_own_port() -> None:
    model = {
        "name": "qwen-small",
        "id": "Qwen/Qwen2.5-1.5B-Instruct",
        "instanceType": "g6.12xlarge",
        "replicas": 3,
        "replicasPerHost": 2,
        "maxModelLen": 8192,
    }
    run = run_stack("dev", models=[model])
    attachments = of_type(run, "aws:lb/targetGroupAttachment:TargetGroupAttachment")
    assert sorted((a.name, a.inputs["port"]) for a in attachments) == [
        ("qwen-small-endpoint-qwen-small-0-vllm-0-attach", 8000),
        ("qwen-small-endpoint-qwen-small-0-vllm-1-attach", 8001),
        ("qwen-small-endpoint-qwen-small-1-vllm-0-attach", 8000),
    ]
    assert {a.inputs["targetGroupArn"].rsplit(":", 1)[1] for a in attachments} == {"qwen-small-tg"}


def test_security_group_chain_internet_to_alb_to_hosts_only() -> None:
    """No group admits 0.0.0.0/0 except the ALB's listener ports; hosts admit only the ALB and monitoring."""
    run = run_stack("prod", loadBalancer={"certificateArn": CERT})
    alb_sg = offline_id(SECURITY_GROUP, "endpoint-sg")
    monitoring_sg = offline_id(SECURITY_GROUP, "monitoring-sg")
    host_sgs = {offline_id(SECURITY_GROUP, f"{host}-sg") for host in GPU_HOSTS}
    targets_sgs = {model: offline_id(SECURITY_GROUP, f"{model}-targets-sg") for model in ("qwen-72b", "qwen-8b")}
    for rule in of_type(run, INGRESS):
        cidr = rule.inputs.get("cidrIpv4") or rule.inputs.get("cidrIpv6")
        if cidr is not None:
            assert rule.inputs["securityGroupId"] == alb_sg, rule.name
            assert rule.inputs["fromPort"] in (80, 443) and rule.inputs["fromPort"] == rule.inputs["toPort"]
            continue
        if rule.inputs["securityGroupId"] in host_sgs:
            assert rule.inputs["referencedSecurityGroupId"] == monitoring_sg, rule.name
        if rule.inputs["securityGroupId"] in targets_sgs.values():
            assert rule.inputs["referencedSecurityGroupId"] == alb_sg, rule.name
            assert (rule.inputs["fromPort"], rule.inputs["toPort"]) == (8000, 8000)
    alb_egress = [r for r in of_type(run, EGRESS) if r.inputs["securityGroupId"] == alb_sg]
    assert {r.inputs["referencedSecurityGroupId"] for r in alb_egress} == set(targets_sgs.values())
    assert all("cidrIpv4" not in r.inputs for r in alb_egress)
    # The targets groups hold no rule but the ALB's, and only the model's own hosts are members.
    assert not [r for r in of_type(run, EGRESS) if r.inputs["securityGroupId"] in targets_sgs.values()]
    for instance in of_type(run, "aws:ec2/instance:Instance"):
        host = instance.name.removesuffix("-instance")
        if host in GPU_HOSTS:
            model = host.rsplit("-", 1)[0]
            assert instance.inputs["vpcSecurityGroupIds"] == [
                offline_id(SECURITY_GROUP, f"{host}-sg"),
                targets_sgs[model],
            ]


@pytest.mark.parametrize("cidrs", [["10.0.0.0/8"], ["10.0.0.0/8", "2001:db8::/32"]])
def test_listener_ports_admit_exactly_the_allowed_cidrs(cidrs: list[str]) -> None:
    run = run_stack("prod", network={"allowedCidrs": cidrs})
    rules = [r for r in of_type(run, INGRESS) if r.parent == "endpoint" and r.name.startswith("endpoint-in-")]
    for port in (80, 443):  # HTTPS, and 80, which only redirects
        sources = sorted(
            r.inputs.get("cidrIpv4") or r.inputs.get("cidrIpv6") for r in rules if r.inputs["fromPort"] == port
        )
        assert sources == sorted(cidrs)
    for rule in rules:
        family = ipaddress.ip_network(rule.inputs.get("cidrIpv4") or rule.inputs["cidrIpv6"]).version
        assert ("cidrIpv6" in rule.inputs) == (family == 6)


def test_stack_outputs_give_endpoints_names_and_snippets() -> None:
    run = run_stack("prod")
    assert run.outputs["modelNames"] == ["qwen-72b", "qwen-8b"]
    for key in ("baseUrl", "modelBaseUrls", "curlExample", "openaiExample"):
        assert key in run.outputs


def test_alb_subnets_in_a_single_zone_are_bad_input() -> None:
    from components.cli.offline import OfflineAws

    aws = OfflineAws()
    network = {
        "vpcId": "vpc-0123456789abcdef0",
        "privateSubnetIds": [aws.subnet_id("us-east-1a")],
        "publicSubnetIds": [aws.subnet_id("us-east-1b")],
    }
    with pytest.raises(pulumi.RunError, match=r"vllm-aws:network\.publicSubnetIds: covers 1 availability zone"):
        run_stack("dev", aws=aws, network=network)


OWN_ALB_PROGRAM = """
import pulumi

from components import (
    HostPlacement, HostSecrets, LoadBalancerArgs, ModelConfig, SshAccess, VllmDeployment, VllmDeploymentArgs,
)

VllmDeployment(
    "solo",
    VllmDeploymentArgs(
        model=ModelConfig.model_validate(
            {"name": "solo", "id": "Qwen/Qwen2.5-7B-Instruct-AWQ", "instanceType": "g6.xlarge", "maxModelLen": 8192}
        ),
        region="us-east-1",
        vpc_id="vpc-0123456789abcdef0",
        placements=(HostPlacement(subnet_id="subnet-0123456789abcdef0", availability_zone="us-east-1a"),),
        ami_id="ami-0123456789abcdef0",
        ssh=SshAccess(
            public_key="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleExampleExampleExampleExampleExample x",
            private_key=pulumi.Output.secret("not-a-key"),
            key_file="~/.ssh/solo.key",
        ),
        secrets=HostSecrets(
            parameters={"VLLM_API_KEY": "/solo/api-key"},
            parameter_arns=("arn:aws:ssm:us-east-1:123456789012:parameter/solo/api-key",),
        ),
        new_load_balancer=LoadBalancerArgs(
            vpc_id="vpc-0123456789abcdef0",
            subnet_ids=("subnet-0123456789abcdef0", "subnet-0123456789abcdef1"),
            allowed_cidrs=("10.0.0.0/8",),
        ),
    ),
)
"""


def test_a_deployment_with_its_own_alb_serves_its_model_by_default(tmp_path: Path) -> None:
    program = tmp_path / "__main__.py"
    program.write_text(OWN_ALB_PROGRAM, encoding="utf-8")
    run = run_program(program, {"aws:region": "us-east-1"}, [], "solo", project="solo-stack")
    rules = {r.name: r for r in of_type(run, RULE)}
    assert set(rules) == {
        "solo-endpoint-prefix-rule",
        "solo-endpoint-prefix-loading-rule",
        "solo-alb-default-rule",
        "solo-alb-default-loading-rule",
    }
    assert rules["solo-endpoint-prefix-rule"].inputs["priority"] == routing.derived_priority("solo")
    default = rules["solo-alb-default-rule"]
    assert (default.parent, default.inputs["priority"]) == ("solo-alb", routing.DEFAULT_PRIORITY)
    assert default.inputs["listenerArn"].endswith(":solo-alb-http")
    assert default.inputs["actions"][0]["targetGroupArn"].endswith(":solo-tg")


@pulumi.runtime.test
def test_a_listener_has_one_default_model(pulumi_mocks: object) -> None:
    load_balancer = LoadBalancer(
        "front",
        LoadBalancerArgs(
            vpc_id="vpc-0123456789abcdef0",
            subnet_ids=("subnet-0123456789abcdef0", "subnet-0123456789abcdef1"),
            allowed_cidrs=("10.0.0.0/8",),
        ),
    )
    load_balancer.serve_default_model("a", "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/a/1")
    with pytest.raises(ValueError, match="front: the default model is already set"):
        load_balancer.serve_default_model("b", "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/b/2")


def test_first_deploy_answers_503_model_loading_until_the_first_replica_is_registered() -> None:
    """#14: the forward rules exist only once a replica passed its health wait and was registered; before, the loading
    rules behind them answer a JSON 503 (never a loading server, never the ALB's own HTML 503 of an empty group)."""
    run = run_stack("prod", loadBalancer={"domain": "llm.example.com", "allowPlainHttp": True})
    rules = {r.name: r for r in of_type(run, RULE)}
    for forward_name in ("qwen-8b-endpoint-prefix-rule", "qwen-8b-endpoint-host-rule", "endpoint-default-rule"):
        forward = rules[forward_name]
        loading = rules[forward_name.removesuffix("-rule") + "-loading-rule"]
        assert loading.inputs["conditions"] == forward.inputs["conditions"]
        assert loading.inputs["priority"] > forward.inputs["priority"]
        (action,) = loading.inputs["actions"]
        assert action["type"] == "fixed-response"
        response = action["fixedResponse"]
        assert (response["statusCode"], response["contentType"]) == ("503", "application/json")
        assert json.loads(response["messageBody"])["error"]["message"].startswith("model loading")
        # The loading rule exists from the start; the forward rule waits for the first replica's registration.
        assert not any(dep.endswith("-attach") for dep in loading.options["dependsOn"])
    first = "qwen-72b-endpoint-qwen-72b-0-vllm-0-attach"
    assert first in rules["endpoint-default-rule"].options["dependsOn"]  # the default model is the first
    assert "qwen-8b-endpoint-qwen-8b-0-vllm-0-attach" in rules["qwen-8b-endpoint-host-rule"].options["dependsOn"]
    # ... which waits for that replica's health.
    attach = named(run, "qwen-8b-endpoint-qwen-8b-0-vllm-0-attach")
    assert "qwen-8b-0-vllm-0-health" in attach.options["dependsOn"]
