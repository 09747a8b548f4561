"""Host IAM documents: least privilege, checked by parliament (identity policies) and by exact shape."""

from __future__ import annotations

import json

from parliament import analyze_policy_string

from components.host import iam

ARNS = [
    "arn:aws:ssm:us-east-1:123456789012:parameter/vllm-aws/prod/hf-token",
    "arn:aws:ssm:us-east-1:123456789012:parameter/vllm-aws/prod/api-key",
]
SEVERITY_ORDER = ["LOW", "MEDIUM", "HIGH", "CRITICAL"]


def test_read_parameters_policy_has_no_parliament_findings_above_low() -> None:
    findings = analyze_policy_string(iam.read_parameters_policy(ARNS)).findings
    above_low = [(f.issue, f.severity) for f in findings if f.severity and f.severity.upper() in SEVERITY_ORDER[1:]]
    malformed = [f.issue for f in findings if f.issue == "MALFORMED"]
    assert above_low == [] and malformed == [], findings


def test_read_parameters_policy_names_exactly_the_given_parameters_and_no_wildcards() -> None:
    document = json.loads(iam.read_parameters_policy(ARNS))
    (statement,) = document["Statement"]
    assert statement["Resource"] == sorted(ARNS)
    assert "*" not in json.dumps(document)
    assert set(statement["Action"]) == {"ssm:GetParameter", "ssm:GetParameters"}


def test_trust_policy_lets_only_ec2_assume_the_role() -> None:
    # parliament audits identity policies only (a trust policy has no Resource), so the shape is pinned here.
    assert json.loads(iam.assume_role_policy()) == {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }


def test_parameter_arn_form() -> None:
    assert iam.parameter_arn("eu-west-1", "123456789012", "/vllm-aws/dev/api-key") == (
        "arn:aws:ssm:eu-west-1:123456789012:parameter/vllm-aws/dev/api-key"
    )
