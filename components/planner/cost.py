"""Cache size and cost: the model cache volume each host gets, and what hosts, volumes and the ALB cost per hour."""

from __future__ import annotations

import math
from collections.abc import Sequence

from ..catalog import InstanceType
from ..catalog.aws_instances import Price, instance_price
from ..config.sections import GP3_MAX_MIBPS, GP3_MIN_MIBPS, CacheConfig, MonitoringConfig
from .memory import GIB

HOURS_PER_MONTH = 730
# Prices (us-east-1, approximate; docs/sizing.md): gp3 storage, IOPS and throughput above the baseline, ALB.
GP3_USD_PER_GIB_MONTH = 0.08
GP3_USD_PER_IOPS_MONTH = 0.005
GP3_USD_PER_MIBPS_MONTH = 0.04
GP3_FREE_IOPS = 3000
GP3_FREE_MIBPS = GP3_MIN_MIBPS
GP3_MAX_IOPS_PER_GIB = 500
ALB_USD_PER_HOUR = 0.0225 + 0.008  # hourly charge plus one LCU
COMPILE_CACHE_GIB = 10  # torch.compile and CUDA graph caches beside the weights on the cache volume
MONITORING_VOLUME_GIB = 50  # Prometheus TSDB and Grafana data
MONITORING_ROOT_VOLUME_GIB = 30  # Amazon Linux + Docker + the Prometheus/Grafana images
MONITORING_HOURLY_USD = {"t3.medium": 0.0416, "t3.large": 0.0832, "t3.xlarge": 0.1664, "m6i.large": 0.096}


def cache_throughput_mibps(cache: CacheConfig, instance: InstanceType) -> int:
    """The cache volume's gp3 throughput: as configured, else what the instance can read at start-up (its EBS
    burst bandwidth, the catalog's ``startup_ebs_mibps``), at most gp3's 2000 MiB/s and the IOPS' 0.25 MiB/s per IOPS.

    Throughput above the instance's bandwidth is paid for ($0.04 per MiB/s-month above 125) and never used.
    """
    if cache.throughput_mibps is not None:
        return cache.throughput_mibps
    return max(GP3_MIN_MIBPS, min(math.floor(instance.startup_ebs_mibps), GP3_MAX_MIBPS, cache.iops // 4))


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


def host_volumes_monthly_usd(cache: CacheConfig, cache_size: int, throughput_mibps: int, root_gib: int) -> float:
    """A host's cache and root volumes; also all a stopped host bills (EC2 bills no instance hours while stopped)."""
    return ebs_monthly_usd(cache_size, cache.iops, throughput_mibps) + ebs_monthly_usd(root_gib, 3000, 125)


def cache_size_gib(cache: CacheConfig, weights_bytes: float) -> int:
    """The configured size, or (``auto``) room for the weights twice, grown to carry the configured IOPS."""
    return (
        cache.size_gib
        if isinstance(cache.size_gib, int)
        # gp3 allows 500 IOPS per GiB: an auto-sized volume grows to carry the configured IOPS.
        else max(recommended_cache_gib(weights_bytes), math.ceil(cache.iops / GP3_MAX_IOPS_PER_GIB))
    )


def host_price(instance_type: str, region: str, spot: bool) -> Price | None:
    """The type's hourly price in the stack's region: on-demand, or spot (the highest recorded zone: the plan does
    not know where a host lands) for spot deployments; None where no source prices it."""
    return instance_price(instance_type, region, "spot" if spot else "on-demand")


def model_hourly_usd(
    price: Price | None, cache: CacheConfig, cache_size: int, throughput_mibps: int, hosts: int, *, root_gib: int
) -> float | None:
    """Instances plus their cache and root volumes; None without an instance price."""
    if price is None:
        return None
    volumes = host_volumes_monthly_usd(cache, cache_size, throughput_mibps, root_gib)
    return (price.usd_per_hour + volumes / HOURS_PER_MONTH) * hosts


def stack_hourly_usd(
    model_costs: Sequence[float | None], monitoring: MonitoringConfig, warnings: list[str]
) -> tuple[float, bool]:
    """Every priced model, the ALB and a dedicated monitoring host, and whether it is only a lower bound (a model
    without a price is left out rather than blanking the total)."""
    lower_bound = any(cost is None for cost in model_costs)
    total = sum(cost for cost in model_costs if cost is not None) + ALB_USD_PER_HOUR
    if monitoring.enabled and monitoring.placement == "dedicated":
        monitoring_usd = MONITORING_HOURLY_USD.get(monitoring.instance_type)
        if monitoring_usd is None:
            warnings.append(f"no price for monitoring instance {monitoring.instance_type}; not in the cost total")
        else:
            volumes = ebs_monthly_usd(MONITORING_VOLUME_GIB, 3000, 125) + ebs_monthly_usd(
                MONITORING_ROOT_VOLUME_GIB, 3000, 125
            )
            total += monitoring_usd + volumes / HOURS_PER_MONTH
    return total, lower_bound
