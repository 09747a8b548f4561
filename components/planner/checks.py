"""The planner's checks of a model: against its own shape (TP, context, quantization, gated) and against one
instance type (GPU count, compute capability, the image's CUDA), the fit message, and the warnings."""

from __future__ import annotations

import math

from .. import catalog
from ..catalog import InstanceType, ModelSpec, cuda
from ..catalog.cuda import DriverRequirement
from ..config.sections import CacheConfig, ModelConfig
from ..errors import ConfigIssue, KeyPaths, key_path
from .context import PlanContext
from .cost import GP3_USD_PER_MIBPS_MONTH
from .memory import GIB, MemoryFit, fit_memory, resolve_settings, weight_format
from .vllm_args import SIZING_OVERRIDES, extra_args_issues, sizing_overrides

# Minimum compute capabilities (vLLM docs/features/quantization hardware table; gpu.cuda.inc.md).
MIN_COMPUTE_CAPABILITY = 7.5
BF16_MIN_CC = 8.0
FP8_MIN_CC = 8.9  # native FP8 compute; below it, weight-only on Marlin from 7.5 (VLLM_SIZING.md §3.2, §4)
MXFP4_MIN_CC = 8.0
# Model types vLLM 0.33 refuses to run in float16 (config/model.py _FLOAT16_NOT_SUPPORTED_MODELS; VLLM_SIZING.md §3.1).
FLOAT16_REFUSED = frozenset({"gemma2", "gemma3", "gemma3_text", "glm4"})


def tensor_parallel_sizes(spec: ModelSpec, up_to: int) -> list[int]:
    """The sizes up to ``up_to`` that divide the attention heads and either divide the KV heads or are a multiple
    of them (vLLM then replicates the KV heads)."""
    kv_heads = spec.num_key_value_heads
    return [
        d for d in range(1, up_to + 1) if spec.num_attention_heads % d == 0 and (kv_heads % d == 0 or d % kv_heads == 0)
    ]


def model_level_issues(keys: KeyPaths, model: ModelConfig, spec: ModelSpec, context: PlanContext) -> list[ConfigIssue]:
    """Checks that do not depend on the instance type."""
    issues: list[ConfigIssue] = []
    tp = model.tensor_parallel_size
    if spec.num_attention_heads % tp:
        valid = [d for d in range(1, 9) if spec.num_attention_heads % d == 0]
        issues.append(
            ConfigIssue(
                keys("tensorParallelSize"),
                tp,
                f"does not divide the {spec.num_attention_heads} attention heads of {spec.id} "
                "(vLLM: 'Total number of attention heads must be divisible by tensor parallel size')",
                f"use one of {', '.join(map(str, valid))}",
            )
        )
    elif spec.num_key_value_heads >= tp and spec.num_key_value_heads % tp:
        valid = tensor_parallel_sizes(spec, 8)
        issues.append(
            ConfigIssue(
                keys("tensorParallelSize"),
                tp,
                f"does not divide the {spec.num_key_value_heads} KV heads of {spec.id}",
                f"use one of {', '.join(map(str, valid))}",
            )
        )
    if model.max_model_len is not None and model.max_model_len > spec.max_position_embeddings:
        issues.append(
            ConfigIssue(
                keys("maxModelLen"),
                model.max_model_len,
                f"is above the {spec.max_position_embeddings} tokens {spec.id} supports "
                "(vLLM refuses it unless VLLM_ALLOW_LONG_MAX_MODEL_LEN is set, and quality degrades)",
                f"set it to {spec.max_position_embeddings} or less",
            )
        )
    if spec.quantization is not None and model.quantization not in (None, spec.quantization):
        issues.append(
            ConfigIssue(
                keys("quantization"),
                model.quantization,
                f"does not match the checkpoint: {spec.id} is quantized with {spec.quantization}",
                f"remove it (vLLM reads {spec.quantization} from the checkpoint) or set it to {spec.quantization}",
            )
        )
    if spec.quantization is None and model.quantization in ("awq", "gptq", "compressed-tensors"):
        issues.append(
            ConfigIssue(
                keys("quantization"),
                model.quantization,
                f"needs a checkpoint quantized with {model.quantization}, but {spec.id} is not quantized",
                "serve a pre-quantized checkpoint (e.g. hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4), "
                "or use 'fp8' to quantize online",
            )
        )
    model_type = spec.shape.model_type if spec.shape is not None else None
    if model.dtype == "float16" and model_type in FLOAT16_REFUSED:
        issues.append(
            ConfigIssue(
                keys("dtype"),
                model.dtype,
                f"is refused by vLLM for {model_type} models ({spec.id}): they overflow in float16",
                "remove dtype (auto takes bfloat16), or set dtype: bfloat16",
            )
        )
    if spec.gated and not context.hf_token:
        issues.append(
            ConfigIssue(
                key_path(context.hf_token_key, namespace=context.namespace),
                None,
                f"is required: {keys.within} ({spec.id}) is gated on Hugging Face",
                context.hf_token_fix,
                origin="not set",
            )
        )
    issues.extend(extra_args_issues(keys, model))
    return issues


