"""Stack configuration: the ``vllm-aws:*`` config contract as frozen pydantic models.

This is the only module that reads ``pulumi.Config``. The same models validate a plain YAML file of
the ``Pulumi.<stack>.yaml`` shape (used by ``python -m components plan --config FILE``), so the CLI
and ``pulumi up`` reject exactly the same inputs with exactly the same messages.

Structural checks (types, ranges, names, CIDRs, image tags) live here; checks that need the GPU and
model catalogs (fit, TP, compute capability) live in :mod:`components.sizing`.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Self, get_origin

import pulumi
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from components import aws_ids, aws_tags, routing, secret_values
from components._naming import MODEL_NAME_MAX, target_group_name
from components.errors import NAMESPACE, ConfigError, ConfigIssue, did_you_mean, key_path
from components.pulumi_project_rules import parse_key, read_yaml, stack_file_issues

DEFAULT_IMAGE = "vllm/vllm-openai:v0.33.0"
SECRET_KEYS = ("hfToken", "apiKey")
# Shown instead of a secret that cannot (or must not) be read, e.g. a `secure:` value offline.
SECRET_PLACEHOLDER = "[secret]"

_DNS_NAME = re.compile(r"^[a-z]([a-z0-9-]*[a-z0-9])?$")
_IMAGE = re.compile(
    r"^(?P<repo>[a-z0-9]+(?:[._/-][a-z0-9]+)*(?::\d+)?(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?$"
)
# An ALB host-header condition value is at most 128 characters (botocore elbv2 HostHeaderConditionConfig.Values:
# "The maximum length of each string is 128 characters"); a model's is "<name>.<domain>".
_HOST_CONDITION_MAX = 128
_ACM_ARN = re.compile(r"^arn:aws(?:-[a-z]+)*:acm:(?P<region>[a-z0-9-]+):\d{12}:certificate/[0-9a-f-]{36}$")

# Secrets are Pulumi secrets on the `pulumi up` path and pydantic SecretStr when read from a plain file;
# either way their value never reaches a repr, a log or the plan output.
SecretInput = SecretStr | pulumi.Output[str]


class _ConfigModel(BaseModel):
    """Base for config sections: camelCase keys, unknown keys rejected, immutable once loaded."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        extra="forbid",
        frozen=True,
        arbitrary_types_allowed=True,
        validate_default=True,
    )


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


class ArchitectureConfig(_ConfigModel):
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


class ModelConfig(_ConfigModel):
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
        Field(ge=1, le=8, description="Servers per host, each on its own GPUs and port. Default: one per host."),
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


class ImageBuildConfig(_ConfigModel):
    """Build a custom image on each host, ``FROM`` the pinned ``image`` (``vllm-aws:imageBuild``)."""

    context: Annotated[str, Field(description="Build context directory, relative to the project.")]
    dockerfile: Annotated[str, Field(description="Dockerfile inside the context.")] = "Dockerfile"

    @model_validator(mode="after")
    def _dockerfile_uses_the_pinned_image(self) -> Self:
        dockerfile = Path(self.context) / self.dockerfile
        if not dockerfile.is_file():
            raise _LocatedError(
                ("imageBuild", "dockerfile"),
                str(dockerfile),
                "does not exist",
                "point imageBuild.context at a directory holding the Dockerfile (relative to the project)",
            )
        if "${VLLM_IMAGE}" not in dockerfile.read_text(encoding="utf-8"):
            raise _LocatedError(
                ("imageBuild", "dockerfile"),
                str(dockerfile),
                "does not build FROM the pinned image",
                "start it with `ARG VLLM_IMAGE` and `FROM ${VLLM_IMAGE}`; vllm-aws passes the pinned `image`",
            )
        return self


