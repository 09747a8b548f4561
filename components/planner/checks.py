"""The planner's checks of a model: against its own shape (TP, context, quantization, gated) and against one
instance type (GPU count, compute capability, the image's CUDA), the fit message, and the warnings."""

from __future__ import annotations

from ..catalog import InstanceType, ModelSpec, cuda
from ..catalog.cuda import DriverRequirement
from ..config.sections import CacheConfig, ModelConfig
from ..errors import ConfigIssue, KeyPaths, key_path
from .context import PlanContext
from .memory import GIB, MemoryFit, weight_format
from .vllm_args import extra_args_issues

# Minimum compute capabilities (vLLM docs/features/quantization hardware table; gpu.cuda.inc.md).
MIN_COMPUTE_CAPABILITY = 7.5
BF16_MIN_CC = 8.0
FP8_MIN_CC = 8.9


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
        valid = [
            d
            for d in range(1, 9)
            if spec.num_attention_heads % d == 0
            and (spec.num_key_value_heads % d == 0 or d % spec.num_key_value_heads == 0)
        ]
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
    if fmt == "fp8" and cc < FP8_MIN_CC:
        key = "quantization" if model.quantization == "fp8" else "id"
        value = model.quantization if key == "quantization" else model.id
        issues.append(
            ConfigIssue(
                keys(key),
                value,
                f"FP8 weights need compute capability {FP8_MIN_CC} for FP8 kernels, but {instance.name} has "
                f"{gpu.name} ({cc})",
                "use an L4/L40S/H100-class instance (g6, g6e, p5), or an AWQ/GPTQ checkpoint",
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


def model_warnings(
    model: ModelConfig, spec: ModelSpec, instance: InstanceType, memory: MemoryFit, cache: CacheConfig
) -> list[str]:
    warnings: list[str] = []
    cc = instance.gpu.compute_capability
    if model.dtype == "auto" and spec.default_dtype == "bfloat16" and cc < BF16_MIN_CC:
        warnings.append(
            f"{model.name}: {instance.gpu.name} has no bfloat16; vLLM runs {spec.id} in float16 "
            "(set dtype: float16 to make that explicit)"
        )
    if model.kv_cache_dtype == "fp8" and cc < FP8_MIN_CC:
        warnings.append(f"{model.name}: fp8 KV cache on {instance.gpu.name} uses slower non-native kernels")
    physical_cores = instance.vcpu // 2
    if physical_cores < 2 + model.tensor_parallel_size:
        warnings.append(
            f"{model.name}: {instance.name} has {physical_cores} physical cores; vLLM wants 2 + TP = "
            f"{2 + model.tensor_parallel_size} (API server, engine core, one worker per GPU)"
        )
    if memory.max_concurrency < 2:
        warnings.append(
            f"{model.name}: only {memory.max_concurrency:.1f} sequences of {memory.max_model_len:,} tokens fit "
            "in the KV cache; long requests will queue"
        )
    if spec.sliding_window is not None:
        warnings.append(
            f"{model.name}: {spec.id} uses sliding-window layers, counted here as full attention; vLLM "
            "will report more KV tokens than planned"
        )
    if model.tensor_parallel_size > 1 and not instance.nvlink:
        warnings.append(
            f"{model.name}: TP={model.tensor_parallel_size} on {instance.name} runs over PCIe (no NVLink); "
            "if the model fits one GPU, replicas scale better"
        )
    if model.spot:
        warnings.append(
            f"{model.name}: spot instances can be interrupted with 2 minutes' notice; each interruption costs "
            "a host replacement and a cold start. Costs are shown at on-demand prices."
        )
    if cache.throughput_mibps > instance.startup_ebs_mibps:
        warnings.append(
            f"{model.name}: cache throughput {cache.throughput_mibps} MiB/s is above {instance.name}'s "
            f"{instance.startup_ebs_mibps:.0f} MiB/s EBS bandwidth; weights load at the instance's rate, so "
            "the extra throughput is paid for but unused"
        )
    return warnings
