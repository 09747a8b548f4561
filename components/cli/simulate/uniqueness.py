"""Names and slots AWS (and Docker) let only one object hold, and what a second create gets.

Sources: botocore 1.43.11 service models (``elbv2`` 2015-12-01, ``iam``, ``ssm``: error shapes and operation
docs); hashicorp/terraform-provider-aws files (commits as in provider_rules); the Docker Engine API
(``POST /containers/create`` answers 409 for a name in use).

Some creates are idempotent or upserts: the second one *adopts* the existing object instead of failing, and
the old resource's delete later removes what the new one now owns. Those keys say ``adopts``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Value = Any
KeyOf = Callable[[Mapping[str, Any], str | None], list[tuple[Value, ...]]]


@dataclass(frozen=True)
class UniqueKey:
    label: str
    code: str
    """The AWS/Docker error a second create gets."""
    source: str
    fix: str
    values: KeyOf
    """The key(s) one resource holds, from its inputs and its provider; [] when it holds none."""
    adopts_when_same: tuple[str, ...] | None = None
    """A second create with these inputs equal to the holder's adopts it (idempotent) instead of failing."""
    adopts_always: bool = False
    adopts_if_flag: str | None = None
    """An input that, when true, turns the create into an overwrite (adopt)."""


def _fields(*names: str, explicit: str | None = None) -> KeyOf:
    def values(inputs: Mapping[str, Any], _provider: str | None) -> list[tuple[Value, ...]]:
        if explicit is not None and inputs.get(explicit) is None:
            return []
        picked = tuple(inputs.get(name) for name in names)
        return [] if picked[0] is None else [picked]

    return values


def _container_ports(inputs: Mapping[str, Any], provider: str | None) -> list[tuple[Value, ...]]:
    return [(provider, port.get("external")) for port in inputs.get("ports") or [] if port.get("external")]


def _container_name(inputs: Mapping[str, Any], provider: str | None) -> list[tuple[Value, ...]]:
    return [(provider, inputs["name"])] if inputs.get("name") else []


_RULE_INPUTS = (
    "securityGroupId",
    "ipProtocol",
    "fromPort",
    "toPort",
    "cidrIpv4",
    "cidrIpv6",
    "prefixListId",
    "referencedSecurityGroupId",
)
_NAME_FIX = "leave `name` unset so the provider generates a fresh name for every replacement"
_TWO_DEPLOYS = "or remove the old resource in one `pulumi up` and add the new one in the next"

