"""The health wait's host script (components.serving.health_wait), executed by sh against a fake `curl` and
`docker` on PATH: it reports what it measured, fails early on a dead or restarting container with the last log
lines (never a line naming a secret), and fails at its deadline."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from components.serving.health_wait import (
    REMOTE_FAILED_EXIT,
    health_check,
    parse_readiness,
    ready_timeout_seconds,
    stop_grace_seconds,
)

BOOT_LOG = "2026-12-02T03:00:00Z elapsed=41s uptime=95s phase=ready done in 0s\n"
VLLM_LOG = "INFO Loading weights took 12.34 seconds\nINFO api_key=sk-123 loaded\nERROR CUDA out of memory\n"


def _fake(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


def _run(
    tmp_path: Path, *, healthy_after: int, state: str = "running 0", timeout: int = 30
) -> subprocess.CompletedProcess[str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls"
    # /health answers 200 from the n-th poll on.
    _fake(bin_dir, "curl", f'echo x >> {calls}; [ "$(wc -l < {calls})" -ge {healthy_after} ]')
    _fake(
        bin_dir,
        "docker",
        f"""case "$1 $3" in
  "inspect {{{{.State.Status}}}} {{{{.RestartCount}}}}") echo "{state}" ;;
  "inspect {{{{.State.StartedAt}}}}") date -u -d '-42 seconds' +%Y-%m-%dT%H:%M:%S.000000000Z ;;
  inspect*) echo "state=exited exit=1 restarts=3" ;;
  logs*) printf '{VLLM_LOG}' ;;
esac""",
    )
    log = tmp_path / "bootstrap.log"
    log.write_text(BOOT_LOG)
    script = health_check("vllm-m-0", 8000, timeout, bootstrap_log=str(log), poll_seconds=0)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    return subprocess.run(["sh", "-c", script], capture_output=True, text=True, env=env, timeout=60, check=False)


def test_a_healthy_server_reports_its_time_to_healthy_boot_and_weight_read(tmp_path: Path) -> None:
    done = _run(tmp_path, healthy_after=3)
    assert done.returncode == 0, done.stderr
    measured = parse_readiness(done.stdout)
    assert measured is not None
    assert measured["hostBootSeconds"] == 95 and measured["weightsSeconds"] == 12.34
    assert 40 <= measured["readySeconds"] <= 50
    assert json.loads(done.stdout.strip()) == measured


@pytest.mark.parametrize(
    ("state", "reason"),
    [("exited 0", "the container is exited"), ("restarting 2", "the container restarted (2 times)")],
)
def test_a_dead_or_crash_looping_server_fails_at_once_with_its_log(tmp_path: Path, state: str, reason: str) -> None:
    done = _run(tmp_path, healthy_after=1000, state=state)
    assert done.returncode == REMOTE_FAILED_EXIT
    assert reason in done.stderr and "CUDA out of memory" in done.stderr
    assert "sk-123" not in done.stderr  # a line naming a key is never printed


def test_a_server_that_never_gets_healthy_fails_at_the_deadline(tmp_path: Path) -> None:
    done = _run(tmp_path, healthy_after=10**6, timeout=1)
    assert done.returncode == REMOTE_FAILED_EXIT and "not healthy after 1 s" in done.stderr


def test_the_bounds_follow_the_prediction_and_the_drain() -> None:
    assert ready_timeout_seconds(900) == 1800 and ready_timeout_seconds(10) == 300
    assert stop_grace_seconds(600) == 630
    assert parse_readiness("noise\n") is None
