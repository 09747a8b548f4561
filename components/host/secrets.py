"""The stack's secrets for its hosts: Pulumi secrets in state, SSM SecureString parameters the hosts read at boot.

Never in user-data (readable through ec2:DescribeInstanceAttribute, and kept in state): the hosts get parameter
*names* and read the values with their own role (:func:`components.host.iam.read_parameters_policy`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import pulumi
import pulumi_aws as aws
import pulumi_random as random
from pydantic import BaseModel, ConfigDict, Field

from .bootstrap import SERVICE_SECRETS_DIR
from .iam import parameter_arn

StrInput = str | pulumi.Output[str]


class ServiceSecret(BaseModel):
    """A monitoring container's secret: the host that runs the container fetches it at boot into a file only that
    container's user can read (``host_path``), which the container bind-mounts alone; never in its env or args."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    name: Annotated[str, Field(description="File name under the host's service-secrets directory.")]
    owner_uid: Annotated[int, Field(ge=0, description="The uid the container runs as (its only reader).")]
    parameter: Annotated[str, Field(description="SSM SecureString parameter name.")]
    parameter_arn: StrInput
    version: Annotated[
        StrInput | None,
        Field(
            description="The parameter's version, for a value that may change after boot (the alerts webhook URL: "
            "the monitoring host re-fetches it, then Alertmanager is replaced). Default: none (read at boot only)."
        ),
    ] = None

    @property
    def host_path(self) -> str:
        return f"{SERVICE_SECRETS_DIR}/{self.name}"


# grafana/grafana's image runs as uid 472 (its Dockerfile: ARG GF_UID="472", GF_GID="0").
GRAFANA_UID = 472
GRAFANA_PASSWORD_FILE = "GF_SECURITY_ADMIN_PASSWORD"
# prometheus/alertmanager's image: `USER nobody` (its Dockerfile at v0.34.0), uid 65534 in its busybox base.
ALERTMANAGER_UID = 65534
ALERTS_WEBHOOK_SECRET_FILE = "ALERTS_WEBHOOK_URL"


class HostSecrets(BaseModel):
    """SSM SecureString parameters the hosts read at boot (HF_TOKEN, VLLM_API_KEY)."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    parameters: Annotated[dict[str, str], Field(description="Environment variable -> parameter name.")]
    parameter_arns: tuple[StrInput, ...]
    kms_key_arn: Annotated[
        StrInput | None, Field(description="The customer managed key they are encrypted with. Default: aws/ssm.")
    ] = None
    version: Annotated[
        StrInput | None,
        Field(
            description="Changes whenever a value changes (the parameters' versions): the servers re-read the "
            "secrets and restart, one replica at a time. Default: none (a rotation reaches them at the next boot)."
        ),
    ] = None
    monitoring: Annotated[
        tuple[ServiceSecret, ...],
        Field(
            description="The monitoring containers' secrets: only the host that runs them fetches them. Default: none."
        ),
    ] = ()


@dataclass(frozen=True)
class StackSecrets:
    """What :func:`create_stack_secrets` registered: the API key and the parameters the hosts read."""

    api_key: pulumi.Output[str]
    """The vLLM API key (secret): the configured one, or one generated for the stack."""
    hosts: HostSecrets
    grafana_admin_password: ServiceSecret | None = None
    """Grafana's admin password, for the host that runs Grafana only (none without Grafana)."""

    def stack_outputs(self) -> dict[str, object]:
        """``secretParameters`` (what another stack's hosts read, e.g. examples/extra-model), ``apiKey``, and with
        ``kmsKey`` the key they are encrypted with, ``secretsKmsKeyArn``."""
        api_key: pulumi.Output[str] = pulumi.Output.secret(self.api_key)
        outputs: dict[str, object] = {"secretParameters": self.hosts.parameters, "apiKey": api_key}
        if self.hosts.kms_key_arn is not None:
            # Another stack's hosts reading these parameters need kms:Decrypt on it (examples/extra-model).
            outputs["secretsKmsKeyArn"] = self.hosts.kms_key_arn
        return outputs


