"""Where the stack's alerts go: the SNS topics Alertmanager publishes to, and the dead-man's switch on its heartbeat.

Resources at the stack's root (their logical names are the stack's contract, like the secrets' parameters):

- ``alerts-topic``: every alert (Alertmanager's ``alerts`` receiver, the GPU hosts' system-check alarms and the
  heartbeat alarm), with one ``email`` subscription per ``monitoring.alerts.emails`` entry
  (``alerts-email-<hash>``; SNS mails a confirmation link first, and delivers nothing to the address until it is
  followed). ``alerts-topic-policy`` lets this account's CloudWatch alarms publish to it and no other account.
- ``alerts-heartbeat-topic``: only the always-firing ``Watchdog``, about every 2 minutes (see :mod:`.alertmanager`).
  No subscriber: ``alerts-heartbeat-alarm`` watches its ``AWS/SNS NumberOfMessagesPublished`` (SNS reports it per
  5 minutes) and notifies the alerts topic when two 5-minute periods in a row have none, missing data counted as
  breaching: a dead Prometheus, Alertmanager, monitoring host or IAM grant stops the heartbeat, so it alarms too.
- ``<host>-publish-alerts``: ``sns:Publish`` on exactly these two topics for the role of the host that runs
  Alertmanager (the dedicated monitoring host, or the first GPU host when colocated), whose credentials the
  Alertmanager container reads from IMDSv2 (hop limit 2 there, :class:`~components.host.gpu_host.GpuHost`).

CloudWatch alarm fields and limits: botocore ``cloudwatch`` PutMetricAlarm (``TreatMissingData`` ``breaching``,
``ComparisonOperator`` ``LessThanThreshold``); SNS metrics: "Amazon SNS metrics" (``NumberOfMessagesPublished``,
dimension ``TopicName``, reported every 5 minutes), SNS Developer Guide.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .._naming import child_name
from ..host.gpu_host import GpuHost

HEARTBEAT_PERIOD_SECONDS = 300  # SNS publishes its CloudWatch metrics every 5 minutes
HEARTBEAT_MISSED_PERIODS = 2  # 10 minutes without a heartbeat alarms


@dataclass(frozen=True)
class AlertTopics:
    """What :func:`create_alert_topics` registered: the two topics Alertmanager publishes to."""

    alerts_arn: pulumi.Output[str]
    heartbeat_arn: pulumi.Output[str]

    def allow_publishing(self, host_name: str, host: GpuHost) -> aws.iam.RolePolicy:
        """``sns:Publish`` on exactly these topics for the role of the host that runs Alertmanager."""
        return aws.iam.RolePolicy(
            child_name(host_name, "publish-alerts"),
            role=host.role.name,
            policy=pulumi.Output.all(self.alerts_arn, self.heartbeat_arn).apply(
                lambda arns: publish_policy([str(arn) for arn in arns])
            ),
            opts=pulumi.ResourceOptions(parent=host),
        )


def publish_policy(topic_arns: list[str]) -> str:
    """Identity policy: publish to these topics, nothing else (SNS supports topic-level resources for Publish)."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "PublishAlerts", "Effect": "Allow", "Action": "sns:Publish", "Resource": sorted(topic_arns)}
            ],
        }
    )


def alarms_may_publish_policy(topic_arn: str, account_id: str) -> str:
    """Topic policy: CloudWatch alarms of this account publish (SNS Developer Guide, "Amazon SNS access control
    case examples": the ``cloudwatch.amazonaws.com`` principal with ``aws:SourceAccount``). Principals of the
    account publish through their identity policies (as the Alertmanager host's role does); no other account can."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "ThisAccountsAlarms",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudwatch.amazonaws.com"},
                    "Action": "sns:Publish",
                    "Resource": topic_arn,
                    "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
                },
            ],
        }
    )


def email_key(email: str) -> str:
    """A stable key for an address in a logical name: addresses hold characters URNs should not carry."""
    return hashlib.sha256(email.lower().encode()).hexdigest()[:10]


def create_alert_topics(stack: str, account_id: str, emails: tuple[str, ...], tags: dict[str, str]) -> AlertTopics:
    """The alerts and heartbeat topics, the email subscriptions, and the heartbeat's dead-man's switch."""
    alerts = aws.sns.Topic(
        "alerts-topic", display_name=f"vllm-aws {stack}"[:100], tags={**tags, "Name": "alerts-topic"}
    )
    aws.sns.TopicPolicy(
        "alerts-topic-policy",
        arn=alerts.arn,
        policy=alerts.arn.apply(lambda arn: alarms_may_publish_policy(arn, account_id)),
    )
    for email in emails:
        aws.sns.TopicSubscription(
            f"alerts-email-{email_key(email)}", topic=alerts.arn, protocol="email", endpoint=email
        )
    heartbeat = aws.sns.Topic("alerts-heartbeat-topic", tags={**tags, "Name": "alerts-heartbeat-topic"})
    aws.cloudwatch.MetricAlarm(
        "alerts-heartbeat-alarm",
        alarm_description=(
            f"vllm-aws {stack}: no alerting heartbeat for {HEARTBEAT_MISSED_PERIODS * HEARTBEAT_PERIOD_SECONDS // 60}"
            " minutes. Prometheus, Alertmanager, the monitoring host or its sns:Publish grant is down: no other"
            " alert of the stack would get through."
        ),
        namespace="AWS/SNS",
        metric_name="NumberOfMessagesPublished",
        dimensions={"TopicName": heartbeat.name},
        statistic="Sum",
        period=HEARTBEAT_PERIOD_SECONDS,
        evaluation_periods=HEARTBEAT_MISSED_PERIODS,
        comparison_operator="LessThanThreshold",
        threshold=1,
        # No heartbeat published means no data point at all: that is exactly the failure to catch.
        treat_missing_data="breaching",
        alarm_actions=[alerts.arn],
        ok_actions=[alerts.arn],
        tags=tags,
    )
    return AlertTopics(alerts_arn=alerts.arn, heartbeat_arn=heartbeat.arn)
