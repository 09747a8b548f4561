"""The preview-time cross-check of each planned instance type against EC2 itself.

The planner sizes on the catalog (``catalog/instances.json``, a snapshot of the EC2 API); at ``pulumi preview`` the
type's GPU count and per-GPU memory are read from the account's region with ``aws.ec2.get_instance_type`` (the
Terraform data source aws_ec2_instance_type: DescribeInstanceTypes' GpuInfo.Gpus count, manufacturer, name and
MemoryInfo.SizeInMiB; hashicorp/terraform-provider-aws internal/service/ec2/ec2_instance_type_data_source.go), and a
type whose GPUs differ from what was sized is refused before any resource is registered. Offline the mock engine
answers from the catalog. A type that cannot be read (no permission) is a warning: the check must not block a
deploy that would work.
"""

from __future__ import annotations

from collections.abc import Iterable

import pulumi
import pulumi_aws as aws

from ..catalog import aws_instances
from ..errors import ConfigError, ConfigIssue, KeyPaths
from ..planner.plan import ModelPlan


def gpu_mismatch(instance_type: str, ec2_gpus: list[tuple[int, int]]) -> str | None:
    """What EC2's (count, MiB per GPU) entries contradict in the catalog's record of the type, or None."""
    record = aws_instances.instance_catalog().get(instance_type)
    if record is None:
        return None
    count = sum(gpus for gpus, _ in ec2_gpus)
    memory = {mib for _, mib in ec2_gpus}
    if count != record.gpu_count or memory != {record.gpu_memory_mib}:
        described = ", ".join(f"{gpus} x {mib} MiB" for gpus, mib in ec2_gpus) or "no GPUs"
        return (
            f"EC2 describes {instance_type} with {described}, but it was sized on {record.gpu_count} x "
            f"{record.gpu_memory_mib} MiB ({record.spec_source})"
        )
    return None


def check_instance_types(planned: Iterable[tuple[int, ModelPlan]]) -> None:
    """Refuse a planned type whose GPUs EC2 describes differently from the catalog (``planned``: each planned
    model with its index in the config's ``models``)."""
    issues: list[ConfigIssue] = []
    for index, model in planned:
        name = model.instance.name
        try:
            described = aws.ec2.get_instance_type(instance_type=name).gpuses
        except Exception as error:  # an invoke failure is a plain Exception: the check is skipped, with a warning
            pulumi.log.warn(
                f"could not describe {name} ({error}): its GPU count and memory are not cross-checked with EC2, so "
                "a catalog that is wrong about them would show only when vLLM starts. Grant the deploying role "
                "ec2:DescribeInstanceTypes to check them at every preview."
            )
            continue
        mismatch = gpu_mismatch(name, [(int(gpu.count), int(gpu.memory_size)) for gpu in described or []])
        if mismatch is not None:
            issues.append(
                ConfigIssue(
                    KeyPaths(("models", index))("instanceType"),
                    name,
                    mismatch,
                    "regenerate the catalog (scripts/gen_instance_catalog.py) from a current EC2 snapshot, or use "
                    "another type",
                )
            )
    if issues:
        raise ConfigError(issues)
