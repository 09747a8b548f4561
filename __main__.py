"""vllm-aws stack: validate and plan the configuration, then compose the components.

Everything is validated, sized and placed before the first resource is registered, so a model that cannot
serve fails `pulumi preview` with a message naming the config key instead of failing on the host.
"""

from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_command as command
import pulumi_docker as docker
import pulumi_random as random
import pulumi_tls as tls

from components import (
    ConfigError,
    access,
    containers,
    examples,
    load_stack_config,
    observability,
    placement,
    plan_stack,
)
from components._naming import replica_name
from components.config import secret_output
from components.gpu_host import DLAMI_SSM_PARAMETER, GpuHost, GpuHostArgs
from components.host_exporters import HostExporters, HostExportersArgs
from components.iam import parameter_arn
from components.load_balancer import LoadBalancer, LoadBalancerArgs, ModelTargets, Target
from components.model_cache import ModelCache, ModelCacheArgs
from components.monitoring import MONITORING_AMI_PARAMETER, MONITORING_SSH_USER, Monitoring, MonitoringArgs
from components.sizing import (
    HOURS_PER_MONTH,
    MONITORING_ROOT_VOLUME_GIB,
    MONITORING_VOLUME_GIB,
    ROOT_VOLUME_GIB,
    hosts_for,
)
from components.vllm_args import VLLM_PORT, render_args
from components.vllm_server import ImageBuild, VllmServer, VllmServerArgs

stack = pulumi.get_stack()
try:
    config = load_stack_config()
    plan = plan_stack(config)
    network = placement.lookup_network(config.network)
    placements = {
        model.config.name: placement.place_model(
            index, model.instance.name, hosts_for(model.config), network, config.network
        )
        for index, model in enumerate(plan.models)
    }
    lb_subnets = placement.load_balancer_subnets(network, config.network, config.load_balancer.internal)
    dedicated_monitoring = config.monitoring.enabled and config.monitoring.placement == "dedicated"
    monitoring_zone = (
        placement.place_monitoring(config.monitoring.instance_type, network) if dedicated_monitoring else None
    )
except ConfigError as error:
    # RunError ends the program with just this message: no traceback, nothing registered.
    raise pulumi.RunError(str(error)) from None

for warning in plan.warnings + tuple(w for model in plan.models for w in model.warnings):
    pulumi.log.warn(warning)

base_tags = {"vllm-aws:stack": stack, "vllm-aws:project": pulumi.get_project(), **config.tags}
gpu_ami_id = config.ami_id or aws.ssm.get_parameter(name=DLAMI_SSM_PARAMETER).value
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

# The key file pulumi-docker's ssh uses on the deploying machine (it cannot take key material inline).
key_file = access.key_file_path(pulumi.get_project(), stack)
key_on_disk = command.local.Command(
    "ssh-key-file",
    create=access.write_key_script(key_file),
    delete=access.remove_key_script(key_file),
    interpreter=["/bin/bash", "-c"],
    environment={"VLLM_AWS_SSH_KEY": ssh_key.private_key_openssh},
    triggers=[ssh_key.id],
)


def make_host(name: str, zone: placement.Zone, host_args: dict[str, Any], cache_args: dict[str, Any]) -> GpuHost:
    """A host and its persistent data volume (the model cache; Prometheus data on the monitoring host)."""
    cache = ModelCache(f"{name}-cache", ModelCacheArgs(availability_zone=zone.name, **cache_args))
    host = GpuHost(
        name,
        GpuHostArgs(
            vpc_id=network.vpc_id,
            subnet_id=zone.subnet_id,
            availability_zone=zone.name,
            associate_public_ip=network.hosts_need_public_ip,
            cache_volume_id=cache.volume_id,
            region=config.region,
            ssh_public_key=ssh_key.public_key_openssh,
            ssh_private_key=ssh_key.private_key_openssh,
            access_mode=config.access.mode,
            ssh_cidrs=config.access.ssh_cidrs,
            **host_args,
        ),
    )
    caches[name] = cache
    return host


docker_providers: dict[str, docker.Provider] = {}


