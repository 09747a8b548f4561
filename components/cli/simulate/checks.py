"""Blockers: steps of a simulated ``pulumi up`` that AWS, Docker or the engine will refuse, or that leave the
stack broken. Each names the resource, the reason (with the error or rule), its source and a fix.
"""

from __future__ import annotations

from collections.abc import Iterator

from .blocker import Blocker
from .claims import uniqueness
from .engine import DBR, EngineRun
from .host_checks import spot_stops, user_data_in_place, volume_shrinks, zone_mismatch
from .local_effects import local_side_effects
from .plan_model import Resource
from .provider_rules import LOAD_BALANCER

__all__ = ["Blocker", "blockers"]

_IN_USE_ON_DELETE = {
    "aws:ec2/securityGroup:SecurityGroup": ("DependencyViolation", "botocore ec2 DeleteSecurityGroup"),
    "aws:lb/targetGroup:TargetGroup": ("ResourceInUse", "botocore elbv2 DeleteTargetGroup"),
}


def blockers(run: EngineRun, *, fresh_runner: bool = False) -> list[Blocker]:
    found = [
        *uniqueness(run),
        *_protected(run),
        *spot_stops(run),
        *zone_mismatch(run),
        *user_data_in_place(run),
        *volume_shrinks(run),
        *_deleted_while_in_use(run),
        *_deletion_protected(run),
        *local_side_effects(run, fresh_runner=fresh_runner),
    ]
    unique: dict[tuple[str, str, str], Blocker] = {}
    for blocker in found:
        unique.setdefault((blocker.resource, blocker.code, blocker.reason), blocker)
    return list(unique.values())


# --- engine rules -------------------------------------------------------------------------------------------


def _protected(run: EngineRun) -> Iterator[Blocker]:
    source = "pulumi/pulumi step_generator.go (replace of a protected resource), step.go deleteProtectedError"
    fix = "set `protect=False` and run `pulumi up` first, or `pulumi state unprotect <urn>`"
    for urn, decision in run.decisions.items():
        if decision.op == "replace" and decision.old and run.old[decision.old].protect and run.new[urn].protect:
            yield Blocker(
                run.new[urn].name,
                run.new[urn].type,
                "Protected",
                "a protected resource cannot be replaced",
                source,
                fix,
            )
    for urn in run.matching.deleted:
        if run.old[urn].protect:
            old = run.old[urn]
            yield Blocker(old.name, old.type, "Protected", "a protected resource cannot be deleted", source, fix)


def _deletion_protected(run: EngineRun) -> Iterator[Blocker]:
    """An ALB with deletion protection cannot be deleted, neither removed nor as the old half of a replacement.

    The old half of a replacement keeps its old attributes: disabling protection in the same change only reaches
    the new load balancer, so the old one must be unprotected by an `up` of its own first.
    """
    for step in run.steps:
        if step.op not in ("delete", "delete-replaced") or step.skipped or step.urn not in run.old:
            continue
        old = run.old[step.urn]
        if old.type == LOAD_BALANCER and old.inputs.get("enableDeletionProtection") is True:
            yield Blocker(
                old.name,
                old.type,
                "OperationNotPermitted",
                f"OperationNotPermitted: the change {'replaces' if step.op == 'delete-replaced' else 'removes'} "
                "a load balancer whose deletion protection is on, and DeleteLoadBalancer refuses it",
                "botocore elbv2 DeleteLoadBalancer: 'You can't delete a load balancer if deletion protection is "
                "enabled' (OperationNotPermittedException)",
                "set loadBalancer.deletionProtection: false and run `pulumi up` on its own first, then this change",
            )


def _deleted_while_in_use(run: EngineRun) -> Iterator[Blocker]:
    for urn, decision in run.decisions.items():
        new = run.new[urn]
        if new.type not in _IN_USE_ON_DELETE or decision.op != "replace" or decision.mode != DBR or decision.chained_to:
            continue
        chain = {u for u, d in run.decisions.items() if d.chained_to == urn}
        users = sorted(
            run.new[u].name
            for u, d in run.decisions.items()
            if u not in chain and u != urn and d.op != "create" and urn in _all_deps(run.new[u])
        )
        if users:
            code, source = _IN_USE_ON_DELETE[new.type]
            yield Blocker(
                new.name,
                new.type,
                code,
                f"{code}: delete-before-replace deletes it while {', '.join(f'`{u}`' for u in users)} still use it "
                "(they move to the replacement only when they register, after the delete)",
                f"{source}; pulumi/pulumi step_generator.go calculateDependentReplacements",
                "let it be replaced create-before-delete (leave `name` unset, no `delete_before_replace`)",
            )


def _all_deps(resource: Resource) -> frozenset[str]:
    return (
        frozenset().union(*resource.property_dependencies.values()) if resource.property_dependencies else frozenset()
    )
