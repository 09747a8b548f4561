"""Per-architecture sizing on the recorded Hugging Face fixtures (tests/data/hf), against vLLM 0.33's own rules.

Expected figures: parameter counts from each model card (the Hub's safetensors total where the fixture has it);
KV layouts from /work/shared/facts/VLLM_SIZING.md §5 (computed with vLLM 0.33.0's get_kv_cache_configs), copied
here so the test never reads /work/shared.
"""

from __future__ import annotations

import json

import pytest
from repo import DATA_DIR

from components.catalog.hf_config import parse_model
from components.catalog.model_shape import ModelShape, Provenance, SafetensorsCounts
from components.planner.kv_layout import kv_layout
from components.planner.weights import estimated_parameters, weight_bytes

HF = DATA_DIR / "hf"
GIB = 2**30

# Model-card parameter counts (billions; DeepSeek-V3 without its 14B MTP module, gemma-3-27b without its 0.4B
# vision tower, which the text shape does not count).
MODEL_CARD_BILLIONS = {
    "meta-llama/Llama-3.1-8B-Instruct": 8.03,
    "meta-llama/Llama-3.1-70B-Instruct": 70.6,
    "Qwen/Qwen2.5-7B-Instruct": 7.62,
    "Qwen/Qwen3-8B": 8.19,
    "Qwen/Qwen3-32B": 32.8,
    "Qwen/Qwen3-30B-A3B": 30.5,
    "Qwen/Qwen3-235B-A22B": 235.0,
    "Qwen/Qwen3-Next-80B-A3B-Thinking": 80.0,
    "mistralai/Mixtral-8x7B-v0.1": 46.7,
    "mistralai/Mistral-Small-24B-Instruct-2501": 23.6,
    "microsoft/phi-4": 14.7,
    "deepseek-ai/DeepSeek-V2-Lite": 15.7,
    "deepseek-ai/DeepSeek-V3": 671.0,
    "google/gemma-2-9b-it": 9.24,
    "google/gemma-3-4b-it": 3.88,
    "google/gemma-3-27b-it": 27.0,
    "openai/gpt-oss-20b": 20.9,
    "openai/gpt-oss-120b": 116.8,
    # The models the retired hand-kept catalog served, at the Hub's "Model size" figures it recorded (2026-11-27).
    "meta-llama/Llama-3.2-1B-Instruct": 1.24,
    "meta-llama/Llama-3.2-3B-Instruct": 3.21,
    "meta-llama/Llama-3.3-70B-Instruct": 70.6,
    "mistralai/Mistral-7B-Instruct-v0.3": 7.25,
    "mistralai/Mixtral-8x7B-Instruct-v0.1": 46.7,
    "Qwen/Qwen2-7B-Instruct": 7.62,
    "Qwen/Qwen2.5-1.5B-Instruct": 1.54,
    "Qwen/Qwen2.5-14B-Instruct": 14.8,
    "Qwen/Qwen2.5-32B-Instruct": 32.8,
    "Qwen/Qwen2.5-72B-Instruct": 72.7,
    "Qwen/Qwen3-0.6B": 0.6,
    "Qwen/Qwen3-4B": 4.02,
    "Qwen/Qwen3-4B-Instruct-2507": 4.02,
    "Qwen/Qwen3-14B": 14.8,
    "google/gemma-2-27b-it": 27.2,
    "microsoft/Phi-3-mini-4k-instruct": 3.82,
    "microsoft/Phi-3.5-mini-instruct": 3.82,
}


def fixture(repo_id: str) -> ModelShape:
    folder = HF / repo_id.replace("/", "__")
    counts, quant = folder / "safetensors.json", folder / "hf_quant_config.json"
    shape = parse_model(
        json.loads((folder / "config.json").read_text()),
        provenance=Provenance(origin="configJson file", repo_id=repo_id),
        safetensors=SafetensorsCounts.model_validate_json(counts.read_text()) if counts.is_file() else None,
        hf_quant_config=json.loads(quant.read_text()) if quant.is_file() else None,
    )
    assert isinstance(shape, ModelShape), shape
    return shape


def layout(repo_id: str, *, tp: int, max_len: int, batched: int, cc: float = 9.0, kv_bytes: int = 2):  # type: ignore[no-untyped-def]
    return kv_layout(
        fixture(repo_id),
        tp=tp,
        element_bytes=kv_bytes,
        max_model_len=max_len,
        max_num_batched_tokens=batched,
        compute_capability=cc,
        prefix_caching=True,
    )


@pytest.mark.parametrize("repo_id", sorted(MODEL_CARD_BILLIONS))
def test_parameters_counted_from_the_shape_match_the_model_card(repo_id: str) -> None:
    # Dense, MoE (every expert + router + shared experts), MLA and linear attention all counted from config.json.
    assert estimated_parameters(fixture(repo_id)) / 1e9 == pytest.approx(MODEL_CARD_BILLIONS[repo_id], rel=0.03)


def test_at_least_15_architectures_are_sized() -> None:
    families = {fixture(repo).model_type for repo in MODEL_CARD_BILLIONS}
    assert len(MODEL_CARD_BILLIONS) >= 15 and len(families) >= 10


def test_dense_gqa_kv_per_token_is_vllms() -> None:
    # §5.1: Llama-3.1-8B 32 x 2 x 8 x 128 x 2 = 131,072 B/token; 12,544 blocks -> 200,704 tokens at L 16384.
    kv = layout("meta-llama/Llama-3.1-8B-Instruct", tp=1, max_len=16384, batched=2048, cc=8.9)
    assert kv.bytes_per_block == 131_072 * 16 and kv.groups == 1
    assert kv.tokens(12_544 * kv.bytes_per_block) == (12_544, 200_704)