def docker_provider(name: str, host: GpuHost) -> docker.Provider:
    """The Docker daemon of one host, over SSH (through SSM by default); one provider per host."""
    if name not in docker_providers:
        docker_providers[name] = docker.Provider(
            f"{name}-docker",
            host=host.docker_host,
            ssh_opts=access.ssh_options(config.access.mode, config.region, key_file),
            # Previews from CI must not need SSH to every host: skip the configure-time ping (see README).
            disable_docker_daemon_check=True,
            opts=pulumi.ResourceOptions(depends_on=[key_on_disk]),
        )
    return docker_providers[name]


# --- GPU hosts, their caches and vLLM servers, per model ------------------------------------------------------
monitoring_config = config.monitoring
colocated = monitoring_config.enabled and monitoring_config.placement == "colocated"
hosts: dict[str, GpuHost] = {}
caches: dict[str, ModelCache] = {}
targets: dict[str, list[Target]] = {}
image_build = (
    ImageBuild(
        context=config.image_build.context,
        dockerfile=config.image_build.dockerfile,
        tag=containers.custom_image_tag(config.image_build.context),
    )
    if config.image_build
    else None
)
for model in plan.models:
    model_tags = {**base_tags, "vllm-aws:model": model.config.name}
    vllm_args = tuple(render_args(model.config, model.memory.max_model_len))
    start_period = containers.healthcheck_start_period_seconds(model.cold_start.container_first_start_seconds)
    targets[model.config.name] = []
    remaining = model.config.replicas
    for host_index, zone in enumerate(placements[model.config.name]):
        name = replica_name(model.config.name, host_index)
        host_tags = {**model_tags, "vllm-aws:replica": str(host_index)}
        slots = containers.server_slots(
            model.settings.tensor_parallel_size,
            min(model.config.replicas_per_host, remaining),
            model.instance.gpu_count,
        )
        remaining -= len(slots)
        host = make_host(
            name,
            zone,
            {
                "ami_id": gpu_ami_id,
                "root_volume_gib": ROOT_VOLUME_GIB,
                "instance_type": model.instance.name,
                "secret_parameters": secret_parameters,
                "secret_parameter_arns": parameter_arns,
                "spot": model.config.spot,
                "ec2_discovery": colocated and not hosts,  # the first host runs a colocated Prometheus
                "tags": {**host_tags, "vllm-aws:role": "gpu-host", observability.SERVERS_TAG: str(len(slots))},
            },
            {
                "size_gib": model.cache_size_gib,
                "iops": config.cache.iops,
                "throughput_mibps": config.cache.throughput_mibps,
                "snapshot_id": config.cache.snapshot_id,
                "retain_on_delete": config.cache.retain_on_delete,
                "tags": host_tags,
            },
        )
        hosts[name] = host
        on_host = pulumi.ResourceOptions(provider=docker_provider(name, host))
        for slot in slots:
            server_name = f"{name}-vllm-{slot.index}"
            targets[model.config.name].append(
                Target(
                    key=server_name,
                    instance_id=host.instance_id,
                    port=slot.host_port,
                    security_group_id=host.security_group_id,
                    host_key=name,
                )
            )
            VllmServer(
                server_name,
                VllmServerArgs(
                    model_name=model.config.name,
                    image=config.image,
                    build=image_build,
                    vllm_args=vllm_args,
                    slot=slot,
                    warm_marker=containers.warm_marker(model.config.id, model.config.revision),
                    start_period_seconds=start_period,
                    host_instance=host.instance,
                    host_ready=host.readiness,
                    labels={"vllm-aws.model": model.config.name, "vllm-aws.stack": stack},
                ),
                opts=on_host,
            )
        HostExporters(
            f"{name}-exporters",
            HostExportersArgs(host_instance=host.instance, host_ready=host.readiness),
            opts=on_host,
        )

