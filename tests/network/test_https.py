"""HTTPS by default (#13): the requested certificate, its validation, the alias records, and no plain-HTTP forward.

Whole-stack rule: no port-80 listener, and no rule on one, forwards to a model unless ``allowPlainHttp`` is set,
over both shipped stacks and variants of them (an existing certificate, the stack's own zone, internal, one model).
"""

from __future__ import annotations

from typing import Any

import pytest
from stack_runs import named, of_type, run_stack, stack_raw

from components.cli.offline import OfflineAws
from components.cli.program import ProgramRun, resolved
from components.network.load_balancer import TLS_POLICY

CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0123abcd-4567-89ef-0123-456789abcdef"
CERTIFICATE = "aws:acm/certificate:Certificate"
VALIDATION = "aws:acm/certificateValidation:CertificateValidation"
RECORD = "aws:route53/record:Record"
LISTENER = "aws:lb/listener:Listener"
RULE = "aws:lb/listenerRule:ListenerRule"
ZONE = "Z0123456789ABCDEFGHIJ"
OWN_ZONE = {"domain": "llm.example.com", "hostedZoneId": ZONE}
ONE_MODEL = [{"name": "qwen-7b", "id": "Qwen/Qwen2.5-7B-Instruct-AWQ", "instanceType": "g6.xlarge"}]


def test_the_shipped_prod_requests_a_certificate_for_the_domain_and_its_wildcard() -> None:
    run = run_stack("prod")
    (certificate,) = of_type(run, CERTIFICATE)
    assert certificate.inputs["domainName"] == "llm.example.com"
    # One wildcard, not one name per model: adding a model never replaces the certificate (SANs are ForceNew).
    assert certificate.inputs["subjectAlternativeNames"] == ["*.llm.example.com"]
    assert certificate.inputs["validationMethod"] == "DNS"
    # Create-before-delete on replacement: the listener moves to the new certificate before the old one goes.
    assert not certificate.options.get("deleteBeforeReplace")
    https = named(run, "endpoint-https")
    assert https.inputs["sslPolicy"] == TLS_POLICY == "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09"
    # The listener waits for issuance: its ARN comes through the validation waiter.
    assert https.options["propertyDependencies"]["certificateArn"] == ["endpoint-cert-issued"]


def test_one_validation_record_at_top_level_feeds_the_waiter() -> None:
    run = run_stack("prod")
    validation = named(run, "endpoint-cert-validation")
    # The wildcard shares the apex's validation CNAME (ACM), so there is exactly one record, registered like any
    # other resource (never inside an apply, where preview would not see it).
    assert [r.name for r in of_type(run, RECORD) if r.inputs.get("type") == "CNAME"] == [validation.name]
    assert validation.parent == "endpoint"
    assert validation.inputs["zoneId"] == "ZREPLACEWITHYOURZONEID"
    assert validation.inputs["name"] == "_offline.llm.example.com."
    (waiter,) = of_type(run, VALIDATION)
    assert waiter.inputs["validationRecordFqdns"] == ["_offline.llm.example.com"]
    assert waiter.inputs["certificateArn"].endswith(":endpoint-cert")


def test_aliases_for_the_endpoint_and_one_per_model() -> None:
    run = run_stack("prod", loadBalancer=OWN_ZONE)
    aliases = {r.name: r.inputs for r in of_type(run, RECORD) if r.inputs.get("type") == "A"}
    assert {name: inputs["name"] for name, inputs in aliases.items()} == {
        "endpoint-dns": "llm.example.com",
        "endpoint-dns-qwen-72b": "qwen-72b.llm.example.com",
        "endpoint-dns-qwen-8b": "qwen-8b.llm.example.com",
    }
    for inputs in aliases.values():
        assert inputs["zoneId"] == ZONE
        (alias,) = inputs["aliases"]
        assert alias["name"] == "endpoint-alb-0123456789.us-east-1.elb.amazonaws.com"
        assert "ttl" not in inputs and "records" not in inputs  # aliases conflict with both (pulumi_aws Record)


