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

# Reserve terms as vLLM 0.33.0 charges them (commit 4ba787ec9; paths inside the wheel's vllm/ package). The KV budget
# is v1/worker/gpu_worker.py:753-757: requested (utils.py:724-726, ceil(total x utilization)) - non-KV - the CUDA
# graph estimate. Non-KV is what profile_run consumed since the init snapshot plus its transient peak
# (utils/mem_utils.py:312-321); the snapshot (gpu_worker.py:541) comes AFTER NCCL, custom all-reduce
# (gpu_worker.py:499-510; pynccl.py:188 warms NCCL up at construction) and the cuBLAS/cuBLASLt handles
# (gpu_worker.py:518-529), so none of those is charged to the KV budget.
#
# Non-torch memory that appears after the snapshot: lazily loaded kernel modules (attention, Triton, cuDNN) and
# their workspaces, and the runner's persistent buffers. Calibrated against real startup logs
# (tests/data/kv_cache_observations.yaml, TP 1); no 0.33 log is recorded to recalibrate it on.
NON_TORCH_GIB = 0.4
# NCCL and custom all-reduce buffers at TP > 1: charged only by vLLM before PR #25359 (merged 2025-09-22, ~v0.11),
# which initialised NCCL after the snapshot ("The NCCL buffer allocation shows up as non-torch memory increase");
# 0.33 never charges them (see above). Kept for the older logs the tests check against (communicators_in_budget).
NCCL_AFTER_SNAPSHOT_GIB = 0.35
# CUDA-graph pools: 0.33 subtracts profile_cudagraph_memory()'s estimate (gpu_worker.py:707-724,
# gpu_model_runner.py:6268) unless VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS=0 (envs.py:2219-2220, default "1";
# default since v0.21, #30515). It measures captured graphs, which offline planning cannot; logged estimates
# scale with layers x hidden: 0.14 GiB (28 x 1536), 0.37 GiB (28 x 3584), 0.52 GiB (36 x 4096).
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
    # vLLM before ~0.11 (PR #25359) charged TP's NCCL buffers to the KV budget; 0.33 does not (older logs: tests).
    communicators_in_budget: bool = False


def default_batch_limits(gpu: catalog.GpuSpec) -> tuple[int, int]:
    """vLLM 0.33's (max_num_seqs, max_num_batched_tokens) for the API server (engine/arg_utils.py:2940-3005,
    ``get_batch_defaults``, by the device's total memory and name; GB10, cc 12.1, is on no AWS type)."""
    if gpu.memory_gib >= 160:  # B200, B300 (arg_utils.py:2973-2982)
        return 1024, 16384
    if gpu.memory_gib >= 70 and not gpu.name.startswith("A100"):  # H100, H200, RTX PRO 6000 (:2983-2996)
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
    """Peak activation of vLLM 0.33's profiling run: ``_dummy_run(max_num_tokens)`` then ``_dummy_sampler_run``
    (v1/worker/gpu_model_runner.py:6132-6139), measured as torch's peak over what stays allocated
    (utils/mem_utils.py:318-321). vLLM measures it; this is a model of it, checked against logged KV tokens."""
    tp = settings.tensor_parallel_size
    tokens = settings.max_num_batched_tokens
    intermediate = spec.intermediate_size * (spec.num_experts_per_token or 1)
    # fp16 residual/attention tensors plus the gate/up/down MLP tensors (sharded by TP) per token
    per_token = 2 * (4 * spec.hidden_size + 3 * intermediate / tp)
    # _dummy_sampler_run (gpu_model_runner.py:5866-5908) samples one row per dummy request, min(tokens, max_num_seqs)
    # = max_num_seqs (:5545; config/scheduler.py:331 requires tokens >= seqs): fp32 logits and their probabilities.
    sampler = settings.max_num_seqs * spec.vocab_size * 4 * 2
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
    non_torch = NON_TORCH_GIB + (NCCL_AFTER_SNAPSHOT_GIB if tp > 1 and settings.communicators_in_budget else 0.0)
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
