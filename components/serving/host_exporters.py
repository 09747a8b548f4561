"""HostExporters: node-exporter and NVIDIA dcgm-exporter on a GPU host, for Prometheus to scrape."""

from __future__ import annotations

from typing import Annotated

import pulumi
import pulumi_docker as docker
from pydantic import BaseModel, ConfigDict, Field

from .._naming import CACHE_MOUNT_LABEL, child_name, type_token
from ..host.bootstrap import CACHE_MOUNT
from ..host.gpu_host import on_host_options
from ..observability.dcgm import DCGM_COUNTERS_PATH, render_dcgm_counters
from ..observability.prometheus import DCGM_EXPORTER_PORT, NODE_EXPORTER_PORT
from .container_spec import LOG_DRIVER, SIDECAR_LOG_OPTIONS
from .images import DCGM_EXPORTER_IMAGE, NODE_EXPORTER_IMAGE, pull_reference


class HostExportersArgs(BaseModel):
    """Inputs of :class:`HostExporters`."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    host_instance: Annotated[pulumi.Resource, Field(description="Exporters are replaced and deleted with it.")]
    host_ready: Annotated[pulumi.Resource, Field(description="The host's readiness gate.")]
    gpu: Annotated[bool, Field(description="Run dcgm-exporter too. Default: true.")] = True
    pinned_images: Annotated[
        dict[str, str],
        Field(description="Image -> the reference to pull, e.g. by digest (serving.images). Default: by tag."),
    ] = {}


class HostExporters(pulumi.ComponentResource):
    """Host metrics (CPU, memory, the model cache's disk) and GPU metrics (utilization, memory, XID, ECC)."""

    def __init__(self, name: str, args: HostExportersArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(type_token("HostExporters"), name, None, opts)
        on_host = on_host_options(self, args.host_instance, args.host_ready)
        node_image = docker.RemoteImage(
            child_name(name, "node-exporter-image"),
            name=pull_reference(NODE_EXPORTER_IMAGE, args.pinned_images),
            keep_locally=True,
            opts=on_host,
        )
        docker.Container(
            child_name(name, "node-exporter"),
            name="node-exporter",
            image=node_image.image_id,
            # Host network and PID namespaces and the root filesystem read-only: the host's own numbers.
            network_mode="host",
            pid_mode="host",
            command=["--path.rootfs=/host", f"--web.listen-address=:{NODE_EXPORTER_PORT}"],
            mounts=[docker.ContainerMountArgs(type="bind", source="/", target="/host", read_only=True)],
            restart="unless-stopped",
            log_driver=LOG_DRIVER,
            log_opts=SIDECAR_LOG_OPTIONS,
            labels=[docker.ContainerLabelArgs(label=CACHE_MOUNT_LABEL, value=CACHE_MOUNT)],
            opts=on_host,
        )
        if args.gpu:
            dcgm_image = docker.RemoteImage(
                child_name(name, "dcgm-exporter-image"),
                name=pull_reference(DCGM_EXPORTER_IMAGE, args.pinned_images),
                keep_locally=True,
                opts=on_host,
            )
            docker.Container(
                child_name(name, "dcgm-exporter"),
                name="dcgm-exporter",
                image=dcgm_image.image_id,
                device_requests=[docker.ContainerDeviceRequestArgs(driver="nvidia", capabilities=["gpu"], count=-1)],
                capabilities=docker.ContainerCapabilitiesArgs(adds=["SYS_ADMIN"]),  # profiling counters
                # Our counters file: the image's default leaves the ECC error counts the alerts read commented out.
                command=["-f", DCGM_COUNTERS_PATH],
                uploads=[docker.ContainerUploadArgs(file=DCGM_COUNTERS_PATH, content=render_dcgm_counters())],
                ports=[docker.ContainerPortArgs(internal=DCGM_EXPORTER_PORT, external=DCGM_EXPORTER_PORT)],
                restart="unless-stopped",
                log_driver=LOG_DRIVER,
                log_opts=SIDECAR_LOG_OPTIONS,
                opts=on_host,
            )
        self.register_outputs({})
