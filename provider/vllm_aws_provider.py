"""The cross-language face of ``vllm_aws.VllmDeployment``: TypedDict inputs the SDK analyzer can read.

TypeScript, Go and YAML stacks reach this class through the component provider (``__main__.py``). Their
inputs arrive as a plain dict with Python (snake_case) keys (the SDK maps the schema's camelCase names,
pulumi/pulumi#18526), and are validated here by the same pydantic models and planner as the Python stack, so
a bad input gets the same message, with the key path as the consumer wrote it (``model.tensorParallelSize``).
"""

import math
from collections.abc import Callable, Mapping, Sequence
from enum import Enum
from typing import Any, NotRequired, TypedDict, TypeVar

import pulumi
import pulumi_aws as aws
import vllm_aws
from pydantic import ValidationError
from pydantic.alias_generators import to_camel
from vllm_aws.config import (
    DEFAULT_IMAGE,
    AccessConfig,
    AwsRegion,
    CacheConfig,
    ModelConfig,
    PinnedImage,
    generic_fix,
    parse_section,
)
from vllm_aws.errors import ConfigError, ConfigIssue
from vllm_aws.host.iam import parameter_arn
from vllm_aws.planner import PlanContext, plan_model

_T = TypeVar("_T")


class Quantization(Enum):
    """Weight quantization (vLLM ``--quantization``)."""

    AWQ = "awq"
    """AWQ 4-bit weights."""
    GPTQ = "gptq"
    """GPTQ 4-bit weights."""
    FP8 = "fp8"
    """FP8 weights (compute capability 8.9 or newer)."""
    COMPRESSED_TENSORS = "compressed-tensors"
    """llm-compressor checkpoints."""


class Dtype(Enum):
    """Activation and weight dtype (vLLM ``--dtype``)."""

    AUTO = "auto"
    """The model's own dtype (bfloat16 falls back to float16 on GPUs without it)."""
    BFLOAT16 = "bfloat16"
    """bfloat16 (compute capability 8.0 or newer)."""
    FLOAT16 = "float16"
    """float16."""


class KvCacheDtype(Enum):
    """KV-cache dtype (vLLM ``--kv-cache-dtype``)."""

    AUTO = "auto"
    """Same as the model dtype."""
    FP8 = "fp8"
    """FP8: about twice the KV-cache tokens."""


class AccessMode(Enum):
    """How Pulumi reaches each host's Docker daemon."""

    SSM = "ssm"
    """SSH through SSM Session Manager: no inbound port (needs the AWS CLI and session-manager-plugin)."""
    SSH = "ssh"
    """Plain SSH on port 22 from `access.sshCidrs` only."""


class Model(TypedDict):
    """The served model: an entry of the stack config's `models`, with the same checks and defaults."""

    name: str
    """DNS-safe name: served-model-name, route and resource key (lowercase, digits, '-', at most 21)."""
    id: str
    """Hugging Face repo id (a catalog model), e.g. `Qwen/Qwen2.5-7B-Instruct`."""
    revision: NotRequired[str]
    """Pinned commit sha or tag. Default: main."""
    tensor_parallel_size: NotRequired[int]
    """GPUs per server (1-8); must divide the model's attention heads. Default: 1."""
    instance_type: NotRequired[str]
    """EC2 type. Default: the cheapest catalog type that fits."""
    replicas: NotRequired[int]
    """vLLM servers for this model (1-32). Default: 1."""
    replicas_per_host: NotRequired[int]
    """Servers per host, each on its own GPUs and port (1-8). Default: 1."""
    max_model_len: NotRequired[int]
    """Context length. Default: the model's own limit."""
    quantization: NotRequired[Quantization]
    """Weight quantization. Default: none."""
    dtype: NotRequired[Dtype]
    """Default: auto."""
    kv_cache_dtype: NotRequired[KvCacheDtype]
    """Default: auto."""
    gpu_memory_utilization: NotRequired[float]
    """Fraction of GPU memory vLLM may use (0.1-0.99). Default: 0.92."""
    max_num_seqs: NotRequired[int]
    """Default: vLLM's for the GPU."""
    max_num_batched_tokens: NotRequired[int]
    """Default: vLLM's for the GPU."""
    enable_prefix_caching: NotRequired[bool]
    """Default: true."""
    extra_args: NotRequired[list[str]]
    """Extra `vllm serve` arguments, checked against vLLM's flags."""
    spot: NotRequired[bool]
    """One-time spot instances. Default: on-demand."""


