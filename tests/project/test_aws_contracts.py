"""Every AWS resource the stack registers meets the API contract of the call that creates it (#10).

The mocks accept anything; these tests check the recorded inputs of both shipped stacks and of a large stack at
every maximum the config allows against botocore's service models and the limits AWS documents
(tests/project/aws_contract_table.py), and prove the check fails on the values that broke the first `pulumi up`.
"""

from __future__ import annotations

import copy
import inspect
import unicodedata
from typing import Any

import aws_api_models
import pulumi_aws
import pytest
from annotated_types import Le
from aws_contract_table import CONTRACTS
from aws_contracts import Contract, Source, check_resource, check_run
from example_runs import run_example
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel
from stack_runs import PROGRAM, PROJECT_DIR, run_stack

from components._naming import MODEL_NAME_MAX
from components.cli.program import ProgramRun, RecordedResource, run_program
from components.config import CacheConfig, LoadBalancerConfig, ModelConfig, aws_tags
from components.config.hardening import WafConfig, bucket_name_problem


def _sources(contract: Contract) -> list[Source]:
    rules = [
        *contract.rules,
        *(contract.tags.rules if contract.tags else ()),
        *(contract.auto_name.rules if contract.auto_name else ()),
    ]
    return [rule.source for rule in rules]


# --- the table is what it claims to be ----------------------------------------------------------------------------


@pytest.mark.parametrize("contract", CONTRACTS.values(), ids=list(CONTRACTS))
def test_every_api_member_exists_in_the_botocore_model(contract: Contract) -> None:
    members = [m.api for m in contract.members]
    if contract.tags:
        members += [contract.tags.key, contract.tags.value, contract.tags.tag_list]
    if contract.auto_name:
        members.append(contract.auto_name.api)
    for member in members:
        assert aws_api_models.shape_of(contract.service, member)


@pytest.mark.parametrize("contract", CONTRACTS.values(), ids=list(CONTRACTS))
def test_every_quoted_limit_is_in_the_botocore_documentation(contract: Contract) -> None:
    for source in _sources(contract):
        if source.service is not None:
            assert source.quote in aws_api_models.documentation(source.service, source.where), source
        else:
            assert source.where.startswith(("https://docs.aws.amazon.com/", "hashicorp/", "pulumi/")), source


@pytest.mark.parametrize("contract", CONTRACTS.values(), ids=list(CONTRACTS))
def test_auto_naming_is_declared_exactly_where_pulumi_aws_has_a_name_input(contract: Contract) -> None:
    # pulumi-aws provider/autonaming.go auto-names every resource whose TF schema has an input `name`.
    module, _, class_name = contract.type.removeprefix("aws:").partition(":")
    args = getattr(getattr(pulumi_aws, module.split("/")[0]), f"{class_name}Args")
    # A required `name` (route53 Record: the record's DNS name) is the program's to give: nothing to generate.
    name = inspect.signature(args.__init__).parameters.get("name")
    optional_name = name is not None and name.default is not inspect.Parameter.empty
    assert optional_name == (contract.auto_name is not None)


# --- the stacks meet every contract --------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", sorted(p.stem.removeprefix("Pulumi.") for p in PROJECT_DIR.glob("Pulumi.*.yaml")))
def test_shipped_stack_meets_every_aws_api_contract(stack: str) -> None:
    assert check_run(run_stack(stack), CONTRACTS) == []


def test_the_extra_model_example_meets_every_aws_api_contract() -> None:
    run = run_example()
    assert any(r.type == "aws:lb/targetGroup:TargetGroup" for r in run.resources)
    assert check_run(run, CONTRACTS) == []


def _longest_model_name(index: int) -> str:
    return (f"m{index}-long-model-name-" + "x" * MODEL_NAME_MAX)[: MODEL_NAME_MAX - 1] + "z"


def _longest_tag(index: int) -> tuple[str, str]:
    key = (f"team {index:02d} ключ 鍵 _.:/=+-@ " * 8)[: aws_tags.MAX_KEY_LENGTH - 1] + "k"
    value = ("värde 値 0123 _.:/=+-@ " * 16)[: aws_tags.MAX_VALUE_LENGTH - 1] + "v"
    return key, value


