"""The stack's customer managed KMS key (``kmsKey.enabled``): every EBS volume of the stack (the GPU hosts' and the
monitoring host's root and cache/data volumes) and the secrets' SSM parameters are encrypted with it; its policy
is :mod:`components.host.kms_policy`.

Not the ALB access logs: ALB delivery supports SSE-S3 only.

Deletion: ``pulumi destroy`` (or switching the key off) *schedules* the key's deletion ``deletionWindowDays``
(7-30) ahead; until then ``aws kms cancel-key-deletion --key-id <id>`` restores it. A cache volume kept by
``cache.retainOnDelete`` stays encrypted with the key: once the key is deleted, that volume can never be attached
again (its data is unrecoverable), so a kept cache is only worth keeping while the key is.
"""

from __future__ import annotations

import re

import pulumi_aws as aws

from ..config.hardening import KmsKeyConfig
from .kms_policy import key_policy

# KMS alias names: "alias/" then letters, digits and / _ - (botocore kms CreateAlias AliasName, pattern
# ^[a-zA-Z0-9:/_-]+$); a Pulumi stack name may also hold '.'.
_NOT_IN_ALIAS = re.compile(r"[^a-zA-Z0-9/_-]")


def alias_name(stack: str) -> str:
    return f"alias/vllm-aws/{_NOT_IN_ALIAS.sub('-', stack)}"


def create_stack_key(
    stack: str, config: KmsKeyConfig, *, region: str, account_id: str, tags: dict[str, str]
) -> aws.kms.Key:
    """The key (``stack-key``, rotated yearly, KMS's default period) and its alias ``alias/vllm-aws/<stack>``."""
    key = aws.kms.Key(
        "stack-key",
        description=f"vllm-aws {stack}: GPU host volumes and secret parameters",
        enable_key_rotation=True,
        deletion_window_in_days=config.deletion_window_days,
        policy=key_policy(region, account_id),
        tags=tags,
    )
    aws.kms.Alias("stack-key-alias", name=alias_name(stack), target_key_id=key.key_id)
    return key
