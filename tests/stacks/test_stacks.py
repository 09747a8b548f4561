"""Whole-stack runs: the real __main__.py under mocks, for every shipped Pulumi.<stack>.yaml."""

from __future__ import annotations

import json
from pathlib import Path

import pulumi
import pytest
from repo import PROJECT_DIR

from components.cli.program import run_program
from components.config import parse_stack_config, raw_from_stack_file
from components.planner import plan_stack

STACK_FILES = sorted(PROJECT_DIR.glob("Pulumi.*.yaml"))
PROGRAM = PROJECT_DIR / "__main__.py"


def test_both_stacks_are_shipped() -> None:
    assert {p.name for p in STACK_FILES} == {"Pulumi.dev.yaml", "Pulumi.prod.yaml"}


@pytest.mark.parametrize("stack_file", STACK_FILES, ids=lambda p: p.name)
def test_shipped_stack_plans_and_runs_under_mocks(stack_file: Path) -> None:
    raw, secret_keys = raw_from_stack_file(stack_file)
    plan = plan_stack(parse_stack_config(raw))
    stack = stack_file.stem.removeprefix("Pulumi.")

    run = run_program(PROGRAM, raw, secret_keys, stack)

    passwords = [r for r in run.resources if r.type == "random:index/randomPassword:RandomPassword"]
    assert sorted(r.name for r in passwords) == ["api-key", "grafana-admin-password"]
    api_keys = [r for r in passwords if r.name == "api-key"]
    assert api_keys[0].inputs["special"] is False and api_keys[0].inputs["length"] >= 32
    assert set(run.outputs["models"]) == {m.config.name for m in plan.models}


def test_dev_stack_is_one_small_model_on_one_cheap_gpu_with_colocated_monitoring() -> None:
    raw, _ = raw_from_stack_file(PROJECT_DIR / "Pulumi.dev.yaml")
    plan = plan_stack(parse_stack_config(raw))
    (model,) = plan.models
    assert model.config.replicas == 1 and model.instance.gpu_count == 1
    assert model.instance.hourly_usd is not None and model.instance.hourly_usd < 1.0
    assert plan.config.monitoring.placement == "colocated"


def test_prod_stack_has_a_tensor_parallel_model_and_a_replicated_one() -> None:
    raw, secret_keys = raw_from_stack_file(PROJECT_DIR / "Pulumi.prod.yaml")
    plan = plan_stack(parse_stack_config(raw))
    assert len(plan.models) >= 2
    assert any(m.settings.tensor_parallel_size >= 4 for m in plan.models)
    assert any(m.config.replicas >= 2 for m in plan.models)
    # Ungated checkpoints: the stack plans without a Hugging Face token, and ships no placeholder ciphertext.
    assert "hfToken" not in raw and not secret_keys
    assert plan.config.load_balancer.deletion_protection is True


def test_configured_api_key_is_exported_as_a_secret_and_nothing_is_generated() -> None:
    raw, secret_keys = raw_from_stack_file(PROJECT_DIR / "Pulumi.dev.yaml")
    raw["apiKey"] = "sk-offline-test-key"
    run = run_program(PROGRAM, raw, [*secret_keys, "apiKey"], "dev")
    assert "api-key" not in {r.name for r in run.resources}
    exported = run.outputs["apiKey"]
    assert isinstance(exported, pulumi.Output)
    assert "sk-offline-test-key" not in json.dumps([r.inputs for r in run.resources])


def test_bad_config_stops_the_program_before_any_resource() -> None:
    raw, secret_keys = raw_from_stack_file(PROJECT_DIR / "Pulumi.dev.yaml")
    raw["models"] = [{**raw["models"][0], "tensorParallelSize": 3}]
    with pytest.raises(pulumi.RunError, match=r"vllm-aws:models\[0\]\.tensorParallelSize"):
        run_program(PROGRAM, raw, secret_keys, "dev")
