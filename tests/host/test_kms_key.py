"""The stack's customer managed key (``kmsKey``, #13 optional hardening): the GPU hosts' root and cache volumes and
the secrets' parameters use it, and only this stack's hosts may decrypt the secrets, through SSM only."""

from __future__ import annotations

import json

import pytest
from iam_policy_eval import decide, statements
from parliament import analyze_policy_string
from stack_runs import named, of_type, run_stack
from test_iam import SEVERITY_ORDER, arn, host_policies

from components.cli.offline import OFFLINE_ACCOUNT_ID
from components.host import iam
from components.host.kms_key import alias_name
from components.host.kms_policy import decrypt_secrets_statement, key_policy

REGION = "us-east-1"
KEY_ARN = f"arn:aws:kms:{REGION}:{OFFLINE_ACCOUNT_ID}:stack-key"  # the mock engine's ARN for `stack-key`
OTHER_KEY = f"arn:aws:kms:{REGION}:{OFFLINE_ACCOUNT_ID}:key/0f0e0d0c-0b0a-0908-0706-050403020100"
THROUGH_SSM = {"kms:ViaService": f"ssm.{REGION}.amazonaws.com"}


def _with_key(stack: str, **key: object) -> object:
    return run_stack(stack, kmsKey={"enabled": True, **key}, hfToken="hf_test")


def test_without_the_key_nothing_changes() -> None:
    run = run_stack("dev")
    assert not of_type(run, "aws:kms/key:Key") and not of_type(run, "aws:kms/alias:Alias")
    assert all("kmsKeyId" not in r.inputs for r in of_type(run, "aws:ebs/volume:Volume"))
    assert all(r.inputs.get("keyId") is None for r in of_type(run, "aws:ssm/parameter:Parameter"))


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_one_key_encrypts_every_volume_and_the_secrets(stack: str) -> None:
    run = _with_key(stack)
    key = named(run, "stack-key").inputs
    assert (key["enableKeyRotation"], key["deletionWindowInDays"]) == (True, 30)
    assert named(run, "stack-key-alias").inputs["name"] == f"alias/vllm-aws/{stack}"
    volumes = of_type(run, "aws:ebs/volume:Volume")
    assert volumes and all(v.inputs["kmsKeyId"] == KEY_ARN and v.inputs["encrypted"] for v in volumes)
    hosts = of_type(run, "aws:ec2/instance:Instance")
    assert hosts
    for host in hosts:
        assert host.inputs["rootBlockDevice"]["kmsKeyId"] == KEY_ARN and host.inputs["rootBlockDevice"]["encrypted"]
    parameters = of_type(run, "aws:ssm/parameter:Parameter")
    assert {p.name for p in parameters} == {"api-key-parameter", "hf-token-parameter"}
    assert all(p.inputs["keyId"] == KEY_ARN for p in parameters)


def test_the_deletion_window_is_configurable() -> None:
    assert named(_with_key("dev", deletionWindowDays=7), "stack-key").inputs["deletionWindowInDays"] == 7


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_a_gpu_host_decrypts_its_stacks_secrets_through_ssm_and_nothing_else(stack: str) -> None:
    hosts = host_policies(_with_key(stack))
    for host, policy in hosts.items():
        own = "allowed" if host != "monitoring" else "implicitly denied"  # the monitoring host reads no secret
        assert decide(policy, "kms:Decrypt", KEY_ARN, THROUGH_SSM) == own, host
        # Another key, even through SSM (another stack's SecureStrings under its own key): denied.
        assert decide(policy, "kms:Decrypt", OTHER_KEY, THROUGH_SSM) == "implicitly denied", host
        # This key, but not inside SSM (a raw Decrypt of a copied ciphertext, or through another service).
        assert decide(policy, "kms:Decrypt", KEY_ARN) == "implicitly denied", host
        assert decide(policy, "kms:Decrypt", KEY_ARN, {"kms:ViaService": f"ec2.{REGION}.amazonaws.com"}) == (
            "implicitly denied"
        ), host
        for action in ("kms:Encrypt", "kms:GenerateDataKey", "kms:CreateGrant", "kms:ScheduleKeyDeletion"):
            assert decide(policy, action, KEY_ARN, THROUGH_SSM) == "implicitly denied", (host, action)
        # Reading the parameters is still this stack's only (the Deny of test_iam holds with the key on).
        expected = "explicitly denied" if host == "monitoring" else "allowed"
        assert decide(policy, "ssm:GetParameter", arn(f"/vllm-aws/{stack}/api-key")) == expected, host


def test_the_read_policy_with_the_key_has_no_parliament_findings_above_low() -> None:
    document = iam.read_parameters_policy([arn("/vllm-aws/prod/api-key")], decrypt_secrets_statement(OTHER_KEY, REGION))
    findings = analyze_policy_string(document).findings
    above_low = [(f.issue, f.severity) for f in findings if f.severity and f.severity.upper() in SEVERITY_ORDER[1:]]
    assert above_low == [] and not [f for f in findings if f.issue == "MALFORMED"], findings


def test_the_evaluator_matches_string_equals_only_on_the_listed_value() -> None:
    (statement,) = statements([{"Version": "2012-10-17", "Statement": [decrypt_secrets_statement(KEY_ARN, REGION)]}])
    assert statement.applies("kms:Decrypt", KEY_ARN, {"KMS:VIASERVICE": f"ssm.{REGION}.amazonaws.com"})
    assert not statement.applies("kms:Decrypt", KEY_ARN, {"kms:ViaService": "ssm.eu-west-1.amazonaws.com"})
    assert not statement.applies("kms:Decrypt", KEY_ARN, {})


def test_the_key_policy_lets_the_account_administer_and_ec2_use_it_for_the_accounts_volumes_only() -> None:
    admin, ebs, grants = json.loads(key_policy(REGION, OFFLINE_ACCOUNT_ID))["Statement"]
    assert admin["Principal"] == {"AWS": f"arn:aws:iam::{OFFLINE_ACCOUNT_ID}:root"} and admin["Action"] == "kms:*"
    through_ec2 = {"kms:CallerAccount": OFFLINE_ACCOUNT_ID, "kms:ViaService": f"ec2.{REGION}.amazonaws.com"}
    assert ebs["Condition"] == {"StringEquals": through_ec2}
    assert "kms:CreateGrant" not in ebs["Action"]  # grants only for AWS resources, in their own statement
    assert grants["Action"] == "kms:CreateGrant"
    assert grants["Condition"] == {"StringEquals": through_ec2, "Bool": {"kms:GrantIsForAWSResource": "true"}}
    # No statement lets SSM decrypt for the account: that is aws/ssm's weakness this key removes.
    assert "ssm." not in json.dumps([admin, ebs, grants])


@pytest.mark.parametrize(("stack", "alias"), [("prod", "alias/vllm-aws/prod"), ("team.v2", "alias/vllm-aws/team-v2")])
def test_alias_names_keep_to_kms_characters(stack: str, alias: str) -> None:
    assert alias_name(stack) == alias