def instance_issues(
    keys: KeyPaths, model: ModelConfig, spec: ModelSpec, instance: InstanceType, host_cuda: DriverRequirement | None
) -> list[ConfigIssue]:
    """Checks of the model against one instance type (GPU count, compute capability, the image's CUDA)."""
    gpu = instance.gpu
    cc = gpu.compute_capability
    issues: list[ConfigIssue] = []
    if model.tensor_parallel_size > instance.gpu_count:
        issues.append(
            ConfigIssue(
                keys("tensorParallelSize"),
                model.tensor_parallel_size,
                f"is more than the {instance.gpu_count} GPU(s) of {instance.name}",
                f"use tensorParallelSize <= {instance.gpu_count}, or an instance type with more GPUs",
            )
        )
    gpus_per_host = model.tensor_parallel_size * model.replicas_per_host
    if model.replicas_per_host > 1 and gpus_per_host > instance.gpu_count:
        issues.append(
            ConfigIssue(
                keys("replicasPerHost"),
                model.replicas_per_host,
                f"x TP {model.tensor_parallel_size} needs {gpus_per_host} GPUs, but {instance.name} has "
                f"{instance.gpu_count}",
                f"use replicasPerHost <= {max(1, instance.gpu_count // model.tensor_parallel_size)}, "
                "or an instance type with more GPUs",
            )
        )
    dropped = cuda.dropped_gpu(gpu, host_cuda)
    if dropped is not None:
        issues.append(
            ConfigIssue(
                keys("instanceType"),
                instance.name,
                dropped,
                "use a Turing or newer GPU (g4dn, g5, g6, g6e, g7e, p4d, p5), or an image built on an older CUDA",
            )
        )
    elif cc < MIN_COMPUTE_CAPABILITY:
        issues.append(
            ConfigIssue(
                keys("instanceType"),
                instance.name,
                f"has {gpu.name} GPUs (compute capability {cc}); vLLM needs at least {MIN_COMPUTE_CAPABILITY}",
                "use g4dn, g5, g6, g6e, g7e, p4d, p5 or newer",
            )
        )
    if model.dtype == "bfloat16" and cc < BF16_MIN_CC:
        issues.append(
            ConfigIssue(
                keys("dtype"),
                model.dtype,
                f"needs compute capability {BF16_MIN_CC}, but {instance.name} has {gpu.name} ({cc})",
                "set dtype: float16 (or auto), or use an Ampere or newer GPU (g5, g6, g6e, p4d, p5)",
            )
        )
    fmt = weight_format(model, spec)
    if fmt == "fp8" and cc < MIN_COMPUTE_CAPABILITY:
        # FP8 runs weight-only on Marlin from 7.5 (a warning, model_warnings); below that nothing runs it.
        key = "quantization" if model.quantization == "fp8" else "id"
        value = model.quantization if key == "quantization" else model.id
        issues.append(
            ConfigIssue(
                keys(key),
                value,
                f"FP8 weights need compute capability {MIN_COMPUTE_CAPABILITY} (Marlin FP8), but {instance.name} "
                f"has {gpu.name} ({cc})",
                "use an L4/L40S/H100-class instance (g6, g6e, p5), or an AWQ/GPTQ checkpoint",
            )
        )
    if fmt == "mxfp4" and cc < MXFP4_MIN_CC:
        issues.append(
            ConfigIssue(
                keys("instanceType"),
                instance.name,
                f"has {gpu.name} ({cc}); MXFP4 checkpoints need compute capability {MXFP4_MIN_CC} "
                "(vLLM Mxfp4Config.get_min_capability)",
                "use an Ampere or newer GPU (g5, g6, g6e, p4d, p5)",
            )
        )
    if fmt == "int4" and cc < MIN_COMPUTE_CAPABILITY:
        # The format comes from `quantization` when set, else from the checkpoint named by `id`.
        key = "quantization" if model.quantization is not None else "id"
        issues.append(
            ConfigIssue(
                keys(key),
                model.quantization or model.id,
                f"{'' if key == 'quantization' else f'is quantized with {spec.quantization}: '}AWQ/GPTQ kernels need "
                f"compute capability {MIN_COMPUTE_CAPABILITY}",
                "use a newer GPU",
            )
        )
    return issues


