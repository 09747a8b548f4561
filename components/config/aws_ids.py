"""Shapes of AWS identifiers, checked in one place (config, bootstrap and Prometheus all validate them)."""

from __future__ import annotations

import re

REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")  # us-east-1, us-gov-west-1, ap-southeast-2
VOLUME_ID = re.compile(r"^vol-[0-9a-f]{8,17}$")
SNAPSHOT_ID = re.compile(r"^snap-[0-9a-f]{8,17}$")
VPC_ID = re.compile(r"^vpc-[0-9a-f]{8,17}$")
SUBNET_ID = re.compile(r"^subnet-[0-9a-f]{8,17}$")
AMI_ID = re.compile(r"^ami-[0-9a-f]{8,17}$")


def check_region(value: str) -> str:
    if not REGION.fullmatch(value):
        raise ValueError(f"not an AWS region like 'us-east-1' (got {value!r})")
    return value


def check_volume_id(value: str) -> str:
    if not VOLUME_ID.fullmatch(value):
        raise ValueError(f"not an EBS volume id like 'vol-0123456789abcdef0' (got {value!r})")
    return value


def partition(region: str) -> str:
    """The ARN partition of ``region``: ``aws-cn`` in China, ``aws-us-gov`` in GovCloud, else ``aws``."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"
