"""A GPU host that fails its system status check is moved to healthy hardware, keeping its id and volumes.

Every GPU host gets ``<host>-system-check``, a CloudWatch alarm on ``AWS/EC2 StatusCheckFailed_System`` (the
hardware, network or power under the instance: AWS's side) of its instance: Maximum over 1 minute, 2 periods in a
row (the EC2 User Guide's recover-alarm example), missing data left missing, so a stopped host (which reports
nothing) never triggers a restart. Its action depends on what the type supports
(``aws.ec2.get_instance_type(...).auto_recovery_supported``: DescribeInstanceTypes ``AutoRecoverySupported``,
"whether Amazon CloudWatch action based recovery is supported", botocore ``ec2`` service model):

- **recover** (``arn:aws:automate:<region>:ec2:recover``): EC2 moves the instance to new hardware and keeps its id,
  private and public IPv4 addresses, EBS volumes and metadata. Only types without instance store volumes qualify
  (EC2 User Guide ``ec2-instance-recover.md``, awsdocs/amazon-ec2-user-guide @e3707c4: of the accelerated types
  G3, G3s, G5g, Inf1, P2, P3, VT1), and CloudWatch refuses the action on an alarm of any other type.
- **stop and start** otherwise (every other GPU type here carries local NVMe): EventBridge rule
  ``<host>-restart-rule`` matches this alarm's ``CloudWatch Alarm State Change`` into ``ALARM`` (CloudWatch
  guarantees their delivery to EventBridge) and starts the SSM Automation runbook ``AWS-RestartEC2Instance`` for
  this instance (``<host>-restart-target``). A stop and start moves the instance to another host computer and keeps
  its id, private IPv4 address and EBS volumes (EC2 User Guide ``Stop_Start.md``): Pulumi's state stays true, and
  the bootstrap's systemd unit mounts the cache and re-earns readiness at boot; Docker restarts the containers
  (``restart: unless-stopped``). It loses the instance store (unused: the caches are on EBS) and an auto-assigned
  public IPv4 address (see docs/operations.md: the control path uses the instance id or the private address).

Least privilege, one host each: ``<host>-restart-events`` (assumed by EventBridge) may only start that runbook and
pass ``<host>-restart``; ``<host>-restart`` (assumed by SSM Automation) may only stop and start this instance
(``Describe*`` cannot be scoped to a resource, so they are on ``*``). The volumes use the AWS-managed EBS key, so
starting the instance needs no KMS grant.
"""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from .._naming import child_name, merge_tags
from . import iam

# The AWS-owned runbook stops, then starts (not a reboot, which would stay on the failing hardware): its document,
# as AWS publishes it in awslabs/aws-systems-manager Automation/RestartInstance/Documents/aws-RestartEC2Instance.json
# (commit de4e6872de8a3ce58df759600f3bd5fd427f54c5), has two steps, "stopInstances" (aws:changeInstanceState,
# DesiredState stopped) then "startInstances" (DesiredState running), on the StringList parameter InstanceId, run
# as AutomationAssumeRole. What a stop and start keeps (EC2 User Guide Stop_Start.md, awsdocs/amazon-ec2-user-guide
# @e3707c431483ec0ffffcabebd36cf799ba682cd0): "The instance retains its instance ID"; "The EBS volumes remain
# attached"; "In most cases, the instance is migrated to a new underlying host computer"; "the data on any
# instance store volumes is erased". The repository's copy may lag the live document
# (`aws ssm get-document --name AWS-RestartEC2Instance` shows it).
RESTART_RUNBOOK = "AWS-RestartEC2Instance"
ALARM_PERIOD_SECONDS = 60
ALARM_EVALUATION_PERIODS = 2


def recover_action(region: str) -> str:
    """The CloudWatch alarm action that recovers an instance (botocore ``cloudwatch`` PutMetricAlarm AlarmActions)."""
    return f"arn:aws:automate:{region}:ec2:recover"


def runbook_arn(region: str, account_id: str) -> str:
    """The default version of the AWS-owned restart runbook, as an EventBridge target ARN."""
    return f"arn:aws:ssm:{region}:{account_id}:automation-definition/{RESTART_RUNBOOK}:$DEFAULT"


def alarm_event_pattern(alarm_arn: str) -> str:
    """This alarm entering ALARM (EventBridge "CloudWatch Alarm State Change" events carry the alarm's ARN)."""
    return json.dumps(
        {
            "source": ["aws.cloudwatch"],
            "detail-type": ["CloudWatch Alarm State Change"],
            "resources": [alarm_arn],
            "detail": {"state": {"value": ["ALARM"]}},
        }
    )


