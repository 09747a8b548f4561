"""Memory fit: how much of each GPU the weights, activations and runtime take, and what is left for KV cache.

Memory model (vLLM V1 ``gpu_worker.determine_available_memory``, per GPU):

    kv_cache = gpu_memory_utilization x total_memory
               - weights / TP - peak activation (profiling run) - non-torch memory - CUDA-graph estimate
    kv_tokens = floor(kv_cache / (16 x kv_bytes_per_token_per_gpu)) x 16       (16-token blocks)
    kv_bytes_per_token_per_gpu = 2 x layers x max(1, kv_heads / TP) x head_dim x kv_dtype_bytes

The formulas and their sources are documented in docs/sizing.md; constants name their source.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import catalog
from ..catalog import InstanceType, ModelSpec, WeightFormat
from ..config.sections import ModelConfig
from .kv_layout import DEFAULT_BLOCK_TOKENS, KvLayout, kv_layout
from .weights import WeightBytes, weight_bytes

GIB = 2**30
MIB = 2**20
KV_BLOCK_TOKENS = DEFAULT_BLOCK_TOKENS

# Bytes per quantized linear weight, including per-group scales/zeros (group 128: fp16 scale + 4-bit zero).
_WEIGHT_BYTES: dict[WeightFormat, float] = {
    "fp16": 2.0, "int4": 0.5 + 2.5 / 128, "int8": 1.0, "fp8": 1.0, "fp4": 0.5 + 1 / 16, "mxfp4": 0.53125
}  # fmt: skip

# Reserve terms, calibrated against real startup logs (tests/data/kv_cache_observations.yaml).
NON_TORCH_GIB = 0.4  # cuBLAS/cuDNN workspaces and the CUDA context's non-torch allocations
NON_TORCH_TP_GIB = 0.35  # NCCL buffers and custom all-reduce when TP > 1
# CUDA-graph pools, counted in the KV budget since vLLM v0.21 (#30515). Logged estimates scale with
# layers x hidden: 0.14 GiB (28 x 1536), 0.37 GiB (28 x 3584), 0.52 GiB (36 x 4096).
CUDA_GRAPH_GIB_PER_LAYER_HIDDEN = 3.5e-6


@dataclass(frozen=True)
class MemoryFit:
    """Per-GPU memory budget of one replica, all sizes in GiB."""

    total_gib: float
    budget_gib: float
    weights_gib: float
    activation_gib: float
    non_torch_gib: float
    cuda_graph_gib: float
    kv_cache_gib: float
    kv_bytes_per_token: int
    kv_cache_tokens: int
    max_model_len: int

    @property
    def reserve_gib(self) -> float:
        return self.activation_gib + self.non_torch_gib + self.cuda_graph_gib

    @property
    def max_concurrency(self) -> float:
        return self.kv_cache_tokens / self.max_model_len

    @property
    def fits(self) -> bool:
        return self.kv_cache_tokens >= self.max_model_len


@dataclass(frozen=True)
class ServingSettings:
    """What vLLM will run with, after defaults are resolved for the GPU."""

    tensor_parallel_size: int
    gpu_memory_utilization: float
    max_model_len: int
    max_num_seqs: int
    max_num_batched_tokens: int
    weight_format: WeightFormat
    kv_cache_bytes: int  # bytes per KV element
    enable_prefix_caching: bool = True
    # vLLM >= 0.21 subtracts a CUDA-graph estimate from the KV budget; older logs (tests) did not.
    cuda_graphs_in_budget: bool = True


def default_batch_limits(gpu: catalog.GpuSpec) -> tuple[int, int]:
    """vLLM's (max_num_seqs, max_num_batched_tokens) for the API server (engine/arg_utils.py)."""
    if gpu.memory_gib >= 70 and not gpu.name.startswith("A100"):
        return 1024, 8192
    return 256, 2048


def weight_format(model: ModelConfig, spec: ModelSpec) -> WeightFormat:
    """Storage format of the linear weights: the checkpoint's own, or online FP8 when asked."""
    if spec.weight_format is not None:
        return spec.weight_format
    method = spec.quantization or model.quantization
    if method in ("awq", "gptq"):
        return "int4" if (spec.weight_bits or 4) == 4 else "int8"
    if method == "fp8":
        return "fp8"
    if method == "compressed-tensors":
        return "int4" if spec.weight_bits == 4 else "int8"
    return "fp16"


def weights_bytes(spec: ModelSpec, fmt: WeightFormat) -> float:
    """All weights of one model copy; embeddings and LM head stay 16-bit under quantization."""
    params = spec.params_billion * 1e9
    if fmt == "fp16":
        return params * 2
    embeddings = min(spec.embedding_params, params)
    return (params - embeddings) * _WEIGHT_BYTES[fmt] + embeddings * 2