class Endpoint(TypedDict):
    """An existing ALB listener (e.g. the vllm-aws stack's `loadBalancer` output) to attach the model's routes to."""

    listener_arn: pulumi.Input[str]
    """The listener's ARN."""
    security_group_id: pulumi.Input[str]
    """The load balancer's security group (admitted to the hosts' serving ports)."""
    rule_priority: NotRequired[int]
    """Priority of the path rule, unique on the listener (1-20000). Default: from the model name, in 10001-20000."""
    domain: NotRequired[str]
    """Route <model>.<domain> by host header. Default: path routes only."""
    idle_timeout_seconds: NotRequired[int]
    """The load balancer's idle timeout, to size the health checks. Default: 600."""


class Cache(TypedDict):
    """EBS model cache volumes (one per host)."""

    size_gib: NotRequired[int]
    """Volume size (20-65536). Default: weights x 2 + 50 GiB."""
    throughput_mibps: NotRequired[int]
    """gp3 throughput (125-2000). Default: the instance's EBS bandwidth, at most 2000 and iops / 4."""
    iops: NotRequired[int]
    """gp3 IOPS (3000-80000). Default: 6000."""
    retain_on_delete: NotRequired[bool]
    """Keep caches on destroy. Default: true."""
    snapshot_id: NotRequired[str]
    """Seed new caches from this snapshot."""


class Access(TypedDict):
    """How Pulumi reaches each host's Docker daemon."""

    mode: NotRequired[AccessMode]
    """Default: ssm."""
    ssh_cidrs: NotRequired[list[str]]
    """Who may reach port 22 (required with mode ssh)."""


class VllmDeploymentInputs(TypedDict):
    """Inputs of the cross-language VllmDeployment (schema: camelCase)."""

    model: Model
    """The model to serve."""
    endpoint: Endpoint
    """The listener to attach to (this component never creates a load balancer for other languages)."""
    region: str
    """AWS region of the hosts (must match the aws provider's)."""
    vpc_id: pulumi.Input[str]
    """VPC of the hosts and the target group."""
    subnet_ids: list[str]
    """One subnet per host: ceil(replicas / replicasPerHost) entries."""
    availability_zones: list[str]
    """The availability zone of each subnet in `subnetIds`, in the same order."""
    associate_public_ip: NotRequired[bool]
    """True in subnets without NAT (the default VPC). Default: false."""
    ami_id: pulumi.Input[str]
    """GPU host AMI (Deep Learning Base GPU AMI, Ubuntu 24.04)."""
    image: NotRequired[str]
    """Pinned vllm/vllm-openai image; never `latest`."""
    root_volume_gib: NotRequired[int]
    """Each host's gp3 root volume, GiB (the AMI and the Docker images). Default: 150, which holds an image upgrade."""
    ssh_public_key: pulumi.Input[str]
    """OpenSSH public key installed on the hosts."""
    ssh_private_key: pulumi.Input[str]
    """Its private half (kept secret), for the readiness gate."""
    ssh_key_file: str
    """Where the deploying machine keeps the private key, for ssh (pulumi-docker reads keys from files)."""
    secret_parameters: dict[str, str]
    """Environment variable -> SSM SecureString parameter name the hosts read at boot (VLLM_API_KEY, HF_TOKEN)."""
    secret_parameter_arns: NotRequired[list[pulumi.Input[str]]]
    """ARNs of those parameters. Default: derived from region, account and names."""
    cache: NotRequired[Cache]
    """Model cache volumes. Default: auto-sized gp3, retained on destroy."""
    access: NotRequired[Access]
    """Default: SSH through SSM."""
    tags: NotRequired[dict[str, str]]
    """Extra tags on every AWS resource."""


