"""Optional hardening of the load balancer, off by default and one key away: ``loadBalancer.waf``.

Pure: the sections only. :mod:`components.network.waf` builds the resources from them.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .base import ConfigModel

# WAF evaluates a rate-based rule over one of these windows (botocore wafv2 2019-07-29 RateBasedStatement
# EvaluationWindowSec: "60, 120, 300, and 600") and accepts a limit of 10 to 2,000,000,000 requests per window
# (shape RateLimit, min 10, max 2000000000).
RATE_WINDOWS = (60, 120, 300, 600)
RATE_LIMIT_MIN, RATE_LIMIT_MAX = 10, 2_000_000_000


class WafConfig(ConfigModel):
    """A WAFv2 web ACL on the ALB (``loadBalancer.waf``): a per-client-IP rate limit and AWS managed rules."""

    enabled: bool = False
    rate_limit: Annotated[
        int,
        Field(
            ge=RATE_LIMIT_MIN,
            le=RATE_LIMIT_MAX,
            description="Requests one client IP may send per window before WAF answers 429.",
        ),
    ] = 1000
    rate_window_seconds: Annotated[
        Literal[60, 120, 300, 600], Field(description="The window the rate limit counts over.")
    ] = 300
    managed_rules: Annotated[
        bool,
        Field(description="AWS managed rule groups: IP reputation, known bad inputs, the common rule set."),
    ] = True
