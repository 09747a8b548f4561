"""Rendered `vllm serve` arguments use only flags that vLLM 0.33 really has."""

from __future__ import annotations

import pytest

from components import catalog
from components.config import ModelConfig
from components.errors import KeyPaths
from components.planner.vllm_args import TYPED_FLAGS, extra_args_issues, render_args, split_flag

EVERYTHING_SET = ModelConfig.model_validate(
    {
        "name": "m",
        "id": "Qwen/Qwen2.5-7B-Instruct",
        "revision": "a1b2c3",
        "tensorParallelSize": 2,
        "dtype": "float16",
        "quantization": "fp8",
        "kvCacheDtype": "fp8",
        "maxNumSeqs": 64,
        "maxNumBatchedTokens": 4096,
        "enablePrefixCaching": False,
        "extraArgs": ["--enable-chunked-prefill", "--max-log-len", "100"],
    }
)


def test_every_rendered_flag_exists_in_the_pinned_vllm() -> None:
    flags = catalog.serve_flags()
    args = render_args(EVERYTHING_SET, 8192)
    rendered = [split_flag(a)[0] for a in args if a.startswith("--")]
    assert rendered, args
    assert [f for f in rendered if f not in flags] == []
    assert catalog.serve_flags_version() == "0.33.0"


def test_typed_settings_render_in_order_with_the_model_first() -> None:
    args = render_args(EVERYTHING_SET, 8192)
    assert args[0] == "Qwen/Qwen2.5-7B-Instruct"
    pairs = dict(zip(args[1::2], args[2::2], strict=False))
    assert pairs["--tensor-parallel-size"] == "2" and pairs["--max-model-len"] == "8192"
    assert "--disable-prefix-caching" in args
    assert args[-3:] == ["--enable-chunked-prefill", "--max-log-len", "100"]


def test_valid_extra_args_have_no_issues() -> None:
    assert extra_args_issues(KeyPaths(("models", 0)), EVERYTHING_SET) == []


def test_every_typed_flag_destination_exists_in_vllm() -> None:
    destinations = {spec["dest"] for spec in catalog.serve_flags().values()}
    assert set(TYPED_FLAGS) <= destinations


@pytest.mark.parametrize(
    ("flag", "fix"),
    [
        ("--port", "remove it from extraArgs: vllm-aws sets it for every server"),
        ("--api-key", "remove it from extraArgs and set the key with `pulumi config set --secret vllm-aws:apiKey ...`"),
        ("--max-model-len", "remove it from extraArgs and use maxModelLen"),
    ],
)
def test_a_flag_the_stack_sets_itself_has_a_fix_that_reads(flag: str, fix: str) -> None:
    model = ModelConfig.model_validate({"name": "m", "id": "x/y", "extraArgs": [flag, "1"]})
    (issue,) = extra_args_issues(KeyPaths(("models", 0)), model)
    assert issue.fix == fix
