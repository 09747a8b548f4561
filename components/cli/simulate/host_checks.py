"""EC2 host rules the simulator checks: spot instances that cannot stop, AZ-bound volumes, user data that a
stop/start does not apply, volumes that cannot shrink."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from .blocker import Blocker
from .engine import EngineRun
from .plan_model import Resource
from .provider_rules import INSTANCE, VOLUME
from .provider_rules import VOLUME_ATTACHMENT as ATTACHMENT


def _one_time_spot(instance: Resource) -> bool:
    market = instance.inputs.get("instanceMarketOptions") or {}
    spot = market.get("spotOptions") or {}
    return market.get("marketType") == "spot" and spot.get("spotInstanceType") != "persistent"


_SPOT_SOURCE = (
    "EC2 StopInstances: 'UnsupportedOperation: You can't stop the Spot Instance ... because it is associated with "
    "a one-time Spot Instance request' (observed: gitlab-runner#28865); "
)
_SPOT_FIX = "use a persistent spot request (`spotInstanceType: persistent`, interruption `stop`) or on-demand"


def spot_stops(run: EngineRun) -> Iterator[Blocker]:
    for urn, decision in run.decisions.items():
        new = run.new[urn]
        if (
            new.type == INSTANCE
            and decision.op == "stop-start"
            and decision.old
            and _one_time_spot(run.old[decision.old])
        ):
            yield Blocker(
                new.name,
                new.type,
                "UnsupportedOperation",
                f"UnsupportedOperation: {', '.join(decision.reasons)} is applied by stopping and starting the "
                "instance, and a one-time spot instance cannot be stopped",
                _SPOT_SOURCE + "pulumi_aws ec2/instance.py (stop/start)",
                _SPOT_FIX,
            )
    for step in run.steps:
        if step.op not in ("delete", "delete-replaced") or step.urn not in run.old:
            continue
        attachment = run.old[step.urn]
        if attachment.type != ATTACHMENT or attachment.inputs.get("stopInstanceBeforeDetaching") is not True:
            continue
        if attachment.inputs.get("skipDestroy") is True:
            continue
        for instance_urn in attachment.property_dependencies.get("instanceId", frozenset()):
            instance = run.old.get(instance_urn)
            if instance is not None and _one_time_spot(instance):
                yield Blocker(
                    attachment.name,
                    attachment.type,
                    "UnsupportedOperation",
                    f"UnsupportedOperation: deleting the attachment stops `{instance.name}` first "
                    "(stop_instance_before_detaching), and a one-time spot instance cannot be stopped: the host "
                    "can be neither replaced nor destroyed",
                    _SPOT_SOURCE
                    + "terraform-provider-aws ec2/ebs_volume_attachment.go (stop_instance_before_detaching: "
                    "StopInstances)",
                    f"{_SPOT_FIX}, or do not stop spot hosts before detaching (unmount in the guest instead)",
                )


def zone_mismatch(run: EngineRun) -> Iterator[Blocker]:
    for urn, decision in run.decisions.items():
        attachment = run.new[urn]
        if attachment.type != ATTACHMENT or decision.op not in ("create", "replace"):
            continue
        instance_zone = _zone(run, attachment, "instanceId", INSTANCE)
        volume_zone = _zone(run, attachment, "volumeId", VOLUME)
        if instance_zone and volume_zone and instance_zone != volume_zone:
            yield Blocker(
                attachment.name,
                attachment.type,
                "InvalidVolume.ZoneMismatch",
                f"InvalidVolume.ZoneMismatch: the instance is in {instance_zone} and the volume stays in "
                f"{volume_zone} (its availabilityZone is ignored or unchanged), and a volume attaches only to an "
                "instance in its own AZ",
                "AWS AttachVolume: 'The volume and instance must be within the same Availability Zone' (error code "
                "NOT VERIFIED)",
                "keep each replica in the AZ of its cache volume (placement must not move existing replicas)",
            )


def _zone(run: EngineRun, resource: Resource, input_name: str, type_: str) -> str | None:
    """The AZ of the instance or volume an input points at, as it will physically be after this run."""
    for urn in resource.property_dependencies.get(input_name, frozenset()):
        target = run.new.get(urn)
        if target is None or target.type != type_:
            continue
        decision = run.decisions[urn]
        if decision.op in ("create", "replace") or not decision.old:
            return str(target.inputs.get("availabilityZone") or "") or None
        return str(run.old[decision.old].inputs.get("availabilityZone") or "") or None
    return None


def user_data_in_place(run: EngineRun) -> Iterator[Blocker]:
    for urn, decision in run.decisions.items():
        new = run.new[urn]
        changed = [r for r in decision.reasons if re.match(r"userData(Base64)?\b", r)]
        if new.type != INSTANCE or decision.op != "stop-start" or not changed:
            continue
        yield Blocker(
            new.name,
            new.type,
            "UserDataNotApplied",
            "UserDataNotApplied: the new user data is applied by stopping and starting the instance, and cloud-init "
            "runs user data (write_files, runcmd, ssh_authorized_keys) only at an instance's first boot: the new "
            "bootstrap never runs on this host",
            "pulumi_aws ec2/instance.py user_data ('trigger a stop/start ... by default'); cloud-init "
            "cloudinit/config/cc_{write_files,runcmd,ssh,scripts_user}.py: frequency PER_INSTANCE",
            "set `user_data_replace_on_change=True` on the instance (a new host runs the new bootstrap and the "
            "cache re-attaches), or `pulumi up --replace` each host in turn",
        )


# Where each type keeps an EBS size that the provider changes in place (ModifyVolume), not by replacement.
_VOLUME_SIZES = {INSTANCE: ("rootBlockDevice", "volumeSize"), VOLUME: ("size",)}


def volume_shrinks(run: EngineRun) -> Iterator[Blocker]:
    """A smaller root or cache volume: the provider calls ModifyVolume in place, and EBS only grows volumes."""
    for urn, decision in run.decisions.items():
        new = run.new[urn]
        path = _VOLUME_SIZES.get(new.type)
        if path is None or decision.op not in ("update", "stop-start") or not decision.old:
            continue
        before, after = _at(run.old[decision.old].inputs, path), _at(new.inputs, path)
        # Numbers arrive as floats (protobuf Struct values in the plan JSON).
        if isinstance(before, int | float) and isinstance(after, int | float) and after < before:
            before, after = round(before), round(after)
            fix = (
                f"keep rootVolumeGib at {before} or more, or give the hosts the smaller root by replacing them "
                "(`pulumi up --replace` each instance; its cache re-attaches)"
                if new.type == INSTANCE
                else f"keep cache.sizeGib at {before} or more: a smaller cache would be a new volume, without the "
                "weights"
            )
            yield Blocker(
                new.name,
                new.type,
                "InvalidParameterValue",
                f"InvalidParameterValue: the volume would shrink from {before} to {after} GiB, and EBS "
                "volumes only grow (ModifyVolume)",
                "botocore 1.43.11 ec2 service-2.json ModifyVolumeRequest.Size: 'The target volume size must be "
                "greater than or equal to the existing size of the volume' (error code NOT VERIFIED)",
                fix,
            )


def _at(inputs: object, path: tuple[str, ...]) -> object:
    for key in path:
        inputs = inputs.get(key) if isinstance(inputs, Mapping) else None
    return inputs
