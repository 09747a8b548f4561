"""The quota check in the real program (mocks) and through the CLI: needs, refusals, and the degraded path."""

from __future__ import annotations

import copy
import ipaddress
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pulumi
import pytest
from stack_runs import PROJECT_DIR, of_type, run_stack, stack_raw

from components.cli import main, offline
from components.cli.offline import OfflineAws
from components.cli.program import ProgramRun, RecordingMonitor, offline_id
from components.config import parse_stack_config
from components.quotas.counts import RuleCount, StackCounts, stack_counts

CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0123abcd-4567-89ef-0123-456789abcdef"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
DENIED = (
    "AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/preview/ci is not authorized to "
    "perform: servicequotas:GetAWSDefaultServiceQuota"
)


def _needed(run: ProgramRun) -> dict[str, int]:
    return {q["code"] or q["quota"]: q["needed"] for q in run.outputs["quotas"] if q["unit"] == "vCPUs"}


def test_prod_needs_its_gpu_hosts_vcpus_and_the_monitoring_host() -> None:
    run = run_stack("prod")
    # qwen-72b: one g6e.12xlarge (48 vCPUs); qwen-8b: two g6e.xlarge (4 each); monitoring: one t3.medium (2).
    assert _needed(run) == {"L-DB2E81BA": 48 + 2 * 4, "L-1216C47A": 2}


def test_dev_needs_one_small_gpu_host_and_no_monitoring_host() -> None:
    assert _needed(run_stack("dev")) == {"L-DB2E81BA": 4}


def test_spot_hosts_draw_from_the_spot_quota() -> None:
    raw, _ = stack_raw("prod")
    models = copy.deepcopy(raw["models"])
    models[1]["spot"] = True
    assert _needed(run_stack("prod", models=models)) == {"L-DB2E81BA": 48, "L-3819A6DF": 8, "L-1216C47A": 2}


@pytest.fixture
def monitors(monkeypatch: pytest.MonkeyPatch) -> list[RecordingMonitor]:
    """The mock monitors of the runs in a test: what got registered even when the program fails."""
    seen: list[RecordingMonitor] = []
    original = RecordingMonitor.__init__

    def keep(self: RecordingMonitor, *args: Any) -> None:
        original(self, *args)
        seen.append(self)

    monkeypatch.setattr(RecordingMonitor, "__init__", keep)
    return seen


def test_a_stack_above_the_vcpu_quota_fails_before_anything_is_registered(monitors: list[RecordingMonitor]) -> None:
    with pytest.raises(pulumi.RunError) as caught:
        run_stack("prod", aws=OfflineAws(quota_values={"L-DB2E81BA": 32.0}))
    message = str(caught.value)
    assert message.startswith("invalid configuration: vllm-aws:models: the stack needs 56 vCPUs of the ec2 quota ")
    assert '"Running On-Demand G and VT instances" (L-DB2E81BA) for region us-east-1' in message
    assert "above the account's applied value of 32" in message
    assert "(got {'qwen-72b': 48, 'qwen-8b': 8})" in message
    assert (
        "aws service-quotas request-service-quota-increase --service-code ec2 --quota-code L-DB2E81BA "
        "--desired-value 56 --region us-east-1"
    ) in message
    assert monitors[0].recorded == []


def test_a_day_two_update_compares_the_whole_stack_with_the_quota() -> None:
    # 56 vCPUs already run; one more qwen-8b replica makes 60. A 64-vCPU quota holds the whole stack, so the update
    # passes: the stack's own hosts are in its need once, not on top of it.
    raw, _ = stack_raw("prod")
    models = copy.deepcopy(raw["models"])
    models[1]["replicas"] = 3
    run = run_stack("prod", aws=OfflineAws(quota_values={"L-DB2E81BA": 64.0}), models=models)
    assert _needed(run)["L-DB2E81BA"] == 60


def test_load_balancer_limits_are_checked_too() -> None:
    with pytest.raises(pulumi.RunError) as caught:
        run_stack("prod", aws=OfflineAws(quota_values={"L-7EED9B64": 2.0}))
    assert "Rules per Application Load Balancer (excluding default rules)" in str(caught.value)
    # prod: two models, each with a path and (its domain) a host rule, plus the default rule; each has a loading
    # rule behind it.
    assert "--service-code elasticloadbalancing --quota-code L-7EED9B64 --desired-value 10" in str(caught.value)


def test_without_permission_the_preview_goes_on_with_a_warning(engine_log: list[str]) -> None:
    run = run_stack("prod", aws=OfflineAws(quota_error=DENIED))
    assert of_type(run, "aws:ec2/instance:Instance")
    assert _needed(run)["L-DB2E81BA"] == 56  # the needs are still reported
    (warning,) = [m for m in engine_log if m.startswith("could not read the Service Quotas value")]
    assert "L-DB2E81BA" in warning and "not authorized to perform" in warning
    assert "servicequotas:GetAWSDefaultServiceQuota and servicequotas:GetServiceQuota" in warning


def test_a_readable_quota_logs_its_headroom(engine_log: list[str]) -> None:
    run_stack("prod", aws=OfflineAws(quota_values={"L-DB2E81BA": 64.0}))
    (headroom,) = [m for m in engine_log if m.startswith("quotas, needed/applied: ")]
    assert headroom.endswith(
        "L-DB2E81BA 56/64, L-1216C47A 2/100000, L-7EED9B64 10/100, L-B6DF7632 2/50, L-7E6692B2 3/1000, L-0EA8095F 3/60"
    )


