"""vllm-aws stack: validate and plan the configuration, then compose the components (public API only).

Everything is validated, sized and placed before the first resource is registered, so a model that cannot
serve fails `pulumi preview` with a message naming the config key instead of failing on the host.
"""

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components import (
    DLAMI_SSM_PARAMETER,
    ConfigError,
    ExistingEndpoint,
    HostPlacement,
    ImageBuild,
    LoadBalancer,
    LoadBalancerArgs,
    Monitoring,
    MonitoringArgs,
    MonitoringHostArgs,
    VllmDeployment,
    VllmDeploymentArgs,
    access,
    check_stack,
    create_alert_topics,
    create_monitoring_host,
    create_stack_key,
    create_stack_secrets,
    create_webhook_secret,
    load_stack_config,
    monitoring_outputs,
    observability,
    open_egress,
    pull_references,
    quotas,
    routing,
    secret_output,
    stack_tags,
)
from components.host.self_healing import auto_recovery_supported
from components.planner.root_disk import root_volume_size
from components.quotas import live_prices

stack, project = pulumi.get_stack(), pulumi.get_project()
try:
    # The config, every model, and what AWS says (the VPC and subnets, the zones that offer each type, the hosted
    # zone, the GPUs EC2 describes, the quotas): every problem at once, before any resource.
    checked = check_stack(load_stack_config)
except ConfigError as error:
    # RunError ends the program with just this message: no traceback, nothing registered.
    raise pulumi.RunError(str(error)) from None
plan, network, placements = checked.plan, checked.network, checked.placements
config, monitoring = plan.config, plan.config.monitoring
monitoring_zones = checked.monitoring_zones
# Read before any resource exists: a lookup made among registrations first waits for all of them.
ec2_recovers = {name: auto_recovery_supported(name) for name in {model.instance.name for model in plan.models}}

for warning in plan.warnings + tuple(w for model in plan.models for w in model.warnings):
    pulumi.log.warn(warning)

tags = stack_tags(stack, project, config.tags)
# pinImagesByDigest: the references the hosts pull (image -> name@sha256:...); empty when pinning is off.
pinned_images = pull_references(plan.images)
account_id = aws.get_caller_identity().account_id
# The stack's own key (kmsKey): GPU host volumes and the secrets' parameters; else the AWS managed keys.
kms_key = config.kms_key
kms_key_arn = (
    create_stack_key(stack, kms_key, region=config.region, account_id=account_id, tags=tags).arn
    if kms_key.enabled
    else None
)
grafana_password = (
    random.RandomPassword("grafana-admin-password", length=32, special=False).result
    if monitoring.enabled and monitoring.grafana
    else None
)
secrets = create_stack_secrets(
    stack,
    config.region,
    account_id,
    api_key=secret_output(config.api_key) if config.api_key is not None else None,
    hf_token=secret_output(config.hf_token) if config.hf_token is not None else None,
    tags=tags,
    kms_key_arn=kms_key_arn,
    grafana_admin_password=grafana_password,
)
grafana_secret = secrets.grafana_admin_password
# One key pair per stack for pulumi-docker's SSH: a secret in state, and a private copy on the deploying machine.
ssh = access.create_ssh_access(project, stack)

# --- the front door: one ALB; each model attaches its routes (only /v1/* and /health are forwarded) ------------
load_balancer = LoadBalancer(
    "endpoint",
    LoadBalancerArgs.of_config(
        config.load_balancer,
        vpc_id=network.vpc_id,
        subnet_ids=checked.load_balancer_subnets,
        allowed_cidrs=config.network.allowed_cidrs,
        model_names=[model.config.name for model in plan.models],
        region=config.region,
        account_id=account_id,
        tags=tags,
    ),
)

# --- alert delivery: an SNS topic (emails from config), and a heartbeat topic watched by a dead-man's switch -----
alert_topics = create_alert_topics(stack, account_id, monitoring.alerts.emails, tags) if monitoring.enabled else None

# --- one deployment per model: hosts with caches, vLLM servers, exporters, routes -------------------------------
gpu_ami_id = config.ami_id or aws.ssm.get_parameter(name=DLAMI_SSM_PARAMETER).value
image_build = ImageBuild.of_config(config.image_build) if config.image_build else None
# Rule priorities follow model names, never list positions (components.network.routing: day-2 safety).
model_names = [model.config.name for model in plan.models]
rule_priorities = routing.stack_priorities(model_names, config.load_balancer.rule_priorities)
deployments: dict[str, VllmDeployment] = {}
for index, model in enumerate(plan.models):
    name, zones = model.config.name, placements[model.config.name]
    deployments[name] = VllmDeployment(
        name,
        VllmDeploymentArgs(
            model=model.config,
            region=config.region,
            vpc_id=network.vpc_id,
            placements=tuple(HostPlacement(subnet_id=z.subnet_id, availability_zone=z.name) for z in zones.spread),
            zone_subnets=zones.subnets,
            associate_public_ip=network.hosts_need_public_ip,
            ami_id=gpu_ami_id,
            image=config.image,
            pinned_images=pinned_images,
            image_build=image_build,
            root_volume_gib=root_volume_size(config.root_volume_gib),
            cache=config.cache,
            access=config.access,
            ssh=ssh,
            secrets=secrets.hosts,
            kms_key_arn=kms_key_arn,
            endpoint=ExistingEndpoint.of(load_balancer, rule_priorities[name]),
            prometheus_discovery=monitoring.enabled and monitoring_zones is None and index == 0,
            alarm_topic_arn=alert_topics.alerts_arn if alert_topics is not None else None,
            auto_recovery_supported=ec2_recovers[model.instance.name],
            tags=tags,
        ),
    )
