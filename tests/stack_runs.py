"""Helpers to run the real program under mocks with a shipped stack's config, modified per test."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from repo import PROJECT_DIR

from components.cli.offline import OfflineAws
from components.cli.program import ProgramRun, RecordedResource, Recording, run_program
from components.cli.report import plan_json
from components.config import SECRET_KEYS, parse_stack_config, raw_from_stack_file
from components.planner import plan_stack

PROGRAM = PROJECT_DIR / "__main__.py"


def stack_raw(stack: str) -> tuple[dict[str, Any], list[str]]:
    raw, secret_keys = raw_from_stack_file(PROJECT_DIR / f"Pulumi.{stack}.yaml")
    return copy.deepcopy(raw), secret_keys


def run_stack(stack: str = "dev", aws: OfflineAws | None = None, **overrides: Any) -> ProgramRun:
    raw, secret_keys = stack_raw(stack)
    raw.update(overrides)
    secret_keys = sorted({*secret_keys, *(k for k in SECRET_KEYS if k in overrides)})
    return run_program(PROGRAM, raw, secret_keys, stack, aws=aws)


def of_type(run: ProgramRun | Recording, type_: str) -> list[RecordedResource]:
    return [r for r in run.resources if r.type == type_]


def named(run: ProgramRun | Recording, name: str) -> RecordedResource:
    (found,) = [r for r in run.resources if r.name == name]
    return found


def plan_document(
    stack: str = "dev", change: Callable[[dict[str, Any]], object] | None = None, aws: OfflineAws | None = None
) -> dict[str, Any]:
    """The plan JSON of a shipped stack, its config first passed through ``change`` (as `plan --format json`)."""
    raw, secret_keys = stack_raw(stack)
    if change is not None:
        change(raw)
    secret_keys = sorted({*secret_keys, *(k for k in SECRET_KEYS if isinstance(raw.get(k), str))})
    run = run_program(PROGRAM, raw, secret_keys, stack, aws=aws)
    return plan_json(stack, plan_stack(parse_stack_config(raw)), run.resources)
