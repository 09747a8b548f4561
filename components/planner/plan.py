"""Fit planner: will this model serve on this GPU, how much KV cache, how fast does it start, what does it cost.

Pure functions over the catalogs and the stack config; no Pulumi. The formulas and their sources are
documented in README.md ("Sizing formulas"); constants below name their source where one exists.

Memory model (vLLM V1 ``gpu_worker.determine_available_memory``, per GPU):

    kv_cache = gpu_memory_utilization x total_memory
               - weights / TP - peak activation (profiling run) - non-torch memory - CUDA-graph estimate
    kv_tokens = floor(kv_cache / (16 x kv_bytes_per_token_per_gpu)) x 16       (16-token blocks)
    kv_bytes_per_token_per_gpu = 2 x layers x max(1, kv_heads / TP) x head_dim x kv_dtype_bytes
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .. import catalog
from ..catalog import InstanceType, ModelSpec, WeightFormat, cuda
from ..catalog.cuda import DriverRequirement
from ..config.schema import StackConfig
from ..config.sections import ArchitectureConfig, ModelConfig
from ..errors import ConfigError, ConfigIssue, did_you_mean, key_path
from .vllm_args import extra_args_issues

GIB = 2**30
MIB = 2**20
HOURS_PER_MONTH = 730
KV_BLOCK_TOKENS = 16  # vLLM's default --block-size on CUDA

# Minimum compute capabilities (vLLM docs/features/quantization hardware table; gpu.cuda.inc.md).
MIN_COMPUTE_CAPABILITY = 7.5
BF16_MIN_CC = 8.0
FP8_MIN_CC = 8.9

# Bytes per quantized linear weight, including per-group scales/zeros (group 128: fp16 scale + 4-bit zero).
_WEIGHT_BYTES: dict[WeightFormat, float] = {"fp16": 2.0, "int4": 0.5 + 2.5 / 128, "int8": 1.0, "fp8": 1.0}

# Reserve terms, calibrated against real startup logs (tests/data/kv_cache_observations.yaml).
NON_TORCH_GIB = 0.4  # cuBLAS/cuDNN workspaces and the CUDA context's non-torch allocations
NON_TORCH_TP_GIB = 0.35  # NCCL buffers and custom all-reduce when TP > 1
# CUDA-graph pools, counted in the KV budget since vLLM v0.21 (#30515). Logged estimates scale with
# layers x hidden: 0.14 GiB (28 x 1536), 0.37 GiB (28 x 3584), 0.52 GiB (36 x 4096).
CUDA_GRAPH_GIB_PER_LAYER_HIDDEN = 3.5e-6

# Cold-start inputs (VLLM_AWS.md §F; README "Sizing formulas").
IMAGE_COMPRESSED_GB = 12.6  # vllm/vllm-openai compressed size (#27154, #22377)
IMAGE_PULL_MB_PER_S = 60.0  # 15-20 GB images pull in 4-6 min on EC2 (AWS ML blog, SOCI for DLAMI)
HF_DOWNLOAD_MIB_PER_S = 250.0  # Hugging Face Hub from EC2, before the volume/instance caps apply
HOST_BOOT_SECONDS = 90.0  # EC2 launch + cloud-init until Docker and the GPU answer
CONTAINER_START_SECONDS = 20.0  # container start to engine config (#44881: 16 s)
COMPILE_COLD_SECONDS = 45.0  # torch.compile without cache (#44881: 43 s)
COMPILE_WARM_SECONDS = 5.0  # compile cache hit (#44881, #16848)
GRAPHS_AND_PROFILE_SECONDS = 25.0  # memory profiling + CUDA graph capture (#11005, #20264)
TP_INIT_COLD_SECONDS = 60.0  # NCCL + P2P access check on first TP start; cached after (#19824)
TP_INIT_WARM_SECONDS = 10.0

# Prices (us-east-1, approximate; README): gp3 storage, IOPS and throughput above the baseline, ALB.
GP3_USD_PER_GIB_MONTH = 0.08
GP3_USD_PER_IOPS_MONTH = 0.005
GP3_USD_PER_MIBPS_MONTH = 0.04
GP3_FREE_IOPS = 3000
GP3_FREE_MIBPS = 125
GP3_MAX_IOPS_PER_GIB = 500
ALB_USD_PER_HOUR = 0.0225 + 0.008  # hourly charge plus one LCU
ROOT_VOLUME_GIB = 150  # vLLM image (~29 GB uncompressed) + DLAMI + Docker layers during upgrades
MONITORING_VOLUME_GIB = 50  # Prometheus TSDB and Grafana data
MONITORING_ROOT_VOLUME_GIB = 30  # Amazon Linux + Docker + the Prometheus/Grafana images
MONITORING_HOURLY_USD = {"t3.medium": 0.0416, "t3.large": 0.0832, "t3.xlarge": 0.1664, "m6i.large": 0.096}


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


def fit_memory(spec: ModelSpec, gpu: catalog.GpuSpec, settings: ServingSettings) -> MemoryFit:
    """The per-GPU memory budget of one replica (see the module docstring)."""
    tp = settings.tensor_parallel_size
    budget = settings.gpu_memory_utilization * gpu.memory_gib
    weights = weights_bytes(spec, settings.weight_format) / tp / GIB
    activation = activation_gib(spec, settings)
    non_torch = NON_TORCH_GIB + (NON_TORCH_TP_GIB if tp > 1 else 0.0)
    cuda_graph = (
        CUDA_GRAPH_GIB_PER_LAYER_HIDDEN * spec.num_layers * spec.hidden_size if settings.cuda_graphs_in_budget else 0.0
    )
    kv_cache = max(0.0, budget - weights - activation - non_torch - cuda_graph)
    per_token = kv_bytes_per_token(spec, tp, settings.kv_cache_bytes)
    blocks = int(kv_cache * GIB // (per_token * KV_BLOCK_TOKENS))
    return MemoryFit(
        total_gib=gpu.memory_gib,
        budget_gib=budget,
        weights_gib=weights,
        activation_gib=activation,
        non_torch_gib=non_torch,
        cuda_graph_gib=cuda_graph,
        kv_cache_gib=kv_cache,
        kv_bytes_per_token=per_token,
        kv_cache_tokens=blocks * KV_BLOCK_TOKENS,
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
    )


# --- cold start -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ColdStart:
    """Predicted seconds until ``/health`` answers 200."""

    first_boot_seconds: float
    warm_cache_seconds: float
    host_replacement_seconds: float
    container_first_start_seconds: float  # first start of the container: download + load + compile
    read_mib_per_s: float


def cold_start(spec_bytes: float, instance: InstanceType, tp: int, volume_mibps: int) -> ColdStart:
    """First boot downloads everything; a warm cache only reads weights and hits the compile cache.

    Reading is capped by the slower of the volume's provisioned throughput and the instance's EBS
    bandwidth; every TP rank reads its shard from the same volume, so all bytes pass through it once.
    """
    read_rate = min(float(volume_mibps), instance.startup_ebs_mibps)
    read_seconds = spec_bytes / MIB / read_rate
    download_seconds = spec_bytes / MIB / min(HF_DOWNLOAD_MIB_PER_S, read_rate)
    image_pull = IMAGE_COMPRESSED_GB * 1000 / IMAGE_PULL_MB_PER_S
    tp_cold = TP_INIT_COLD_SECONDS if tp > 1 else 0.0
    tp_warm = TP_INIT_WARM_SECONDS if tp > 1 else 0.0
    engine_warm = CONTAINER_START_SECONDS + COMPILE_WARM_SECONDS + GRAPHS_AND_PROFILE_SECONDS + tp_warm
    engine_cold = CONTAINER_START_SECONDS + COMPILE_COLD_SECONDS + GRAPHS_AND_PROFILE_SECONDS + tp_cold
    warm = read_seconds + engine_warm
    return ColdStart(
        first_boot_seconds=round(HOST_BOOT_SECONDS + image_pull + download_seconds + read_seconds + engine_cold),
        warm_cache_seconds=round(warm),
        host_replacement_seconds=round(HOST_BOOT_SECONDS + image_pull + warm),
        container_first_start_seconds=round(download_seconds + read_seconds + engine_cold),
        read_mib_per_s=round(read_rate, 1),
    )


# --- cache and cost -------------------------------------------------------------------------------------


def recommended_cache_gib(spec_bytes: float) -> int:
    """Room for the weights twice (a revision upgrade downloads next to the old one) + compile caches."""
    needed = 2 * spec_bytes / GIB + 50
    return max(100, int(math.ceil(needed / 10) * 10))


def ebs_monthly_usd(size_gib: int, iops: int, throughput_mibps: int) -> float:
    return (
        size_gib * GP3_USD_PER_GIB_MONTH
        + max(0, iops - GP3_FREE_IOPS) * GP3_USD_PER_IOPS_MONTH
        + max(0, throughput_mibps - GP3_FREE_MIBPS) * GP3_USD_PER_MIBPS_MONTH
    )


# --- planning a whole stack ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelPlan:
    """Everything the planner decided for one configured model."""

    config: ModelConfig
    spec: ModelSpec
    instance: InstanceType
    instance_reason: str
    settings: ServingSettings
    memory: MemoryFit
    cache_size_gib: int
    cold_start: ColdStart
    hourly_usd: float | None
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class StackPlan:
    config: StackConfig
    models: tuple[ModelPlan, ...]
    hourly_usd: float | None
    warnings: tuple[str, ...]

    @property
    def monthly_usd(self) -> float | None:
        return None if self.hourly_usd is None else self.hourly_usd * HOURS_PER_MONTH


def plan_stack(config: StackConfig) -> StackPlan:
    """Plan every model; raise :class:`ConfigError` listing every problem before anything is created."""
    issues: list[ConfigIssue] = []
    plans: list[ModelPlan] = []
    for index, model in enumerate(config.models):
        result = _plan_model(index, model, config)
        if isinstance(result, ModelPlan):
            plans.append(result)
        else:
            issues.extend(result)
    if issues:
        raise ConfigError(issues)

    warnings: list[str] = []
    if config.load_balancer.certificate_arn is None:
        warnings.append(
            "INSECURE: loadBalancer.certificateArn is not set, so the endpoint is plain HTTP: the API key and every "
            "prompt cross the network unencrypted. Set an ACM certificate for HTTPS."
        )
    if config.region != "us-east-1":
        warnings.append(
            f"prices are {catalog.price_note()}; {config.region} usually costs more. Check with "
            "`aws pricing get-products`."
        )
    warnings.extend(cuda.plan_warnings(config.image, config.ami_id))
    hourly = _stack_hourly(config, plans, warnings)
    return StackPlan(config=config, models=tuple(plans), hourly_usd=hourly, warnings=tuple(warnings))


def _stack_hourly(config: StackConfig, plans: Sequence[ModelPlan], warnings: list[str]) -> float | None:
    model_costs = [p.hourly_usd for p in plans]
    if any(cost is None for cost in model_costs):
        return None
    total = sum(cost for cost in model_costs if cost is not None) + ALB_USD_PER_HOUR
    if config.monitoring.enabled and config.monitoring.placement == "dedicated":
        instance_price = MONITORING_HOURLY_USD.get(config.monitoring.instance_type)
        if instance_price is None:
            warnings.append(
                f"no price for monitoring instance {config.monitoring.instance_type}; not in the cost total"
            )
        else:
            volumes = ebs_monthly_usd(MONITORING_VOLUME_GIB, 3000, 125) + ebs_monthly_usd(
                MONITORING_ROOT_VOLUME_GIB, 3000, 125
            )
            total += instance_price + volumes / HOURS_PER_MONTH
    return total


def _plan_model(index: int, model: ModelConfig, config: StackConfig) -> ModelPlan | list[ConfigIssue]:
    path = ("models", index)
    spec_or_issue = resolve_model_spec(index, model)
    if isinstance(spec_or_issue, ConfigIssue):
        return [spec_or_issue]
    spec = spec_or_issue
    issues = _model_level_issues(index, model, spec, config)
    host_cuda = cuda.driver_requirement(config.image)

    instance_reason: str
    if model.instance_type is not None:
        instance = catalog.instance_types().get(model.instance_type)
        if instance is None:
            hint = did_you_mean(model.instance_type, catalog.instance_types())
            issues.append(
                ConfigIssue(
                    key_path((*path, "instanceType")),
                    model.instance_type,
                    "is not a GPU instance type in the catalog",
                    f"did you mean '{hint}'?"
                    if hint
                    else f"use one of {', '.join(catalog.instance_types())}, or remove it to let the planner choose",
                )
            )
            return issues
        instance_reason = "set in config"
        instance_issues = _instance_issues(index, model, spec, instance, host_cuda)
        if instance_issues:
            return issues + instance_issues
    else:
        if issues:
            return issues
        chosen = choose_instance(index, model, spec, host_cuda)
        if isinstance(chosen, ConfigIssue):
            return [chosen]
        instance, instance_reason = chosen
    if issues:
        return issues

    settings = resolve_settings(model, spec, instance)
    memory = fit_memory(spec, instance.gpu, settings)
    if not memory.fits:
        return [_no_fit_issue(index, model, spec, instance, memory)]

    total_bytes = weights_bytes(spec, settings.weight_format)
    cache_size = (
        config.cache.size_gib
        if isinstance(config.cache.size_gib, int)
        # gp3 allows 500 IOPS per GiB: an auto-sized volume grows to carry the configured IOPS.
        else max(recommended_cache_gib(total_bytes), math.ceil(config.cache.iops / GP3_MAX_IOPS_PER_GIB))
    )
    if cache_size < total_bytes / GIB + 10:
        return [
            ConfigIssue(
                key_path(("cache", "sizeGib")),
                config.cache.size_gib,
                f"cannot hold the {total_bytes / GIB:.0f} GiB of weights of {model.name} plus compile caches",
                f"set it to at least {recommended_cache_gib(total_bytes)}, or 'auto'",
            )
        ]
    start = cold_start(total_bytes, instance, model.tensor_parallel_size, config.cache.throughput_mibps)
    warnings = _model_warnings(model, spec, instance, memory, config)
    hourly = None
    if instance.hourly_usd is not None:
        per_host = (
            instance.hourly_usd
            + (
                ebs_monthly_usd(cache_size, config.cache.iops, config.cache.throughput_mibps)
                + ebs_monthly_usd(ROOT_VOLUME_GIB, 3000, 125)
            )
            / HOURS_PER_MONTH
        )
        hourly = per_host * hosts_for(model)
    else:
        warnings.append(f"{model.name}: no reliable price for {instance.name}; its cost is not in the totals")
    return ModelPlan(
        config=model,
        spec=spec,
        instance=instance,
        instance_reason=instance_reason,
        settings=settings,
        memory=memory,
        cache_size_gib=cache_size,
        cold_start=start,
        hourly_usd=hourly,
        warnings=tuple(warnings),
    )


def hosts_for(model: ModelConfig) -> int:
    """GPU hosts a model needs: its replicas, ``replicasPerHost`` to a host."""
    return math.ceil(model.replicas / model.replicas_per_host)


def resolve_model_spec(index: int, model: ModelConfig) -> ModelSpec | ConfigIssue:
    """The catalog entry for ``model.id``, overridden or replaced by its ``architecture:`` block."""
    base = catalog.find_model(model.id)
    arch = model.architecture
    if arch is None:
        if base is not None:
            return base
        hint = did_you_mean(model.id, [m.id for m in catalog.models().values()])
        return ConfigIssue(
            key_path(("models", index, "id")),
            model.id,
            "is not in the model catalog, so the planner cannot size it",
            (f"did you mean '{hint}'? Otherwise add " if hint else "add ")
            + "an `architecture:` block (numLayers, numAttentionHeads, numKeyValueHeads, headDim, "
            "paramsBillion, maxPositionEmbeddings) or `architecture.configJson: path/to/config.json`",
        )
    return _spec_from_architecture(index, model, arch, base)


def _spec_from_architecture(
    index: int, model: ModelConfig, arch: ArchitectureConfig, base: ModelSpec | None
) -> ModelSpec | ConfigIssue:
    path = ("models", index, "architecture")
    fields: dict[str, object] = base.model_dump(by_alias=True) if base else {"id": model.id}
    if arch.config_json is not None:
        config_path = Path(arch.config_json)
        try:
            fields.update(catalog.model_from_hf_config(config_path, model.id))
        except (OSError, ValueError) as exc:
            return ConfigIssue(
                key_path((*path, "configJson")),
                arch.config_json,
                f"cannot be read as a Hugging Face config.json ({exc.__class__.__name__}: {exc})",
                "point it at a readable config.json (relative to the directory you run from)",
            )
    explicit = arch.model_dump(by_alias=True, exclude_none=True, exclude={"config_json"}, exclude_unset=True)
    fields.update(explicit)
    required = ("numLayers", "numAttentionHeads", "numKeyValueHeads", "headDim", "maxPositionEmbeddings")
    for key in required:
        if fields.get(key) is None:
            return ConfigIssue(
                key_path((*path, key)),
                None,
                f"is needed to size {model.id}, which is not in the catalog",
                f"set architecture.{key} (from the model's config.json)",
            )
    heads = int(fields["numAttentionHeads"])  # type: ignore[call-overload]
    head_dim = int(fields["headDim"])  # type: ignore[call-overload]
    fields.setdefault("hiddenSize", heads * head_dim)
    fields.setdefault("intermediateSize", int(3.5 * int(fields["hiddenSize"])))  # type: ignore[call-overload]
    fields.setdefault("vocabSize", 32000)
    if fields.get("paramsBillion") is None:
        if arch.config_json is None:
            return ConfigIssue(
                key_path((*path, "paramsBillion")),
                None,
                f"is needed to size the weights of {model.id}",
                "set architecture.paramsBillion (the model card's parameter count, in billions)",
            )
        fields["paramsBillion"] = catalog.estimate_params_billion(
            num_layers=int(fields["numLayers"]),  # type: ignore[call-overload]
            hidden_size=int(fields["hiddenSize"]),  # type: ignore[call-overload]
            intermediate_size=int(fields["intermediateSize"]),  # type: ignore[call-overload]
            vocab_size=int(fields["vocabSize"]),  # type: ignore[call-overload]
            num_attention_heads=heads,
            num_key_value_heads=int(fields["numKeyValueHeads"]),  # type: ignore[call-overload]
            head_dim=head_dim,
            tie_word_embeddings=bool(fields.get("tieWordEmbeddings", False)),
        )
    return ModelSpec.model_validate(fields)


def _model_level_issues(index: int, model: ModelConfig, spec: ModelSpec, config: StackConfig) -> list[ConfigIssue]:
    """Checks that do not depend on the instance type."""
    path = ("models", index)
    issues: list[ConfigIssue] = []
    tp = model.tensor_parallel_size
    if spec.num_attention_heads % tp:
        valid = [d for d in range(1, 9) if spec.num_attention_heads % d == 0]
        issues.append(
            ConfigIssue(
                key_path((*path, "tensorParallelSize")),
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
                key_path((*path, "tensorParallelSize")),
                tp,
                f"does not divide the {spec.num_key_value_heads} KV heads of {spec.id}",
                f"use one of {', '.join(map(str, valid))}",
            )
        )
    if model.max_model_len is not None and model.max_model_len > spec.max_position_embeddings:
        issues.append(
            ConfigIssue(
                key_path((*path, "maxModelLen")),
                model.max_model_len,
                f"is above the {spec.max_position_embeddings} tokens {spec.id} supports "
                "(vLLM refuses it unless VLLM_ALLOW_LONG_MAX_MODEL_LEN is set, and quality degrades)",
                f"set it to {spec.max_position_embeddings} or less",
            )
        )
    if spec.quantization is not None and model.quantization not in (None, spec.quantization):
        issues.append(
            ConfigIssue(
                key_path((*path, "quantization")),
                model.quantization,
                f"does not match the checkpoint: {spec.id} is quantized with {spec.quantization}",
                f"remove it (vLLM reads {spec.quantization} from the checkpoint) or set it to {spec.quantization}",
            )
        )
    if spec.quantization is None and model.quantization in ("awq", "gptq", "compressed-tensors"):
        issues.append(
            ConfigIssue(
                key_path((*path, "quantization")),
                model.quantization,
                f"needs a checkpoint quantized with {model.quantization}, but {spec.id} is not quantized",
                "serve a pre-quantized checkpoint (e.g. hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4), "
                "or use 'fp8' to quantize online",
            )
        )
    if spec.gated and config.hf_token is None:
        issues.append(
            ConfigIssue(
                key_path(("hfToken",)),
                None,
                f"is required: models[{index}] ({spec.id}) is gated on Hugging Face",
                "accept the licence on huggingface.co, then `pulumi config set --secret vllm-aws:hfToken hf_...`",
            )
        )
    issues.extend(extra_args_issues(index, model))
    return issues


def _instance_issues(
    index: int, model: ModelConfig, spec: ModelSpec, instance: InstanceType, host_cuda: DriverRequirement | None
) -> list[ConfigIssue]:
    """Checks of the model against one instance type (GPU count, compute capability, the image's CUDA)."""
    path = ("models", index)
    gpu = instance.gpu
    cc = gpu.compute_capability
    issues: list[ConfigIssue] = []
    if model.tensor_parallel_size > instance.gpu_count:
        issues.append(
            ConfigIssue(
                key_path((*path, "tensorParallelSize")),
                model.tensor_parallel_size,
                f"is more than the {instance.gpu_count} GPU(s) of {instance.name}",
                f"use tensorParallelSize <= {instance.gpu_count}, or an instance type with more GPUs",
            )
        )
    gpus_per_host = model.tensor_parallel_size * model.replicas_per_host
    if model.replicas_per_host > 1 and gpus_per_host > instance.gpu_count:
        issues.append(
            ConfigIssue(
                key_path((*path, "replicasPerHost")),
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
                key_path((*path, "instanceType")),
                instance.name,
                dropped,
                "use a Turing or newer GPU (g4dn, g5, g6, g6e, g7e, p4d, p5), or an image built on an older CUDA",
            )
        )
    elif cc < MIN_COMPUTE_CAPABILITY:
        issues.append(
            ConfigIssue(
                key_path((*path, "instanceType")),
                instance.name,
                f"has {gpu.name} GPUs (compute capability {cc}); vLLM needs at least {MIN_COMPUTE_CAPABILITY}",
                "use g4dn, g5, g6, g6e, g7e, p4d, p5 or newer",
            )
        )
    if model.dtype == "bfloat16" and cc < BF16_MIN_CC:
        issues.append(
            ConfigIssue(
                key_path((*path, "dtype")),
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
                key_path((*path, key)),
                value,
                f"FP8 weights need compute capability {FP8_MIN_CC} for FP8 kernels, but {instance.name} has "
                f"{gpu.name} ({cc})",
                "use an L4/L40S/H100-class instance (g6, g6e, p5), or an AWQ/GPTQ checkpoint",
            )
        )
    if fmt == "int4" and cc < MIN_COMPUTE_CAPABILITY:
        issues.append(
            ConfigIssue(
                key_path((*path, "quantization")),
                model.quantization or spec.quantization,
                f"AWQ/GPTQ kernels need compute capability {MIN_COMPUTE_CAPABILITY}",
                "use a newer GPU",
            )
        )
    return issues


def fitting_instances(
    model: ModelConfig, spec: ModelSpec, host_cuda: DriverRequirement | None
) -> list[tuple[InstanceType, MemoryFit]]:
    """Priced catalog types that pass the GPU checks and fit the model, cheapest first (ties: more KV)."""
    fitting: list[tuple[InstanceType, MemoryFit]] = []
    for instance in catalog.instance_types().values():
        if instance.hourly_usd is None or _instance_issues(0, model, spec, instance, host_cuda):
            continue
        memory = fit_memory(spec, instance.gpu, resolve_settings(model, spec, instance))
        if memory.fits:
            fitting.append((instance, memory))
    return sorted(fitting, key=lambda item: (item[0].hourly_usd or 0.0, -item[1].kv_cache_tokens))


def choose_instance(
    index: int, model: ModelConfig, spec: ModelSpec, host_cuda: DriverRequirement | None
) -> tuple[InstanceType, str] | ConfigIssue:
    """The cheapest priced catalog type where the model fits at its TP size, and why."""
    fitting = fitting_instances(model, spec, host_cuda)
    if not fitting:
        return _nothing_fits_issue(index, model, spec, host_cuda)
    instance, memory = fitting[0]
    reason = (
        f"cheapest catalog type that fits at TP={model.tensor_parallel_size}: ${instance.hourly_usd:.2f}/h, "
        f"{memory.kv_cache_tokens:,} KV tokens = {memory.max_concurrency:.1f}x {memory.max_model_len:,}-token "
        "sequences"
    )
    if len(fitting) > 1:
        runner_up, runner_up_memory = fitting[1]
        reason += f"; next: {runner_up.name} (${runner_up.hourly_usd:.2f}/h, {runner_up_memory.max_concurrency:.1f}x)"
    return instance, reason


def _nothing_fits_issue(
    index: int, model: ModelConfig, spec: ModelSpec, host_cuda: DriverRequirement | None
) -> ConfigIssue:
    # The cheapest fit over the other TP sizes that divide the heads, to name a concrete fix.
    options = [
        (fit[0][0], tp)
        for tp in (1, 2, 4, 8)
        if tp != model.tensor_parallel_size
        and spec.num_attention_heads % tp == 0
        and (fit := fitting_instances(model.model_copy(update={"tensor_parallel_size": tp}), spec, host_cuda))
    ]
    best = min(options, key=lambda option: option[0].hourly_usd or 0.0, default=None)
    fix = (
        f"set tensorParallelSize: {best[1]} (cheapest fit: {best[0].name})"
        if best
        else "lower maxModelLen, use kvCacheDtype: fp8, or a quantized checkpoint"
    )
    return ConfigIssue(
        key_path(("models", index, "tensorParallelSize")),
        model.tensor_parallel_size,
        f"no priced catalog instance fits {spec.id} at this TP size with maxModelLen "
        f"{model.max_model_len or spec.max_position_embeddings}",
        fix,
    )


def _no_fit_issue(
    index: int, model: ModelConfig, spec: ModelSpec, instance: InstanceType, memory: MemoryFit
) -> ConfigIssue:
    path = ("models", index)
    if memory.kv_cache_gib <= 0:
        return ConfigIssue(
            key_path((*path, "instanceType")),
            instance.name,
            f"cannot hold the weights of {spec.id}: {memory.weights_gib:.1f} GiB per GPU plus "
            f"{memory.reserve_gib:.1f} GiB runtime reserve exceed {memory.budget_gib:.1f} GiB "
            f"({model.gpu_memory_utilization} x {memory.total_gib} GiB) at TP={model.tensor_parallel_size}",
            "use a larger GPU, a higher tensorParallelSize, or a quantized checkpoint",
        )
    return ConfigIssue(
        key_path((*path, "maxModelLen")),
        memory.max_model_len,
        f"does not fit {spec.id} on {instance.name}: one {memory.max_model_len:,}-token sequence needs "
        f"{memory.max_model_len * memory.kv_bytes_per_token / GIB:.1f} GiB of KV cache per GPU but only "
        f"{memory.kv_cache_gib:.1f} GiB ({memory.kv_cache_tokens:,} tokens) is left after "
        f"{memory.weights_gib:.1f} GiB of weights",
        f"set maxModelLen to {memory.kv_cache_tokens:,} or less, or use kvCacheDtype: fp8, a higher "
        "gpuMemoryUtilization, a higher tensorParallelSize or a larger instance",
    )


def _model_warnings(
    model: ModelConfig, spec: ModelSpec, instance: InstanceType, memory: MemoryFit, config: StackConfig
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
    if config.cache.throughput_mibps > instance.startup_ebs_mibps:
        warnings.append(
            f"{model.name}: cache throughput {config.cache.throughput_mibps} MiB/s is above {instance.name}'s "
            f"{instance.startup_ebs_mibps:.0f} MiB/s EBS bandwidth; weights load at the instance's rate, so "
            "the extra throughput is paid for but unused"
        )
    return warnings
