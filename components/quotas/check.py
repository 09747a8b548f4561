"""The quota check of ``pulumi preview``: read the account's limits and refuse a stack that does not fit.

AWS lookups (invokes, answered by the mock engine offline), run before any resource is registered, so a stack
above a quota fails at preview with the increase request to file instead of with ``VcpuLimitExceeded`` in the
middle of ``pulumi up``. A limit that cannot be read (the role lacks the permission) is a warning, never a
failed preview: the check helps, it must not block a deploy that would work.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_aws as aws

from ..config.schema import StackConfig
from ..errors import ConfigError
from ..planner.plan import StackPlan
from . import needs as quotas

# aws.servicequotas.get_service_quota is the Terraform data source aws_servicequotas_service_quota, which calls
# GetAWSDefaultServiceQuota and then GetServiceQuota, keeping the default when no value was ever applied
# (hashicorp/terraform-provider-aws internal/service/servicequotas/service_quota_data_source.go).
PERMISSIONS = ("servicequotas:GetAWSDefaultServiceQuota", "servicequotas:GetServiceQuota")


def instance_vcpus(instance_type: str) -> int:
    """vCPUs of an EC2 instance type (DescribeInstanceTypes' DefaultVCpus); 0 with a warning when it cannot be read."""
    try:
        return int(aws.ec2.get_instance_type(instance_type=instance_type).default_vcpus)
    except Exception as error:  # an invoke failure is a plain Exception; the preview goes on without the count
        pulumi.log.warn(
            f"could not describe {instance_type} ({error}): its vCPUs are left out of the vCPU quota check, which "
            "may then pass a stack that `pulumi up` cannot launch. Grant the deploying role "
            "ec2:DescribeInstanceTypes to count them at every preview."
        )
        return 0


def read_limits(needs: Sequence[quotas.QuotaNeed]) -> dict[quotas.Quota, float]:
    """The account's applied value of each quota the stack uses (fixed limits: their documented value)."""
    limits: dict[quotas.Quota, float] = {}
    headroom: list[str] = []
    unreadable: dict[str, str] = {}
    for quota in dict.fromkeys(need.quota for need in needs):
        if quota.code is None:
            if quota.aws_default is not None:
                limits[quota] = quota.aws_default
            continue
        try:
            value = aws.servicequotas.get_service_quota(service_code=quota.service, quota_code=quota.code).value
        except Exception as error:  # an invoke failure is a plain Exception; any of them means "unknown"
            unreadable[quota.code] = str(error)
            continue
        if value is None:
            unreadable[quota.code] = "no value returned"
            continue
        limits[quota] = value
        most = max(need.needed for need in needs if need.quota == quota)
        headroom.append(f"{quota.code} {most}/{value:g}")
    if headroom:
        pulumi.log.info(f"quotas, needed/applied: {', '.join(headroom)}")
    if unreadable:
        first_code, first_error = next(iter(unreadable.items()))
        pulumi.log.warn(
            f"could not read the Service Quotas value of {', '.join(unreadable)} ({first_code}: {first_error}); "
            f"the stack's needs (`pulumi stack output quotas`) are not checked against them. Grant the deploying "
            f"role {' and '.join(PERMISSIONS)} to check them at every preview."
        )
    return limits


def check_stack_quotas(config: StackConfig, plan: StackPlan) -> tuple[quotas.QuotaNeed, ...]:
    """What the stack needs of each quota; raises :class:`ConfigError` when a need exceeds the account's limit."""
    monitoring = config.monitoring
    dedicated = monitoring.enabled and monitoring.placement == "dedicated"
    stack = quotas.stack_needs(config, plan, instance_vcpus(monitoring.instance_type) if dedicated else 0)
    for warning in stack.warnings:
        pulumi.log.warn(warning)
    issues = quotas.exceeded(stack.needs, read_limits(stack.needs), config.region)
    if issues:
        raise ConfigError(issues)
    return stack.needs
