"""The sections of the ``vllm-aws:*`` config contract (``models[i]``, ``cache``, ``network``, ...) as frozen
pydantic models, with their structural checks (types, ranges, names, CIDRs).

No Pulumi and no config source: :mod:`.sources` reads them, :mod:`.translate` turns failures into
:class:`~components.errors.ConfigIssue` with key paths, the planner (which imports no Pulumi) reads the models.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, Field, field_validator, model_validator

from .._naming import MODEL_NAME_MAX, target_group_name
from ..network import routing
from . import aws_ids
from .base import ConfigModel, LocatedError
from .hardening import AccessLogsConfig, WafConfig

# Defined once for the config, Monitoring and the Prometheus renderer, which import them from here.
# gp3's throughput limit (botocore data/ec2/2016-11-15 CreateVolumeRequest.Throughput: "Valid Range: 125 - 2000
# MiB/s"), at most 0.25 MiB/s per provisioned IOPS (AWS EBS gp3 volumes).
GP3_MIN_MIBPS = 125  # also gp3's baseline: free with every volume
GP3_MAX_MIBPS = 2000
GP3_MIN_GIB, GP3_MAX_GIB = 1, 65536  # botocore 1.43.11 ec2 ModifyVolumeRequest.Size: 'gp3: 1 - 65,536 GiB'
MAX_SERVERS_PER_HOST = 8  # replicasPerHost's limit: vLLM servers on one host, on ports 8000..8007
DEFAULT_RETENTION_DAYS = 15  # Prometheus retention

_DNS_NAME = re.compile(r"^[a-z]([a-z0-9-]*[a-z0-9])?$")
_ZONE_ID = re.compile(r"^Z[0-9A-Z]{1,31}$")
ACM_ARN = re.compile(r"^arn:aws(?:-[a-z]+)*:acm:(?P<region>[a-z0-9-]+):\d{12}:certificate/[0-9a-f-]{36}$")


def _check_cidr(value: str) -> str:
    try:
        ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValueError(
            f"not a valid CIDR block ({exc}). Fix: write a network address with a prefix length, "
            "e.g. '10.0.0.0/16' or '203.0.113.7/32'"
        ) from None
    return value


def _is_open_to_world(cidr: str) -> bool:
    return ipaddress.ip_network(cidr, strict=True).prefixlen == 0


def _check_ssh_cidr(cidr: str) -> str:
    if _is_open_to_world(cidr):
        raise ValueError(
            f"{cidr} opens SSH to the whole internet. Fix: list your runner's or VPN's CIDR, "
            "or use mode: ssm (no inbound port at all)"
        )
    return cidr


# Checked per entry, so an error names the entry (`network.allowedCidrs[1]`), not the whole list.
Cidr = Annotated[str, AfterValidator(_check_cidr), Field(description="An IPv4 or IPv6 CIDR block.")]
SshCidr = Annotated[Cidr, AfterValidator(_check_ssh_cidr)]


class ArchitectureConfig(ConfigModel):
    """Shape of a model that is not in the catalog, so the planner can size it.

    Either give the numbers, or ``configJson`` (a local Hugging Face ``config.json``) and any overrides.
    """

    config_json: Annotated[str | None, Field(description="Path to a local HF config.json to read the shape from.")] = (
        None
    )
    num_layers: Annotated[int | None, Field(ge=1)] = None
    num_attention_heads: Annotated[int | None, Field(ge=1)] = None
    num_key_value_heads: Annotated[int | None, Field(ge=1)] = None
    head_dim: Annotated[int | None, Field(ge=1)] = None
    params_billion: Annotated[float | None, Field(gt=0)] = None
    max_position_embeddings: Annotated[int | None, Field(ge=1)] = None
    hidden_size: Annotated[int | None, Field(ge=1, description="Default: heads x headDim.")] = None
    intermediate_size: Annotated[int | None, Field(ge=1, description="Default: 3.5 x hiddenSize.")] = None
    vocab_size: Annotated[int | None, Field(ge=1, description="Default: 32000.")] = None
    default_dtype: Literal["bfloat16", "float16"] = "bfloat16"
    gated: Annotated[bool, Field(description="Needs an HF token. Default: false.")] = False


class ModelConfig(ConfigModel):
    """One served model (``vllm-aws:models[i]``)."""

    name: Annotated[str, Field(description="DNS-safe name: served-model-name, route and resource key.")]
    id: Annotated[str, Field(min_length=1, description="Hugging Face repo id, or a path on the cache.")]
    revision: Annotated[str | None, Field(description="Pinned commit sha or tag. Default: main.")] = None
    tensor_parallel_size: Annotated[int, Field(ge=1, le=8)] = 1
    instance_type: Annotated[
        str | None, Field(description="EC2 type. Default: the cheapest catalog type that fits.")
    ] = None
    replicas: Annotated[int, Field(ge=1, le=32, description="vLLM servers for this model.")] = 1
    replicas_per_host: Annotated[
        int,
        Field(
            ge=1,
            le=MAX_SERVERS_PER_HOST,
            description="Servers per host, each on its own GPUs and port. Default: one per host.",
        ),
    ] = 1
    max_model_len: Annotated[
        int | None, Field(ge=16, description="Context length. Default: the model's own limit.")
    ] = None
    quantization: Literal["awq", "gptq", "fp8", "compressed-tensors"] | None = None
    dtype: Literal["auto", "bfloat16", "float16"] = "auto"
    kv_cache_dtype: Literal["auto", "fp8"] = "auto"
    gpu_memory_utilization: Annotated[float, Field(ge=0.1, le=0.99)] = 0.92
    max_num_seqs: Annotated[int | None, Field(ge=1, description="Default: vLLM's for the GPU.")] = None
    max_num_batched_tokens: Annotated[int | None, Field(ge=16, description="Default: vLLM's for the GPU.")] = None
    enable_prefix_caching: bool = True
    extra_args: Annotated[
        tuple[str, ...], Field(description="Extra `vllm serve` arguments, checked against vLLM's flags.")
    ] = ()
    architecture: ArchitectureConfig | None = None
    spot: Annotated[bool, Field(description="One-time spot instances. Default: on-demand.")] = False

    @field_validator("name")
    @classmethod
    def _dns_safe(cls, value: str) -> str:
        if not _DNS_NAME.match(value):
            raise ValueError(
                "must be DNS-safe: lowercase letters, digits and '-', starting with a letter, not ending "
                "with '-'. Fix: rename it, e.g. 'llama-8b'"
            )
        if len(value) > MODEL_NAME_MAX:
            raise ValueError(
                f"has {len(value)} characters, more than {MODEL_NAME_MAX}: the model's target group is named "
                f"'{target_group_name(value)}-' plus 7 random characters, and ELBv2 allows 32. "
                f"Fix: shorten it to at most {MODEL_NAME_MAX} characters, e.g. '{value[:MODEL_NAME_MAX].rstrip('-')}'"
            )
        return value


class ImageBuildConfig(ConfigModel):
    """Build a custom image on each host, ``FROM`` the pinned ``image`` (``vllm-aws:imageBuild``)."""

    context: Annotated[str, Field(description="Build context directory, relative to the project.")]
    dockerfile: Annotated[str, Field(description="Dockerfile inside the context.")] = "Dockerfile"

    @model_validator(mode="after")
    def _dockerfile_uses_the_pinned_image(self) -> Self:
        dockerfile = Path(self.context) / self.dockerfile
        if not dockerfile.is_file():
            raise LocatedError(
                ("dockerfile",),
                str(dockerfile),
                "does not exist",
                "point imageBuild.context at a directory holding the Dockerfile (relative to the project)",
            )
        if "${VLLM_IMAGE}" not in dockerfile.read_text(encoding="utf-8"):
            raise LocatedError(
                ("dockerfile",),
                str(dockerfile),
                "does not build FROM the pinned image",
                "start it with `ARG VLLM_IMAGE` and `FROM ${VLLM_IMAGE}`; vllm-aws passes the pinned `image`",
            )
        return self


class CacheConfig(ConfigModel):
    """EBS model cache volumes (``vllm-aws:cache``)."""

    size_gib: Annotated[
        int | Literal["auto"], Field(description="Volume size. Default: auto (weights x 2 + 50 GiB).")
    ] = "auto"
    throughput_mibps: Annotated[
        int | None,
        Field(
            ge=GP3_MIN_MIBPS,
            le=GP3_MAX_MIBPS,
            description="Default: the instance's EBS bandwidth, at most 2000 and iops / 4 (paying for more is waste).",
        ),
    ] = None
    iops: Annotated[int, Field(ge=3000, le=80000)] = 6000
    retain_on_delete: Annotated[bool, Field(description="Keep caches on destroy. Default: true.")] = True
    snapshot_id: Annotated[str | None, Field(description="Seed new caches from this snapshot.")] = None

    @field_validator("size_gib")
    @classmethod
    def _size_range(cls, value: int | str) -> int | str:
        if isinstance(value, int) and not 20 <= value <= GP3_MAX_GIB:
            raise ValueError("must be between 20 and 65536 GiB (gp3 limits). Fix: use 'auto' or a size")
        return value

    @field_validator("snapshot_id")
    @classmethod
    def _snapshot_shape(cls, value: str | None) -> str | None:
        if value is not None and not aws_ids.SNAPSHOT_ID.match(value):
            raise ValueError("is not an EBS snapshot id. Fix: use an id like 'snap-0123456789abcdef0'")
        return value

    @model_validator(mode="after")
    def _gp3_ratios(self) -> Self:
        # gp3: throughput at most 0.25 MiB/s per provisioned IOPS (AWS EBS volume types).
        if self.throughput_mibps is not None and self.throughput_mibps > self.iops / 4:
            raise LocatedError(
                ("throughputMibps",),
                self.throughput_mibps,
                f"needs at least {self.throughput_mibps * 4} IOPS on gp3 (0.25 MiB/s per IOPS), "
                f"but iops is {self.iops}",
                f"set iops to {self.throughput_mibps * 4} or more, or lower throughputMibps to {self.iops // 4}",
            )
        if isinstance(self.size_gib, int) and self.iops > 500 * self.size_gib:
            raise LocatedError(
                ("iops",),
                self.iops,
                f"exceeds gp3's 500 IOPS per GiB for a {self.size_gib} GiB volume",
                f"set sizeGib to {-(-self.iops // 500)} or more, or lower iops",
            )
        return self


class NetworkConfig(ConfigModel):
    """Where the stack lives (``vllm-aws:network``). Default: the region's default VPC."""

    vpc_id: str | None = None
    public_subnet_ids: tuple[str, ...] | None = None
    private_subnet_ids: tuple[str, ...] | None = None
    allowed_cidrs: Annotated[tuple[Cidr, ...], Field(min_length=1, description="Who may reach the load balancer.")] = (
        "0.0.0.0/0",
    )
    host_egress: Annotated[
        Literal["restricted", "open"],
        Field(
            description="What the hosts may open outbound: `restricted`, HTTPS and HTTP only (weights, images, AWS "
            "APIs, OS packages) plus the scrapes; `open`, anything (e.g. a model whose code fetches over other ports)."
        ),
    ] = "restricted"

    @field_validator("vpc_id")
    @classmethod
    def _vpc_shape(cls, value: str | None) -> str | None:
        if value is not None and not aws_ids.VPC_ID.match(value):
            raise ValueError("is not a VPC id. Fix: use an id like 'vpc-0123456789abcdef0'")
        return value

    @field_validator("public_subnet_ids", "private_subnet_ids")
    @classmethod
    def _subnet_shape(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        for subnet in value or ():
            if not aws_ids.SUBNET_ID.match(subnet):
                raise ValueError(f"{subnet!r} is not a subnet id. Fix: use ids like 'subnet-0123456789abcdef0'")
        return value

    @model_validator(mode="after")
    def _subnets_need_vpc(self) -> Self:
        if (self.public_subnet_ids or self.private_subnet_ids) and self.vpc_id is None:
            raise LocatedError(
                ("vpcId",), None, "is required when subnet ids are given", "set network.vpcId to their VPC"
            )
        if self.vpc_id is not None and not (self.public_subnet_ids or self.private_subnet_ids):
            # Without them no host and no load balancer has a subnet: only the default VPC's are found by itself.
            raise LocatedError(
                ("publicSubnetIds",),
                None,
                f"is required with network.vpcId ({self.vpc_id}): the load balancer needs subnets in two zones",
                "list the VPC's public subnets (and privateSubnetIds for hosts behind a NAT), or remove "
                "network.vpcId to use the default VPC",
            )
        return self


class AccessConfig(ConfigModel):
    """How Pulumi reaches each host's Docker daemon (``vllm-aws:access``)."""

    mode: Annotated[Literal["ssm", "ssh"], Field(description="ssm: SSH through Session Manager, no inbound port.")] = (
        "ssm"
    )
    ssh_cidrs: tuple[SshCidr, ...] = ()

    @model_validator(mode="after")
    def _ssh_needs_cidrs(self) -> Self:
        if self.mode == "ssh" and not self.ssh_cidrs:
            raise LocatedError(
                ("sshCidrs",),
                list(self.ssh_cidrs),
                "is required with mode 'ssh' (who may reach port 22)",
                "set access.sshCidrs, or use mode: ssm",
            )
        return self


class LoadBalancerConfig(ConfigModel):
    """The ALB in front of every model (``vllm-aws:loadBalancer``)."""

    certificate_arn: Annotated[
        str | None, Field(description="An existing ACM certificate for HTTPS (instead of one requested by the stack).")
    ] = None
    hosted_zone_id: Annotated[
        str | None,
        Field(
            description="Route 53 hosted zone of `domain`: the stack requests a DNS-validated ACM certificate for "
            "<domain> and *.<domain> and creates the alias records."
        ),
    ] = None
    allow_plain_http: Annotated[
        bool, Field(description="Serve plain HTTP (no certificate). Required when there is no HTTPS.")
    ] = False
    idle_timeout_seconds: Annotated[int, Field(ge=1, le=4000)] = 600
    internal: bool = False
    deletion_protection: bool = False
    domain: Annotated[str | None, Field(description="Routes <model>.<domain> by host header when set.")] = None
    rule_priorities: Annotated[
        dict[str, Annotated[int, Field(ge=routing.STACK_PRIORITIES.start, le=routing.STACK_PRIORITIES.stop - 1)]],
        Field(
            description="Listener-rule priority of a model's path rule, by model name (its host rule: +25000). "
            "Default: derived from the name (components.network.routing)."
        ),
    ] = {}  # noqa: RUF012 (pydantic copies the default; ruff cannot see that ConfigModel is a BaseModel)
    waf: Annotated[WafConfig, Field(description="A WAF web ACL on the ALB. Default: none.")] = WafConfig()
    access_logs: Annotated[AccessLogsConfig, Field(description="ALB access logs to S3. Default: off.")] = (
        AccessLogsConfig()
    )

    @field_validator("certificate_arn")
    @classmethod
    def _arn_shape(cls, value: str | None) -> str | None:
        if value is not None and not ACM_ARN.match(value):
            raise ValueError(
                "is not an ACM certificate ARN. Fix: use "
                "'arn:aws:acm:<region>:<account>:certificate/<uuid>' from `aws acm list-certificates`"
            )
        return value

    @field_validator("hosted_zone_id")
    @classmethod
    def _zone_shape(cls, value: str | None) -> str | None:
        # Route 53 hosted zone ids: 'Z' and upper-case letters and digits, at most 32 characters (botocore
        # route53 2013-04-01 shape ResourceId, max 32); the API also prints them as '/hostedzone/<id>'.
        if value is not None and not _ZONE_ID.match(value):
            raise ValueError(
                "is not a Route 53 hosted zone id. Fix: use the id alone, like 'Z0123456789ABCDEFGHIJ', from "
                "`aws route53 list-hosted-zones-by-name` (without '/hostedzone/')"
            )
        return value

    @property
    def https(self) -> bool:
        """Whether the listener serves HTTPS: an existing certificate, or one the stack requests for its zone."""
        return self.certificate_arn is not None or self.hosted_zone_id is not None

    @field_validator("domain")
    @classmethod
    def _domain_shape(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]+$", value):
            raise ValueError("is not a DNS domain. Fix: use a lowercase domain like 'llm.example.com'")
        return value


# An address SNS can mail: one '@', no spaces or angle brackets (a display name such as "Ops <ops@x>" is refused).
_EMAIL = re.compile(r"^[^@\s<>,;]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
MAX_ALERT_EMAILS = 10


def _check_email(value: str) -> str:
    if not _EMAIL.fullmatch(value):
        raise ValueError("is not an email address SNS can mail. Fix: give a plain address like 'ops@example.com'")
    return value


class AlertsConfig(ConfigModel):
    """Where alerts go (``vllm-aws:monitoring.alerts``): the stack's SNS topic, with these email subscriptions."""

    emails: Annotated[
        tuple[Annotated[str, AfterValidator(_check_email)], ...],
        Field(
            max_length=MAX_ALERT_EMAILS,
            description="Addresses subscribed to the alerts topic (each confirms a link SNS mails first). "
            "Default: none (subscribe to the topic yourself).",
        ),
    ] = ()

    @field_validator("emails")
    @classmethod
    def _distinct(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        lowered = [email.lower() for email in value]
        if len(set(lowered)) != len(lowered):
            raise ValueError("lists an address twice. Fix: list each address once")
        return value


class MonitoringConfig(ConfigModel):
    """Prometheus and Grafana (``vllm-aws:monitoring``)."""

    enabled: bool = True
    placement: Literal["dedicated", "colocated"] = "dedicated"
    instance_type: str = "t3.medium"
    grafana: bool = True
    retention_days: Annotated[int, Field(ge=1, le=3650)] = DEFAULT_RETENTION_DAYS
    alerts: AlertsConfig = AlertsConfig()