# The listener's plain /v1/* serves the first model: one rule whichever model that is.
default = deployments[model_names[0]]
load_balancer.serve_default_model(model_names[0], default.target_group_arn, (default.first_ready,))
hosts = {name: host for deployment in deployments.values() for name, host in deployment.hosts.items()}

# --- monitoring: Prometheus + Grafana, on its own host or on the first GPU host --------------------------------
if monitoring.enabled:
    webhook_url_file = None
    if monitoring_zones is None:
        monitoring_host_name = f"{model_names[0]}-0"
        monitoring_host, monitoring_provider = deployments[model_names[0]].first_host()
    else:
        dedicated_host = create_monitoring_host(
            MonitoringHostArgs(
                instance_type=monitoring.instance_type,
                zones=monitoring_zones,
                vpc_id=network.vpc_id,
                associate_public_ip=network.hosts_need_public_ip,
                region=config.region,
                ssh=ssh,
                access_mode=config.access.mode,
                ssh_cidrs=config.access.ssh_cidrs,
                kms_key_arn=kms_key_arn,
                service_secrets=(grafana_secret,) if grafana_secret is not None else (),
                # The schema allows the webhook with a dedicated host only: no GPU host's container may see it.
                webhook_secret=create_webhook_secret(
                    stack,
                    config.region,
                    account_id,
                    secret_output(config.alerts_webhook_url),
                    tags=tags,
                    kms_key_arn=kms_key_arn,
                )
                if config.alerts_webhook_url is not None
                else None,
                tags=tags,
            )
        )
        monitoring_host_name = "monitoring"
        monitoring_host, monitoring_provider = dedicated_host.host, dedicated_host.docker_provider
        webhook_url_file = dedicated_host.webhook_url_file
    assert alert_topics is not None  # created whenever monitoring is enabled
    alert_topics.allow_publishing(monitoring_host_name, monitoring_host)
    Monitoring(
        "monitoring",
        MonitoringArgs(
            host_instance=monitoring_host.instance,
            host_ready=monitoring_host.readiness,
            security_group_id=monitoring_host.security_group_id,
            target_security_group_ids={name: host.security_group_id for name, host in hosts.items()},
            targets_cidr=network.cidr_block,
            stack=stack,
            region=config.region,
            max_servers_per_host=max(model.config.replicas_per_host for model in plan.models),
            inventory=observability.stack_inventory(plan),
            targets_ready=tuple(host.readiness for host in hosts.values()),
            alert_topics=alert_topics,
            webhook_url_file=webhook_url_file,
            retention_days=monitoring.retention_days,
            grafana=monitoring.grafana,
            grafana_admin_password_file=grafana_secret.host_path if grafana_secret is not None else None,
            pinned_images=pinned_images,
        ),
        opts=pulumi.ResourceOptions(provider=monitoring_provider),
    )
    pulumi.export("monitoring", monitoring_outputs(monitoring_host.instance_id, config.region, alert_topics.alerts_arn))
    if grafana_password is not None:
        pulumi.export("grafanaAdminPassword", pulumi.Output.secret(grafana_password))

# --- network.hostEgress: open gives every host the all-traffic egress rule (default: HTTPS and HTTP only) --------
if config.network.host_egress == "open":
    for host_name, host in hosts.items():
        open_egress(host_name, host.security_group_id, host)
    if monitoring.enabled and monitoring_zones is not None:
        open_egress("monitoring", monitoring_host.security_group_id, monitoring_host)

# --- outputs: each part exports what it owns -------------------------------------------------------------------
outputs = {
    **load_balancer.stack_outputs(model_names),
    "network": network.stack_output(),
    "quotas": quotas.needs_json(checked.quota_needs),
    **secrets.stack_outputs(),
    **ssh.stack_outputs(config.access.mode, config.region),
    "hosts": {name: out for deployment in deployments.values() for name, out in deployment.host_outputs().items()},
    "serverReadiness": {name: deployment.readiness_outputs() for name, deployment in deployments.items()},
    **plan.stack_outputs(),
    # pricing.source live reads the AWS Price List here; every entry says where its price comes from.
    "instancePrices": live_prices.instance_prices(plan),
}
for key, value in outputs.items():
    pulumi.export(key, value)
