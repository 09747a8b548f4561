"""The KV cache as vLLM 0.33's hybrid allocator lays it out: groups of layers sharing one pool of blocks.

Sources (/work/shared/facts/VLLM_SIZING.md, read from the vLLM 0.33.0 wheel):
- §2.1-2.2 a full-attention layer stores 2 x max(1, kv_heads // TP) x head_dim x dtype bytes per token per rank;
- §2.3 an MLA layer (DeepSeek V2/V3, Kimi K2) stores kv_lora_rank + qk_rope_head_dim per token, not split by TP;
- §2.4-2.5 bytes per block = the widest group's pages; blocks = available // bytes per block; reported tokens =
  floor(blocks / blocks-per-request x max_model_len), blocks per request summed over the groups
  (``kv_cache_utils.get_max_concurrency_for_kv_cache_config``);
- §2.6 a sliding-window group needs ceil(min(W - 1 + in-flight tokens, L) / 16) + 1 blocks per request, in-flight
  tokens = 2 x max_num_batched_tokens (async scheduling, PP 1: ``config/vllm.py`` max_in_flight_tokens);
- §2.8 grouping (``kv_cache_planning._get_kv_cache_groups_uniform_page_size``): group size g = the smallest
  bucket, or the largest when it is < 1.5 x the smallest; each bucket becomes ceil(|bucket| / g) groups;
- §2.9 linear attention (Qwen3-Next's Gated DeltaNet): a per-request state page (conv + ssm, per TP rank) in
  its own groups, 2 blocks per request in prefix-caching "align" mode (3 where FlashInfer's GDN prefill runs:
  Hopper), 1 without prefix caching; the attention block size grows so an attention page holds a state page
  (``Platform._align_hybrid_block_size``: a x ceil(state page / (a x bytes per token per layer)), a = 64 with
  FlashInfer's GDN prefill, else 16).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..catalog.model_shape import ModelShape

DEFAULT_BLOCK_TOKENS = 16  # vLLM 0.33 default --block-size on CUDA (config/cache.py:185 DEFAULT_BLOCK_SIZE)
_GDN_FLASHINFER_ALIGNMENT = 64  # v1/attention/backends/gdn_attn.py:34 at v0.33.0, auto-selected on SM90


@dataclass(frozen=True)
class KvLayout:
    """Per GPU: what one block costs across the groups, and how many blocks one max-length request takes."""

    block_tokens: int
    bytes_per_block: int
    blocks_per_request: int
    max_model_len: int
    groups: int

    def tokens(self, available_bytes: float) -> tuple[int, int]:
        """(blocks, reported tokens) for the bytes left for the KV cache."""
        blocks = int(max(0.0, available_bytes) // self.bytes_per_block)
        return blocks, int(blocks / self.blocks_per_request * self.max_model_len)

    @property
    def bytes_per_request(self) -> int:
        return self.bytes_per_block * self.blocks_per_request


def _full_attention_bytes_per_token(shape: ModelShape, tp: int, element_bytes: int) -> int:
    if shape.mla is not None:
        return (shape.mla.kv_lora_rank + shape.mla.qk_rope_head_dim) * element_bytes
    return 2 * max(1, shape.num_key_value_heads // tp) * shape.head_dim * element_bytes


def _state_page_bytes(shape: ModelShape, tp: int, state_bytes: int) -> int:
    linear = shape.linear_attention
    assert linear is not None
    channels = 2 * linear.num_key_heads * linear.key_head_dim + linear.num_value_heads * linear.value_head_dim
    conv = channels // tp * (linear.conv_kernel_dim - 1)
    ssm = linear.num_value_heads // tp * linear.value_head_dim * linear.key_head_dim
    return (conv + ssm) * state_bytes


def _group_size(buckets: list[int]) -> int:
    smallest, largest = min(buckets), max(buckets)
    return largest if largest < 1.5 * smallest else smallest


def kv_layout(
    shape: ModelShape,
    *,
    tp: int,
    element_bytes: int,
    max_model_len: int,
    max_num_batched_tokens: int,
    compute_capability: float,
    prefix_caching: bool,
) -> KvLayout:
    """The layout vLLM's planner makes of ``shape`` on one GPU (see the module docstring)."""
    per_token = _full_attention_bytes_per_token(shape, tp, element_bytes)
    kinds = shape.layer_types
    full = sum(kind == "full_attention" for kind in kinds)
    sliding = sum(kind == "sliding_attention" for kind in kinds)
    linear = sum(kind == "linear_attention" for kind in kinds)
    block = DEFAULT_BLOCK_TOKENS
    linear_blocks = 0
    if linear:
        align = _GDN_FLASHINFER_ALIGNMENT if 9.0 <= compute_capability < 10.0 else DEFAULT_BLOCK_TOKENS
        # The state keeps the model's dtype (MambaStateDtypeCalculator), whatever the KV cache dtype.
        state = _state_page_bytes(shape, tp, 4 if shape.dtype == "float32" else 2)
        block = align * math.ceil(state / (align * per_token))
        linear_blocks = (3 if align == _GDN_FLASHINFER_ALIGNMENT else 2) if prefix_caching else 1
    page = block * per_token
    full_blocks = math.ceil(max_model_len / block)
    in_flight = 2 * max_num_batched_tokens
    window = shape.sliding_window or max_model_len
    sliding_blocks = math.ceil(min(window - 1 + in_flight, max_model_len) / block) + 1
    buckets = [
        (count, need)
        for count, need in ((full, full_blocks), (sliding, sliding_blocks), (linear, linear_blocks))
        if count
    ]
    if len(buckets) == 1:
        count, need = buckets[0]
        return KvLayout(block, count * page, need, max_model_len, 1)
    size = _group_size([count for count, _ in buckets])
    groups = [(math.ceil(count / size), need) for count, need in buckets]
    return KvLayout(
        block_tokens=block,
        bytes_per_block=size * page,
        blocks_per_request=sum(n * need for n, need in groups),
        max_model_len=max_model_len,
        groups=sum(n for n, _ in groups),
    )
