"""Choosing the instance type, the tensor-parallel size and the replicas per host: the cheapest way to run the
requested replicas where the model passes the checks and fits (issue #12: never an 8-GPU host at TP 1 for one
replica because only the TP the config defaulted to was tried)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .. import catalog
from ..catalog import InstanceType, ModelSpec
from ..catalog.cuda import DriverRequirement
from ..config.sections import MAX_SERVERS_PER_HOST, ModelConfig
from ..errors import ConfigIssue, KeyPaths
from .checks import instance_issues, sequences
from .cost import host_price
from .memory import MemoryFit, fit_memory, resolve_settings

TP_SIZES = (1, 2, 4, 8)


@dataclass(frozen=True)
class Choice:
    """One way to serve the model's replicas: the type, the TP size, replicas per host, and their cost."""

    instance: InstanceType
    tensor_parallel_size: int
    replicas_per_host: int
    memory: MemoryFit
    hosts: int
    hourly_usd: float
    replicas: int

    @property
    def idle_gpus(self) -> int:
        return self.hosts * self.instance.gpu_count - self.replicas * self.tensor_parallel_size

    def model(self, model: ModelConfig) -> ModelConfig:
        """The model config as chosen (what vLLM gets and how many hosts are made)."""
        return model.model_copy(
            update={"tensor_parallel_size": self.tensor_parallel_size, "replicas_per_host": self.replicas_per_host}
        )


def tp_divides(spec: ModelSpec, tp: int) -> bool:
    """vLLM's head checks: TP divides the attention heads, and the KV heads (or is a multiple of them)."""
    kv = spec.num_key_value_heads
    return spec.num_attention_heads % tp == 0 and (kv % tp == 0 if kv >= tp else tp % kv == 0)


def candidates(
    model: ModelConfig, spec: ModelSpec, host_cuda: DriverRequirement | None, tp_sizes: tuple[int, ...], region: str
) -> list[Choice]:
    """Every priced (type, TP, replicas per host) that passes the checks and fits, cheapest first for the
    requested replicas (ties: more KV tokens, then fewer GPUs)."""
    free_per_host = "replicas_per_host" not in model.model_fields_set
    found: list[Choice] = []
    for tp in tp_sizes:
        if not tp_divides(spec, tp):
            continue
        at_tp = model.model_copy(update={"tensor_parallel_size": tp, "replicas_per_host": 1})
        for instance in catalog.instance_types().values():
            price = host_price(instance.name, region, model.spot)
            if price is None or tp > instance.gpu_count:
                continue
            most = min(instance.gpu_count // tp, MAX_SERVERS_PER_HOST, model.replicas)
            per_host_options = range(1, most + 1) if free_per_host else (model.replicas_per_host,)
            if any(per_host > most for per_host in per_host_options):
                continue
            if instance_issues(KeyPaths(), at_tp, spec, instance, host_cuda):
                continue
            memory = fit_memory(spec, instance.gpu, resolve_settings(at_tp, spec, instance))
            if not memory.fits:
                continue
            for per_host in per_host_options:
                hosts = math.ceil(model.replicas / per_host)
                found.append(Choice(instance, tp, per_host, memory, hosts, hosts * price.usd_per_hour, model.replicas))
    return sorted(found, key=lambda c: (round(c.hourly_usd, 4), -c.memory.kv_cache_tokens, c.idle_gpus))


def choose(
    keys: KeyPaths, model: ModelConfig, spec: ModelSpec, host_cuda: DriverRequirement | None, region: str
) -> tuple[Choice, str] | ConfigIssue:
    """The cheapest choice for the requested replicas, and why; the TP size is searched unless configured."""
    tp_free = "tensor_parallel_size" not in model.model_fields_set
    tp_sizes = TP_SIZES if tp_free else (model.tensor_parallel_size,)
    found = candidates(model, spec, host_cuda, tp_sizes, region)
    if not found:
        return _nothing_fits_issue(keys, model, spec, host_cuda, tp_free=tp_free, region=region)
    best = found[0]
    reason = (
        f"cheapest in {region}{' (spot)' if model.spot else ''} for {model.replicas} replica(s): "
        f"{best.hosts} x {best.instance.name} at "
        f"TP={best.tensor_parallel_size}, {best.replicas_per_host} per host, ${best.hourly_usd:.2f}/h; "
        f"{best.memory.kv_cache_tokens:,} KV tokens = {best.memory.max_concurrency:.1f}x "
        f"{sequences(model, best.memory.max_model_len)}"
        + (" (TP searched: 1, 2, 4, 8)" if tp_free else f" (TP {model.tensor_parallel_size} as configured)")
    )
    runner_up = next((c for c in found[1:] if c.instance.name != best.instance.name), None)
    if runner_up is not None:
        reason += (
            f"; next: {runner_up.instance.name} at TP={runner_up.tensor_parallel_size} (${runner_up.hourly_usd:.2f}/h)"
        )
    return best, reason


def _nothing_fits_issue(
    keys: KeyPaths,
    model: ModelConfig,
    spec: ModelSpec,
    host_cuda: DriverRequirement | None,
    *,
    tp_free: bool,
    region: str,
) -> ConfigIssue:
    if tp_free:
        fix = "lower maxModelLen, use kvCacheDtype: fp8, or a quantized checkpoint"
    else:
        # The cheapest fit over the other TP sizes, to name a concrete fix.
        others = candidates(
            model, spec, host_cuda, tuple(tp for tp in TP_SIZES if tp != model.tensor_parallel_size), region
        )
        fix = (
            f"set tensorParallelSize: {others[0].tensor_parallel_size} (cheapest fit: {others[0].instance.name}), "
            "or remove it to let the planner choose"
            if others
            else "lower maxModelLen, use kvCacheDtype: fp8, or a quantized checkpoint"
        )
    return ConfigIssue(
        keys("tensorParallelSize"),
        model.tensor_parallel_size,
        f"no priced catalog instance fits {spec.id} at "
        + ("any TP size" if tp_free else "this TP size")
        + f" with maxModelLen {model.max_model_len or spec.max_position_embeddings}",
        fix,
    )
