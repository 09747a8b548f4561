"""ALB routing between models, as pure data: which requests reach which model, in which priority.

The OpenAI ``model`` field is in the request body, which an ALB cannot route on. Every model therefore gets
routes a stock OpenAI client can use as ``base_url``:

- ``https://<alb>/<name>/v1`` — path prefix, rewritten to ``/v1/...`` before it reaches vLLM;
- ``https://<name>.<domain>/v1`` — host header, when ``loadBalancer.domain`` is set (DNS is yours);
- ``https://<alb>/v1`` — the default model (the stack's first), through one rule of the listener's own.

Only ``/v1/*`` and ``/health`` are forwarded (vLLM's API key protects ``/v1/*`` only; ``/metrics``,
``/invocations``, ``/tokenize``, ``/pause`` ... must stay internal). Everything else gets a fixed 404.

Rule priorities are a day-2 contract. ALB allows one rule per priority on a listener (CreateRule and
SetRulePriorities fail with ``PriorityInUse``, botocore elbv2 2015-12-01), and Pulumi creates a new rule
before it deletes an old one (pulumi/pulumi pkg/resource/deploy: creates run as the program registers
resources, deletes only after it ends, step_generator.go GenerateDeletes, deployment_executor.go
performPostSteps). So a priority must never follow a model's list position (removing or
reordering a model would move a rule onto a priority its neighbour still holds); it follows the model's
name instead, in ranges that never overlap:

- ``STACK_PRIORITIES``: the path rules of the listener owner's models (derived from the name, or pinned
  with ``loadBalancer.rulePriorities``);
- ``ATTACHED_PRIORITIES``: the path rules of models that other stacks attach to the listener
  (``ExistingEndpoint``, examples/extra-model, the component provider), so they never meet the owner's;
- a model's host rule sits ``HOST_RULE_OFFSET`` above its path rule;
- ``DEFAULT_PRIORITY``: the one ``/v1/*`` rule, after every forward rule (only host rules overlap with it, and
  they must win);
- loading rules (:func:`loading_route`), one behind each forward rule, in ``LOADING_PRIORITIES``: the same
  conditions, a fixed 503 JSON "model loading". The forward rule is created only once the model's first replica
  is healthy (network.model_endpoint); until then the loading rule answers, never a loading server or an empty
  target group (whose 503 is the ALB's own HTML page). Afterwards the forward rule, higher in priority, shadows
  it. A host rule's loading rule must still come before the default rule (else the default model would answer
  for a host whose rule is not there yet), and the default rule's own loading rule is the listener's last.

Model rules never overlap each other (``/<a>/v1/*`` and ``/<b>/v1/*`` are disjoint, as are host names), so
among them priorities need only be distinct, not ordered.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

FORWARDED_PATHS = ("/v1/*", "/health")
NOT_FOUND_BODY = '{"error": {"message": "not found", "type": "not_found"}}'
HEALTH_CHECK_PATH = "/health"
HTTP_PORT = 80
HTTPS_PORT = 443
# ALB rule priorities are 1-50000 (botocore elbv2 2015-12-01 shape RulePriority).
STACK_PRIORITIES = range(1, 10_001)
ATTACHED_PRIORITIES = range(10_001, 20_001)
HOST_RULE_OFFSET = 25_000
# The highest path-rule priority: host rules then end at 45000, below the loading rules.
MAX_PATH_PRIORITY = ATTACHED_PRIORITIES.stop - 1
# Four ranges of loading rules (path/host rules of the owner's/attached models), each LOADING_SLOTS long, from
# 45001: a path priority p takes slot (p - start of its range) % LOADING_SLOTS. Two of the owner's models whose
# priorities share a slot clash like equal priorities do (checked with the config).
LOADING_SLOTS = 1_249
LOADING_PRIORITIES = range(
    MAX_PATH_PRIORITY + HOST_RULE_OFFSET + 1, MAX_PATH_PRIORITY + HOST_RULE_OFFSET + 1 + 4 * LOADING_SLOTS
)
DEFAULT_PRIORITY = LOADING_PRIORITIES.stop  # 49997: after every host loading rule
DEFAULT_LOADING_PRIORITY = DEFAULT_PRIORITY + 1
# ALB fixed responses: MessageBody at most 1024 characters (botocore elbv2 2015-12-01 shape
# FixedResponseActionMessage); ContentType one of text/plain, text/css, text/html, application/javascript,
# application/json (FixedResponseActionConfig.ContentType); StatusCode 2XX, 4XX or 5XX.
FIXED_RESPONSE_BODY_MAX = 1024
LOADING_STATUS = "503"


@dataclass(frozen=True)
class Route:
    """One listener rule: conditions, the model it forwards to, and an optional path rewrite."""

    key: str  # stable part of the rule's logical name
    priority: int
    model: str
    paths: tuple[str, ...]
    host: str | None = None
    rewrite: tuple[str, str] | None = None  # (regex, replacement) of an ALB url-rewrite transform
    # The rule's Name tag: ELBv2 tag values allow letters, digits, spaces and _ . : / = + - @ only (no `*`, `>`,
    # `(`), so it says in words what the conditions say in patterns (components.config.aws_tags).
    description: str = field(default="", compare=False)


def derived_priority(name: str, attached: bool = False) -> int:
    """The path-rule priority a model gets from its name alone: in ``STACK_PRIORITIES``, or ``ATTACHED_PRIORITIES``.

    The same name gives the same priority on every run and machine (SHA-256, not Python's salted ``hash``).
    Changing this function would move every rule at once: treat it as part of the contract.
    """
    space = ATTACHED_PRIORITIES if attached else STACK_PRIORITIES
    digest = hashlib.sha256(name.encode()).digest()
    return space.start + int.from_bytes(digest[:8], "big") % len(space)


def loading_slot(priority: int, host: bool = False) -> int:
    """The priority of the loading rule behind the path rule at ``priority`` (or behind its host rule)."""
    attached = priority in ATTACHED_PRIORITIES
    space = ATTACHED_PRIORITIES if attached else STACK_PRIORITIES
    block = (2 if host else 0) + (1 if attached else 0)
    return LOADING_PRIORITIES.start + block * LOADING_SLOTS + (priority - space.start) % LOADING_SLOTS


def loading_body(model: str) -> str:
    """The 503's JSON, in the OpenAI error shape clients already parse."""
    body = json.dumps(
        {
            "error": {
                "message": f"model loading: {model} has no ready replica yet; retry in a minute",
                "type": "service_unavailable",
                "code": 503,
            }
        }
    )
    if len(body) > FIXED_RESPONSE_BODY_MAX:
        raise ValueError(f"the loading body of {model!r} is {len(body)} characters; an ALB allows 1024")
    return body


def loading_route(route: Route) -> Route:
    """The fixed-503 rule behind ``route``: same conditions, a loading-range priority (module docstring)."""
    if route.key == "default":
        priority = DEFAULT_LOADING_PRIORITY
    else:
        path_priority = route.priority - HOST_RULE_OFFSET if route.host else route.priority
        priority = loading_slot(path_priority, host=route.host is not None)
    return Route(
        key=f"{route.key}-loading",
        priority=priority,
        model=route.model,
        paths=route.paths,
        host=route.host,
        description=f"model loading answer for {route.description}",
    )


def stack_priorities(models: Sequence[str], pinned: Mapping[str, int]) -> dict[str, int]:
    """Path-rule priority of each of the listener owner's models: pinned, else derived from the name."""
    return {name: pinned.get(name, derived_priority(name)) for name in models}


def priority_clashes(priorities: Mapping[str, int]) -> list[tuple[str, str]]:
    """``(holder, other)`` for each model whose priority, or loading slot, an earlier model (in the mapping's order)
    holds."""
    holders: dict[int, str] = {}
    clashes: list[tuple[str, str]] = []
    for name, priority in priorities.items():
        taken = [number for number in (priority, loading_slot(priority)) if number in holders]
        if taken:
            clashes.append((holders[taken[0]], name))
        else:
            holders[priority] = holders[loading_slot(priority)] = name
    return clashes


def free_priority(taken: Collection[int], near: int, space: range = STACK_PRIORITIES) -> int:
    """The first priority at or after ``near`` (wrapping within ``space``) that is not taken, nor is its loading
    slot (the slot of a taken priority)."""
    slots = {loading_slot(priority) for priority in taken}
    for offset in range(len(space)):
        candidate = space.start + (near - space.start + offset) % len(space)
        if candidate not in taken and loading_slot(candidate) not in slots:
            return candidate
    raise ValueError(f"every priority in {space.start}-{space.stop - 1} is taken")


def model_routes(name: str, priority: int, domain: str | None) -> list[Route]:
    """One model's own listener rules: its path prefix at ``priority`` and, with a domain, its host name."""
    table = [
        Route(
            key="prefix",
            priority=priority,
            model=name,
            paths=(f"/{name}/v1/*", f"/{name}/health"),
            rewrite=(f"^/{re.escape(name)}(/.*)$", "$1"),
            description=f"/{name}/v1/ and /{name}/health to {name} without the prefix",
        )
    ]
    if domain:
        table.append(
            Route(
                key="host",
                priority=priority + HOST_RULE_OFFSET,
                model=name,
                paths=FORWARDED_PATHS,
                host=f"{name}.{domain}",
                description=f"{name}.{domain} /v1/ and /health to {name}",
            )
        )
    return table


def default_route(name: str) -> Route:
    """The listener's plain ``/v1/*``: one rule whichever model it serves, so a new default is an in-place change."""
    return Route(
        key="default",
        priority=DEFAULT_PRIORITY,
        model=name,
        paths=FORWARDED_PATHS,
        description=f"/v1/ and /health to the default model {name}",
    )


def routes(priorities: Mapping[str, int], domain: str | None, default_model: str) -> list[Route]:
    """Every rule on the owner's listener: each model's own rules, then the default route."""
    table = [route for name, priority in priorities.items() for route in model_routes(name, priority, domain)]
    return [*table, default_route(default_model)]


@dataclass(frozen=True)
class HealthCheck:
    interval_seconds: int
    timeout_seconds: int
    healthy_threshold: int
    unhealthy_threshold: int


def health_check(cold_start_seconds: float) -> HealthCheck:
    """ALB health check of a model's targets.

    Instance targets get no grace period on an ALB, so the check is not what waits out a cold start: a
    starting replica is simply unhealthy (no traffic) until vLLM answers /health. What the cold start sets
    is how eagerly a target is declared dead: a replica that takes ten minutes to come back is not worth
    flapping over, so slow-starting models get a longer interval, within the ALB's 5-300 s range.
    """
    interval = 15 if cold_start_seconds < 600 else 30
    return HealthCheck(
        interval_seconds=interval,
        timeout_seconds=min(10, interval - 1),
        healthy_threshold=2,
        unhealthy_threshold=3,
    )


def deregistration_delay_seconds(idle_timeout_seconds: int) -> int:
    """Long enough for a generation that holds a connection up to the idle timeout (ALB maximum 3600 s)."""
    return min(3600, max(30, math.ceil(idle_timeout_seconds)))
