"""Host IAM documents: least privilege, checked by parliament (identity policies) and by exact shape."""

from __future__ import annotations

import json

import pytest
from iam_policy_eval import Statement, action_matches, decide, resource_matches, statements
from parliament import analyze_policy_string
from repo import DATA_DIR
from stack_runs import of_type, run_stack

from components.cli.offline import OFFLINE_ACCOUNT_ID
from components.cli.program import ProgramRun
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


@pytest.mark.parametrize("arns", [ARNS, []], ids=["gpu-host", "no-secrets"])
def test_deny_other_parameters_policy_has_no_parliament_findings_above_low(arns: list[str]) -> None:
    findings = analyze_policy_string(iam.deny_other_parameters_policy(arns)).findings
    above_low = [(f.issue, f.severity) for f in findings if f.severity and f.severity.upper() in SEVERITY_ORDER[1:]]
    assert above_low == [] and [f for f in findings if f.issue == "MALFORMED"] == [], findings


# --- the hosts' effective permissions, as registered by the real program ---------------------------------------

MANAGED_POLICIES = DATA_DIR / "aws_managed_policies"
READS = ("ssm:GetParameter", "ssm:GetParameters")
SESSION_MANAGER = (
    "ssm:UpdateInstanceInformation",
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
    "ec2messages:GetMessages",
)


def managed_policy(arn: str) -> str:
    name = arn.removeprefix("arn:aws:iam::aws:policy/")
    path = MANAGED_POLICIES / f"{name}.json"
    assert path.exists(), f"{arn} is attached but its document is not in {MANAGED_POLICIES} (copy it, with source)"
    return path.read_text()


def host_policies(run: ProgramRun) -> dict[str, list[Statement]]:
    """Host name -> every statement of the identity policies (managed + inline) of the role its instance runs with."""
    roles = {p.parent: p.inputs["role"] for p in of_type(run, "aws:iam/instanceProfile:InstanceProfile")}
    documents: dict[str, list[str]] = {host: [] for host in roles}
    for attachment in of_type(run, "aws:iam/rolePolicyAttachment:RolePolicyAttachment"):
        assert attachment.inputs["role"] == roles[attachment.parent]
        documents[attachment.parent].append(managed_policy(attachment.inputs["policyArn"]))
    for inline in of_type(run, "aws:iam/rolePolicy:RolePolicy"):
        if inline.name.startswith(f"{inline.parent}-restart-"):
            continue  # the self-healing roles' policies (test_self_healing_roles_...), not the host's
        assert inline.inputs["role"] == roles[inline.parent]
        documents[inline.parent].append(inline.inputs["policy"])
    return {host: statements(docs) for host, docs in documents.items()}


def arn(name: str) -> str:
    return iam.parameter_arn("us-east-1", OFFLINE_ACCOUNT_ID, name)


@pytest.mark.parametrize("stack", ["dev", "prod"])
@pytest.mark.parametrize("hf_token", [False, True], ids=["api-key", "api-key-and-hf-token"])
def test_a_host_reads_its_stacks_secrets_and_no_other_parameter(stack: str, hf_token: bool) -> None:
    run = run_stack(stack, **({"hfToken": "hf_test"} if hf_token else {}))
    own = [f"/vllm-aws/{stack}/api-key", *([f"/vllm-aws/{stack}/hf-token"] if hf_token else [])]
    others = [
        "/vllm-aws/other/api-key",  # another vllm-aws stack's key
        f"/vllm-aws/{stack}-canary/api-key",  # a stack whose name starts with this one's
        "/team/db-password",
        "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
    ]
    hosts = host_policies(run)
    assert hosts
    for host, policy in hosts.items():
        monitoring = host == "monitoring"
        for action in READS:
            for name in own:
                assert decide(policy, action, arn(name)) == ("explicitly denied" if monitoring else "allowed"), (
                    host,
                    action,
                    name,
                )
            for name in others:
                assert decide(policy, action, arn(name)) == "explicitly denied", (host, action, name)
        # A path grant would reveal every parameter below it, even ones denied by name: none is readable, the
        # stack's own path included (the bootstrap reads its parameters by name).
        for path in (f"/vllm-aws/{stack}", "/vllm-aws/other", "/vllm-aws", "/"):
            assert decide(policy, "ssm:GetParametersByPath", arn(path)) == "explicitly denied", (host, path)
        # The SSM agent keeps what Session Manager needs (pulumi-docker reaches the daemon through it).
        for action in SESSION_MANAGER:
            assert decide(policy, action, "*") == "allowed", (host, action)


