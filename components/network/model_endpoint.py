"""ModelEndpoint: one model's routes on an ALB listener — target group, targets, rules, security-group pair."""

from __future__ import annotations

from typing import Annotated

import pulumi
import pulumi_aws as aws
from pydantic import BaseModel, ConfigDict, Field

from .._naming import MODEL_TAG, TARGET_GROUP_NAME_MAX, auto_named, child_name, target_group_name, type_token
from ..planner.vllm_args import VLLM_PORT
from . import routing

StrInput = str | pulumi.Output[str]


class Target(BaseModel):
    """One vLLM server: the instance and its host port."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    key: Annotated[str, Field(description="Stable key, e.g. 'qwen-8b-0-vllm-0'.")]
    instance_id: pulumi.Output[str]
    port: Annotated[int, Field(ge=1, le=65535)]
    after: Annotated[
        tuple[pulumi.Resource, ...],
        Field(
            description="Register the target only after these (its server's health wait): the target group never "
            "holds a loading server, which the ALB would route to when no target is healthy (it fails open)."
        ),
    ] = ()


class ModelEndpointArgs(BaseModel):
    """Inputs of a :class:`ModelEndpoint`."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    model_name: str
    vpc_id: StrInput
    listener_arn: StrInput
    load_balancer_security_group_id: StrInput
    targets_security_group_id: Annotated[
        StrInput,
        Field(description="The group every target host is a member of; it admits the vLLM ports from the ALB only."),
    ]
    targets: Annotated[tuple[Target, ...], Field(min_length=1)]
    rule_priority: Annotated[
        int,
        Field(
            ge=routing.STACK_PRIORITIES.start,
            le=routing.MAX_PATH_PRIORITY,
            description="Priority of the path rule, unique on the listener; the host rule gets "
            f"+{routing.HOST_RULE_OFFSET} (components.network.routing).",
        ),
    ]
    domain: Annotated[str | None, Field(description="Also route <model>.<domain>. Default: path prefix only.")] = None
    warm_start_seconds: Annotated[float, Field(ge=0, description="Predicted warm start, for the health check.")]
    idle_timeout_seconds: Annotated[int, Field(ge=1, le=4000, description="The ALB's idle timeout.")] = 600
    tags: dict[str, str] = {}


class ModelEndpoint(pulumi.ComponentResource):
    """Routes ``/<model>/v1/*`` (prefix rewritten away) and ``<model>.<domain>`` to the model's target group.

    The ALB reaches the targets through one rule pair whatever the number of hosts: egress from the ALB's group
    to the targets' group, ingress on the targets' group from the ALB's. A security group holds at most 60
    inbound and 60 outbound rules by default (Amazon VPC quotas, "Inbound or outbound rules per security
    group"; a rule that references a group counts as one, "Security group size"), so one rule per host would
    stop a stack at 60 hosts with ``RulesPerSecurityGroupLimitExceeded``.
    """

    target_group_arn: pulumi.Output[str]
    """The model's target group."""

    def __init__(self, name: str, args: ModelEndpointArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(type_token("ModelEndpoint"), name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        ports = [target.port for target in args.targets]
        aws.vpc.SecurityGroupEgressRule(
            child_name(name, "out"),
            security_group_id=args.load_balancer_security_group_id,
            ip_protocol="tcp",
            from_port=min(ports),
            to_port=max(ports),
            referenced_security_group_id=args.targets_security_group_id,
            description=f"vLLM of {args.model_name}",
            opts=child,
        )
        aws.vpc.SecurityGroupIngressRule(
            child_name(name, "in"),
            security_group_id=args.targets_security_group_id,
            ip_protocol="tcp",
            from_port=min(ports),
            to_port=max(ports),
            referenced_security_group_id=args.load_balancer_security_group_id,
            description="vLLM from the load balancer",
            opts=child,
        )

        check = routing.health_check(args.warm_start_seconds)
        self.target_group = aws.lb.TargetGroup(
            auto_named(target_group_name(args.model_name), TARGET_GROUP_NAME_MAX),
            vpc_id=args.vpc_id,
            target_type="instance",
            protocol="HTTP",
            port=VLLM_PORT,
            # LLM requests last from milliseconds to minutes: count open requests, not turns.
            load_balancing_algorithm_type="least_outstanding_requests",
            deregistration_delay=routing.deregistration_delay_seconds(args.idle_timeout_seconds),
            health_check=aws.lb.TargetGroupHealthCheckArgs(
                enabled=True,
                protocol="HTTP",
                path=routing.HEALTH_CHECK_PATH,
                port="traffic-port",
                matcher="200",
                interval=check.interval_seconds,
                timeout=check.timeout_seconds,
                healthy_threshold=check.healthy_threshold,
                unhealthy_threshold=check.unhealthy_threshold,
            ),
            tags={**args.tags, MODEL_TAG: args.model_name},
            opts=child,
        )
        for target in args.targets:
            aws.lb.TargetGroupAttachment(
                child_name(name, f"{target.key}-attach"),
                target_group_arn=self.target_group.arn,
                target_id=target.instance_id,
                port=target.port,
                opts=pulumi.ResourceOptions(parent=self, depends_on=list(target.after)),
            )

        for route in routing.model_routes(args.model_name, args.rule_priority, args.domain):
            listener_rule(
                name,
                route,
                listener_arn=args.listener_arn,
                target_group_arn=self.target_group.arn,
                tags=args.tags,
                opts=child,
            )
        self.target_group_arn = self.target_group.arn
        self.register_outputs({"target_group_arn": self.target_group_arn})


def listener_rule(
    owner: str,
    route: routing.Route,
    *,
    listener_arn: StrInput,
    target_group_arn: StrInput,
    tags: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> aws.lb.ListenerRule:
    """The ALB rule for ``route``, named ``<owner>-<route.key>-rule`` (never after a position or a priority)."""
    conditions = [
        aws.lb.ListenerRuleConditionArgs(
            path_pattern=aws.lb.ListenerRuleConditionPathPatternArgs(values=list(route.paths))
        )
    ]
    if route.host:
        conditions.append(
            aws.lb.ListenerRuleConditionArgs(
                host_header=aws.lb.ListenerRuleConditionHostHeaderArgs(values=[route.host])
            )
        )
    transforms = (
        [
            aws.lb.ListenerRuleTransformArgs(
                type="url-rewrite",
                url_rewrite_config=aws.lb.ListenerRuleTransformUrlRewriteConfigArgs(
                    rewrite=aws.lb.ListenerRuleTransformUrlRewriteConfigRewriteArgs(
                        regex=route.rewrite[0], replace=route.rewrite[1]
                    )
                ),
            )
        ]
        if route.rewrite
        else None
    )
    return aws.lb.ListenerRule(
        child_name(owner, f"{route.key}-rule"),
        listener_arn=listener_arn,
        priority=route.priority,
        conditions=conditions,
        actions=[aws.lb.ListenerRuleActionArgs(type="forward", target_group_arn=target_group_arn)],
        transforms=transforms,
        tags={**tags, "Name": route.description},
        opts=opts,
    )
