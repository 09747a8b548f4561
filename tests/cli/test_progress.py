"""Progress on a long plan: on stderr, only when it is a terminal (a real pty here), stdout byte-identical."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
from pathlib import Path

from stack_runs import PROJECT_DIR

from components.cli.program import RecordedResource
from components.cli.progress import Progress

ENV = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT_DIR), "TERM": "xterm"}

# A program that takes a few seconds between registrations, as a large stack does.
SLOW_PROGRAM = """
import asyncio

import pulumi


async def main() -> None:
    for index in range(6):
        pulumi.ComponentResource("test:index:Thing", f"thing-{index}", None, None)
        await asyncio.sleep(0.7)


pulumi.run(main)
"""


def plan(project: Path, stdout: Path, *, stderr_on_a_pty: bool) -> bytes:
    """Run `plan --format json`; stdout goes to a file, stderr to a pty or a pipe. Returns what stderr got."""
    command = [sys.executable, "-m", "components", "plan", "--format", "json"]
    command += ["--config", str(PROJECT_DIR / "Pulumi.dev.yaml"), "--project-dir", str(project)]
    with stdout.open("wb") as out:
        if not stderr_on_a_pty:
            result = subprocess.run(command, stdout=out, stderr=subprocess.PIPE, env=ENV, check=True)
            return result.stderr
        terminal, child_end = pty.openpty()
        process = subprocess.Popen(command, stdout=out, stderr=child_end, stdin=subprocess.DEVNULL, env=ENV)
        os.close(child_end)
        seen = b""
        while True:
            try:
                chunk = os.read(terminal, 4096)
            except OSError:  # EIO: the process closed its end
                break
            if not chunk:
                break
            seen += chunk
        os.close(terminal)
        assert process.wait(timeout=60) == 0, seen
        return seen


def test_a_long_plan_shows_progress_on_a_terminal_only(tmp_path: Path) -> None:
    (tmp_path / "__main__.py").write_text(SLOW_PROGRAM)
    on_terminal = plan(tmp_path, tmp_path / "a.json", stderr_on_a_pty=True)
    on_pipe = plan(tmp_path, tmp_path / "b.json", stderr_on_a_pty=False)
    assert b"planning: " in on_terminal and b"resources registered (test:index:Thing thing-" in on_terminal
    # Erased at the end: the terminal is left as it was.
    assert on_terminal.endswith(b"\r\x1b[K")
    assert on_pipe == b""
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    assert b"thing-5" in (tmp_path / "a.json").read_bytes()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_nothing_before_the_delay_then_at_most_every_fifth_of_a_second_then_erased() -> None:
    now = [0.0]
    terminal = _Terminal()
    thing = RecordedResource("test:index:Thing", "t", None, {}, {}, "urn:t")
    with Progress(terminal, after_seconds=2.0, every_seconds=0.2, clock=lambda: now[0]) as progress:
        for moment in (0.5, 1.9, 2.0, 2.1, 2.25, 5.0):
            now[0] = moment
            progress(thing)
        shown = terminal.getvalue()
    assert shown.count("planning: ") == 3  # at 2.0, 2.25 and 5.0
    assert shown.split("\r\x1b[K")[1:4] == [
        f"planning: {n} resources registered (test:index:Thing t)" for n in (3, 5, 6)
    ]
    assert terminal.getvalue().endswith("\r\x1b[K")
    quick = _Terminal()
    with Progress(quick, clock=lambda: 0.0) as progress:
        progress(thing)
    assert quick.getvalue() == ""
