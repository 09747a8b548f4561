"""Pure: the hung-engine watchdog of a GPU host (vllm-watchdog.sh, beside this file), its systemd timer, and the
installer a per-host command runs over the stack's SSH/SSM access.

A systemd timer on the host rather than a sidecar: no image, no Docker socket inside a container (that socket is
root on the host), and it keeps working while the monitoring host is down. Installed by a command rather than the
user data, so a change to it restarts nothing (a new user data is a new host).
"""

from __future__ import annotations

import base64
import shlex
from collections.abc import Sequence
from pathlib import Path

from ..health_wait import REMOTE_FAILED_EXIT

SCRIPT = Path(__file__).with_name("vllm-watchdog.sh")
SCRIPT_PATH = "/usr/local/bin/vllm-aws-watchdog"
CONFIG_PATH = "/etc/vllm-aws/watchdog.env"
STATE_DIR = "/run/vllm-aws-watchdog"
UNIT = "vllm-aws-watchdog"
CHECK_EVERY_SECONDS = 30
STALL_SECONDS = 360
"""No engine progress for this long while requests wait: restart. Longer than vLLM's own execute_model RPC
timeout with TP > 1 (VLLM_EXECUTE_MODEL_TIMEOUT_SECONDS, default 300, vllm/envs.py), so vLLM's failure path (the
engine dies, /health 503, the process exits, Docker restarts it) wins where it exists; and longer than the
VllmEngineStalled alert's 5 minutes, so the alert says a restart is coming."""


def config(servers: Sequence[tuple[str, int]], stop_grace_seconds: int) -> str:
    """The settings file: the host's containers and ports, the threshold and Docker's stop grace."""
    pairs = " ".join(f"{name}:{port}" for name, port in servers)
    return (
        f"STALL_SECONDS={STALL_SECONDS}\nSTOP_GRACE_SECONDS={stop_grace_seconds}\n"
        f'SERVERS="{pairs}"\nSTATE_DIR={STATE_DIR}\n'
    )


def units() -> dict[str, str]:
    """The oneshot service and its timer (journald keeps what the script prints: `journalctl -u` the unit)."""
    return {
        f"/etc/systemd/system/{UNIT}.service": (
            "[Unit]\nDescription=vllm-aws: restart a hung vLLM engine\nAfter=docker.service\n\n"
            f"[Service]\nType=oneshot\nEnvironment=WATCHDOG_CONFIG={CONFIG_PATH}\nExecStart={SCRIPT_PATH}\n"
        ),
        f"/etc/systemd/system/{UNIT}.timer": (
            "[Unit]\nDescription=vllm-aws: hung vLLM engine check\n\n"
            f"[Timer]\nOnBootSec=5min\nOnUnitActiveSec={CHECK_EVERY_SECONDS}s\nAccuracySec=5s\n\n"
            "[Install]\nWantedBy=timers.target\n"
        ),
    }


def installer(servers: Sequence[tuple[str, int]], stop_grace_seconds: int) -> str:
    """The POSIX sh run on the host (as the SSH user, through sudo): write the script, settings and units,
    enable the timer. Idempotent; pulumi-command runs it again whenever its text changes."""
    files = {
        SCRIPT_PATH: (SCRIPT.read_text(), "0755"),
        CONFIG_PATH: (config(servers, stop_grace_seconds), "0644"),
        **{path: (text, "0644") for path, text in units().items()},
    }
    lines = []
    for path, (text, mode) in files.items():
        encoded = base64.b64encode(text.encode()).decode()
        lines.append(f"echo {encoded} | base64 -d | sudo install -D -m {mode} /dev/stdin {shlex.quote(path)}")
    lines += ["sudo systemctl daemon-reload", f"sudo systemctl enable --now {UNIT}.timer"]
    # Any failed step fails the install at once (no ssh retry can fix it).
    return "".join(f"{line} || exit {REMOTE_FAILED_EXIT}\n" for line in lines)
