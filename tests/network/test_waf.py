"""loadBalancer.waf (#13): off by default; one key turns on a web ACL with a per-IP rate limit and managed rules."""

from __future__ import annotations

import json

from stack_runs import named, of_type, run_stack

from components.network import waf

WEB_ACL = "aws:wafv2/webAcl:WebAcl"
ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"
HTTPS = {"domain": "llm.example.com", "hostedZoneId": "Z0123456789ABCDEFGHIJ"}


def test_off_by_default() -> None:
    for stack in ("dev", "prod"):
        run = run_stack(stack)
        assert not of_type(run, WEB_ACL) and not of_type(run, ASSOCIATION)


def test_one_key_adds_a_regional_web_acl_on_the_load_balancer() -> None:
    run = run_stack("prod", loadBalancer={**HTTPS, "waf": {"enabled": True}})
    acl = named(run, "endpoint-waf")
    assert acl.parent == "endpoint"
    assert acl.inputs["scope"] == "REGIONAL"  # an ALB's web ACL; CLOUDFRONT is for distributions
    assert acl.inputs["defaultAction"] == {"allow": {}}
    association = named(run, "endpoint-waf-association")
    assert association.inputs["resourceArn"].endswith(":endpoint-alb")
    assert association.inputs["webAclArn"].endswith(":endpoint-waf")


def test_rate_limit_per_source_ip_answers_429_in_openai_shape() -> None:
    run = run_stack("prod", loadBalancer={**HTTPS, "waf": {"enabled": True, "rateLimit": 300, "rateWindowSeconds": 60}})
    acl = named(run, "endpoint-waf").inputs
    rate = acl["rules"][0]
    assert rate["name"] == "rate-limit-per-ip" and rate["priority"] == 0
    # Source IP, never X-Forwarded-For: the ALB is the first hop and a client can write that header itself.
    assert rate["statement"]["rateBasedStatement"] == {
        "limit": 300,
        "aggregateKeyType": "IP",
        "evaluationWindowSec": 60,
    }
    response = rate["action"]["block"]["customResponse"]
    assert response["responseCode"] == 429
    (body,) = [b for b in acl["customResponseBodies"] if b["key"] == response["customResponseBodyKey"]]
    assert body["contentType"] == "APPLICATION_JSON"
    assert json.loads(body["content"])["error"]["type"] == "rate_limit_exceeded"


def test_managed_groups_keep_their_actions_but_the_body_rules_only_count() -> None:
    acl = named(run_stack("prod", loadBalancer={**HTTPS, "waf": {"enabled": True}}), "endpoint-waf").inputs
    groups = {r["name"]: r for r in acl["rules"][1:]}
    assert [g["statement"]["managedRuleGroupStatement"]["name"] for g in groups.values()] == [
        "AWSManagedRulesAmazonIpReputationList",
        "AWSManagedRulesKnownBadInputsRuleSet",
        "AWSManagedRulesCommonRuleSet",
    ]
    for group in groups.values():
        assert group["overrideAction"] == {"none": {}} and "action" not in group
    common = groups["aws-common"]["statement"]["managedRuleGroupStatement"]
    counted = {o["name"]: o["actionToUse"] for o in common["ruleActionOverrides"]}
    # A prompt over 8 KB, or one quoting HTML, a ../ path or an IP URL, is an ordinary request here.
    assert counted == {rule: {"count": {}} for rule in waf.COUNTED_RULES}
    assert "SizeRestrictions_BODY" in counted
    assert len({r["priority"] for r in acl["rules"]}) == len(acl["rules"])
    for rule in acl["rules"]:
        assert rule["visibilityConfig"]["cloudwatchMetricsEnabled"] is True


def test_managed_rules_can_be_left_out() -> None:
    run = run_stack("prod", loadBalancer={**HTTPS, "waf": {"enabled": True, "managedRules": False}})
    assert [r["name"] for r in named(run, "endpoint-waf").inputs["rules"]] == ["rate-limit-per-ip"]
