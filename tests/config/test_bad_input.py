"""Bad config is rejected before anything is created, with the key path, the given value and the fix.

Each case starts from a configuration that plans cleanly, breaks exactly one thing and names the exact key path
the user has to edit and a fragment of the fix they are told to apply. The planner's cases (fit, TP, dtype,
catalog, extraArgs, the gated model's token) are in tests/planner/test_bad_plans.py.
"""

from __future__ import annotations

import copy

import pytest
from bad_inputs import ARN, BASE, GATED_BASE, HARDENING_CASES, Case, base, duplicate_names, model, p, top

from components.config import parse_stack_config
from components.errors import ConfigError
from components.network import routing
from components.planner import plan_stack

CASES = [
    # --- names, keys and types --------------------------------------------------------------------------------------
    Case("duplicate-model-names", duplicate_names, p("models[1].name"), "give every model a distinct name"),
    Case("name-not-dns-safe", model(name="Qwen_7B"), p("models[0].name"), "rename it"),
    Case(
        "name-too-long-for-its-target-group",  # #10 item 10: passed config, then failed at preview
        model(name="qwen-7b-instruct-awq-v2"),
        p("models[0].name"),
        "shorten it to at most 21 characters",
    ),
    Case("model-id-missing", model(id=None), p("models[0].id"), "set it"),
    Case("model-id-empty", model(id=""), p("models[0].id"), "give a non-empty value"),
    Case("unknown-top-level-key", top(model={"name": "x"}), p("model"), "did you mean 'models'?"),
    Case(
        "unknown-nested-key",
        model(tensor_parallel_size=2),
        p("models[0].tensor_parallel_size"),
        "did you mean 'tensorParallelSize'?",
    ),
    Case("tp-wrong-type", model(tensorParallelSize="two"), p("models[0].tensorParallelSize"), "an int value"),
    Case("tp-zero", model(tensorParallelSize=0), p("models[0].tensorParallelSize"), "at least 1"),
    Case("replicas-zero", model(replicas=0), p("models[0].replicas"), "at least 1"),
    Case("models-empty", top(models=[]), p("models"), "give at least one entry"),
    Case("pricing-source-unknown", top(pricing={"source": "realtime"}), p("pricing.source"), "'snapshot' or 'live'"),
    Case("models-missing", lambda: {"aws:region": "us-east-1"}, p("models"), "set it"),
    Case("region-malformed", top(**{"aws:region": "US East"}), "aws:region", "pulumi config set aws:region"),
    Case("tags-value-not-string", top(tags={"team": 42}), p("tags.team"), "string value"),
    # --- tags: what every tagged service (EC2, ELBv2, IAM, SSM) accepts, checked before anything exists ----------
    Case("tags-key-elbv2-refuses", top(tags={"team*": "ml"}), p("tags.team*"), "rename the key"),
    Case("tags-value-elbv2-refuses", top(tags={"team": "ml (gpu)"}), p("tags.team"), "change the value"),
    Case("tags-key-aws-prefix", top(tags={"AWS:owner": "ml"}), p("tags.AWS:owner"), "rename the key"),
    Case("tags-value-aws-prefix", top(tags={"owner": "aws:ml"}), p("tags.owner"), "change the value"),
    Case("tags-key-too-long", top(tags={"k" * 128: "ml"}), p("tags." + "k" * 128), "rename the key"),
    Case("tags-value-too-long", top(tags={"team": "v" * 257}), p("tags.team"), "change the value"),
    Case("tags-key-set-by-the-stack", top(tags={"vllm-aws:stack": "x"}), p("tags.vllm-aws:stack"), "another key"),
    Case("tags-name-set-by-the-stack", top(tags={"Name": "x"}), p("tags.Name"), "another key"),
    Case("tags-too-many", top(tags={f"k{i}": "v" for i in range(41)}), p("tags"), "keep at most 40"),
    Case(
        "monitoring-placement-unknown",
        top(monitoring={"placement": "sidecar"}),
        p("monitoring.placement"),
        "'dedicated' or 'colocated'",
    ),
    Case(
        "alert-email-malformed",
        top(monitoring={"alerts": {"emails": ["ops@example.com", "Ops <ops@example.com>"]}}),
        p("monitoring.alerts.emails[1]"),
        "a plain address like 'ops@example.com'",
    ),
    Case(
        "alert-email-twice",
        top(monitoring={"alerts": {"emails": ["ops@example.com", "OPS@example.com"]}}),
        p("monitoring.alerts.emails"),
        "list each address once",
    ),
    # --- image ------------------------------------------------------------------------------------------------------
    Case("image-latest", top(image="vllm/vllm-openai:latest"), p("image"), "pin a release tag"),
    Case("image-untagged", top(image="vllm/vllm-openai"), p("image"), "pin a release tag"),
    Case("image-garbage", top(image="not an image!"), p("image"), "vllm/vllm-openai:v0.33.0"),
    Case(
        "replicas-per-host-over-gpus",
        model(replicasPerHost=2, replicas=2),
        p("models[0].replicasPerHost"),
        "replicasPerHost <= 1",
    ),
    Case("replicas-per-host-zero", model(replicasPerHost=0), p("models[0].replicasPerHost"), "at least 1"),
    Case(
        "image-build-missing-dockerfile",
        top(imageBuild={"context": "tests/data/no-such-dir"}),
        p("imageBuild.dockerfile"),
        "directory holding the Dockerfile",
    ),
    Case(
        "image-build-not-from-pinned-image",
        top(imageBuild={"context": "tests/data/bad-dockerfile"}),
        p("imageBuild.dockerfile"),
        "FROM ${VLLM_IMAGE}",
    ),
    *HARDENING_CASES,
    Case("ami-id-malformed", top(amiId="ubuntu-24.04"), p("amiId"), "ami-0123456789abcdef0"),
    Case("root-volume-below-gp3-minimum", top(rootVolumeGib=0), p("rootVolumeGib"), "use 'auto'"),
    Case("root-volume-above-gp3-maximum", top(rootVolumeGib=70000), p("rootVolumeGib"), "use 'auto'"),
    # --- secrets (the gated model's missing token is the planner's: tests/planner/test_bad_plans.py) ----------------
    Case("api-key-empty", top(apiKey=""), p("apiKey"), "remove it to have one generated"),
    Case("api-key-with-a-newline", top(apiKey="key-0123456789\n"), p("apiKey"), "printable ASCII"),
    Case("api-key-not-ascii", top(apiKey="clé-0123456789"), p("apiKey"), "printable ASCII"),
    Case("api-key-above-the-ssm-limit", top(apiKey="k" * 4097), p("apiKey"), "at most 4096 bytes"),
    Case(
        "alerts-webhook-not-https",
        top(alertsWebhookUrl="http://hooks.example.com/T0"),
        p("alertsWebhookUrl"),
        "pulumi config set --secret vllm-aws:alertsWebhookUrl https://",
    ),
    Case(
        "alerts-webhook-without-the-dedicated-monitoring-host",
        top(alertsWebhookUrl="https://hooks.example.com/T0", monitoring={"placement": "colocated"}),
        p("alertsWebhookUrl"),
        "monitoring.placement: dedicated",
    ),
    Case("api-key-ssm-reference", top(apiKey="{{ssm:/other/secret}}"), p("apiKey"), "without {{...}}"),
    Case("hf-token-empty", top(hfToken=""), p("hfToken"), "ungated models need no token"),
    # --- cache ------------------------------------------------------------------------------------------------------
    Case(
        "cache-throughput-above-iops",
        top(cache={"throughputMibps": 1000, "iops": 3000}),
        p("cache.throughputMibps"),
        "set iops to 4000 or more, or lower throughputMibps to 750",
    ),
    Case(
        "cache-iops-above-500-per-gib",
        top(cache={"sizeGib": 20, "iops": 12000, "throughputMibps": 250}),
        p("cache.iops"),
        "set sizeGib to 24 or more",
    ),
    Case(
        "cache-too-small-for-weights",
        lambda: {
            "models": [{"name": "qwen-7b", "id": "Qwen/Qwen2.5-7B-Instruct", "instanceType": "g6e.xlarge"}],
            "loadBalancer": {"allowPlainHttp": True},
            "cache": {"sizeGib": 20, "iops": 3000, "throughputMibps": 250},
        },
        p("cache.sizeGib"),
        "set it to at least 100",
    ),
    Case("cache-size-below-gp3-minimum", top(cache={"sizeGib": 10}), p("cache.sizeGib"), "use 'auto' or a size"),
    Case("cache-size-not-a-number", top(cache={"sizeGib": "big"}), p("cache.sizeGib"), "use a"),
    Case(
        "cache-snapshot-malformed",
        top(cache={"snapshotId": "snapshot-1234"}),
        p("cache.snapshotId"),
        "snap-0123456789abcdef0",
    ),
    # --- network and access -----------------------------------------------------------------------------------------
    Case(
        "allowed-cidr-malformed",
        top(network={"allowedCidrs": ["10.0.0.0/33"]}),
        p("network.allowedCidrs[0]"),
        "'10.0.0.0/16'",
    ),
    Case(
        "allowed-cidr-host-bits",
        top(network={"allowedCidrs": ["10.0.0.0/8", "192.168.1.7/24"]}),
        p("network.allowedCidrs[1]"),
        "write a network address with a prefix length",
    ),
    Case("vpc-id-malformed", top(network={"vpcId": "vpc-xyz"}), p("network.vpcId"), "vpc-0123456789abcdef0"),
    Case(
        "subnets-without-vpc",
        top(network={"publicSubnetIds": ["subnet-0123456789abcdef0"]}),
        p("network.vpcId"),
        "set network.vpcId to their VPC",
    ),
    Case(
        "ssh-without-cidrs",
        top(access={"mode": "ssh"}),
        p("access.sshCidrs"),
        "set access.sshCidrs, or use mode: ssm",
    ),
    Case(
        "ssh-open-to-world",
        top(access={"mode": "ssh", "sshCidrs": ["10.0.0.0/8", "0.0.0.0/0"]}),
        p("access.sshCidrs[1]"),
        "use mode: ssm",
    ),
    Case(
        "ssh-cidr-malformed",
        top(access={"mode": "ssh", "sshCidrs": ["10.0.0/8"]}),
        p("access.sshCidrs[0]"),
        "write a network address with a prefix length",
    ),
    # --- load balancer ----------------------------------------------------------------------------------------------
    Case(
        "certificate-arn-malformed",
        top(loadBalancer={"certificateArn": "arn:aws:iam::123456789012:server-certificate/x"}),
        p("loadBalancer.certificateArn"),
        "arn:aws:acm:<region>:<account>:certificate/<uuid>",
    ),
    Case(
        "certificate-arn-other-region",
        top(loadBalancer={"certificateArn": ARN.format(region="eu-west-1")}, **{"aws:region": "us-east-1"}),
        p("loadBalancer.certificateArn"),
        "request or import the certificate in us-east-1",
    ),
    Case(
        "plain-http-not-chosen",
        top(loadBalancer={"idleTimeoutSeconds": 600}),
        p("loadBalancer"),
        "set loadBalancer.domain and loadBalancer.hostedZoneId (the stack requests the certificate), or "
        "loadBalancer.certificateArn (an ACM certificate you have), or, knowingly, loadBalancer.allowPlainHttp: true",
    ),
    Case(
        "hosted-zone-without-domain",
        top(loadBalancer={"hostedZoneId": "Z0123456789ABCDEFGHIJ"}),
        p("loadBalancer.hostedZoneId"),
        "set loadBalancer.domain",
    ),
    Case(
        "hosted-zone-id-with-api-prefix",
        top(loadBalancer={"hostedZoneId": "/hostedzone/Z0123456789", "domain": "llm.example.com"}),
        p("loadBalancer.hostedZoneId"),
        "without '/hostedzone/'",
    ),
    Case(
        "hosted-zone-id-lower-case",
        top(loadBalancer={"hostedZoneId": "z0123456789", "domain": "llm.example.com"}),
        p("loadBalancer.hostedZoneId"),
        "use the id alone",
    ),
    Case(
        "plain-http-besides-https",
        top(loadBalancer={"certificateArn": ARN.format(region="us-east-1"), "allowPlainHttp": True}),
        p("loadBalancer.allowPlainHttp"),
        "remove allowPlainHttp, or remove the HTTPS settings",
    ),
    Case(
        "allow-plain-http-not-a-bool",
        top(loadBalancer={"allowPlainHttp": "sometimes"}),
        p("loadBalancer.allowPlainHttp"),
        "bool",
    ),
    Case(
        "host-egress-unknown", top(network={"hostEgress": "closed"}), p("network.hostEgress"), "'restricted' or 'open'"
    ),
    Case("pin-images-not-a-bool", top(pinImagesByDigest="sometimes"), p("pinImagesByDigest"), "bool"),
    Case("pin-images-misspelt", top(pinImageByDigest=True), p("pinImageByDigest"), "did you mean 'pinImagesByDigest'?"),
    Case(
        "waf-rate-limit-below-minimum",
        top(loadBalancer={"allowPlainHttp": True, "waf": {"enabled": True, "rateLimit": 5}}),
        p("loadBalancer.waf.rateLimit"),
        "at least 10",
    ),
    Case(
        "waf-rate-window-not-offered",
        top(loadBalancer={"allowPlainHttp": True, "waf": {"enabled": True, "rateWindowSeconds": 900}}),
        p("loadBalancer.waf.rateWindowSeconds"),
        "60, 120, 300 or 600",
    ),
    Case(
        "waf-unknown-key",
        top(loadBalancer={"allowPlainHttp": True, "waf": {"enable": True}}),
        p("loadBalancer.waf.enable"),
        "did you mean 'enabled'?",
    ),
    Case(
        "idle-timeout-zero",
        top(loadBalancer={"idleTimeoutSeconds": 0}),
        p("loadBalancer.idleTimeoutSeconds"),
        "at least 1",
    ),
    Case(
        "idle-timeout-above-alb-max",
        top(loadBalancer={"idleTimeoutSeconds": 5000}),
        p("loadBalancer.idleTimeoutSeconds"),
        "at most 4000",
    ),
    Case(
        "domain-too-long-for-the-host-condition",  # "qwen-7b.<domain>" must fit the ALB's 128 characters
        top(loadBalancer={"allowPlainHttp": True, "domain": ("a" * 60 + ".") * 2 + "example.com"}),
        p("loadBalancer.domain"),
        "at most 120 characters",
    ),
    Case(
        "domain-uppercase",
        top(loadBalancer={"domain": "LLM.Example.com"}),
        p("loadBalancer.domain"),
        "llm.example.com",
    ),
    # Two rules cannot share a priority on a listener (botocore elbv2 CreateRule: PriorityInUse); these two
    # names derive the same one (components.network.routing.derived_priority).
    Case(
        "rule-priorities-of-two-names-clash",
        top(models=[{**BASE["models"][0], "name": "model-45"}, {**BASE["models"][0], "name": "model-74"}]),
        p("models[1].name"),
        "loadBalancer.rulePriorities: {model-74: 491}",
    ),
    Case(
        "rule-priority-pinned-onto-another-model",
        top(
            models=[BASE["models"][0], {**BASE["models"][0], "name": "qwen-7b-b"}],
            loadBalancer={"allowPlainHttp": True, "rulePriorities": {"qwen-7b-b": routing.derived_priority("qwen-7b")}},
        ),
        p("loadBalancer.rulePriorities.qwen-7b-b"),
        "pin another priority",
    ),
    Case(
        "rule-priority-for-no-model",
        top(loadBalancer={"allowPlainHttp": True, "rulePriorities": {"qwen-7": 12}}),
        p("loadBalancer.rulePriorities.qwen-7"),
        "did you mean 'qwen-7b'?",
    ),
    Case(
        "rule-priority-in-the-attached-range",
        top(loadBalancer={"rulePriorities": {"qwen-7b": 10_001}}),
        p("loadBalancer.rulePriorities.qwen-7b"),
        "at most 10000",
    ),
]


