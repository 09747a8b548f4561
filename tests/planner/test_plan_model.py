"""One way to plan one model: plan_model, with key paths from a prefix and a namespace, never patched afterwards."""

from __future__ import annotations

import pytest

from components.config import CacheConfig, ModelConfig, parse_stack_config
from components.errors import ConfigError
from components.planner import PlanContext, plan_model, plan_stack

PLAIN_HTTP = {"allowPlainHttp": True}  # transport is not what these tests are about

QWEN = ModelConfig.model_validate({"name": "qwen-7b", "id": "Qwen/Qwen2.5-7B-Instruct", "instanceType": "g6e.xlarge"})
GATED = ModelConfig.model_validate(
    {"name": "llama-8b", "id": "meta-llama/Llama-3.1-8B-Instruct", "instanceType": "g6e.xlarge"}
)


def _paths(error: pytest.ExceptionInfo[ConfigError]) -> list[str]:
    return [issue.path for issue in error.value.issues]


def test_the_stack_plans_each_model_with_plan_model() -> None:
    config = parse_stack_config(
        {"models": [QWEN.model_dump(by_alias=True), {"name": "b", "id": QWEN.id}], "loadBalancer": PLAIN_HTTP}
    )
    stack = plan_stack(config)
    for index, model in enumerate(config.models):
        assert plan_model(model, PlanContext.of_stack(config), ("models", index)) == stack.models[index]


@pytest.mark.parametrize(
    ("prefix", "namespace", "expected"),
    [
        (("models", 1), "vllm-aws", "vllm-aws:models[1].tensorParallelSize"),
        (("model",), "vllm-aws-extra-model", "vllm-aws-extra-model:model.tensorParallelSize"),
        (("model",), None, "model.tensorParallelSize"),
    ],
)
def test_key_paths_start_with_the_prefix(prefix: tuple[str | int, ...], namespace: str | None, expected: str) -> None:
    model = QWEN.model_copy(update={"tensor_parallel_size": 3, "extra_args": ("--no-such-flag",)})
    with pytest.raises(ConfigError) as raised:
        plan_model(model, PlanContext(namespace=namespace), prefix)
    paths = _paths(raised)
    assert expected in paths and expected.replace("tensorParallelSize", "extraArgs[0]") in paths
    assert all(path.startswith(expected.removesuffix("tensorParallelSize")) for path in paths), paths


def test_stack_level_keys_come_from_the_context() -> None:
    context = PlanContext(
        cache=CacheConfig.model_validate({"sizeGib": 20}),
        namespace=None,
        cache_key=("volumes",),
        hf_token_key=("secretParameters", "HF_TOKEN"),
        hf_token_fix="map HF_TOKEN",
    )
    with pytest.raises(ConfigError) as raised:
        plan_model(GATED, context, ("model",))
    # Both stack-level keys at once: the missing token does not hide the cache that cannot hold the weights.
    assert _paths(raised) == ["secretParameters.HF_TOKEN", "volumes.sizeGib"]
    issue = raised.value.issues[0]
    assert (issue.path, issue.problem, issue.fix) == (
        "secretParameters.HF_TOKEN",
        "is required: model (meta-llama/Llama-3.1-8B-Instruct) is gated on Hugging Face",
        "map HF_TOKEN",
    )
    with pytest.raises(ConfigError) as raised:
        plan_model(
            GATED,
            PlanContext(cache=CacheConfig.model_validate({"sizeGib": 20}), hf_token=True, namespace=None),
            ("model",),
        )
    assert _paths(raised) == ["cache.sizeGib"]


def test_the_stack_context_reads_image_cache_and_token_presence() -> None:
    config = parse_stack_config(
        {
            "models": [GATED.model_dump(by_alias=True)],
            "hfToken": "hf_x",
            "cache": {"iops": 9000},
            "loadBalancer": PLAIN_HTTP,
        }
    )
    context = PlanContext.of_stack(config)
    assert (context.image, context.cache.iops, context.hf_token) == (config.image, 9000, True)
    assert plan_model(GATED, context, ("models", 0)).cache_size_gib >= 9000 // 500