def no_fit_issue(
    keys: KeyPaths, model: ModelConfig, spec: ModelSpec, instance: InstanceType, memory: MemoryFit
) -> ConfigIssue:
    if memory.kv_cache_gib <= 0:
        return ConfigIssue(
            keys("instanceType"),
            instance.name,
            f"cannot hold the weights of {spec.id}: {memory.weights_gib:.1f} GiB per GPU plus "
            f"{memory.reserve_gib:.1f} GiB runtime reserve exceed {memory.budget_gib:.1f} GiB "
            f"({given(model, 'gpu_memory_utilization', 'gpuMemoryUtilization')} x {memory.total_gib} GiB) at "
            f"{given(model, 'tensor_parallel_size', 'TP')}",
            "use a larger GPU, a higher tensorParallelSize, or a quantized checkpoint",
        )
    return ConfigIssue(
        keys("maxModelLen"),
        memory.max_model_len,
        f"does not fit {spec.id} on {instance.name}: one {memory.max_model_len:,}-token sequence needs "
        f"{memory.max_model_len * memory.kv_bytes_per_token / GIB:.1f} GiB of KV cache per GPU but only "
        f"{memory.kv_cache_gib:.1f} GiB ({memory.kv_cache_tokens:,} tokens) is left after "
        f"{memory.weights_gib:.1f} GiB of weights",
        f"set maxModelLen to {memory.kv_cache_tokens:,} or less, or use kvCacheDtype: fp8, a higher "
        "gpuMemoryUtilization, a higher tensorParallelSize or a larger instance",
        origin=None
        if model.max_model_len is not None
        else f"not set; maxModelLen defaults to the model's {memory.max_model_len:,}",
    )


def given(model: ModelConfig, field: str, label: str) -> str:
    """``label value`` for a message, marked as the default when the user did not set it."""
    value = getattr(model, field)
    return f"{label} {value}" if field in model.model_fields_set else f"{label} {value} (the default)"


