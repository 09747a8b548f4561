"""vllm-aws stack: validate and plan the configuration, then compose the components (public API only).

Everything is validated, sized and placed before the first resource is registered, so a model that cannot
serve fails `pulumi preview` with a message naming the config key instead of failing on the host.
"""

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components import (
    DLAMI_SSM_PARAMETER,
    HOURS_PER_MONTH,
    MONITORING_AMI_PARAMETER,
    MONITORING_ROOT_VOLUME_GIB,
    MONITORING_SSH_USER,
    MONITORING_VOLUME_GIB,
    ConfigError,
    ExistingEndpoint,
    GpuHost,
    GpuHostArgs,
    HostPlacement,
    ImageBuild,
    LoadBalancer,
    LoadBalancerArgs,
    ModelCache,
    ModelCacheArgs,
    Monitoring,
    MonitoringArgs,
    VllmDeployment,
    VllmDeploymentArgs,
    access,
    create_stack_secrets,
    custom_image_tag,
    examples,
    hosts_for,
    load_stack_config,
    observability,
    placement,
    plan_stack,
    quota_check,
    quotas,
    routing,
    secret_output,
    stack_tags,
)

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
    monitoring_config = config.monitoring
    dedicated_monitoring = monitoring_config.enabled and monitoring_config.placement == "dedicated"
    colocated_monitoring = monitoring_config.enabled and monitoring_config.placement == "colocated"
    monitoring_zones = (
        placement.place_monitoring(monitoring_config.instance_type, network) if dedicated_monitoring else None
    )
    # EC2 vCPU and load-balancer quotas, read from the account: a stack that does not fit fails here.
    quota_needs = quota_check.check_stack_quotas(config, plan)
except ConfigError as error:
    # RunError ends the program with just this message: no traceback, nothing registered.
    raise pulumi.RunError(str(error)) from None

for warning in plan.warnings + tuple(w for model in plan.models for w in model.warnings):
    pulumi.log.warn(warning)

base_tags = stack_tags(stack, pulumi.get_project(), config.tags)
account_id = aws.get_caller_identity().account_id

# --- secrets: Pulumi secrets in state, SSM SecureStrings for the hosts, never in user-data --------------------
secrets = create_stack_secrets(
    stack,
    config.region,
    account_id,
    api_key=secret_output(config.api_key) if config.api_key is not None else None,
    hf_token=secret_output(config.hf_token) if config.hf_token is not None else None,
    tags=base_tags,
)

# One key pair per stack for pulumi-docker's SSH: a secret in state, and a private copy on the deploying machine.
ssh = access.create_ssh_access(pulumi.get_project(), stack)

# --- the front door: one ALB; each model attaches its routes (only /v1/* and /health are forwarded) ------------
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
        tags=base_tags,
    ),
)

# --- one deployment per model: hosts with caches, vLLM servers, exporters, routes -------------------------------
gpu_ami_id = config.ami_id or aws.ssm.get_parameter(name=DLAMI_SSM_PARAMETER).value
image_build = (
    ImageBuild(
        context=config.image_build.context,
        dockerfile=config.image_build.dockerfile,
        tag=custom_image_tag(config.image_build.context),
    )
    if config.image_build
    else None
)
# Rule priorities follow model names, never list positions (components.routing: day-2 safety).
rule_priorities = routing.stack_priorities([m.config.name for m in plan.models], lb_config.rule_priorities)
deployments: dict[str, VllmDeployment] = {}
for index, model in enumerate(plan.models):
    deployments[model.config.name] = VllmDeployment(
        model.config.name,
        VllmDeploymentArgs(
            model=model.config,
            region=config.region,
            vpc_id=network.vpc_id,
            placements=tuple(
                HostPlacement(subnet_id=zone.subnet_id, availability_zone=zone.name)
                for zone in placements[model.config.name].spread
            ),
            zone_subnets=placements[model.config.name].subnets,
            associate_public_ip=network.hosts_need_public_ip,
            ami_id=gpu_ami_id,
            image=config.image,
            image_build=image_build,
            cache=config.cache,
            access=config.access,
            ssh=ssh,
            secrets=secrets.hosts,
            endpoint=ExistingEndpoint(
                listener_arn=load_balancer.listener_arn,
                security_group_id=load_balancer.security_group_id,
                rule_priority=rule_priorities[model.config.name],
                domain=lb_config.domain,
                idle_timeout_seconds=lb_config.idle_timeout_seconds,
            ),
            prometheus_discovery=colocated_monitoring and index == 0,
            tags=base_tags,
        ),
    )
# The listener's plain /v1/* serves the first model: one rule whichever model that is.
default_model = plan.models[0].config.name
load_balancer.serve_default_model(default_model, deployments[default_model].target_group_arn)
all_hosts = {name: host for deployment in deployments.values() for name, host in deployment.hosts.items()}

