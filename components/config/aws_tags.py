"""The tag rules every AWS service the stack tags accepts: the strictest of EC2, ELBv2, IAM and SSM, as pure checks.

A tag the stack sets lands on instances, volumes and security groups (EC2), the load balancer, target groups and
listener rules (ELBv2), host roles (IAM) and the secret parameters (SSM), so one bad character fails ``pulumi up``
halfway, after the GPU hosts exist. Sources (botocore service models, and AWS pages where the models are prose):

- characters: ``[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]`` (Unicode letters, separators such as the space, numbers, and
  ``_ . : / = + - @``) — the ``pattern`` of elbv2 ``TagKey``/``TagValue``, iam ``tagKeyType``/``tagValueType``,
  ssm ``TagKey``/``TagValue``. EC2 accepts any character, so it adds nothing here.
- lengths: keys 1-127 (ec2 ``Tag.Key``: "a maximum of 127 Unicode characters"; 128 elsewhere), values at most 256.
- the ``aws:`` prefix, in any case, is reserved for keys and values (ec2 ``Tag.Key``; the ELB user guide's tag
  restrictions, docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-tags.html).
- at most 50 tags per resource (ec2 ``CreateTags``; iam ``tagListType``; ssm ``AddTagsToResource``; the ELB page).
- no leading or trailing spaces (the ELB page: "Do not use leading or trailing spaces").
"""

from __future__ import annotations

import unicodedata

MAX_TAGS_PER_RESOURCE = 50
# The stack's own tags on a resource: Name and vllm-aws:* (stack, project, model, replica, role, servers), with room
# to add a few without shrinking what users may set.
RESERVED_FOR_THE_STACK = 10
MAX_USER_TAGS = MAX_TAGS_PER_RESOURCE - RESERVED_FOR_THE_STACK
MAX_KEY_LENGTH = 127
MAX_VALUE_LENGTH = 256
RESERVED_PREFIX = "aws:"
_SYMBOLS = frozenset("_.:/=+-@")
_CATEGORIES = ("L", "Z", "N")  # \p{L}, \p{Z}, \p{N}: the first letter of the Unicode general category


def _disallowed(text: str) -> list[str]:
    return sorted({char for char in text if char not in _SYMBOLS and unicodedata.category(char)[0] not in _CATEGORIES})


def text_problem(text: str, max_length: int, min_length: int = 0) -> str | None:
    """Why ``text`` cannot be a tag key (``min_length=1``) or value on every service we tag, or None."""
    if len(text) < min_length:
        return "is empty"
    if len(text) > max_length:
        return f"has {len(text)} characters, more than the {max_length} AWS allows"
    if bad := _disallowed(text):
        return (
            f"contains {''.join(bad)!r}; AWS tags allow only letters, digits, spaces and _ . : / = + - @ "
            "(the ELBv2, IAM and SSM tag patterns)"
        )
    if text != text.strip():
        return "starts or ends with a space, which load balancer tags do not allow"
    if text.lower().startswith(RESERVED_PREFIX):
        return f"starts with {RESERVED_PREFIX!r}, a prefix AWS reserves for its own tags"
    return None


def key_problem(key: str) -> str | None:
    return text_problem(key, MAX_KEY_LENGTH, min_length=1)


def value_problem(value: str) -> str | None:
    return text_problem(value, MAX_VALUE_LENGTH)