def create_stack_secrets(
    stack: str,
    region: str,
    account_id: str,
    *,
    api_key: pulumi.Output[str] | None,
    hf_token: pulumi.Output[str] | None,
    tags: dict[str, str],
    kms_key_arn: pulumi.Output[str] | None = None,
    grafana_admin_password: pulumi.Output[str] | None = None,
) -> StackSecrets:
    """One SecureString parameter per secret, ``/vllm-aws/<stack>/<key>``, at the stack's root (not a component:
    the parameters' logical names ``api-key-parameter`` and ``hf-token-parameter`` are the stack's contract).

    Without an ``api_key`` one is generated (pulumi-random), so the endpoint is never open; read it with
    ``pulumi stack output apiKey --show-secrets``. ``grafana_admin_password`` becomes the parameter
    ``grafana-admin-password-parameter`` (``/vllm-aws/<stack>/grafana-admin-password``).
    """
    key = api_key if api_key is not None else random.RandomPassword("api-key", length=48, special=False).result
    values = {"VLLM_API_KEY": ("api-key", key)}
    if hf_token is not None:
        values["HF_TOKEN"] = ("hf-token", hf_token)
    parameters: dict[str, str] = {}
    versions: list[pulumi.Output[int]] = []
    for env_name, (name, value) in values.items():
        parameter_name = f"/vllm-aws/{stack}/{name}"
        parameter = aws.ssm.Parameter(
            f"{name}-parameter",
            name=parameter_name,
            type="SecureString",
            value=value,
            # Changing the key is PutParameter with Overwrite, in place (TF ssm/parameter.go key_id).
            key_id=kms_key_arn,
            description=f"vllm-aws {stack}: {env_name} for the GPU hosts (read at boot)",
            tags=tags,
        )
        parameters[env_name] = parameter_name
        # PutParameter with Overwrite returns a new Version for every new value (botocore ssm PutParameterResult).
        versions.append(parameter.version)
    arns = tuple(parameter_arn(region, account_id, name) for name in parameters.values())
    version = pulumi.Output.all(*versions).apply(lambda numbers: "-".join(str(n) for n in numbers))
    grafana = None
    if grafana_admin_password is not None:
        name = f"/vllm-aws/{stack}/grafana-admin-password"
        aws.ssm.Parameter(
            "grafana-admin-password-parameter",
            name=name,
            type="SecureString",
            value=grafana_admin_password,
            key_id=kms_key_arn,
            description=f"vllm-aws {stack}: Grafana's admin password for the host that runs Grafana (read at boot)",
            tags=tags,
        )
        grafana = ServiceSecret(
            name=GRAFANA_PASSWORD_FILE,
            owner_uid=GRAFANA_UID,
            parameter=name,
            parameter_arn=parameter_arn(region, account_id, name),
        )
    return StackSecrets(
        api_key=key,
        hosts=HostSecrets(
            parameters=parameters,
            parameter_arns=arns,
            kms_key_arn=kms_key_arn,
            version=version,
            monitoring=(grafana,) if grafana else (),
        ),
        grafana_admin_password=grafana,
    )


def create_webhook_secret(
    stack: str,
    region: str,
    account_id: str,
    url: pulumi.Output[str],
    *,
    tags: dict[str, str],
    kms_key_arn: pulumi.Output[str] | None = None,
) -> ServiceSecret:
    """The alerts webhook URL as a SecureString, ``/vllm-aws/<stack>/alerts-webhook-url`` (logical name
    ``alerts-webhook-url-parameter``), under the stack key with ``kmsKey``: Alertmanager's service secret, for the
    dedicated monitoring host alone (the GPU hosts neither read nor see it)."""
    name = f"/vllm-aws/{stack}/alerts-webhook-url"
    parameter = aws.ssm.Parameter(
        "alerts-webhook-url-parameter",
        name=name,
        type="SecureString",
        value=url,  # a secret Output (config.sources.secret_output): encrypted in state
        key_id=kms_key_arn,
        description=f"vllm-aws {stack}: the alerts webhook URL for Alertmanager (read at boot)",
        tags=tags,
    )
    return ServiceSecret(
        name=ALERTS_WEBHOOK_SECRET_FILE,
        owner_uid=ALERTMANAGER_UID,
        parameter=name,
        parameter_arn=parameter_arn(region, account_id, name),
        version=parameter.version.apply(str),
    )
