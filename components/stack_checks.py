"""Everything a stack's preview can know before it registers a resource, with every problem in one run.

The config and the planner (:func:`~components.planner.plan.plan_config`), then what AWS says (invokes, answered
by the mock engine offline): the VPC and subnets, the zones that offer each planned type, the hosted zone, the
GPUs EC2 describes and the account's quotas. A bad subnet no longer waits for a second run behind the models'
problems: each lookup runs on what could be checked (the config without its bad sections, the models that were
planned), and a lookup whose input was rejected says nothing rather than judge a default the user did not choose.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

from .config.schema import StackConfig
from .errors import NAMESPACE, ConfigError, ConfigIssue, did_you_mean
from .network import lookup
from .network.placement import HostZones, Network
from .planner.plan import StackPlan, StackPlanError, hosts_for, plan_config
from .quotas import check as quota_check
from .quotas import instance_types
from .quotas.needs import QuotaNeed

_T = TypeVar("_T")


@dataclass(frozen=True)
class CheckedStack:
    """A stack that passed every check: the plan, and where everything goes."""

    plan: StackPlan
    network: Network
    placements: dict[str, HostZones]
    """Where each model's hosts may run, by model name."""
    load_balancer_subnets: tuple[str, ...]
    monitoring_zones: HostZones | None
    """Where the dedicated monitoring host may run (None: no dedicated host)."""
    quota_needs: tuple[QuotaNeed, ...]


def check_stack(parse: Callable[[], StackConfig]) -> CheckedStack:
    """Parse, plan and look up the stack; raise :class:`ConfigError` listing every problem of all of them."""
    issues: list[ConfigIssue] = []

    def collect(check: Callable[[], _T]) -> _T | None:
        try:
            return check()
        except ConfigError as error:
            issues.extend(error.issues)
            return None

    plan: StackPlan | None = None
    try:
        plan = plan_config(parse)
        config, planned = plan.config, tuple(enumerate(plan.models))
    except StackPlanError as error:
        issues.extend(error.issues)
        config, planned = error.config, error.planned
    # Otherwise (a ConfigError without a config) nothing else can be checked: it propagates as it is.
    rejected = _rejected_sections(issues)

    collect(lambda: instance_types.check_instance_types(planned))
    network = collect(lambda: lookup.lookup_network(config.network)) if "network" not in rejected else None
    placements: dict[str, HostZones] = {}
    lb_subnets: tuple[str, ...] | None = None
    monitoring_zones: HostZones | None = None
    monitoring = config.monitoring
    dedicated = monitoring.enabled and monitoring.placement == "dedicated" and "monitoring" not in rejected
    if network is not None:
        for index, model in planned:
            place = partial(lookup.place_model, index, model.instance.name, hosts_for(model.config), network)
            if (zones := collect(partial(place, config.network))) is not None:
                placements[model.config.name] = zones
        if "loadBalancer" not in rejected:
            lb_subnets = collect(
                lambda: lookup.load_balancer_subnets(network, config.network, config.load_balancer.internal)
            )
        if dedicated:
            monitoring_zones = collect(lambda: lookup.place_monitoring(monitoring.instance_type, network))
    if "loadBalancer" not in rejected:
        collect(lambda: lookup.check_hosted_zone(config.load_balancer))
    # The quotas add up the whole stack: with a model missing, their check cannot run.
    quota_needs = collect(lambda: quota_check.check_stack_quotas(config, plan)) if plan is not None else None
    if issues:
        raise ConfigError(issues)
    # Without a problem, every check ran and answered.
    assert plan is not None and network is not None and lb_subnets is not None and quota_needs is not None
    return CheckedStack(
        plan=plan,
        network=network,
        placements=placements,
        load_balancer_subnets=lb_subnets,
        monitoring_zones=monitoring_zones if dedicated else None,
        quota_needs=quota_needs,
    )


# The top-level keys, as the config spells them, that name a section a lookup reads.
_SECTIONS = ("network", "loadBalancer", "monitoring")


def _rejected_sections(issues: list[ConfigIssue]) -> set[str]:
    """The sections with a problem, including one misspelled at the top level (``netwrok``): the config then holds
    that section's default, which is not what the user wrote."""
    rejected: set[str] = set()
    for issue in issues:
        top = issue.path.removeprefix(f"{NAMESPACE}:").split(".")[0].split("[")[0]
        section = top if top in _SECTIONS else did_you_mean(top, _SECTIONS)
        if section is not None:
            rejected.add(section)
    return rejected