# --- monitoring: Prometheus + Grafana, dedicated or on the first GPU host ---------------------------------------
monitoring: Monitoring | None = None
if monitoring_config.enabled:
    if monitoring_zone is None:
        monitoring_host_name = next(iter(hosts))
        monitoring_host = hosts[monitoring_host_name]
    else:
        monitoring_host_name = "monitoring"
        monitoring_host = make_host(
            monitoring_host_name,
            monitoring_zone,
            {
                "ami_id": aws.ssm.get_parameter(name=MONITORING_AMI_PARAMETER).value,
                "instance_type": monitoring_config.instance_type,
                "root_volume_gib": MONITORING_ROOT_VOLUME_GIB,
                "gpu": False,
                "ssh_user": MONITORING_SSH_USER,
                "packages": ("docker",),
                "ec2_discovery": True,
                "tags": {**base_tags, "vllm-aws:role": "monitoring"},
            },
            {"size_gib": MONITORING_VOLUME_GIB, "tags": base_tags},
        )
    grafana_password = (
        random.RandomPassword("grafana-admin-password", length=32, special=False).result
        if monitoring_config.grafana
        else None
    )
    max_servers_per_host = max(m.config.replicas_per_host for m in plan.models)
    monitoring = Monitoring(
        "monitoring",
        MonitoringArgs(
            host_instance=monitoring_host.instance,
            host_ready=monitoring_host.readiness,
            security_group_id=monitoring_host.security_group_id,
            target_security_group_ids={name: host.security_group_id for name, host in hosts.items()},
            vllm_ports=(VLLM_PORT, VLLM_PORT + max_servers_per_host - 1),
            prometheus_config=observability.render_prometheus_config(
                observability.PrometheusSpec(
                    stack=stack,
                    region=config.region,
                    max_servers_per_host=max_servers_per_host,
                    retention_days=monitoring_config.retention_days,
                )
            ),
            alert_rules=observability.render_alert_rules(),
            retention_days=monitoring_config.retention_days,
            grafana=monitoring_config.grafana,
            grafana_datasource=observability.render_grafana_datasource("http://prometheus:9090"),
            grafana_dashboard_provider=observability.render_grafana_dashboard_provider(),
            dashboards=observability.render_dashboards(),
            grafana_admin_password=grafana_password,
        ),
        opts=pulumi.ResourceOptions(provider=docker_provider(monitoring_host_name, monitoring_host)),
    )
    pulumi.export(
        "monitoring",
        {
            "instanceId": monitoring_host.instance_id,
            "prometheus": access.port_forward_command(
                monitoring_host.instance_id, config.region, observability.PROMETHEUS_PORT
            ),
            "grafana": access.port_forward_command(
                monitoring_host.instance_id, config.region, observability.GRAFANA_PORT
            ),
        },
    )
    if grafana_password is not None:
        pulumi.export("grafanaAdminPassword", pulumi.Output.secret(grafana_password))

# --- the front door: one ALB, a target group per model, only /v1/* and /health forwarded ----------------------
lb_config = config.load_balancer
load_balancer = LoadBalancer(
    "endpoint",
    LoadBalancerArgs(
        vpc_id=network.vpc_id,
        subnet_ids=lb_subnets,
        internal=lb_config.internal,
        allowed_cidrs=config.network.allowed_cidrs,
        certificate_arn=lb_config.certificate_arn,
        idle_timeout_seconds=lb_config.idle_timeout_seconds,
        deletion_protection=lb_config.deletion_protection,
        domain=lb_config.domain,
        access_logs_bucket=lb_config.access_logs_bucket,
        models=tuple(
            ModelTargets(
                name=model.config.name,
                targets=tuple(targets[model.config.name]),
                cold_start_seconds=model.cold_start.warm_cache_seconds,
            )
            for model in plan.models
        ),
        tags=base_tags,
    ),
)
model_names = [model.config.name for model in plan.models]
pulumi.export("baseUrl", load_balancer.base_url)
pulumi.export("modelBaseUrls", load_balancer.model_base_urls)
pulumi.export("modelNames", model_names)
pulumi.export("curlExample", load_balancer.base_url.apply(lambda url: examples.curl(url, model_names[0])))
pulumi.export("openaiExample", load_balancer.base_url.apply(lambda url: examples.openai_python(url, model_names[0])))

pulumi.export("apiKey", pulumi.Output.secret(api_key))
pulumi.export("sshPrivateKey", ssh_key.private_key_openssh)
pulumi.export("sshOptions", access.ssh_options(config.access.mode, config.region, key_file))
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
