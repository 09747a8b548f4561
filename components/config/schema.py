"""The whole ``vllm-aws:*`` config contract, ``StackConfig``: its sections, the image, tags and secrets, and
the checks across sections (distinct model names, rule priorities, the domain's length, the certificate's region).

No Pulumi: a secret read through ``pulumi.Config`` is kept as an opaque :class:`OutputSecret`, which only
:func:`components.config.sources.secret_output` unwraps. Checks that need the GPU and model catalogs (fit, TP,
compute capability) are the planner's (:mod:`components.planner`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, Field, SecretStr, field_validator, model_validator

from .._naming import TAG_PREFIX
from ..errors import NAMESPACE, ConfigError, ConfigIssue, did_you_mean
from ..network import routing
from . import aws_ids, aws_tags, secret_values
from .base import ConfigModel, LocatedError, MultiLocatedError
from .hardening import KmsKeyConfig
from .sections import (
    ACM_ARN,
    GP3_MAX_GIB,
    GP3_MIN_GIB,
    AccessConfig,
    CacheConfig,
    ImageBuildConfig,
    LoadBalancerConfig,
    ModelConfig,
    MonitoringConfig,
    NetworkConfig,
)

DEFAULT_IMAGE = "vllm/vllm-openai:v0.33.0"
WEBHOOK_KEY = "alertsWebhookUrl"
SECRET_KEYS = ("hfToken", "apiKey", WEBHOOK_KEY)
# Shown instead of a secret that cannot (or must not) be read, e.g. a `secure:` value offline.
SECRET_PLACEHOLDER = "[secret]"

_IMAGE = re.compile(
    r"^(?P<repo>[a-z0-9]+(?:[._/-][a-z0-9]+)*(?::\d+)?(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?$"
)
# scheme, a host of letters, digits, '.', '-' (and an optional port), then any path and query without whitespace.
_HTTPS_URL = re.compile(r"https://[A-Za-z0-9.-]+(:\d{1,5})?(/\S*)?")
# An ALB host-header condition value is at most 128 characters (botocore elbv2 HostHeaderConditionConfig.Values:
# "The maximum length of each string is 128 characters"); a model's is "<name>.<domain>".
_HOST_CONDITION_MAX = 128


def _check_pinned_image(value: str) -> str:
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


def _check_region(value: str) -> str:
    if not aws_ids.REGION.match(value):
        raise ValueError("is not an AWS region. Fix: e.g. `pulumi config set aws:region us-east-1`")
    return value


PinnedImage = Annotated[str, AfterValidator(_check_pinned_image)]
"""A Docker image reference with a release tag or a digest: never ``latest`` (or no tag)."""
AwsRegion = Annotated[str, AfterValidator(_check_region)]


class OutputSecret:
    """A secret read through ``pulumi.Config``: a ``pulumi.Output`` the schema holds without looking at it.

    The schema imports no Pulumi (the planner reads it); :func:`components.config.sources.secret_output` turns
    this back into the secret Output.
    """

    __slots__ = ("output",)

    def __init__(self, output: object) -> None:
        self.output = output

    def __repr__(self) -> str:
        return f"OutputSecret({SECRET_PLACEHOLDER!r})"


# Secrets are Pulumi secrets on the `pulumi up` path and pydantic SecretStr when read from a plain file;
# either way their value never reaches a repr, a log or the plan output.
SecretValue = SecretStr | OutputSecret


class PricingConfig(ConfigModel):
    """Where the stack's instance prices come from (``vllm-aws:pricing``)."""

    source: Annotated[
        Literal["snapshot", "live"],
        Field(
            description="snapshot: the bundled catalog's prices (dated). live: each model's on-demand price is read "
            "from the AWS Price List at `pulumi preview`/`up` (needs pricing:GetProducts); the offline plan always "
            "uses the snapshot."
        ),
    ] = "snapshot"