LARGE: dict[str, Any] = {
    "aws:region": "us-east-1",
    "image": "vllm/vllm-openai:v0.33.0",
    "models": [
        # The most replicas, so the longest host names ("<model>-31-...").
        {"name": "", "id": "Qwen/Qwen2.5-7B-Instruct-AWQ", "instanceType": "g6.xlarge", "replicas": 32},
        # The most servers per host, so the widest port ranges (8000-8007).
        {
            "name": "",
            "id": "Qwen/Qwen3-0.6B",
            "instanceType": "g6.48xlarge",
            "replicas": 16,
            "replicasPerHost": 8,
            "maxModelLen": 8192,
        },
        {"name": "", "id": "Qwen/Qwen3-8B", "instanceType": "g6e.xlarge", "replicas": 4, "spot": True},
        {
            "name": "",
            "id": "Qwen/Qwen2.5-72B-Instruct",
            "quantization": "fp8",
            "tensorParallelSize": 4,
            "instanceType": "g6e.12xlarge",
            "replicas": 2,
            "maxModelLen": 32768,
            "kvCacheDtype": "fp8",
        },
        {"name": "", "id": "Qwen/Qwen2.5-1.5B-Instruct", "replicas": 3, "maxModelLen": 4096},
        {"name": "", "id": "mistralai/Mistral-7B-Instruct-v0.3", "instanceType": "g6e.xlarge", "replicas": 2},
    ],
    "cache": {"iops": 80000, "throughputMibps": 2000},
    "network": {"allowedCidrs": ["203.0.113.0/24", "198.51.100.7/32", "2001:db8::/32"]},
    "loadBalancer": {
        "certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/0123abcd-4567-89ef-0123-456789abcdef",
        "idleTimeoutSeconds": 4000,
        "deletionProtection": True,
        "accessLogs": {"enabled": True, "expirationDays": 3650},
        # The longest zone id Route 53 takes (ResourceId, max 32); with certificateArn: aliases, no new certificate.
        "hostedZoneId": "Z" + "0" * 31,
        "waf": {"enabled": True, "rateLimit": 2_000_000_000, "rateWindowSeconds": 600},
    },
    "kmsKey": {"enabled": True, "deletionWindowDays": 7},
    "tags": {},
    "hfToken": "hf_offline_test_token",
}
for _index, _model in enumerate(LARGE["models"]):
    _model["name"] = _longest_model_name(_index)
# The longest domain the config allows with these names: "<name>.<domain>" is the ALB's 128 characters.
LARGE["loadBalancer"]["domain"] = ("d" * 60 + ".") + "e" * (128 - MODEL_NAME_MAX - 1 - 61 - 4) + ".com"
LARGE["tags"] = dict(_longest_tag(index) for index in range(aws_tags.MAX_USER_TAGS))


def _large_stack(**changes: Any) -> ProgramRun:
    raw = copy.deepcopy(LARGE)
    for key, value in changes.items():
        raw[key] = {**raw.get(key, {}), **value}
    return run_program(PROGRAM, raw, ["hfToken"], "large-stack-at-every-maximum")


@pytest.mark.parametrize(
    "changes",
    [
        {
            "monitoring": {"placement": "dedicated"},
            "access": {"mode": "ssh", "sshCidrs": ["203.0.113.0/24", "2001:db8::/48"]},
        },
        # The certificate the stack requests, for the longest domain.
        {"monitoring": {"placement": "colocated"}, "loadBalancer": {"internal": True, "certificateArn": None}},
    ],
    ids=["dedicated-monitoring-ssh", "colocated-monitoring-ssm-internal"],
)
def test_large_stack_at_every_config_maximum_meets_every_aws_api_contract(changes: dict[str, Any]) -> None:
    run = _large_stack(**changes)
    assert len([r for r in run.resources if r.type == "aws:ec2/instance:Instance"]) >= 40
    assert check_run(run, CONTRACTS) == []


def _config_maximum(model: type[BaseModel], field: str) -> Any:
    return next(bound.le for bound in model.model_fields[field].metadata if isinstance(bound, Le))


def test_the_large_stack_really_is_at_the_maxima() -> None:
    assert {len(model["name"]) for model in LARGE["models"]} == {MODEL_NAME_MAX}
    assert len(f"{LARGE['models'][0]['name']}.{LARGE['loadBalancer']['domain']}") == 128
    assert len(LARGE["tags"]) == aws_tags.MAX_USER_TAGS
    assert {len(key) for key in LARGE["tags"]} == {aws_tags.MAX_KEY_LENGTH}
    assert {len(value) for value in LARGE["tags"].values()} == {aws_tags.MAX_VALUE_LENGTH}
    models = LARGE["models"]
    assert max(m.get("replicas", 1) for m in models) == _config_maximum(ModelConfig, "replicas")
    assert max(m.get("replicasPerHost", 1) for m in models) == _config_maximum(ModelConfig, "replicas_per_host")
    assert LARGE["cache"]["iops"] == _config_maximum(CacheConfig, "iops")
    assert LARGE["cache"]["throughputMibps"] == _config_maximum(CacheConfig, "throughput_mibps")
    assert LARGE["loadBalancer"]["idleTimeoutSeconds"] == _config_maximum(LoadBalancerConfig, "idle_timeout_seconds")
    assert LARGE["loadBalancer"]["waf"]["rateLimit"] == _config_maximum(WafConfig, "rate_limit")


