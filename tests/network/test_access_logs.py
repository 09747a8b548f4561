"""ALB access logs to a created bucket (#13 optional hardening): private, SSE-S3, TLS only, expiring, kept on
destroy, and written only by the region's ELB log writer; the ALB switches logging on only once the policy is on."""

from __future__ import annotations

import json
from typing import Any

import pytest
from stack_runs import named, of_type, run_stack, stack_raw

from components.cli.program import ProgramRun
from components.config.hardening import bucket_name_problem
from components.network import access_log_policy
from components.network.access_log_policy import LOG_DELIVERY_SERVICE, bucket_policy, log_writer

BUCKET_TYPES = (
    "aws:s3/bucket:Bucket",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketPolicy:BucketPolicy",
)
BUCKET_ARN = "arn:aws:s3:::endpoint-access-logs-abc1234"


def _with_logs(access_logs: dict[str, Any], region: str = "us-east-1") -> ProgramRun:
    raw, _ = stack_raw("dev")
    return run_stack(
        "dev",
        **{"aws:region": region},
        loadBalancer={**raw["loadBalancer"], "accessLogs": access_logs},
    )


def test_access_logs_are_off_by_default() -> None:
    run = run_stack("dev")
    assert all(not of_type(run, type_) for type_ in BUCKET_TYPES)
    assert named(run, "endpoint-alb").inputs.get("accessLogs") is None


def test_one_key_creates_a_private_encrypted_expiring_bucket_the_alb_waits_for() -> None:
    run = _with_logs({"enabled": True})
    resources = {type_: of_type(run, type_) for type_ in BUCKET_TYPES}
    assert {type_: len(found) for type_, found in resources.items()} == dict.fromkeys(BUCKET_TYPES, 1)
    # Kept by `pulumi destroy`: the logs outlive the stack and destroy never meets a bucket that is not empty.
    assert all(found[0].options["retainOnDelete"] for found in resources.values())
    bucket = named(run, "endpoint-access-logs")
    assert "bucket" not in bucket.inputs and "forceDestroy" not in bucket.inputs  # auto-named, never emptied
    public = named(run, "endpoint-access-logs-public-access").inputs
    assert all(
        public[key] for key in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    )
    assert named(run, "endpoint-access-logs-ownership").inputs["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    sse = named(run, "endpoint-access-logs-encryption").inputs["rules"][0]
    assert sse["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}  # SSE-KMS: ALB cannot deliver
    (rule,) = named(run, "endpoint-access-logs-expiry").inputs["rules"]
    assert (rule["status"], rule["expiration"], rule["filter"]) == ("Enabled", {"days": 90}, {"prefix": "AWSLogs/"})
    policy = named(run, "endpoint-access-logs-policy")
    assert "endpoint-access-logs-public-access" in policy.options["dependsOn"]
    alb = named(run, "endpoint-alb")
    # The bucket's name is Pulumi's auto-name, known once it is created: here, the dependency on it.
    assert alb.inputs["accessLogs"]["enabled"] is True
    assert alb.options["propertyDependencies"]["accessLogs"] == ["endpoint-access-logs"]
    # ELB writes a test object when logging is switched on: the policy must be in place before the ALB asks.
    assert {"endpoint-access-logs-policy", "endpoint-access-logs-public-access"} <= set(alb.options["dependsOn"])
    assert "accessLogsBucket" in run.outputs["loadBalancer"]


def test_expiration_days_reach_the_lifecycle_rule() -> None:
    run = _with_logs({"enabled": True, "expirationDays": 7})
    assert named(run, "endpoint-access-logs-expiry").inputs["rules"][0]["expiration"] == {"days": 7}


def test_an_existing_bucket_is_logged_to_and_nothing_is_created() -> None:
    run = _with_logs({"enabled": True, "bucket": "my-alb-logs"})
    assert all(not of_type(run, type_) for type_ in BUCKET_TYPES)
    assert named(run, "endpoint-alb").inputs["accessLogs"] == {"bucket": "my-alb-logs", "enabled": True}


@pytest.mark.parametrize(
    ("region", "principal"),
    [
        ("us-east-1", {"AWS": "arn:aws:iam::127311923021:root"}),
        ("eu-west-1", {"AWS": "arn:aws:iam::156460612806:root"}),
        ("ap-southeast-3", {"AWS": "arn:aws:iam::589379963580:root"}),
        ("cn-north-1", {"AWS": "arn:aws-cn:iam::638102146993:root"}),
        ("us-gov-west-1", {"AWS": "arn:aws-us-gov:iam::048591011584:root"}),
        # Opened in or after August 2022: the service principal (the ALB User Guide names Middle East (UAE)).
        ("me-central-1", {"Service": LOG_DELIVERY_SERVICE}),
        ("ap-southeast-4", {"Service": LOG_DELIVERY_SERVICE}),
        ("mx-central-1", {"Service": LOG_DELIVERY_SERVICE}),
    ],
)
def test_the_log_writer_is_the_one_documented_for_the_region(region: str, principal: dict[str, str]) -> None:
    assert log_writer(region) == principal


def test_the_policy_lets_elb_write_only_this_accounts_prefix_and_denies_plain_http() -> None:
    allow, deny = json.loads(bucket_policy(BUCKET_ARN, region="eu-west-1", account_id="123456789012"))["Statement"]
    assert (allow["Effect"], allow["Action"]) == ("Allow", "s3:PutObject")
    assert allow["Resource"] == f"{BUCKET_ARN}/AWSLogs/123456789012/*"
    assert (deny["Effect"], deny["Principal"], deny["Action"]) == ("Deny", "*", "s3:*")
    assert deny["Resource"] == [BUCKET_ARN, f"{BUCKET_ARN}/*"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_the_policy_in_a_new_region_names_the_service_principal() -> None:
    run = _with_logs({"enabled": True}, region="me-central-1")
    statement = json.loads(named(run, "endpoint-access-logs-policy").inputs["policy"])["Statement"][0]
    assert statement["Principal"] == {"Service": LOG_DELIVERY_SERVICE}


def test_the_table_is_terraform_provider_awss_elb_service_account_map() -> None:
    # hashicorp/terraform-provider-aws internal/service/elb/service_account_data_source.go @01f4311
    # accountIDPerRegionMap: 26 regions (me-central-1 commented out there).
    assert len(access_log_policy.ELB_ACCOUNTS) == 26 and "me-central-1" not in access_log_policy.ELB_ACCOUNTS
    assert all(len(account) == 12 and account.isdigit() for account in access_log_policy.ELB_ACCOUNTS.values())


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("my-alb-logs", None),
        ("logs.example.com", None),
        ("ab", "3-63"),
        ("Logs", "3-63"),
        ("-logs", "3-63"),
        ("a" * 64, "3-63"),
        ("my..logs", "adjacent periods"),
        ("192.168.5.4", "IP address"),
        ("xn--logs", "reserves"),
        ("logs--ol-s3", "reserves"),
    ],
)
def test_bucket_names_follow_s3s_rules(name: str, problem: str | None) -> None:
    found = bucket_name_problem(name)
    assert (found is None) if problem is None else (found is not None and problem in found)
