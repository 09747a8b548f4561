"""Commands run on one GPU host over the stack's SSH/SSM access: install the hung-engine watchdog
(components.serving.watchdog), and re-read the secrets after a rotation."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_command as command

from .._naming import child_name
from ..host.bootstrap import SYSTEMD_UNIT
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


def refresh_secrets(
    host_name: str,
    access: HostAccess,
    secrets_version: str | pulumi.Output[str],
    *,
    host_ready: pulumi.Resource,
    parent: pulumi.Resource,
) -> command.local.Command:
    """Re-run the host's idempotent bootstrap (its systemd unit), which fetches the secrets from SSM again, whenever
    their version changes. Running servers keep the values they started with; the servers that depend on this
    restart afterwards, one replica at a time (their secrets-version label)."""
    return command.local.Command(
        child_name(host_name, "secrets-refresh"),
        create=health_wait.remote_script(
            access.mode,
            access.region,
            f"sudo systemctl restart {SYSTEMD_UNIT} || exit {health_wait.REMOTE_FAILED_EXIT}\n",
            access.user,
        ),
        interpreter=["/bin/bash", "-c"],
        environment={"TARGET": access.target, "VLLM_AWS_SSH_KEY": access.ssh_private_key},
        triggers=[secrets_version],
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[host_ready]),
    )
