"""LoadBalancer: the stack's front door, an ALB that forwards only /v1/* and /health, one target group per model."""

from __future__ import annotations

import ipaddress
from typing import Annotated

import pulumi
import pulumi_aws as aws
from pydantic import BaseModel, ConfigDict, Field

from components import routing
from components._naming import child_name, type_token
from components.vllm_args import VLLM_PORT

StrInput = str | pulumi.Output[str]
HTTP_PORT = 80
HTTPS_PORT = 443
# TLS 1.3 with TLS 1.2 fallback (AWS's recommended policy for ALBs).
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"


class Target(BaseModel):
    """One vLLM server: the instance, its host port and the host's security group."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    key: str  # stable, e.g. "llama-8b-0-vllm-0"
    instance_id: pulumi.Output[str]
    port: Annotated[int, Field(ge=1, le=65535)]
    security_group_id: pulumi.Output[str]
    host_key: str  # the host's name: one ingress rule per host security group


class ModelTargets(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    name: str
    targets: tuple[Target, ...]
    cold_start_seconds: Annotated[float, Field(ge=0, description="Predicted warm-cache start, for the check.")]


class LoadBalancerArgs(BaseModel):
    """Inputs of a :class:`LoadBalancer`."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    vpc_id: StrInput
    subnet_ids: Annotated[tuple[str, ...], Field(min_length=2, description="Subnets in at least two AZs.")]
    internal: bool = False
    allowed_cidrs: Annotated[tuple[str, ...], Field(min_length=1)]
    certificate_arn: Annotated[str | None, Field(description="HTTPS when set; HTTP only otherwise.")] = None
    idle_timeout_seconds: Annotated[int, Field(ge=1, le=4000)] = 600
    deletion_protection: bool = False
    domain: str | None = None
    access_logs_bucket: Annotated[str | None, Field(description="S3 bucket for ALB access logs.")] = None
    models: Annotated[tuple[ModelTargets, ...], Field(min_length=1)]
    tags: dict[str, str] = {}