# --- the check can fail --------------------------------------------------------------------------------------------

OLD_RULE = RecordedResource(
    type="aws:lb/listenerRule:ListenerRule",
    name="qwen-7b-endpoint-prefix-rule",
    parent="qwen-7b-endpoint",
    inputs={
        "listenerArn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/x/1/2",
        "priority": 100,
        "conditions": [{"pathPattern": {"values": ["/qwen-7b/v1/*", "/qwen-7b/health"]}}],
        "actions": [{"type": "forward", "targetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:1:tg/x/1"}],
        "tags": {"Name": "/qwen-7b/v1/* -> qwen-7b (prefix removed)", "vllm-aws:stack": "dev"},
    },
    options={},
    urn="urn:pulumi:dev::vllm-aws::aws:lb/listenerRule:ListenerRule::qwen-7b-endpoint-prefix-rule",
)


def _with(resource: RecordedResource, **inputs: Any) -> RecordedResource:
    return RecordedResource(
        resource.type, resource.name, resource.parent, {**resource.inputs, **inputs}, {}, resource.urn
    )


def test_the_check_rejects_the_name_tag_that_broke_create_rule() -> None:
    (finding,) = check_resource(OLD_RULE, CONTRACTS[OLD_RULE.type])
    assert "tags['Name'] value" in finding and "does not match" in finding and "CreateRule.Tags[].Value" in finding


def test_the_check_rejects_a_target_group_auto_name_over_32() -> None:
    group = RecordedResource(
        "aws:lb/targetGroup:TargetGroup",
        "qwen-7b-instruct-awq-endpoint-tg",
        None,
        {"port": 8000, "protocol": "HTTP", "targetType": "instance", "vpcId": "vpc-1"},
        {},
        "urn",
    )
    (finding,) = check_resource(group, CONTRACTS[group.type])
    assert "plus 7 random chars is longer than maximum length 32" in finding


BAD_VALUES = [
    pytest.param("aws:lb/listenerRule:ListenerRule", {"priority": 0}, "below the minimum 1", id="rule-priority-0"),
    pytest.param(
        "aws:lb/listenerRule:ListenerRule",
        {"conditions": [{"hostHeader": {"values": ["m." + "d" * 127]}}]},
        "more than 128",
        id="host-condition-129",
    ),
    pytest.param(
        "aws:lb/targetGroup:TargetGroup", {"healthCheck": {"interval": 301}}, "above the maximum 300", id="interval"
    ),
    pytest.param("aws:lb/targetGroup:TargetGroup", {"deregistrationDelay": 3601}, "outside 0-3600", id="drain"),
    pytest.param("aws:lb/listener:Listener", {"protocol": "HTTP2"}, "is not one of", id="listener-protocol"),
    pytest.param(
        "aws:ec2/securityGroup:SecurityGroup", {"description": "vLLM <alb>"}, "outside the allowed set", id="sg-text"
    ),
    pytest.param(
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        {"referencedSecurityGroupId": "sg-1", "description": "vLLM & metrics"},
        "outside the allowed set",
        id="sg-rule-text",
    ),
    pytest.param(
        "aws:ec2/instance:Instance", {"metadataOptions": {"httpPutResponseHopLimit": 65}}, "outside 1-64", id="imds"
    ),
    pytest.param("aws:ec2/instance:Instance", {"instanceType": "g9.mega"}, "is not one of", id="instance-type"),
    pytest.param("aws:ec2/instance:Instance", {"userData": "x" * 16_385}, "more than 16 KB", id="user-data"),
    pytest.param(
        "aws:ebs/volume:Volume", {"type": "gp3", "size": 100, "iops": 2000}, "outside 3000-80000", id="gp3-iops"
    ),
    pytest.param(
        "aws:ebs/volume:Volume", {"type": "gp3", "size": 10, "iops": 6000}, "500 IOPS per GiB", id="gp3-ratio"
    ),
    pytest.param("aws:iam/role:Role", {"tags": {f"k{i}": "v" for i in range(51)}}, "more than 50", id="iam-tags"),
    pytest.param(
        "aws:ssm/parameter:Parameter", {"name": "/aws/vllm/api-key"}, "starts with 'aws' or 'ssm'", id="ssm-name"
    ),
    pytest.param("aws:ebs/volume:Volume", {"tags": {"aws:owner": "me"}}, "reserved 'aws:'", id="aws-prefix"),
    pytest.param("aws:ec2/securityGroup:SecurityGroup", {"name": "sg-web"}, "reserved 'sg-'", id="sg-name"),
    pytest.param("aws:ebs/volume:Volume", {"multiAttachEnabled": True}, "no contract maps this input", id="unmapped"),
    pytest.param(
        "aws:acm/certificate:Certificate",
        {"domainName": "llm.example.com", "subjectAlternativeNames": ["llm_x.example.com"]},
        "does not match",
        id="acm-san-not-a-domain",
    ),
    pytest.param(
        "aws:acm/certificate:Certificate", {"validationMethod": "dns"}, "is not one of", id="acm-validation-method"
    ),
    pytest.param("aws:route53/record:Record", {"type": "ALIAS"}, "is not one of", id="record-type"),
    pytest.param("aws:route53/record:Record", {"zoneId": "Z" * 33}, "more than 32", id="zone-id-length"),
]


