"""Shared fixtures: the plan's mock engine per test (never at import), and a private home per test."""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from components.cli.program import Recording, mock_engine


@pytest.fixture(autouse=True)
def deploying_machine_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private home directory per test: programs write the stack's SSH key under ``~/.ssh`` (key_file)."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


@pytest.fixture
def pulumi_mocks() -> Iterator[Recording]:
    """The mock engine ``plan`` runs programs under (components.cli.program.mock_engine), fresh for one test:
    components constructed in the test are recorded as the plan records them."""
    with mock_engine("vllm-aws", "test") as recording:
        yield recording
    # Finalize the test's Pulumi objects here, not during a later test's `ast` work (see
    # components.cli.program._cyclic_collector_paused: CPython 3.11's AST recursion-depth check, cpython#106905).
    gc.collect()


@pytest.fixture(autouse=True)
def offline_hub(monkeypatch: pytest.MonkeyPatch) -> None:
    """Plans read models from the bundled snapshot (and the per-test cache), never from huggingface.co."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("HF_TOKEN", raising=False)


@pytest.fixture(autouse=True)
def offline_registries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Plans never ask a container registry for a digest (pinImagesByDigest): tests give their own resolver."""
    monkeypatch.setenv("VLLM_AWS_REGISTRY_OFFLINE", "1")


@pytest.fixture
def engine_log() -> Iterator[list[str]]:
    """Messages the program logs through pulumi.log (the mock engine's quiet logger)."""
    messages: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    logger = logging.getLogger("vllm-aws.mock-engine")
    handler = Keep(level=logging.INFO)
    logger.addHandler(handler)
    previous = logger.level
    logger.setLevel(logging.INFO)
    yield messages
    logger.removeHandler(handler)
    logger.setLevel(previous)
