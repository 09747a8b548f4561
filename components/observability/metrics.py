"""Which metric names an expression uses, and whether its ``vllm:`` names exist in the pinned vLLM release.

``catalog/vllm_metric_names.txt`` lists every ``vllm:`` metric of vLLM 0.33.0 as *declared* in the wheel
(the name passed to ``prometheus_client``), without the suffixes the exposition adds: a counter declared as
``vllm:num_preemptions`` is scraped as ``vllm:num_preemptions_total``, a histogram as ``_bucket``, ``_sum``
and ``_count``. The file does not say which kind each metric is, so :data:`VLLM_METRIC_KINDS` records it for
the metrics this package queries (read from ``vllm/v1/metrics/loggers.py``); a name is accepted only in the
exposed form of its kind, so ``rate(vllm:num_preemptions[5m])`` (never scraped) is caught like a removed
metric such as ``vllm:gpu_cache_usage_perc`` (gone since the V0 engine).
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import Literal

from .. import catalog

MetricKind = Literal["counter", "gauge", "histogram"]

# Kind of each vLLM metric the rules and dashboards use; every key must be in vllm_metric_names() (tested).
VLLM_METRIC_KINDS: dict[str, MetricKind] = {
    "vllm:num_requests_running": "gauge",
    "vllm:num_requests_waiting": "gauge",
    "vllm:kv_cache_usage_perc": "gauge",
    "vllm:prompt_tokens": "counter",
    "vllm:generation_tokens": "counter",
    "vllm:request_success": "counter",  # every finished request, labelled finished_reason=stop|length|abort|...
    "vllm:num_preemptions": "counter",
    "vllm:prefix_cache_hits": "counter",
    "vllm:prefix_cache_queries": "counter",
    "vllm:time_to_first_token_seconds": "histogram",
    "vllm:inter_token_latency_seconds": "histogram",
    "vllm:e2e_request_latency_seconds": "histogram",
    "vllm:request_queue_time_seconds": "histogram",
}

_SUFFIXES: dict[MetricKind, tuple[str, ...]] = {
    "gauge": ("",),
    "counter": ("_total",),
    "histogram": ("_bucket", "_sum", "_count"),
}

# PromQL words that look like identifiers but are not metric names (functions are recognised by their "(").
_KEYWORDS = frozenset(
    {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left", "group_right"}
    | {"inf", "nan", "start", "end"}
)
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_MATCHERS = re.compile(r"\{[^{}]*\}")  # label matchers, once strings are gone
_RANGE = re.compile(r"\[[^\[\]]*\]")  # [5m], [$__rate_interval], subqueries [1h:5m]
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
# An identifier not glued to a preceding word, number, "." or Grafana "$" (so "5m", "1e3", "$model" are skipped).
_IDENTIFIER = re.compile(r"(?<![\w:$.])[A-Za-z_:][\w:]*")


@cache
def vllm_metric_names() -> frozenset[str]:
    """Every ``vllm:`` metric name declared by vLLM 0.33.0 (read from the wheel; see docs/sizing.md, Catalogs)."""
    text = resources.files(catalog).joinpath("vllm_metric_names.txt").read_text(encoding="utf-8")
    lines = (line.strip() for line in text.splitlines())
    return frozenset(line for line in lines if line and not line.startswith("#"))


@cache
def exposed_vllm_metric_names() -> frozenset[str]:
    """The names Prometheus scrapes for the metrics of :data:`VLLM_METRIC_KINDS` that vLLM 0.33.0 declares."""
    declared = vllm_metric_names()
    return frozenset(
        _exposed_name(name, suffix)
        for name, kind in VLLM_METRIC_KINDS.items()
        if name in declared
        for suffix in _SUFFIXES[kind]
    )


def _exposed_name(declared: str, suffix: str) -> str:
    # prometheus_client strips a counter's own "_total" before adding it back.
    if suffix == "_total" and declared.endswith("_total"):
        return declared
    return declared + suffix


def metric_names_in_expression(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (Grafana ``$variables`` may be left in)."""
    text = _STRING.sub(" ", expr)
    selector_names = {match.group(1) for match in re.finditer(r'__name__\s*=\s*"([^"]+)"', expr)}
    text = _MATCHERS.sub(" ", text)
    text = _RANGE.sub(" ", text)
    text = _GROUPING.sub(" ", text)
    names: set[str] = set(selector_names)
    for match in _IDENTIFIER.finditer(text):
        rest = text[match.end() :].lstrip()
        if rest.startswith("(") or match.group().lower() in _KEYWORDS:
            continue  # a function or aggregation call, or a keyword
        names.add(match.group())
    return names


def unknown_vllm_metrics(expr: str) -> set[str]:
    """``vllm:`` names in ``expr`` that vLLM 0.33.0 does not expose (removed, misspelt or wrong suffix)."""
    exposed = exposed_vllm_metric_names()
    return {name for name in metric_names_in_expression(expr) if name.startswith("vllm:") and name not in exposed}
