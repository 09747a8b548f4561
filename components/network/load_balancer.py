"""LoadBalancer: the stack's front door, an ALB that forwards only /v1/* and /health (routes come per model)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Self

import pulumi
import pulumi_aws as aws
from pydantic import BaseModel, ConfigDict, Field, model_validator

from .._naming import LOAD_BALANCER_NAME_MAX, auto_named, child_name, cidr_key, distinct_networks, type_token
from ..config.hardening import AccessLogsConfig, WafConfig
from ..config.sections import LoadBalancerConfig
from . import certificate, client_snippets, routing
from .access_logs import create_log_bucket
from .model_endpoint import listener_rule, loading_rule
from .routing import HTTP_PORT, HTTPS_PORT
from .waf import web_acl

StrInput = str | pulumi.Output[str]
# AWS's recommended ALB policy: TLS 1.3, or TLS 1.2 with the restricted cipher set, with post-quantum (ML-KEM)
# hybrid key exchange ("AWS recommends ... ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09", ALB User Guide,
# describe-ssl-policies.html). Set explicitly: the API's default is ELBSecurityPolicy-2016-08 (pulumi_aws
# lb/listener.py ssl_policy).
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09"


class LoadBalancerArgs(BaseModel):
    """Inputs of a :class:`LoadBalancer`."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    vpc_id: StrInput
    subnet_ids: Annotated[tuple[str, ...], Field(min_length=2, description="Subnets in at least two AZs.")]
    internal: bool = False
    allowed_cidrs: Annotated[tuple[str, ...], Field(min_length=1)]
    certificate_arn: Annotated[str | None, Field(description="An existing ACM certificate: HTTPS with it.")] = None
    hosted_zone_id: Annotated[
        str | None,
        Field(
            description="Route 53 zone of `domain`: HTTPS with a certificate the component requests for <domain> "
            "and *.<domain>, and alias records for <domain> and each of `dns_models`. Without this or "
            "`certificate_arn`: plain HTTP."
        ),
    ] = None
    dns_models: Annotated[
        tuple[str, ...], Field(description="Models that get an alias record <model>.<domain> (with hosted_zone_id).")
    ] = ()
    idle_timeout_seconds: Annotated[int, Field(ge=1, le=4000)] = 600
    deletion_protection: bool = False
    domain: str | None = None
    access_logs: Annotated[
        AccessLogsConfig,
        Field(description="ALB access logs: to `access_logs.bucket`, or to a bucket the component creates."),
    ] = AccessLogsConfig()
    region: Annotated[
        str | None, Field(description="The stack's region: who writes the logs (needed for a created log bucket).")
    ] = None
    account_id: Annotated[
        str | None, Field(description="The stack's account: the log prefix ELB may write (with a created bucket).")
    ] = None
    waf: Annotated[WafConfig, Field(description="A WAF web ACL on the ALB (off unless `enabled`).")] = WafConfig()
    tags: dict[str, str] = {}

    @model_validator(mode="after")
    def _zone_needs_domain(self) -> Self:
        if self.hosted_zone_id is not None and self.domain is None:
            raise ValueError("hosted_zone_id needs domain: the certificate and the alias records are for that name")
        if self.creates_log_bucket and (self.region is None or self.account_id is None):
            raise ValueError("access logs to a created bucket need region and account_id: its policy names both")
        return self

    @property
    def creates_log_bucket(self) -> bool:
        return self.access_logs.enabled and self.access_logs.bucket is None

    @classmethod
    def of_config(
        cls,
        section: LoadBalancerConfig,
        *,
        vpc_id: StrInput,
        subnet_ids: Sequence[str],
        allowed_cidrs: Sequence[str],
        model_names: Sequence[str],
        region: str,
        account_id: str,
        tags: dict[str, str],
    ) -> Self:
        """The stack's ``loadBalancer`` section, in these subnets, open to ``allowed_cidrs``."""
        return cls(
            vpc_id=vpc_id,
            subnet_ids=tuple(subnet_ids),
            internal=section.internal,
            allowed_cidrs=tuple(allowed_cidrs),
            certificate_arn=section.certificate_arn,
            hosted_zone_id=section.hosted_zone_id,
            dns_models=tuple(model_names),
            idle_timeout_seconds=section.idle_timeout_seconds,
            deletion_protection=section.deletion_protection,
            domain=section.domain,
            access_logs=section.access_logs,
            region=region,
            account_id=account_id,
            waf=section.waf,
            tags=tags,
        )


