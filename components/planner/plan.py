"""Planning: one model (:func:`plan_model`) or a whole stack (:func:`plan_stack`), before anything is created.

Pure functions over the catalogs and the config; no Pulumi. One model is planned the same way wherever it is
configured: in a vllm-aws stack (``models[i]``), by ``VllmDeployment``, the component provider or another
project (``examples/extra-model``); only the key paths in the messages differ, and they come from a prefix.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .. import catalog
from ..catalog import InstanceType, ModelSpec, aws_instances, cuda
from ..catalog.aws_instances import Price
from ..catalog.registry import DigestResolver, default_resolver
from ..config.schema import PartialConfigError, StackConfig
from ..config.sections import ModelConfig
from ..errors import ConfigError, ConfigIssue, KeyPaths, KeyPrefix, did_you_mean, format_value, key_path
from ..serving.images import ImagePin, pin_images, stack_images
from .checks import (
    BF16_MIN_CC,
    FP8_MIN_CC,
    instance_issues,
    model_level_issues,
    model_warnings,
    no_fit_issue,
    one_tensor_parallel_issue,
)
from .choice import choose
from .cold_start import ColdStart, cold_start
from .context import PlanContext
from .cost import (
    COMPILE_CACHE_GIB,
    HOURS_PER_MONTH,
    cache_size_gib,
    cache_throughput_mibps,
    host_price,
    model_hourly_usd,
    recommended_cache_gib,
    stack_hourly_usd,
)
from .day2 import day2_warnings
from .memory import GIB, MemoryFit, ServingSettings, fit_memory, model_weights, resolve_settings, weight_format
from .model_spec import resolve_model_spec
from .root_disk import root_volume_warning


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
    cache_throughput_mibps: int
    cold_start: ColdStart
    hourly_usd: float | None
    warnings: tuple[str, ...]
    price: Price | None = None
    """The instance type's hourly price in the stack's region and market, with its source and date."""
    configured_revision: str | None = None
    """``revision`` as configured; ``config.revision`` is the commit sha it resolved to when the Hub was read."""

    @property
    def shape_source(self) -> str:
        """Where the model's shape came from (Hub, disk cache, bundled snapshot, a config.json, the catalog)."""
        return self.spec.source or "unknown"

    def summary(self) -> dict[str, object]:
        """What the stack's ``models`` output shows of the decision."""
        return {
            "id": self.config.id,
            "instanceType": self.instance.name,
            "tensorParallelSize": self.settings.tensor_parallel_size,
            "replicas": self.config.replicas,
            "maxModelLen": self.memory.max_model_len,
            "kvCacheTokens": self.memory.kv_cache_tokens,
        }


@dataclass(frozen=True)
class StackPlan:
    config: StackConfig
    models: tuple[ModelPlan, ...]
    hourly_usd: float
    warnings: tuple[str, ...]
    lower_bound: bool = False
    """True when a model has no price: ``hourly_usd`` is the priced part only."""
    images: tuple[ImagePin, ...] = ()
    """Every image the stack runs, pinned by tag or (``pinImagesByDigest``) by the digest resolved for it."""

    @property
    def monthly_usd(self) -> float:
        return self.hourly_usd * HOURS_PER_MONTH

    def stack_outputs(self) -> dict[str, object]:
        """The stack outputs of the decision: each model's ``summary()``, and the estimate when every price is
        known."""
        outputs: dict[str, object] = {"models": {model.config.name: model.summary() for model in self.models}}
        if not self.lower_bound:
            outputs["estimatedMonthlyUsd"] = round(self.monthly_usd, 2)
        return outputs


class StackPlanError(ConfigError):
    """Bad input, and what could still be checked: the config the planner ran on (``config``: without the bad keys
    and models) and the models it planned (``planned``: each with its index in the user's list).

    The preview's AWS lookups (network, GPUs, quotas; :mod:`components.stack_checks`) check those too, so one run
    reports the config's, the models' and the lookups' problems together.
    """

    def __init__(
        self, issues: Sequence[ConfigIssue], config: StackConfig, planned: Sequence[tuple[int, ModelPlan]]
    ) -> None:
        super().__init__(issues)
        self.config = config
        self.planned = tuple(planned)


