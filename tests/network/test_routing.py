"""Pure routing table: every model reachable by a stock OpenAI client, nothing but /v1/* and /health."""

from __future__ import annotations

import json
import re

from hypothesis import assume, given
from hypothesis import strategies as st

from components.config import aws_tags
from components.network import client_snippets as examples
from components.network import routing

NAMES = st.lists(st.from_regex(r"[a-z][a-z0-9-]{0,10}[a-z0-9]", fullmatch=True), min_size=1, max_size=8, unique=True)


@given(models=NAMES, with_domain=st.booleans())
def test_priorities_are_unique_and_the_default_rule_comes_last(models: list[str], with_domain: bool) -> None:
    priorities = routing.stack_priorities(models, {})
    assume(not routing.priority_clashes(priorities))
    table = routing.routes(priorities, "llm.example.com" if with_domain else None, models[0])
    numbers = [r.priority for r in table]
    assert len(set(numbers)) == len(numbers)
    assert all(1 <= p <= 50_000 for p in numbers)  # the ALB's range (botocore elbv2 shape RulePriority)
    (default,) = [r for r in table if r.key == "default"]
    assert default.model == models[0]
    # Host rules share /v1/* with the default rule, so they must come first; path rules never overlap it.
    assert all(r.priority < default.priority for r in table if r.key != "default")


@given(models=NAMES, data=st.data())
def test_a_models_priority_follows_its_name_not_its_position(models: list[str], data: st.DataObject) -> None:
    """Removing, adding or reordering models leaves every other model's priorities where they were."""
    order = data.draw(st.permutations(models))
    others = order[: data.draw(st.integers(0, len(models)))]
    full, partial = routing.stack_priorities(models, {}), routing.stack_priorities(others, {})
    assert all(partial[name] == full[name] for name in others)


@given(name=st.from_regex(r"[a-z][a-z0-9-]{0,22}[a-z0-9]", fullmatch=True), domain=st.booleans())
def test_attached_models_never_meet_the_owners_priorities(name: str, domain: bool) -> None:
    """Another stack's model can never clash with the listener owner's, whatever either side changes later."""
    own = routing.model_routes(name, routing.derived_priority(name), "d.example" if domain else None)
    attached = routing.model_routes(
        name, routing.derived_priority(name, attached=True), "d.example" if domain else None
    )
    assert own[0].priority in routing.STACK_PRIORITIES
    assert attached[0].priority in routing.ATTACHED_PRIORITIES
    path_ranges = set(routing.STACK_PRIORITIES) | set(routing.ATTACHED_PRIORITIES)
    for route in own + attached:
        if route.key == "host":
            assert route.priority not in path_ranges and route.priority < routing.DEFAULT_PRIORITY


def test_derived_priorities_are_a_contract() -> None:
    """Changing the derivation would move every deployed rule at once (moves that can race: PriorityInUse)."""
    assert routing.derived_priority("qwen-8b") == 8783
    assert routing.derived_priority("qwen-72b") == 5108
    assert routing.derived_priority("qwen-7b", attached=True) == 18154


def test_clashing_names_are_reported_with_a_free_priority_nearby() -> None:
    priorities = routing.stack_priorities(["qwen-7b", "model-45", "model-74"], {})
    assert routing.priority_clashes(priorities) == [("model-45", "model-74")]
    assert priorities["model-74"] == 490
    assert routing.free_priority(set(priorities.values()), 490) == 491
    assert routing.free_priority({10_000}, 10_000) == 1  # wraps within the owner's range
    pinned = routing.stack_priorities(["model-45", "model-74"], {"model-74": 491})
    assert not routing.priority_clashes(pinned)


@given(models=NAMES)
def test_only_v1_and_health_paths_are_ever_forwarded(models: list[str]) -> None:
    for route in routing.routes(routing.stack_priorities(models, {}), "llm.example.com", models[0]):
        for path in route.paths:
            assert path.endswith("/v1/*") or path.endswith("/health")


