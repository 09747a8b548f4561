"""The dedicated monitoring host: a small non-GPU instance with its own data volume, and its Docker provider.

A helper, not a component: its resources keep the logical names and places the stack gave them from the start
(``monitoring-cache``, ``monitoring``, ``monitoring-docker`` at the stack's root), which a component would move
under itself (new URNs: a new host and an empty data volume).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Self

import pulumi
import pulumi_aws as aws
import pulumi_docker as docker
from pydantic import BaseModel, ConfigDict, Field, model_validator

from .._naming import MONITORING_ROLE, ROLE_TAG
from ..host.ami import MONITORING_AMI_PARAMETER, MONITORING_SSH_USER
from ..host.gpu_host import GpuHost, GpuHostArgs
from ..host.model_cache import ModelCache, ModelCacheArgs
from ..host.secrets import ServiceSecret
from ..host.ssh import AccessMode
from ..host.ssh_access import SshAccess, docker_provider, port_forward_command
from ..network.lookup import follow_cache
from ..network.placement import HostZones
from ..planner.cost import MONITORING_ROOT_VOLUME_GIB, MONITORING_VOLUME_GIB
from ..serving.host_commands import refresh_secrets
from ..serving.vllm_server import HostAccess
from .prometheus import GRAFANA_PORT, PROMETHEUS_PORT

StrInput = str | pulumi.Output[str]


class MonitoringHostArgs(BaseModel):
    """Inputs of :func:`create_monitoring_host`."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    instance_type: Annotated[str, Field(description="A small non-GPU type, e.g. t3.medium.")]
    zones: Annotated[
        HostZones,
        Field(description="Where it may run (network.lookup.place_monitoring); its data volume starts in the first."),
    ]
    vpc_id: StrInput
    associate_public_ip: Annotated[bool, Field(description="True in subnets without NAT (default VPC).")] = False
    region: str
    ssh: SshAccess
    access_mode: AccessMode = "ssm"
    ssh_cidrs: tuple[str, ...] = ()
    kms_key_arn: Annotated[StrInput | None, Field(description="Volumes' customer managed key. Default: aws/ebs.")] = (
        None
    )
    service_secrets: Annotated[
        tuple[ServiceSecret, ...],
        Field(description="Secrets of its containers, fetched at boot (Grafana's password). Default: none."),
    ] = ()
    webhook_secret: Annotated[
        ServiceSecret | None,
        Field(
            description="The alerts webhook URL's service secret (host.secrets.create_webhook_secret): fetched at "
            "boot into a file only Alertmanager's user can read, re-fetched when its version changes. Default: none."
        ),
    ] = None
    tags: dict[str, str] = {}

    @model_validator(mode="after")
    def _webhook_has_a_version(self) -> Self:
        if self.webhook_secret is not None and self.webhook_secret.version is None:
            raise ValueError("webhook_secret needs its parameter's version: a new URL must reach Alertmanager")
        return self


@dataclass(frozen=True)
class MonitoringHost:
    """What :func:`create_monitoring_host` registered."""

    host: GpuHost
    data: ModelCache
    docker_provider: docker.Provider
    webhook_url_file: WebhookUrlFile | None = None


@dataclass(frozen=True)
class WebhookUrlFile:
    """The alerts webhook URL's file on the monitoring host, and when its current value is there."""

    host_path: str
    version: pulumi.Output[str]
    """The parameter's version: Alertmanager is replaced with it, so it binds the file of the new value."""
    fetched: pulumi.Resource
    """Re-fetches the secrets on the host when the version changes (the bootstrap fetched them at boot)."""


def create_monitoring_host(args: MonitoringHostArgs, name: str = "monitoring") -> MonitoringHost:
    """The host (Amazon Linux, Docker from packages, EC2 discovery allowed) in the zone its data volume is in."""
    data = ModelCache(
        f"{name}-cache",
        ModelCacheArgs(
            availability_zone=args.zones.spread[0].name,
            size_gib=MONITORING_VOLUME_GIB,
            kms_key_arn=args.kms_key_arn,
            tags=args.tags,
        ),
    )
    # The webhook URL is one more service secret (owned by Alertmanager's user), fetched like Grafana's password.
    service_secrets = (*args.service_secrets, *((args.webhook_secret,) if args.webhook_secret else ()))
    host = GpuHost(
        name,
        GpuHostArgs(
            instance_type=args.instance_type,
            ami_id=aws.ssm.get_parameter(name=MONITORING_AMI_PARAMETER).value,
            vpc_id=args.vpc_id,
            # Like the GPU hosts: in the zone its data volume really is in.
            subnet_id=follow_cache(data.availability_zone, args.zones.subnets, name, args.instance_type),
            availability_zone=data.availability_zone,
            associate_public_ip=args.associate_public_ip,
            cache_volume_id=data.volume_id,
            root_volume_gib=MONITORING_ROOT_VOLUME_GIB,
            kms_key_arn=args.kms_key_arn,
            region=args.region,
            ssh_public_key=args.ssh.public_key,
            ssh_private_key=args.ssh.private_key,
            access_mode=args.access_mode,
            ssh_cidrs=args.ssh_cidrs,
            service_secrets=service_secrets,
            # The stack's one key encrypts its SecureStrings too (Grafana's password, the webhook URL): decrypt
            # through SSM.
            secrets_kms_key_arn=args.kms_key_arn if service_secrets else None,
            gpu=False,
            ssh_user=MONITORING_SSH_USER,
            packages=("docker",),
            ec2_discovery=True,
            tags={**args.tags, ROLE_TAG: MONITORING_ROLE},
        ),
    )
    provider = docker_provider(name, host, args.access_mode, args.region, args.ssh)
    webhook = None
    if args.webhook_secret is not None and args.webhook_secret.version is not None:  # always: _webhook_has_a_version
        access = HostAccess(
            mode=args.access_mode,
            region=args.region,
            target=host.access_target,
            ssh_private_key=args.ssh.private_key,
            user=MONITORING_SSH_USER,
        )
        webhook = WebhookUrlFile(
            host_path=args.webhook_secret.host_path,
            version=pulumi.Output.from_input(args.webhook_secret.version),
            fetched=refresh_secrets(name, access, args.webhook_secret.version, host_ready=host.readiness, parent=host),
        )
    return MonitoringHost(host=host, data=data, docker_provider=provider, webhook_url_file=webhook)


def monitoring_outputs(
    instance_id: pulumi.Output[str], region: str, alerts_topic_arn: pulumi.Output[str] | None = None
) -> dict[str, pulumi.Output[str]]:
    """The stack's ``monitoring`` output: the host, the commands that forward its UIs to localhost (SSM), and the
    alerts topic (subscribe more endpoints to it)."""
    outputs = {
        "instanceId": instance_id,
        "prometheus": port_forward_command(instance_id, region, PROMETHEUS_PORT),
        "grafana": port_forward_command(instance_id, region, GRAFANA_PORT),
    }
    if alerts_topic_arn is not None:
        outputs["alertsTopicArn"] = alerts_topic_arn
    return outputs