def start_runbook_policy(region: str, account_id: str, automation_role_arn: str) -> str:
    """EventBridge's role: start the restart runbook and hand it this host's automation role, nothing else."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "StartTheRestartRunbook",
                    "Effect": "Allow",
                    "Action": "ssm:StartAutomationExecution",
                    "Resource": f"arn:aws:ssm:{region}:{account_id}:automation-definition/{RESTART_RUNBOOK}:*",
                },
                {
                    "Sid": "PassThisHostsAutomationRole",
                    "Effect": "Allow",
                    "Action": "iam:PassRole",
                    "Resource": automation_role_arn,
                },
            ],
        }
    )


def restart_instance_policy(instance_arn: str) -> str:
    """The runbook's role: stop and start this one instance, and read instance state to wait for it."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "StopAndStartThisHost",
                    "Effect": "Allow",
                    "Action": ["ec2:StopInstances", "ec2:StartInstances"],
                    "Resource": instance_arn,
                },
                {
                    "Sid": "WaitForItsState",
                    "Effect": "Allow",
                    "Action": ["ec2:DescribeInstances", "ec2:DescribeInstanceStatus"],
                    "Resource": "*",
                },
            ],
        }
    )


def auto_recovery_supported(instance_type: str) -> bool:
    """Whether CloudWatch's recover action works for this type (DescribeInstanceTypes ``AutoRecoverySupported``).

    A synchronous invoke: read it once per type, not once per host (each call waits for the registrations queued so
    far; 32 hosts cost the offline plan about 2.7 s, benchmarks/README.md).
    """
    try:
        return bool(aws.ec2.get_instance_type(instance_type=instance_type).auto_recovery_supported)
    except Exception as error:  # an invoke failure is a plain Exception: take the path every type supports
        pulumi.log.warn(
            f"could not describe {instance_type} ({error}): its hosts' system-check alarms stop and start them "
            "through SSM Automation (which works on every type) rather than use EC2's recover action. Grant the "
            "deploying role ec2:DescribeInstanceTypes so the preview can tell which applies."
        )
        return False


def heal_host(
    name: str,
    instance: aws.ec2.Instance,
    *,
    recoverable: bool,
    region: str,
    notify_topic_arn: str | pulumi.Output[str] | None,
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> aws.cloudwatch.MetricAlarm:
    """The system-check alarm of one host and, where EC2 cannot recover its type, its stop-and-start path."""
    child = pulumi.ResourceOptions(parent=parent)
    notify = [notify_topic_arn] if notify_topic_arn is not None else []
    alarm_name = child_name(name, "system-check")
    alarm = aws.cloudwatch.MetricAlarm(
        alarm_name,
        alarm_description=(
            f"vllm-aws host {name}: the EC2 system status check failed (AWS hardware, network or power). "
            + (
                "EC2 recovers the instance onto new hardware."
                if recoverable
                else f"{RESTART_RUNBOOK} stops and starts it."
            )
        ),
        namespace="AWS/EC2",
        metric_name="StatusCheckFailed_System",
        dimensions={"InstanceId": instance.id},
        statistic="Maximum",
        period=ALARM_PERIOD_SECONDS,
        evaluation_periods=ALARM_EVALUATION_PERIODS,
        comparison_operator="GreaterThanOrEqualToThreshold",
        threshold=1,
        treat_missing_data="missing",
        alarm_actions=[recover_action(region), *notify] if recoverable else notify,
        ok_actions=notify,
        tags=merge_tags(tags, name=alarm_name),
        opts=child,
    )
    if recoverable:
        return alarm
    account_id = instance.arn.apply(lambda arn: arn.split(":")[4])
    automation_role = aws.iam.Role(
        child_name(name, "restart"),
        assume_role_policy=iam.assume_role_policy("ssm.amazonaws.com"),
        description=f"vllm-aws host {name}: {RESTART_RUNBOOK} stops and starts this host only",
        tags=merge_tags(tags, name=child_name(name, "restart")),
        opts=child,
    )
    aws.iam.RolePolicy(
        child_name(name, "restart-instance"),
        role=automation_role.name,
        policy=instance.arn.apply(restart_instance_policy),
        opts=child,
    )
    events_role = aws.iam.Role(
        child_name(name, "restart-events"),
        assume_role_policy=iam.assume_role_policy("events.amazonaws.com"),
        description=f"vllm-aws host {name}: EventBridge starts {RESTART_RUNBOOK} for this host only",
        tags=merge_tags(tags, name=child_name(name, "restart-events")),
        opts=child,
    )
    aws.iam.RolePolicy(
        child_name(name, "restart-events-start"),
        role=events_role.name,
        policy=pulumi.Output.all(account_id, automation_role.arn).apply(
            lambda values: start_runbook_policy(region, str(values[0]), str(values[1]))
        ),
        opts=child,
    )
    rule = aws.cloudwatch.EventRule(
        child_name(name, "restart-rule"),
        description=f"vllm-aws host {name}: system check failed -> {RESTART_RUNBOOK}",
        event_pattern=alarm.arn.apply(alarm_event_pattern),
        tags=merge_tags(tags, name=child_name(name, "restart-rule")),
        opts=child,
    )
    aws.cloudwatch.EventTarget(
        child_name(name, "restart-target"),
        rule=rule.name,
        arn=account_id.apply(lambda account: runbook_arn(region, account)),
        role_arn=events_role.arn,
        # StartAutomationExecution takes every parameter as a list of strings (botocore ssm AutomationParameterMap).
        input=pulumi.Output.all(instance.id, automation_role.arn).apply(
            lambda values: json.dumps({"InstanceId": [str(values[0])], "AutomationAssumeRole": [str(values[1])]})
        ),
        opts=child,
    )
    return alarm