def one_tensor_parallel_issue(
    keys: KeyPaths, issues: list[ConfigIssue], spec: ModelSpec, instance: InstanceType
) -> list[ConfigIssue]:
    """A tensorParallelSize that divides no heads and exceeds the GPUs, as one issue whose fix solves both.

    Apart, their fixes contradicted each other ("use one of 1, 2, 4, 7" and "use tensorParallelSize <= 1").
    """
    path = keys("tensorParallelSize")
    on_tp = [issue for issue in issues if issue.path == path]
    if len(on_tp) < 2:
        return issues
    valid = tensor_parallel_sizes(spec, instance.gpu_count)
    merged = ConfigIssue(
        path,
        on_tp[0].value,
        "; and it ".join(issue.problem for issue in on_tp),
        f"use {' or '.join(map(str, valid))} (the sizes that divide the heads of {spec.id} and fit the "
        f"{instance.gpu_count} GPU(s) of {instance.name}), or an instance type with more GPUs",
    )
    first = issues.index(on_tp[0])
    rest = [issue for issue in issues if issue.path != path]
    return [*rest[:first], merged, *rest[first:]]


def model_warnings(
    model: ModelConfig,
    spec: ModelSpec,
    instance: InstanceType,
    memory: MemoryFit,
    cache: CacheConfig,
    *,
    planner_chose: bool = False,
) -> list[str]:
    """What the user may want to change: each fires only when acting on it changes the outcome, says by how much,
    and names the fix. Facts the user cannot act on (vLLM picks float16 on a GPU without bfloat16 by itself) are
    not warnings."""
    warnings: list[str] = []
    cc = instance.gpu.compute_capability
    # The planner's own pick is not warned about (defaults never warn): plan_model states it in the instance reason.
    if weight_format(model, spec) == "fp8" and cc < FP8_MIN_CC and not planner_chose:
        warnings.append(
            f"{model.name}: {instance.gpu.name} (compute capability {cc}) has no FP8 compute; vLLM runs the FP8 "
            "weights weight-only on its Marlin kernel (W8A16): memory as planned, slower than native FP8. Fix: an "
            "Ada or Hopper GPU (g6, g6e, p5) for native FP8, or a 16-bit checkpoint"
        )
    if model.kv_cache_dtype == "fp8" and cc < FP8_MIN_CC:
        auto = fit_memory(
            spec, instance.gpu, resolve_settings(model.model_copy(update={"kv_cache_dtype": "auto"}), spec, instance)
        )
        warnings.append(
            f"{model.name}: fp8 KV cache on {instance.gpu.name} (compute capability {cc}, no native FP8) holds "
            f"{memory.kv_cache_tokens:,} tokens instead of {auto.kv_cache_tokens:,} but runs slower non-native "
            "kernels; set kvCacheDtype: auto if that many tokens suffice, or use an Ada/Hopper GPU (g6, g6e, p5)"
        )
    warnings += _cpu_warnings(model, instance)
    if "max_model_len" in model.model_fields_set and memory.max_concurrency < 2:
        warnings.append(
            f"{model.name}: only {memory.max_concurrency:.1f} sequences of the {memory.max_model_len:,} tokens set in "
            f"maxModelLen fit in the KV cache ({memory.kv_cache_tokens:,} tokens), so a second request that long "
            "queues; lower maxModelLen, or use kvCacheDtype: fp8, a higher tensorParallelSize or a larger GPU"
        )
    hosts = -(-model.replicas // model.replicas_per_host)
    idle = hosts * instance.gpu_count - model.replicas * model.tensor_parallel_size
    if idle > 0:
        warnings.append(
            f"{model.name}: {idle} of the {hosts * instance.gpu_count} GPUs of {hosts} {instance.name} host(s) sit "
            f"idle ({model.replicas} replica(s) x TP {model.tensor_parallel_size}); more replicas or a higher "
            "replicasPerHost use them at no extra cost"
        )
    warnings += _pcie_warnings(model, spec, instance)
    for dest, written in sizing_overrides(model).items():
        warnings.append(
            f"{model.name}: extraArgs {written} changes what vLLM allocates on the GPU, which the plan does not "
            f"model: its {memory.kv_cache_tokens:,} KV tokens ({memory.max_concurrency:.1f}x "
            f"{sequences(model, memory.max_model_len)}) and its fit check assume it away. Fix: {SIZING_OVERRIDES[dest]}"
        )
    set_throughput = cache.throughput_mibps
    if set_throughput is not None and set_throughput > instance.startup_ebs_mibps:
        unused = set_throughput - math.floor(instance.startup_ebs_mibps)
        warnings.append(
            f"{model.name}: cache.throughputMibps {set_throughput} is above {instance.name}'s "
            f"{instance.startup_ebs_mibps:.0f} MiB/s EBS bandwidth: weights load at the instance's rate, so "
            f"{unused} MiB/s (${unused * GP3_USD_PER_MIBPS_MONTH:.2f}/month per cache volume) is paid for and unused; "
            "remove it (the default follows each instance) or lower it"
        )
    return warnings


def _cpu_warnings(model: ModelConfig, instance: InstanceType) -> list[str]:
    """vLLM wants a physical core per process of each server (docs/configuration/optimization.md, "CPU Resources
    for GPU Deployments": "The minimum is 2 + N physical cores"; 1 vCPU = 1 hyperthread = half a core). At TP 1
    the GPU worker runs inside the engine core process (vllm/config/parallel.py: world_size 1 -> the "uni"
    executor, vllm/v1/executor/uniproc_executor.py), so a single-GPU server has 2 processes, not 3."""
    processes = 2 if model.tensor_parallel_size == 1 else 2 + model.tensor_parallel_size
    needed = processes * model.replicas_per_host
    cores = instance.vcpu // 2
    if cores >= needed:
        return []
    gpus = model.tensor_parallel_size * model.replicas_per_host
    roomier = min(
        (
            other
            for other in catalog.instance_types().values()
            if other.gpu.name == instance.gpu.name
            and other.gpu_count >= gpus
            and other.vcpu // 2 >= needed
            and other.hourly_usd is not None
        ),
        key=lambda other: other.hourly_usd or 0.0,
        default=None,
    )
    fix = (
        f"use {roomier.name} ({roomier.vcpu // 2} cores, ${roomier.hourly_usd:.2f}/h)"
        if roomier is not None and roomier.hourly_usd is not None
        else "use an instance type with more vCPUs"
    )
    return [
        f"{model.name}: {model.replicas_per_host} vLLM server(s) at TP {model.tensor_parallel_size} run {needed} "
        f"busy processes (API server, engine core{', a worker per GPU' if model.tensor_parallel_size > 1 else ''}) "
        f"on {instance.name}'s {cores} physical cores; vLLM documents fewer cores than processes as degrading "
        f"throughput and latency. Fix: {fix}, or fewer replicasPerHost"
    ]


def sequences(model: ModelConfig, max_model_len: int) -> str:
    """``32,768-token sequences``, saying where the length came from when the user did not set maxModelLen."""
    own = "" if model.max_model_len is not None else ", the model's own context with maxModelLen not set"
    return f"{max_model_len:,}-token sequences{own}"


def _pcie_warnings(model: ModelConfig, spec: ModelSpec, instance: InstanceType) -> list[str]:
    """TP over PCIe pays an all-reduce per layer; when one GPU holds the model, independent replicas do not."""
    if model.tensor_parallel_size == 1 or instance.nvlink:
        return []
    single = model.model_copy(update={"tensor_parallel_size": 1})
    alone = fit_memory(spec, instance.gpu, resolve_settings(single, spec, instance))
    if not alone.fits:
        return []
    replicas = instance.gpu_count
    return [
        f"{model.name}: TP={model.tensor_parallel_size} on {instance.name} runs over PCIe (no NVLink), but one "
        f"{instance.gpu.name} holds {spec.id} with {alone.kv_cache_tokens:,} KV tokens "
        f"({alone.max_concurrency:.1f}x {sequences(model, alone.max_model_len)}): {replicas} independent TP 1 "
        f"servers on the same host skip the all-reduce. Fix: tensorParallelSize: 1 and replicasPerHost: {replicas}"
    ]
