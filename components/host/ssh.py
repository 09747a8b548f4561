"""How Pulumi reaches a host's Docker daemon: SSH, directly or tunnelled through SSM Session Manager.

Pure functions, no Pulumi; the scripts they render run on the deploying machine (needs ssh, and for ``ssm`` mode
the AWS CLI with the session-manager-plugin). The key pair and the Docker providers are :mod:`.ssh_access`.
"""

from __future__ import annotations

import shlex
from typing import Literal

from .ami import DLAMI_SSH_USER
from .bootstrap import BOOTSTRAP_LOG, READY_MARKER

AccessMode = Literal["ssm", "ssh"]
SSH_USER = DLAMI_SSH_USER  # the GPU hosts' user: the default of every helper below
READY_TIMEOUT_SECONDS = 900


def proxy_command(region: str) -> str:
    """ssh ProxyCommand that opens the SSH session through SSM: no inbound port on the host."""
    return (
        f"aws ssm start-session --region {region} --target %h "
        "--document-name AWS-StartSSHSession --parameters portNumber=%p"
    )


# ssh offers only the key it is given: an agent's or ~/.ssh's other keys would count against the host's
# MaxAuthTries (sshd_config(5): 6) before ours is tried.
IDENTITIES_ONLY = ("-o", "IdentitiesOnly=yes")


def ssh_options(mode: AccessMode, region: str, key_file: str | None = None) -> list[str]:
    """Options for ssh (and pulumi-docker's ``ssh_opts``). Host keys are new per instance, hence not pinned."""
    options = ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=20"]
    if key_file is not None:
        options += ["-i", key_file, *IDENTITIES_ONLY]
    if mode == "ssm":
        options += ["-o", f"ProxyCommand={proxy_command(region)}"]
    return options


def docker_host(mode: AccessMode, instance_id: str, address: str, user: str = SSH_USER) -> str:
    """The ``ssh://`` URI pulumi-docker dials: the instance id through SSM, the address over plain SSH."""
    return f"ssh://{user}@{instance_id if mode == 'ssm' else address}"


# `cloud-init status --wait` exits 0 when done, 2 when done with recoverable errors ("degraded": warnings,
# deprecated keys; cloud-init >= 23.4) and 1 on an error such as a failed runcmd, i.e. a failed bootstrap
# (canonical/cloud-init cloudinit/cmd/status.py handle_status_args; doc/rtd/explanation/return_codes.rst).
CLOUD_INIT_LOG = "/var/log/cloud-init-output.log"
# The remote check's exit status for "cloud-init reported an error": no retry can fix that. Neither ssh (255)
# nor the checked commands (docker 1, nvidia-smi 2-15) exit with it.
BOOTSTRAP_FAILED_EXIT = 97


def readiness_check(gpu: bool = True) -> str:
    """The POSIX sh the gate runs on the host: cloud-init done (0 or 2), the ready marker, Docker, the GPU.

    On a cloud-init error it prints the end of the bootstrap log (which names the failed phase, e.g. a too old
    NVIDIA driver; it never holds secrets) and exits with :data:`BOOTSTRAP_FAILED_EXIT`.
    """
    ready = f"test -f {READY_MARKER} && docker info >/dev/null"
    if gpu:
        ready += " && nvidia-smi -L"
    return f"""status=0
cloud-init status --wait >/dev/null || status=$?
if [ "$status" -ne 0 ] && [ "$status" -ne 2 ]; then
  tail -n 30 {BOOTSTRAP_LOG} >&2 || echo "no {BOOTSTRAP_LOG}: cloud-init failed before the bootstrap ran" >&2
  exit {BOOTSTRAP_FAILED_EXIT}
fi
{ready}
"""


def readiness_script(mode: AccessMode, region: str, user: str = SSH_USER, gpu: bool = True) -> str:
    """Waits until cloud-init finished, the bootstrap marked the host ready, Docker and the GPU answer.

    Runs locally (pulumi-command) with TARGET and VLLM_AWS_SSH_KEY in its environment; the key is written to
    a private temporary file and removed on exit. ssh failures (the host still booting, the SSM agent not yet
    registered) are retried until the timeout; a failed bootstrap fails at once, with its log.
    """
    ssh = " ".join(shlex.quote(option) for option in ssh_options(mode, region))
    attempts = READY_TIMEOUT_SECONDS // 15
    return f"""set -euo pipefail
key=$(mktemp)
trap 'rm -f "$key"' EXIT
printf '%s\\n' "$VLLM_AWS_SSH_KEY" > "$key"
chmod 600 "$key"
for _ in $(seq 1 {attempts}); do
  status=0
  ssh -i "$key" {" ".join(IDENTITIES_ONLY)} {ssh} "{user}@$TARGET" {shlex.quote(readiness_check(gpu))} || status=$?
  if [ "$status" -eq 0 ]; then
    exit 0
  fi
  if [ "$status" -eq {BOOTSTRAP_FAILED_EXIT} ]; then
    echo "host $TARGET: the bootstrap failed (cloud-init error); its log is above," \\
      "on the host in {BOOTSTRAP_LOG} and {CLOUD_INIT_LOG}" >&2
    exit 1
  fi
  sleep 15
done
echo "host $TARGET not ready after {READY_TIMEOUT_SECONDS} s; read {BOOTSTRAP_LOG} on it" >&2
exit 1
"""


def key_file_path(project: str, stack: str) -> str:
    """Where the stack's SSH key lives on the deploying machine (ssh expands ``~``)."""
    return f"~/.ssh/{project}-{stack}.key"
