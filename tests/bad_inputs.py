"""Building blocks of the bad-input cases: valid bases, one change at a time, and the expected issue."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Raw = dict[str, Any]

# Plain HTTP, explicitly: the bases test everything but transport (cases below replace `loadBalancer` whole).
BASE: Raw = {
    "loadBalancer": {"allowPlainHttp": True},
    "models": [
        {"name": "qwen-7b", "id": "Qwen/Qwen2.5-7B-Instruct-AWQ", "instanceType": "g6.xlarge", "maxModelLen": 8192}
    ],
}
GATED_BASE: Raw = {
    "loadBalancer": {"allowPlainHttp": True},
    "hfToken": "hf_test",
    "models": [
        {
            "name": "qwen-8b",
            "id": "meta-llama/Llama-3.1-8B-Instruct",
            "instanceType": "g6e.xlarge",
            "maxModelLen": 16384,
        }
    ],
}
ARN = "arn:aws:acm:{region}:123456789012:certificate/0123abcd-4567-89ef-0123-456789abcdef"


@dataclass(frozen=True)
class Case:
    id: str
    build: Callable[[], Raw]
    path: str
    fix: str


def base(**top: Any) -> Raw:
    raw = copy.deepcopy(BASE)
    raw.update(top)
    return raw


def model(**changes: Any) -> Callable[[], Raw]:
    """The valid base with models[0] changed (a value of None removes the key)."""

    def build() -> Raw:
        raw = copy.deepcopy(BASE)
        raw["models"][0].update(changes)
        raw["models"][0] = {k: v for k, v in raw["models"][0].items() if v is not None}
        return raw

    return build


def gated(**changes: Any) -> Callable[[], Raw]:
    """The valid gated-model base (with an hfToken) with models[0] changed."""

    def build() -> Raw:
        raw = copy.deepcopy(GATED_BASE)
        raw["models"][0].update(changes)
        return raw

    return build


def top(**keys: Any) -> Callable[[], Raw]:
    """The valid base with top-level keys added or replaced."""
    return lambda: base(**copy.deepcopy(keys))


def extra_args(*args: str) -> Callable[[], Raw]:
    return model(extraArgs=list(args))


def without_hf_token() -> Raw:
    raw = copy.deepcopy(GATED_BASE)
    del raw["hfToken"]
    return raw


def duplicate_names() -> Raw:
    raw = base()
    raw["models"].append({**raw["models"][0], "instanceType": "g6e.xlarge"})
    return raw


def second_model_fits_nowhere() -> Raw:
    """Auto-selected instance for models[1] at a configured TP 1: the path must name models[1], not models[0], and
    the fix names the TP size that fits (the planner searches TP only where it is not configured)."""
    raw = copy.deepcopy(GATED_BASE)
    raw["models"].append(
        {
            "name": "qwen-72b",
            "id": "meta-llama/Llama-3.1-70B-Instruct",
            "tensorParallelSize": 1,
            "gpuMemoryUtilization": 0.5,
            "maxModelLen": 8192,
        }
    )
    return raw


def p(suffix: str) -> str:
    return f"vllm-aws:{suffix}"


# The optional hardening of #13 (loadBalancer.accessLogs, kmsKey): part of the table in tests/config/test_bad_input.py.
HARDENING_CASES = [
    Case(
        "access-logs-bucket-arn",
        top(loadBalancer={"accessLogs": {"enabled": True, "bucket": "arn:aws:s3:::logs"}}),
        p("loadBalancer.accessLogs.bucket"),
        "bucket's name",
    ),
    Case(
        "access-logs-bucket-reserved-suffix",
        top(loadBalancer={"accessLogs": {"enabled": True, "bucket": "logs-s3alias"}}),
        p("loadBalancer.accessLogs.bucket"),
        "bucket's name",
    ),
    Case(
        "access-logs-bucket-while-disabled",
        top(loadBalancer={"accessLogs": {"bucket": "my-alb-logs"}}),
        p("loadBalancer.accessLogs.enabled"),
        "set accessLogs.enabled: true",
    ),
    Case(
        "access-logs-expiry-of-an-existing-bucket",
        top(loadBalancer={"accessLogs": {"enabled": True, "bucket": "my-alb-logs", "expirationDays": 30}}),
        p("loadBalancer.accessLogs.expirationDays"),
        "remove expirationDays",
    ),
    Case(
        "access-logs-expiry-zero",
        top(loadBalancer={"accessLogs": {"enabled": True, "expirationDays": 0}}),
        p("loadBalancer.accessLogs.expirationDays"),
        "at least 1",
    ),
    Case(
        "kms-key-deletion-window-below-kms-minimum",
        top(kmsKey={"enabled": True, "deletionWindowDays": 6}),
        p("kmsKey.deletionWindowDays"),
        "at least 7",
    ),
    Case(
        "kms-key-deletion-window-above-kms-maximum",
        top(kmsKey={"enabled": True, "deletionWindowDays": 31}),
        p("kmsKey.deletionWindowDays"),
        "at most 30",
    ),
    Case("kms-key-unknown-key", top(kmsKey={"enable": True}), p("kmsKey.enable"), "did you mean 'enabled'?"),
]
