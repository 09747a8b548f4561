"""Pure quota logic: which quota an instance family draws from, what a stack needs, and the failure message."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from typing import Any

import botocore
import pytest

from components import catalog, quotas
from components.config import parse_stack_config
from components.errors import ConfigError
from components.planner import plan_stack
from components.quotas.counts import RuleCount, stack_counts

CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0123abcd-4567-89ef-0123-456789abcdef"


def _service_quotas_model() -> dict[str, Any]:
    path = Path(botocore.__file__).parent / "data" / "service-quotas" / "2019-06-24" / "service-2.json.gz"
    with gzip.open(path) as file:
        model: dict[str, Any] = json.load(file)
    return model


P4_SPOT, P5_SPOT = quotas.P_SPOT_BY_GENERATION[4], quotas.P_SPOT_BY_GENERATION[5]


@pytest.mark.parametrize("instance_type", sorted(catalog.instance_types()))
def test_every_catalog_gpu_type_draws_from_the_g_or_p_quotas(instance_type: str) -> None:
    on_demand = quotas.vcpu_quota(instance_type, spot=False)
    spot = quotas.vcpu_quota(instance_type, spot=True)
    if instance_type.startswith("g"):
        assert (on_demand, spot) == quotas.G_AND_VT
    else:
        assert on_demand == quotas.P_ON_DEMAND
        # Spot P quotas are per generation (P2-P4 share one); AWS's table has none for P6.
        assert spot == {"p3": P4_SPOT, "p4": P4_SPOT, "p5": P5_SPOT, "p6": None}[instance_type[:2]]


@pytest.mark.parametrize(
    ("instance_type", "on_demand", "spot"),
    [
        # GPU families beyond today's catalog (the EC2 accelerated-computing list), and the monitoring host's.
        ("g4ad.xlarge", *quotas.G_AND_VT),
        ("g5g.xlarge", *quotas.G_AND_VT),
        ("g6f.xlarge", *quotas.G_AND_VT),
        ("gr6.4xlarge", *quotas.G_AND_VT),
        ("vt1.3xlarge", *quotas.G_AND_VT),
        ("p3dn.24xlarge", quotas.P_ON_DEMAND, P4_SPOT),
        ("p4de.24xlarge", quotas.P_ON_DEMAND, P4_SPOT),
        ("p5en.48xlarge", quotas.P_ON_DEMAND, P5_SPOT),
        ("p6-b200.48xlarge", quotas.P_ON_DEMAND, None),
        ("p6e-gb200.36xlarge", quotas.P_ON_DEMAND, None),
        ("t3.medium", *quotas.STANDARD),
        ("t4g.small", *quotas.STANDARD),
        ("m6i.large", *quotas.STANDARD),
        ("m7i-flex.large", *quotas.STANDARD),
        ("c7gn.xlarge", *quotas.STANDARD),
        ("r7iz.large", *quotas.STANDARD),
        ("z1d.large", *quotas.STANDARD),
    ],
)
def test_family_letters_select_the_quota_group(
    instance_type: str, on_demand: quotas.Quota, spot: quotas.Quota | None
) -> None:
    assert (quotas.vcpu_quota(instance_type, False), quotas.vcpu_quota(instance_type, True)) == (on_demand, spot)


@pytest.mark.parametrize(
    "instance_type",
    ["x2idn.large", "hpc7g.4xlarge", "inf2.xlarge", "trn1.2xlarge", "dl1.24xlarge", "f1.2xlarge", "u-6tb1.metal"],
)
def test_groups_of_their_own_are_not_guessed(instance_type: str) -> None:
    assert quotas.vcpu_quota(instance_type, spot=False) is None


def test_quota_codes_and_services_have_the_shape_service_quotas_accepts() -> None:
    shapes = _service_quotas_model()["shapes"]
    code_pattern = re.compile(f"^{shapes['QuotaCode']['pattern']}$")
    service_pattern = re.compile(f"^{shapes['ServiceCode']['pattern']}$")
    for quota in quotas.ALL_QUOTAS:
        assert quota.code is None or code_pattern.match(quota.code), quota
        assert service_pattern.match(quota.service), quota


def test_the_increase_command_passes_exactly_the_required_request_members() -> None:
    model = _service_quotas_model()
    request = model["shapes"][model["operations"]["RequestServiceQuotaIncrease"]["input"]["shape"]]
    assert set(request["required"]) == {"ServiceCode", "QuotaCode", "DesiredValue"}
    command = quotas.increase_command(quotas.G_AND_VT[0], 56, "eu-west-1")
    # The AWS CLI spells members in kebab case: ServiceCode -> --service-code.
    flags = {re.sub(r"(?<!^)(?=[A-Z])", "-", member).lower() for member in request["required"]}
    assert re.findall(r"--([a-z-]+)", command) == ["service-code", "quota-code", "desired-value", "region"]
    assert flags <= set(re.findall(r"--([a-z-]+)", command))
    assert command == (
        "aws service-quotas request-service-quota-increase --service-code ec2 --quota-code L-DB2E81BA "
        "--desired-value 56 --region eu-west-1"
    )


def _group(label: str, instance_type: str, vcpus: int, count: int, spot: bool = False) -> quotas.HostGroup:
    return quotas.HostGroup(label, f"vllm-aws:{label}", instance_type, vcpus, count, spot)


def test_vcpus_add_up_per_quota_with_on_demand_and_spot_apart() -> None:
    needs, unknown = quotas.vcpu_needs(
        [
            _group("big", "g6e.12xlarge", 48, 1),
            _group("small", "g6e.xlarge", 4, 2),
            _group("cheap", "g6.xlarge", 4, 3, spot=True),
            _group("h100", "p5.4xlarge", 16, 2),
            _group("h100-spot", "p5.4xlarge", 16, 1, spot=True),
            _group("monitoring", "t3.medium", 2, 1),
        ],
        "us-west-2",
    )
    assert unknown == []
    by_code = {need.quota.code: need for need in needs}
    assert {code: need.needed for code, need in by_code.items()} == {
        "L-DB2E81BA": 48 + 2 * 4,
        "L-3819A6DF": 12,
        "L-417A185B": 32,
        "L-C4BD4855": 16,
        "L-1216C47A": 2,
    }
    assert by_code["L-DB2E81BA"].parts == {"big": 48, "small": 8}
    assert by_code["L-DB2E81BA"].path == "vllm-aws:models"  # two models share it
    assert by_code["L-417A185B"].path == "vllm-aws:h100"
    assert by_code["L-DB2E81BA"].scope == "region us-west-2"


def _plan(raw: dict[str, Any]) -> tuple[Any, Any]:
    # Plain HTTP, explicitly, unless the case sets its own load balancer: these cases count hosts, not listeners.
    config = parse_stack_config({"loadBalancer": {"allowPlainHttp": True}, **raw})
    return config, plan_stack(config)


QWEN_7B = {"name": "qwen-7b", "id": "Qwen/Qwen2.5-7B-Instruct-AWQ", "maxModelLen": 8192}


def test_a_monitoring_type_of_an_unknown_group_is_bad_input() -> None:
    config, plan = _plan({"models": [QWEN_7B], "monitoring": {"instanceType": "x2idn.large"}})
    with pytest.raises(ConfigError, match=r"vllm-aws:monitoring\.instanceType: is in an EC2 family whose vCPU quota"):
        quotas.stack_needs(config, plan, monitoring_vcpus=2)


def test_gpu_hosts_without_a_documented_quota_are_a_warning() -> None:
    config, plan = _plan({"models": [{**QWEN_7B, "instanceType": "p6-b200.48xlarge", "spot": True}]})
    stack = quotas.stack_needs(config, plan, monitoring_vcpus=0)
    assert stack.warnings == (
        "qwen-7b: AWS documents no spot vCPU quota for p6-b200.48xlarge; its 192 vCPUs are not checked against the "
        "account's quotas, and a launch above the account's limit fails during `pulumi up`. Fix: look the limit up "
        "in the Service Quotas console (Amazon EC2) before deploying",
    )
    assert not [need for need in stack.needs if need.quota.unit == "vCPUs"]


def test_stack_needs_count_hosts_not_replicas() -> None:
    config, plan = _plan(
        {
            "models": [
                {
                    "name": "qwen-7b",
                    "id": "Qwen/Qwen2.5-7B-Instruct-AWQ",
                    "instanceType": "g6.12xlarge",
                    "replicas": 4,
                    "replicasPerHost": 4,
                    "maxModelLen": 8192,
                }
            ]
        }
    )
    needs = quotas.stack_needs(config, plan, monitoring_vcpus=0).needs
    vcpus = [need for need in needs if need.quota.unit == "vCPUs"]
    assert [(need.quota, need.needed) for need in vcpus] == [(quotas.G_AND_VT[0], 48)]  # one host, not four
    targets = next(need for need in needs if need.quota == quotas.TARGETS_PER_LOAD_BALANCER)
    assert targets.needed == 4  # but four vLLM servers behind the load balancer


def test_load_balancer_and_security_group_counts() -> None:
    config, _ = _plan(
        {
            "models": [
                {"name": f"m{index}", "id": "Qwen/Qwen2.5-7B-Instruct-AWQ", "maxModelLen": 8192, "replicas": 2}
                for index in range(3)
            ],
            "loadBalancer": {"certificateArn": CERT, "domain": "llm.example.com"},
            "network": {"allowedCidrs": ["10.0.0.0/8", "192.168.0.0/16", "2001:db8::/32"]},
            "access": {"mode": "ssh", "sshCidrs": ["203.0.113.0/24", "2001:db8:1::/48"]},
        }
    )
    counts = stack_counts(config)
    # 7 routes (3 path, 3 host, the default), each with a loading rule behind it.
    assert (counts.listeners, counts.rules, counts.target_groups, counts.targets) == (2, 2 * 7, 3, 6)
    assert counts.load_balancer_inbound == RuleCount(ipv4=2 * 2, ipv6=2 * 1)  # two listeners x CIDRs
    # One per model (to its targets group), however many GPU hosts: 3 models, 6 hosts.
    assert counts.load_balancer_outbound == RuleCount(ipv4=3, ipv6=3)
    assert counts.host_inbound == RuleCount(ipv4=3 + 1, ipv6=3 + 1)  # three scrape jobs and one SSH CIDR each


def _need(quota: quotas.Quota, needed: int, **extra: Any) -> quotas.QuotaNeed:
    return quotas.QuotaNeed(quota=quota, needed=needed, scope="region eu-west-1", path="vllm-aws:models", **extra)


def test_a_need_at_the_limit_fits_and_an_unknown_limit_is_not_judged() -> None:
    needs = [_need(quotas.G_AND_VT[0], 56), _need(quotas.P_ON_DEMAND, 192)]
    assert quotas.exceeded(needs, {quotas.G_AND_VT[0]: 56.0}, "eu-west-1") == []


def test_the_message_names_quota_code_region_need_limit_and_the_request_to_file() -> None:
    need = _need(quotas.G_AND_VT[0], 56, parts={"qwen-72b": 48, "qwen-8b": 8}, alternative="or plan fewer hosts")
    (issue,) = quotas.exceeded([need], {quotas.G_AND_VT[0]: 32.0}, "eu-west-1")
    assert str(issue) == (
        'vllm-aws:models: the stack needs 56 vCPUs of the ec2 quota "Running On-Demand G and VT instances" '
        "(L-DB2E81BA) for region eu-west-1, above the account's applied value of 32; other instances of this "
        "family group in the account and region count against it too: add their vCPUs to the request "
        "(got {'qwen-72b': 48, 'qwen-8b': 8}). Fix: request the increase with `aws service-quotas "
        "request-service-quota-increase --service-code ec2 --quota-code L-DB2E81BA --desired-value 56 --region "
        "eu-west-1` (approval can take a day or more), or plan fewer hosts"
    )


def test_a_fixed_limit_gets_the_other_fix_only() -> None:
    need = _need(quotas.TARGET_GROUPS_PER_LOAD_BALANCER, 101, alternative="or serve some models from a second stack")
    (issue,) = quotas.exceeded([need], {quotas.TARGET_GROUPS_PER_LOAD_BALANCER: 100.0}, "eu-west-1")
    assert "above AWS's fixed limit of 100" in issue.problem
    assert issue.fix == "this limit cannot be raised: serve some models from a second stack"
