"""ModelEndpoint: one model's routes on an ALB listener — target group, targets, rules, security-group pair."""

from __future__ import annotations

from typing import Annotated

import pulumi
import pulumi_aws as aws
import pulumi_command as command
from pydantic import BaseModel, ConfigDict, Field

from .._naming import MODEL_TAG, TARGET_GROUP_NAME_MAX, auto_named, child_name, target_group_name, type_token
from ..planner.vllm_args import VLLM_PORT
from . import drain, routing

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
    server_id: Annotated[
        pulumi.Output[str] | None,
        Field(
            description="The server's container id: a new container (or host) first deregisters the target and "
            "waits until the ALB drains it (network.drain). Default: none (the target is only drained on delete)."
        ),
    ] = None


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
        attachments = [self._attach(name, target) for target in args.targets]

        # First deploy: the loading rules answer 503 JSON until the first replica is healthy and registered; only
        # then do the forward rules exist (routing: loading rules).
        # The first replica's registration (after its health wait): the model's forward rules come after it. Not a
        # class annotation: the component provider publishes those as outputs, and a Resource is none.
        self.first_ready: pulumi.Resource = attachments[0]
        first_ready = pulumi.ResourceOptions(parent=self, depends_on=[self.first_ready])
        for route in routing.model_routes(args.model_name, args.rule_priority, args.domain):
            loading_rule(name, route, listener_arn=args.listener_arn, tags=args.tags, opts=child)
            listener_rule(
                name,
                route,
                listener_arn=args.listener_arn,
                target_group_arn=self.target_group.arn,
                tags=args.tags,
                opts=first_ready,
            )
        self.target_group_arn = self.target_group.arn
        self.register_outputs({"target_group_arn": self.target_group_arn})

    def _attach(self, name: str, target: Target) -> aws.lb.TargetGroupAttachment:
        """Register the target after its health wait; deregister and drain it before its server stops (drain)."""
        drain_wait = command.local.Command(
            child_name(name, f"{target.key}-drain"),
            delete=pulumi.Output.all(self.target_group.arn, target.instance_id).apply(
                lambda values: drain.drain_script(str(values[0]), str(values[1]), target.port)
            ),
            interpreter=["/bin/bash", "-c"],
            # A new container replaces this wait first (it is delete-before-replace), so its delete runs before the
            # old container is stopped.
            triggers=[target.server_id] if target.server_id is not None else None,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(target.after), delete_before_replace=True),
        )
        # The target id passes through the wait: a replaced wait makes it unknown, so the attachment is replaced
        # (deregistered) before the wait's delete, and registered again after the new server's health wait.
        return aws.lb.TargetGroupAttachment(
            child_name(name, f"{target.key}-attach"),
            target_group_arn=self.target_group.arn,
            target_id=pulumi.Output.all(target.instance_id, drain_wait.id).apply(lambda values: str(values[0])),
            port=target.port,
            # Replaced create-first, the new registration (the same target) would be undone by the old one's delete.
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[*target.after, drain_wait], delete_before_replace=True
            ),
        )


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
        conditions=_conditions(route),
        actions=[aws.lb.ListenerRuleActionArgs(type="forward", target_group_arn=target_group_arn)],
        transforms=transforms,
        tags={**tags, "Name": route.description},
        opts=opts,
    )


def loading_rule(
    owner: str,
    route: routing.Route,
    *,
    listener_arn: StrInput,
    tags: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> aws.lb.ListenerRule:
    """The fixed 503 "model loading" behind ``route``'s rule, ``<owner>-<route.key>-loading-rule``."""
    loading = routing.loading_route(route)
    return aws.lb.ListenerRule(
        child_name(owner, f"{loading.key}-rule"),
        listener_arn=listener_arn,
        priority=loading.priority,
        conditions=_conditions(loading),
        actions=[
            aws.lb.ListenerRuleActionArgs(
                type="fixed-response",
                fixed_response=aws.lb.ListenerRuleActionFixedResponseArgs(
                    content_type="application/json",
                    status_code=routing.LOADING_STATUS,
                    message_body=routing.loading_body(route.model),
                ),
            )
        ],
        tags={**tags, "Name": loading.description},
        opts=opts,
    )


def _conditions(route: routing.Route) -> list[aws.lb.ListenerRuleConditionArgs]:
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
    return conditions
