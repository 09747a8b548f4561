"""VllmDeployment constructed directly under the plan's mock engine, on the paths the shipped stacks do not take (its
own ALB, several servers per host, spot, SSH access, a custom image), and its bad input, named as its own inputs."""

from __future__ import annotations

from typing import Any

import pytest
from constructs import SUBNETS, VPC, construct, host_secrets, ssh_access
from pydantic import ValidationError
from stack_runs import named, of_type

from components import (
    AccessConfig,
    ConfigError,
    ExistingEndpoint,
    HostPlacement,
    HostSecrets,
    ImageBuild,
    LoadBalancerArgs,
    ModelConfig,
    VllmDeployment,
    VllmDeploymentArgs,
)
from components.cli.program import Recording
from components.network import routing

QWEN_8B = {"name": "qwen-8b", "id": "Qwen/Qwen3-8B", "instanceType": "g6e.12xlarge", "maxModelLen": 16384}
PLACEMENTS = (
    HostPlacement(subnet_id=SUBNETS[0], availability_zone="us-east-1a"),
    HostPlacement(subnet_id=SUBNETS[1], availability_zone="us-east-1b"),
)
LISTENER = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/front/1/2"


def args(model: dict[str, Any], **changes: Any) -> VllmDeploymentArgs:
    fields: dict[str, Any] = {
        "model": ModelConfig.model_validate(model),
        "region": "us-east-1",
        "vpc_id": VPC,
        "placements": PLACEMENTS,
        "ami_id": "ami-0123456789abcdef0",
        "ssh": ssh_access(),
        "secrets": host_secrets(),
        "endpoint": ExistingEndpoint(listener_arn=LISTENER, security_group_id="sg-0000000000000000a"),
        **changes,
    }
    return VllmDeploymentArgs(**fields)


def test_its_own_alb_several_servers_per_host_spot_ssh_and_a_custom_image(pulumi_mocks: Recording) -> None:
    model = {**QWEN_8B, "replicas": 3, "replicasPerHost": 2, "spot": True}

    def build() -> None:
        VllmDeployment(
            "qwen-8b",
            args(
                model,
                endpoint=None,
                new_load_balancer=LoadBalancerArgs(vpc_id=VPC, subnet_ids=SUBNETS, allowed_cidrs=("10.0.0.0/8",)),
                access=AccessConfig.model_validate({"mode": "ssh", "sshCidrs": ["10.0.0.0/8"]}),
                image_build=ImageBuild(context="docker/custom-vllm", tag="vllm-aws-custom:0123456789ab"),
            ),
        )

    construct(build)
    # ⌈3 / 2⌉ hosts: two servers on the first, one on the second, each with its own GPUs and port.
    servers = sorted(r.name for r in of_type(pulumi_mocks, "vllm-aws:index:VllmServer"))
    assert servers == ["qwen-8b-0-vllm-0", "qwen-8b-0-vllm-1", "qwen-8b-1-vllm-0"]
    assert named(pulumi_mocks, "qwen-8b-0").parent == "qwen-8b"
    assert named(pulumi_mocks, "qwen-8b-0-instance").inputs["tags"]["vllm-aws:servers"] == "2"
    assert named(pulumi_mocks, "qwen-8b-1-instance").inputs["instanceMarketOptions"]["marketType"] == "spot"
    assert {r.name for r in of_type(pulumi_mocks, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")} >= {
        "qwen-8b-0-ssh-10.0.0.0-8",
        "qwen-8b-1-ssh-10.0.0.0-8",
    }
    image = named(pulumi_mocks, "qwen-8b-0-vllm-1-image").inputs
    assert image["build"]["buildArgs"] == {"VLLM_IMAGE": "vllm/vllm-openai:v0.33.0"}
    # Its own ALB serves it by default, and its path rule takes a stack-range priority.
    assert named(pulumi_mocks, "qwen-8b-alb").parent == "qwen-8b"
    default = named(pulumi_mocks, "qwen-8b-alb-default-rule").inputs
    assert default["priority"] == routing.DEFAULT_PRIORITY
    assert named(pulumi_mocks, "qwen-8b-endpoint-prefix-rule").inputs["priority"] == routing.derived_priority("qwen-8b")


def test_an_attached_deployment_takes_its_priority_from_the_attached_range(pulumi_mocks: Recording) -> None:
    construct(lambda: VllmDeployment("qwen-8b", args({**QWEN_8B, "replicas": 2})))
    rule = named(pulumi_mocks, "qwen-8b-endpoint-prefix-rule").inputs
    assert rule["priority"] == routing.derived_priority("qwen-8b", attached=True)
    assert rule["priority"] in routing.ATTACHED_PRIORITIES and rule["listenerArn"] == LISTENER
    assert of_type(pulumi_mocks, "aws:lb/loadBalancer:LoadBalancer") == []


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ({**QWEN_8B, "tensorParallelSize": 3}, r"model\.tensorParallelSize: does not divide"),
        ({**QWEN_8B, "maxModelLen": 10**6}, r"model\.maxModelLen: is above"),
        (
            {"name": "llama", "id": "meta-llama/Llama-3.1-8B-Instruct", "instanceType": "g6e.xlarge"},
            r"secrets\.parameters\.HF_TOKEN: is required: model \(meta-llama/Llama-3\.1-8B-Instruct\) is gated",
        ),
    ],
    ids=["tp", "max-model-len", "gated"],
)
def test_bad_models_are_named_as_its_inputs(pulumi_mocks: Recording, model: dict[str, Any], expected: str) -> None:
    def build() -> None:
        with pytest.raises(ConfigError, match=expected):
            VllmDeployment("m", args({**model, "replicas": 2}))

    construct(build)
    assert of_type(pulumi_mocks, "aws:ec2/instance:Instance") == [], "rejected before any host exists"


def test_a_gated_model_with_its_token_parameter_plans(pulumi_mocks: Recording) -> None:
    gated = {"name": "llama", "id": "meta-llama/Llama-3.1-8B-Instruct", "instanceType": "g6e.xlarge", "replicas": 2}

    def build() -> None:
        secrets = HostSecrets(
            parameters={"VLLM_API_KEY": "/t/api-key", "HF_TOKEN": "/t/hf-token"},
            parameter_arns=("arn:aws:ssm:us-east-1:123456789012:parameter/t/api-key",),
        )
        VllmDeployment("llama", args(gated, secrets=secrets))

    construct(build)
    assert sorted(h.name for h in of_type(pulumi_mocks, "vllm-aws:index:GpuHost")) == ["llama-0", "llama-1"]


def test_its_args_refuse_what_no_deployment_can_use(pulumi_mocks: Recording) -> None:
    def build() -> None:
        with pytest.raises(ValidationError, match="give exactly one of endpoint"):
            args(
                QWEN_8B,
                new_load_balancer=LoadBalancerArgs(vpc_id=VPC, subnet_ids=SUBNETS, allowed_cidrs=("0.0.0.0/0",)),
            )
        with pytest.raises(ValidationError, match="is not pinned"):
            args(QWEN_8B, image="vllm/vllm-openai:latest")
        with pytest.raises(ValidationError, match="is not an AWS region"):
            args(QWEN_8B, region="mars-1")
        with pytest.raises(ValueError, match="m: 1 host placements needed, 2 given"):
            VllmDeployment("m", args(QWEN_8B))

    construct(build)
