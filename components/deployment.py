"""VllmDeployment: one model served by N replicas — hosts, caches, vLLM servers, exporters and its ALB routes."""

import math
from typing import Annotated, Self

import pulumi
import pulumi_aws as aws
import pulumi_docker as docker
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ._naming import (
    GPU_HOST_ROLE,
    MODEL_TAG,
    REPLICA_TAG,
    ROLE_TAG,
    SERVER_MODEL_LABEL,
    SERVERS_TAG,
    child_name,
    type_token,
)
from .catalog.cuda import driver_requirement
from .config.schema import DEFAULT_IMAGE as DEFAULT_VLLM_IMAGE
from .config.schema import AwsRegion, PinnedImage
from .config.sections import AccessConfig, CacheConfig, ModelConfig
from .host import ssh_access
from .host.ami import DLAMI_SSH_USER
from .host.gpu_host import GpuHost, GpuHostArgs
from .host.model_cache import ModelCache, ModelCacheArgs
from .host.secrets import HostSecrets
from .host.ssh_access import SshAccess
from .network import routing
from .network.load_balancer import LoadBalancer, LoadBalancerArgs
from .network.lookup import follow_cache
from .network.model_endpoint import ModelEndpoint, ModelEndpointArgs, Target
from .network.placement import HostPlacement
from .planner.context import PlanContext
from .planner.plan import ModelPlan, plan_model
from .planner.root_disk import DEFAULT_ROOT_VOLUME_GIB
from .planner.vllm_args import render_args
from .serving import container_spec as containers
from .serving import health_wait
from .serving.host_commands import install_watchdog, refresh_secrets
from .serving.host_exporters import HostExporters, HostExportersArgs
from .serving.vllm_server import HostAccess, ImageBuild, VllmServer, VllmServerArgs

StrInput = str | pulumi.Output[str]


class ExistingEndpoint(BaseModel):
    """An ALB listener (this stack's or another's) to attach the model's routes to."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    listener_arn: StrInput
    security_group_id: StrInput
    rule_priority: Annotated[
        int | None,
        Field(
            ge=routing.STACK_PRIORITIES.start,
            le=routing.ATTACHED_PRIORITIES.stop - 1,
            description="Priority of the model's path rule, unique on the listener (its host rule: +25000). "
            "Default: derived from the model name in 10001-20000, the range vllm-aws keeps for models attached "
            "from other stacks (a vllm-aws stack's own models use 1-10000).",
        ),
    ] = None
    domain: str | None = None
    idle_timeout_seconds: Annotated[int, Field(ge=1, le=4000)] = 600

    @classmethod
    def of(cls, load_balancer: LoadBalancer, rule_priority: int | None = None) -> Self:
        """The listener of a :class:`LoadBalancer` this program creates, with its domain and idle timeout."""
        return cls(
            listener_arn=load_balancer.listener_arn,
            security_group_id=load_balancer.security_group_id,
            rule_priority=rule_priority,
            domain=load_balancer.domain,
            idle_timeout_seconds=load_balancer.idle_timeout_seconds,
        )


class VllmDeploymentArgs(BaseModel):
    """Inputs of a :class:`VllmDeployment`. Defaults are the stack's: pinned image, gp3 caches, SSM access."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    model: Annotated[ModelConfig, Field(description="The model entry, as in the stack config's `models`.")]
    region: AwsRegion
    vpc_id: StrInput
    placements: Annotated[
        tuple[HostPlacement, ...],
        Field(
            min_length=1,
            description="One per host: ⌈replicas / replicasPerHost⌉. Where a host's new cache volume is created; "
            "the host then runs in the zone its cache is in.",
        ),
    ]
    zone_subnets: Annotated[
        dict[str, str],
        Field(
            description="AZ -> host subnet in every zone the type may run in, so a host whose cache was created "
            "in a zone not its placement's (an earlier spread) finds a subnet there. Default: the placements' zones."
        ),
    ] = {}
    associate_public_ip: Annotated[bool, Field(description="True in subnets without NAT (default VPC).")] = False
    ami_id: StrInput
    image: Annotated[PinnedImage, Field(description="Pinned vllm/vllm-openai image.")] = DEFAULT_VLLM_IMAGE
    pinned_images: dict[str, str] = {}  # scripts/gen_api_docs.py describes it
    image_build: Annotated[ImageBuild | None, Field(description="Build a custom image on the hosts.")] = None
    root_volume_gib: Annotated[int, Field(ge=1, description="Hosts' gp3 root volume.")] = DEFAULT_ROOT_VOLUME_GIB
    cache: CacheConfig = CacheConfig()
    access: AccessConfig = AccessConfig()
    ssh: SshAccess
    secrets: HostSecrets
    kms_key_arn: Annotated[StrInput | None, Field(description="The volumes' KMS key. Default: aws/ebs.")] = None
    endpoint: Annotated[
        ExistingEndpoint | None, Field(description="Attach to this listener. Default: a new ALB (new_load_balancer).")
    ] = None
    new_load_balancer: Annotated[LoadBalancerArgs | None, Field(description="An ALB for this model alone.")] = None
    prometheus_discovery: Annotated[
        bool,
        Field(
            description="The first host runs Prometheus (colocated): its role may discover EC2 targets and its "
            "containers reach the role's credentials (IMDS hop limit 2; other hosts: 1)."
        ),
    ] = False
    alarm_topic_arn: Annotated[
        StrInput | None, Field(description="SNS topic the hosts' system-check alarms notify. Default: none.")
    ] = None
    auto_recovery_supported: Annotated[
        bool | None,
        Field(description="EC2 can recover the instance type (GpuHostArgs). Default: each host looks it up."),
    ] = None
    tags: dict[str, str] = {}

    @model_validator(mode="after")
    def _one_front_door(self) -> Self:
        if (self.endpoint is None) == (self.new_load_balancer is None):
            raise ValueError("give exactly one of endpoint (an existing listener) or new_load_balancer")
        return self


