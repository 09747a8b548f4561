"""The code stays lint-clean, formatted and type-checked: part of the suite so CI enforces it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from repo import PROJECT_DIR


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check", "."],
        ["ruff", "format", "--check", "."],
        ["mypy", "components", "__main__.py"],
        # Separately: provider/__main__.py and ./__main__.py would be two modules named __main__ in one run.
        # provider/venv is what `pulumi package add ./provider` installs the plugin into.
        ["mypy", "provider", "--exclude", "^provider/venv/"],
        ["mypy", "examples/extra-model/__main__.py"],
    ],
    ids=["ruff-check", "ruff-format", "mypy-strict", "mypy-provider", "mypy-example"],
)
def test_tool_is_clean(command: list[str], tmp_path: Path) -> None:
    # The provider and the example import the installed package, vllm_aws: this checkout's components/ by that name.
    (tmp_path / "vllm_aws").symlink_to(PROJECT_DIR / "components", target_is_directory=True)
    env = {**os.environ, "MYPYPATH": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", *command], cwd=PROJECT_DIR, capture_output=True, text=True, check=False, env=env
    )
    assert result.returncode == 0, result.stdout + result.stderr
