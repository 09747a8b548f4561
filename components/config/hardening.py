"""Optional hardening, off by default and one key away: ``loadBalancer.waf``, ``loadBalancer.accessLogs``,
``kmsKey``.

Pure: the sections only. :mod:`components.network.waf` and :mod:`components.network.access_logs` and
:mod:`components.host.kms_key` build the resources from them.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal, Self

from pydantic import Field, field_validator, model_validator

from .base import ConfigModel, LocatedError

# WAF evaluates a rate-based rule over one of these windows (botocore wafv2 2019-07-29 RateBasedStatement
# EvaluationWindowSec: "60, 120, 300, and 600") and accepts a limit of 10 to 2,000,000,000 requests per window
# (shape RateLimit, min 10, max 2000000000).
RATE_WINDOWS = (60, 120, 300, 600)
RATE_LIMIT_MIN, RATE_LIMIT_MAX = 10, 2_000_000_000


class WafConfig(ConfigModel):
    """A WAFv2 web ACL on the ALB (``loadBalancer.waf``): a per-client-IP rate limit and AWS managed rules."""

    enabled: bool = False
    rate_limit: Annotated[
        int,
        Field(
            ge=RATE_LIMIT_MIN,
            le=RATE_LIMIT_MAX,
            description="Requests one client IP may send per window before WAF answers 429.",
        ),
    ] = 1000
    rate_window_seconds: Annotated[
        Literal[60, 120, 300, 600], Field(description="The window the rate limit counts over.")
    ] = 300
    managed_rules: Annotated[
        bool,
        Field(description="AWS managed rule groups: IP reputation, known bad inputs, the common rule set."),
    ] = True


# General purpose bucket names (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html):
# 3-63 characters of a-z, 0-9, '.' and '-', starting and ending with a letter or digit, no '..', not shaped like
# an IP address, and none of the prefixes and suffixes S3 reserves for its own names.
BUCKET_NAME_MAX = 63
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IP_SHAPED = re.compile(r"^\d+\.\d+\.\d+\.\d+$")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
# Objects expire after this many days by default: a quarter of request history for an incident review, and a
# bounded bill (one gzip file per ALB node every 5 minutes).
DEFAULT_LOG_EXPIRATION_DAYS = 90
MAX_LOG_EXPIRATION_DAYS = 3650


def bucket_name_problem(name: str) -> str | None:
    """Why S3 refuses ``name`` for a general purpose bucket, or None."""
    if not _BUCKET_NAME.match(name):
        return "must be 3-63 characters of a-z, 0-9, '.' and '-', starting and ending with a letter or digit"
    if ".." in name:
        return "must not contain two adjacent periods"
    if _IP_SHAPED.match(name):
        return "must not be formatted as an IP address"
    if name.startswith(_RESERVED_PREFIXES) or name.endswith(_RESERVED_SUFFIXES):
        return "uses a prefix or suffix S3 reserves (xn--, sthree-, amzn-s3-demo-, -s3alias, --ol-s3, ...)"
    return None


class AccessLogsConfig(ConfigModel):
    """ALB access logs (``loadBalancer.accessLogs``): to a bucket the stack creates, or to ``bucket``."""

    enabled: bool = False
    bucket: Annotated[
        str | None,
        Field(
            description="An existing bucket in the stack's region whose policy lets ELB write (its name, not its "
            "ARN). Default: the stack creates one (SSE-S3, private, TLS only, objects expire after "
            "`expirationDays`)."
        ),
    ] = None
    expiration_days: Annotated[
        int,
        Field(
            ge=1,
            le=MAX_LOG_EXPIRATION_DAYS,
            description="Days a log file stays in the created bucket before S3 deletes it.",
        ),
    ] = DEFAULT_LOG_EXPIRATION_DAYS

    @field_validator("bucket")
    @classmethod
    def _bucket_shape(cls, value: str | None) -> str | None:
        if value is not None and (problem := bucket_name_problem(value)):
            raise ValueError(f"is not an S3 bucket name: it {problem}. Fix: use the bucket's name, not its ARN or URL")
        return value

    @model_validator(mode="after")
    def _one_meaning(self) -> Self:
        if self.bucket is not None and not self.enabled:
            raise LocatedError(
                ("enabled",),
                self.enabled,
                "is false, but accessLogs.bucket names a bucket to log to",
                "set accessLogs.enabled: true, or remove accessLogs.bucket",
            )
        if self.bucket is not None and "expiration_days" in self.model_fields_set:
            raise LocatedError(
                ("expirationDays",),
                self.expiration_days,
                "applies to the bucket the stack creates; an existing bucket's lifecycle rules are its owner's",
                "remove expirationDays, or remove accessLogs.bucket to have the stack create the bucket",
            )
        return self


# KMS schedules a key's deletion 7 to 30 days ahead (botocore kms ScheduleKeyDeletion PendingWindowInDays: "This
# value is optional. If you include a value, it must be between 7 and 30, inclusive").
KEY_DELETION_WINDOW_MIN, KEY_DELETION_WINDOW_MAX = 7, 30


class KmsKeyConfig(ConfigModel):
    """A customer managed KMS key for the stack's EBS volumes and SSM SecureStrings (``vllm-aws:kmsKey``)."""

    enabled: Annotated[
        bool,
        Field(
            description="Encrypt the GPU hosts' root and cache volumes and the secrets' parameters with a key of "
            "the stack (rotated yearly). Switching it on or off replaces every GPU host."
        ),
    ] = False
    deletion_window_days: Annotated[
        int,
        Field(
            ge=KEY_DELETION_WINDOW_MIN,
            le=KEY_DELETION_WINDOW_MAX,
            description="Days between `pulumi destroy` (or switching the key off) and KMS deleting the key; until "
            "then `aws kms cancel-key-deletion` brings it back.",
        ),
    ] = KEY_DELETION_WINDOW_MAX