class CacheConfig(_ConfigModel):
    """EBS model cache volumes (``vllm-aws:cache``)."""

    size_gib: Annotated[
        int | Literal["auto"], Field(description="Volume size. Default: auto (weights x 2 + 50 GiB).")
    ] = "auto"
    throughput_mibps: Annotated[int, Field(ge=125, le=2000)] = 1000
    iops: Annotated[int, Field(ge=3000, le=80000)] = 6000
    retain_on_delete: Annotated[bool, Field(description="Keep caches on destroy. Default: true.")] = True
    snapshot_id: Annotated[str | None, Field(description="Seed new caches from this snapshot.")] = None

    @field_validator("size_gib")
    @classmethod
    def _size_range(cls, value: int | str) -> int | str:
        if isinstance(value, int) and not 20 <= value <= 65536:
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
        if self.throughput_mibps > self.iops / 4:
            raise _LocatedError(
                ("cache", "throughputMibps"),
                self.throughput_mibps,
                f"needs at least {self.throughput_mibps * 4} IOPS on gp3 (0.25 MiB/s per IOPS), "
                f"but iops is {self.iops}",
                f"set iops to {self.throughput_mibps * 4} or more, or lower throughputMibps to {self.iops // 4}",
            )
        if isinstance(self.size_gib, int) and self.iops > 500 * self.size_gib:
            raise _LocatedError(
                ("cache", "iops"),
                self.iops,
                f"exceeds gp3's 500 IOPS per GiB for a {self.size_gib} GiB volume",
                f"set sizeGib to {-(-self.iops // 500)} or more, or lower iops",
            )
        return self


class NetworkConfig(_ConfigModel):
    """Where the stack lives (``vllm-aws:network``). Default: the region's default VPC."""

    vpc_id: str | None = None
    public_subnet_ids: tuple[str, ...] | None = None
    private_subnet_ids: tuple[str, ...] | None = None
    allowed_cidrs: Annotated[tuple[Cidr, ...], Field(min_length=1, description="Who may reach the load balancer.")] = (
        "0.0.0.0/0",
    )

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
            raise _LocatedError(
                ("network", "vpcId"), None, "is required when subnet ids are given", "set network.vpcId to their VPC"
            )
        return self


class AccessConfig(_ConfigModel):
    """How Pulumi reaches each host's Docker daemon (``vllm-aws:access``)."""

    mode: Annotated[Literal["ssm", "ssh"], Field(description="ssm: SSH through Session Manager, no inbound port.")] = (
        "ssm"
    )
    ssh_cidrs: tuple[SshCidr, ...] = ()

    @model_validator(mode="after")
    def _ssh_needs_cidrs(self) -> Self:
        if self.mode == "ssh" and not self.ssh_cidrs:
            raise _LocatedError(
                ("access", "sshCidrs"),
                list(self.ssh_cidrs),
                "is required with mode 'ssh' (who may reach port 22)",
                "set access.sshCidrs, or use mode: ssm",
            )
        return self


