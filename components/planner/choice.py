"""Choosing the instance type: the cheapest priced catalog type where the model passes the checks and fits."""

from __future__ import annotations

from .. import catalog
from ..catalog import InstanceType, ModelSpec
from ..catalog.cuda import DriverRequirement
from ..config.sections import ModelConfig
from ..errors import ConfigIssue, KeyPaths
from .checks import instance_issues
from .memory import MemoryFit, fit_memory, resolve_settings


def fitting_instances(
    model: ModelConfig, spec: ModelSpec, host_cuda: DriverRequirement | None
) -> list[tuple[InstanceType, MemoryFit]]:
    """Priced catalog types that pass the GPU checks and fit the model, cheapest first (ties: more KV)."""
    fitting: list[tuple[InstanceType, MemoryFit]] = []
    for instance in catalog.instance_types().values():
        if instance.hourly_usd is None or instance_issues(KeyPaths(), model, spec, instance, host_cuda):
            continue
        memory = fit_memory(spec, instance.gpu, resolve_settings(model, spec, instance))
        if memory.fits:
            fitting.append((instance, memory))
    return sorted(fitting, key=lambda item: (item[0].hourly_usd or 0.0, -item[1].kv_cache_tokens))


def choose_instance(
    keys: KeyPaths, model: ModelConfig, spec: ModelSpec, host_cuda: DriverRequirement | None
) -> tuple[InstanceType, str] | ConfigIssue:
    """The cheapest priced catalog type where the model fits at its TP size, and why."""
    fitting = fitting_instances(model, spec, host_cuda)
    if not fitting:
        return _nothing_fits_issue(keys, model, spec, host_cuda)
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
    keys: KeyPaths, model: ModelConfig, spec: ModelSpec, host_cuda: DriverRequirement | None
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
        keys("tensorParallelSize"),
        model.tensor_parallel_size,
        f"no priced catalog instance fits {spec.id} at this TP size with maxModelLen "
        f"{model.max_model_len or spec.max_position_embeddings}",
        fix,
    )