def plan_config(parse: Callable[[], StackConfig]) -> StackPlan:
    """Parse the config and plan it; raise :class:`ConfigError` listing every problem of both in one run.

    A bad key does not hide the models' problems: the planner checks the config without the bad keys and models
    (:class:`~components.config.schema.PartialConfigError`), and says nothing where its check could not run.
    The error is a :class:`StackPlanError` (with what was planned) whenever the planner could run.
    """
    try:
        return plan_stack(parse())
    except PartialConfigError as error:
        if error.config is None:
            raise
        reported = {issue.path for issue in error.issues}
        # A rejected key (cache, hfToken) was planned at its default: the planner's problems with it would be about
        # a value the user did not write. Model keys are not: a rejected model is not planned at all.
        rejected = {_top_key(issue.path) for issue in error.issues} - {"models"}
        try:
            partial = plan_stack(error.config, error.model_indexes)
        except StackPlanError as planned:
            more = [
                issue for issue in planned.issues if issue.path not in reported and _top_key(issue.path) not in rejected
            ]
            raise StackPlanError([*error.issues, *more], error.config, planned.planned) from None
        raise StackPlanError(
            error.issues, error.config, tuple(zip(error.model_indexes, partial.models, strict=True))
        ) from None


def _top_key(path: str) -> str:
    """``vllm-aws:cache.sizeGib`` -> ``cache``; ``vllm-aws:models[1].dtype`` -> ``models``."""
    return path.partition(":")[2].split(".")[0].split("[")[0]


def plan_stack(
    config: StackConfig, model_indexes: Sequence[int] | None = None, resolver: DigestResolver | None = None
) -> StackPlan:
    """Plan every model; raise :class:`ConfigError` listing every problem before anything is created.

    ``model_indexes``: each model's index in the user's list when ``config`` holds only some of them.
    ``resolver``: resolves image digests with ``pinImagesByDigest`` (default: the registries, online unless
    ``VLLM_AWS_REGISTRY_OFFLINE`` is set).
    """
    context = PlanContext.of_stack(config)
    indexes = range(len(config.models)) if model_indexes is None else model_indexes
    issues: list[ConfigIssue] = []
    planned: list[tuple[int, ModelPlan]] = []
    for index, model in zip(indexes, config.models, strict=True):
        try:
            planned.append((index, plan_model(model, context, ("models", index))))
        except ConfigError as error:
            issues.extend(error.issues)
    if issues:
        raise StackPlanError(issues, config, planned)
    plans = [plan for _index, plan in planned]

    warnings: list[str] = []
    if config.load_balancer.allow_plain_http:
        warnings.append(
            "INSECURE: loadBalancer.allowPlainHttp is set, so the endpoint is plain HTTP: the API key and every "
            "prompt cross the network unencrypted. For HTTPS, set loadBalancer.domain and loadBalancer.hostedZoneId "
            "(or certificateArn) instead."
        )
    warnings.extend(cuda.plan_warnings(config.image, config.ami_id))
    if root_warning := root_volume_warning(context.root_volume_gib):
        warnings.append(root_warning)
    if config.kms_key.enabled:
        warnings.append(kms_key_warning(plans, dedicated_monitoring=config.monitoring.placement == "dedicated"))
    images = _stack_image_pins(config, resolver)
    unresolved = [pin.image for pin in images if pin.source == "unresolved"]
    if unresolved:
        warnings.append(
            f"pinImagesByDigest: no digest for {', '.join(unresolved)} (the registry did not answer and none was "
            "read before), so the hosts pull them by tag; run preview and up where the registries are reachable"
        )
    hourly, lower_bound = stack_hourly_usd([plan.hourly_usd for plan in plans], config.monitoring, warnings)
    if lower_bound:
        warnings.append(
            "the cost total is a lower bound: it leaves out "
            + ", ".join(f"{p.config.name} ({p.instance.name})" for p in plans if p.hourly_usd is None)
            + f", which no source prices in {config.region}"
        )
    return StackPlan(
        config=config,
        models=tuple(plans),
        hourly_usd=hourly,
        warnings=tuple(warnings),
        lower_bound=lower_bound,
        images=images,
    )


def _stack_image_pins(config: StackConfig, resolver: DigestResolver | None) -> tuple[ImagePin, ...]:
    monitoring = config.monitoring
    images = stack_images(config.image, monitoring=monitoring.enabled, grafana=monitoring.grafana)
    if config.pin_images_by_digest and resolver is None:
        resolver = default_resolver()
    return pin_images(images, by_digest=config.pin_images_by_digest, resolver=resolver)