def test_without_the_deny_the_managed_policy_alone_would_expose_every_parameter() -> None:
    """The reason for the Deny, and proof that the test above can fail: AmazonSSMManagedInstanceCore allows it."""
    managed = statements([managed_policy(iam.SSM_CORE_POLICY_ARN)])
    for action in READS:
        assert decide(managed, action, arn("/vllm-aws/other/api-key")) == "allowed"
    with_deny = managed + statements([iam.deny_other_parameters_policy([arn("/vllm-aws/prod/api-key")])])
    assert decide(with_deny, "ssm:GetParameter", arn("/vllm-aws/other/api-key")) == "explicitly denied"
    assert decide(with_deny, "ssm:GetParameter", arn("/vllm-aws/prod/api-key")) == "allowed"


def test_every_host_role_denies_other_parameters_in_its_own_policy() -> None:
    run = run_stack("prod")
    denies = {
        r.parent: json.loads(r.inputs["policy"])
        for r in of_type(run, "aws:iam/rolePolicy:RolePolicy")
        if r.name.endswith("-no-other-parameters")
    }
    assert set(denies) == {r.parent for r in of_type(run, "aws:iam/role:Role")}
    # The monitoring host reads Grafana's password only (it runs Grafana); the GPU hosts never read it.
    (statement,) = denies["monitoring"]["Statement"]
    assert statement["NotResource"] == [arn("/vllm-aws/prod/grafana-admin-password")]
    (statement,) = denies["qwen-8b-0"]["Statement"]
    assert statement["NotResource"] == [arn("/vllm-aws/prod/api-key")]


# --- the evaluator itself, on the IAM User Guide's own rules --------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "resource", "matches"),
    [
        ("*", "arn:aws:ssm:us-east-1:123456789012:parameter/a", True),
        ("arn:aws:ssm:us-east-1:123456789012:parameter/a", "arn:aws:ssm:us-east-1:123456789012:parameter/a", True),
        ("arn:aws:ssm:us-east-1:123456789012:parameter/a", "arn:aws:ssm:us-east-1:123456789012:parameter/A", False),
        ("arn:aws:ssm:*:123456789012:parameter/a", "arn:aws:ssm:eu-west-1:123456789012:parameter/a", True),
        (
            "arn:aws:ssm:us-east-1:123456789012:parameter/vllm-aws/*",
            "arn:aws:ssm:us-east-1:123456789012:parameter/vllm-aws/dev/api-key",
            True,
        ),  # `*` spans slashes
        (
            "arn:aws:ssm:us-east-1:123456789012:parameter/vllm-aws/d?v/*",
            "arn:aws:ssm:us-east-1:123456789012:parameter/vllm-aws/dev/api-key",
            True,
        ),
        (
            "arn:aws:ssm:us-east-1:123456789012:parameter/vllm-aws/d?v/*",
            "arn:aws:ssm:us-east-1:123456789012:parameter/vllm-aws/prod/api-key",
            False,
        ),
        ("arn:aws:s*s:us-east-1:123456789012:parameter/a", "arn:aws:s:x:s:us-east-1:123456789012:parameter/a", False),
        ("arn:aws:ssm:us-east-1:*", "arn:aws:ssm:us-east-1:123456789012:parameter/a", True),  # last char of a segment
    ],
)
def test_resource_wildcards(pattern: str, resource: str, matches: bool) -> None:
    assert resource_matches(pattern, resource) is matches


def test_actions_are_case_insensitive_and_not_elements_invert() -> None:
    assert action_matches("ssm:GetParameter*", "SSM:getparametersbypath")
    assert not action_matches("ssm:GetParameter", "ssm:GetParameters")
    policy = statements(
        [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "NotAction": "iam:*", "NotResource": "arn:x:*"}]}]
    )
    assert decide(policy, "ssm:GetParameter", "arn:aws:ssm:r:1:parameter/a") == "allowed"
    assert decide(policy, "iam:PassRole", "arn:aws:ssm:r:1:parameter/a") == "implicitly denied"
    assert decide(policy, "ssm:GetParameter", "arn:x:ssm") == "implicitly denied"


def test_the_evaluator_refuses_what_it_cannot_judge() -> None:
    with pytest.raises(ValueError, match="Condition"):
        statements(
            [
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:x": "true"}}}
                    ],
                }
            ]
        )
