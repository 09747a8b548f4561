"""Self-healing of GPU hosts (components/host/self_healing.py): the system-check alarm of every GPU host, recover
where EC2 can, else a stop and start by SSM Automation with roles scoped to that one host (judged by the IAM
evaluator, tests/host/iam_policy_eval.py)."""

from __future__ import annotations

import json

import pytest
from constructs import construct, gpu_host
from iam_policy_eval import Statement, decide, statements
from stack_runs import named, of_type, run_stack

from components.cli.offline import offline_auto_recovery
from components.cli.program import OFFLINE_ACCOUNT_ID, Recording, offline_id
from components.host.self_healing import RESTART_RUNBOOK, recover_action

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
INSTANCE = "aws:ec2/instance:Instance"
GPU_HOSTS = ("qwen-72b-0", "qwen-8b-0", "qwen-8b-1")


def test_every_gpu_host_and_only_gpu_hosts_get_a_system_check_alarm() -> None:
    run = run_stack("prod")
    alarms = {a.parent: a for a in of_type(run, ALARM) if a.name.endswith("-system-check")}
    assert set(alarms) == set(GPU_HOSTS)  # not the monitoring host
    for host, alarm in alarms.items():
        inputs = alarm.inputs
        assert (inputs["namespace"], inputs["metricName"]) == ("AWS/EC2", "StatusCheckFailed_System")
        assert inputs["dimensions"] == {"InstanceId": offline_id(INSTANCE, f"{host}-instance")}
        assert (inputs["statistic"], inputs["period"], inputs["evaluationPeriods"]) == ("Maximum", 60, 2)
        assert (inputs["comparisonOperator"], inputs["threshold"]) == ("GreaterThanOrEqualToThreshold", 1)
        # A stopped host reports nothing: that must never look like a failure (no restart loop).
        assert inputs["treatMissingData"] == "missing"
        # Someone is told, both ways.
        topic = named(run, "alerts-topic")
        assert inputs["okActions"] == [f"arn:aws:sns:us-east-1:{OFFLINE_ACCOUNT_ID}:{topic.name}"]


def test_instance_store_types_restart_through_ssm_automation_and_recoverable_ones_use_the_recover_action() -> None:
    # prod runs g6e/g6 types: all carry local NVMe, so EC2 cannot recover them (CloudWatch refuses the action).
    run = run_stack("prod")
    for host in GPU_HOSTS:
        assert offline_auto_recovery(named(run, f"{host}-instance").inputs["instanceType"]) is False
        assert not any(
            a.startswith("arn:aws:automate:") for a in named(run, f"{host}-system-check").inputs["alarmActions"]
        )
        pattern = json.loads(named(run, f"{host}-restart-rule").inputs["eventPattern"])
        alarm_arn = f"arn:aws:cloudwatch:us-east-1:{OFFLINE_ACCOUNT_ID}:{host}-system-check"
        assert pattern == {
            "source": ["aws.cloudwatch"],
            "detail-type": ["CloudWatch Alarm State Change"],
            "resources": [alarm_arn],
            "detail": {"state": {"value": ["ALARM"]}},
        }
        target = named(run, f"{host}-restart-target")
        assert target.inputs["arn"].endswith(f":automation-definition/{RESTART_RUNBOOK}:$DEFAULT")
        assert json.loads(target.inputs["input"]) == {
            "InstanceId": [offline_id(INSTANCE, f"{host}-instance")],
            "AutomationAssumeRole": [f"arn:aws:iam:us-east-1:{OFFLINE_ACCOUNT_ID}:{host}-restart"],
        }


@pytest.mark.parametrize(("instance_type", "recoverable"), [("p3.2xlarge", True), ("g6e.xlarge", False)])
def test_the_alarm_action_follows_the_types_recovery_support(
    pulumi_mocks: Recording, instance_type: str, recoverable: bool
) -> None:
    construct(lambda: gpu_host("h", instance_type=instance_type))
    alarm = named(pulumi_mocks, "h-system-check")
    assert (recover_action("us-east-1") in alarm.inputs["alarmActions"]) is recoverable
    restart = [r.name for r in pulumi_mocks.resources if r.type in (RULE, TARGET) or r.name.startswith("h-restart")]
    assert bool(restart) is not recoverable


def test_the_restart_roles_can_only_restart_their_own_host() -> None:
    run = run_stack("prod")

    def policy_of(name: str) -> list[Statement]:
        return statements([named(run, name).inputs["policy"]])

    own = f"arn:aws:ec2:us-east-1:{OFFLINE_ACCOUNT_ID}:qwen-8b-0-instance"
    other = f"arn:aws:ec2:us-east-1:{OFFLINE_ACCOUNT_ID}:qwen-8b-1-instance"
    automation = policy_of("qwen-8b-0-restart-instance")
    for action in ("ec2:StopInstances", "ec2:StartInstances"):
        assert decide(automation, action, own) == "allowed"
        assert decide(automation, action, other) == "implicitly denied"
    for action in ("ec2:TerminateInstances", "ec2:ModifyInstanceAttribute", "ec2:RebootInstances", "iam:PassRole"):
        assert decide(automation, action, own) == "implicitly denied"
    assert decide(automation, "ec2:DescribeInstances", "*") == "allowed"

    events = policy_of("qwen-8b-0-restart-events-start")
    runbook = f"arn:aws:ssm:us-east-1:{OFFLINE_ACCOUNT_ID}:automation-definition/{RESTART_RUNBOOK}:$DEFAULT"
    assert decide(events, "ssm:StartAutomationExecution", runbook) == "allowed"
    any_other = f"arn:aws:ssm:us-east-1:{OFFLINE_ACCOUNT_ID}:automation-definition/AWS-TerminateEC2Instance:$DEFAULT"
    assert decide(events, "ssm:StartAutomationExecution", any_other) == "implicitly denied"
    own_role = f"arn:aws:iam:us-east-1:{OFFLINE_ACCOUNT_ID}:qwen-8b-0-restart"
    for role in (f"arn:aws:iam:us-east-1:{OFFLINE_ACCOUNT_ID}:qwen-8b-1-restart", "arn:aws:iam::1:role/admin"):
        assert decide(events, "iam:PassRole", role) == "implicitly denied"
    assert decide(events, "iam:PassRole", own_role) == "allowed"
    # Each role is assumable by its one service only.
    trust = {
        name: json.loads(named(run, name).inputs["assumeRolePolicy"])["Statement"][0]["Principal"]
        for name in ("qwen-8b-0-restart", "qwen-8b-0-restart-events")
    }
    assert trust == {
        "qwen-8b-0-restart": {"Service": "ssm.amazonaws.com"},
        "qwen-8b-0-restart-events": {"Service": "events.amazonaws.com"},
    }
