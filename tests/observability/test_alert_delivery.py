"""Alert delivery as the real program wires it: the SNS topics and their email subscriptions, the dead-man's
switch on the heartbeat, Alertmanager beside Prometheus (its config checked by amtool), and sns:Publish for the
one host that runs it (tests/host/test_alert_publishing.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from stack_runs import named, of_type, run_stack
from test_alertmanager import amtool, checkable

from components.cli.program import OFFLINE_ACCOUNT_ID, resolved
from components.observability import ALERTMANAGER_IMAGE
from components.observability.alert_delivery import email_key

TOPIC = "aws:sns/topic:Topic"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
EMAILS = ["ops@example.com", "oncall@example.org"]


def topic_arn(name: str) -> str:
    return f"arn:aws:sns:us-east-1:{OFFLINE_ACCOUNT_ID}:{name}"


def test_alerts_go_to_a_topic_with_the_configured_email_subscriptions() -> None:
    run = run_stack("prod", monitoring={"alerts": {"emails": EMAILS}})
    assert sorted(t.name for t in of_type(run, TOPIC)) == ["alerts-heartbeat-topic", "alerts-topic"]
    subscriptions = {s.name: s.inputs for s in of_type(run, SUBSCRIPTION)}
    assert subscriptions == {
        f"alerts-email-{email_key(email)}": {"topic": topic_arn("alerts-topic"), "protocol": "email", "endpoint": email}
        for email in EMAILS
    }
    # Only this account's CloudWatch alarms may publish through the topic policy.
    (statement,) = json.loads(named(run, "alerts-topic-policy").inputs["policy"])["Statement"]
    assert statement["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert statement["Action"] == "sns:Publish" and statement["Resource"] == topic_arn("alerts-topic")
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": OFFLINE_ACCOUNT_ID}}
    assert resolved(run.outputs["monitoring"]["alertsTopicArn"]) == topic_arn("alerts-topic")


def test_a_silent_heartbeat_alarms_on_the_alerts_topic() -> None:
    alarm = named(run_stack("prod"), "alerts-heartbeat-alarm").inputs
    assert (alarm["namespace"], alarm["metricName"], alarm["statistic"]) == (
        "AWS/SNS",
        "NumberOfMessagesPublished",
        "Sum",
    )
    assert (alarm["period"], alarm["evaluationPeriods"], alarm["comparisonOperator"], alarm["threshold"]) == (
        300,
        2,
        "LessThanThreshold",
        1,
    )
    # No heartbeat at all is no data point at all: that must alarm.
    assert alarm["treatMissingData"] == "breaching"
    assert alarm["alarmActions"] == [topic_arn("alerts-topic")]


@pytest.mark.parametrize(("stack", "host"), [("prod", "monitoring"), ("dev", "qwen-7b-0")])
def test_alertmanager_runs_beside_prometheus_and_its_wired_config_passes_amtool(
    tmp_path: Path, stack: str, host: str
) -> None:
    run = run_stack(stack)
    alertmanager = named(run, "monitoring-alertmanager")
    assert alertmanager.options["provider"] == f"{host}-docker"
    assert named(run, "monitoring-alertmanager-image").inputs["name"] == ALERTMANAGER_IMAGE
    assert [n["aliases"] for n in alertmanager.inputs["networksAdvanced"]] == [["alertmanager"]]
    assert "ports" not in alertmanager.inputs  # reached on the monitoring network only
    assert "--cluster.listen-address=" in alertmanager.inputs["command"]
    (upload,) = alertmanager.inputs["uploads"]
    config = yaml.safe_load(upload["content"])
    topics = {r["name"]: r["sns_configs"][0]["topic_arn"] for r in config["receivers"]}
    assert topics == {"alerts": topic_arn("alerts-topic"), "heartbeat": topic_arn("alerts-heartbeat-topic")}
    path = tmp_path / "alertmanager.yml"
    path.write_text(checkable(upload["content"]))
    result = amtool("check-config", path)
    assert result.returncode == 0, result.stdout + result.stderr
    prometheus = {u["file"]: u["content"] for u in named(run, "monitoring-prometheus").inputs["uploads"]}
    alerting = yaml.safe_load(prometheus["/etc/prometheus/prometheus.yml"])["alerting"]
    assert alerting == {"alertmanagers": [{"static_configs": [{"targets": ["alertmanager:9093"]}]}]}


def test_without_monitoring_nothing_of_the_delivery_is_created() -> None:
    run = run_stack("prod", monitoring={"enabled": False})
    assert of_type(run, TOPIC) == [] and of_type(run, SUBSCRIPTION) == []
    assert not [r for r in run.resources if r.name.startswith("alerts-")]
