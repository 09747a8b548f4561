"""Every ``vllm:`` metric name the rules and dashboards query is declared by the pinned vLLM release."""

from __future__ import annotations

import re

import pytest
from rendered import INVENTORY, alert_rules, panel_targets, unknown_in_rules, variable_queries

from components.observability import (
    VLLM_METRIC_KINDS,
    metric_names_in_expression,
    render_alert_rules,
    unknown_vllm_metrics,
    vllm_metric_names,
)

# --- metric names -----------------------------------------------------------------------------------------


def test_metric_catalog_is_vllm_0_33_declared_names() -> None:
    names = vllm_metric_names()
    assert len(names) == 140
    assert all(name.startswith("vllm:") for name in names)
    # Declared names: the exposition's suffixes are added by prometheus_client, so they are absent here.
    assert "vllm:num_preemptions" in names and "vllm:num_preemptions_total" not in names
    assert "vllm:gpu_cache_usage_perc" not in names  # removed with the V0 engine


def test_metric_kinds_are_recorded_only_for_declared_metrics() -> None:
    assert set(VLLM_METRIC_KINDS) <= vllm_metric_names()


def test_rules_and_dashboards_use_only_vllm_0_33_metric_names() -> None:
    assert unknown_in_rules(render_alert_rules(INVENTORY)) == set()
    for name, panel, target in panel_targets():
        assert unknown_vllm_metrics(target["expr"]) == set(), (name, panel["title"])
    for query in variable_queries():
        assert unknown_vllm_metrics(query) == set(), query


def test_rules_and_dashboards_use_every_kind_recorded() -> None:
    # VLLM_METRIC_KINDS lists what is queried, no more: a stale entry would hide nothing, but would mislead.
    used = set().union(
        *(metric_names_in_expression(rule["expr"]) for rule in alert_rules()),
        *(metric_names_in_expression(target["expr"]) for _, _, target in panel_targets()),
    )
    declared_used = {re.sub(r"_(total|bucket|sum|count)$", "", name) for name in used if name.startswith("vllm:")}
    assert declared_used == set(VLLM_METRIC_KINDS)


@pytest.mark.parametrize(
    ("expr", "unknown"),
    [
        ("vllm:gpu_cache_usage_perc > 0.95", "vllm:gpu_cache_usage_perc"),  # V0 name, removed
        ("avg(vllm:avg_generation_throughput_toks_per_s)", "vllm:avg_generation_throughput_toks_per_s"),  # removed
        ("sum(vllm:num_requests_swapped)", "vllm:num_requests_swapped"),  # removed
        ("rate(vllm:time_per_output_token_seconds_bucket[5m])", "vllm:time_per_output_token_seconds_bucket"),
        ("rate(vllm:num_preemptions[5m])", "vllm:num_preemptions"),  # a counter is scraped as _total
        ("vllm:time_to_first_token_seconds > 1", "vllm:time_to_first_token_seconds"),  # a histogram has no bare name
        ("rate(vllm:kv_cache_usage_perc_total[5m])", "vllm:kv_cache_usage_perc_total"),  # a gauge has no _total
    ],
)
def test_removed_or_misspelt_vllm_metrics_are_caught(expr: str, unknown: str) -> None:
    assert unknown_vllm_metrics(f"sum by (model) (rate(vllm:prompt_tokens_total[5m])) + {expr}") == {unknown}
    # The same checker, over a rules file that uses the name, fails it.
    broken_rules = render_alert_rules(INVENTORY).replace(
        "vllm:num_requests_waiting) > 10", f"vllm:num_requests_waiting) > 10 or {expr}"
    )
    assert unknown in unknown_in_rules(broken_rules)


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        (
            'sum by (model, le) (rate(vllm:e2e_request_latency_seconds_bucket{model=~"$model"}[$__rate_interval]))',
            {"vllm:e2e_request_latency_seconds_bucket"},
        ),
        ("a / on (instance) group_left (model) b offset 5m", {"a", "b"}),
        ('count_values("vllm:not_a_metric", up) > bool 1e3', {"up"}),
        ('{__name__="vllm:num_requests_running", model="m"}', {"vllm:num_requests_running"}),
        ("histogram_quantile(0.95, sum(rate(x_bucket[5m])) by (le)) @ end()", {"x_bucket"}),
        ("max_over_time(vllm:kv_cache_usage_perc[1h:5m]) and inf > NaN", {"vllm:kv_cache_usage_perc"}),
    ],
)
def test_metric_names_in_expression(expr: str, names: set[str]) -> None:
    assert metric_names_in_expression(expr) == names
