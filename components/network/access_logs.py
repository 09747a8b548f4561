"""The bucket ALB access logs go to (``loadBalancer.accessLogs``): created private, SSE-S3, TLS only, expiring.

- **SSE-S3, not SSE-KMS:** "The only server-side encryption option that's supported is Amazon S3-managed keys
  (SSE-S3)" (ALB User Guide, enable-access-logging.html, bucket requirements); the stack's KMS key
  (``kmsKey``) does not apply here.
- **Private:** every public access block on, and ``BucketOwnerEnforced`` (ACLs disabled): ELB writes through the
  bucket policy (:mod:`.access_log_policy`), never an ACL, in the commercial regions' documented policies.
- **Kept by ``pulumi destroy``:** the logs are what an incident review reads after the stack is gone, so the bucket
  and its settings are ``retain_on_delete``: destroy (or turning the logs off) leaves them in the account, the
  lifecycle rule keeps expiring objects, and destroy never fails on a bucket that is not empty. A deleted bucket's
  name could also be taken by another account that ELB would then deliver to (ALB User Guide,
  disable-access-logging.md). Delete it by hand when its logs are no longer needed:
  ``aws s3 rb s3://<bucket> --force``.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from .._naming import auto_named, child_name
from ..config.hardening import BUCKET_NAME_MAX, AccessLogsConfig
from .access_log_policy import bucket_policy

# Log files land under AWSLogs/<account>/elasticloadbalancing/<region>/... (ALB User Guide,
# load-balancer-access-logs.html "Access log files"); the stack sets no prefix.
LOG_KEY_PREFIX = "AWSLogs/"


class LogBucket:
    """The created bucket: its name for the ALB's ``access_logs``, and what the ALB must wait for."""

    def __init__(self, name: pulumi.Output[str], ready: list[pulumi.Resource]) -> None:
        self.name = name
        self.ready = ready


def create_log_bucket(
    lb_name: str,
    config: AccessLogsConfig,
    *,
    region: str,
    account_id: str,
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> LogBucket:
    """The bucket and its settings, children of the load balancer ``lb_name``, all kept on delete."""
    kept = pulumi.ResourceOptions(parent=parent, retain_on_delete=True)
    # Pulumi names the bucket '<logical name>-<7 random characters>', lower-cased (pulumi/pulumi-aws
    # provider/resources.go: aws_s3_bucket "bucket" AutoNameTransform(..., 63, strings.ToLower)).
    bucket = aws.s3.Bucket(auto_named(child_name(lb_name, "access-logs"), BUCKET_NAME_MAX), tags=tags, opts=kept)
    public_access = aws.s3.BucketPublicAccessBlock(
        child_name(lb_name, "access-logs-public-access"),
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=kept,
    )
    ownership = aws.s3.BucketOwnershipControls(
        child_name(lb_name, "access-logs-ownership"),
        bucket=bucket.id,
        rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
        opts=kept,
    )
    sse_s3 = aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
        sse_algorithm="AES256"
    )
    encryption = aws.s3.BucketServerSideEncryptionConfiguration(
        child_name(lb_name, "access-logs-encryption"),
        bucket=bucket.id,
        rules=[aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(apply_server_side_encryption_by_default=sse_s3)],
        opts=kept,
    )
    aws.s3.BucketLifecycleConfiguration(
        child_name(lb_name, "access-logs-expiry"),
        bucket=bucket.id,
        rules=[
            aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="expire-access-logs",
                status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=LOG_KEY_PREFIX),
                expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=config.expiration_days),
            )
        ],
        opts=kept,
    )
    policy = aws.s3.BucketPolicy(
        child_name(lb_name, "access-logs-policy"),
        bucket=bucket.id,
        policy=bucket.arn.apply(lambda arn: bucket_policy(arn, region=region, account_id=account_id)),
        # S3 refuses concurrent changes to one bucket's access settings ("A conflicting conditional operation is
        # currently in progress"): the policy goes on once the public access block is in place.
        opts=pulumi.ResourceOptions.merge(kept, pulumi.ResourceOptions(depends_on=[public_access])),
    )
    # The ALB checks that it can write (a test object under AWSLogs/) when access logging is switched on and
    # fails with "Access Denied for bucket" if the policy is not there yet (ALB User Guide,
    # enable-access-logging.md; aws/copilot-cli#4169): the bucket's name alone does not order that.
    return LogBucket(bucket.bucket, [policy, public_access, ownership, encryption])
