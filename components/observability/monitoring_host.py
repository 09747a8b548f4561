"""The dedicated monitoring host: a small non-GPU instance with its own data volume, and its Docker provider.

A helper, not a component: its resources keep the logical names and places the stack gave them from the start
(``monitoring-cache``, ``monitoring``, ``monitoring-docker`` at the stack's root), which a component would move
under itself (new URNs: a new host and an empty data volume).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import pulumi
import pulumi_aws as aws
import pulumi_docker as docker
from pydantic import BaseModel, ConfigDict, Field

from .._naming import MONITORING_ROLE, ROLE_TAG
from ..host.ami import MONITORING_AMI_PARAMETER, MONITORING_SSH_USER
from ..host.bootstrap import SECRETS_DIR
from ..host.gpu_host import GpuHost, GpuHostArgs
from ..host.model_cache import ModelCache, ModelCacheArgs
from ..host.secrets import WEBHOOK_ENV_NAME, HostSecrets
from ..host.ssh import AccessMode
from ..host.ssh_access import SshAccess, docker_provider, port_forward_command
from ..network.lookup import follow_cache
from ..network.placement import HostZones
from ..planner.cost import MONITORING_ROOT_VOLUME_GIB, MONITORING_VOLUME_GIB
from ..serving.host_commands import refresh_secrets
from ..serving.vllm_server import HostAccess
from .alertmanager import ALERTMANAGER_UID
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
    webhook_secret: Annotated[
        HostSecrets | None,
        Field(
            description="The alerts webhook URL's parameter (host.secrets.create_webhook_secret): fetched at boot "
            "into a file only Alertmanager's user can read. Default: none."
        ),
    ] = None
    tags: dict[str, str] = {}


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
        ModelCacheArgs(availability_zone=args.zones.spread[0].name, size_gib=MONITORING_VOLUME_GIB, tags=args.tags),
    )
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
            secret_parameters=args.webhook_secret.parameters if args.webhook_secret else {},
            secret_parameter_arns=args.webhook_secret.parameter_arns if args.webhook_secret else (),
            secret_owners={WEBHOOK_ENV_NAME: ALERTMANAGER_UID} if args.webhook_secret else {},
            root_volume_gib=MONITORING_ROOT_VOLUME_GIB,
            region=args.region,
            ssh_public_key=args.ssh.public_key,
            ssh_private_key=args.ssh.private_key,
            access_mode=args.access_mode,
            ssh_cidrs=args.ssh_cidrs,
            gpu=False,
            ssh_user=MONITORING_SSH_USER,
            packages=("docker",),
            ec2_discovery=True,
            tags={**args.tags, ROLE_TAG: MONITORING_ROLE},
        ),
    )
    provider = docker_provider(name, host, args.access_mode, args.region, args.ssh)
    webhook = None
    if args.webhook_secret is not None and args.webhook_secret.version is not None:
        access = HostAccess(
            mode=args.access_mode,
            region=args.region,
            target=host.access_target,
            ssh_private_key=args.ssh.private_key,
            user=MONITORING_SSH_USER,
        )
        webhook = WebhookUrlFile(
            host_path=f"{SECRETS_DIR}/{WEBHOOK_ENV_NAME}",
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
