"""How the planner reads a model: through the reader (its errors become config issues naming the key), from a
``configJson`` file relative to the config file (quantization declared there included), or the catalog."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from repo import DATA_DIR

from components.catalog.hub import ModelReader, ModelReadError, ReadProblem
from components.catalog.hub_client import HubModelInfo
from components.catalog.model_shape import CannotSize, ModelShape, SafetensorsCounts
from components.config.sections import ModelConfig
from components.errors import ConfigError
from components.planner import ModelPlan, PlanContext, plan_model, render_args

LLAMA_CONFIG = DATA_DIR / "hf" / "meta-llama__Llama-3.1-8B-Instruct" / "config.json"


class FailingReader(ModelReader):
    def __init__(self, problem: ReadProblem) -> None:
        super().__init__(offline=True)
        self.problem = problem

    def read(self, repo_id: str, revision: str | None = None, token: str | None = None) -> ModelShape | CannotSize:
        raise ModelReadError(repo_id, self.problem, "said no", "do the fix")


def plan(context: PlanContext, **model: object) -> ModelPlan:
    config = ModelConfig.model_validate({"name": "m", "instanceType": "g6e.xlarge", "maxModelLen": 8192, **model})
    return plan_model(config, context, ("models", 0))


@pytest.mark.parametrize(
    ("problem", "path"),
    [
        ("not-found", "vllm-aws:models[0].id"),
        ("unreachable", "vllm-aws:models[0].id"),
        ("revision-not-found", "vllm-aws:models[0].revision"),
        ("gated", "vllm-aws:hfToken"),
    ],
)
def test_reader_errors_are_config_issues_naming_the_key(problem: ReadProblem, path: str) -> None:
    with pytest.raises(ConfigError) as caught:
        plan(PlanContext(reader=FailingReader(problem)), id="acme/private-model", revision="v1")
    (issue,) = caught.value.issues
    assert issue.path == path and "do the fix" in str(caught.value)


def test_an_unknown_repo_offline_asks_for_an_architecture_block() -> None:
    with pytest.raises(ConfigError) as caught:
        plan(PlanContext(), id="acme/not-in-any-snapshot")
    assert caught.value.issues[0].path == "vllm-aws:models[0].id"
    assert "architecture" in str(caught.value)


def test_a_bundled_model_says_where_its_shape_came_from_and_is_not_resolved_offline() -> None:
    result = plan(PlanContext(), id="Qwen/Qwen3-8B")
    assert result.shape_source.startswith("bundled snapshot: ")
    assert result.config.revision is None


def test_config_json_is_relative_to_the_config_file_not_the_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "config.json").write_text(LLAMA_CONFIG.read_text())
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = plan(
        PlanContext(config_dir=tmp_path), id="acme/llama-copy", architecture={"configJson": "models/config.json"}
    )
    assert result.spec.shape is not None and result.spec.num_layers == 32
    assert result.shape_source.startswith("configJson file")
    with pytest.raises(ConfigError) as caught:
        plan(PlanContext(), id="acme/llama-copy", architecture={"configJson": "models/config.json"})
    assert caught.value.issues[0].path == "vllm-aws:models[0].architecture.configJson"
    assert str(elsewhere / "models" / "config.json") in str(caught.value)


def test_a_config_json_declares_the_checkpoints_quantization(tmp_path: Path) -> None:
    config = json.loads(LLAMA_CONFIG.read_text())
    config["quantization_config"] = {"quant_method": "awq", "bits": 4, "group_size": 128, "zero_point": True}
    (tmp_path / "config.json").write_text(json.dumps(config))
    result = plan(PlanContext(config_dir=tmp_path), id="acme/llama-awq", architecture={"configJson": "config.json"})
    assert result.spec.quantization == "awq"
    assert result.memory.weights_gib < 6
    assert "--quantization" not in render_args(result.config, result.memory.max_model_len)


def test_a_quantization_the_checkpoint_declares_is_not_passed_again() -> None:
    result = plan(
        PlanContext(),
        id="Qwen/Qwen3-30B-A3B-FP8",
        quantization="fp8",
        instanceType="g6e.12xlarge",
        tensorParallelSize=2,
    )
    assert result.config.quantization is None


def test_a_gated_repo_read_through_the_reader_needs_the_hosts_token() -> None:
    # The record's gated flag (Hub model_info, cache, snapshot) reaches the check that the hosts get hfToken.
    with pytest.raises(ConfigError) as caught:
        plan(PlanContext(), id="google/gemma-3-4b-it")
    assert caught.value.issues[0].path == "vllm-aws:hfToken"
    assert plan(PlanContext(hf_token=True), id="google/gemma-3-4b-it").spec.gated


class RecordedHub:
    """A Hub that answers from tests/data/hf at a fixed commit (HubClient protocol)."""

    sha = "0123456789abcdef0123456789abcdef01234567"

    def model_info(self, repo_id: str, revision: str | None, token: str | None) -> HubModelInfo:
        folder = DATA_DIR / "hf" / repo_id.replace("/", "__")
        counts = folder / "safetensors.json"
        safetensors = SafetensorsCounts.model_validate_json(counts.read_text()) if counts.is_file() else None
        return HubModelInfo(sha=self.sha, gated=False, files=frozenset({"config.json"}), safetensors=safetensors)

    def download_json(self, repo_id: str, filename: str, revision: str | None, token: str | None) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((DATA_DIR / "hf" / repo_id.replace("/", "__") / filename).read_text())
        return data


def test_an_unpinned_revision_is_served_at_the_commit_the_plan_resolved(tmp_path: Path) -> None:
    reader = ModelReader(RecordedHub(), cache_dir=tmp_path)
    result = plan(PlanContext(reader=reader), id="Qwen/Qwen3-8B", revision="main")
    assert result.configured_revision == "main" and result.config.revision == RecordedHub.sha
    args = render_args(result.config, result.memory.max_model_len)
    assert args[args.index("--revision") + 1] == RecordedHub.sha
    assert result.shape_source.startswith(f"hub: Qwen/Qwen3-8B at {RecordedHub.sha[:12]}")
