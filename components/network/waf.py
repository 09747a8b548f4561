"""A WAFv2 web ACL on the ALB: a rate limit per client IP, then AWS managed rule groups (``loadBalancer.waf``).

Rules, in priority order:

1. ``rate-limit-per-ip``: a client IP over ``rateLimit`` requests per ``rateWindowSeconds`` gets 429 with an
   OpenAI-shaped JSON error. Aggregated on the source IP, not ``X-Forwarded-For``, which clients can forge
   (the ALB is the first hop).
2. ``aws-ip-reputation`` (``AWSManagedRulesAmazonIpReputationList``): sources AWS threat intelligence lists.
3. ``aws-known-bad-inputs`` (``AWSManagedRulesKnownBadInputsRuleSet``): Log4j, Java deserialization, ... probes.
4. ``aws-common`` (``AWSManagedRulesCommonRuleSet``), with the body rules in **count** mode (:data:`COUNTED_RULES`).

Why count for the body rules: an OpenAI request *is* a body, and a prompt is arbitrary text.
``SizeRestrictions_BODY`` blocks every body over 8 KB (the CRS table in the AWS WAF guide,
aws-managed-rule-groups-baseline.html), a prompt of a few thousand tokens; ALB body inspection is fixed at 8 KB
(botocore wafv2 AssociationConfig: "For Application Load Balancer and AppSync, the limit is fixed at 8 KB").
``CrossSiteScripting_BODY``, ``GenericLFI_BODY``, ``GenericRFI_BODY`` and ``EC2MetaDataSSRF_BODY`` match
HTML and script tags, ``../`` paths, URLs with IP hosts and ``169.254.169.254`` in the body: what a prompt about
code or infrastructure routinely contains. Counted, they still show in the metrics and sampled requests; the
API key, not the body filter, is what protects ``/v1``. The other CRS rules (user agent, query string, URI path,
cookies) look where an OpenAI client puts nothing unusual, and block.
"""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from .._naming import child_name
from ..config.hardening import WafConfig

MANAGED_GROUPS = (
    ("aws-ip-reputation", "AWSManagedRulesAmazonIpReputationList"),
    ("aws-known-bad-inputs", "AWSManagedRulesKnownBadInputsRuleSet"),
    ("aws-common", "AWSManagedRulesCommonRuleSet"),
)
COUNTED_RULES = (
    "SizeRestrictions_BODY",
    "CrossSiteScripting_BODY",
    "GenericLFI_BODY",
    "GenericRFI_BODY",
    "EC2MetaDataSSRF_BODY",
)
RATE_LIMITED_BODY_KEY = "rate_limited"
RATE_LIMITED_BODY = json.dumps(
    {"error": {"message": "rate limit exceeded for this client", "type": "rate_limit_exceeded", "code": 429}}
)


def _visibility(metric: str) -> aws.wafv2.WebAclRuleVisibilityConfigArgs:
    return aws.wafv2.WebAclRuleVisibilityConfigArgs(
        cloudwatch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=True
    )


def _rate_rule(config: WafConfig) -> aws.wafv2.WebAclRuleArgs:
    return aws.wafv2.WebAclRuleArgs(
        name="rate-limit-per-ip",
        priority=0,
        statement=aws.wafv2.WebAclRuleStatementArgs(
            rate_based_statement=aws.wafv2.WebAclRuleStatementRateBasedStatementArgs(
                limit=config.rate_limit,
                aggregate_key_type="IP",
                evaluation_window_sec=config.rate_window_seconds,
            )
        ),
        action=aws.wafv2.WebAclRuleActionArgs(
            block=aws.wafv2.WebAclRuleActionBlockArgs(
                custom_response=aws.wafv2.WebAclRuleActionBlockCustomResponseArgs(
                    response_code=429, custom_response_body_key=RATE_LIMITED_BODY_KEY
                )
            )
        ),
        visibility_config=_visibility("rate-limit-per-ip"),
    )


def _managed_rule(priority: int, rule_name: str, group: str) -> aws.wafv2.WebAclRuleArgs:
    counted = COUNTED_RULES if group == "AWSManagedRulesCommonRuleSet" else ()
    count = aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideActionToUseArgs(
        count=aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideActionToUseCountArgs()
    )
    return aws.wafv2.WebAclRuleArgs(
        name=rule_name,
        priority=priority,
        statement=aws.wafv2.WebAclRuleStatementArgs(
            managed_rule_group_statement=aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementArgs(
                name=group,
                vendor_name="AWS",
                rule_action_overrides=[
                    aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideArgs(
                        name=rule, action_to_use=count
                    )
                    for rule in counted
                ]
                or None,
            )
        ),
        # A rule group takes override_action, not action: `none` keeps the group's own actions. (pulumi_aws
        # declares this empty Args class's __init__ without annotations.)
        override_action=aws.wafv2.WebAclRuleOverrideActionArgs(
            none=aws.wafv2.WebAclRuleOverrideActionNoneArgs()  # type: ignore[no-untyped-call]
        ),
        visibility_config=_visibility(rule_name),
    )


def rules(config: WafConfig) -> list[aws.wafv2.WebAclRuleArgs]:
    """The web ACL's rules for ``config``, in evaluation order."""
    managed = MANAGED_GROUPS if config.managed_rules else ()
    return [
        _rate_rule(config),
        *(_managed_rule(index + 1, name, group) for index, (name, group) in enumerate(managed)),
    ]


def web_acl(
    name: str, config: WafConfig, load_balancer: aws.lb.LoadBalancer, tags: dict[str, str], opts: pulumi.ResourceOptions
) -> aws.wafv2.WebAcl:
    """The web ACL (scope ``REGIONAL``, as an ALB needs) and its association with ``load_balancer``."""
    acl_name = child_name(name, "waf")
    acl = aws.wafv2.WebAcl(
        acl_name,
        scope="REGIONAL",
        description=f"vllm-aws load balancer {name}: rate limit per client IP and AWS managed rules",
        default_action=aws.wafv2.WebAclDefaultActionArgs(allow=aws.wafv2.WebAclDefaultActionAllowArgs()),
        rules=rules(config),
        custom_response_bodies=[
            aws.wafv2.WebAclCustomResponseBodyArgs(
                key=RATE_LIMITED_BODY_KEY, content=RATE_LIMITED_BODY, content_type="APPLICATION_JSON"
            )
        ],
        visibility_config=aws.wafv2.WebAclVisibilityConfigArgs(
            cloudwatch_metrics_enabled=True, metric_name=acl_name, sampled_requests_enabled=True
        ),
        tags=tags,
        opts=opts,
    )
    aws.wafv2.WebAclAssociation(
        child_name(name, "waf-association"), resource_arn=load_balancer.arn, web_acl_arn=acl.arn, opts=opts
    )
    return acl
