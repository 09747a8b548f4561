"""VllmServer: one ``vllm serve`` container on a GpuHost, through the pulumi-docker provider given in opts."""

from __future__ import annotations

from typing import Annotated, Self

import pulumi
import pulumi_command as command
import pulumi_docker as docker
from pydantic import BaseModel, ConfigDict, Field

from .._naming import child_name, type_token
from ..config.sections import ImageBuildConfig
from ..host.gpu_host import on_host_options
from ..host.ssh import AccessMode
from ..planner.vllm_args import VLLM_PORT
from . import container_spec, health_wait

StrInput = str | pulumi.Output[str]

# vLLM 0.33.0: "Shutdown timeout in seconds. 0 = abort, >0 = wait." (vllm/engine/arg_utils.py; default 0 aborts
# every in-flight request on SIGTERM, vllm/v1/engine/core.py _handle_shutdown).
SHUTDOWN_TIMEOUT_FLAG = "--shutdown-timeout"
# Container labels are ForceNew (kreuzwerker/terraform-provider-docker resource_docker_container.go): a new secrets
# version replaces the container, and the rolling chain restarts the replicas one at a time.
SECRETS_VERSION_LABEL = "vllm-aws.secrets-version"


class ImageBuild(BaseModel):
    """Build a custom image on the host from a local Dockerfile (``FROM`` the pinned vLLM image)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    context: Annotated[str, Field(description="Local build context directory.")]
    dockerfile: Annotated[str, Field(description="Dockerfile path inside the context.")] = "Dockerfile"
    tag: Annotated[str, Field(description="Name of the built image on the host.")]

    @classmethod
    def of_config(cls, build: ImageBuildConfig) -> Self:
        """The stack's ``imageBuild``, tagged by its context's content (an edit means a rebuild)."""
        return cls(
            context=build.context, dockerfile=build.dockerfile, tag=container_spec.custom_image_tag(build.context)
        )


class HostAccess(BaseModel):
    """The host's SSH/SSM access, as its readiness gate uses it (components.host.gpu_host)."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    mode: AccessMode
    region: str
    target: Annotated[StrInput, Field(description="Instance id (ssm) or address (ssh).")]
    ssh_private_key: Annotated[pulumi.Output[str], Field(description="Secret.")]
    user: str