class LoadBalancerConfig(_ConfigModel):
    """The ALB in front of every model (``vllm-aws:loadBalancer``)."""

    certificate_arn: Annotated[
        str | None, Field(description="ACM certificate for HTTPS. Default: HTTP only, with a warning.")
    ] = None
    idle_timeout_seconds: Annotated[int, Field(ge=1, le=4000)] = 600
    internal: bool = False
    deletion_protection: bool = False
    domain: Annotated[str | None, Field(description="Routes <model>.<domain> by host header when set.")] = None
    rule_priorities: Annotated[
        dict[str, Annotated[int, Field(ge=routing.STACK_PRIORITIES.start, le=routing.STACK_PRIORITIES.stop - 1)]],
        Field(
            description="Listener-rule priority of a model's path rule, by model name (its host rule: +25000). "
            "Default: derived from the name (components.routing)."
        ),
    ] = {}
    access_logs_bucket: Annotated[
        str | None, Field(description="S3 bucket for ALB access logs (its policy must allow ELB). Default: off.")
    ] = None

    @field_validator("access_logs_bucket")
    @classmethod
    def _bucket_shape(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", value):
            raise ValueError("is not an S3 bucket name. Fix: use the bucket's name, not its ARN or URL")
        return value

    @field_validator("certificate_arn")
    @classmethod
    def _arn_shape(cls, value: str | None) -> str | None:
        if value is not None and not _ACM_ARN.match(value):
            raise ValueError(
                "is not an ACM certificate ARN. Fix: use "
                "'arn:aws:acm:<region>:<account>:certificate/<uuid>' from `aws acm list-certificates`"
            )
        return value

    @field_validator("domain")
    @classmethod
    def _domain_shape(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]+$", value):
            raise ValueError("is not a DNS domain. Fix: use a lowercase domain like 'llm.example.com'")
        return value


class MonitoringConfig(_ConfigModel):
    """Prometheus and Grafana (``vllm-aws:monitoring``)."""

    enabled: bool = True
    placement: Literal["dedicated", "colocated"] = "dedicated"
    instance_type: str = "t3.medium"
    grafana: bool = True
    retention_days: Annotated[int, Field(ge=1, le=3650)] = 15


class StackConfig(_ConfigModel):
    """Everything under the ``vllm-aws`` config namespace, plus ``aws:region``."""

    region: Annotated[str, Field(alias="aws:region", description="From aws:region.")] = "us-east-1"
    image: Annotated[str, Field(description="Pinned vllm/vllm-openai image; never `latest`.")] = DEFAULT_IMAGE
    models: Annotated[tuple[ModelConfig, ...], Field(min_length=1)]
    image_build: Annotated[
        ImageBuildConfig | None, Field(description="Custom image built on the hosts. Default: pull `image`.")
    ] = None
    ami_id: Annotated[
        str | None, Field(description="GPU host AMI. Default: the latest Deep Learning Base GPU AMI (Ubuntu 24.04).")
    ] = None
    cache: CacheConfig = CacheConfig()
    network: NetworkConfig = NetworkConfig()
    access: AccessConfig = AccessConfig()
    load_balancer: LoadBalancerConfig = LoadBalancerConfig()
    monitoring: MonitoringConfig = MonitoringConfig()
    tags: Annotated[dict[str, str], Field(description="Extra tags on every AWS resource.")] = {}
    hf_token: Annotated[SecretInput | None, Field(description="Hugging Face token (secret).")] = None
    api_key: Annotated[SecretInput | None, Field(description="vLLM API key (secret). Default: generated.")] = None

    @field_validator("image")
    @classmethod
    def _pinned_image(cls, value: str) -> str:
        match = _IMAGE.match(value)
        if not match:
            raise ValueError("is not a Docker image reference. Fix: use e.g. 'vllm/vllm-openai:v0.33.0'")
        tag, digest = match.group("tag"), match.group("digest")
        if digest is None and (tag is None or tag == "latest" or tag.startswith("latest-")):
            raise ValueError(
                "is not pinned: `latest` (or no tag) changes under you and replaces every container on the "
                f"next `pulumi up`. Fix: pin a release tag, e.g. '{DEFAULT_IMAGE}', or a digest '@sha256:...'"
            )
        return value

    @field_validator("tags")
    @classmethod
    def _taggable_everywhere(cls, tags: dict[str, str]) -> dict[str, str]:
        # Every AWS resource gets these tags: one that EC2 takes but ELBv2 refuses fails `up` halfway (aws_tags).
        if len(tags) > aws_tags.MAX_USER_TAGS:
            raise ValueError(
                f"has {len(tags)} tags; AWS allows {aws_tags.MAX_TAGS_PER_RESOURCE} per resource and vllm-aws "
                f"keeps {aws_tags.RESERVED_FOR_THE_STACK} for its own. Fix: keep at most {aws_tags.MAX_USER_TAGS}"
            )
        for key, value in tags.items():
            if key == "Name" or key.startswith(f"{NAMESPACE}:"):
                raise _LocatedError(
                    ("tags", key),
                    value,
                    "is set by vllm-aws itself (Name, and vllm-aws:* for discovery and cost reports)",
                    "use another key, e.g. 'team' or 'cost-center'",
                )
            if problem := aws_tags.key_problem(key):
                raise _LocatedError(("tags", key), key, f"key {problem}", "rename the key")
            if problem := aws_tags.value_problem(value):
                raise _LocatedError(("tags", key), value, f"value {problem}", "change the value")
        return tags

    @field_validator("ami_id")
    @classmethod
    def _ami_shape(cls, value: str | None) -> str | None:
        if value is not None and not aws_ids.AMI_ID.match(value):
            raise ValueError("is not an AMI id. Fix: use an id like 'ami-0123456789abcdef0'")
        return value

    @field_validator("region")
    @classmethod
    def _region_shape(cls, value: str) -> str:
        if not aws_ids.REGION.match(value):
            raise ValueError("is not an AWS region. Fix: e.g. `pulumi config set aws:region us-east-1`")
        return value

    @field_validator("api_key")
    @classmethod
    def _usable_api_key(cls, value: SecretInput | None) -> SecretInput | None:
        # An Output is only ever given by a program building the config itself; its value is not known here.
        if isinstance(value, SecretStr):
            key = value.get_secret_value()
            if not key:
                raise ValueError(
                    "is empty: vLLM would serve /v1 without authentication. Fix: set a key "
                    "(`pulumi config set --secret vllm-aws:apiKey ...`) or remove it to have one generated"
                )
            if problem := secret_values.ssm_value_problem(key) or secret_values.bearer_token_problem(key):
                raise ValueError(
                    f"{problem}. Fix: use printable ASCII without {{{{...}}}}, at most "
                    f"{secret_values.SSM_STANDARD_VALUE_BYTES} bytes, e.g. `openssl rand -hex 32`"
                )
        return value

    @field_validator("hf_token")
    @classmethod
    def _storable_hf_token(cls, value: SecretInput | None) -> SecretInput | None:
        if isinstance(value, SecretStr):
            token = value.get_secret_value()
            if not token:
                raise ValueError("is empty. Fix: remove it (ungated models need no token) or set the token")
            if problem := secret_values.ssm_value_problem(token):
                raise ValueError(f"{problem}. Fix: set the token exactly as Hugging Face shows it (hf_...)")
        return value

    @model_validator(mode="after")
    def _cross_checks(self) -> Self:
        seen: dict[str, int] = {}
        for index, model in enumerate(self.models):
            if model.name in seen:
                raise _LocatedError(
                    ("models", index, "name"),
                    model.name,
                    f"duplicates models[{seen[model.name]}].name; names key routes and resources",
                    "give every model a distinct name",
                )
            seen[model.name] = index
        self._check_rule_priorities(seen)
        domain = self.load_balancer.domain
        longest = max(self.models, key=lambda model: len(model.name))
        if domain is not None and len(f"{longest.name}.{domain}") > _HOST_CONDITION_MAX:
            raise _LocatedError(
                ("loadBalancer", "domain"),
                domain,
                f"makes the host name of models[{self.models.index(longest)}], '{longest.name}.<domain>', "
                f"{len(longest.name) + 1 + len(domain)} characters; an ALB host condition allows {_HOST_CONDITION_MAX}",
                f"use a domain of at most {_HOST_CONDITION_MAX - 1 - len(longest.name)} characters, or shorter model "
                "names",
            )
        arn = self.load_balancer.certificate_arn
        arn_match = _ACM_ARN.match(arn) if arn else None
        if arn_match and arn_match.group("region") != self.region:
            raise _LocatedError(
                ("loadBalancer", "certificateArn"),
                arn,
                f"is in {arn_match.group('region')} but the stack deploys to {self.region}; an ALB can only "
                "use certificates from its own region",
                f"request or import the certificate in {self.region}",
            )
        return self

    def _check_rule_priorities(self, model_indexes: Mapping[str, int]) -> None:
        """Two rules cannot share a priority on one listener (CreateRule ``PriorityInUse``, botocore elbv2)."""
        pinned = self.load_balancer.rule_priorities
        for name, priority in pinned.items():
            if name not in model_indexes:
                hint = did_you_mean(name, model_indexes)
                raise _LocatedError(
                    ("loadBalancer", "rulePriorities", name),
                    priority,
                    "names no model in `models`",
                    f"did you mean '{hint}'?" if hint else f"use one of: {', '.join(model_indexes)}",
                )
        priorities = routing.stack_priorities(list(model_indexes), pinned)
        for holder, other in routing.priority_clashes(priorities):
            priority = priorities[other]
            free = routing.free_priority(set(priorities.values()), priority)
            loc: tuple[str | int, ...] = (
                ("loadBalancer", "rulePriorities", other)
                if other in pinned
                else ("models", model_indexes[other], "name")
            )
            raise _LocatedError(
                loc,
                pinned.get(other, other),
                f"gives the listener rule of '{other}' priority {priority}, which models[{model_indexes[holder]}] "
                f"('{holder}') already holds; rule priorities must be unique on a listener",
                f"pin another priority: `loadBalancer.rulePriorities: {{{other}: {free}}}` (1-10000)",
            )


class _LocatedError(ValueError):
    """A cross-field failure that belongs to a key other than the validator's own."""

    def __init__(self, loc: tuple[str | int, ...], value: object, problem: str, fix: str) -> None:
        super().__init__(problem)
        self.issue = ConfigIssue(key_path(loc), value, problem, fix)


# --- loading -----------------------------------------------------------------------------------------

_TOP_LEVEL_KEYS = tuple((field.alias or name) for name, field in StackConfig.model_fields.items() if name != "region")


def parse_stack_config(raw: Mapping[str, Any]) -> StackConfig:
    """Validate a ``{key: value}`` map of un-namespaced ``vllm-aws`` keys (plus ``aws:region``).

    Raises :class:`ConfigError` listing every problem, each with its key path, value and fix.
    """
    issues = [
        ConfigIssue(
            key_path((key,)),
            raw[key],
            "is not a vllm-aws config key",
            f"did you mean '{hint}'?"
            if (hint := did_you_mean(key, _TOP_LEVEL_KEYS))
            else f"remove it; known keys: {', '.join(_TOP_LEVEL_KEYS)}",
        )
        for key in raw
        if key not in _TOP_LEVEL_KEYS and key != "aws:region"
    ]
    if issues:
        raise ConfigError(issues)
    try:
        return StackConfig.model_validate(dict(raw))
    except ValidationError as exc:
        raise ConfigError(_issues_from_pydantic(exc)) from None


def _issues_from_pydantic(exc: ValidationError) -> list[ConfigIssue]:
    issues: list[ConfigIssue] = []
    for error in exc.errors(include_url=False):
        located = (error.get("ctx") or {}).get("error")
        if isinstance(located, _LocatedError):
            issues.append(located.issue)
            continue
        loc = _config_loc(tuple(error["loc"]))
        if loc != tuple(error["loc"]) and any(issue.path == key_path(loc) for issue in issues):
            continue  # another member of the same union failed on the same key: one issue per key
        value = error.get("input")
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            candidates = _field_aliases_at(loc[:-1])
            hint = did_you_mean(str(loc[-1]), candidates)
            fix = f"did you mean '{hint}'?" if hint else f"remove it; known keys: {', '.join(candidates)}"
            issues.append(ConfigIssue(key_path(loc), value, "is not a known key here", fix))
            continue
        if error["type"] == "missing":
            issues.append(ConfigIssue(key_path(loc), None, "is required", "set it"))
            continue
        if error["type"] == "too_short" and len(value or ()) >= (error.get("ctx") or {}).get("min_length", 0):
            continue  # pydantic counts only the valid entries; the invalid ones are reported on their own
        problem, _, fix = message.partition(". Fix: ")
        if not fix:
            fix = _generic_fix(error["type"], error.get("ctx") or {})
        issues.append(ConfigIssue(key_path(loc), _redact(loc, value), problem, fix))
    return issues


def _config_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """A pydantic loc without the tags pydantic adds per union member (``sizeGib.int``, ``hfToken.is-instance[...]``).

    Keeps field names, list indexes and the keys of dict-valued fields (``tags.team``).
    """
    model: type[BaseModel] | None = StackConfig
    annotation: Any = None
    out: list[Any] = []
    for part in loc:
        if isinstance(part, int):
            out.append(part)
        elif model is not None:
            field = next((f for n, f in model.model_fields.items() if (f.alias or n) == part), None)
            if field is None:
                return loc  # an unknown key (extra_forbidden): nothing to strip
            out.append(part)
            annotation = field.annotation
            model = _model_in(annotation)
        elif get_origin(annotation) is dict:
            out.append(part)
    return tuple(out)


def _redact(loc: tuple[Any, ...], value: object) -> object:
    return SECRET_PLACEHOLDER if loc and loc[0] in SECRET_KEYS else value


def _generic_fix(error_type: str, ctx: Mapping[str, Any]) -> str:
    if "expected" in ctx:
        return f"use one of {ctx['expected']}"
    bounds = {"ge": "at least", "gt": "more than", "le": "at most", "lt": "less than"}
    for key, words in bounds.items():
        if key in ctx:
            return f"use a value {words} {ctx[key]}"
    if error_type.endswith("_type") or error_type.endswith("_parsing"):
        kind = error_type.split("_", maxsplit=1)[0]
        return f"use {'an' if kind[0] in 'aeiou' else 'a'} {kind} value"
    if error_type == "too_short":
        return "give at least one entry"
    if error_type == "string_too_short":
        return "give a non-empty value"
    return "see the config reference in README.md"


def _field_aliases_at(loc: tuple[Any, ...]) -> list[str]:
    """Known keys of the model at ``loc`` (for did-you-mean on an unknown key)."""
    model: type[BaseModel] = StackConfig
    for part in loc:
        if isinstance(part, int):
            continue
        field = next(
            (f for n, f in model.model_fields.items() if (f.alias or n) == part),
            None,
        )
        annotation = getattr(field, "annotation", None)
        nested = _model_in(annotation)
        if nested is None:
            break
        model = nested
    return [f.alias or n for n, f in model.model_fields.items()]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def raw_from_stack_file(path: Path) -> tuple[dict[str, Any], list[str]]:
    """Read a ``Pulumi.<stack>.yaml``-shaped file into un-namespaced keys.

    Returns the raw map and the keys that are secrets. ``secure:`` values cannot be decrypted offline and
    become the placeholder ``[secret]``; plain values of secret keys are kept (for offline checks) but
    treated as secrets from here on. A file the Pulumi CLI would refuse (a key not of the form
    ``<namespace>:<name>``, a ``secure:`` value no secrets manager can decrypt) is a ConfigError.
    """
    document = read_yaml(path)
    if not isinstance(document.get("config"), dict):
        raise ConfigError(
            [ConfigIssue(f"{path}:config", None, "has no `config:` map", "use the Pulumi.<stack>.yaml shape")]
        )
    issues = stack_file_issues(document)
    if issues:
        raise ConfigError(issues)
    raw: dict[str, Any] = {}
    secret_keys: list[str] = []
    for full_key, value in document["config"].items():
        namespace, key = parse_key(str(full_key)) or ("", "")
        if (namespace, key) == ("aws", "region"):
            raw["aws:region"] = value
        elif namespace == NAMESPACE:
            is_encrypted = isinstance(value, dict) and set(value) == {"secure"}
            if is_encrypted or key in SECRET_KEYS:
                secret_keys.append(key)
            raw[key] = SECRET_PLACEHOLDER if is_encrypted else value
    return raw, secret_keys


def to_pulumi_config(raw: Mapping[str, Any]) -> dict[str, str]:
    """Raw keys -> the fully qualified, JSON-encoded map ``pulumi.runtime.set_all_config`` expects."""
    out: dict[str, str] = {}
    for key, value in raw.items():
        full_key = key if ":" in key else f"{NAMESPACE}:{key}"
        out[full_key] = value if isinstance(value, str) else json.dumps(value)
    return out


def load_stack_config() -> StackConfig:
    """Read and validate the stack's config through ``pulumi.Config`` (the ``pulumi up`` path)."""
    config = pulumi.Config(NAMESPACE)
    raw: dict[str, Any] = {}
    for full_key in _all_config_keys():
        namespace, _, key = full_key.partition(":")
        if namespace != NAMESPACE or key in SECRET_KEYS:
            continue
        value = config.get(key)
        try:
            raw[key] = json.loads(value) if value is not None else None
        except json.JSONDecodeError:
            raw[key] = value  # a plain string such as the image
    region = pulumi.Config("aws").get("region")
    if region is not None:
        raw["aws:region"] = region
    for key in SECRET_KEYS:
        # What get_secret reads too (pulumi/config.py: Output.secret(self.get(key))), kept as a SecretStr so the
        # value is validated like a plain file's before anything is registered; secret_output marks it secret.
        secret = config.get(key)
        if secret is not None:
            raw[key] = SecretStr(secret)
    return parse_stack_config(raw)


def _all_config_keys() -> list[str]:
    # pulumi.Config cannot list keys, yet unknown keys must be rejected: read the runtime's config map
    # (set by the language host through PULUMI_CONFIG, or by set_all_config under mocks).
    keys = set(pulumi.runtime.config.CONFIG.get()) | set(pulumi.runtime.config.get_config_env())
    return sorted(keys)


def secret_output(value: SecretInput) -> pulumi.Output[str]:
    """A secret config value as a Pulumi secret Output, whichever way it was loaded."""
    if isinstance(value, SecretStr):
        return pulumi.Output.secret(value.get_secret_value())
    return pulumi.Output.secret(value)
