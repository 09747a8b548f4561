"""vllm-aws stack: validate and plan the configuration, then compose the components.

Everything is validated, sized and placed before the first resource is registered, so a model that cannot
serve fails `pulumi preview` with a message naming the config key instead of failing on the host.
"""

import pulumi
import pulumi_aws as aws
import pulumi_random as random
import pulumi_tls as tls

from components import ConfigError, load_stack_config, plan_stack
from components._naming import replica_name
from components.access import ssh_options
from components.config import secret_output
from components.gpu_host import DLAMI_SSM_PARAMETER, GpuHost, GpuHostArgs
from components.iam import parameter_arn
from components.model_cache import ModelCache, ModelCacheArgs
from components.placement import lookup_network, place_model
from components.sizing import HOURS_PER_MONTH, ROOT_VOLUME_GIB

stack = pulumi.get_stack()
try:
    config = load_stack_config()
    plan = plan_stack(config)
    network = lookup_network(config.network)
    placements = {
        model.config.name: place_model(index, model.instance.name, model.config.replicas, network, config.network)
        for index, model in enumerate(plan.models)
    }
except ConfigError as error:
    # RunError ends the program with just this message: no traceback, nothing registered.
    raise pulumi.RunError(str(error)) from None

for warning in plan.warnings + tuple(w for model in plan.models for w in model.warnings):
    pulumi.log.warn(warning)

base_tags = {"vllm-aws:stack": stack, "vllm-aws:project": pulumi.get_project(), **config.tags}
ami_id = config.ami_id or aws.ssm.get_parameter(name=DLAMI_SSM_PARAMETER).value
account_id = aws.get_caller_identity().account_id

# --- secrets: Pulumi secrets in state, SSM SecureStrings for the hosts, never in user-data --------------------
if config.api_key is not None:
    api_key = secret_output(config.api_key)
else:
    # No key configured: generate one so the endpoint is never open; read it with
    # `pulumi stack output apiKey --show-secrets`.
    api_key = random.RandomPassword("api-key", length=48, special=False).result
secret_values = {"VLLM_API_KEY": ("api-key", api_key)}
if config.hf_token is not None:
    secret_values["HF_TOKEN"] = ("hf-token", secret_output(config.hf_token))
secret_parameters: dict[str, str] = {}
for env_name, (key, value) in secret_values.items():
    parameter_name = f"/vllm-aws/{stack}/{key}"
    aws.ssm.Parameter(
        f"{key}-parameter",
        name=parameter_name,
        type="SecureString",
        value=value,
        description=f"vllm-aws {stack}: {env_name} for the GPU hosts (read at boot)",
        tags=base_tags,
    )
    secret_parameters[env_name] = parameter_name
parameter_arns = tuple(parameter_arn(config.region, account_id, name) for name in secret_parameters.values())

# One key pair per stack for pulumi-docker's SSH; the private half is a secret output only.
ssh_key = tls.PrivateKey("ssh-key", algorithm="ED25519")

# --- GPU hosts with their model caches, per model and replica ------------------------------------------------
hosts: dict[str, GpuHost] = {}
caches: dict[str, ModelCache] = {}
for model in plan.models:
    model_tags = {**base_tags, "vllm-aws:model": model.config.name}
    for replica, zone in enumerate(placements[model.config.name]):
        name = replica_name(model.config.name, replica)
        replica_tags = {**model_tags, "vllm-aws:replica": str(replica)}
        cache = ModelCache(
            f"{name}-cache",
            ModelCacheArgs(
                availability_zone=zone.name,
                size_gib=model.cache_size_gib,
                iops=config.cache.iops,
                throughput_mibps=config.cache.throughput_mibps,
                snapshot_id=config.cache.snapshot_id,
                retain_on_delete=config.cache.retain_on_delete,
                tags=replica_tags,
            ),
        )
        hosts[name] = GpuHost(
            name,
            GpuHostArgs(
                instance_type=model.instance.name,
                ami_id=ami_id,
                vpc_id=network.vpc_id,
                subnet_id=zone.subnet_id,
                availability_zone=zone.name,
                associate_public_ip=network.hosts_need_public_ip,
                cache_volume_id=cache.volume_id,
                root_volume_gib=ROOT_VOLUME_GIB,
                region=config.region,
                secret_parameters=secret_parameters,
                secret_parameter_arns=parameter_arns,
                ssh_public_key=ssh_key.public_key_openssh,
                ssh_private_key=ssh_key.private_key_openssh,
                access_mode=config.access.mode,
                ssh_cidrs=config.access.ssh_cidrs,
                spot=model.config.spot,
                tags={**replica_tags, "vllm-aws:role": "gpu-host"},
            ),
        )
        caches[name] = cache

pulumi.export("apiKey", pulumi.Output.secret(api_key))
pulumi.export("sshPrivateKey", ssh_key.private_key_openssh)
pulumi.export("sshOptions", ssh_options(config.access.mode, config.region))
pulumi.export(
    "hosts",
    {
        name: {
            "instanceId": host.instance_id,
            "privateIp": host.private_ip,
            "availabilityZone": host.availability_zone,
            "dockerHost": host.docker_host,
            "cacheVolumeId": caches[name].volume_id,
        }
        for name, host in hosts.items()
    },
)
pulumi.export(
    "models",
    {
        model.config.name: {
            "id": model.config.id,
            "instanceType": model.instance.name,
            "tensorParallelSize": model.settings.tensor_parallel_size,
            "replicas": model.config.replicas,
            "maxModelLen": model.memory.max_model_len,
            "kvCacheTokens": model.memory.kv_cache_tokens,
        }
        for model in plan.models
    },
)
if plan.hourly_usd is not None:
    pulumi.export("estimatedMonthlyUsd", round(plan.hourly_usd * HOURS_PER_MONTH, 2))
