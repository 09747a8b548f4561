"""Building blocks of the contract table: tag rules per service, and the limits AWS states only in prose.

Each :class:`~aws_contracts.Source` names where a limit is written: a botocore model member whose documentation
holds the quote (verified by tests/project/test_aws_contracts.py), or an AWS page or provider source file.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_contracts import (
    ALNUM,
    Check,
    Problem,
    Rule,
    Source,
    Tagging,
    all_of,
    at_most_characters,
    characters,
    not_prefixed,
)

TF = "hashicorp/terraform-provider-aws internal/service/"
PA = "pulumi/pulumi-aws provider/"
RESERVED_TAG_PREFIX = "aws:"

# --- tags ---------------------------------------------------------------------------------------------------------


def tag_count(limit: int) -> Check:
    def check(tags: Mapping[str, str]) -> Problem:
        return None if len(tags) <= limit else f"{len(tags)} tags, more than {limit}"

    return check


def each_tag(check: Check, part: str) -> Check:
    def run(tags: Mapping[str, str]) -> Problem:
        for key, value in tags.items():
            if (problem := check(key if part == "key" else value)) is not None:
                return f"tag {key!r} {part}: {problem}"
        return None

    return run


ELB_TAG_PAGE = "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-tags.html"
TAGGING_GUIDE = "https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html (tag naming limits)"


def _reserved_prefix(source: Source, parts: tuple[str, ...] = ("key", "value")) -> tuple[Rule, ...]:
    return tuple(Rule("tags", each_tag(not_prefixed(RESERVED_TAG_PREFIX), part), source) for part in parts)


def ec2_tagging(operation: str) -> Tagging:
    """EC2 tags go in at create through TagSpecifications; the model's Tag strings carry the limits in prose."""
    key_doc = Source(
        "CreateTags.Tags[].Key", "accept a maximum of 127 Unicode characters. May not begin with aws:", "ec2"
    )
    return Tagging(
        key=f"{operation}.TagSpecifications[].Tags[].Key",
        value=f"{operation}.TagSpecifications[].Tags[].Value",
        tag_list=f"{operation}.TagSpecifications[].Tags",
        rules=(
            Rule("tags", tag_count(50), Source("CreateTags", "Each resource can have a maximum of 50 tags.", "ec2")),
            Rule("tags", each_tag(at_most_characters(127), "key"), key_doc),
            Rule("tags", each_tag(not_prefixed(RESERVED_TAG_PREFIX), "key"), key_doc),
            Rule(
                "tags",
                each_tag(at_most_characters(256), "value"),
                Source("CreateTags.Tags[].Value", "accept a maximum of 256 Unicode characters", "ec2"),
            ),
        ),
    )


def elbv2_tagging(operation: str) -> Tagging:
    return Tagging(
        key=f"{operation}.Tags[].Key",
        value=f"{operation}.Tags[].Value",
        tag_list=f"{operation}.Tags",
        rules=(
            Rule("tags", tag_count(50), Source(ELB_TAG_PAGE, "Maximum number of tags per resource—50")),
            *_reserved_prefix(
                Source(ELB_TAG_PAGE, "Do not use the aws: prefix in your tag names or values because it is reserved")
            ),
        ),
    )


def iam_tagging(operation: str) -> Tagging:
    # The tag list's maximum (50) is in the model's tagListType; only the reserved prefix is prose.
    return Tagging(
        key=f"{operation}.Tags[].Key",
        value=f"{operation}.Tags[].Value",
        tag_list=f"{operation}.Tags",
        rules=_reserved_prefix(Source(TAGGING_GUIDE, "do not use aws: as a prefix for either keys or values")),
    )


def ssm_tagging(operation: str) -> Tagging:
    return Tagging(
        key=f"{operation}.Tags[].Key",
        value=f"{operation}.Tags[].Value",
        tag_list=f"{operation}.Tags",
        rules=(
            Rule(
                "tags",
                tag_count(50),
                Source("AddTagsToResource", "Most resources can have a maximum of 50 tags.", "ssm"),
            ),
            *_reserved_prefix(Source(TAGGING_GUIDE, "do not use aws: as a prefix for either keys or values")),
        ),
    )


# --- names and descriptions that the models describe in prose ----------------------------------------------------

SG_TEXT = ALNUM + " ._-:/()#,@[]+=&;{}!$*"
SG_PAIR_TEXT = SG_TEXT.replace("&", "")  # UserIdGroupPair.Description: the same set without "&"