KEYS: dict[str, tuple[UniqueKey, ...]] = {
    "aws:lb/listener:Listener": (
        UniqueKey(
            label="listener port",
            code="DuplicateListener",
            source="botocore elbv2 CreateListener: DuplicateListener 'A listener with the specified port already "
            "exists'; "
            "'If you attempt to create multiple listeners with the same settings, each call succeeds'",
            fix="keep the listener of each port under one logical name when other listeners come and go, "
            + _TWO_DEPLOYS,
            values=_fields("loadBalancerArn", "port"),
            adopts_when_same=("protocol", "port", "sslPolicy", "certificateArn", "defaultActions", "alpnPolicy"),
        ),
    ),
    "aws:lb/listenerRule:ListenerRule": (
        UniqueKey(
            label="rule priority",
            code="PriorityInUse",
            source="botocore elbv2 CreateRule and SetRulePriorities: PriorityInUse 'The specified priority is in use'",
            fix="give each rule a priority that does not depend on list position or on which model comes first, "
            f"so existing rules keep theirs, {_TWO_DEPLOYS}",
            values=_fields("listenerArn", "priority"),
        ),
    ),
    "aws:lb/targetGroup:TargetGroup": (
        UniqueKey(
            label="target group name",
            code="DuplicateTargetGroupName",
            source="botocore elbv2 CreateTargetGroup (idempotent for identical settings); terraform-provider-aws "
            "elbv2/target_group.go 'already exists' pre-check",
            fix=_NAME_FIX,
            values=_fields("name", explicit="name"),
            adopts_when_same=("name", "port", "protocol", "vpcId", "targetType"),
        ),
    ),
    "aws:lb/loadBalancer:LoadBalancer": (
        UniqueKey(
            label="load balancer name",
            code="DuplicateLoadBalancerName",
            source="botocore elbv2 CreateLoadBalancer; terraform-provider-aws elbv2/load_balancer.go 'already "
            "exists' pre-check",
            fix=_NAME_FIX,
            values=_fields("name", explicit="name"),
        ),
    ),
    "aws:iam/role:Role": (
        UniqueKey(
            label="IAM role name",
            code="EntityAlreadyExists",
            source="botocore iam CreateRole: EntityAlreadyExists (409)",
            fix=_NAME_FIX,
            values=_fields("name", explicit="name"),
        ),
    ),
    "aws:iam/instanceProfile:InstanceProfile": (
        UniqueKey(
            label="instance profile name",
            code="EntityAlreadyExists",
            source="botocore iam CreateInstanceProfile: EntityAlreadyExists (409)",
            fix=_NAME_FIX,
            values=_fields("name", explicit="name"),
        ),
    ),
    "aws:iam/rolePolicy:RolePolicy": (
        UniqueKey(
            label="inline policy name",
            code="PutRolePolicy overwrites",
            source="terraform-provider-aws iam/role_policy.go @02f97af: create and update are PutRolePolicy "
            "(an upsert)",
            fix=_NAME_FIX,
            values=_fields("role", "name", explicit="name"),
            adopts_always=True,
        ),
    ),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": (
        UniqueKey(
            label="policy attachment",
            code="AttachRolePolicy is idempotent",
            source="pulumi-aws resource_overrides.go: 'a create followed by a delete actually deletes the same "
            "attachment'",
            fix="keep the attachment under one logical name",
            values=_fields("role", "policyArn"),
            adopts_always=True,
        ),
    ),
    "aws:ssm/parameter:Parameter": (
        UniqueKey(
            label="SSM parameter name",
            code="ParameterAlreadyExists",
            source="botocore ssm PutParameter: ParameterAlreadyExists 'You can't create duplicate parameters' (unless "
            "Overwrite); terraform-provider-aws ssm/parameter.go: Overwrite only when `overwrite` is set",
            fix="keep the parameter under one logical name, or set `overwrite=True` (then the old resource's "
            "delete removes the parameter: deploy the removal first)",
            values=_fields("name", explicit="name"),
            adopts_if_flag="overwrite",
        ),
    ),
    "aws:ec2/securityGroup:SecurityGroup": (
        UniqueKey(
            label="security group name",
            code="InvalidGroup.Duplicate",
            source="botocore ec2 CreateSecurityGroup GroupName doc (unique per VPC); error code NOT VERIFIED",
            fix=_NAME_FIX,
            values=lambda inputs, _p: (
                [(inputs.get("vpcId"), str(inputs["name"]).lower())] if inputs.get("name") else []
            ),
        ),
    ),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": (
        UniqueKey(
            label="security group rule",
            code="InvalidPermission.Duplicate",
            source="terraform-provider-aws ec2/errors.go errCodeInvalidPermissionDuplicate",
            fix="keep each rule under one logical name",
            values=_fields(*_RULE_INPUTS),
        ),
    ),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": (
        UniqueKey(
            label="security group rule",
            code="InvalidPermission.Duplicate",
            source="terraform-provider-aws ec2/errors.go errCodeInvalidPermissionDuplicate",
            fix="keep each rule under one logical name",
            values=_fields(*_RULE_INPUTS),
        ),
    ),
    "aws:ec2/volumeAttachment:VolumeAttachment": (
        UniqueKey(
            label="volume attachment",
            code="VolumeInUse",
            source="AWS AttachVolume: a volume attaches to one instance (Multi-Attach: io1/io2 only); "
            "terraform-provider-aws ec2/ebs_volume_attachment.go @0620f2a adopts an identical (volume, instance, "
            "device) attachment; ec2/errors.go VolumeInUse (the code AttachVolume returns is NOT VERIFIED)",
            fix="replace the attachment delete-before-replace (`delete_before_replace=True`), so the volume is "
            "detached before it is attached again",
            values=_fields("volumeId"),
            adopts_when_same=("volumeId", "instanceId", "deviceName"),
        ),
        UniqueKey(
            label="device name on the instance",
            code="InvalidParameterValue (device in use)",
            source="AWS AttachVolume Device: one volume per device name on an instance (error code NOT VERIFIED)",
            fix="give each attachment on an instance its own device name",
            values=_fields("instanceId", "deviceName"),
            adopts_when_same=("volumeId", "instanceId", "deviceName"),
        ),
    ),
    "aws:lb/targetGroupAttachment:TargetGroupAttachment": (
        UniqueKey(
            label="target registration",
            code="RegisterTargets is idempotent",
            source="terraform-provider-aws elbv2/target_group_attachment.go: RegisterTargets with no existence check",
            fix="keep each target under one logical name",
            values=_fields("targetGroupArn", "targetId", "port"),
            adopts_always=True,
        ),
    ),
    "docker:index/container:Container": (
        UniqueKey(
            label="container name on the host",
            code="Conflict (container name already in use)",
            source="Docker Engine API POST /containers/create: 409 Conflict for a name in use (message NOT VERIFIED)",
            fix="keep the container under one logical name, or let it be replaced delete-before-replace",
            values=_container_name,
        ),
        UniqueKey(
            label="host port",
            code="port is already allocated",
            source="Docker Engine: a host port binds to one container (message NOT VERIFIED)",
            fix="stop the old container first (delete-before-replace) or use another host port",
            values=_container_ports,
        ),
    ),
}
