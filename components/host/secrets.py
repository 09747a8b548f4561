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

from .iam import parameter_arn

StrInput = str | pulumi.Output[str]


class HostSecrets(BaseModel):
    """SSM SecureString parameters the hosts read at boot (HF_TOKEN, VLLM_API_KEY)."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    parameters: Annotated[dict[str, str], Field(description="Environment variable -> parameter name.")]
    parameter_arns: tuple[StrInput, ...]
    version: Annotated[
        StrInput | None,
        Field(
            description="Changes whenever a value changes (the parameters' versions): the servers re-read the "
            "secrets and restart, one replica at a time. Default: none (a rotation reaches them at the next boot)."
        ),
    ] = None


@dataclass(frozen=True)
class StackSecrets:
    """What :func:`create_stack_secrets` registered: the API key and the parameters the hosts read."""

    api_key: pulumi.Output[str]
    """The vLLM API key (secret): the configured one, or one generated for the stack."""
    hosts: HostSecrets

    def stack_outputs(self) -> dict[str, object]:
        """``secretParameters`` (what another stack's hosts read, e.g. examples/extra-model) and ``apiKey``."""
        api_key: pulumi.Output[str] = pulumi.Output.secret(self.api_key)
        return {"secretParameters": self.hosts.parameters, "apiKey": api_key}


def create_stack_secrets(
    stack: str,
    region: str,
    account_id: str,
    *,
    api_key: pulumi.Output[str] | None,
    hf_token: pulumi.Output[str] | None,
    tags: dict[str, str],
) -> StackSecrets:
    """One SecureString parameter per secret, ``/vllm-aws/<stack>/<key>``, at the stack's root (not a component:
    the parameters' logical names ``api-key-parameter`` and ``hf-token-parameter`` are the stack's contract).

    Without an ``api_key`` one is generated (pulumi-random), so the endpoint is never open; read it with
    ``pulumi stack output apiKey --show-secrets``.
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
            description=f"vllm-aws {stack}: {env_name} for the GPU hosts (read at boot)",
            tags=tags,
        )
        parameters[env_name] = parameter_name
        # PutParameter with Overwrite returns a new Version for every new value (botocore ssm PutParameterResult).
        versions.append(parameter.version)
    arns = tuple(parameter_arn(region, account_id, name) for name in parameters.values())
    version = pulumi.Output.all(*versions).apply(lambda numbers: "-".join(str(n) for n in numbers))
    return StackSecrets(api_key=key, hosts=HostSecrets(parameters=parameters, parameter_arns=arns, version=version))


WEBHOOK_ENV_NAME = "ALERTS_WEBHOOK_URL"  # its file's name in the monitoring host's secrets directory


def create_webhook_secret(
    stack: str, region: str, account_id: str, url: pulumi.Output[str], tags: dict[str, str]
) -> HostSecrets:
    """The alerts webhook URL as a SecureString, ``/vllm-aws/<stack>/alerts-webhook-url`` (logical name
    ``alerts-webhook-url-parameter``), for the monitoring host alone: the GPU hosts neither read nor see it."""
    parameter_name = f"/vllm-aws/{stack}/alerts-webhook-url"
    parameter = aws.ssm.Parameter(
        "alerts-webhook-url-parameter",
        name=parameter_name,
        type="SecureString",
        value=url,  # a secret Output (config.sources.secret_output): encrypted in state
        description=f"vllm-aws {stack}: the alerts webhook URL for Alertmanager (read at boot)",
        tags=tags,
    )
    return HostSecrets(
        parameters={WEBHOOK_ENV_NAME: parameter_name},
        parameter_arns=(parameter_arn(region, account_id, parameter_name),),
        version=parameter.version.apply(str),
    )
