"""How `python -m components` meets a shell: the stack name of a --config file, pipes that close, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from stack_runs import PROJECT_DIR

ENV = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT_DIR)}


@pytest.fixture
def sigint_not_ignored() -> Iterator[None]:
    """A suite started as a background job (`cmd &`, nohup) inherits SIGINT ignored, and so would the CLI under
    test: Python then installs no KeyboardInterrupt handler. A handled SIGINT here is the default in a child."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


CLI = f"{sys.executable} -m components"


def test_two_config_files_of_one_stack_compare_cleanly(tmp_path: Path) -> None:
    # The stack name reaches SSM parameter names and tags: taken from the file names, the same stack read from
    # two files would differ in every one of them.
    prod = (PROJECT_DIR / "Pulumi.prod.yaml").read_text()
    (tmp_path / "base.yaml").write_text(prod)
    (tmp_path / "change.yaml").write_text(prod.replace("maxModelLen: 16384", "maxModelLen: 12288"))
    plan = ["plan", "--stack", "prod", "--project-dir", str(PROJECT_DIR)]
    base = _cli(*plan, "--config", str(tmp_path / "base.yaml"), "--format", "json")
    assert base.returncode == 0, base.stderr
    assert json.loads(base.stdout)["stack"] == "prod"
    (tmp_path / "base.json").write_text(base.stdout)
    diff = _cli(
        *plan, "--config", str(tmp_path / "change.yaml"), "--compare", str(tmp_path / "base.json"), "--format", "json"
    )
    assert diff.returncode == 0, diff.stderr
    resources = json.loads(diff.stdout)["resources"]
    assert resources["added"] == resources["removed"] == resources["recreated"] == []
    touched = {e["name"] for e in resources["replaced"] + resources["changed"]}
    assert touched and all(name.startswith("qwen-8b-") for name in touched), touched
    without_stack = _cli(
        "plan", "--project-dir", str(PROJECT_DIR), "--config", str(tmp_path / "base.yaml"), "--format", "json"
    )
    assert json.loads(without_stack.stdout)["stack"] == "base"  # the file's name, as before


def test_a_reader_that_goes_away_ends_the_plan_quietly_with_141() -> None:
    # `| true` closes the pipe before the plan is printed: the write fails with EPIPE.
    for fmt in ("json", "table", "markdown"):
        run = subprocess.run(
            ["bash", "-c", f'{CLI} plan --stack prod --format {fmt} | true; echo "${{PIPESTATUS[0]}}"'],
            cwd=PROJECT_DIR,
            capture_output=True,
            text=True,
            check=False,
            env=ENV,
        )
        assert run.stdout == "141\n", run.stdout + run.stderr
        assert run.stderr == ""  # no BrokenPipeError traceback, no "Exception ignored" at shutdown


def test_a_reader_that_keeps_reading_gets_the_whole_plan() -> None:
    piped = subprocess.run(
        ["bash", "-c", f"{CLI} plan --stack dev --format json | head -c 100000000"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=True,
        env=ENV,
    )
    assert json.loads(piped.stdout)["stack"] == "dev"


@pytest.mark.usefixtures("sigint_not_ignored")
def test_ctrl_c_ends_the_plan_by_sigint_without_a_traceback(tmp_path: Path) -> None:
    # A program that takes its time, as a large stack does; the interrupt arrives while it runs.
    (tmp_path / "__main__.py").write_text("import pathlib, time\npathlib.Path('running').touch()\ntime.sleep(60)\n")
    process = subprocess.Popen(
        [*CLI.split(), "plan", "--config", str(PROJECT_DIR / "Pulumi.dev.yaml"), "--project-dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    deadline = time.monotonic() + 60
    while not (tmp_path / "running").exists():
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=30)
    # Ended by the signal, as Python itself does for an uncaught KeyboardInterrupt: a shell reports 130.
    assert process.returncode == -signal.SIGINT, stderr
    assert stdout == "" and stderr == ""


@pytest.mark.usefixtures("sigint_not_ignored")
def test_the_shell_sees_130_after_ctrl_c(tmp_path: Path) -> None:
    (tmp_path / "__main__.py").write_text("import os, signal\nos.kill(os.getpid(), signal.SIGINT)\n")
    run = subprocess.run(
        ["bash", "-c", f'{CLI} plan --config {PROJECT_DIR / "Pulumi.dev.yaml"} --project-dir {tmp_path}; echo "$?"'],
        capture_output=True,
        text=True,
        check=False,
        env=ENV,
        cwd=os.getcwd(),
    )
    assert run.stdout == "130\n" and "Traceback" not in run.stderr, run.stderr


def test_the_cli_closes_its_event_loop_so_no_finalizer_writes_under_its_output(tmp_path: Path) -> None:
    # Left to the interpreter's shutdown, the Pulumi SDK's loop was finalized after its sockets in some runs and
    # printed a ValueError traceback under the error message (CI, 2026-12-02). Python reports every loop still
    # open at its finalization as a ResourceWarning, deterministically, where the traceback came only sometimes.
    (tmp_path / "Pulumi.bad.yaml").write_text("config:\n  vllm-aws:modles: []\n")
    for args, code in (
        (["plan", "--config", str(tmp_path / "Pulumi.bad.yaml")], 2),
        (["plan", "--stack", "dev", "--format", "json"], 0),
        (["render", "--stack", "dev", "--out", str(tmp_path / "rendered")], 0),
    ):
        run = subprocess.run(
            [sys.executable, "-W", "always::ResourceWarning", "-m", "components", *args],
            cwd=PROJECT_DIR,
            capture_output=True,
            text=True,
            check=False,
            env=ENV,
        )
        assert run.returncode == code, run.stderr
        assert "unclosed event loop" not in run.stderr and "Traceback" not in run.stderr, run.stderr


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI.split(), *args], cwd=PROJECT_DIR, capture_output=True, text=True, check=False, env=ENV)
