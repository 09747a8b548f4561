"""The contracts of #13's optional hardening: ALB access logs to a created bucket (the bucket and its settings), and
the stack's KMS key and its alias.

Same reading as aws_contract_table.py: Pulumi input -> member of the API call terraform-provider-aws makes
(``internal/service/s3/bucket*.go``: each settings resource is one PutBucket* call on the bucket's name).
The bucket itself has no ``name`` input (it is ``bucket``, which pulumi-aws auto-names, lower-cased, within 63
characters: pulumi/pulumi-aws provider/resources.go AutoNameTransform); tests/project/test_aws_contracts.py
checks the generated name against S3's naming rules.
"""

from __future__ import annotations

from aws_contract_rules import BOOLEAN, TAGGING_GUIDE, TF, _reserved_prefix
from aws_contracts import AutoName, Contract, Member, Source, Tagging

_LIFECYCLE = "PutBucketLifecycleConfiguration.LifecycleConfiguration.Rules[]"
_ENCRYPTION = "PutBucketEncryption.ServerSideEncryptionConfiguration.Rules[]"
_BLOCK = "PutPublicAccessBlock.PublicAccessBlockConfiguration"

LOG_BUCKET_CONTRACTS = (
    Contract(
        type="aws:s3/bucket:Bucket",
        service="s3",
        created_by=f"CreateBucket, then PutBucketTagging ({TF}s3/bucket.go resourceBucketCreate)",
        tags=Tagging(
            key="PutBucketTagging.Tagging.TagSet[].Key",
            value="PutBucketTagging.Tagging.TagSet[].Value",
            tag_list="PutBucketTagging.Tagging.TagSet",
            rules=_reserved_prefix(Source(TAGGING_GUIDE, "do not use aws: as a prefix for either keys or values")),
        ),
    ),
    Contract(
        type="aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        service="s3",
        created_by=f"PutPublicAccessBlock ({TF}s3/bucket_public_access_block.go)",
        members=(
            Member("bucket", "PutPublicAccessBlock.Bucket"),
            Member("blockPublicAcls", f"{_BLOCK}.BlockPublicAcls"),
            Member("blockPublicPolicy", f"{_BLOCK}.BlockPublicPolicy"),
            Member("ignorePublicAcls", f"{_BLOCK}.IgnorePublicAcls"),
            Member("restrictPublicBuckets", f"{_BLOCK}.RestrictPublicBuckets"),
        ),
    ),
    Contract(
        type="aws:s3/bucketOwnershipControls:BucketOwnershipControls",
        service="s3",
        created_by=f"PutBucketOwnershipControls ({TF}s3/bucket_ownership_controls.go)",
        members=(
            Member("bucket", "PutBucketOwnershipControls.Bucket"),
            Member(
                "rule.objectOwnership",
                "PutBucketOwnershipControls.OwnershipControls.Rules[].ObjectOwnership",
                note="rule (one) -> Rules[0]",
            ),
        ),
    ),
    Contract(
        type="aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        service="s3",
        created_by=f"PutBucketEncryption ({TF}s3/bucket_server_side_encryption_configuration.go)",
        members=(
            Member("bucket", "PutBucketEncryption.Bucket"),
            Member(
                "rules[].applyServerSideEncryptionByDefault.sseAlgorithm",
                f"{_ENCRYPTION}.ApplyServerSideEncryptionByDefault.SSEAlgorithm",
            ),
        ),
    ),
    Contract(
        type="aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        service="s3",
        created_by=f"PutBucketLifecycleConfiguration ({TF}s3/bucket_lifecycle_configuration.go)",
        members=(
            Member("bucket", "PutBucketLifecycleConfiguration.Bucket"),
            Member("rules[].id", f"{_LIFECYCLE}.ID"),
            Member("rules[].status", f"{_LIFECYCLE}.Status"),
            Member("rules[].filter.prefix", f"{_LIFECYCLE}.Filter.Prefix"),
            Member("rules[].expiration.days", f"{_LIFECYCLE}.Expiration.Days"),
        ),
    ),
    Contract(
        type="aws:s3/bucketPolicy:BucketPolicy",
        service="s3",
        created_by=f"PutBucketPolicy ({TF}s3/bucket_policy.go)",
        members=(Member("bucket", "PutBucketPolicy.Bucket"), Member("policy", "PutBucketPolicy.Policy")),
    ),
)

KMS_CONTRACTS = (
    Contract(
        type="aws:kms/key:Key",
        service="kms",
        created_by=f"CreateKey, then EnableKeyRotation ({TF}kms/key.go resourceKeyCreate); "
        "ScheduleKeyDeletion on delete",
        members=(
            Member("description", "CreateKey.Description"),
            Member("policy", "CreateKey.Policy"),
            Member(
                "deletionWindowInDays",
                "ScheduleKeyDeletion.PendingWindowInDays",
                note="sent when the key is deleted (resourceKeyDelete)",
            ),
        ),
        tags=Tagging(
            key="CreateKey.Tags[].TagKey",
            value="CreateKey.Tags[].TagValue",
            tag_list="CreateKey.Tags",
            rules=_reserved_prefix(Source(TAGGING_GUIDE, "do not use aws: as a prefix for either keys or values")),
        ),
        unchecked={"enableKeyRotation": BOOLEAN + " (EnableKeyRotation when true)"},
    ),
    Contract(
        type="aws:kms/alias:Alias",
        service="kms",
        created_by=f"CreateAlias ({TF}kms/alias.go resourceAliasCreate)",
        members=(Member("targetKeyId", "CreateAlias.TargetKeyId"),),
        auto_name=AutoName(
            "CreateAlias.AliasName",
            256,
            "botocore kms AliasNameType (1-256, ^[a-zA-Z0-9:/_-]+$); the stack always names its alias",
        ),
    ),
)