def _no_hyphen_at_ends(value: Any) -> Problem:
    return f"{value!r} begins or ends with a hyphen" if value.startswith("-") or value.endswith("-") else None


def _not_internal(value: Any) -> Problem:
    return f"{value!r} begins with 'internal-'" if value.startswith("internal-") else None


def ssm_name(value: Any) -> Problem:
    levels = value.strip("/").count("/") + 1
    if levels > 15:
        return f"{levels} hierarchy levels, more than 15"
    if value.lstrip("/").lower().startswith(("aws", "ssm")):
        return f"{value!r} starts with 'aws' or 'ssm'"
    return characters(ALNUM + "_.-/")(value)


def url_rewrites_of_each_kind(transforms: Any) -> Problem:
    kinds = [t.get("type") for t in transforms]
    repeated = sorted({kind for kind in kinds if kinds.count(kind) > 1})
    return f"more than one {repeated} transform" if repeated else None


def gp3(check: Check) -> Check:
    def run(inputs: Mapping[str, Any]) -> Problem:
        return check(inputs) if inputs.get("type", inputs.get("volumeType")) == "gp3" else None

    return run


def gp3_ratios(inputs: Mapping[str, Any]) -> Problem:
    size, iops, throughput = inputs.get("size"), inputs.get("iops"), inputs.get("throughput")
    if size is not None and iops is not None and iops > 500 * size:
        return f"{iops:g} IOPS on {size:g} GiB exceeds 500 IOPS per GiB"
    if iops is not None and throughput is not None and throughput > iops / 4:
        return f"{throughput:g} MiB/s exceeds 0.25 MiB/s per IOPS ({iops:g} IOPS)"
    return None


def user_data_size(value: Any) -> Problem:
    size = len(value.encode())
    return None if size <= 16 * 1024 else f"{size} bytes, more than 16 KB"


def port_or(*words: str) -> Check:
    def check(value: Any) -> Problem:
        if value in words or (value.isdigit() and 1 <= int(value) <= 65535):
            return None
        return f"{value!r} is neither a port 1-65535 nor one of {list(words)}"

    return check


def ip_protocol(value: Any) -> Problem:
    named = ("tcp", "udp", "icmp", "icmpv6", "-1")
    if value in named or (value.isdigit() and 0 <= int(value) <= 255):
        return None
    return f"{value!r} is not tcp, udp, icmp, icmpv6, -1 or a protocol number"


def matcher_for_alb(value: Any) -> Problem:
    codes = [int(code) for part in value.split(",") for code in part.split("-")]
    return None if all(200 <= code <= 499 for code in codes) else f"{value!r} is outside 200-499"


def inline_policy_size(value: Any) -> Problem:
    size = len("".join(value.split()))
    return None if size <= 10_240 else f"{size} characters (whitespace excluded), more than 10,240"


SG_NAME = Source(
    "CreateSecurityGroup.GroupName",
    "Constraints: Up to 255 characters in length. Can't start with sg-. "
    "Valid characters: a-z, A-Z, 0-9, spaces, and ._-:/()#,@[]+=&;{}!$*",
    "ec2",
)
ELB_NAME_RULES = (
    Rule(
        "",
        all_of(characters(ALNUM + "-"), _no_hyphen_at_ends, _not_internal),
        Source(
            "CreateLoadBalancer.Name",
            "must contain only alphanumeric characters or hyphens, must not begin or end with a hyphen, and must not "
            'begin with "internal-"',
            "elbv2",
        ),
    ),
)
TG_NAME_RULES = (
    Rule(
        "",
        all_of(characters(ALNUM + "-"), _no_hyphen_at_ends),
        Source(
            "CreateTargetGroup.Name",
            "can have a maximum of 32 characters, must contain only alphanumeric characters or hyphens, "
            "and must not begin or end with a hyphen",
            "elbv2",
        ),
    ),
)
PORT_RANGE = Source(
    TF + "ec2/vpc_security_group_ingress_rule.go (from_port, to_port)", "int64validator.Between(-1, 65535)"
)
SSM_NAME = Source(
    "PutParameter.Name",
    "(case-insensitive). Parameter names can include only the following symbols and letters: a-zA-Z0-9_.-",
    "ssm",
)
GP3 = "https://docs.aws.amazon.com/ebs/latest/userguide/general-purpose.html#gp3-ebs-volume-type"


BOOLEAN = "a boolean: either value is valid"
PROVIDER_ONLY = "a provider-side setting, not sent to AWS"
SECRET = "a secret, redacted in the recorded inputs; AWS limits it to 4 KB (Standard tier)"
