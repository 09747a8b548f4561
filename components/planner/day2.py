"""What day 2 costs a model, stated at plan time: a persistent spot host's stopped time, a cache too small for a
second revision of the weights. Pure: no Pulumi."""

from __future__ import annotations

import math

from ..catalog import InstanceType
from ..config.sections import CacheConfig, ModelConfig
from .cost import COMPILE_CACHE_GIB, cache_throughput_mibps, host_volumes_monthly_usd
from .memory import GIB


def day2_warnings(
    model: ModelConfig,
    instance: InstanceType,
    cache: CacheConfig,
    cache_size: int,
    weight_bytes: float,
    *,
    root_gib: int,
) -> list[str]:
    """What day 2 costs: a persistent spot host's stopped time, and a cache too small for a second revision."""
    warnings = []
    if model.spot:
        stopped_usd = host_volumes_monthly_usd(cache, cache_size, cache_throughput_mibps(cache, instance), root_gib)
        # EC2 User Guide (stop-spot-instances.md, spot-requests.md): a stopped Spot Instance is charged for its
        # EBS volumes only, and a persistent request restarts it when capacity returns in its zone.
        warnings.append(
            f"{model.name}: spot hosts use a persistent request that stops on interruption, so EC2 restarts the same "
            f"host (instance, cache, containers) when {instance.name} capacity returns in its zone, with no limit on "
            f"how long that takes; while stopped each host still bills its volumes, "
            f"${stopped_usd:.0f}/month ({cache_size} GiB cache + {root_gib} "
            "GiB root). Each interruption is a warm restart (cold start from the cache)"
            + (", and with 1 replica the model is down until then" if model.replicas == 1 else "")
            + ". Costs are shown at spot prices (the highest recorded zone). Set spot: false for a model that must "
            "stay up" + (", or replicas: 2 or more." if model.replicas == 1 else ".")
        )
    # The Hugging Face cache keeps the old revision until it is deleted: a new one downloads beside it.
    second_revision_gib = 2 * weight_bytes / GIB + COMPILE_CACHE_GIB
    if cache_size < second_revision_gib:
        warnings.append(
            f"{model.name}: the {cache_size} GiB cache cannot hold a second revision of the weights "
            f"({2 * weight_bytes / GIB:.0f} GiB for two copies + {COMPILE_CACHE_GIB} GiB of compile caches): a "
            f"revision upgrade would fail on a full disk. Set cache.sizeGib to at least "
            f"{math.ceil(second_revision_gib)} or 'auto'"
        )
    return warnings


__all__ = ["day2_warnings"]
