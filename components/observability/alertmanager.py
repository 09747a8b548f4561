"""alertmanager.yml: where the alerts of the stack's Prometheus go, and the heartbeat that watches that path.

Pure: :func:`render_alertmanager_config` turns an :class:`AlertmanagerSpec` into the file the Alertmanager
container reads at :data:`ALERTMANAGER_CONFIG_PATH`. Fields are those of Alertmanager
:data:`ALERTMANAGER_IMAGE` (prometheus/alertmanager config/notifiers.go, notify/webhook/config.go and
notify/sns/sns.go at v0.34.0); ``amtool check-config`` checks every rendered file in the tests.

Receivers:

- ``alerts``: every alert but the watchdog. An SNS topic (email subscriptions are the topic's, created with it)
  and/or a webhook.
- ``heartbeat``: only the always-firing ``Watchdog`` rule (:mod:`.stack_alerts`), re-sent about every 2 minutes
  (``repeat_interval`` 1m, checked at each 1m ``group_interval`` tick: notify/dedup_stage.go needsUpdate). Point
  it at a dead-man's switch that alarms when the heartbeats stop: an SNS topic with no subscriber, watched by a
  CloudWatch alarm on its ``AWS/SNS NumberOfMessagesPublished`` (SNS reports it every 5 minutes: Sum per 5
  minutes below 1 for two periods, missing data breaching, alarm action the alerts topic), or the ping URL of a
  heartbeat service (expected every 2 minutes, a few minutes of grace). Then a dead Prometheus, Alertmanager,
  monitoring host or delivery path is noticed too.

SNS: Alertmanager signs with SigV4 in the topic's region (taken from its ARN; the SDK has no other source of the
region in the container) and takes credentials from the default chain, so on EC2 the monitoring host's instance
role (IMDSv2, reachable from a container with a hop limit of 2), which needs ``sns:Publish`` on both topics. No
key is ever written here. The subject is rendered ASCII and under SNS' 100-character limit: Alertmanager does
not shorten it, and SNS rejects a longer one (prometheus/alertmanager#2781).

Webhook URLs are secrets (they often carry a token): never in this file. Alertmanager reads them from
``url_file`` (:data:`ALERTS_WEBHOOK_URL_FILE`, :data:`HEARTBEAT_WEBHOOK_URL_FILE`, under
:data:`ALERTMANAGER_SECRETS_DIR`). The host puts them there, never this file or a container upload: its bootstrap
fetches each URL from an SSM SecureString at boot, as the GPU hosts fetch their secrets file, into a root-only
directory (0700), the file 0400 and owned by the image's user (``nobody``, 65534, its only reader), which the
container bind-mounts read-only.

Grouping by alert name and model makes one notification per failure and model. Inhibition: a missing GPU host
mutes the missing-server alerts of its replica, and, when hosts are known missing, the stack-wide "no replica
discovered" (whose cause they are). The watchdog is never inhibited.
"""

from __future__ import annotations

import re
from typing import Any, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .stack_alerts import WATCHDOG_ALERT

# v0.34.0 (2026-08-16): the newest release verified to exist (tag v0.34.0 in prometheus/alertmanager, commit
# 085f0ef7eb41da24cab8cd000f1345b6250f2edb; its CHANGELOG.md), and the one whose config code was read for this
# module. v0.34.2, pinned in phase A, could not be verified (the newest snapshot of the repository, 2026-08-22,
# ends at v0.34.0). quay.io, like the Prometheus image: a release tag's workflow publishes the images to Docker Hub
# and quay.io (.github/workflows/release.yml at v0.34.0: job publish_release, prometheus/promci publish_release with
# quay_io_login), and tianon/dockerfiles#1365 ("Update prometheus/alertmanager to 0.34.0") saw the release out.
ALERTMANAGER_IMAGE = "quay.io/prometheus/alertmanager:v0.34.0"
ALERTMANAGER_PORT = 9093
# The image's user: `USER nobody` (prometheus/alertmanager Dockerfile at v0.34.0), uid 65534 in its busybox base.
# The webhook URL's file on the host belongs to it (0400): nobody else in the container or on the host reads it.
ALERTMANAGER_UID = 65534
# Its container's name and alias on the monitoring Docker network, where Prometheus reaches it.
ALERTMANAGER_HOST = "alertmanager"
ALERTMANAGER_ADDRESS = f"{ALERTMANAGER_HOST}:{ALERTMANAGER_PORT}"  # PrometheusSpec.alertmanager
ALERTMANAGER_CONFIG_PATH = "/etc/alertmanager/alertmanager.yml"  # the image's default --config.file
ALERTMANAGER_SECRETS_DIR = "/etc/alertmanager/secrets"
ALERTS_WEBHOOK_URL_FILE = f"{ALERTMANAGER_SECRETS_DIR}/alerts-webhook-url"
HEARTBEAT_WEBHOOK_URL_FILE = f"{ALERTMANAGER_SECRETS_DIR}/heartbeat-webhook-url"

ALERTS_RECEIVER = "alerts"
HEARTBEAT_RECEIVER = "heartbeat"
GROUP_BY = ("alertname", "model")
SNS_SUBJECT_MAX = 99  # SNS Publish: "must be less than 100 characters long"
_SUBJECT_STACK_MAX = 32  # the stack name's share of the subject (Pulumi allows longer stack names)

