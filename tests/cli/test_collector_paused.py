"""run_program pauses Python's cyclic garbage collector while a program runs, and restores it after."""

from __future__ import annotations

import gc
from pathlib import Path

from components.cli.program import resolved, run_program

PROGRAM = "import gc\nimport pulumi\npulumi.export('collecting', gc.isenabled())\n"


def run(tmp_path: Path) -> bool:
    program = tmp_path / "__main__.py"
    program.write_text(PROGRAM)
    return bool(resolved(run_program(program, {}, (), "gc").outputs["collecting"]))


def test_the_collector_is_off_during_the_run_and_on_after(tmp_path: Path) -> None:
    assert gc.isenabled()
    assert run(tmp_path) is False
    assert gc.isenabled()


def test_a_collector_the_caller_turned_off_stays_off(tmp_path: Path) -> None:
    gc.disable()
    try:
        assert run(tmp_path) is False
        assert not gc.isenabled()
    finally:
        gc.enable()