def kv_bytes_per_token(spec: ModelSpec, tp: int, element_bytes: int) -> int:
    """KV cache bytes per token on one GPU; KV heads are replicated when there are fewer than TP."""
    kv_heads_per_gpu = max(1, spec.num_key_value_heads // tp)
    return 2 * spec.num_layers * kv_heads_per_gpu * spec.head_dim * element_bytes


def activation_gib(spec: ModelSpec, settings: ServingSettings) -> float:
    """Peak activation of vLLM's profiling run (max_num_batched_tokens tokens + a sampler batch)."""
    tp = settings.tensor_parallel_size
    tokens = settings.max_num_batched_tokens
    intermediate = spec.intermediate_size * (spec.num_experts_per_token or 1)
    # fp16 residual/attention tensors plus the gate/up/down MLP tensors (sharded by TP) per token
    per_token = 2 * (4 * spec.hidden_size + 3 * intermediate / tp)
    sampler = settings.max_num_seqs * spec.vocab_size * 4 * 2  # fp32 logits and their probabilities
    return (tokens * per_token + sampler) / GIB


def model_weights(spec: ModelSpec, settings: ServingSettings, compute_capability: float) -> WeightBytes:
    """One copy's weights in memory and on disk: from the read shape, else from an architecture block's figures."""
    online_fp8 = settings.weight_format == "fp8" and spec.quantization is None
    if spec.shape is not None:
        return weight_bytes(spec.shape, online_fp8=online_fp8, compute_capability=compute_capability)
    memory = weights_bytes(spec, settings.weight_format)
    # Online FP8 downloads and reads the 16-bit checkpoint (VLLM_SIZING.md §3.2).
    return WeightBytes(memory=memory, download=weights_bytes(spec, "fp16") if online_fp8 else memory, exact=False)


def layout(spec: ModelSpec, gpu: catalog.GpuSpec, settings: ServingSettings) -> KvLayout:
    """The KV layout per GPU: the hybrid allocator's groups for a read shape; one full-attention group otherwise."""
    if spec.shape is not None:
        return kv_layout(
            spec.shape,
            tp=settings.tensor_parallel_size,
            element_bytes=settings.kv_cache_bytes,
            max_model_len=settings.max_model_len,
            max_num_batched_tokens=settings.max_num_batched_tokens,
            compute_capability=gpu.compute_capability,
            prefix_caching=settings.enable_prefix_caching,
        )
    per_token = kv_bytes_per_token(spec, settings.tensor_parallel_size, settings.kv_cache_bytes)
    blocks = -(-settings.max_model_len // KV_BLOCK_TOKENS)
    return KvLayout(KV_BLOCK_TOKENS, per_token * KV_BLOCK_TOKENS, blocks, settings.max_model_len, 1)


def fit_memory(spec: ModelSpec, gpu: catalog.GpuSpec, settings: ServingSettings) -> MemoryFit:
    """The per-GPU memory budget of one replica (see the module docstring)."""
    tp = settings.tensor_parallel_size
    budget = settings.gpu_memory_utilization * gpu.memory_gib
    weights = model_weights(spec, settings, gpu.compute_capability).memory / tp / GIB
    activation = activation_gib(spec, settings)
    non_torch = NON_TORCH_GIB + (NON_TORCH_TP_GIB if tp > 1 else 0.0)
    cuda_graph = (
        CUDA_GRAPH_GIB_PER_LAYER_HIDDEN * spec.num_layers * spec.hidden_size if settings.cuda_graphs_in_budget else 0.0
    )
    kv_cache = max(0.0, budget - weights - activation - non_torch - cuda_graph)
    kv = layout(spec, gpu, settings)
    _, tokens = kv.tokens(kv_cache * GIB)
    return MemoryFit(
        total_gib=gpu.memory_gib,
        budget_gib=budget,
        weights_gib=weights,
        activation_gib=activation,
        non_torch_gib=non_torch,
        cuda_graph_gib=cuda_graph,
        kv_cache_gib=kv_cache,
        kv_bytes_per_token=-(-kv.bytes_per_request // settings.max_model_len),
        kv_cache_tokens=tokens,
        max_model_len=settings.max_model_len,
    )


def resolve_settings(model: ModelConfig, spec: ModelSpec, instance: InstanceType) -> ServingSettings:
    default_seqs, default_tokens = default_batch_limits(instance.gpu)
    max_model_len = model.max_model_len or spec.max_position_embeddings
    return ServingSettings(
        tensor_parallel_size=model.tensor_parallel_size,
        gpu_memory_utilization=model.gpu_memory_utilization,
        max_model_len=max_model_len,
        max_num_seqs=model.max_num_seqs or default_seqs,
        # vLLM raises the batch to at least one max-length prompt only without chunked prefill; V1
        # always chunks, so the configured (or default) value is what the profiling run uses.
        max_num_batched_tokens=model.max_num_batched_tokens or default_tokens,
        weight_format=weight_format(model, spec),
        kv_cache_bytes=1 if model.kv_cache_dtype == "fp8" else 2,
        enable_prefix_caching=model.enable_prefix_caching,
    )