@given(models=NAMES)
def test_the_prefix_rewrite_turns_a_model_route_into_vllms_own_path(models: list[str]) -> None:
    for route in routing.routes(routing.stack_priorities(models, {}), None, models[0]):
        if route.rewrite is None:
            continue
        regex, replacement = route.rewrite
        python_replacement = replacement.replace("$1", r"\1")
        assert re.sub(regex, python_replacement, f"/{route.model}/v1/chat/completions") == "/v1/chat/completions"
        assert re.sub(regex, python_replacement, f"/{route.model}/health") == "/health"


@given(models=NAMES, with_domain=st.booleans())
def test_every_rule_description_is_a_tag_value_elbv2_accepts(models: list[str], with_domain: bool) -> None:
    # #10 item 3: the Name tag "/m/v1/* -> m (prefix removed)" failed CreateRule after the GPU hosts existed.
    domain = "llm.example.com" if with_domain else None
    for route in routing.routes(routing.stack_priorities(models, {}), domain, models[0]):
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


# --- first deploy: a loading rule behind every route (#14) -------------------------------------------------------


def test_loading_rules_have_their_own_ranges_and_every_host_loading_rule_precedes_the_default() -> None:
    forward = [*routing.STACK_PRIORITIES, *routing.ATTACHED_PRIORITIES]
    hosts = [p + routing.HOST_RULE_OFFSET for p in forward]
    path_loading = {routing.loading_slot(p) for p in forward}
    host_loading = {routing.loading_slot(p, host=True) for p in forward}
    assert path_loading.isdisjoint(host_loading)
    everything_else = {*forward, *hosts, routing.DEFAULT_PRIORITY, routing.DEFAULT_LOADING_PRIORITY}
    assert (path_loading | host_loading).isdisjoint(everything_else)
    assert path_loading | host_loading <= set(routing.LOADING_PRIORITIES)
    # A host's loading rule shares /v1/* with the default rule: it must win, or the default model would answer for
    # a host whose own rule does not exist yet. Each loading rule comes after its own forward rule.
    assert max(hosts) < min(routing.LOADING_PRIORITIES) and max(host_loading) < routing.DEFAULT_PRIORITY
    assert routing.DEFAULT_PRIORITY < routing.DEFAULT_LOADING_PRIORITY <= 50_000  # botocore elbv2 RulePriority
    # The owner's and attached models' loading rules never meet either.
    stack = {routing.loading_slot(p) for p in routing.STACK_PRIORITIES}
    assert stack.isdisjoint({routing.loading_slot(p) for p in routing.ATTACHED_PRIORITIES})


@given(models=NAMES, with_domain=st.booleans())
def test_loading_routes_keep_the_conditions_and_come_after_their_route(models: list[str], with_domain: bool) -> None:
    priorities = routing.stack_priorities(models, {})
    assume(not routing.priority_clashes(priorities))
    table = routing.routes(priorities, "llm.example.com" if with_domain else None, models[0])
    loading = [routing.loading_route(route) for route in table]
    numbers = [r.priority for r in table + loading]
    assert len(set(numbers)) == len(numbers)
    for route, behind in zip(table, loading, strict=True):
        assert (behind.paths, behind.host, behind.rewrite) == (route.paths, route.host, None)
        assert behind.priority > route.priority and behind.key == f"{route.key}-loading"
    assert max(numbers) == routing.DEFAULT_LOADING_PRIORITY


def test_two_models_sharing_a_loading_slot_clash_and_the_fix_avoids_it() -> None:
    priorities = {"a": 7, "b": 7 + routing.LOADING_SLOTS}
    assert routing.loading_slot(7) == routing.loading_slot(7 + routing.LOADING_SLOTS)
    assert routing.priority_clashes(priorities) == [("a", "b")]
    free = routing.free_priority(set(priorities.values()) - {priorities["b"]}, priorities["b"])
    assert not routing.priority_clashes({"a": 7, "b": free})


def test_the_loading_body_is_json_an_alb_accepts() -> None:
    body = routing.loading_body("a" * 21)  # the longest model name (a target group name's limit)
    assert len(body) <= routing.FIXED_RESPONSE_BODY_MAX  # botocore elbv2 FixedResponseActionMessage max 1024
    error = json.loads(body)["error"]
    assert error["type"] == "service_unavailable" and error["message"].startswith("model loading")
    assert re.fullmatch(r"(2|4|5)\d\d", routing.LOADING_STATUS)  # FixedResponseActionStatusCode pattern
