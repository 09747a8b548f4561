"""ALB routing between models, as pure data: which requests reach which model, in which priority.

The OpenAI ``model`` field is in the request body, which an ALB cannot route on. Every model therefore gets
routes a stock OpenAI client can use as ``base_url``:

- ``https://<alb>/<name>/v1`` — path prefix, rewritten to ``/v1/...`` before it reaches vLLM;
- ``https://<name>.<domain>/v1`` — host header, when ``loadBalancer.domain`` is set (DNS is yours);
- ``https://<alb>/v1`` — the first model, also the default.

Only ``/v1/*`` and ``/health`` are forwarded (vLLM's API key protects ``/v1/*`` only; ``/metrics``,
``/invocations``, ``/tokenize``, ``/pause`` ... must stay internal). Everything else gets a fixed 404.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

FORWARDED_PATHS = ("/v1/*", "/health")
NOT_FOUND_BODY = '{"error": {"message": "not found", "type": "not_found"}}'
# Priorities leave room between kinds so a model added later never renumbers the others' rules.
PREFIX_PRIORITY_BASE = 100
HOST_PRIORITY_BASE = 10_000
DEFAULT_PRIORITY = 40_000
HEALTH_CHECK_PATH = "/health"


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
    # `(`), so it says in words what the conditions say in patterns (components.aws_tags).
    description: str = field(default="", compare=False)


def model_routes(name: str, index: int, domain: str | None, default: bool) -> list[Route]:
    """One model's listener rules; ``index`` is its position among the listener's models (priorities)."""
    table = [
        Route(
            key="prefix",
            priority=PREFIX_PRIORITY_BASE + index,
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
                priority=HOST_PRIORITY_BASE + index,
                model=name,
                paths=FORWARDED_PATHS,
                host=f"{name}.{domain}",
                description=f"{name}.{domain} /v1/ and /health to {name}",
            )
        )
    if default:
        table.append(
            Route(
                key="default",
                priority=DEFAULT_PRIORITY,
                model=name,
                paths=FORWARDED_PATHS,
                description=f"/v1/ and /health to the default model {name}",
            )
        )
    return table


def routes(models: Sequence[str], domain: str | None) -> list[Route]:
    """Every model's rules on one listener, in config order; the first model is also the default route."""
    return [
        route for index, name in enumerate(models) for route in model_routes(name, index, domain, default=index == 0)
    ]


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