def plan_model(model: ModelConfig, context: PlanContext, key_prefix: KeyPrefix) -> ModelPlan:
    """Size and check one model; raise :class:`ConfigError` whose key paths start with ``key_prefix``.

    ``key_prefix`` is where the model is configured: ``("models", 1)`` in a vllm-aws stack, ``("model",)`` as
    another project's key or a component's input (with ``context.namespace`` set accordingly).
    """
    keys = KeyPaths(key_prefix, context.namespace)
    spec = resolve_model_spec(keys, model, context)
    if isinstance(spec, ConfigIssue):
        raise ConfigError([spec])
    configured_revision = model.revision
    if model.quantization is not None and model.quantization == spec.quantization:
        # vLLM reads the method from the checkpoint and picks its fastest kernel (Marlin for AWQ/GPTQ): passing it
        # again changes nothing in 0.33 (VLLM_SIZING.md §3.3), so the served arguments leave it out.
        model = model.model_copy(update={"quantization": None})
    resolved_sha = spec.shape.provenance.sha if spec.shape is not None else None
    if resolved_sha is not None and model.revision != resolved_sha:
        # Every replica serves the commit the plan sized (vLLM --revision <sha>, the warm marker keyed by it),
        # even if the branch moves before a host is replaced.
        model = model.model_copy(update={"revision": resolved_sha})
    issues = model_level_issues(keys, model, spec, context)
    host_cuda = cuda.driver_requirement(context.image)

    instance_reason: str
    planner_chose = model.instance_type is None
    if model.instance_type is not None:
        instance = catalog.instance_types().get(model.instance_type)
        record = aws_instances.instance_catalog().get(model.instance_type)
        if instance is None and record is not None and record.unplannable_reason is not None:
            issues.append(
                ConfigIssue(
                    keys("instanceType"),
                    model.instance_type,
                    f"cannot be planned: {record.unplannable_reason}",
                    "use an x86_64 type with whole GPUs, or remove it to let the planner choose",
                )
            )
            raise ConfigError(issues)
        if instance is None:
            hint = did_you_mean(model.instance_type, catalog.instance_types())
            issues.append(
                ConfigIssue(
                    keys("instanceType"),
                    model.instance_type,
                    "is not a GPU instance type in the catalog",
                    f"did you mean '{hint}'?"
                    if hint
                    else f"use one of {', '.join(catalog.instance_types())}, or remove it to let the planner choose",
                )
            )
            raise ConfigError(issues)
        instance_reason = "set in config"
        issues = one_tensor_parallel_issue(
            keys, issues + instance_issues(keys, model, spec, instance, host_cuda), spec, instance
        )
    else:
        if _blocks_sizing(keys, issues):
            raise ConfigError(issues)
        chosen = choose(keys, model, spec, host_cuda, context.region)
        if isinstance(chosen, ConfigIssue):
            raise ConfigError([*issues, _with_defaults_named(chosen, model, spec)])
        choice, instance_reason = chosen
        instance, model = choice.instance, choice.model(model)
    if _blocks_sizing(keys, issues):
        raise ConfigError(issues)

    if model.dtype == "auto" and spec.default_dtype == "bfloat16" and instance.gpu.compute_capability < BF16_MIN_CC:
        # A fact, not a warning: vLLM picks float16 itself, and setting it changes nothing.
        instance_reason += f"; runs {spec.id} in float16 ({instance.gpu.name} has no bfloat16)"
    # Independent checks: a missing token or a bad extraArgs does not hide that the weights do not fit.
    settings = resolve_settings(model, spec, instance)
    memory = fit_memory(spec, instance.gpu, settings)
    if not memory.fits:
        issues.append(no_fit_issue(keys, model, spec, instance, memory))
    # The disk, the download and the load are the checkpoint's bytes (the 16-bit ones under online FP8).
    total_bytes = model_weights(spec, settings, instance.gpu.compute_capability).download
    cache_size = cache_size_gib(context.cache, total_bytes)
    if cache_size < total_bytes / GIB + COMPILE_CACHE_GIB:
        issues.append(
            ConfigIssue(
                key_path((*context.cache_key, "sizeGib"), namespace=context.namespace),
                context.cache.size_gib,
                f"cannot hold the {total_bytes / GIB:.0f} GiB of weights of {model.name} plus compile caches",
                f"set it to at least {recommended_cache_gib(total_bytes)}, or 'auto'",
            )
        )
    if issues:
        raise ConfigError(issues)
    throughput = cache_throughput_mibps(context.cache, instance)
    start = cold_start(total_bytes, instance, settings.tensor_parallel_size, throughput)
    warnings = model_warnings(model, spec, instance, memory, context.cache, planner_chose=planner_chose)
    if planner_chose and weight_format(model, spec) == "fp8" and instance.gpu.compute_capability < FP8_MIN_CC:
        instance_reason += (
            f"; {instance.gpu.name} has no FP8 compute, so vLLM runs the FP8 weights weight-only (Marlin W8A16), "
            "slower than native FP8 (set instanceType to a g6, g6e or p5 type for native FP8)"
        )
    warnings += day2_warnings(model, instance, context.cache, cache_size, total_bytes, root_gib=context.root_volume_gib)
    price = host_price(instance.name, context.region, model.spot)
    hourly = model_hourly_usd(
        price, context.cache, cache_size, throughput, hosts_for(model), root_gib=context.root_volume_gib
    )
    if price is None:
        market = "spot" if model.spot else "on-demand"
        warnings.append(f"{model.name}: no {market} price for {instance.name} in {context.region}; not in the totals")
    elif price.stale and price.note:
        # A fact about the price source, with nothing to act on: in the reason, not a warning.
        instance_reason += f"; its price in {context.region} {price.note}, so its cost may be above today's"
    return ModelPlan(
        config=model,
        spec=spec,
        instance=instance,
        instance_reason=instance_reason,
        settings=settings,
        memory=memory,
        cache_size_gib=cache_size,
        cache_throughput_mibps=throughput,
        cold_start=start,
        hourly_usd=hourly,
        warnings=tuple(warnings),
        price=price,
        configured_revision=configured_revision,
    )


