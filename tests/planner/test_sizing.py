"""Pure tests of the fit planner: known values, choices, cold start, cost, and monotonic properties."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from components import catalog
from components.catalog import GpuSpec
from components.catalog.hub import bundled_snapshot
from components.config import parse_stack_config
from components.errors import ConfigError
from components.planner.cold_start import (
    COMPILE_WARM_SECONDS,
    CONTAINER_START_SECONDS,
    GRAPHS_AND_PROFILE_SECONDS,
    cold_start,
)
from components.planner.cost import (
    ALB_USD_PER_HOUR,
    HOURS_PER_MONTH,
    MONITORING_HOURLY_USD,
    MONITORING_ROOT_VOLUME_GIB,
    MONITORING_VOLUME_GIB,
    ebs_monthly_usd,
    recommended_cache_gib,
)
from components.planner.memory import (
    GIB,
    MIB,
    ServingSettings,
    default_batch_limits,
    fit_memory,
    kv_bytes_per_token,
    resolve_settings,
    weights_bytes,
)
from components.planner.model_spec import bundled_spec
from components.planner.plan import StackPlan, plan_stack

LLAMA_8B = "meta-llama/Llama-3.1-8B-Instruct"


def spec(model_id: str) -> catalog.ModelSpec:
    found = bundled_spec(model_id)
    assert found is not None
    return found


def plan(*models: dict[str, Any], **top: Any) -> StackPlan:
    # Plain HTTP, explicitly: transport is not what sizing is about.
    raw = {"models": list(models), "hfToken": "hf_x", "loadBalancer": {"allowPlainHttp": True}, **top}
    return plan_stack(parse_stack_config(raw))


def serving(tp: int = 1, utilization: float = 0.92, max_len: int = 8192, kv_bytes: int = 2) -> ServingSettings:
    return ServingSettings(
        tensor_parallel_size=tp,
        gpu_memory_utilization=utilization,
        max_model_len=max_len,
        max_num_seqs=256,
        max_num_batched_tokens=2048,
        weight_format="fp16",
        kv_cache_bytes=kv_bytes,
    )


# --- known values -----------------------------------------------------------------------------------------


def test_llama_8b_bf16_weights_match_vllm_model_loading_log() -> None:
    # vLLM logs "Model loading took 14.99 GiB" for Llama-3.1-8B-Instruct in bf16 (PR #17122).
    assert weights_bytes(spec(LLAMA_8B), "fp16") / GIB == pytest.approx(14.99, abs=0.1)


def test_awq_int4_keeps_embeddings_in_16_bits() -> None:
    awq = weights_bytes(spec(LLAMA_8B), "int4") / GIB
    # 6.98 B quantized params at ~0.52 B/param + 1.05 B embedding/LM-head params at 2 B/param
    assert awq == pytest.approx(5.34, abs=0.1)


def test_kv_bytes_per_token_for_llama_8b_is_128_kib_and_halves_under_tp2() -> None:
    assert kv_bytes_per_token(spec(LLAMA_8B), 1, 2) == 128 * 1024
    assert kv_bytes_per_token(spec(LLAMA_8B), 2, 2) == 64 * 1024


def test_kv_heads_are_replicated_when_tp_exceeds_them() -> None:
    qwen_1_5b = spec("Qwen/Qwen2.5-1.5B-Instruct")  # 2 KV heads
    assert kv_bytes_per_token(qwen_1_5b, 4, 2) == kv_bytes_per_token(qwen_1_5b, 2, 2)


def test_fp8_checkpoint_is_weighed_at_one_byte_per_linear_weight() -> None:
    fp8 = spec("RedHatAI/Meta-Llama-3.1-70B-Instruct-FP8")
    assert fp8.weight_format == "fp8"
    assert weights_bytes(fp8, "fp8") / GIB == pytest.approx(67.7, abs=0.5)


def test_default_batch_limits_follow_vllm_per_gpu_class() -> None:
    gpus = catalog.gpus()
    assert default_batch_limits(gpus["L4"]) == (256, 2048)
    assert default_batch_limits(gpus["A100-80GB"]) == (256, 2048)
    assert default_batch_limits(gpus["H100"]) == (1024, 8192)
    assert default_batch_limits(gpus["H200"]) == (1024, 8192)
    # vLLM 0.33 engine/arg_utils.py:2973: 160 GiB and more (B200, B300) get 16384 batched tokens.
    assert default_batch_limits(gpus["B200"]) == default_batch_limits(gpus["B300"]) == (1024, 16384)


def test_vllm_0_33_charges_no_nccl_buffers_to_the_kv_budget() -> None:
    # gpu_worker.py:499-541: NCCL and custom all-reduce are set up before the memory snapshot, so a TP 2 replica's
    # reserve is the TP 1 one; only logs of vLLM before PR #25359 (v0.10.x) charged them.
    llama = spec(LLAMA_8B)
    gpu = catalog.gpus()["L40S"]
    settings = ServingSettings(
        tensor_parallel_size=2,
        gpu_memory_utilization=0.92,
        max_model_len=8192,
        max_num_seqs=256,
        max_num_batched_tokens=2048,
        weight_format="fp16",
        kv_cache_bytes=2,
    )
    single = fit_memory(llama, gpu, replace(settings, tensor_parallel_size=1))
    assert fit_memory(llama, gpu, settings).non_torch_gib == single.non_torch_gib
    older = replace(settings, communicators_in_budget=True)
    assert fit_memory(llama, gpu, older).non_torch_gib == pytest.approx(single.non_torch_gib + 0.35)


# --- planning ---------------------------------------------------------------------------------------------


def test_planner_picks_the_cheapest_type_that_fits_and_says_why() -> None:
    result = plan({"name": "qwen-small", "id": "Qwen/Qwen2.5-1.5B-Instruct", "maxModelLen": 8192})
    model = result.models[0]
    priced = [i for i in catalog.instance_types().values() if i.hourly_usd is not None]
    assert model.instance.name == min(priced, key=lambda i: i.hourly_usd or 0).name == "g4dn.xlarge"
    assert model.instance_reason.startswith("cheapest in us-east-1 for 1 replica(s): 1 x g4dn.xlarge at TP=1")
    assert "next:" in model.instance_reason


def test_planner_skips_types_where_the_model_does_not_fit() -> None:
    result = plan({"name": "qwen-8b", "id": LLAMA_8B, "maxModelLen": 32768})
    chosen = result.models[0]
    assert chosen.memory.fits
    cheaper = [
        i
        for i in catalog.instance_types().values()
        if i.hourly_usd is not None and i.hourly_usd < (chosen.instance.hourly_usd or 0)
    ]
    for instance in cheaper:
        settings_ = resolve_settings(chosen.config, chosen.spec, instance)
        assert not fit_memory(chosen.spec, instance.gpu, settings_).fits, instance.name


def test_no_fit_at_tp1_suggests_the_tp_size_that_fits() -> None:
    # One B300 (p6-b300, 268 GiB as EC2 reports it) holds any catalog model at TP=1, so the case needs a
    # model larger than one GPU: 300B parameters are 559 GiB in bf16.
    huge = {"numLayers": 96, "numAttentionHeads": 128, "numKeyValueHeads": 8, "headDim": 128}
    with pytest.raises(ConfigError) as caught:
        plan(
            {"name": "small", "id": "Qwen/Qwen2.5-1.5B-Instruct", "maxModelLen": 8192},
            {
                "name": "huge",
                "id": "acme/huge",
                "tensorParallelSize": 1,
                "maxModelLen": 8192,
                "architecture": {**huge, "paramsBillion": 300.0, "maxPositionEmbeddings": 32768},
            },
        )
    issue = caught.value.issues[0]
    assert issue.path == "vllm-aws:models[1].tensorParallelSize"
    assert "set tensorParallelSize:" in issue.fix


def test_t4_runs_bf16_models_in_fp16_said_in_the_reason_not_warned() -> None:
    # vLLM picks float16 itself on a GPU without bfloat16; setting dtype: float16 would change nothing (#15).
    result = plan(
        {"name": "qwen", "id": "Qwen/Qwen2.5-1.5B-Instruct", "instanceType": "g4dn.xlarge", "maxModelLen": 4096}
    )
    assert result.models[0].warnings == ()
    assert "float16 (T4 has no bfloat16)" in result.models[0].instance_reason


def test_replicas_multiply_model_cost_and_stack_adds_alb_and_monitoring() -> None:
    one = plan({"name": "m", "id": LLAMA_8B, "instanceType": "g6e.xlarge", "maxModelLen": 8192})
    two = plan({"name": "m", "id": LLAMA_8B, "instanceType": "g6e.xlarge", "maxModelLen": 8192, "replicas": 2})
    assert two.models[0].hourly_usd == pytest.approx(2 * (one.models[0].hourly_usd or 0))
    assert one.hourly_usd is not None and one.models[0].hourly_usd is not None
    extra = one.hourly_usd - one.models[0].hourly_usd
    assert extra == pytest.approx(
        ALB_USD_PER_HOUR
        + MONITORING_HOURLY_USD["t3.medium"]
        + (ebs_monthly_usd(MONITORING_VOLUME_GIB, 3000, 125) + ebs_monthly_usd(MONITORING_ROOT_VOLUME_GIB, 3000, 125))
        / HOURS_PER_MONTH
    )
    assert one.monthly_usd == pytest.approx(one.hourly_usd * 730)


def test_unpriced_instance_keeps_the_priced_part_as_a_lower_bound() -> None:
    # p5e.48xlarge has no on-demand price: AWS sells it through EC2 Capacity Blocks.
    priced = {"name": "small", "id": "Qwen/Qwen2.5-1.5B-Instruct", "instanceType": "g6.xlarge", "maxModelLen": 8192}
    result = plan({"name": "m", "id": LLAMA_8B, "instanceType": "p5e.48xlarge", "maxModelLen": 8192}, priced)
    assert result.models[0].hourly_usd is None and result.lower_bound
    assert result.hourly_usd > (result.models[1].hourly_usd or 0) + ALB_USD_PER_HOUR  # + monitoring
    assert any("no on-demand price for p5e.48xlarge in us-east-1" in w for w in result.models[0].warnings)
    assert any("lower bound" in w and "m (p5e.48xlarge)" in w for w in result.warnings)
    assert "estimatedMonthlyUsd" not in result.stack_outputs()


def test_prices_are_the_stack_regions_and_spot_for_spot_deployments() -> None:
    model = {"name": "m", "id": LLAMA_8B, "instanceType": "g6e.xlarge", "maxModelLen": 8192}
    east = plan(model).models[0].price
    frankfurt = plan(model, **{"aws:region": "eu-central-1"}).models[0].price
    spot = plan({**model, "spot": True}).models[0].price
    assert east and frankfurt and spot
    assert (east.region, frankfurt.region, spot.market) == ("us-east-1", "eu-central-1", "spot")
    assert frankfurt.usd_per_hour != east.usd_per_hour and spot.usd_per_hour < east.usd_per_hour
    assert east.source.date


def test_an_unplannable_type_is_refused_with_its_reason() -> None:
    with pytest.raises(ConfigError) as caught:
        plan({"name": "m", "id": LLAMA_8B, "instanceType": "g5g.xlarge", "maxModelLen": 8192})
    assert caught.value.issues[0].path == "vllm-aws:models[0].instanceType"
    assert "Graviton" in str(caught.value)


def test_recommended_cache_holds_weights_twice_plus_compile_cache() -> None:
    weights = weights_bytes(spec("meta-llama/Llama-3.1-70B-Instruct"), "fp16")
    size = recommended_cache_gib(weights)
    assert size >= 2 * weights / GIB + 50
    assert size % 10 == 0
    assert recommended_cache_gib(1e9) == 100


# --- cold start -------------------------------------------------------------------------------------------


def test_warm_cache_start_is_reading_weights_plus_engine_start() -> None:
    instance = catalog.instance_types()["p5.48xlarge"]
    weights = weights_bytes(spec(LLAMA_8B), "fp16")
    start = cold_start(weights, instance, tp=1, volume_mibps=1000)
    read = weights / MIB / 1000
    engine = CONTAINER_START_SECONDS + COMPILE_WARM_SECONDS + GRAPHS_AND_PROFILE_SECONDS
    assert start.warm_cache_seconds == round(read + engine)
    assert start.first_boot_seconds > start.host_replacement_seconds > start.warm_cache_seconds


def test_small_instance_ebs_bandwidth_caps_weight_reading() -> None:
    small = catalog.instance_types()["g6.xlarge"]
    weights = weights_bytes(spec(LLAMA_8B), "fp16")
    capped = cold_start(weights, small, tp=1, volume_mibps=2000)
    assert capped.read_mib_per_s == pytest.approx(small.startup_ebs_mibps, abs=0.1)
    assert capped == cold_start(weights, small, tp=1, volume_mibps=1000)


# --- properties -------------------------------------------------------------------------------------------

MODEL_IDS = sorted(
    r.repo_id for r in bundled_snapshot().values() if (s := bundled_spec(r.repo_id)) and s.num_experts is None
)


@settings(max_examples=150, deadline=None)
@given(
    model_id=st.sampled_from(MODEL_IDS),
    memory=st.floats(min_value=8, max_value=200),
    extra=st.floats(min_value=0.01, max_value=100),
    utilization=st.floats(min_value=0.5, max_value=0.98),
)
def test_more_gpu_memory_never_fits_fewer_tokens(
    model_id: str, memory: float, extra: float, utilization: float
) -> None:
    small = GpuSpec(name="a", memory_gib=memory, compute_capability=9.0, architecture="x")
    large = GpuSpec(name="b", memory_gib=memory + extra, compute_capability=9.0, architecture="x")
    s = serving(utilization=utilization)
    assert fit_memory(spec(model_id), large, s).kv_cache_tokens >= fit_memory(spec(model_id), small, s).kv_cache_tokens


@settings(max_examples=100, deadline=None)
@given(model_id=st.sampled_from(MODEL_IDS), low=st.sampled_from([1, 2, 4]), factor=st.sampled_from([2, 4]))
def test_higher_tp_never_raises_per_gpu_weights_or_kv_bytes(model_id: str, low: int, factor: int) -> None:
    gpu = catalog.gpus()["H100"]
    model = spec(model_id)
    lower = fit_memory(model, gpu, serving(tp=low))
    higher = fit_memory(model, gpu, serving(tp=low * factor))
    assert higher.weights_gib <= lower.weights_gib
    assert higher.kv_bytes_per_token <= lower.kv_bytes_per_token


@settings(max_examples=100, deadline=None)
@given(model_id=st.sampled_from(MODEL_IDS), u1=st.floats(0.5, 0.98), u2=st.floats(0.5, 0.98))
def test_higher_utilization_never_fits_fewer_tokens(model_id: str, u1: float, u2: float) -> None:
    gpu = catalog.gpus()["L40S"]
    low, high = sorted((u1, u2))
    assert (
        fit_memory(spec(model_id), gpu, serving(utilization=high)).kv_cache_tokens
        >= fit_memory(spec(model_id), gpu, serving(utilization=low)).kv_cache_tokens
    )


@settings(max_examples=100, deadline=None)
@given(model_id=st.sampled_from(MODEL_IDS), gpu_name=st.sampled_from(sorted(catalog.gpus())))
def test_fp8_kv_cache_never_fits_fewer_tokens_and_quantization_never_weighs_more(model_id: str, gpu_name: str) -> None:
    gpu = catalog.gpus()[gpu_name]
    model = spec(model_id)
    assert (
        fit_memory(model, gpu, serving(kv_bytes=1)).kv_cache_tokens
        >= fit_memory(model, gpu, serving(kv_bytes=2)).kv_cache_tokens
    )
    fp16 = weights_bytes(model, "fp16")
    assert weights_bytes(model, "fp8") <= fp16
    assert weights_bytes(model, "int4") <= weights_bytes(model, "int8") <= fp16


@settings(max_examples=100, deadline=None)
@given(
    throughput=st.integers(125, 2000),
    more=st.integers(0, 1000),
    instance=st.sampled_from(sorted(catalog.instance_types())),
)
def test_more_volume_throughput_never_slows_a_cold_start(throughput: int, more: int, instance: str) -> None:
    itype = catalog.instance_types()[instance]
    slow = cold_start(20e9, itype, 1, throughput)
    fast = cold_start(20e9, itype, 1, throughput + more)
    assert fast.warm_cache_seconds <= slow.warm_cache_seconds
    assert fast.first_boot_seconds <= slow.first_boot_seconds


def test_auto_cache_size_grows_to_carry_the_configured_iops() -> None:
    small_model = {"name": "q", "id": "Qwen/Qwen2.5-1.5B-Instruct", "maxModelLen": 4096}
    assert plan(small_model).models[0].cache_size_gib == 100
    busy = plan(small_model, cache={"iops": 80000, "throughputMibps": 2000})
    assert busy.models[0].cache_size_gib == 160  # 80000 IOPS / 500 per GiB