@pytest.mark.parametrize(("resource_type", "inputs", "expected"), BAD_VALUES)
def test_the_check_rejects_each_kind_of_bad_value(resource_type: str, inputs: dict[str, Any], expected: str) -> None:
    resource = RecordedResource(resource_type, "bad", None, inputs, {}, "urn")
    findings = check_resource(resource, CONTRACTS[resource_type])
    assert any(expected in finding for finding in findings), findings


def test_an_aws_type_without_a_contract_is_a_finding() -> None:
    resource = RecordedResource("aws:sqs/queue:Queue", "logs", None, {}, {}, "urn")
    run = ProgramRun(resources=[resource], invokes=[], outputs={}, warnings=[])
    assert check_run(run, CONTRACTS) == ["aws:sqs/queue:Queue logs: no contract for this resource type"]


# --- the config's tag rules (components.config.aws_tags) are at least as strict as every tagged service ---------------

TAG_SHAPES = {
    "elbv2": ("TagKey", "TagValue"),
    "iam": ("tagKeyType", "tagValueType"),
    "ssm": ("TagKey", "TagValue"),
    "acm": ("TagKey", "TagValue"),
}


@given(char=st.characters())
def test_the_config_allows_exactly_the_characters_of_the_tag_patterns(char: str) -> None:
    text = f"a{char}a"
    config_accepts = aws_tags.value_problem(text) is None
    aws_accepts = not aws_api_models.shape_violations("elbv2", "TagValue", text)
    if unicodedata.category(char) == "Cn":
        # Unassigned in Python's (older) Unicode database: the config refuses what a newer one may call a letter.
        assert not config_accepts
    else:
        assert config_accepts == aws_accepts


@given(key=st.text(max_size=140), value=st.text(max_size=270))
def test_a_tag_the_config_accepts_is_accepted_by_every_tagged_service(key: str, value: str) -> None:
    if aws_tags.key_problem(key) is not None or aws_tags.value_problem(value) is not None:
        return
    for service, (key_shape, value_shape) in TAG_SHAPES.items():
        assert aws_api_models.shape_violations(service, key_shape, key) == []
        assert aws_api_models.shape_violations(service, value_shape, value) == []
    ec2 = CONTRACTS["aws:ec2/instance:Instance"]
    assert check_resource(RecordedResource(ec2.type, "i", None, {"tags": {key: value}}, {}, "urn"), ec2) == []


def test_the_access_logs_buckets_generated_name_meets_s3s_naming_rules() -> None:
    # pulumi-aws generates '<logical name>-<7 random lower-case characters>', lower-cased, for aws_s3_bucket
    # (pulumi/pulumi-aws provider/resources.go AutoNameTransform("bucket", 63, strings.ToLower)); the longest
    # logical name is the component's, which the stack names 'endpoint'.
    run = _large_stack()
    (bucket,) = [r for r in run.resources if r.type == "aws:s3/bucket:Bucket"]
    generated = f"{bucket.name.lower()}-abcdefg"
    assert bucket_name_problem(generated) is None, generated
    assert bucket_name_problem(f"{bucket.name.lower()}-ABCDEFG") is not None  # the check can fail