class VllmDeployment(vllm_aws.VllmDeployment):
    """One model served by vLLM on GPU hosts with persistent EBS caches, behind an existing ALB listener."""

    # One line on purpose: the SDK copies the docstring into the schema without dedenting it. Like the Python
    # component, it sizes and checks the model against its GPU (fit, tensor-parallel size, dtype, quantization,
    # context) before anything is created; a bad input fails with the key path and the fix.

    host_security_group_ids: pulumi.Output[dict[str, str]]
    """Security group of each host, by host name `<name>-<n>` (admit scrapers to them)."""
    target_group_arn: pulumi.Output[str]
    """The model's target group."""

    def __init__(self, name: str, args: VllmDeploymentInputs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, deployment_args(args), opts)


# --- validation ---------------------------------------------------------------------------------------------------


def deployment_args(args: Mapping[str, Any]) -> vllm_aws.VllmDeploymentArgs:
    """Validate provider inputs (snake_case keys, as the SDK maps them) into :class:`VllmDeploymentArgs`.

    Raises :class:`ConfigError` naming each bad input by its schema path (``model.tensorParallelSize``).
    """
    region = _plain(args, ("region",))
    model = _plain(args, ("model",))
    image, cache, access = (_plain(args, (key,)) for key in ("image", "cache", "access"))
    secret_parameters = dict(_plain(args, ("secret_parameters",)) or {})
    issues: list[ConfigIssue] = []

    def section(section_type: Any, key: str, raw: Any) -> Any:
        try:
            return parse_section(section_type, raw, (key,), namespace=None)
        except ConfigError as exc:
            issues.extend(exc.issues)
            return None

    # In the stack config's order, so that several bad inputs are listed as the stack would list them.
    config_region = section(AwsRegion, "region", region)
    config_image = section(PinnedImage, "image", DEFAULT_IMAGE if image is None else image)
    model_config: ModelConfig = section(ModelConfig, "model", _camel(model))
    config_cache = section(CacheConfig, "cache", _camel(cache or {}))
    config_access = section(AccessConfig, "access", _camel(access or {}))
    if issues:
        raise ConfigError(issues)
    context = PlanContext(
        image=config_image,
        region=config_region,
        cache=config_cache,
        # The gated-model check needs presence only; the value stays in SSM.
        hf_token="HF_TOKEN" in secret_parameters,
        namespace=None,
        hf_token_key=("secretParameters", "HF_TOKEN"),
        hf_token_fix="accept the licence on huggingface.co, store the token as an SSM SecureString and map "
        "HF_TOKEN to its name",
    )
    plan_model(model_config, context, ("model",))

    subnet_ids = list(_plain(args, ("subnet_ids",)) or [])
    zones = list(_plain(args, ("availability_zones",)) or [])
    hosts = math.ceil(model_config.replicas / model_config.replicas_per_host)
    if len(subnet_ids) != hosts:
        raise ConfigError.single(
            "subnetIds",
            subnet_ids,
            f"needs one subnet per host: {hosts} for {model_config.replicas} replica(s), "
            f"{model_config.replicas_per_host} per host",
            f"give {hosts} subnet id(s)",
        )
    if len(zones) != len(subnet_ids):
        raise ConfigError.single(
            "availabilityZones",
            zones,
            f"needs the zone of each of the {len(subnet_ids)} subnet(s) in subnetIds, in order",
            f"give {len(subnet_ids)} zone(s)",
        )

    arns: Sequence[pulumi.Input[str]] | None = args.get("secret_parameter_arns")
    if arns is None:
        account_id = aws.get_caller_identity_output().account_id
        arns = [_parameter_arn(config_region, account_id, name) for name in secret_parameters.values()]
    endpoint = {key: value for key, value in dict(args["endpoint"]).items() if value is not None}
    return _validated(
        (),
        lambda: vllm_aws.VllmDeploymentArgs(
            model=model_config,
            region=config_region,
            vpc_id=args["vpc_id"],
            placements=tuple(
                vllm_aws.HostPlacement(subnet_id=subnet, availability_zone=zone)
                for subnet, zone in zip(subnet_ids, zones, strict=True)
            ),
            associate_public_ip=args.get("associate_public_ip") or False,
            ami_id=args["ami_id"],
            image=config_image,
            **({"root_volume_gib": args["root_volume_gib"]} if "root_volume_gib" in args else {}),
            cache=config_cache,
            access=config_access,
            ssh=_validated(
                ("ssh",),
                lambda: vllm_aws.SshAccess(
                    public_key=args["ssh_public_key"],
                    private_key=pulumi.Output.secret(args["ssh_private_key"]),
                    key_file=_plain(args, ("ssh_key_file",)),
                ),
            ),
            secrets=_validated(
                ("secrets",),
                lambda: vllm_aws.HostSecrets(parameters=secret_parameters, parameter_arns=tuple(arns)),
            ),
            endpoint=_validated(("endpoint",), lambda: vllm_aws.ExistingEndpoint(**endpoint)),
            tags=dict(args.get("tags") or {}),
        ),
    )


