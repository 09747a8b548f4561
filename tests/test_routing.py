"""Pure routing table: every model reachable by a stock OpenAI client, nothing but /v1/* and /health."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from components import aws_tags, examples, routing

NAMES = st.lists(st.from_regex(r"[a-z][a-z0-9-]{0,10}[a-z0-9]", fullmatch=True), min_size=1, max_size=8, unique=True)


@given(models=NAMES, with_domain=st.booleans())
def test_priorities_are_unique_and_prefix_rules_win_over_the_default(models: list[str], with_domain: bool) -> None:
    table = routing.routes(models, "llm.example.com" if with_domain else None)
    priorities = [r.priority for r in table]
    assert len(set(priorities)) == len(priorities)
    assert all(1 <= p <= 50_000 for p in priorities)  # the ALB's priority range
    default = next(r for r in table if r.key == "default")
    assert [r.key for r in table].count("default") == 1
    assert default.model == models[0]
    assert all(r.priority < default.priority for r in table if r.key != "default")


@given(models=NAMES)
def test_only_v1_and_health_paths_are_ever_forwarded(models: list[str]) -> None:
    for route in routing.routes(models, "llm.example.com"):
        for path in route.paths:
            assert path.endswith("/v1/*") or path.endswith("/health")


@given(models=NAMES)
def test_the_prefix_rewrite_turns_a_model_route_into_vllms_own_path(models: list[str]) -> None:
    for route in routing.routes(models, None):
        if route.rewrite is None:
            continue
        regex, replacement = route.rewrite
        python_replacement = replacement.replace("$1", r"\1")
        assert re.sub(regex, python_replacement, f"/{route.model}/v1/chat/completions") == "/v1/chat/completions"
        assert re.sub(regex, python_replacement, f"/{route.model}/health") == "/health"


@given(models=NAMES, with_domain=st.booleans())
def test_every_rule_description_is_a_tag_value_elbv2_accepts(models: list[str], with_domain: bool) -> None:
    # #10 item 3: the Name tag "/m/v1/* -> m (prefix removed)" failed CreateRule after the GPU hosts existed.
    for route in routing.routes(models, "llm.example.com" if with_domain else None):
        assert route.description
        assert aws_tags.value_problem(route.description) is None, route.description


def test_base_urls_use_host_routes_when_a_domain_is_set() -> None:
    assert examples.model_base_urls("https", "alb.example", ["a", "b"], None) == {
        "a": "https://alb.example/a/v1",
        "b": "https://alb.example/b/v1",
    }
    assert examples.model_base_urls("https", "alb.example", ["a"], "llm.example.com") == {
        "a": "https://a.llm.example.com/v1"
    }


def test_health_check_relaxes_for_slow_starting_models_within_alb_limits() -> None:
    fast, slow = routing.health_check(60), routing.health_check(1200)
    assert fast.interval_seconds < slow.interval_seconds <= 300
    for check in (fast, slow):
        assert 2 <= check.timeout_seconds < check.interval_seconds
        assert 2 <= check.healthy_threshold <= 10 and 2 <= check.unhealthy_threshold <= 10


def test_deregistration_delay_follows_the_idle_timeout_within_alb_limits() -> None:
    assert routing.deregistration_delay_seconds(600) == 600
    assert routing.deregistration_delay_seconds(4000) == 3600
    assert routing.deregistration_delay_seconds(5) == 30
