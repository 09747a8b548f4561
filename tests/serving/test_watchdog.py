"""The hung-engine watchdog (components/serving/watchdog/vllm-watchdog.sh), executed by bash against canned
/metrics responses (a fake `curl`) and a fake `docker` that records restarts; and what the stack installs."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import time
from pathlib import Path

import pytest
from stack_runs import named, of_type, run_stack

from components.serving import watchdog
from components.serving.health_wait import REMOTE_FAILED_EXIT

# Exposition as vLLM 0.33.0 serves it (names: components/catalog/vllm_metric_names.txt; counters get `_total`,
# a histogram `_count`), one engine.
LABELS = '{engine="0",model_name="Qwen/Qwen3-8B"}'


def metrics(running: int, waiting: int, steps: int, tokens: int) -> str:
    return (
        f"# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running{LABELS} {running}.0\n"
        f"vllm:num_requests_waiting{LABELS} {waiting}.0\n"
        f'vllm:iteration_tokens_total_bucket{{le="1.0",engine="0"}} 3.0\n'
        f"vllm:iteration_tokens_total_count{LABELS} {steps}.0\nvllm:iteration_tokens_total_sum{LABELS} 9.0\n"
        f"vllm:generation_tokens_total{LABELS} {tokens}.0\n"
    )


class Host:
    def __init__(self, tmp_path: Path) -> None:
        self.bin = tmp_path / "bin"
        self.bin.mkdir()
        self.state = tmp_path / "state"
        self.restarts = tmp_path / "restarts"
        self.metrics = tmp_path / "metrics"
        self.config = tmp_path / "watchdog.env"
        self.config.write_text(watchdog.config([("vllm-m-0", 8000)], 630).replace(watchdog.STATE_DIR, str(self.state)))
        fake = {
            # curl -sf --max-time 10 http://127.0.0.1:PORT/metrics: the canned page, or a refused connection.
            "curl": f"[ -f {self.metrics} ] || exit 7\ncat {self.metrics}",
            "docker": f'echo "$*" >> {self.restarts}',
        }
        for name, body in fake.items():
            path = self.bin / name
            path.write_text(f"#!/bin/sh\n{body}\n")
            path.chmod(0o755)

    def serve(self, page: str | None) -> None:
        if page is None:
            self.metrics.unlink(missing_ok=True)
        else:
            self.metrics.write_text(page)

    def last_seen(self, seconds_ago: int) -> None:
        """Pretend the current counters were first seen that long ago."""
        line = (self.state / "vllm-m-0").read_text().split()
        (self.state / "vllm-m-0").write_text(f"{line[0]} {int(time.time()) - seconds_ago}\n")

    def tick(self) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PATH": f"{self.bin}:{os.environ['PATH']}", "WATCHDOG_CONFIG": str(self.config)}
        return subprocess.run(
            ["bash", str(watchdog.SCRIPT)], capture_output=True, text=True, env=env, timeout=30, check=True
        )

    def restarted(self) -> list[str]:
        return self.restarts.read_text().splitlines() if self.restarts.exists() else []


def test_a_stalled_engine_with_waiting_requests_is_restarted_after_the_threshold(tmp_path: Path) -> None:
    host = Host(tmp_path)
    host.serve(metrics(running=2, waiting=5, steps=100, tokens=4000))
    host.tick()
    host.last_seen(watchdog.STALL_SECONDS - 30)
    host.tick()
    assert host.restarted() == []  # not stalled long enough
    host.last_seen(watchdog.STALL_SECONDS + 1)
    done = host.tick()
    assert host.restarted() == ["restart -t 630 vllm-m-0"]
    assert "7 request(s) waiting, no engine progress" in done.stdout
    host.tick()
    assert len(host.restarted()) == 1  # the restart starts a new clock


@pytest.mark.parametrize(
    ("second", "why"),
    [
        (metrics(running=2, waiting=5, steps=101, tokens=4000), "the engine stepped"),
        (metrics(running=2, waiting=5, steps=100, tokens=4001), "a token was generated"),
        (metrics(running=0, waiting=0, steps=100, tokens=4000), "idle: nothing to make progress on"),
        (None, "no /metrics: loading or restarting, not hung"),
    ],
)
def test_progress_idleness_or_no_metrics_never_restart(tmp_path: Path, second: str | None, why: str) -> None:
    host = Host(tmp_path)
    host.serve(metrics(running=2, waiting=5, steps=100, tokens=4000))
    host.tick()
    host.last_seen(watchdog.STALL_SECONDS * 2)
    host.serve(second)
    host.tick()
    assert host.restarted() == [], why


def test_the_script_passes_shellcheck() -> None:
    result = subprocess.run(["shellcheck", str(watchdog.SCRIPT)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout


def test_every_gpu_host_installs_the_watchdog_with_its_servers() -> None:
    run = run_stack("prod")
    installs = {r.name: r for r in of_type(run, "command:local:Command") if r.name.endswith("-watchdog")}
    assert sorted(installs) == ["qwen-72b-0-watchdog", "qwen-8b-0-watchdog", "qwen-8b-1-watchdog"]
    install = installs["qwen-8b-1-watchdog"]
    assert "qwen-8b-1-ready" in install.options["dependsOn"]
    files = {
        path: base64.b64decode(encoded).decode()
        for encoded, path in re.findall(
            r"echo (\S+) \| base64 -d \| sudo install -D -m \d+ /dev/stdin (\S+)", install.inputs["create"]
        )
    }
    assert files[watchdog.SCRIPT_PATH] == watchdog.SCRIPT.read_text()
    settings = files[watchdog.CONFIG_PATH]
    assert 'SERVERS="vllm-qwen-8b-0:8000"' in settings and "STOP_GRACE_SECONDS=630" in settings
    assert f"enable --now {watchdog.UNIT}.timer || exit {REMOTE_FAILED_EXIT}" in install.inputs["create"]
    server = named(run, "qwen-8b-1-vllm-0-container")
    assert server.inputs["name"] == "vllm-qwen-8b-0"  # the name the settings give
