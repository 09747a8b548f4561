"""Pure: the per-server health wait that makes `pulumi up` honest, and the vLLM drain timing that goes with it.

pulumi-docker's own ``wait`` is not used: it never fails early on an exited or restarting container, shows no
logs, and runs under the resource's 20-minute create timeout (kreuzwerker/terraform-provider-docker v4.5.0
internal/provider/resource_docker_container_funcs.go, the ``State.Health.Status`` loop;
resource_docker_container.go ``dockerContainerCreateDefaultTimeout``). Instead a local command reaches the host
over the stack's SSH/SSM access, as the host readiness gate does (:mod:`components.host.ssh`), polls the server's
``/health`` until a deadline from the planner's cold-start prediction, and either prints what it measured (a JSON
line: the stack's ``serverReadiness`` output) or fails with the container's last log lines.
"""

from __future__ import annotations

import json
import math
import re
import shlex
from collections.abc import Mapping
from typing import Any

from ..host.bootstrap import BOOTSTRAP_LOG
from ..host.ssh import IDENTITIES_ONLY, SSH_USER, AccessMode, ssh_options

READY_MARGIN = 2.0
"""The wait allows the predicted first start × this (the prediction is checked against `serverReadiness`)."""
MIN_READY_TIMEOUT_SECONDS = 300
POLL_SECONDS = 10
LOG_LINES = 60
# A remote script's exit status for "failed for good" (the server, the install): no retry of the ssh session can
# fix it. Neither ssh (255) nor the commands the scripts run exit with it.
REMOTE_FAILED_EXIT = 98
SHUTDOWN_SIGKILL_MARGIN_SECONDS = 30
"""After vLLM's drain ends, time for the engine processes and GPU memory to go before Docker kills them."""
# vLLM logs how long the weights took to read (vllm/model_executor/model_loader/default_loader.py
# "Loading weights took %.2f seconds", vLLM 0.33.0).
WEIGHTS_LOG = "Loading weights took"
# Log lines that name a secret are never printed (the key and token come from files, but be safe).
SECRET_WORDS = "api[_-]?key|token|secret|password|authorization"


def ready_timeout_seconds(predicted_first_start_seconds: float) -> int:
    """How long `pulumi up` waits for one server's /health: the predicted cold start × :data:`READY_MARGIN`."""
    return max(MIN_READY_TIMEOUT_SECONDS, math.ceil(predicted_first_start_seconds * READY_MARGIN))


def stop_grace_seconds(drain_seconds: int) -> int:
    """Docker's stop grace (container ``stop_timeout`` and pulumi-docker ``destroy_grace_seconds``): vLLM's
    ``--shutdown-timeout`` plus the time its processes need to exit. Without destroy_grace_seconds pulumi-docker
    stops with a 0 s grace (KD v4.5.0 resource_docker_container_funcs.go resourceDockerContainerDelete)."""
    return drain_seconds + SHUTDOWN_SIGKILL_MARGIN_SECONDS


def health_check(
    container_name: str,
    host_port: int,
    timeout_seconds: int,
    *,
    bootstrap_log: str = BOOTSTRAP_LOG,
    poll_seconds: int = POLL_SECONDS,
) -> str:
    """The POSIX sh run on the host: poll /health until the deadline; fail early on an exited or restarting
    container. On success print one JSON line (seconds from container start to healthy, the host's boot phase
    and the weight read); on failure print the container's state and last log lines (secrets filtered) to
    stderr and exit :data:`REMOTE_FAILED_EXIT`."""
    name = shlex.quote(container_name)
    return f"""deadline=$(( $(date +%s) + {timeout_seconds} ))
fail() {{
  echo "vLLM server {container_name}: $1; its last log lines:" >&2
  docker logs --tail {LOG_LINES} {name} 2>&1 | grep -v -i -E '{SECRET_WORDS}' >&2
  docker inspect -f 'state={{{{.State.Status}}}} exit={{{{.State.ExitCode}}}} restarts={{{{.RestartCount}}}}' {name} >&2
  exit {REMOTE_FAILED_EXIT}
}}
while ! curl -sf -o /dev/null http://127.0.0.1:{host_port}/health; do
  state=$(docker inspect -f '{{{{.State.Status}}}} {{{{.RestartCount}}}}' {name} 2>/dev/null || echo "missing 0")
  case $state in
    exited*|dead*|missing*) fail "the container is ${{state% *}}" ;;
    *" 0") ;;
    *) fail "the container restarted (${{state#* }} times)" ;;
  esac
  [ "$(date +%s)" -lt "$deadline" ] || fail "not healthy after {timeout_seconds} s (predicted start x {READY_MARGIN})"
  sleep {poll_seconds}
done
started=$(date -d "$(docker inspect -f '{{{{.State.StartedAt}}}}' {name})" +%s)
ready=$(( $(date +%s) - started ))
boot=$(sed -n 's/.* uptime=\\([0-9]*\\)s phase=ready done.*/\\1/p' {bootstrap_log} | tail -n 1)
weights=$(docker logs {name} 2>&1 | sed -n 's/.*{WEIGHTS_LOG} \\([0-9.]*\\) seconds.*/\\1/p' | tail -n 1)
printf '{{"readySeconds": %s, "hostBootSeconds": %s, "weightsSeconds": %s}}\\n' "$ready" "${{boot:-null}}" \\
  "${{weights:-null}}"
"""


def remote_script(mode: AccessMode, region: str, check: str, user: str = SSH_USER) -> str:
    """Runs the POSIX sh ``check`` on the host, locally from pulumi-command with TARGET and VLLM_AWS_SSH_KEY in
    its environment, like the readiness gate: retries the ssh session while it cannot connect, never a script
    that exited :data:`REMOTE_FAILED_EXIT`."""
    ssh = " ".join(shlex.quote(option) for option in ssh_options(mode, region))
    return f"""set -uo pipefail
key=$(mktemp)
trap 'rm -f "$key"' EXIT
printf '%s\\n' "$VLLM_AWS_SSH_KEY" > "$key"
chmod 600 "$key"
for _ in $(seq 1 20); do
  status=0
  ssh -i "$key" {" ".join(IDENTITIES_ONLY)} {ssh} "{user}@$TARGET" {shlex.quote(check)} || status=$?
  [ "$status" -eq 0 ] && exit 0
  [ "$status" -eq {REMOTE_FAILED_EXIT} ] && exit 1
  sleep 15
done
echo "host $TARGET: no ssh session" >&2
exit 1
"""


_LINE = re.compile(r"\{.*\}")


def parse_readiness(stdout: str) -> dict[str, Any] | None:
    """The JSON line the wait printed (the last one), or None when the output holds none."""
    for line in reversed(stdout.splitlines()):
        if _LINE.fullmatch(line.strip()):
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                return None
            return dict(value) if isinstance(value, Mapping) else None
    return None
