"""The hung-engine watchdog installed on one GPU host (components.serving.watchdog), over the stack's access."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_command as command

from .._naming import child_name
from . import health_wait, watchdog
from .vllm_server import HostAccess


def install_watchdog(
    host_name: str,
    access: HostAccess,
    servers: Sequence[tuple[str, int]],
    stop_grace_seconds: int,
    *,
    host_instance: pulumi.Resource,
    host_ready: pulumi.Resource,
    parent: pulumi.Resource,
) -> command.local.Command:
    """Install (again on a new instance, or when what it installs changes) the watchdog's script and timer."""
    return command.local.Command(
        child_name(host_name, "watchdog"),
        create=health_wait.remote_script(
            access.mode, access.region, watchdog.installer(servers, stop_grace_seconds), access.user
        ),
        interpreter=["/bin/bash", "-c"],
        environment={"TARGET": access.target, "VLLM_AWS_SSH_KEY": access.ssh_private_key},
        triggers=[host_instance.id],  # type: ignore[attr-defined]
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[host_ready]),
    )
