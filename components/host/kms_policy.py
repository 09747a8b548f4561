"""The policy of the stack's customer managed key (``kmsKey``), and the hosts' right to decrypt their secrets.

Pure: :mod:`components.host.kms_key` creates the key with it.

Who may use the key, and how:

- **The account administers it** (``kms:*`` for the account root): what KMS's default key policy grants; it makes
  IAM policies count for this key, so the deploying role (Pulumi: CreateKey, PutParameter with the key, Decrypt to
  read SecureStrings back) and administrators keep access through IAM, and the key cannot be locked out
  (KMS refuses a policy that would keep the caller from a later PutKeyPolicy: botocore kms CreateKey Policy).
- **EBS, for anyone of the account who may launch or start the instances**, only through EC2: the statements AWS
  puts in the AWS managed ``aws/ebs`` key's policy (``kms:CallerAccount`` = the account, ``kms:ViaService`` =
  ``ec2.<region>.amazonaws.com``), and ``kms:CreateGrant`` only for an AWS resource
  (``kms:GrantIsForAWSResource``, as the EBS User Guide asks: "do not allow full access to kms:CreateGrant",
  ebs-encryption-requirements.html). So the deploying role and the self-healing restart (an SSM automation role
  that stops and starts hosts) need nothing added; no auto scaling service-linked role is involved, as the stack
  launches instances itself.
- **SecureStrings: only principals IAM allows ``kms:Decrypt`` on this key.** Unlike ``aws/ssm``, whose policy lets
  every principal of the account decrypt through SSM (SSM User Guide, ps-restrict-decryption.html), this key has
  no such statement: the hosts get :func:`decrypt_secrets_statement`, through SSM only.
"""

from __future__ import annotations

import json
from typing import Any

from ..config.aws_ids import partition

EBS_KEY_ACTIONS = ("kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey")


def via(service: str, region: str) -> str:
    """The ``kms:ViaService`` value of an AWS service's requests in ``region``."""
    return f"{service}.{region}.amazonaws.com"


def key_policy(region: str, account_id: str) -> str:
    """The key policy: the account administers the key, EC2 uses it for EBS volumes of the account."""
    in_account_via_ec2 = {"kms:CallerAccount": account_id, "kms:ViaService": via("ec2", region)}
    statements: list[dict[str, Any]] = [
        {
            "Sid": "AccountAdministersThroughIam",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:{partition(region)}:iam::{account_id}:root"},
            "Action": "kms:*",
            "Resource": "*",
        },
        {
            "Sid": "EbsVolumesThroughEc2",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": list(EBS_KEY_ACTIONS),
            "Resource": "*",
            "Condition": {"StringEquals": in_account_via_ec2},
        },
        {
            "Sid": "EbsGrantsForAwsResourcesOnly",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": "kms:CreateGrant",
            "Resource": "*",
            "Condition": {"StringEquals": in_account_via_ec2, "Bool": {"kms:GrantIsForAWSResource": "true"}},
        },
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def decrypt_secrets_statement(key_arn: str, region: str) -> dict[str, Any]:
    """Decrypt with this key only, and only inside SSM's GetParameter(s) of this region (never a raw Decrypt)."""
    return {
        "Sid": "DecryptThisStacksSecretsThroughSsm",
        "Effect": "Allow",
        "Action": "kms:Decrypt",
        "Resource": key_arn,
        "Condition": {"StringEquals": {"kms:ViaService": via("ssm", region)}},
    }
