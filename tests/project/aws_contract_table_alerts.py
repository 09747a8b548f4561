"""Contracts of the alerting and self-healing resources (#14): SNS topics, subscriptions and policy, CloudWatch
alarms, EventBridge rules and targets. Read as aws_contract_table.py; the provider code is cited per contract."""

from __future__ import annotations

from typing import Any

from aws_contract_rules import PA, TF, iam_tagging
from aws_contracts import AutoName, Contract, Member, Problem, Rule, Source, characters, one_of

ALNUM_DASH_UNDERSCORE = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"


def _period(value: Any) -> Problem:
    return None if value in (10, 20, 30) or value % 60 == 0 else f"{value:g} is neither 10, 20, 30 nor a multiple of 60"


def _ec2_actions(actions: Any) -> Problem:
    # The only EC2 action the stack uses is recover; anything else under arn:aws:automate would be a typo.
    bad = [a for a in actions if a.startswith("arn:aws:automate:") and not a.endswith(":ec2:recover")]
    return f"{bad} are not the recover action" if bad else None


def _alarm_dimensions(dimensions: Any) -> list[dict[str, Any]]:
    return [{"Name": key, "Value": value} for key, value in dimensions.items()]


ALERT_CONTRACTS = (
    Contract(
        type="aws:sns/topic:Topic",
        service="sns",
        created_by=f"CreateTopic, then SetTopicAttributes ({TF}sns/topic.go resourceTopicCreate)",
        # The generic tagging rules (the reserved aws: prefix); the list's limit is in the model.
        tags=iam_tagging("CreateTopic"),
        auto_name=AutoName(
            "CreateTopic.Name",
            256,
            PA + "autonaming.go (sns topic names: 256)",
            rules=(
                Rule(
                    "",
                    characters(ALNUM_DASH_UNDERSCORE),
                    Source(
                        "CreateTopic.Name",
                        "Topic names must be made up of only uppercase and lowercase ASCII letters, numbers, "
                        "underscores, and hyphens, and must be between 1 and 256 characters long.",
                        "sns",
                    ),
                ),
            ),
        ),
        unchecked={"displayName": "a topic attribute (CreateTopic.Attributes, a map of strings without limits)"},
    ),
    Contract(
        type="aws:sns/topicSubscription:TopicSubscription",
        service="sns",
        created_by=f"Subscribe ({TF}sns/topic_subscription.go resourceTopicSubscriptionCreate)",
        members=(
            Member("topic", "Subscribe.TopicArn", note="topic -> topic_arn"),
            Member("protocol", "Subscribe.Protocol"),
            Member("endpoint", "Subscribe.Endpoint"),
        ),
        rules=(
            Rule(
                "protocol",
                one_of("email"),
                Source("Subscribe.Protocol", "email – delivery of message via SMTP", "sns"),
            ),
        ),
    ),
    Contract(
        type="aws:sns/topicPolicy:TopicPolicy",
        service="sns",
        created_by=f"SetTopicAttributes AttributeName=Policy ({TF}sns/topic_policy.go resourceTopicPolicyUpsert)",
        members=(
            Member("arn", "SetTopicAttributes.TopicArn"),
            Member("policy", "SetTopicAttributes.AttributeValue"),
        ),
    ),
    Contract(
        type="aws:cloudwatch/metricAlarm:MetricAlarm",
        service="cloudwatch",
        created_by=f"PutMetricAlarm ({TF}cloudwatch/metric_alarm.go resourceMetricAlarmCreate)",
        members=(
            Member("alarmDescription", "PutMetricAlarm.AlarmDescription"),
            Member("namespace", "PutMetricAlarm.Namespace"),
            Member("metricName", "PutMetricAlarm.MetricName"),
            Member("dimensions", "PutMetricAlarm.Dimensions", note="a map in Pulumi", convert=_alarm_dimensions),
            Member("statistic", "PutMetricAlarm.Statistic"),
            Member("period", "PutMetricAlarm.Period", convert=int),
            Member("evaluationPeriods", "PutMetricAlarm.EvaluationPeriods", convert=int),
            Member("comparisonOperator", "PutMetricAlarm.ComparisonOperator"),
            Member("treatMissingData", "PutMetricAlarm.TreatMissingData"),
            Member("alarmActions", "PutMetricAlarm.AlarmActions"),
            Member("okActions", "PutMetricAlarm.OKActions"),
        ),
        rules=(
            Rule(
                "period",
                _period,
                Source("PutMetricAlarm.Period", "Valid values are 10, 20, 30, and any multiple of 60.", "cloudwatch"),
            ),
            Rule(
                "treatMissingData",
                one_of("breaching", "notBreaching", "ignore", "missing"),
                Source(
                    "PutMetricAlarm.TreatMissingData",
                    "Valid Values: breaching | notBreaching | ignore | missing",
                    "cloudwatch",
                ),
            ),
            Rule(
                "alarmActions",
                _ec2_actions,
                Source("PutMetricAlarm.AlarmActions", "arn:aws:automate:region:ec2:recover", "cloudwatch"),
            ),
        ),
        tags=iam_tagging("PutMetricAlarm"),
        unchecked={"threshold": "a double without bounds in the model"},
        auto_name=AutoName("PutMetricAlarm.AlarmName", 255, PA + "autonaming.go (alarm_name as name: 255)"),
    ),
    Contract(
        type="aws:cloudwatch/eventRule:EventRule",
        service="events",
        created_by=f"PutRule ({TF}events/rule.go resourceRuleCreate)",
        members=(
            Member("description", "PutRule.Description"),
            Member("eventPattern", "PutRule.EventPattern"),
        ),
        tags=iam_tagging("PutRule"),
        auto_name=AutoName("PutRule.Name", 64, TF + "events/rule.go validateRuleName (64)"),
    ),
    Contract(
        type="aws:cloudwatch/eventTarget:EventTarget",
        service="events",
        created_by=f"PutTargets ({TF}events/target.go resourceTargetCreate)",
        members=(
            Member("rule", "PutTargets.Rule"),
            Member("arn", "PutTargets.Targets[].Arn"),
            Member("roleArn", "PutTargets.Targets[].RoleArn"),
            Member("input", "PutTargets.Targets[].Input"),
        ),
    ),
)
