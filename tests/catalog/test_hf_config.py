"""config.json -> ModelShape, per architecture, on recorded Hub files (tests/data/hf, sources in SOURCES.yaml).

Where the Hub's safetensors counts are known, the parsed shape must reproduce them exactly: a parameter count from
the shape (the standard decoder formula below) that equals the Hub's total proves every dimension was read right.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from repo import DATA_DIR

from components.catalog.hf_config import parse_model
from components.catalog.model_shape import CannotSize, ModelShape, Provenance, SafetensorsCounts

HF = DATA_DIR / "hf"
GIB = 2**30


def fixture(repo_id: str) -> ModelShape:
    folder = HF / repo_id.replace("/", "__")
    counts = folder / "safetensors.json"
    quant = folder / "hf_quant_config.json"
    shape = parse_model(
        json.loads((folder / "config.json").read_text()),
        provenance=Provenance(origin="configJson file", repo_id=repo_id),
        safetensors=SafetensorsCounts.model_validate_json(counts.read_text()) if counts.is_file() else None,
        hf_quant_config=json.loads(quant.read_text()) if quant.is_file() else None,
    )
    assert isinstance(shape, ModelShape), shape
    return shape


def decoder_parameters(s: ModelShape, *, qkv_bias: bool = False, qk_norm: bool = False) -> int:
    """Embeddings (+ untied LM head), per layer attention + MLP (dense, or experts + router) + 2 norms, final norm."""
    h, d = s.hidden_size, s.head_dim
    attention = 2 * h * s.num_attention_heads * d + 2 * h * s.num_key_value_heads * d
    attention += (s.num_attention_heads + 2 * s.num_key_value_heads) * d if qkv_bias else 0
    attention += 2 * d if qk_norm else 0
    if s.moe:
        mlp = s.moe.num_experts * 3 * h * s.moe.moe_intermediate_size + h * s.moe.num_experts
    else:
        mlp = 3 * h * s.intermediate_size
    embeddings = s.vocab_size * h * (1 if s.tie_word_embeddings else 2)
    return embeddings + s.num_layers * (attention + mlp + 2 * h) + h


def test_every_fixture_is_listed_with_its_source() -> None:
    listed = {entry["repo"].replace("/", "__") for entry in yaml.safe_load((HF / "SOURCES.yaml").read_text())["models"]}
    assert listed == {path.name for path in HF.iterdir() if path.is_dir()}
    families = {fixture(entry.replace("__", "/", 1)).family for entry in listed}
    assert len(families) >= 13 and len(listed) >= 15


def test_llama() -> None:
    s = fixture("meta-llama/Llama-3.1-8B-Instruct")
    assert (s.family, s.architecture, s.num_layers, s.num_key_value_heads, s.head_dim) == (
        "llama",
        "LlamaForCausalLM",
        32,
        8,
        128,
    )
    assert (s.vocab_size, s.tie_word_embeddings, s.max_position_embeddings, s.dtype) == (
        128256,
        False,
        131072,
        "bfloat16",
    )
    assert s.layer_types == ("full_attention",) * 32 and s.sliding_window is None and s.moe is None
    # Meta publishes 8.03B; 8,030,261,248 (the project's VLLM_SIZING.md §5).
    assert decoder_parameters(s) == 8_030_261_248


def test_qwen2_matches_the_hub_count_and_ignores_a_disabled_window() -> None:
    s = fixture("Qwen/Qwen2.5-7B-Instruct")
    assert (s.family, s.num_layers, s.num_attention_heads, s.num_key_value_heads) == ("qwen2", 28, 28, 4)
    # sliding_window 131072 but use_sliding_window false: every layer is full attention.
    assert s.sliding_window is None and set(s.layer_types) == {"full_attention"}
    assert s.safetensors is not None and decoder_parameters(s, qkv_bias=True) == s.safetensors.total == 7_615_616_512


def test_qwen2_window_applies_from_max_window_layers() -> None:
    config = json.loads((HF / "Qwen__Qwen2.5-7B-Instruct" / "config.json").read_text())
    config.update(use_sliding_window=True, sliding_window=4096, max_window_layers=20)
    s = parse_model(config, provenance=Provenance(origin="configJson file", repo_id="x/y"))
    assert isinstance(s, ModelShape)
    assert s.layer_types == ("full_attention",) * 20 + ("sliding_attention",) * 8 and s.sliding_window == 4096


def test_qwen3() -> None:
    s = fixture("Qwen/Qwen3-8B")
    assert (s.family, s.num_layers, s.head_dim, s.hidden_size, s.num_key_value_heads) == ("qwen3", 36, 128, 4096, 8)


def test_qwen3_moe_matches_the_hub_count() -> None:
    s = fixture("Qwen/Qwen3-30B-A3B")
    assert s.moe is not None
    assert (s.moe.num_experts, s.moe.experts_per_token, s.moe.moe_intermediate_size) == (128, 8, 768)
    assert s.moe.moe_layers == tuple(range(48)) and s.moe.dense_layers == ()
    assert s.safetensors is not None
    assert decoder_parameters(s, qk_norm=True) == s.safetensors.total == 30_532_122_624


def test_mixtral_matches_the_hub_count_of_the_instruct_repo() -> None:
    s = fixture("mistralai/Mixtral-8x7B-v0.1")
    assert s.moe is not None and (s.moe.num_experts, s.moe.experts_per_token) == (8, 2)
    assert s.moe.moe_intermediate_size == s.intermediate_size == 14336 and s.sliding_window is None
    # The Hub's total for mistralai/Mixtral-8x7B-Instruct-v0.1 (same architecture; tests/data/hf/SOURCES.yaml).
    assert decoder_parameters(s) == 46_702_792_704


def test_deepseek_v2_lite_mla_and_moe() -> None:
    s = fixture("deepseek-ai/DeepSeek-V2-Lite")
    assert s.mla is not None and s.moe is not None
    assert (s.mla.kv_lora_rank, s.mla.q_lora_rank, s.mla.qk_rope_head_dim, s.mla.v_head_dim) == (512, None, 64, 128)
    assert s.head_dim == 128 + 64
    assert (s.moe.num_experts, s.moe.experts_per_token, s.moe.shared_experts) == (64, 6, 2)
    assert s.moe.dense_layers == (0,) and s.moe.moe_layers == tuple(range(1, 27))


def test_deepseek_v3_fp8_blocks_and_exact_checkpoint_bytes() -> None:
    s = fixture("deepseek-ai/DeepSeek-V3")
    assert s.mla is not None and s.moe is not None and s.quantization is not None
    assert (s.mla.q_lora_rank, s.moe.num_experts, s.moe.shared_experts, s.mtp_layers) == (1536, 256, 1, 1)
    assert s.moe.dense_layers == (0, 1, 2)
    assert (s.quantization.method, s.quantization.block_size, s.quantization.activations) == (
        "fp8",
        (128, 128),
        "fp8 dynamic",
    )
    # BF16 x 2 + F8_E4M3 x 1 + F32 (block scales) x 4.
    assert s.checkpoint_bytes == 3_918_786_560 * 2 + 680_571_043_840 + 41_555_600 * 4


def test_gemma2_alternates_from_a_sliding_layer_and_ties_embeddings() -> None:
    s = fixture("google/gemma-2-9b-it")
    assert s.layer_types[:4] == ("sliding_attention", "full_attention", "sliding_attention", "full_attention")
    assert s.layer_types.count("full_attention") == 21 and s.sliding_window == 4096
    assert s.tie_word_embeddings  # not in the file: Gemma2Config's default


def test_gemma3_is_five_sliding_layers_then_one_full_with_the_class_defaults() -> None:
    s = fixture("google/gemma-3-27b-it")
    assert (s.multimodal, s.architecture, s.model_type) == (True, "Gemma3ForConditionalGeneration", "gemma3_text")
    full = tuple(i for i, kind in enumerate(s.layer_types) if kind == "full_attention")
    assert full == (5, 11, 17, 23, 29, 35, 41, 47, 53, 59) and s.sliding_window == 1024
    assert (s.vocab_size, s.tie_word_embeddings, s.max_position_embeddings) == (262208, True, 131072)
    assert s.checkpoint_bytes == 27_432_406_640 * 2
    small = fixture("google/gemma-3-4b-it")
    assert small.layer_types.count("full_attention") == 5 and small.num_layers == 34


def test_gpt_oss_mxfp4_experts_and_sliding_layers() -> None:
    s = fixture("openai/gpt-oss-20b")
    assert s.moe is not None and s.quantization is not None and s.safetensors is not None
    assert s.layer_types == ("sliding_attention", "full_attention") * 12 and s.sliding_window == 128
    assert (s.moe.num_experts, s.moe.experts_per_token, s.quantization.method) == (32, 4, "mxfp4")
    assert (s.quantization.weight_bits, s.quantization.group_size) == (4, 32)
    assert s.torch_dtype is None and s.dtype == "bfloat16"  # from the safetensors dtypes, as vLLM's auto does
    experts = (
        s.num_layers
        * s.moe.num_experts
        * (s.hidden_size * 2 * s.intermediate_size + s.intermediate_size * s.hidden_size)
    )
    assert experts == s.safetensors.parameters["U8"]
    # The rest is bf16: attention with biases and sinks, router, expert biases, norms, untied embeddings.
    h, heads, kv, d, e = s.hidden_size, s.num_attention_heads, s.num_key_value_heads, s.head_dim, s.moe.num_experts
    attention = h * heads * d + heads * d + 2 * (h * kv * d + kv * d) + heads * d * h + h + heads
    per_layer = attention + h * e + e + e * (2 * s.intermediate_size + h) + 2 * h
    assert s.vocab_size * h * 2 + s.num_layers * per_layer + h == s.safetensors.parameters["BF16"]
    assert s.checkpoint_bytes is not None and s.checkpoint_bytes / GIB == pytest.approx(12.816, abs=0.001)
    large = fixture("openai/gpt-oss-120b")
    assert large.moe is not None and (large.num_layers, large.moe.num_experts) == (36, 128)


def test_mistral_small_takes_its_explicit_head_dim() -> None:
    s = fixture("mistralai/Mistral-Small-24B-Instruct-2501")
    assert (s.family, s.head_dim, s.hidden_size // s.num_attention_heads) == ("mistral", 128, 160)
    assert set(s.layer_types) == {"full_attention"} and s.sliding_window is None


def test_mistral_window_covers_every_layer() -> None:
    config = json.loads((HF / "mistralai__Mistral-Small-24B-Instruct-2501" / "config.json").read_text())
    s = parse_model({**config, "sliding_window": 4096}, provenance=Provenance(origin="configJson file", repo_id="m"))
    assert isinstance(s, ModelShape) and set(s.layer_types) == {"sliding_attention"} and s.sliding_window == 4096


def test_phi() -> None:
    s = fixture("microsoft/phi-4")
    assert (s.family, s.num_layers, s.num_attention_heads, s.num_key_value_heads) == ("phi3", 40, 40, 10)


def test_qwen3_next_hybrid_linear_attention() -> None:
    s = fixture("Qwen/Qwen3-Next-80B-A3B-Thinking")
    assert s.linear_attention is not None and s.moe is not None
    full = tuple(i for i, kind in enumerate(s.layer_types) if kind == "full_attention")
    assert full == tuple(range(3, 48, 4)) and s.layer_types.count("linear_attention") == 36
    la = s.linear_attention
    assert (la.num_key_heads, la.num_value_heads, la.key_head_dim, la.value_head_dim, la.conv_kernel_dim) == (
        16,
        32,
        128,
        128,
        4,
    )
    assert (s.num_key_value_heads, s.head_dim) == (2, 256)
    assert (s.moe.num_experts, s.moe.experts_per_token, s.moe.shared_expert_intermediate_size) == (512, 10, 512)


@pytest.mark.parametrize(
    ("repo_id", "expected"),
    [
        ("Qwen/Qwen2.5-7B-Instruct-AWQ", {"method": "awq", "weight_bits": 4, "weight_type": "int", "group_size": 128}),
        ("Qwen/Qwen2.5-7B-Instruct-GPTQ-Int4", {"method": "gptq", "weight_bits": 4, "group_size": 128}),
        ("Qwen/Qwen3-30B-A3B-FP8", {"method": "fp8", "weight_bits": 8, "block_size": (128, 128)}),
        (
            "RedHatAI/Meta-Llama-3.1-8B-Instruct-FP8-dynamic",
            {"method": "compressed-tensors", "weight_bits": 8, "weight_type": "float", "group_size": None,
             "activations": "fp8 dynamic", "targets": ("Linear",), "unquantized_modules": ("lm_head",),
             "checkpoint_format": "float-quantized"},
        ),
        (
            "moonshotai/Kimi-K2.5",
            {"method": "compressed-tensors", "weight_bits": 4, "weight_type": "int", "group_size": 32,
             "activations": None, "checkpoint_format": "pack-quantized"},
        ),
        (
            "nvidia/Llama-3.1-70B-Instruct-FP8",
            {"method": "modelopt", "weight_bits": 8, "kv_cache_dtype": "fp8", "config_file": "hf_quant_config.json",
             "unquantized_modules": ("lm_head",)},
        ),
        (
            "nvidia/Qwen3-235B-A22B-NVFP4",
            {"method": "modelopt", "weight_bits": 4, "group_size": 16, "checkpoint_format": "nvfp4"},
        ),
    ],
)  # fmt: skip
def test_checkpoint_quantization(repo_id: str, expected: dict[str, Any]) -> None:
    quantization = fixture(repo_id).quantization
    assert quantization is not None and quantization.recognized
    assert {key: getattr(quantization, key) for key in expected} == expected


def test_awq_checkpoint_keeps_its_float16_and_fp8_lists_what_stays_unquantized() -> None:
    assert fixture("Qwen/Qwen2.5-7B-Instruct-AWQ").dtype == "float16"
    fp8 = fixture("Qwen/Qwen3-30B-A3B-FP8").quantization
    assert (
        fp8 is not None
        and "lm_head" in fp8.unquantized_modules
        and "model.layers.0.mlp.gate" in fp8.unquantized_modules
    )


def test_kimi_k2_is_sized_as_deepseek_v3_under_its_wrapper() -> None:
    s = fixture("moonshotai/Kimi-K2.5")
    assert (s.multimodal, s.model_type, s.family) == (True, "kimi_k2", "deepseek_v3")
    assert s.mla is not None and s.moe is not None and (s.moe.num_experts, s.moe.dense_layers) == (384, (0,))


def test_unknown_quantization_method_is_kept_unrecognized() -> None:
    config = json.loads((HF / "Qwen__Qwen3-8B" / "config.json").read_text())
    config["quantization_config"] = {"quant_method": "bitsandbytes", "load_in_4bit": True}
    s = parse_model(config, provenance=Provenance(origin="configJson file", repo_id="q"))
    assert isinstance(s, ModelShape) and s.quantization is not None
    assert (s.quantization.method, s.quantization.recognized, s.quantization.weight_bits) == (
        "bitsandbytes",
        False,
        None,
    )


@pytest.mark.parametrize(
    ("config", "reason"),
    [
        ({"architectures": ["MambaForCausalLM"], "model_type": "mamba"}, "model_type 'mamba' (MambaForCausalLM)"),
        ({"model_type": "llama", "hidden_size": 64, "num_attention_heads": 8}, "config.json has no num_hidden_layers"),
        (
            {"model_type": "gpt_oss", "num_hidden_layers": 2, "num_attention_heads": 8, "hidden_size": 64,
             "layer_types": ["full_attention"]},
            "layer_types has 1 entries",
        ),
    ],
)  # fmt: skip
def test_what_cannot_be_sized_says_why(config: dict[str, Any], reason: str) -> None:
    result = parse_model(config, provenance=Provenance(origin="hub", repo_id="acme/thing", sha="a" * 40))
    assert isinstance(result, CannotSize)
    assert reason in result.reason and result.repo_id == "acme/thing"
    assert result.provenance is not None and result.provenance.sha == "a" * 40
