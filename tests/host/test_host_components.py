"""GpuHost, ModelCache, the stack's secrets and SSH key constructed directly under the plan's mock engine, including
the paths the shipped stacks do not take: spot, SSH mode, extra ingress, no GPU, EC2 discovery, no retained cache."""

from __future__ import annotations

import json

import pulumi
from constructs import SECRET_ARN, construct, gpu_host
from stack_runs import named, of_type

from components import IngressRule, ModelCache, ModelCacheArgs, create_stack_secrets
from components.cli.program import Recording
from components.config import SECRET_PLACEHOLDER
from components.host.ssh_access import create_ssh_access

INSTANCE = "aws:ec2/instance:Instance"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
POLICY = "aws:iam/rolePolicy:RolePolicy"
PARAMETER = "aws:ssm/parameter:Parameter"


def test_a_gpu_host_admits_nothing_and_is_replaced_whole(pulumi_mocks: Recording) -> None:
    construct(lambda: gpu_host("h"))
    host = named(pulumi_mocks, "h")
    assert (host.type, host.parent) == ("vllm-aws:index:GpuHost", None)
    assert all(r.parent in ("h", None) for r in pulumi_mocks.resources)
    assert of_type(pulumi_mocks, INGRESS) == []  # ssm mode, no ingress rules: nothing can connect in
    instance = named(pulumi_mocks, "h-instance")
    assert instance.inputs["metadataOptions"]["httpTokens"] == "required"
    assert instance.inputs["metadataOptions"]["httpPutResponseHopLimit"] == 1  # no credentials for containers
    assert instance.inputs["rootBlockDevice"]["encrypted"] is True
    assert "instanceMarketOptions" not in instance.inputs
    assert instance.options["deleteBeforeReplace"] is True and instance.options["ignoreChanges"] == ["ami"]
    attach = named(pulumi_mocks, "h-cache-attach")
    assert attach.inputs["stopInstanceBeforeDetaching"] is True and "skipDestroy" not in attach.inputs
    # No secrets, no discovery: the only inline policy denies reading any parameter at all.
    (deny,) = [
        p for p in of_type(pulumi_mocks, POLICY) if p.inputs["role"] == named(pulumi_mocks, "h-profile").inputs["role"]
    ]
    assert deny.name == "h-no-other-parameters"
    assert json.loads(deny.inputs["policy"])["Statement"][0]["Resource"] == "*"
    assert "nvidia-smi -L" in named(pulumi_mocks, "h-ready").inputs["create"]


def test_a_spot_host_in_ssh_mode_with_more_rules_groups_and_discovery(pulumi_mocks: Recording) -> None:
    def build() -> None:
        gpu_host(
            "s",
            spot=True,
            access_mode="ssh",
            ssh_cidrs=("10.0.0.0/8", "2001:db8::/32"),
            ingress=(IngressRule(key="metrics", port=9100, source_security_group_id="sg-1", description="scrape"),),
            extra_security_group_ids=("sg-0123456789abcdef0",),
            secret_parameters={"VLLM_API_KEY": "/vllm-aws/test/api-key"},
            secret_parameter_arns=(SECRET_ARN,),
            ec2_discovery=True,
            gpu=False,
        )

    construct(build)
    instance = named(pulumi_mocks, "s-instance").inputs
    assert instance["metadataOptions"]["httpPutResponseHopLimit"] == 2  # Prometheus discovers from a container
    assert instance["instanceMarketOptions"]["marketType"] == "spot"
    assert instance["instanceMarketOptions"]["spotOptions"]["spotInstanceType"] == "persistent"
    assert "sg-0123456789abcdef0" in instance["vpcSecurityGroupIds"]
    # A persistent spot instance can be stopped: its cache is unmounted cleanly before it detaches.
    attach = named(pulumi_mocks, "s-cache-attach").inputs
    assert attach["stopInstanceBeforeDetaching"] is True and "skipDestroy" not in attach
    rules = {r.name: r.inputs for r in of_type(pulumi_mocks, INGRESS)}
    assert set(rules) == {"s-metrics", "s-ssh-10.0.0.0-8", "s-ssh-2001-db8---32"}
    assert rules["s-ssh-2001-db8---32"]["cidrIpv6"] == "2001:db8::/32" and rules["s-ssh-10.0.0.0-8"]["toPort"] == 22
    assert rules["s-metrics"]["referencedSecurityGroupId"] == "sg-1"
    policies = {r.name: json.loads(r.inputs["policy"]) for r in of_type(pulumi_mocks, POLICY)}
    assert policies["s-read-secrets"]["Statement"][0]["Resource"] == [SECRET_ARN]
    assert policies["s-no-other-parameters"]["Statement"][0]["NotResource"] == [SECRET_ARN]
    assert policies["s-discovery"]["Statement"][0]["Action"] == [
        "ec2:DescribeInstances",
        "ec2:DescribeAvailabilityZones",
    ]
    # Without a GPU the readiness gate checks Docker only; SSH mode dials the address, not the instance id.
    gate = named(pulumi_mocks, "s-ready").inputs
    assert "nvidia-smi" not in gate["create"] and "ProxyCommand" not in gate["create"]


