"""Constructing components directly under the plan's mock engine (the ``pulumi_mocks`` fixture)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi

from components import GpuHost, GpuHostArgs, HostSecrets, SshAccess

PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIConstructConstructConstructConstructConstruc test"
PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key\n-----END OPENSSH PRIVATE KEY-----"
VPC = "vpc-0123456789abcdef0"
SUBNETS = ("subnet-0123456789abcdef0", "subnet-0123456789abcdef1")
SECRET_ARN = "arn:aws:ssm:us-east-1:123456789012:parameter/vllm-aws/test/api-key"


def construct(build: Callable[[], Any]) -> None:
    """Run ``build`` under ``@pulumi.runtime.test``: every registration it starts has finished when this returns."""
    pulumi.runtime.test(build)()


def ssh_access() -> SshAccess:
    """The stack's key pair as components take it (call inside ``build``: the private key is a secret Output)."""
    return SshAccess(public_key=PUBLIC_KEY, private_key=pulumi.Output.secret(PRIVATE_KEY), key_file="~/.ssh/t.key")


def host_secrets() -> HostSecrets:
    return HostSecrets(parameters={"VLLM_API_KEY": "/vllm-aws/test/api-key"}, parameter_arns=(SECRET_ARN,))


def gpu_host(name: str = "host", **changes: Any) -> GpuHost:
    """A GPU host in us-east-1a with its cache volume id (call inside ``build``)."""
    ssh = ssh_access()
    fields: dict[str, Any] = {
        "instance_type": "g6e.xlarge",
        "ami_id": "ami-0123456789abcdef0",
        "vpc_id": VPC,
        "subnet_id": SUBNETS[0],
        "availability_zone": "us-east-1a",
        "cache_volume_id": pulumi.Output.from_input("vol-0123456789abcdef0"),
        "root_volume_gib": 150,
        "region": "us-east-1",
        "ssh_public_key": ssh.public_key,
        "ssh_private_key": ssh.private_key,
        **changes,
    }
    return GpuHost(name, GpuHostArgs(**fields))