def _with_defaults_named(issue: ConfigIssue, model: ModelConfig, spec: ModelSpec) -> ConfigIssue:
    """The nothing-fits issue, saying which of the values it was judged at the user did not set."""
    parts = [
        f"got {format_value(model.tensor_parallel_size)}"
        if "tensor_parallel_size" in model.model_fields_set
        else "not set"
    ]
    if model.max_model_len is None:
        parts.append(f"maxModelLen not set: the model's own {spec.max_position_embeddings:,}")
    return dataclasses.replace(issue, origin="; ".join(parts))


# Keys whose problems make the sizing meaningless: a fit computed from them would be a misleading message.
_SIZING_KEYS = ("id", "tensorParallelSize", "maxModelLen", "quantization", "instanceType", "architecture")


def _blocks_sizing(keys: KeyPaths, issues: Sequence[ConfigIssue]) -> bool:
    sizing = {keys(key) for key in _SIZING_KEYS}
    return any(issue.path in sizing or issue.path.startswith(keys("architecture")) for issue in issues)


def hosts_for(model: ModelConfig) -> int:
    """GPU hosts a model needs: its replicas, ``replicasPerHost`` to a host."""
    return math.ceil(model.replicas / model.replicas_per_host)


def kms_key_warning(plans: list[ModelPlan], *, dedicated_monitoring: bool) -> str:
    """What ``kmsKey.enabled`` does to a stack deployed without it: the root volumes' key is force-new (every host
    is replaced), the cache volumes ignore it (they keep their weights and their old key)."""
    hosts = sum(hosts_for(plan.config) for plan in plans) + (1 if dedicated_monitoring else 0)
    back = ", ".join(f"{p.config.name} ~{p.cold_start.host_replacement_seconds / 60:.0f} min" for p in plans)
    moves = ", ".join(
        f"{p.config.name} {model_weights(p.spec, p.settings, p.instance.gpu.compute_capability).download / GIB:.0f} "
        f"GiB, ~{p.cold_start.container_first_start_seconds / 60:.0f} min"
        for p in plans
    )
    return (
        f"kmsKey.enabled: on a stack deployed without the key, the next `pulumi up` replaces all {hosts} hosts (a "
        f"root volume's key cannot change in place), each serving again after boot, image pull and a load from its "
        f"kept cache ({back}). Existing cache volumes keep their weights and the AWS managed key; only new ones use "
        f"the stack's key. Moving one to the key means replacing it (`pulumi up --replace <its volume URN>`) and "
        f"downloading the weights again, per replica: {moves}."
    )
