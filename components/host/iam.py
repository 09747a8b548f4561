"""IAM policy documents for the hosts, as pure functions (checked by parliament in the tests)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

SSM_CORE_POLICY_ARN = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"


def assume_role_policy(service: str = "ec2.amazonaws.com") -> str:
    """Trust policy: only the EC2 service may assume the host role."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
        }
    )


def read_parameters_policy(parameter_arns: Sequence[str], decrypt: dict[str, Any] | None = None) -> str:
    """Read exactly these SSM parameters (the stack's own secrets) and nothing else.

    SecureStrings under the AWS-managed ``aws/ssm`` key need no kms:Decrypt grant: that key's policy lets
    principals of the account decrypt through SSM. Under the stack's own key (``kmsKey``) they need ``decrypt``,
    :func:`components.host.kms_policy.decrypt_secrets_statement`.
    """
    read = {
        "Sid": "ReadThisStacksSecrets",
        "Effect": "Allow",
        "Action": ["ssm:GetParameter", "ssm:GetParameters"],
        "Resource": sorted(parameter_arns),
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [read, *([decrypt] if decrypt else [])]})


def deny_other_parameters_policy(parameter_arns: Sequence[str]) -> str:
    """Deny reading any SSM parameter but these (none at all when there are none).

    The SSM agent's managed policy, AmazonSSMManagedInstanceCore (v2), allows ``ssm:GetParameter`` and
    ``ssm:GetParameters`` on ``"*"`` (AWS Managed Policy Reference), so without this a host could read every
    parameter of the account, other stacks' secrets included. An explicit Deny wins over any Allow (IAM policy
    evaluation logic), whatever AWS adds to the managed policy later or an operator attaches to the role; the
    agent keeps its AWS-maintained permissions (Session Manager needs ssmmessages:*, ec2messages:* and
    ssm:UpdateInstanceInformation, SSM User Guide "Step 2: Verify or add instance permissions for Session
    Manager"). ``ssm:GetParameter*`` also covers GetParametersByPath and GetParameterHistory: a path grant would
    reveal every parameter below it, even ones denied by name (SSM User Guide "Restricting access to Systems
    Manager parameters using IAM policies"), so no path is ever readable.
    """
    statement: dict[str, object] = {"Sid": "NoOtherParameters", "Effect": "Deny", "Action": "ssm:GetParameter*"}
    if parameter_arns:
        statement["NotResource"] = sorted(parameter_arns)
    else:
        statement["Resource"] = "*"
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


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