def test_a_model_cache_is_encrypted_gp3_kept_on_delete_unless_told(pulumi_mocks: Recording) -> None:
    def build() -> None:
        ModelCache("kept", ModelCacheArgs(availability_zone="us-east-1a", size_gib=200))
        ModelCache(
            "seeded",
            ModelCacheArgs(
                availability_zone="us-east-1b",
                size_gib=300,
                iops=6000,
                throughput_mibps=500,
                snapshot_id="snap-0123456789abcdef0",
                retain_on_delete=False,
                tags={"team": "ml"},
            ),
        )

    construct(build)
    kept, seeded = named(pulumi_mocks, "kept-volume"), named(pulumi_mocks, "seeded-volume")
    assert (kept.parent, kept.inputs["type"], kept.inputs["encrypted"]) == ("kept", "gp3", True)
    assert kept.options["retainOnDelete"] is True and seeded.options["retainOnDelete"] is False
    assert "availabilityZone" in kept.options["ignoreChanges"] and "snapshotId" in kept.options["ignoreChanges"]
    assert seeded.inputs["snapshotId"] == "snap-0123456789abcdef0"
    assert (seeded.inputs["iops"], seeded.inputs["throughput"]) == (6000, 500)
    assert seeded.inputs["tags"] == {"team": "ml", "vllm-aws:role": "model-cache", "Name": "seeded-volume"}


def test_stack_secrets_generate_the_api_key_and_keep_the_token_in_ssm(pulumi_mocks: Recording) -> None:
    generated, given = [], []

    def build() -> None:
        generated.append(create_stack_secrets("dev", "us-east-1", "123456789012", api_key=None, hf_token=None, tags={}))

    construct(build)
    (password,) = of_type(pulumi_mocks, "random:index/randomPassword:RandomPassword")
    assert (password.name, password.parent, password.inputs["length"]) == ("api-key", None, 48)
    assert [r.name for r in of_type(pulumi_mocks, PARAMETER)] == ["api-key-parameter"]
    assert generated[0].hosts.parameters == {"VLLM_API_KEY": "/vllm-aws/dev/api-key"}
    assert generated[0].hosts.parameter_arns == ("arn:aws:ssm:us-east-1:123456789012:parameter/vllm-aws/dev/api-key",)

    pulumi_mocks.resources.clear()

    def build_with_both() -> None:
        given.append(
            create_stack_secrets(
                "prod",
                "eu-west-1",
                "123456789012",
                api_key=pulumi.Output.secret("key"),
                hf_token=pulumi.Output.secret("hf_token"),
                tags={"team": "ml"},
            )
        )

    construct(build_with_both)
    assert of_type(pulumi_mocks, "random:index/randomPassword:RandomPassword") == []
    parameters = {r.name: r.inputs for r in of_type(pulumi_mocks, PARAMETER)}
    assert set(parameters) == {"api-key-parameter", "hf-token-parameter"}
    token = parameters["hf-token-parameter"]
    assert (token["name"], token["type"], token["value"]) == (
        "/vllm-aws/prod/hf-token",
        "SecureString",
        SECRET_PLACEHOLDER,
    )
    assert token["tags"] == {"team": "ml"} and all(r.parent is None for r in of_type(pulumi_mocks, PARAMETER))
    assert given[0].hosts.parameters == {
        "VLLM_API_KEY": "/vllm-aws/prod/api-key",
        "HF_TOKEN": "/vllm-aws/prod/hf-token",
    }


def test_the_stack_key_pair_is_ed25519_and_its_file_is_per_project_and_stack(pulumi_mocks: Recording) -> None:
    access = []
    construct(lambda: access.append(create_ssh_access("acme", "prod")))
    (key,) = of_type(pulumi_mocks, "tls:index/privateKey:PrivateKey")
    assert (key.name, key.inputs["algorithm"]) == ("ssh-key", "ED25519")
    assert access[0].key_file == "~/.ssh/acme-prod.key"
