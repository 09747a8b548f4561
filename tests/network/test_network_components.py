"""LoadBalancer and ModelEndpoint constructed directly under the plan's mock engine, including the paths the
shipped stacks do not take: HTTPS with a certificate, an internal ALB with access logs, a host-header route."""

from __future__ import annotations

import pulumi
from constructs import SUBNETS, VPC, construct
from stack_runs import named, of_type

from components import LoadBalancer, LoadBalancerArgs, ModelEndpoint, ModelEndpointArgs, Target
from components.cli.program import Recording, resolved
from components.config.hardening import AccessLogsConfig
from components.network import routing

CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/0123abcd-4567-89ef-0123-456789abcdef"
LISTENER = "aws:lb/listener:Listener"
RULE = "aws:lb/listenerRule:ListenerRule"


def test_an_internal_https_load_balancer_with_access_logs(pulumi_mocks: Recording) -> None:
    outputs = []

    def build() -> None:
        front = LoadBalancer(
            "front",
            LoadBalancerArgs(
                vpc_id=VPC,
                subnet_ids=SUBNETS,
                internal=True,
                allowed_cidrs=("10.0.0.0/8", "10.0.0.0/8", "2001:db8::/32"),
                certificate_arn=CERTIFICATE,
                idle_timeout_seconds=900,
                deletion_protection=True,
                domain="llm.example.com",
                access_logs=AccessLogsConfig(enabled=True, bucket="alb-logs"),
                tags={"team": "ml"},
            ),
        )
        outputs.append(front.stack_outputs(["qwen-8b", "llama-8b"]))

    construct(build)
    alb = named(pulumi_mocks, "front-alb").inputs
    assert (alb["internal"], alb["idleTimeout"], alb["enableDeletionProtection"]) == (True, 900, True)
    assert alb["accessLogs"] == {"bucket": "alb-logs", "enabled": True} and alb["dropInvalidHeaderFields"] is True
    listeners = {r.name: r.inputs for r in of_type(pulumi_mocks, LISTENER)}
    assert set(listeners) == {"front-http", "front-https"}
    assert not of_type(pulumi_mocks, "aws:s3/bucket:Bucket")  # an existing bucket: nothing created
    assert listeners["front-http"]["defaultActions"][0]["redirect"]["protocol"] == "HTTPS"
    assert listeners["front-https"]["certificateArn"] == CERTIFICATE
    # One rule per port and distinct network (the duplicate CIDR is one rule), keyed by the CIDR.
    rules = sorted(r.name for r in of_type(pulumi_mocks, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"))
    expected = (f"front-in-{port}-{key}" for port in (443, 80) for key in ("10.0.0.0-8", "2001-db8---32"))
    assert rules == sorted(expected)
    stack = resolved(outputs[0])
    assert stack["modelBaseUrls"] == {
        "qwen-8b": "https://qwen-8b.llm.example.com/v1",
        "llama-8b": "https://llama-8b.llm.example.com/v1",
    }
    assert stack["baseUrl"].startswith("https://front-alb-") and stack["modelNames"] == ["qwen-8b", "llama-8b"]
    assert set(stack["loadBalancer"]) == {"listenerArn", "securityGroupId", "dnsName", "scheme", "accessLogsBucket"}
    assert stack["loadBalancer"]["accessLogsBucket"] == "alb-logs"
    assert "qwen-8b" in stack["curlExample"] and "qwen-8b" in stack["openaiExample"]


def test_a_model_endpoint_with_a_host_route_and_one_rule_pair_for_all_targets(pulumi_mocks: Recording) -> None:
    def build() -> None:
        ModelEndpoint(
            "qwen-8b-endpoint",
            ModelEndpointArgs(
                model_name="qwen-8b",
                vpc_id=VPC,
                listener_arn="arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/front/1/2",
                load_balancer_security_group_id="sg-0000000000000000a",
                targets_security_group_id="sg-0000000000000000b",
                targets=tuple(
                    Target(key=f"qwen-8b-{h}-vllm-{s}", instance_id=pulumi.Output.from_input(f"i-{h}"), port=8000 + s)
                    for h in (0, 1)
                    for s in (0, 1)
                ),
                rule_priority=routing.derived_priority("qwen-8b"),
                domain="llm.example.com",
                warm_start_seconds=120,
                idle_timeout_seconds=600,
            ),
        )

    construct(build)
    assert sorted(r.name for r in of_type(pulumi_mocks, "aws:lb/targetGroupAttachment:TargetGroupAttachment")) == [
        f"qwen-8b-endpoint-qwen-8b-{h}-vllm-{s}-attach" for h in (0, 1) for s in (0, 1)
    ]
    out, into = named(pulumi_mocks, "qwen-8b-endpoint-out").inputs, named(pulumi_mocks, "qwen-8b-endpoint-in").inputs
    assert (out["fromPort"], out["toPort"], into["fromPort"], into["toPort"]) == (8000, 8001, 8000, 8001)
    assert named(pulumi_mocks, "qwen-8b-tg").inputs["tags"] == {"vllm-aws:model": "qwen-8b"}
    priorities = sorted(r.inputs["priority"] for r in of_type(pulumi_mocks, RULE))
    path = routing.derived_priority("qwen-8b")
    loading = [routing.loading_slot(path), routing.loading_slot(path, host=True)]
    assert priorities == [path, path + routing.HOST_RULE_OFFSET, *loading]
