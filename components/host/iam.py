"""IAM policy documents for the hosts, as pure functions (checked by parliament in the tests)."""

from __future__ import annotations

import json
from collections.abc import Sequence

SSM_CORE_POLICY_ARN = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"


def assume_role_policy(service: str = "ec2.amazonaws.com") -> str:
    """Trust policy: only the EC2 service may assume the host role."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
        }
    )


def read_parameters_policy(parameter_arns: Sequence[str]) -> str:
    """Read exactly these SSM parameters (the stack's own secrets) and nothing else.

    SecureStrings under the AWS-managed ``aws/ssm`` key need no kms:Decrypt grant: that key's policy lets
    principals of the account decrypt through SSM.
    """
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "ReadThisStacksSecrets",
                    "Effect": "Allow",
                    "Action": ["ssm:GetParameter", "ssm:GetParameters"],
                    "Resource": sorted(parameter_arns),
                }
            ],
        }
    )


def parameter_arn(region: str, account_id: str, name: str) -> str:
    return f"arn:aws:ssm:{region}:{account_id}:parameter/{name.lstrip('/')}"


def describe_instances_policy() -> str:
    """Prometheus EC2 service discovery. Describe* actions support no resource-level scoping, hence "*"."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DiscoverScrapeTargets",
                    "Effect": "Allow",
                    "Action": ["ec2:DescribeInstances", "ec2:DescribeAvailabilityZones"],
                    "Resource": "*",
                }
            ],
        }
    )