# arn:<partition>:sns:<region>:<account>:<topic>; topic names are letters, digits, '-' and '_' (FIFO: '.fifo').
_TOPIC_ARN = re.compile(r"^arn:aws(-[a-z]+)*:sns:([a-z]{2}(-[a-z]+)+-\d+):\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$")
_STACK = re.compile(r"^[A-Za-z0-9_.-]+$")


class AlertDestination(BaseModel):
    """Where one receiver delivers: an SNS topic, a webhook whose URL is in the receiver's secret file, or both."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sns_topic_arn: str | None = None
    webhook: bool = False  # POST Alertmanager's webhook JSON to the URL in the receiver's url_file

    @field_validator("sns_topic_arn")
    @classmethod
    def _topic_arn(cls, value: str | None) -> str | None:
        if value is not None and not _TOPIC_ARN.fullmatch(value):
            raise ValueError(f"not an SNS topic ARN like 'arn:aws:sns:us-east-1:123456789012:alerts' (got {value!r})")
        return value

    @model_validator(mode="after")
    def _somewhere(self) -> Self:
        if self.sns_topic_arn is None and not self.webhook:
            raise ValueError("give an SNS topic ARN, a webhook, or both")
        return self


class AlertmanagerSpec(BaseModel):
    """The stack's alert delivery: one destination for alerts, one for the heartbeat."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stack: str  # named in every SNS subject
    alerts: AlertDestination
    heartbeat: AlertDestination
    repeat_interval_hours: int = Field(default=4, ge=1, le=24)  # re-send of a still-firing alert

    @field_validator("stack")
    @classmethod
    def _stack(cls, value: str) -> str:
        if not _STACK.fullmatch(value):
            raise ValueError(f"not a Pulumi stack name (letters, digits, '-', '_', '.') (got {value!r})")
        return value


def sns_subject(stack: str) -> str:
    """The SNS subject template: the stack, then status, count, alert name and model, cut to fit
    :data:`SNS_SUBJECT_MAX` characters whatever the labels hold (the template cuts, since labels arrive at run time).
    """
    prefix = f"{stack[:_SUBJECT_STACK_MAX]}: "
    room = SNS_SUBJECT_MAX - len(prefix)
    return (
        prefix + '{{ printf "[%s:%d] %s %s" (.Status | toUpper) (len .Alerts) .GroupLabels.alertname'
        ' .GroupLabels.model | reReplaceAll " +$" "" | reReplaceAll "^(.{1,' + str(room) + '}).*$" "$1" }}'
    )


def _receiver(name: str, destination: AlertDestination, url_file: str, stack: str) -> dict[str, Any]:
    receiver: dict[str, Any] = {"name": name}
    # A resolved watchdog means Prometheus stopped sending it: telling the switch would look like a heartbeat.
    send_resolved = name != HEARTBEAT_RECEIVER
    if destination.sns_topic_arn is not None:
        region = destination.sns_topic_arn.split(":")[3]
        receiver["sns_configs"] = [
            {
                "topic_arn": destination.sns_topic_arn,
                "sigv4": {"region": region},
                "subject": sns_subject(stack),
                "send_resolved": send_resolved,
            }
        ]
    if destination.webhook:
        receiver["webhook_configs"] = [{"url_file": url_file, "send_resolved": send_resolved}]
    return receiver


def _matcher(label: str, value: str) -> str:
    return f'{label}="{value}"'


def render_alertmanager_config(spec: AlertmanagerSpec) -> str:
    """alertmanager.yml: routes, inhibitions and the two receivers (see the module docstring)."""
    config: dict[str, Any] = {
        "route": {
            "receiver": ALERTS_RECEIVER,
            "group_by": list(GROUP_BY),
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": f"{spec.repeat_interval_hours}h",
            "routes": [
                {
                    "receiver": HEARTBEAT_RECEIVER,
                    "matchers": [_matcher("alertname", WATCHDOG_ALERT)],
                    "group_wait": "0s",
                    "group_interval": "1m",
                    "repeat_interval": "1m",
                }
            ],
        },
        "inhibit_rules": [
            {
                # The host is gone: its servers are gone with it, one alert says so.
                "source_matchers": [_matcher("alertname", "GpuHostMissing")],
                "target_matchers": [_matcher("alertname", "VllmReplicaMissing")],
                "equal": ["stack", "model", "replica"],
            },
            {
                # Known missing hosts explain an empty discovery better than a discovery problem does.
                "source_matchers": [_matcher("alertname", "GpuHostMissing")],
                "target_matchers": [_matcher("alertname", "VllmNoReplicaDiscovered")],
                "equal": ["stack"],
            },
        ],
        "receivers": [
            _receiver(ALERTS_RECEIVER, spec.alerts, ALERTS_WEBHOOK_URL_FILE, spec.stack),
            _receiver(HEARTBEAT_RECEIVER, spec.heartbeat, HEARTBEAT_WEBHOOK_URL_FILE, spec.stack),
        ],
    }
    header = (
        f"# Alertmanager of the vllm-aws stack {spec.stack!r}; rendered by components.observability.\n"
        f"# Webhook URLs are read from files under {ALERTMANAGER_SECRETS_DIR}, never written here.\n"
    )
    return header + yaml.safe_dump(config, sort_keys=False, width=1000)
