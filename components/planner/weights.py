"""Weight bytes of a model read from the Hub (a ``ModelShape``): in GPU memory, and on disk (download, cache, load).

Sources: /work/shared/facts/VLLM_SIZING.md §3.2 (vLLM 0.33.0 wheel), section by section:
- unquantized weights take their dtype's bytes; AWQ/GPTQ/compressed-tensors W4A16 about 0.52 B per linear weight
  (``quantization/auto_awq.py``, ``auto_gptq.py``: int4 + a 16-bit scale and a 4-bit zero per 128); FP8 1 B
  (``quantization/fp8.py``); embeddings and the LM head stay 16-bit (``VocabParallelEmbedding``);
- MXFP4 (gpt-oss, ``quantization/mxfp4.py``): only the MoE experts, 0.53125 B per parameter; Marlin and TRTLLM pad
  hidden to 256 and intermediate to 128 (``mxfp4_round_up_hidden_size_and_intermediate_size``), OAI Triton
  (9.0 <= cc < 10, the Hopper path) pads intermediate to 64 only;
- online FP8 (``--quantization fp8`` on a 16-bit checkpoint, ``online/fp8.py``): the 16-bit checkpoint is
  downloaded and read, and every linear layer (``LinearBase``, ``RoutedExperts``) is resident at 1 B/param;
- MoE: every expert is resident, split over the TP ranks (``fused_moe/config.py``).
Where the Hub's safetensors counts are known the checkpoint's bytes are exact; without them (a ``configJson``
file) the parameters are counted from the shape.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..catalog.model_shape import MXFP4_BYTES_PER_PARAMETER, ModelShape

INT4_BYTES = 0.5 + 2.5 / 128  # packed int4 + a 16-bit scale and a 4-bit zero per group of 128
NVFP4_BYTES = 0.5 + 1 / 16  # packed fp4 + an fp8 scale per 16
_DTYPE_BYTES = {"bfloat16": 2, "float16": 2, "float32": 4}


@dataclass(frozen=True)
class WeightBytes:
    """One model copy's weights: resident in GPU memory (all ranks together) and as downloaded."""

    memory: float
    download: float
    exact: bool
    """True when the download bytes come from the Hub's safetensors counts, not from the shape."""


def embedding_parameters(shape: ModelShape) -> int:
    return shape.vocab_size * shape.hidden_size * (1 if shape.tie_word_embeddings else 2)


def expert_parameters(shape: ModelShape) -> int:
    """Parameters of the routed experts (gate, up and down projections of each)."""
    if shape.moe is None:
        return 0
    moe = shape.moe
    return len(moe.moe_layers) * moe.num_experts * 3 * shape.hidden_size * moe.moe_intermediate_size


def _attention_parameters(shape: ModelShape) -> int:
    h, heads = shape.hidden_size, shape.num_attention_heads
    if shape.mla is not None:
        mla = shape.mla
        qk = mla.qk_nope_head_dim + mla.qk_rope_head_dim
        q = h * mla.q_lora_rank + mla.q_lora_rank * heads * qk if mla.q_lora_rank else h * heads * qk
        kv = h * (mla.kv_lora_rank + mla.qk_rope_head_dim) + mla.kv_lora_rank * heads * (
            mla.qk_nope_head_dim + mla.v_head_dim
        )
        return q + kv + heads * mla.v_head_dim * h
    d = shape.head_dim
    return 2 * h * heads * d + 2 * h * shape.num_key_value_heads * d


def _linear_attention_parameters(shape: ModelShape) -> int:
    linear = shape.linear_attention
    assert linear is not None
    keys, values = linear.num_key_heads * linear.key_head_dim, linear.num_value_heads * linear.value_head_dim
    h = shape.hidden_size
    conv = (2 * keys + values) * linear.conv_kernel_dim
    return h * (2 * keys + 2 * values) + h * 2 * linear.num_value_heads + conv + values * h


def estimated_parameters(shape: ModelShape) -> int:
    """Parameters counted from the shape (for a shape without safetensors counts): embeddings, per layer the
    attention (GQA, MLA or linear) and the MLP (dense, or every expert + router + shared experts), norms."""
    h = shape.hidden_size
    attention = sum(
        _linear_attention_parameters(shape) if kind == "linear_attention" else _attention_parameters(shape)
        for kind in shape.layer_types
    )
    dense_mlp = 3 * h * shape.intermediate_size
    if shape.moe is None:
        mlp = shape.num_layers * dense_mlp
    else:
        moe = shape.moe
        shared = 3 * h * (moe.shared_expert_intermediate_size or moe.shared_experts * moe.moe_intermediate_size)
        mlp = expert_parameters(shape) + len(moe.moe_layers) * (h * moe.num_experts + shared)
        mlp += len(moe.dense_layers) * dense_mlp
    return embedding_parameters(shape) + attention + mlp + shape.num_layers * 2 * h + h


def mxfp4_padding(shape: ModelShape, compute_capability: float) -> float:
    """How much larger vLLM stores MXFP4 experts on this GPU than the checkpoint (1.0 on Hopper's Triton path)."""
    if shape.moe is None or 9.0 <= compute_capability < 10.0:
        return 1.0
    hidden, intermediate = shape.hidden_size, shape.moe.moe_intermediate_size
    padded = math.ceil(hidden / 256) * 256 * math.ceil(intermediate / 128) * 128
    return padded / (hidden * intermediate)


def _stored_bytes_per_linear_parameter(shape: ModelShape) -> float:
    quant = shape.quantization
    if quant is None or not quant.recognized:
        return _DTYPE_BYTES[shape.dtype]
    if quant.weight_type == "mxfp4":
        return MXFP4_BYTES_PER_PARAMETER
    if quant.weight_bits == 4:
        return NVFP4_BYTES if quant.weight_type == "float" else INT4_BYTES
    return 1.0


def weight_bytes(shape: ModelShape, *, online_fp8: bool, compute_capability: float) -> WeightBytes:
    """The model's weights in memory and on disk (see the module docstring)."""
    embeddings = embedding_parameters(shape)
    counts = shape.safetensors
    quant = shape.quantization
    mxfp4 = quant is not None and quant.weight_type == "mxfp4"
    experts = expert_parameters(shape)
    if counts is not None:
        download = float(shape.checkpoint_bytes or 0)
        parameters = counts.total
        # The Hub counts the multi-token-prediction layers vLLM loads only for speculative decoding.
        share = shape.num_layers / (shape.num_layers + shape.mtp_layers)
        memory = download * share
        if mxfp4:
            memory += (
                counts.parameters.get("U8", 0)
                * MXFP4_BYTES_PER_PARAMETER
                * (mxfp4_padding(shape, compute_capability) - 1)
            )
    else:
        parameters = estimated_parameters(shape)
        linear = parameters - embeddings
        if mxfp4:
            memory = experts * MXFP4_BYTES_PER_PARAMETER * mxfp4_padding(shape, compute_capability)
            memory += (parameters - experts) * 2
            download = experts * MXFP4_BYTES_PER_PARAMETER + (parameters - experts) * 2
        else:
            memory = linear * _stored_bytes_per_linear_parameter(shape) + embeddings * 2
            download = memory
    if online_fp8:
        # The 16-bit checkpoint is downloaded and read; the linear layers are quantized as they load.
        memory = (parameters - embeddings) * 1.0 + embeddings * 2
        if counts is None:
            download = parameters * 2.0
    return WeightBytes(memory=memory, download=download, exact=counts is not None)