def _parameter_arn(region: str, account_id: pulumi.Output[str], name: str) -> pulumi.Output[str]:
    return account_id.apply(lambda account: parameter_arn(region, account, name))


def _validated(prefix: tuple[str, ...], build: Callable[[], _T]) -> _T:
    """``build()``, with a pydantic failure turned into a ConfigError that names the schema path."""
    try:
        return build()
    except ValidationError as exc:
        issues: dict[str, ConfigIssue] = {}
        for error in exc.errors(include_url=False):
            # One issue per key: pydantic reports every member of a union (`.str`, `.is-instance[Output]`).
            loc = tuple(part for part in error["loc"] if not _is_union_tag(part))
            path = _schema_path((*prefix, *loc))
            issues.setdefault(
                path,
                ConfigIssue(
                    path,
                    error.get("input"),
                    error["msg"].removeprefix("Value error, "),
                    generic_fix(error["type"], error.get("ctx") or {}),
                ),
            )
        raise ConfigError(list(issues.values())) from None


def _is_union_tag(part: str | int) -> bool:
    return isinstance(part, str) and (part in {"str", "int", "float", "bool"} or part.startswith("is-instance["))


def _plain(args: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    """The value at ``path``; an Output where the planner needs a value known at preview is rejected."""
    value = args.get(path[0])
    _reject_outputs(value, path)
    return value


def _reject_outputs(value: Any, path: tuple[str | int, ...]) -> None:
    if isinstance(value, pulumi.Output):
        raise ConfigError.single(
            _schema_path(path),
            "<output>",
            "must be a plain value known at preview: the model is sized and checked before anything is created",
            "pass a literal or a config value, not another resource's output",
        )
    if isinstance(value, Mapping):
        for key, item in value.items():
            _reject_outputs(item, (*path, str(key)))
    elif isinstance(value, Sequence) and not isinstance(value, str):
        for index, item in enumerate(value):
            _reject_outputs(item, (*path, index))


def _camel(value: Any) -> Any:
    """SDK-mapped input (snake_case keys, enum members) -> the config file's shape (camelCase keys, strings)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {to_camel(str(key)): _camel(item) for key, item in value.items() if item is not None}
    if isinstance(value, list | tuple):
        return [_camel(item) for item in value]
    return value


# VllmDeploymentArgs fields whose schema input has another name or shape.
_RENAMED = {
    ("", "placements"): "subnetIds",
    ("", "secrets"): "secretParameters",
    ("secretParameters", "parameter_arns"): "secretParameterArns",
    ("secretParameters", "parameters"): "secretParameters",
    ("", "ssh"): "ssh",
    ("ssh", "public_key"): "sshPublicKey",
    ("ssh", "private_key"): "sshPrivateKey",
    ("ssh", "key_file"): "sshKeyFile",
}


def _schema_path(loc: tuple[str | int, ...]) -> str:
    """``("endpoint", "rule_priority")`` -> ``endpoint.rulePriority``; ``placements[1]`` -> ``subnetIds[1]``."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            renamed = _RENAMED.get((path, part))
            if renamed is not None:
                path = renamed
                continue
            path += ("." if path else "") + to_camel(part)
    return path


__all__ = [
    "Access",
    "AccessMode",
    "Cache",
    "Dtype",
    "Endpoint",
    "KvCacheDtype",
    "Model",
    "Quantization",
    "VllmDeployment",
    "VllmDeploymentInputs",
    "deployment_args",
]
