"""LoadBalancer: the stack's front door, an ALB that forwards only /v1/* and /health (routes come per model)."""

from __future__ import annotations

import ipaddress
from typing import Annotated

import pulumi
import pulumi_aws as aws
from pydantic import BaseModel, ConfigDict, Field

from components import routing
from components._naming import LOAD_BALANCER_NAME_MAX, auto_named, child_name, type_token

StrInput = str | pulumi.Output[str]
HTTP_PORT = 80
HTTPS_PORT = 443
# TLS 1.3 with TLS 1.2 fallback (AWS's recommended policy for ALBs).
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"


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
    tags: dict[str, str] = {}


class LoadBalancer(pulumi.ComponentResource):
    """Internet (or internal) ALB whose listener answers 404 to everything no model route claims.

    Models attach with a :class:`~components.model_endpoint.ModelEndpoint` (``VllmDeployment`` does this):
    a target group, listener rules for ``/v1/*`` and ``/health`` only, and the security-group pair that lets
    this ALB, and nothing else, reach their vLLM ports.
    """

    dns_name: pulumi.Output[str]
    """The ALB's DNS name."""
    base_url: pulumi.Output[str]
    """OpenAI base URL of the default route (the first model attached as default)."""
    listener_arn: pulumi.Output[str]
    """The listener model routes attach to (HTTPS when a certificate is set)."""
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
        # Egress (to the hosts' vLLM ports only) is added by each ModelEndpoint, which knows the hosts.
        self.load_balancer = aws.lb.LoadBalancer(
            auto_named(child_name(name, "alb"), LOAD_BALANCER_NAME_MAX),
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

        self.listener = listener
        self.listener_arn = listener.arn
        self.scheme = "https" if https else "http"
        self.dns_name = self.load_balancer.dns_name
        scheme = self.scheme
        self.base_url = self.load_balancer.dns_name.apply(lambda dns: f"{scheme}://{dns}/v1")
        self.security_group_id = self.security_group.id
        self.register_outputs(
            {
                "dns_name": self.dns_name,
                "base_url": self.base_url,
                "listener_arn": self.listener_arn,
                "security_group_id": self.security_group_id,
            }
        )