def test_gemma3_sliding_layers_are_window_sized_in_hybrid_groups() -> None:
    # §5.2: Gemma-3-27B TP2 on L40S: 10 full + 52 sliding (W 1024) -> 1 + 6 groups, 655,360 B a block,
    # 8192 + 6 x 321 = 10,118 blocks a request; 20,480 blocks -> 265,304 tokens (full attention: 3-5x fewer).
    kv = layout("google/gemma-3-27b-it", tp=2, max_len=131_072, batched=2048, cc=8.9)
    assert (kv.groups, kv.bytes_per_block, kv.blocks_per_request) == (7, 655_360, 10_118)
    assert kv.tokens(20_480 * kv.bytes_per_block)[1] == 265_304


def test_gpt_oss_window_and_full_groups() -> None:
    # §5.3: gpt-oss-20b on H100 (8192 batched tokens): 393,216 B a block, 8192 + 1033 blocks a request.
    kv = layout("openai/gpt-oss-20b", tp=1, max_len=131_072, batched=8192)
    assert (kv.bytes_per_block, kv.blocks_per_request) == (393_216, 8192 + 1033)
    assert kv.tokens(152_917 * kv.bytes_per_block)[1] == 2_172_697


def test_gemma2_window_saves_nothing_when_window_plus_in_flight_covers_the_context() -> None:
    # §2.6: W 4096, L 8192, 4096 tokens in flight: a sliding group needs 513 blocks, one more than a full one.
    kv = layout("google/gemma-2-9b-it", tp=1, max_len=8192, batched=2048, cc=8.9)
    assert kv.blocks_per_request == 512 + 513


def test_deepseek_mla_is_one_latent_per_layer_not_split_by_tp() -> None:
    # §2.3 / §5.4: 27 x (512 + 64) x 2 = 31,104 B/token on V2-Lite; 61 x 1152 = 70,272 on V3, at any TP.
    lite = layout("deepseek-ai/DeepSeek-V2-Lite", tp=1, max_len=163_840, batched=8192)
    assert lite.bytes_per_block == 31_104 * 16 and lite.blocks_per_request == 10_240
    assert lite.tokens(86_302 * lite.bytes_per_block)[1] == 1_380_832
    for tp in (1, 8):
        assert layout("deepseek-ai/DeepSeek-V3", tp=tp, max_len=32_768, batched=8192).bytes_per_block == 70_272 * 16


def test_qwen3_next_linear_attention_state_and_aligned_block() -> None:
    # §2.9 / §5.5: TP4 on H100: block 320, 4 groups of 12, 3,932,160 B a block, 820 + 3 x 3 blocks a request.
    kv = layout("Qwen/Qwen3-Next-80B-A3B-Thinking", tp=4, max_len=262_144, batched=8192)
    assert (kv.block_tokens, kv.groups, kv.bytes_per_block, kv.blocks_per_request) == (320, 4, 3_932_160, 829)
    assert kv.tokens(10_922 * kv.bytes_per_block)[1] == 3_453_723
    assert layout("Qwen/Qwen3-Next-80B-A3B-Thinking", tp=4, max_len=262_144, batched=2048, cc=8.9).block_tokens == 272


def test_quantized_checkpoints_are_sized_per_their_quantization_config() -> None:
    def gib(repo: str, cc: float = 9.0) -> float:
        return weight_bytes(fixture(repo), online_fp8=False, compute_capability=cc).memory / GIB

    bf16 = gib("Qwen/Qwen2.5-7B-Instruct")
    assert gib("Qwen/Qwen2.5-7B-Instruct-AWQ") == pytest.approx(gib("Qwen/Qwen2.5-7B-Instruct-GPTQ-Int4"))
    assert 0.3 * bf16 < gib("Qwen/Qwen2.5-7B-Instruct-AWQ") < 0.4 * bf16  # int4 linears, 16-bit embeddings
    assert gib("RedHatAI/Meta-Llama-3.1-8B-Instruct-FP8-dynamic") == pytest.approx(8.46, abs=0.05)
    assert gib("nvidia/Llama-3.1-70B-Instruct-FP8") == pytest.approx(67.7, abs=0.5)
    assert gib("Qwen/Qwen3-30B-A3B-FP8") == pytest.approx(gib("Qwen/Qwen3-30B-A3B") / 2, rel=0.05)
    # MXFP4 experts padded on Marlin/TRTLLM GPUs (A100, B200), not on Hopper's Triton path (§3.2).
    assert gib("openai/gpt-oss-20b", cc=8.0) / gib("openai/gpt-oss-20b") == pytest.approx(1.067, abs=0.01)
    assert gib("openai/gpt-oss-20b", cc=10.0) == gib("openai/gpt-oss-20b", cc=8.0)


def test_online_fp8_memory_on_fp8_weights_disk_on_the_bf16_checkpoint() -> None:
    shape = fixture("meta-llama/Llama-3.1-70B-Instruct")
    online = weight_bytes(shape, online_fp8=True, compute_capability=8.9)
    assert online.download / GIB == pytest.approx(131.4, abs=0.5)
    assert online.memory / GIB == pytest.approx(67.7, abs=0.5)


def test_every_fixture_has_a_parameter_count_or_is_quantized() -> None:
    # The fixtures the table above leaves out are the quantized variants, checked by the quantization test.
    listed = {repo.lower() for repo in MODEL_CARD_BILLIONS}
    rest = {
        p.name.replace("__", "/")
        for p in HF.iterdir()
        if p.is_dir() and p.name.replace("__", "/").lower() not in listed
    }
    assert rest and all(fixture(repo).quantization is not None for repo in rest), rest