class LoadBalancer(pulumi.ComponentResource):
    """Internet (or internal) ALB; GPU hosts admit the vLLM ports from its security group only."""

    dns_name: pulumi.Output[str]
    """The ALB's DNS name."""
    base_url: pulumi.Output[str]
    """OpenAI base URL of the default (first) model."""
    model_base_urls: pulumi.Output[dict[str, str]]
    """OpenAI base URL per model."""
    security_group_id: pulumi.Output[str]
    """The ALB's security group."""

    def __init__(self, name: str, args: LoadBalancerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(type_token("LoadBalancer"), name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        https = args.certificate_arn is not None
        listener_ports = [HTTPS_PORT, HTTP_PORT] if https else [HTTP_PORT]

        sg_name = child_name(name, "sg")
        self.security_group = aws.ec2.SecurityGroup(
            sg_name,
            vpc_id=args.vpc_id,
            description=f"vllm-aws load balancer {name}: {'HTTPS' if https else 'HTTP'} from allowedCidrs",
            tags={**args.tags, "Name": sg_name},
            opts=child,
        )
        for port in listener_ports:
            for index, cidr in enumerate(args.allowed_cidrs):
                ipv6 = ipaddress.ip_network(cidr).version == 6
                aws.vpc.SecurityGroupIngressRule(
                    child_name(name, f"in-{port}-{index}"),
                    security_group_id=self.security_group.id,
                    ip_protocol="tcp",
                    from_port=port,
                    to_port=port,
                    cidr_ipv4=None if ipv6 else cidr,
                    cidr_ipv6=cidr if ipv6 else None,
                    description="Clients" if port == HTTPS_PORT or not https else "Clients (redirected to HTTPS)",
                    opts=child,
                )
        # Egress only to the vLLM ports of the hosts, and the hosts admit those ports from this group only.
        host_ports: dict[str, tuple[pulumi.Output[str], list[int]]] = {}
        for model in args.models:
            for target in model.targets:
                host_ports.setdefault(target.host_key, (target.security_group_id, []))[1].append(target.port)
        for host_key, (group_id, ports) in sorted(host_ports.items()):
            aws.vpc.SecurityGroupEgressRule(
                child_name(name, f"out-{host_key}"),
                security_group_id=self.security_group.id,
                ip_protocol="tcp",
                from_port=min(ports),
                to_port=max(ports),
                referenced_security_group_id=group_id,
                description=f"vLLM on {host_key}",
                opts=child,
            )
            aws.vpc.SecurityGroupIngressRule(
                child_name(name, f"to-{host_key}"),
                security_group_id=group_id,
                ip_protocol="tcp",
                from_port=min(ports),
                to_port=max(ports),
                referenced_security_group_id=self.security_group.id,
                description="vLLM from the load balancer",
                opts=child,
            )

        self.load_balancer = aws.lb.LoadBalancer(
            child_name(name, "alb"),
            load_balancer_type="application",
            internal=args.internal,
            security_groups=[self.security_group.id],
            subnets=list(args.subnet_ids),
            idle_timeout=args.idle_timeout_seconds,
            drop_invalid_header_fields=True,
            enable_deletion_protection=args.deletion_protection,
            access_logs=aws.lb.LoadBalancerAccessLogsArgs(bucket=args.access_logs_bucket, enabled=True)
            if args.access_logs_bucket
            else None,
            tags=args.tags,
            opts=child,
        )

        target_groups: dict[str, aws.lb.TargetGroup] = {}
        for model in args.models:
            check = routing.health_check(model.cold_start_seconds)
            group = aws.lb.TargetGroup(
                child_name(name, f"{model.name}-tg"),
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
                tags={**args.tags, "vllm-aws:model": model.name},
                opts=child,
            )
            target_groups[model.name] = group
            for target in model.targets:
                aws.lb.TargetGroupAttachment(
                    child_name(name, f"{target.key}-attach"),
                    target_group_arn=group.arn,
                    target_id=target.instance_id,
                    port=target.port,
                    opts=child,
                )

        not_found = aws.lb.ListenerDefaultActionArgs(
            type="fixed-response",
            fixed_response=aws.lb.ListenerDefaultActionFixedResponseArgs(
                status_code="404", content_type="application/json", message_body=routing.NOT_FOUND_BODY
            ),
        )
        if https:
            listener = aws.lb.Listener(
                child_name(name, "https"),
                load_balancer_arn=self.load_balancer.arn,
                port=HTTPS_PORT,
                protocol="HTTPS",
                ssl_policy=TLS_POLICY,
                certificate_arn=args.certificate_arn,
                default_actions=[not_found],
                opts=child,
            )
            aws.lb.Listener(
                child_name(name, "http-redirect"),
                load_balancer_arn=self.load_balancer.arn,
                port=HTTP_PORT,
                protocol="HTTP",
                default_actions=[
                    aws.lb.ListenerDefaultActionArgs(
                        type="redirect",
                        redirect=aws.lb.ListenerDefaultActionRedirectArgs(
                            protocol="HTTPS", port=str(HTTPS_PORT), status_code="HTTP_301"
                        ),
                    )
                ],
                opts=child,
            )
        else:
            listener = aws.lb.Listener(
                child_name(name, "http"),
                load_balancer_arn=self.load_balancer.arn,
                port=HTTP_PORT,
                protocol="HTTP",
                default_actions=[not_found],
                opts=child,
            )

        for route in routing.routes([m.name for m in args.models], args.domain):
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
            aws.lb.ListenerRule(
                child_name(name, f"{route.key}-rule"),
                listener_arn=listener.arn,
                priority=route.priority,
                conditions=conditions,
                actions=[
                    aws.lb.ListenerRuleActionArgs(type="forward", target_group_arn=target_groups[route.model].arn)
                ],
                transforms=transforms,
                tags={**args.tags, "Name": route.description},
                opts=child,
            )

        scheme = "https" if https else "http"
        names = [m.name for m in args.models]
        self.dns_name = self.load_balancer.dns_name
        self.base_url = self.load_balancer.dns_name.apply(lambda dns: f"{scheme}://{dns}/v1")
        self.model_base_urls = self.load_balancer.dns_name.apply(
            lambda dns: routing.base_urls(scheme, dns, names, args.domain)
        )
        self.security_group_id = self.security_group.id
        self.register_outputs(
            {
                "dns_name": self.dns_name,
                "base_url": self.base_url,
                "model_base_urls": self.model_base_urls,
                "security_group_id": self.security_group_id,
            }
        )
