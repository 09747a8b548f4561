"""The normalized shape of a Hugging Face model: what sizing needs from ``config.json`` and the safetensors metadata.

Built by ``hf_config.parse_model`` from any source (the Hub, the disk cache, the bundled snapshot or a local
``config.json``); ``provenance`` says which. A model the parser cannot size is a ``CannotSize`` with the reason.
Field names follow transformers' config attributes where one exists.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

Origin = Literal["hub", "cache", "bundled snapshot", "configJson file"]
LayerKind = Literal["full_attention", "sliding_attention", "linear_attention"]
Dtype = Literal["bfloat16", "float16", "float32"]

# Bytes per stored element of each safetensors dtype (the safetensors format's dtype names).
SAFETENSORS_DTYPE_BYTES: dict[str, int] = {
    "F64": 8, "I64": 8, "U64": 8, "F32": 4, "I32": 4, "U32": 4, "F16": 2, "BF16": 2, "I16": 2, "U16": 2,
    "F8_E4M3": 1, "F8_E5M2": 1, "F8_E8M0": 1, "I8": 1, "U8": 1, "BOOL": 1,
}  # fmt: skip
# MXFP4 (gpt-oss): the Hub counts each packed U8 expert weight as one parameter, and a parameter is stored as
# 4 bits plus one E8M0 scale byte per 32 (0.5 + 1/32 = 0.53125 B). gpt-oss-20b: 1,804,459,584 BF16 x 2 +
# 19,110,297,600 U8 x 0.53125 = 12.816 GiB, the figure llm-d's capacity planner asserts against the live Hub
# (llm-d/llm-d-benchmark @ 0fa12aa9 config_explorer/tests/capacity_planner_test.py) and next to vLLM's
# "Model loading took 12.85 GiB" (vLLM's mxfp4.py stores the same 0.53125 B per expert parameter).
MXFP4_BYTES_PER_PARAMETER = 0.53125
# recorded_from of a bundled entry rebuilt without a citable copy (scripts/gen_model_snapshot.py).
RECONSTRUCTED = "a reconstruction, not a copy of the Hub's file (tests/data/hf/SOURCES.yaml says how)"


class _Shape(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, frozen=True, extra="forbid", populate_by_name=True)


class Provenance(_Shape):
    """Where a shape came from."""

    origin: Origin
    repo_id: str
    revision: str | None = Field(default=None, description="The revision asked for; None = the default branch.")
    sha: str | None = Field(default=None, description="The commit the files were read at, when known.")
    fetched_on: str | None = Field(default=None, description="ISO date the files were read from the Hub.")
    recorded_from: str | None = Field(
        default=None, description="URL of a recorded copy (not read from the Hub), or RECONSTRUCTED."
    )
    gated: bool = Field(default=False, description="The repo asks users to accept a licence (hosts need a token).")
    note: str | None = None

    @property
    def summary(self) -> str:
        """One line for the plan: where the shape came from."""
        if self.recorded_from == RECONSTRUCTED:
            where = f"{self.repo_id}, {RECONSTRUCTED}"
        elif self.recorded_from:
            where = f"recorded copy of {self.repo_id} from {self.recorded_from}"
        elif self.sha:
            where = f"{self.repo_id} at {self.sha[:12]}" + (f" (read {self.fetched_on})" if self.fetched_on else "")
        else:
            where = self.repo_id
        return f"{self.origin}: {where}"


class MoeShape(_Shape):
    num_experts: int
    experts_per_token: int
    moe_intermediate_size: int = Field(description="Hidden size of one routed expert's MLP.")
    shared_experts: int = Field(default=0, description="Experts every token uses (DeepSeek n_shared_experts).")
    shared_expert_intermediate_size: int | None = Field(
        default=None, description="Qwen-MoE's one shared expert; DeepSeek's are shared_experts x moe size."
    )
    moe_layers: tuple[int, ...] = Field(description="Indices of the layers whose MLP is the routed experts.")
    dense_layers: tuple[int, ...] = Field(description="Indices of the layers with a dense MLP instead.")


class MlaShape(_Shape):
    """Multi-head latent attention (DeepSeek V2/V3): the KV cache holds kv_lora_rank + qk_rope_head_dim per token."""

    kv_lora_rank: int
    q_lora_rank: int | None
    qk_rope_head_dim: int
    qk_nope_head_dim: int
    v_head_dim: int


class LinearAttentionShape(_Shape):
    """Gated DeltaNet layers (Qwen3-Next): a per-request recurrent state instead of a KV cache."""

    full_attention_interval: int
    num_key_heads: int
    num_value_heads: int
    key_head_dim: int
    value_head_dim: int
    conv_kernel_dim: int


class QuantizationShape(_Shape):
    """The checkpoint's own quantization (``quantization_config``, or ModelOpt's ``hf_quant_config.json``)."""

    method: str = Field(description="quant_method as the checkpoint names it (awq, gptq, fp8, compressed-tensors...).")
    recognized: bool = Field(description="False: a method this parser does not know; the other fields are empty.")
    weight_bits: int | None = None
    weight_type: Literal["int", "float", "mxfp4"] | None = None
    group_size: int | None = Field(default=None, description="Weights per scale; None = per channel or tensor.")
    block_size: tuple[int, int] | None = Field(default=None, description="FP8 block scaling (weight_block_size).")
    activations: str | None = Field(default=None, description="e.g. 'fp8 dynamic'; None = weight-only.")
    targets: tuple[str, ...] = Field(default=(), description="What is quantized (compressed-tensors targets).")
    unquantized_modules: tuple[str, ...] = Field(default=(), description="Modules left unquantized (names/globs).")
    kv_cache_dtype: str | None = Field(default=None, description="A KV-cache scheme the checkpoint declares.")
    checkpoint_format: str | None = Field(default=None, description="compressed-tensors format, AWQ version...")
    config_file: Literal["config.json", "hf_quant_config.json"] = "config.json"


class SafetensorsCounts(_Shape):
    """Parameter counts per safetensors dtype, as the Hub reports them (``model_info(expand=["safetensors"])``)."""

    parameters: dict[str, int]
    total: int

    def checkpoint_bytes(self, quant_method: str | None) -> int:
        """Bytes of the stored weights: exact per dtype, with gpt-oss's MXFP4 U8 counts at 0.53125 B."""
        total = 0.0
        for dtype, count in self.parameters.items():
            per = SAFETENSORS_DTYPE_BYTES[dtype]
            if dtype == "U8" and quant_method == "mxfp4":
                total += count * MXFP4_BYTES_PER_PARAMETER
            else:
                total += count * per
        return round(total)


