"""examples/extra-model run under mocks, behind the prod stack's real exports (for any test folder)."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from repo import PROJECT_DIR
from stack_runs import run_stack

from components.cli.program import ProgramRun, resolved, run_program

EXAMPLE_DIR = PROJECT_DIR / "examples" / "extra-model"
PROJECT = "vllm-aws-extra-model"
REFERENCE = "acme/vllm-aws/prod"
MODEL = {
    "name": "qwen-7b",
    "id": "Qwen/Qwen2.5-7B-Instruct-AWQ",
    "instanceType": "g6.xlarge",
    "replicas": 2,
    "maxModelLen": 8192,
}
READ_OUTPUTS = ("loadBalancer", "network", "secretParameters", "modelNames")


@cache
def _main_stack_outputs() -> dict[str, Any]:
    run = run_stack("prod")
    return {key: resolved(run.outputs[key]) for key in READ_OUTPUTS}


def main_stack_outputs() -> dict[str, Any]:
    return json.loads(json.dumps(_main_stack_outputs()))  # a fresh copy per test


def run_example(outputs: dict[str, Any] | None = None, **config: Any) -> ProgramRun:
    raw = {
        "aws:region": "us-east-1",
        f"{PROJECT}:stackReference": REFERENCE,
        f"{PROJECT}:model": MODEL,
        **{f"{PROJECT}:{key}": value for key, value in config.items()},
    }
    return run_program(
        EXAMPLE_DIR / "__main__.py",
        raw,
        [],
        "extra",
        project=PROJECT,
        stack_outputs={REFERENCE: outputs or main_stack_outputs()},
    )
