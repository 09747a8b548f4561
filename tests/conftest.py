"""Shared fixtures: Pulumi mocks set per test (never at import), and paths to the shipped stacks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pulumi
import pytest
from pulumi.runtime import settings

PROJECT_DIR = Path(__file__).resolve().parent.parent


class RecordingMocks(pulumi.runtime.Mocks):
    """Records every registered resource; returns inputs as outputs."""

    def __init__(self) -> None:
        self.resources: list[pulumi.runtime.MockResourceArgs] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        self.resources.append(args)
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list]:
        return {}, []


@pytest.fixture(autouse=True)
def deploying_machine_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private home directory per test: programs write the stack's SSH key under ``~/.ssh`` (key_file)."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


@pytest.fixture
def pulumi_mocks() -> Iterator[RecordingMocks]:
    """Fresh mocks, config and root stack for one test (pytest imports all modules first)."""
    mocks = RecordingMocks()
    settings.ROOT.set(None)
    pulumi.runtime.set_mocks(mocks, project="vllm-aws", stack="test", preview=False)
    yield mocks
    pulumi.runtime.set_all_config({}, [])
