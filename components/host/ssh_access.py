"""The stack's SSH access as resources: the key pair, each host's Docker provider, and the deploying machine's copy
of the private key, which ``ssh`` (run by pulumi-docker) reads.

ssh takes keys from files only, and every machine that runs ``pulumi up`` or ``preview`` (a laptop, a fresh
CI runner) needs the file before a Docker provider dials a host. The program writes it itself whenever the key
is known: at every ``up``, and at every ``preview`` of an existing stack (the key comes from state). A
``command.local`` resource cannot do this: its ``create`` runs once, when the resource is created, on whichever
machine ran that ``up`` (pulumi/pulumi-command provider/pkg/provider/local). Nothing is written while the key
is unknown (the first preview, when no host exists yet either) or is a placeholder (offline plans).

The file is created readable by its owner alone (0600, in a 0700 directory when that is created), written
to a temporary file first and renamed, so ssh never reads half a key; the key never reaches a log or output.

The pure helpers of :mod:`.ssh` are re-exported here, so this module (``components.access`` before #11) still
offers every name it had.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import pulumi
import pulumi_docker as docker
import pulumi_tls as tls
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from .ssh import (
    BOOTSTRAP_FAILED_EXIT,
    CLOUD_INIT_LOG,
    IDENTITIES_ONLY,
    READY_TIMEOUT_SECONDS,
    SSH_USER,
    AccessMode,
    docker_host,
    key_file_path,
    proxy_command,
    readiness_check,
    readiness_script,
    ssh_options,
)

if TYPE_CHECKING:
    from .gpu_host import GpuHost

# OpenSSH ("OPENSSH PRIVATE KEY") and PEM ("RSA/EC PRIVATE KEY", PKCS#8 "PRIVATE KEY") private keys.
_PRIVATE_KEY_HEADER = "PRIVATE KEY-----"


def looks_like_private_key(text: str) -> bool:
    first_line = text.lstrip().split("\n", 1)[0]
    return first_line.startswith("-----BEGIN ") and first_line.endswith(_PRIVATE_KEY_HEADER)


def write_private_file(path: Path, content: str) -> None:
    """Make ``path`` hold ``content``, mode 0600; unchanged files are left alone (their mtime too)."""
    if not content.endswith("\n"):
        content += "\n"  # ssh rejects an OpenSSH key whose last line has no newline
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True)
    if path.is_file() and path.read_text(encoding="utf-8") == content:
        path.chmod(0o600)
        return
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # created 0600
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(content)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def keep_key_file(private_key: pulumi.Output[str], path: str) -> pulumi.Output[str]:
    """``path`` (as given, ``~`` unexpanded), resolved once this machine holds ``private_key`` there.

    Inputs derived from the result (a Docker provider's ``ssh_opts``) wait for the write. The result is not
    secret: it is the path, never the key.
    """

    def write(key: str | None) -> str:
        if key is not None and looks_like_private_key(key):
            write_private_file(Path(path).expanduser(), key)
        return path

    return pulumi.Output.unsecret(private_key.apply(write))


def port_forward_command(instance_id: pulumi.Input[str], region: str, port: int) -> pulumi.Output[str]:
    """The command that makes a monitoring UI reachable on localhost:port, through SSM (no open port)."""
    return pulumi.Output.from_input(instance_id).apply(
        lambda target: (
            f"aws ssm start-session --region {region} --target {target} "
            f"--document-name AWS-StartPortForwardingSession "
            f"--parameters portNumber={port},localPortNumber={port}"
        )
    )


class SshAccess(BaseModel):
    """The key pulumi-docker and the readiness gate use to reach the hosts."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    public_key: str | pulumi.Output[str]
    private_key: Annotated[pulumi.Output[str], Field(description="Secret.")]
    key_file: Annotated[
        str,
        Field(
            description="Where the deploying machine keeps the private key for ssh; written on every preview "
            "and up that knows the key (keep_key_file in components.host.ssh_access)."
        ),
    ]
    _kept_key_file: pulumi.Output[str] | None = PrivateAttr(default=None)

    def stack_outputs(self, mode: AccessMode, region: str) -> dict[str, object]:
        """``sshPrivateKey`` (secret) and ``sshOptions``, how to reach a host with ssh in ``mode``."""
        return {"sshPrivateKey": self.private_key, "sshOptions": ssh_options(mode, region, self.key_file)}

    def kept_key_file(self) -> pulumi.Output[str]:
        """``key_file``, resolved once this machine holds the key there; written once per program run."""
        if self._kept_key_file is None:
            self._kept_key_file = keep_key_file(self.private_key, self.key_file)
        return self._kept_key_file


def docker_provider(
    name: str, host: GpuHost, mode: AccessMode, region: str, ssh: SshAccess, *, parent: pulumi.Resource | None = None
) -> docker.Provider:
    """The explicit Docker provider of one host, over SSH (through SSM by default).

    Its ``ssh_opts`` resolve only after the key file is written on this machine, so the provider never dials
    without it. Previews from CI must not need SSH to every host, so the configure-time daemon ping is off
    (docs/operations.md, "Previews from CI").
    """
    return docker.Provider(
        f"{name}-docker",
        host=host.docker_host,
        ssh_opts=ssh.kept_key_file().apply(lambda key_file: ssh_options(mode, region, key_file)),
        disable_docker_daemon_check=True,
        opts=pulumi.ResourceOptions(parent=parent),
    )


def create_ssh_access(project: str, stack: str) -> SshAccess:
    """One ED25519 key pair per stack (pulumi-tls); the private key is a secret in state.

    ssh (which pulumi-docker runs) reads keys from files: every program run writes the private key to
    :func:`key_file_path` on the deploying machine, readable by the deploying user alone (:func:`keep_key_file`).
    """
    key = tls.PrivateKey("ssh-key", algorithm="ED25519")
    return SshAccess(
        public_key=key.public_key_openssh,
        private_key=key.private_key_openssh,
        key_file=key_file_path(project, stack),
    )


__all__ = [
    "BOOTSTRAP_FAILED_EXIT",
    "CLOUD_INIT_LOG",
    "IDENTITIES_ONLY",
    "READY_TIMEOUT_SECONDS",
    "SSH_USER",
    "AccessMode",
    "SshAccess",
    "create_ssh_access",
    "docker_host",
    "docker_provider",
    "keep_key_file",
    "key_file_path",
    "looks_like_private_key",
    "port_forward_command",
    "proxy_command",
    "readiness_check",
    "readiness_script",
    "ssh_options",
    "write_private_file",
]