# --- monitoring: Prometheus + Grafana, dedicated or on the first GPU host ---------------------------------------
if monitoring_config.enabled:
    first = next(iter(deployments.values()))
    if monitoring_zones is None:
        monitoring_host_name, monitoring_host = next(iter(first.hosts.items()))
        monitoring_provider = first.docker_providers[monitoring_host_name]
    else:
        monitoring_host_name = "monitoring"
        data = ModelCache(
            "monitoring-cache",
            ModelCacheArgs(
                availability_zone=monitoring_zones.spread[0].name, size_gib=MONITORING_VOLUME_GIB, tags=base_tags
            ),
        )
        monitoring_host = GpuHost(
            monitoring_host_name,
            GpuHostArgs(
                instance_type=monitoring_config.instance_type,
                ami_id=aws.ssm.get_parameter(name=MONITORING_AMI_PARAMETER).value,
                vpc_id=network.vpc_id,
                # Like the GPU hosts: in the zone its data volume really is in.
                subnet_id=placement.follow_cache(
                    data.availability_zone,
                    monitoring_zones.subnets,
                    monitoring_host_name,
                    monitoring_config.instance_type,
                ),
                availability_zone=data.availability_zone,
                associate_public_ip=network.hosts_need_public_ip,
                cache_volume_id=data.volume_id,
                root_volume_gib=MONITORING_ROOT_VOLUME_GIB,
                region=config.region,
                ssh_public_key=ssh.public_key,
                ssh_private_key=ssh.private_key,
                access_mode=config.access.mode,
                ssh_cidrs=config.access.ssh_cidrs,
                gpu=False,
                ssh_user=MONITORING_SSH_USER,
                packages=("docker",),
                ec2_discovery=True,
                tags={**base_tags, "vllm-aws:role": "monitoring"},
            ),
        )
        monitoring_provider = access.docker_provider(
            monitoring_host_name, monitoring_host, config.access.mode, config.region, ssh
        )
    grafana_password = (
        random.RandomPassword("grafana-admin-password", length=32, special=False).result
        if monitoring_config.grafana
        else None
    )
    max_servers_per_host = max(m.config.replicas_per_host for m in plan.models)
    Monitoring(
        "monitoring",
        MonitoringArgs(
            host_instance=monitoring_host.instance,
            host_ready=monitoring_host.readiness,
            security_group_id=monitoring_host.security_group_id,
            target_security_group_ids={name: host.security_group_id for name, host in all_hosts.items()},
            vllm_ports=(observability.VLLM_PORT, observability.VLLM_PORT + max_servers_per_host - 1),
            prometheus_config=observability.render_prometheus_config(
                observability.PrometheusSpec(
                    stack=stack,
                    region=config.region,
                    retention_days=monitoring_config.retention_days,
                    max_servers_per_host=max_servers_per_host,
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
        opts=pulumi.ResourceOptions(provider=monitoring_provider),
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

# --- outputs -------------------------------------------------------------------------------------------------
model_names = [model.config.name for model in plan.models]
pulumi.export("baseUrl", load_balancer.base_url)
pulumi.export(
    "modelBaseUrls",
    load_balancer.dns_name.apply(
        lambda dns: examples.model_base_urls(load_balancer.scheme, dns, model_names, lb_config.domain)
    ),
)
pulumi.export("modelNames", model_names)
pulumi.export("curlExample", load_balancer.base_url.apply(lambda url: examples.curl(url, model_names[0])))
pulumi.export("openaiExample", load_balancer.base_url.apply(lambda url: examples.openai_python(url, model_names[0])))
# What another stack needs to serve more models behind this ALB (examples/extra-model reads these).
pulumi.export(
    "loadBalancer",
    {
        "listenerArn": load_balancer.listener_arn,
        "securityGroupId": load_balancer.security_group_id,
        "dnsName": load_balancer.dns_name,
        "scheme": load_balancer.scheme,
    },
)
pulumi.export(
    "network",
    {
        "vpcId": network.vpc_id,
        "hostSubnets": dict(network.host_subnets),
        "hostsNeedPublicIp": network.hosts_need_public_ip,
    },
)
pulumi.export("quotas", quotas.needs_json(quota_needs))
pulumi.export("secretParameters", secrets.hosts.parameters)
pulumi.export("apiKey", pulumi.Output.secret(secrets.api_key))
pulumi.export("sshPrivateKey", ssh.private_key)
pulumi.export("sshOptions", access.ssh_options(config.access.mode, config.region, ssh.key_file))
pulumi.export(
    "hosts",
    {
        name: {
            "instanceId": host.instance_id,
            "privateIp": host.private_ip,
            "availabilityZone": host.availability_zone,
            "dockerHost": host.docker_host,
            "cacheVolumeId": deployment.caches[name].volume_id,
        }
        for deployment in deployments.values()
        for name, host in deployment.hosts.items()
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