class ModelShape(_Shape):
    """A model's shape, normalized across architectures (the language model of a multimodal wrapper)."""

    provenance: Provenance
    architecture: str = Field(description="config.json architectures[0], e.g. LlamaForCausalLM.")
    model_type: str = Field(description="The text model's model_type, e.g. llama, qwen3_moe, gemma3_text.")
    family: str = Field(description="The parser's architecture family (hf_config.FAMILIES).")
    multimodal: bool = Field(description="A wrapper (text_config + a vision/audio tower) around the language model.")
    num_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    head_dim: int
    hidden_size: int
    intermediate_size: int
    vocab_size: int
    tie_word_embeddings: bool
    max_position_embeddings: int
    torch_dtype: Dtype | None = Field(description="config.json's torch_dtype/dtype, if any.")
    dtype: Dtype = Field(description="The dtype vLLM's auto takes: the config's, else the safetensors' float.")
    layer_types: tuple[LayerKind, ...] = Field(description="Per layer, as transformers derives it.")
    sliding_window: int | None = Field(description="Tokens a sliding_attention layer sees; None if none.")
    moe: MoeShape | None = None
    mla: MlaShape | None = None
    linear_attention: LinearAttentionShape | None = None
    mtp_layers: int = Field(default=0, description="Multi-token-prediction layers (loaded only for speculation).")
    quantization: QuantizationShape | None = None
    safetensors: SafetensorsCounts | None = None

    @property
    def checkpoint_bytes(self) -> int | None:
        """Exact bytes of the checkpoint's weights, when the safetensors counts are known."""
        if self.safetensors is None:
            return None
        return self.safetensors.checkpoint_bytes(self.quantization.method if self.quantization else None)


class CannotSize(_Shape):
    """A model the parser cannot size, and why (the fix: an explicit `architecture` block)."""

    repo_id: str
    reason: str
    architecture: str | None = None
    model_type: str | None = None
    provenance: Provenance | None = None