def test_cases_are_many_and_distinct() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) >= 50  # with the planner's 25 or more: the 30 this table started with, and more
    assert len(set(ids)) == len(ids)


def test_bases_are_valid() -> None:
    for raw in (BASE, GATED_BASE):
        plan = plan_stack(parse_stack_config(copy.deepcopy(raw)))
        assert plan.models


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_names_path_value_and_fix(case: Case) -> None:
    with pytest.raises(ConfigError) as caught:
        plan_stack(parse_stack_config(case.build()))
    err = caught.value
    paths = [issue.path for issue in err.issues]
    assert any(issue.path == case.path for issue in err.issues), f"{case.path} not in {paths}"
    # Each case breaks one thing, so nothing else may be reported (no knock-on or duplicate issues).
    assert set(paths) == {case.path}, paths
    message = str(err)
    assert case.path in message
    # The value given, or that there was none (a missing key is "not set", never "got None").
    assert "(got " in message or "(not set)" in message
    assert "got None" not in message
    assert "Fix:" in message
    matching = [issue for issue in err.issues if issue.path == case.path]
    assert any(case.fix in issue.fix for issue in matching), f"{case.fix!r} not in {[i.fix for i in matching]}"
    assert case.fix in message


@pytest.mark.parametrize(
    "value",
    [" xyzzy-key", "xyzzy-key\n", "xyzzy-kéy", "{{ssm:/xyzzy}}", "xyzzy" * 1000],
    ids=["leading-space", "trailing-newline", "non-ascii", "ssm-reference", "too-long"],
)
def test_an_unusable_api_key_is_rejected_without_echoing_it(value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(base(apiKey=value))
    message = str(caught.value)
    assert "vllm-aws:apiKey" in message and "[secret]" in message and "Fix:" in message
    assert "xyzzy" not in message


def test_an_api_key_with_shell_characters_is_accepted() -> None:
    # Secrets are data on their way to vLLM: nothing has to be escaped, so nothing is refused for it.
    config = parse_stack_config(base(apiKey="a b\"c'd$e`f\\g=h;i|j&k*l#m(n)o{p}"))
    assert config.api_key is not None


@pytest.mark.parametrize("key", ["hfToken", "apiKey"])
@pytest.mark.parametrize(
    "value",
    [["hf_supersecret_value"], {"token": "hf_supersecret_value"}, 12345678901234],
    ids=["list", "dict", "int"],
)
def test_secret_of_wrong_type_is_never_printed(key: str, value: object) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(base(**{key: value}))
    err = caught.value
    message = str(err)
    assert any(issue.path == f"vllm-aws:{key}" for issue in err.issues), [i.path for i in err.issues]
    assert "[secret]" in message
    assert "hf_supersecret_value" not in message
    assert "12345678901234" not in message
    assert all(issue.value == "[secret]" for issue in err.issues if issue.path.startswith(f"vllm-aws:{key}"))
    assert "Fix:" in message