class StackConfig(ConfigModel):
    """Everything under the ``vllm-aws`` config namespace, plus ``aws:region``."""

    region: Annotated[AwsRegion, Field(alias="aws:region", description="From aws:region.")] = "us-east-1"
    image: Annotated[PinnedImage, Field(description="Pinned vllm/vllm-openai image; never `latest`.")] = DEFAULT_IMAGE
    models: Annotated[tuple[ModelConfig, ...], Field(min_length=1)]
    image_build: Annotated[
        ImageBuildConfig | None, Field(description="Custom image built on the hosts. Default: pull `image`.")
    ] = None
    pin_images_by_digest: Annotated[
        bool,
        Field(
            description="Run every image by the digest its tag has at plan time (index digest; a digest in `image` "
            "is used verbatim). Default: by tag."
        ),
    ] = False
    ami_id: Annotated[
        str | None, Field(description="GPU host AMI. Default: the latest Deep Learning Base GPU AMI (Ubuntu 24.04).")
    ] = None
    root_volume_gib: Annotated[
        int | Literal["auto"],
        Field(
            description="GPU hosts' gp3 root volume (AMI, Docker images). Default: auto, 150 GiB, which holds an "
            "image upgrade (the new image pulled beside the running one)."
        ),
    ] = "auto"
    cache: CacheConfig = CacheConfig()
    network: NetworkConfig = NetworkConfig()
    access: AccessConfig = AccessConfig()
    load_balancer: LoadBalancerConfig = LoadBalancerConfig()
    monitoring: MonitoringConfig = MonitoringConfig()
    pricing: PricingConfig = PricingConfig()
    kms_key: Annotated[
        KmsKeyConfig, Field(description="A customer managed key for volumes and secrets. Default: AWS managed keys.")
    ] = KmsKeyConfig()
    # pydantic copies a default per instance; ruff cannot tell that ConfigModel (another module) is a BaseModel.
    tags: Annotated[dict[str, str], Field(description="Extra tags on every AWS resource.")] = {}  # noqa: RUF012
    hf_token: Annotated[SecretValue | None, Field(description="Hugging Face token (secret).")] = None
    api_key: Annotated[SecretValue | None, Field(description="vLLM API key (secret). Default: generated.")] = None
    alerts_webhook_url: Annotated[
        SecretValue | None,
        Field(
            description="HTTPS URL Alertmanager POSTs every alert to, besides the alerts topic (secret: it often "
            "carries a token). Default: none."
        ),
    ] = None

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
            if key == "Name" or key.startswith(f"{TAG_PREFIX}:"):
                raise LocatedError(
                    (key,),
                    value,
                    "is set by vllm-aws itself (Name, and vllm-aws:* for discovery and cost reports)",
                    "use another key, e.g. 'team' or 'cost-center'",
                )
            if problem := aws_tags.key_problem(key):
                raise LocatedError((key,), key, f"key {problem}", "rename the key")
            if problem := aws_tags.value_problem(value):
                raise LocatedError((key,), value, f"value {problem}", "change the value")
        return tags

    @field_validator("ami_id")
    @classmethod
    def _ami_shape(cls, value: str | None) -> str | None:
        if value is not None and not aws_ids.AMI_ID.match(value):
            raise ValueError("is not an AMI id. Fix: use an id like 'ami-0123456789abcdef0'")
        return value

    @field_validator("root_volume_gib")
    @classmethod
    def _root_volume_range(cls, value: int | str) -> int | str:
        if isinstance(value, int) and not GP3_MIN_GIB <= value <= GP3_MAX_GIB:
            raise ValueError(
                f"must be between {GP3_MIN_GIB} and {GP3_MAX_GIB} GiB (gp3 limits). Fix: use 'auto' (150 GiB: the AMI"
                " and an image upgrade)"
            )
        return value

    @field_validator("api_key")
    @classmethod
    def _usable_api_key(cls, value: SecretValue | None) -> SecretValue | None:
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
    def _storable_hf_token(cls, value: SecretValue | None) -> SecretValue | None:
        if isinstance(value, SecretStr):
            token = value.get_secret_value()
            if not token:
                raise ValueError("is empty. Fix: remove it (ungated models need no token) or set the token")
            if problem := secret_values.ssm_value_problem(token):
                raise ValueError(f"{problem}. Fix: set the token exactly as Hugging Face shows it (hf_...)")
        return value

    @field_validator("alerts_webhook_url")
    @classmethod
    def _https_webhook(cls, value: SecretValue | None) -> SecretValue | None:
        # Offline a `secure:` value is the placeholder: it cannot be read, so it cannot be checked either.
        if isinstance(value, SecretStr) and (url := value.get_secret_value()) != SECRET_PLACEHOLDER:
            # The value is never repeated: the URL is the secret.
            if not _HTTPS_URL.fullmatch(url):
                raise ValueError(
                    "is not an https:// URL with a host (the value is not shown: it is a secret). Fix: "
                    f"`pulumi config set --secret {NAMESPACE}:{WEBHOOK_KEY} https://hooks.example.com/...`"
                )
            if problem := secret_values.ssm_value_problem(url):
                raise ValueError(f"{problem}. Fix: use the URL exactly as the receiving service gives it")
        return value

    @model_validator(mode="after")
    def _cross_checks(self) -> Self:
        # Every cross-section problem at once (each names its own key), not the first one found.
        problems: list[LocatedError] = []
        seen: dict[str, int] = {}
        for index, model in enumerate(self.models):
            if model.name in seen:
                problems.append(
                    LocatedError(
                        ("models", index, "name"),
                        model.name,
                        f"duplicates models[{seen[model.name]}].name; names key routes and resources",
                        "give every model a distinct name",
                    )
                )
            else:
                seen[model.name] = index
        problems += self._rule_priority_problems(seen)
        domain = self.load_balancer.domain
        longest = max(self.models, key=lambda model: len(model.name))
        if domain is not None and len(f"{longest.name}.{domain}") > _HOST_CONDITION_MAX:
            problems.append(
                LocatedError(
                    ("loadBalancer", "domain"),
                    domain,
                    f"makes the host name of models[{self.models.index(longest)}], '{longest.name}.<domain>', "
                    f"{len(longest.name) + 1 + len(domain)} characters; an ALB host condition allows "
                    f"{_HOST_CONDITION_MAX}",
                    f"use a domain of at most {_HOST_CONDITION_MAX - 1 - len(longest.name)} characters, or shorter "
                    "model names",
                )
            )
        problems.extend(self._transport_problems())
        if self.alerts_webhook_url is not None and not (
            self.monitoring.enabled and self.monitoring.placement == "dedicated"
        ):
            problems.append(
                LocatedError(
                    (WEBHOOK_KEY,),
                    SECRET_PLACEHOLDER,
                    "needs the dedicated monitoring host: only it runs Alertmanager with the webhook's secret file "
                    "(a GPU host's containers must not see it)",
                    "set monitoring.enabled: true and monitoring.placement: dedicated, or remove the key "
                    f"(`pulumi config rm {NAMESPACE}:{WEBHOOK_KEY}`)",
                )
            )
        arn = self.load_balancer.certificate_arn
        arn_match = ACM_ARN.match(arn) if arn else None
        if arn_match and arn_match.group("region") != self.region:
            problems.append(
                LocatedError(
                    ("loadBalancer", "certificateArn"),
                    arn,
                    f"is in {arn_match.group('region')} but the stack deploys to {self.region}; an ALB can only "
                    "use certificates from its own region",
                    f"request or import the certificate in {self.region}",
                )
            )
        if problems:
            raise MultiLocatedError(problems)
        return self

    def _transport_problems(self) -> list[LocatedError]:
        """HTTPS, or plain HTTP chosen explicitly: the API key and every prompt must not cross networks in clear."""
        section = self.load_balancer
        problems: list[LocatedError] = []
        if section.hosted_zone_id is not None and section.domain is None:
            problems.append(
                LocatedError(
                    ("loadBalancer", "hostedZoneId"),
                    section.hosted_zone_id,
                    "needs loadBalancer.domain: the certificate and the alias records are for that name",
                    "set loadBalancer.domain to a name in this zone, e.g. 'llm.example.com'",
                )
            )
        if section.allow_plain_http and section.https:
            problems.append(
                LocatedError(
                    ("loadBalancer", "allowPlainHttp"),
                    True,
                    "contradicts the HTTPS settings (certificateArn or hostedZoneId): port 80 only redirects to HTTPS",
                    "remove allowPlainHttp, or remove the HTTPS settings",
                )
            )
        if not section.https and not section.allow_plain_http:
            problems.append(
                LocatedError(
                    ("loadBalancer",),
                    # None (shown as "not set") when the section is absent: "got {}" would claim the user wrote it.
                    section.model_dump(by_alias=True, exclude_unset=True) or None,
                    "serves plain HTTP: the API key and every prompt would cross the network in clear",
                    "set loadBalancer.domain and loadBalancer.hostedZoneId (the stack requests the certificate), or "
                    "loadBalancer.certificateArn (an ACM certificate you have), or, knowingly, "
                    "loadBalancer.allowPlainHttp: true",
                )
            )
        return problems

    def _rule_priority_problems(self, model_indexes: Mapping[str, int]) -> list[LocatedError]:
        """Two rules cannot share a priority on one listener (CreateRule ``PriorityInUse``, botocore elbv2)."""
        pinned = self.load_balancer.rule_priorities
        unknown = [name for name in pinned if name not in model_indexes]
        if unknown:
            # Priorities of names that match no model cannot be checked against the others.
            return [
                LocatedError(
                    ("loadBalancer", "rulePriorities", name),
                    pinned[name],
                    "names no model in `models`",
                    f"did you mean '{hint}'?"
                    if (hint := did_you_mean(name, model_indexes))
                    else f"use one of: {', '.join(model_indexes)}",
                )
                for name in unknown
            ]
        priorities = routing.stack_priorities(list(model_indexes), pinned)
        problems: list[LocatedError] = []
        for holder, other in routing.priority_clashes(priorities):
            priority = priorities[other]
            free = routing.free_priority(set(priorities.values()), priority)
            loc: tuple[str | int, ...] = (
                ("loadBalancer", "rulePriorities", other)
                if other in pinned
                else ("models", model_indexes[other], "name")
            )
            problems.append(
                LocatedError(
                    loc,
                    pinned.get(other, other),
                    f"gives the listener rule of '{other}' priority {priority} (its loading rule: "
                    f"{routing.loading_slot(priority)}), one of which models[{model_indexes[holder]}] ('{holder}') "
                    "already holds; rule priorities must be unique on a listener",
                    f"pin another priority: `loadBalancer.rulePriorities: {{{other}: {free}}}` (1-10000)",
                )
            )
        return problems


class PartialConfigError(ConfigError):
    """Bad input, and the config without the bad keys and models when that still validates (``config``).

    The planner checks that config too (:func:`components.planner.plan.plan_config`), so one run reports every
    problem; ``model_indexes`` are the kept models' indexes in the user's list, for their key paths.
    """

    def __init__(
        self, issues: Sequence[ConfigIssue], config: StackConfig | None, model_indexes: tuple[int, ...]
    ) -> None:
        super().__init__(issues)
        self.config = config
        self.model_indexes = model_indexes