class LoadBalancer(pulumi.ComponentResource):
    """Internet (or internal) ALB whose listener answers 404 to everything no model route claims.

    Models attach with a :class:`~components.network.model_endpoint.ModelEndpoint` (``VllmDeployment`` does this):
    a target group, listener rules for ``/v1/*`` and ``/health`` only, and the security-group pair that lets
    this ALB, and nothing else, reach their vLLM ports. ``serve_default_model`` adds the plain ``/v1/*``.

    Day 2: the port-80 listener is ``<name>-http`` whether it serves or, with a certificate, redirects (a
    listener renamed per mode would be created while the old one still holds the port: ``DuplicateListener``),
    and the security group's description never changes (it is force-new: a new one would replace the group).
    """

    dns_name: pulumi.Output[str]
    """The ALB's DNS name."""
    base_url: pulumi.Output[str]
    """OpenAI base URL of the default route (the model given to ``serve_default_model``)."""
    listener_arn: pulumi.Output[str]
    """The listener model routes attach to (HTTPS when a certificate is set)."""
    security_group_id: pulumi.Output[str]
    """The ALB's security group."""

    def __init__(self, name: str, args: LoadBalancerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(type_token("LoadBalancer"), name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self._name = name
        self._tags = args.tags
        # What a model attaching to the listener needs besides its ARN (deployment.ExistingEndpoint.of).
        self.domain = args.domain
        self.idle_timeout_seconds = args.idle_timeout_seconds
        self._default_rule: aws.lb.ListenerRule | None = None
        https = args.certificate_arn is not None or args.hosted_zone_id is not None
        listener_ports = [HTTPS_PORT, HTTP_PORT] if https else [HTTP_PORT]

        sg_name = child_name(name, "sg")
        self.security_group = aws.ec2.SecurityGroup(
            sg_name,
            vpc_id=args.vpc_id,
            # The same with or without HTTPS: the description is force-new (hashicorp/terraform-provider-aws
            # internal/service/ec2/vpc_security_group.go @0160692, `ForceNew: true`).
            description=f"vllm-aws load balancer {name}: listener ports from allowedCidrs",
            tags={**args.tags, "Name": sg_name},
            opts=child,
        )
        for port in listener_ports:
            for network in distinct_networks(args.allowed_cidrs):
                # Keyed by the CIDR, not its list position: removing one entry must not turn the next rule into
                # a copy of one still in place (InvalidPermission.Duplicate) or switch its address family
                # (force-new).
                aws.vpc.SecurityGroupIngressRule(
                    child_name(name, f"in-{port}-{cidr_key(network)}"),
                    security_group_id=self.security_group.id,
                    ip_protocol="tcp",
                    from_port=port,
                    to_port=port,
                    cidr_ipv4=network.compressed if network.version == 4 else None,
                    cidr_ipv6=network.compressed if network.version == 6 else None,
                    description="Clients" if port == HTTPS_PORT or not https else "Clients (redirected to HTTPS)",
                    opts=child,
                )
        # Egress (to the models' vLLM ports only) is added by each ModelEndpoint, one rule per model.
        log_bucket: StrInput | None = args.access_logs.bucket
        log_bucket_ready: list[pulumi.Resource] = []
        if args.creates_log_bucket:
            assert args.region is not None and args.account_id is not None  # LoadBalancerArgs checks it
            created = create_log_bucket(
                name, args.access_logs, region=args.region, account_id=args.account_id, tags=args.tags, parent=self
            )
            log_bucket, log_bucket_ready = created.name, created.ready
        self.access_logs_bucket = log_bucket
        self.load_balancer = aws.lb.LoadBalancer(
            auto_named(child_name(name, "alb"), LOAD_BALANCER_NAME_MAX),
            load_balancer_type="application",
            internal=args.internal,
            security_groups=[self.security_group.id],
            subnets=list(args.subnet_ids),
            idle_timeout=args.idle_timeout_seconds,
            drop_invalid_header_fields=True,
            enable_deletion_protection=args.deletion_protection,
            access_logs=aws.lb.LoadBalancerAccessLogsArgs(bucket=log_bucket, enabled=True)
            if log_bucket is not None
            else None,
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=log_bucket_ready),
        )

        if args.waf.enabled:
            web_acl(name, args.waf, self.load_balancer, args.tags, child)

        not_found = aws.lb.ListenerDefaultActionArgs(
            type="fixed-response",
            fixed_response=aws.lb.ListenerDefaultActionFixedResponseArgs(
                status_code="404", content_type="application/json", message_body=routing.NOT_FOUND_BODY
            ),
        )
        redirect = aws.lb.ListenerDefaultActionArgs(
            type="redirect",
            redirect=aws.lb.ListenerDefaultActionRedirectArgs(
                protocol="HTTPS", port=str(HTTPS_PORT), status_code="HTTP_301"
            ),
        )
        # One logical name per port: adding a certificate changes this listener's default action in place
        # (ModifyListener); only the HTTPS listener is new.
        http_listener = aws.lb.Listener(
            child_name(name, "http"),
            load_balancer_arn=self.load_balancer.arn,
            port=HTTP_PORT,
            protocol="HTTP",
            default_actions=[redirect if https else not_found],
            opts=child,
        )
        self.listener = http_listener
        certificate_arn: StrInput | None = args.certificate_arn
        if args.hosted_zone_id is not None and args.domain is not None:
            if certificate_arn is None:
                certificate_arn = certificate.requested_certificate(
                    name, domain=args.domain, zone_id=args.hosted_zone_id, tags=args.tags, opts=child
                )
            certificate.alias_records(
                name,
                zone_id=args.hosted_zone_id,
                domain=args.domain,
                models=args.dns_models,
                load_balancer=self.load_balancer,
                opts=child,
            )
        if certificate_arn is not None:
            self.listener = aws.lb.Listener(
                child_name(name, "https"),
                load_balancer_arn=self.load_balancer.arn,
                port=HTTPS_PORT,
                protocol="HTTPS",
                ssl_policy=TLS_POLICY,
                certificate_arn=certificate_arn,
                default_actions=[not_found],
                opts=child,
            )

        self.listener_arn = self.listener.arn
        self.scheme = "https" if https else "http"
        self.dns_name = self.load_balancer.dns_name
        scheme = self.scheme
        # With its own zone the stack's name is the one its certificate covers (the ALB's DNS name is not).
        self.public_host: pulumi.Output[str] = (
            pulumi.Output.from_input(args.domain)
            if args.hosted_zone_id and args.domain
            else self.load_balancer.dns_name
        )
        self.base_url = self.public_host.apply(lambda host: f"{scheme}://{host}/v1")
        self.security_group_id = self.security_group.id
        self.register_outputs(
            {
                "dns_name": self.dns_name,
                "base_url": self.base_url,
                "listener_arn": self.listener_arn,
                "security_group_id": self.security_group_id,
            }
        )

    def stack_outputs(self, model_names: Sequence[str]) -> dict[str, object]:
        """The stack outputs of the front door: base URLs, ready-to-paste client snippets for the default model (the
        first), and what another stack needs to serve more models behind it (``loadBalancer``, which
        examples/extra-model reads)."""
        scheme, default = self.scheme, model_names[0]
        return {
            "baseUrl": self.base_url,
            "modelBaseUrls": self.public_host.apply(
                lambda host: client_snippets.model_base_urls(scheme, host, model_names, self.domain)
            ),
            "modelNames": list(model_names),
            "curlExample": self.base_url.apply(lambda url: client_snippets.curl(url, default)),
            "openaiExample": self.base_url.apply(lambda url: client_snippets.openai_python(url, default)),
            "loadBalancer": {
                "listenerArn": self.listener_arn,
                "securityGroupId": self.security_group_id,
                "dnsName": self.dns_name,
                "scheme": scheme,
                **({"accessLogsBucket": self.access_logs_bucket} if self.access_logs_bucket is not None else {}),
            },
        }

    def serve_default_model(
        self, model_name: str, target_group_arn: StrInput, first_ready: Sequence[pulumi.Resource] = ()
    ) -> aws.lb.ListenerRule:
        """Forward the listener's plain ``/v1/*`` and ``/health`` to one model's target group; call it once.

        The rule is ``<name>-default-rule`` whichever model it serves, so choosing another default model
        changes its forward action in place (ModifyRule) instead of creating a second rule at its priority.
        It is created after ``first_ready`` (the model's first registered replica: VllmDeployment.first_ready);
        until then ``<name>-default-loading-rule`` answers 503 "model loading" (routing: loading rules).
        """
        if self._default_rule is not None:
            raise ValueError(f"{self._name}: the default model is already set; a listener has one /v1/* route")
        route = routing.default_route(model_name)
        loading_rule(
            self._name,
            route,
            listener_arn=self.listener_arn,
            tags=self._tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self._default_rule = listener_rule(
            self._name,
            route,
            listener_arn=self.listener_arn,
            target_group_arn=target_group_arn,
            tags=self._tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(first_ready)),
        )
        return self._default_rule