def test_adding_a_model_adds_one_alias_and_keeps_the_certificate() -> None:
    before = run_stack("prod", loadBalancer=OWN_ZONE)
    models = [*stack_raw("prod")[0]["models"], {**ONE_MODEL[0], "name": "qwen-extra"}]
    after = run_stack("prod", loadBalancer=OWN_ZONE, models=models)
    assert named(after, "endpoint-cert").inputs == named(before, "endpoint-cert").inputs
    added = {r.name for r in of_type(after, RECORD)} - {r.name for r in of_type(before, RECORD)}
    assert added == {"endpoint-dns-qwen-extra"}


def test_urls_name_the_domain_the_certificate_covers() -> None:
    outputs = run_stack("prod").outputs
    assert resolved(outputs["baseUrl"]) == "https://llm.example.com/v1"
    assert resolved(outputs["modelBaseUrls"])["qwen-8b"] == "https://qwen-8b.llm.example.com/v1"


def test_an_existing_certificate_still_works_and_requests_none() -> None:
    run = run_stack("prod", loadBalancer={"certificateArn": CERT})
    assert named(run, "endpoint-https").inputs["certificateArn"] == CERT
    assert not of_type(run, CERTIFICATE) and not of_type(run, RECORD)


def test_an_existing_certificate_with_a_zone_gets_aliases_but_no_new_certificate() -> None:
    run = run_stack("prod", loadBalancer={**OWN_ZONE, "certificateArn": CERT})
    assert named(run, "endpoint-https").inputs["certificateArn"] == CERT
    assert not of_type(run, CERTIFICATE)
    assert {r.inputs["type"] for r in of_type(run, RECORD)} == {"A"}


def test_a_domain_outside_the_zone_is_rejected_at_the_lookup() -> None:
    aws = OfflineAws(hosted_zones={ZONE: "other.example.org."})
    with pytest.raises(Exception, match=r"vllm-aws:loadBalancer.domain: is not in the hosted zone") as error:
        run_stack("prod", aws=aws, loadBalancer=OWN_ZONE)
    assert "use a name under other.example.org" in str(error.value)


def test_a_domain_in_the_zone_passes_the_lookup() -> None:
    for zone_name in ("example.com.", "llm.example.com."):
        run = run_stack("prod", aws=OfflineAws(hosted_zones={ZONE: zone_name}), loadBalancer=OWN_ZONE)
        assert named(run, "endpoint-cert")


# --- the whole-stack rule -------------------------------------------------------------------------------------------


def _plain_http_forwards(run: ProgramRun) -> list[str]:
    """Listeners on HTTP that forward, and rules on such a listener (every rule forwards to a model)."""
    http = {r.name: r for r in of_type(run, LISTENER) if r.inputs["protocol"] == "HTTP"}
    found = [
        name
        for name, listener in http.items()
        if any(action["type"] == "forward" for action in listener.inputs["defaultActions"])
    ]
    found += [
        rule.name for rule in of_type(run, RULE) if any(rule.inputs["listenerArn"].endswith(f":{n}") for n in http)
    ]
    return found


VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "dev": ("dev", {}),
    "prod": ("prod", {}),
    "prod-existing-certificate": ("prod", {"loadBalancer": {"certificateArn": CERT}}),
    "prod-certificate-and-zone": ("prod", {"loadBalancer": {**OWN_ZONE, "certificateArn": CERT}}),
    "prod-internal-https": ("prod", {"loadBalancer": {**OWN_ZONE, "internal": True}}),
    "prod-plain-http": ("prod", {"loadBalancer": {"allowPlainHttp": True, "domain": "llm.example.com"}}),
    "dev-one-model-own-zone": ("dev", {"loadBalancer": OWN_ZONE, "models": ONE_MODEL}),
}


@pytest.mark.parametrize("variant", VARIANTS, ids=list(VARIANTS))
def test_no_listener_forwards_over_plain_http_unless_allowed(variant: str) -> None:
    stack, overrides = VARIANTS[variant]
    run = run_stack(stack, **overrides)
    raw = {**stack_raw(stack)[0], **overrides}
    allowed = bool(raw.get("loadBalancer", {}).get("allowPlainHttp"))
    forwards = _plain_http_forwards(run)
    if allowed:
        assert forwards, "the rule must see plain-HTTP forwarding where it is allowed, or it proves nothing"
    else:
        assert forwards == []
        assert of_type(run, LISTENER) and any(r.inputs["protocol"] == "HTTPS" for r in of_type(run, LISTENER))