class VllmDeployment(pulumi.ComponentResource):
    """A model behind an ALB: sized and checked by the planner, one GpuHost + ModelCache per host, one
    VllmServer per replica, exporters on every host, and the model's target group and routes.

    Python callers also get ``plan`` (the planner's decision: instance, fit, cold start, cost), ``hosts`` and
    ``caches`` (by host name ``<model>-<n>``) and ``docker_providers`` (one per host, to run more containers
    there). Only the Output attributes below are part of the cross-language schema.
    """

    host_security_group_ids: pulumi.Output[dict[str, str]]
    """Security group of each host (admit scrapers to them)."""
    target_group_arn: pulumi.Output[str]
    """The model's target group."""
    base_url: pulumi.Output[str] | None
    """OpenAI base URL when the deployment created its own ALB (else unset)."""

    def __init__(self, name: str, args: VllmDeploymentArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(type_token("VllmDeployment"), name, None, opts)
        self.plan: ModelPlan = _plan(args)
        model = self.plan.config
        hosts_needed = math.ceil(model.replicas / model.replicas_per_host)
        if len(args.placements) != hosts_needed:
            raise ValueError(f"{name}: {hosts_needed} host placements needed, {len(args.placements)} given")

        vllm_args = tuple(render_args(model, self.plan.memory.max_model_len))
        front_door = args.endpoint or args.new_load_balancer
        assert front_door is not None  # guaranteed by VllmDeploymentArgs._one_front_door
        # vLLM drains for as long as the ALB lets a deregistered target finish its requests.
        drain_seconds = routing.deregistration_delay_seconds(front_door.idle_timeout_seconds)
        ready_timeout = health_wait.ready_timeout_seconds(self.plan.cold_start.container_first_start_seconds)
        # Rolling: each server, and each host after the first, waits for the previous replica's health wait.
        previous_waits: list[pulumi.Resource] = []
        self.servers: dict[str, VllmServer] = {}
        start_period = containers.healthcheck_start_period_seconds(self.plan.cold_start.container_first_start_seconds)
        self.hosts: dict[str, GpuHost] = {}
        self.caches: dict[str, ModelCache] = {}
        self.docker_providers: dict[str, docker.Provider] = {}
        targets: list[Target] = []
        # Every host joins this group, which the model's endpoint admits the ALB to: one rule pair per model
        # instead of one per host (security groups hold 60 rules per direction by default).
        targets_group_name = child_name(name, "targets-sg")
        targets_group = aws.ec2.SecurityGroup(
            targets_group_name,
            vpc_id=args.vpc_id,
            description=f"vllm-aws model {model.name}: its vLLM servers, reached by the load balancer only",
            tags={**args.tags, "Name": targets_group_name},
            opts=pulumi.ResourceOptions(parent=self),
        )
        zone_subnets = {**args.zone_subnets, **{p.availability_zone: p.subnet_id for p in args.placements}}
        remaining = model.replicas
        for index, host_placement in enumerate(args.placements):
            host_name = child_name(name, str(index))
            slots = containers.server_slots(
                self.plan.settings.tensor_parallel_size,
                min(model.replicas_per_host, remaining),
                self.plan.instance.gpu_count,
            )
            remaining -= len(slots)
            # Prometheus discovers and labels hosts by these tags (components.observability.prometheus).
            host_tags = {**args.tags, MODEL_TAG: model.name, REPLICA_TAG: str(index)}
            cache = ModelCache(
                f"{host_name}-cache",
                ModelCacheArgs(
                    availability_zone=host_placement.availability_zone,
                    size_gib=self.plan.cache_size_gib,
                    iops=args.cache.iops,
                    throughput_mibps=self.plan.cache_throughput_mibps,
                    snapshot_id=args.cache.snapshot_id,
                    retain_on_delete=args.cache.retain_on_delete,
                    kms_key_arn=args.kms_key_arn,
                    tags=host_tags,
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
            host = GpuHost(
                host_name,
                GpuHostArgs(
                    instance_type=self.plan.instance.name,
                    ami_id=args.ami_id,
                    vpc_id=args.vpc_id,
                    # The volume's real zone (state), not today's spread: the instance must be where its cache is.
                    subnet_id=follow_cache(cache.availability_zone, zone_subnets, host_name, self.plan.instance.name),
                    availability_zone=cache.availability_zone,
                    associate_public_ip=args.associate_public_ip,
                    cache_volume_id=cache.volume_id,
                    root_volume_gib=args.root_volume_gib,
                    region=args.region,
                    secret_parameters=args.secrets.parameters,
                    secret_parameter_arns=args.secrets.parameter_arns,
                    secrets_kms_key_arn=args.secrets.kms_key_arn,
                    kms_key_arn=args.kms_key_arn,
                    service_secrets=args.secrets.monitoring if args.prometheus_discovery and index == 0 else (),
                    ssh_public_key=args.ssh.public_key,
                    ssh_private_key=args.ssh.private_key,
                    access_mode=args.access.mode,
                    ssh_cidrs=args.access.ssh_cidrs,
                    extra_security_group_ids=(targets_group.id,),
                    spot=model.spot,
                    after=tuple(previous_waits),
                    driver=driver_requirement(args.image),
                    ec2_discovery=args.prometheus_discovery and index == 0,
                    alarm_topic_arn=args.alarm_topic_arn,
                    auto_recovery_supported=args.auto_recovery_supported,
                    tags={**host_tags, ROLE_TAG: GPU_HOST_ROLE, SERVERS_TAG: str(len(slots))},
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
            # The provider reaches this host's daemon; containers below use it explicitly.
            provider = ssh_access.docker_provider(host_name, host, args.access.mode, args.region, args.ssh, parent=self)
            on_host = pulumi.ResourceOptions(parent=self, provider=provider)
            access = HostAccess(
                mode=args.access.mode,
                region=args.region,
                target=host.access_target,
                ssh_private_key=args.ssh.private_key,
                user=DLAMI_SSH_USER,
            )
            host_waits: list[pulumi.Resource] = []
            refreshed: tuple[pulumi.Resource, ...] = ()
            if args.secrets.version is not None:
                refreshed = (
                    refresh_secrets(host_name, access, args.secrets.version, host_ready=host.readiness, parent=self),
                )
            for slot in slots:
                server_name = f"{host_name}-vllm-{slot.index}"
                server = VllmServer(
                    server_name,
                    VllmServerArgs(
                        model_name=model.name,
                        image=args.pinned_images.get(args.image, args.image),
                        build=args.image_build,
                        vllm_args=vllm_args,
                        slot=slot,
                        warm_marker=containers.warm_marker(model.id, model.revision),
                        start_period_seconds=start_period,
                        host_instance=host.instance,
                        host_ready=host.readiness,
                        labels={SERVER_MODEL_LABEL: model.name},
                        drain_seconds=drain_seconds,
                        ready_timeout_seconds=ready_timeout,
                        access=access,
                        after=(*(host_waits[-1:] or previous_waits), *refreshed),
                        secrets_version=args.secrets.version,
                    ),
                    opts=on_host,
                )
                host_waits.append(server.health_wait)
                self.servers[server_name] = server
                targets.append(
                    Target(
                        key=server_name,
                        instance_id=host.instance_id,
                        port=slot.host_port,
                        after=(server.health_wait,),
                        server_id=server.container.id,
                    )
                )
            previous_waits = host_waits
            install_watchdog(
                host_name,
                access,
                [(containers.container_name(model.name, slot.index), slot.host_port) for slot in slots],
                health_wait.stop_grace_seconds(drain_seconds),
                host_instance=host.instance,
                host_ready=host.readiness,
                parent=self,
            )
            HostExporters(
                f"{host_name}-exporters",
                HostExportersArgs(
                    host_instance=host.instance, host_ready=host.readiness, pinned_images=args.pinned_images
                ),
                opts=on_host,
            )
            self.hosts[host_name] = host
            self.caches[host_name] = cache
            self.docker_providers[host_name] = provider

        self.base_url = None
        endpoint = args.endpoint
        own_load_balancer = None
        if endpoint is None and args.new_load_balancer is not None:
            own_load_balancer = LoadBalancer(
                child_name(name, "alb"), args.new_load_balancer, opts=pulumi.ResourceOptions(parent=self)
            )
            endpoint = ExistingEndpoint.of(own_load_balancer, routing.derived_priority(model.name))
            self.base_url = own_load_balancer.base_url
        assert endpoint is not None  # guaranteed by VllmDeploymentArgs._one_front_door
        routes = ModelEndpoint(
            child_name(name, "endpoint"),
            ModelEndpointArgs(
                model_name=model.name,
                vpc_id=args.vpc_id,
                listener_arn=endpoint.listener_arn,
                load_balancer_security_group_id=endpoint.security_group_id,
                targets_security_group_id=targets_group.id,
                targets=tuple(targets),
                rule_priority=endpoint.rule_priority or routing.derived_priority(model.name, attached=True),
                domain=endpoint.domain,
                warm_start_seconds=self.plan.cold_start.warm_cache_seconds,
                idle_timeout_seconds=endpoint.idle_timeout_seconds,
                tags=args.tags,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        if own_load_balancer is not None:
            own_load_balancer.serve_default_model(model.name, routes.target_group_arn, (routes.first_ready,))
        self.target_group_arn = routes.target_group_arn
        self.first_ready: pulumi.Resource = routes.first_ready  # an instance attribute: see ModelEndpoint
        self.host_security_group_ids = pulumi.Output.all(**{k: h.security_group_id for k, h in self.hosts.items()})
        self.register_outputs(
            {
                "target_group_arn": self.target_group_arn,
                "host_security_group_ids": self.host_security_group_ids,
            }
        )

    def first_host(self) -> tuple[GpuHost, docker.Provider]:
        """The first host (``<model>-0``) and its Docker provider: where a colocated Monitoring runs (its role may
        discover EC2 targets with ``prometheus_discovery``)."""
        name = next(iter(self.hosts))
        return self.hosts[name], self.docker_providers[name]

    def readiness_outputs(self) -> dict[str, pulumi.Output[str]]:
        """Per server (``<model>-<n>-vllm-<slot>``): what its health wait measured, one JSON line (the stack's
        ``serverReadiness`` output, read by ``plan --compare --deployed-outputs``)."""
        return {name: server.readiness for name, server in self.servers.items()}

    def host_outputs(self) -> dict[str, dict[str, pulumi.Output[str]]]:
        """Per host (``<model>-<n>``): instance, private IP, zone, Docker host URI and cache volume (the stack's
        ``hosts`` output: what an operator needs to reach a host and its data)."""
        return {
            name: {
                "instanceId": host.instance_id,
                "privateIp": host.private_ip,
                "availabilityZone": host.availability_zone,
                "dockerHost": host.docker_host,
                "cacheVolumeId": self.caches[name].volume_id,
            }
            for name, host in self.hosts.items()
        }


def _plan(args: VllmDeploymentArgs) -> ModelPlan:
    """Size and check the model as the stack does; a ConfigError names this component's inputs (``model.dtype``)."""
    context = PlanContext.of_component(
        image=args.image,
        region=args.region,
        cache=args.cache,
        root_volume_gib=args.root_volume_gib,
        hf_token="HF_TOKEN" in args.secrets.parameters,  # presence is what the gated-model check needs
    )
    return plan_model(args.model, context, ("model",))