def test_cli_plan_exits_2_with_the_request_when_the_offline_quota_is_low(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(PROJECT_DIR)  # main() changes into --project-dir; this restores the directory afterwards
    monkeypatch.setattr(offline, "OFFLINE_VCPU_QUOTA", 1.0)
    assert main(["plan", "--stack", "prod", "--project-dir", str(PROJECT_DIR)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("error: invalid configuration (2 problems):")  # the G hosts and the monitoring host
    assert "--quota-code L-DB2E81BA --desired-value 56 --region us-east-1" in err
    assert "vllm-aws:monitoring.instanceType: the stack needs 2 vCPUs" in err
    assert "Traceback" not in err


def test_cli_rejects_more_allowed_cidrs_than_a_security_group_holds(tmp_path: Path) -> None:
    cidrs = [f"10.{index}.0.0/16" for index in range(31)]  # x 2 listeners (HTTPS + redirect) = 62 rules
    config = tmp_path / "Pulumi.wide.yaml"
    config.write_text(
        "config:\n"
        "  vllm-aws:models: [{name: qwen-7b, id: Qwen/Qwen2.5-7B-Instruct-AWQ, maxModelLen: 8192}]\n"
        f"  vllm-aws:loadBalancer: {{certificateArn: '{CERT}'}}\n"
        f"  vllm-aws:network: {{allowedCidrs: [{', '.join(cidrs)}]}}\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "components", "plan", "--config", str(config), "--project-dir", str(PROJECT_DIR)],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2, result.stdout
    assert result.stderr.startswith("error: invalid configuration: vllm-aws:network.allowedCidrs: the stack needs 62")
    assert "--service-code vpc --quota-code L-0EA8095F --desired-value 62" in result.stderr


def test_plan_reports_show_the_needs(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(PROJECT_DIR)
    for fmt in ("table", "markdown"):
        assert main(["plan", "--stack", "prod", "--format", fmt, "--project-dir", str(PROJECT_DIR)]) == 0
        out = capsys.readouterr().out
        assert "AWS quotas the stack needs" in out
        assert "Running On-Demand G and VT instances" in out and "56 vCPUs" in out


# --- the pure counts against what the program really registers ------------------------------------------------


def _rules_by_group(run: ProgramRun) -> dict[tuple[str, str], RuleCount]:
    tally: Counter[tuple[str, str, int]] = Counter()
    for direction, type_ in (("in", INGRESS), ("out", EGRESS)):
        for rule in of_type(run, type_):
            inputs = rule.inputs
            group = inputs["securityGroupId"]
            if inputs.get("referencedSecurityGroupId"):
                tally[group, direction, 4] += 1
                tally[group, direction, 6] += 1
            else:
                cidr = inputs.get("cidrIpv4") or inputs["cidrIpv6"]
                tally[group, direction, ipaddress.ip_network(cidr).version] += 1
    groups = {(group, direction) for group, direction, _ in tally}
    return {key: RuleCount(tally[(*key, 4)], tally[(*key, 6)]) for key in groups}


def _registered_counts(run: ProgramRun) -> StackCounts:
    rules = _rules_by_group(run)
    alb = offline_id(SECURITY_GROUP, "endpoint-sg")
    monitoring = offline_id(SECURITY_GROUP, "monitoring-sg")
    hosts = [count for (group, direction), count in rules.items() if direction == "in" and group != alb]
    gpu_hosts = [
        count for (group, direction), count in rules.items() if direction == "in" and group not in (alb, monitoring)
    ]
    assert max(count.most for count in hosts) == max(count.most for count in gpu_hosts)  # monitoring host: fewer
    return StackCounts(
        listeners=len(of_type(run, "aws:lb/listener:Listener")),
        rules=len(of_type(run, "aws:lb/listenerRule:ListenerRule")),
        target_groups=len(of_type(run, "aws:lb/targetGroup:TargetGroup")),
        targets=len(of_type(run, "aws:lb/targetGroupAttachment:TargetGroupAttachment")),
        load_balancer_inbound=rules[alb, "in"],
        load_balancer_outbound=rules[alb, "out"],
        host_inbound=max(gpu_hosts, key=lambda count: (count.most, count.ipv4)),
    )


def _big_prod() -> dict[str, Any]:
    raw, _ = stack_raw("prod")
    models = copy.deepcopy(raw["models"])
    models[1]["replicas"] = 3
    return {
        "models": models,
        "loadBalancer": {"certificateArn": CERT, "domain": "llm.example.com"},
        "network": {"allowedCidrs": ["10.0.0.0/8", "192.168.0.0/16", "2001:db8::/32"]},
        "access": {"mode": "ssh", "sshCidrs": ["203.0.113.0/24", "198.51.100.0/24", "2001:db8:1::/48"]},
    }


def _many_replicas() -> dict[str, Any]:
    small = {"id": "Qwen/Qwen2.5-7B-Instruct-AWQ", "instanceType": "g6.xlarge", "maxModelLen": 8192}
    return {
        "models": [
            {**small, "name": "chat", "replicas": 5},
            {**small, "name": "code", "replicas": 3},
            {**small, "name": "embed", "instanceType": "g6.12xlarge", "replicas": 6, "replicasPerHost": 4},
        ]
    }


@pytest.mark.parametrize(
    ("stack", "overrides"),
    [("dev", {}), ("prod", {}), ("prod", _big_prod()), ("prod", _many_replicas())],
    ids=["dev", "prod", "prod-https-domain-ssh-ipv6", "three-models-many-replicas"],
)
def test_pure_counts_match_what_the_program_registers(stack: str, overrides: dict[str, Any]) -> None:
    run = run_stack(stack, **overrides)
    raw, _ = stack_raw(stack)
    raw.update(overrides)
    assert stack_counts(parse_stack_config(raw)) == _registered_counts(run)
