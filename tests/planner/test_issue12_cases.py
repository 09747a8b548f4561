"""The four mis-sizings issue #12 reported, the auto-pick and the online-FP8 disk, as regression tests (offline:
the models come from the bundled snapshot, or the hand-kept catalog for the ids it alone lists)."""

from __future__ import annotations

from typing import Any

import pytest

from components.config import parse_stack_config
from components.errors import ConfigError
from components.planner.memory import GIB
from components.planner.plan import ModelPlan, plan_stack


def planned(**model: Any) -> ModelPlan:
    config = parse_stack_config(
        {"models": [{"name": "m", **model}], "hfToken": "hf_x", "loadBalancer": {"allowPlainHttp": True}}
    )
    return plan_stack(config).models[0]


def test_qwen3_30b_a3b_no_longer_fits_one_l40s() -> None:
    # Was: 6.2 GiB of weights (active experts only). Every expert is resident: 61,064,245,248 B (Hub count).
    with pytest.raises(ConfigError) as caught:
        planned(id="Qwen/Qwen3-30B-A3B", instanceType="g6e.xlarge", maxModelLen=32768)
    assert "56.9 GiB per GPU" in str(caught.value)
    assert planned(id="Qwen/Qwen3-30B-A3B", tensorParallelSize=2, instanceType="g6e.12xlarge").memory.weights_gib == (
        pytest.approx(56.87 / 2, abs=0.05)
    )


def test_gpt_oss_120b_is_sized_on_its_mxfp4_bytes() -> None:
    # Was: 5.6 GiB and 941k KV tokens. MXFP4 experts at 0.53125 B, the rest bf16: about 61 GiB on one H100.
    plan = planned(id="openai/gpt-oss-120b", instanceType="p5.4xlarge")
    assert plan.memory.weights_gib == pytest.approx(60.7, abs=0.5)
    assert plan.memory.kv_cache_tokens < 400_000


def test_gemma3_sliding_layers_are_window_sized() -> None:
    plan = planned(id="google/gemma-3-27b-it", instanceType="g6e.12xlarge", tensorParallelSize=2)
    full_attention_tokens = plan.memory.kv_cache_gib * GIB / (2 * 62 * 8 * 128 * 2)
    assert plan.memory.kv_cache_tokens > 3 * full_attention_tokens
    assert not any("counted here as full attention" in w for w in plan.warnings)


def test_deepseek_mla_latent_is_not_split_by_tp() -> None:
    plan = planned(id="deepseek-ai/DeepSeek-V3", instanceType="p5en.48xlarge", tensorParallelSize=8, maxModelLen=32768)
    assert plan.memory.kv_bytes_per_token == 61 * 576 * 2
    assert plan.memory.kv_cache_tokens == pytest.approx(plan.memory.kv_cache_gib * GIB / (61 * 576 * 2), rel=0.01)


def test_auto_pick_searches_tp_and_never_takes_an_8_gpu_host_at_tp1_for_one_replica() -> None:
    # Was: p6-b200.48xlarge ($114/h) at TP 1, 1 of 8 GPUs used.
    plan = planned(id="Qwen/Qwen2.5-72B-Instruct", maxModelLen=32768)
    assert not (plan.instance.gpu_count == 8 and plan.settings.tensor_parallel_size == 1)
    assert plan.settings.tensor_parallel_size == plan.config.tensor_parallel_size > 1
    assert plan.hourly_usd is not None and plan.hourly_usd < 20
    assert "TP searched" in plan.instance_reason


def test_auto_pick_fills_hosts_with_replicas_when_cheaper() -> None:
    plan = planned(id="Qwen/Qwen3-8B", replicas=4, maxModelLen=8192)
    hosts = -(-plan.config.replicas // plan.config.replicas_per_host)
    idle = hosts * plan.instance.gpu_count - 4 * plan.config.tensor_parallel_size
    assert idle == 0 or any("sit idle" in w for w in plan.warnings)


def test_idle_gpus_are_a_warning() -> None:
    plan = planned(id="Qwen/Qwen3-8B", instanceType="g6e.12xlarge", maxModelLen=8192)
    assert any("3 of the 4 GPUs" in w for w in plan.warnings)


def test_online_fp8_disk_is_sized_on_the_bf16_checkpoint() -> None:
    # The prod 72B: vLLM downloads the 135 GiB BF16 checkpoint and quantizes it as it loads; the cache holds it
    # twice (a revision upgrade downloads beside the old one) + 50 GiB of compile caches. Was: sized on 68 GiB.
    plan = planned(
        id="Qwen/Qwen2.5-72B-Instruct",
        quantization="fp8",
        tensorParallelSize=4,
        instanceType="g6e.12xlarge",
        maxModelLen=32768,
        kvCacheDtype="fp8",
    )
    assert plan.memory.weights_gib * 4 == pytest.approx(70, abs=1)  # linears at 1 B, embeddings bf16
    assert plan.cache_size_gib >= 2 * 135 + 50
    assert plan.cold_start.first_boot_seconds > 135 * 1024 / 250


def test_fp8_weight_only_below_cc_8_9_is_a_warning() -> None:
    plan = planned(id="Qwen/Qwen2.5-7B-Instruct", quantization="fp8", instanceType="g5.xlarge", maxModelLen=8192)
    assert any("weight-only on its Marlin kernel" in w for w in plan.warnings)


def test_float16_is_refused_for_gemma() -> None:
    with pytest.raises(ConfigError) as caught:
        planned(id="google/gemma-3-4b-it", dtype="float16", instanceType="g6e.xlarge", maxModelLen=8192)
    assert caught.value.issues[0].path == "vllm-aws:models[0].dtype"