class VllmServerArgs(BaseModel):
    """Inputs of a :class:`VllmServer`."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    model_name: str
    image: Annotated[str, Field(description="Pinned vllm/vllm-openai image (tag or digest).")]
    build: Annotated[ImageBuild | None, Field(description="Build FROM `image` on the host. Default: pull.")] = None
    vllm_args: Annotated[tuple[str, ...], Field(description="Arguments after `vllm serve`, model first.")]
    slot: container_spec.ServerSlot
    warm_marker: str
    start_period_seconds: Annotated[int, Field(ge=30)]
    host_instance: Annotated[pulumi.Resource, Field(description="Containers are replaced and deleted with it.")]
    host_ready: Annotated[pulumi.Resource, Field(description="The host's readiness gate.")]
    labels: dict[str, str] = {}
    drain_seconds: Annotated[
        int,
        Field(ge=1, description="vLLM's --shutdown-timeout: the ALB deregistration delay, so a stop drains."),
    ]
    ready_timeout_seconds: Annotated[int, Field(ge=1, description="The health wait's bound (health_wait).")]
    access: Annotated[HostAccess, Field(description="How the health wait reaches the host.")]
    after: Annotated[
        tuple[pulumi.Resource, ...],
        Field(description="Start (or replace) the container only after these: the previous replica's health wait."),
    ] = ()
    secrets_version: Annotated[
        StrInput | None,
        Field(description="A label: a new value (rotated secrets) replaces the container, which reads them anew."),
    ] = None


class VllmServer(pulumi.ComponentResource):
    """The OpenAI-compatible vLLM server of one replica, pinned to its GPUs and host port."""

    container_name: pulumi.Output[str]
    """Docker container name on the host."""
    host_port: pulumi.Output[int]
    """Host port the load balancer targets."""
    readiness: pulumi.Output[str]
    """What the health wait measured: one JSON line (health_wait.parse_readiness)."""

    def __init__(self, name: str, args: VllmServerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(type_token("VllmServer"), name, None, opts)
        on_host = on_host_options(self, args.host_instance, args.host_ready)
        if args.build is None:
            image = docker.RemoteImage(child_name(name, "image"), name=args.image, keep_locally=True, opts=on_host)
        else:
            image = docker.RemoteImage(
                child_name(name, "image"),
                name=args.build.tag,
                build=docker.RemoteImageBuildArgs(
                    context=args.build.context,
                    dockerfile=args.build.dockerfile,
                    build_args={"VLLM_IMAGE": args.image},
                ),
                keep_locally=True,
                opts=on_host,
            )

        cache_source, cache_target = container_spec.cache_mount()
        secrets_source, secrets_target = container_spec.secrets_mount()
        gpus = docker.ContainerDeviceRequestArgs(
            driver="nvidia",
            capabilities=["gpu"],
            count=-1 if args.slot.device_ids is None else None,  # -1: every GPU of the host
            device_ids=None if args.slot.device_ids is None else list(args.slot.device_ids),
        )
        container_name = container_spec.container_name(args.model_name, args.slot.index)
        self.container = docker.Container(
            child_name(name, "container"),
            name=container_name,
            image=image.image_id,
            entrypoints=[container_spec.ENTRYPOINT_PATH],
            command=[*args.vllm_args, SHUTDOWN_TIMEOUT_FLAG, str(args.drain_seconds)],
            uploads=[
                docker.ContainerUploadArgs(
                    file=container_spec.ENTRYPOINT_PATH, content=container_spec.entrypoint_script(), executable=True
                )
            ],
            envs=container_spec.container_env(args.warm_marker),
            device_requests=[gpus],
            ipc_mode="host",  # tensor parallelism shares memory between worker processes
            ulimits=[
                docker.ContainerUlimitArgs(
                    name="memlock", soft=container_spec.MEMLOCK_UNLIMITED, hard=container_spec.MEMLOCK_UNLIMITED
                ),
                docker.ContainerUlimitArgs(
                    name="stack", soft=container_spec.STACK_BYTES, hard=container_spec.STACK_BYTES
                ),
            ],
            mounts=[
                docker.ContainerMountArgs(type="bind", source=cache_source, target=cache_target),
                docker.ContainerMountArgs(type="bind", source=secrets_source, target=secrets_target, read_only=True),
            ],
            ports=[docker.ContainerPortArgs(internal=VLLM_PORT, external=args.slot.host_port)],
            restart="unless-stopped",
            must_run=True,
            log_driver=container_spec.LOG_DRIVER,
            log_opts=container_spec.VLLM_LOG_OPTIONS,
            healthcheck=docker.ContainerHealthcheckArgs(
                tests=container_spec.healthcheck_command(),
                interval=f"{container_spec.HEALTH_INTERVAL_SECONDS}s",
                timeout=f"{container_spec.HEALTH_TIMEOUT_SECONDS}s",
                retries=container_spec.HEALTH_RETRIES,
                start_period=f"{args.start_period_seconds}s",
                start_interval="10s",
            ),
            # vLLM drains for --shutdown-timeout on SIGTERM; Docker (stop_timeout) and pulumi-docker
            # (destroy_grace_seconds, else 0 s) must wait that long before they kill it.
            stop_timeout=health_wait.stop_grace_seconds(args.drain_seconds),
            destroy_grace_seconds=health_wait.stop_grace_seconds(args.drain_seconds),
            labels=[
                *(docker.ContainerLabelArgs(label=key, value=value) for key, value in sorted(args.labels.items())),
                *(
                    [docker.ContainerLabelArgs(label=SECRETS_VERSION_LABEL, value=args.secrets_version)]
                    if args.secrets_version is not None
                    else []
                ),
            ],
            opts=on_host_options(self, args.host_instance, args.host_ready, after=args.after),
        )
        # `pulumi up` fails here, with the server's last log lines, when it never gets healthy; re-run for every
        # new container (triggers), and the next replica waits for it (`after`).
        check = health_wait.health_check(container_name, args.slot.host_port, args.ready_timeout_seconds)
        self.health_wait = command.local.Command(
            child_name(name, "health"),
            create=health_wait.remote_script(args.access.mode, args.access.region, check, args.access.user),
            interpreter=["/bin/bash", "-c"],
            environment={"TARGET": args.access.target, "VLLM_AWS_SSH_KEY": args.access.ssh_private_key},
            triggers=[self.container.id],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.container]),
        )
        # Numbers only (the script prints no secret), while its environment holds the SSH key.
        self.readiness = pulumi.Output.unsecret(self.health_wait.stdout)
        self.container_name = self.container.name
        self.host_port = pulumi.Output.from_input(args.slot.host_port)
        self.register_outputs(
            {"container_name": self.container_name, "host_port": self.host_port, "readiness": self.readiness}
        )
