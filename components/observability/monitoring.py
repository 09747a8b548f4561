"""Monitoring: Prometheus (EC2 discovery, alert rules) and Grafana on a host, admitted to scrape the GPU hosts.

It owns its defaults (images, ports, retention, the datasource URL) and renders its own files (scrape config,
alert rules, Grafana provisioning and dashboards, :mod:`.prometheus` and :mod:`.grafana`) from what it is told
about the stack: its name and region, and how many vLLM servers a host runs at most.
"""

from __future__ import annotations

from typing import Annotated, Self

import pulumi
import pulumi_aws as aws
import pulumi_docker as docker
from pydantic import BaseModel, ConfigDict, Field, model_validator

from .._naming import child_name, type_token
from ..config.sections import DEFAULT_RETENTION_DAYS, MAX_SERVERS_PER_HOST
from ..host.bootstrap import CACHE_MOUNT
from ..host.gpu_host import on_host_options
from ..planner.vllm_args import VLLM_PORT
from ..serving.container_spec import LOG_DRIVER, SIDECAR_LOG_OPTIONS
from ..serving.images import ALERTMANAGER_IMAGE, GRAFANA_IMAGE, PROMETHEUS_IMAGE, pull_reference
from .alert_delivery import AlertTopics
from .alert_rules import render_alert_rules
from .alertmanager import (
    ALERTMANAGER_ADDRESS,
    ALERTMANAGER_CONFIG_PATH,
    ALERTMANAGER_HOST,
    ALERTMANAGER_PORT,
    ALERTS_WEBHOOK_URL_FILE,
    AlertDestination,
    AlertmanagerSpec,
    render_alertmanager_config,
)
from .grafana import (
    GRAFANA_DASHBOARDS_DIR,
    render_dashboards,
    render_grafana_dashboard_provider,
    render_grafana_datasource,
)
from .monitoring_host import WebhookUrlFile
from .prometheus import (
    DCGM_EXPORTER_PORT,
    GRAFANA_PORT,
    NODE_EXPORTER_PORT,
    PROMETHEUS_PORT,
    PrometheusSpec,
    render_prometheus_config,
)
from .stack_alerts import StackAlertsSpec

# Data lives on the host's data volume (the model cache on a colocated host), so it survives a new container
# and, on a dedicated host, a new instance. The bootstrap creates these owned by the images' users.
PROMETHEUS_DATA = f"{CACHE_MOUNT}/monitoring/prometheus"
GRAFANA_DATA = f"{CACHE_MOUNT}/monitoring/grafana"
WEBHOOK_VERSION_LABEL = "vllm-aws.webhook-version"  # a new webhook URL (its parameter's version) replaces Alertmanager
LOOPBACK = "127.0.0.1"  # UIs are reached through an SSM port forward only, never from the network
# Grafana reaches Prometheus on the containers' own network, by the Prometheus container's alias.
PROMETHEUS_ALIAS = "prometheus"
DATASOURCE_URL = f"http://{PROMETHEUS_ALIAS}:{PROMETHEUS_PORT}"
GRAFANA_PASSWORD_PATH = "/run/secrets/grafana-admin-password"  # in the container, read-only


class MonitoringArgs(BaseModel):
    """Inputs of :class:`Monitoring`."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    host_instance: Annotated[pulumi.Resource, Field(description="The host it runs on (dedicated or GPU host).")]
    host_ready: pulumi.Resource
    security_group_id: Annotated[pulumi.Output[str], Field(description="The monitoring host's security group.")]
    target_security_group_ids: Annotated[
        dict[str, pulumi.Output[str]], Field(description="Scrape targets' groups, keyed by host name.")
    ]
    targets_cidr: Annotated[
        str | None,
        Field(
            description="The targets' network (the VPC's IPv4 CIDR): this host's group may open the scrape ports to "
            "it, which a host with restricted egress (host.egress) needs. Default: none (its egress is open)."
        ),
    ] = None
    stack: Annotated[
        str, Field(description="The stack whose GPU hosts Prometheus discovers (their vllm-aws:stack tag).")
    ]
    region: Annotated[str, Field(description="Region of those hosts (EC2 discovery).")]
    max_servers_per_host: Annotated[
        int,
        Field(
            ge=1,
            le=MAX_SERVERS_PER_HOST,
            description="The most vLLM servers any target runs (the largest replicasPerHost): Prometheus scrapes "
            "that many ports from the first vLLM port. Default: 1.",
        ),
    ] = 1
    inventory: Annotated[
        StackAlertsSpec,
        Field(
            description="What the stack deploys (observability.stack_inventory(plan)): the alert rules report an "
            "expected server or host that discovery does not find."
        ),
    ]
    targets_ready: Annotated[
        tuple[pulumi.Resource, ...],
        Field(
            description="The GPU hosts' readiness gates: the rules naming a new host are uploaded only once it runs, "
            "so a host being created is never reported missing. Default: none."
        ),
    ] = ()
    alert_topics: Annotated[
        AlertTopics | None,
        Field(
            description="Run Alertmanager and send the alerts to these SNS topics (observability.create_alert_topics; "
            "the host's role needs sns:Publish on them: AlertTopics.allow_publishing). Default: none (alerts are "
            "only shown in Prometheus)."
        ),
    ] = None
    webhook_url_file: Annotated[
        WebhookUrlFile | None,
        Field(
            description="Also POST every alert to the URL in this host file (MonitoringHost.webhook_url_file; needs "
            "alert_topics). Default: none."
        ),
    ] = None
    retention_days: Annotated[
        int, Field(ge=1, description=f"Prometheus retention. Default: {DEFAULT_RETENTION_DAYS} days.")
    ] = DEFAULT_RETENTION_DAYS
    grafana: Annotated[bool, Field(description="Run Grafana too. Default: true.")] = True
    grafana_admin_password_file: Annotated[
        str | None,
        Field(
            description="Host path of the file holding Grafana's admin password, which the host fetched at boot "
            "(host.secrets.ServiceSecret.host_path): Grafana reads it through GF_SECURITY_ADMIN_PASSWORD__FILE, so "
            "the password is in no container env or argument. Required with grafana."
        ),
    ] = None
    pinned_images: Annotated[
        dict[str, str],
        Field(description="Image -> the reference to pull, e.g. by digest (serving.images). Default: by tag."),
    ] = {}

    @model_validator(mode="after")
    def _webhook_needs_alertmanager(self) -> Self:
        if self.webhook_url_file is not None and self.alert_topics is None:
            raise ValueError("webhook_url_file needs alert_topics: Alertmanager runs only with them")
        return self

    @model_validator(mode="after")
    def _grafana_needs_a_password(self) -> Self:
        if self.grafana and self.grafana_admin_password_file is None:
            raise ValueError("grafana_admin_password_file is required when grafana is on (never run Grafana open)")
        return self


class Monitoring(pulumi.ComponentResource):
    """Prometheus and Grafana bound to loopback; the targets admit the scrape ports from this host only."""

    prometheus_url: pulumi.Output[str]
    """URL on the monitoring host (reach it with an SSM port forward)."""
    grafana_url: pulumi.Output[str]
    """URL on the monitoring host, empty without Grafana."""

    def __init__(self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(type_token("Monitoring"), name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        scrape_ports = {
            "vllm": (VLLM_PORT, VLLM_PORT + args.max_servers_per_host - 1),
            "node": (NODE_EXPORTER_PORT, NODE_EXPORTER_PORT),
            "dcgm": (DCGM_EXPORTER_PORT, DCGM_EXPORTER_PORT),
        }
        if args.targets_cidr is not None:
            # One rule over every scrape port, to the targets' network: each target admits only the jobs' own
            # ports, and only from this group, so no more is reachable; one rule however many hosts (a rule per
            # host would reach the rules-per-group quota, 60 by default, at about 58 hosts).
            aws.vpc.SecurityGroupEgressRule(
                child_name(name, "scrape-out"),
                security_group_id=args.security_group_id,
                ip_protocol="tcp",
                from_port=min(first for first, _ in scrape_ports.values()),
                to_port=max(last for _, last in scrape_ports.values()),
                cidr_ipv4=args.targets_cidr,
                description="Prometheus scrapes the GPU hosts",
                opts=child,
            )
        for target, group_id in sorted(args.target_security_group_ids.items()):
            for job, (first, last) in scrape_ports.items():
                aws.vpc.SecurityGroupIngressRule(
                    child_name(name, f"scrape-{job}-{target}"),
                    security_group_id=group_id,
                    ip_protocol="tcp",
                    from_port=first,
                    to_port=last,
                    referenced_security_group_id=args.security_group_id,
                    description=f"Prometheus scrapes {job} metrics",
                    opts=child,
                )

        on_host = on_host_options(self, args.host_instance, args.host_ready)
        network = docker.Network(child_name(name, "network"), name="vllm-aws-monitoring", opts=on_host)
        prometheus_image = docker.RemoteImage(
            child_name(name, "prometheus-image"),
            name=pull_reference(PROMETHEUS_IMAGE, args.pinned_images),
            keep_locally=True,
            opts=on_host,
        )
        prometheus_config = render_prometheus_config(
            PrometheusSpec(
                stack=args.stack,
                region=args.region,
                retention_days=args.retention_days,
                max_servers_per_host=args.max_servers_per_host,
                alertmanager=ALERTMANAGER_ADDRESS if args.alert_topics is not None else None,
            )
        )
        if args.alert_topics is not None:
            _alertmanager(
                name,
                args.stack,
                args.alert_topics,
                args.webhook_url_file,
                network=network,
                on_host=on_host,
                image_reference=pull_reference(ALERTMANAGER_IMAGE, args.pinned_images),
            )
        # Replaced with its files: after every host the new rules expect is running (see targets_ready).
        prometheus_options = pulumi.ResourceOptions.merge(
            on_host, pulumi.ResourceOptions(depends_on=list(args.targets_ready))
        )
        docker.Container(
            child_name(name, "prometheus"),
            name=PROMETHEUS_ALIAS,
            image=prometheus_image.image_id,
            command=[
                "--config.file=/etc/prometheus/prometheus.yml",
                "--storage.tsdb.path=/prometheus",
                f"--storage.tsdb.retention.time={args.retention_days}d",
                f"--web.listen-address=:{PROMETHEUS_PORT}",
            ],
            uploads=[
                docker.ContainerUploadArgs(file="/etc/prometheus/prometheus.yml", content=prometheus_config),
                docker.ContainerUploadArgs(
                    file="/etc/prometheus/rules/vllm-aws.yml", content=render_alert_rules(args.inventory)
                ),
            ],
            mounts=[docker.ContainerMountArgs(type="bind", source=PROMETHEUS_DATA, target="/prometheus")],
            networks_advanced=[docker.ContainerNetworksAdvancedArgs(name=network.name, aliases=[PROMETHEUS_ALIAS])],
            ports=[docker.ContainerPortArgs(internal=PROMETHEUS_PORT, external=PROMETHEUS_PORT, ip=LOOPBACK)],
            restart="unless-stopped",
            log_driver=LOG_DRIVER,
            log_opts=SIDECAR_LOG_OPTIONS,
            opts=prometheus_options,
        )
        self.prometheus_url = pulumi.Output.from_input(f"http://{LOOPBACK}:{PROMETHEUS_PORT}")
        self.grafana_url = pulumi.Output.from_input("")
        if args.grafana and args.grafana_admin_password_file is not None:
            grafana_image = docker.RemoteImage(
                child_name(name, "grafana-image"),
                name=pull_reference(GRAFANA_IMAGE, args.pinned_images),
                keep_locally=True,
                opts=on_host,
            )
            docker.Container(
                child_name(name, "grafana"),
                name="grafana",
                image=grafana_image.image_id,
                # The image's run.sh exports every GF_*__FILE variable as the content of the file it names, then
                # unsets it (grafana/grafana packaging/docker/run.sh @0775459): the password reaches grafana-server's
                # environment only, never the container's configuration (`docker inspect`).
                envs=[
                    f"GF_SECURITY_ADMIN_PASSWORD__FILE={GRAFANA_PASSWORD_PATH}",
                    "GF_USERS_ALLOW_SIGN_UP=false",
                    "GF_AUTH_ANONYMOUS_ENABLED=false",
                    "GF_ANALYTICS_REPORTING_ENABLED=false",
                ],
                uploads=[
                    docker.ContainerUploadArgs(
                        file="/etc/grafana/provisioning/datasources/vllm-aws.yml",
                        content=render_grafana_datasource(DATASOURCE_URL),
                    ),
                    docker.ContainerUploadArgs(
                        file="/etc/grafana/provisioning/dashboards/vllm-aws.yml",
                        content=render_grafana_dashboard_provider(),
                    ),
                    *[
                        docker.ContainerUploadArgs(file=f"{GRAFANA_DASHBOARDS_DIR}/{file}", content=body)
                        for file, body in sorted(render_dashboards().items())
                    ],
                ],
                mounts=[
                    docker.ContainerMountArgs(type="bind", source=GRAFANA_DATA, target="/var/lib/grafana"),
                    docker.ContainerMountArgs(
                        type="bind",
                        source=args.grafana_admin_password_file,
                        target=GRAFANA_PASSWORD_PATH,
                        read_only=True,
                    ),
                ],
                networks_advanced=[docker.ContainerNetworksAdvancedArgs(name=network.name, aliases=["grafana"])],
                ports=[docker.ContainerPortArgs(internal=GRAFANA_PORT, external=GRAFANA_PORT, ip=LOOPBACK)],
                restart="unless-stopped",
                log_driver=LOG_DRIVER,
                log_opts=SIDECAR_LOG_OPTIONS,
                opts=on_host,
            )
            self.grafana_url = pulumi.Output.from_input(f"http://{LOOPBACK}:{GRAFANA_PORT}")
        self.register_outputs({"prometheus_url": self.prometheus_url, "grafana_url": self.grafana_url})


def _alertmanager(
    name: str,
    stack: str,
    topics: AlertTopics,
    webhook: WebhookUrlFile | None,
    *,
    network: docker.Network,
    on_host: pulumi.ResourceOptions,
    image_reference: str,
) -> docker.Container:
    """Alertmanager on the monitoring network (Prometheus reaches it by its alias; no port is published), its
    config rendered from the topics' ARNs. Single instance: clustering is off, so it opens no gossip port.

    The webhook URL reaches it as a read-only bind mount of its file alone (never in the config, the command or
    the environment; ``url_file`` is read at each notification, notify/webhook/webhook.go at v0.34.0). A new URL
    replaces the container after the host fetched it: the bootstrap renames a new file into place, and a bind
    mount keeps the file it started with."""
    image = docker.RemoteImage(
        child_name(name, "alertmanager-image"), name=image_reference, keep_locally=True, opts=on_host
    )
    config = pulumi.Output.all(topics.alerts_arn, topics.heartbeat_arn).apply(
        lambda arns: render_alertmanager_config(
            AlertmanagerSpec(
                stack=stack,
                alerts=AlertDestination(sns_topic_arn=str(arns[0]), webhook=webhook is not None),
                heartbeat=AlertDestination(sns_topic_arn=str(arns[1])),
            )
        )
    )
    return docker.Container(
        child_name(name, "alertmanager"),
        name=ALERTMANAGER_HOST,
        image=image.image_id,
        command=[
            f"--config.file={ALERTMANAGER_CONFIG_PATH}",
            "--storage.path=/alertmanager",
            f"--web.listen-address=:{ALERTMANAGER_PORT}",
            "--cluster.listen-address=",
        ],
        uploads=[docker.ContainerUploadArgs(file=ALERTMANAGER_CONFIG_PATH, content=config)],
        mounts=[
            docker.ContainerMountArgs(
                type="bind", source=webhook.host_path, target=ALERTS_WEBHOOK_URL_FILE, read_only=True
            )
        ]
        if webhook is not None
        else None,
        labels=[docker.ContainerLabelArgs(label=WEBHOOK_VERSION_LABEL, value=webhook.version)]
        if webhook is not None
        else None,
        networks_advanced=[docker.ContainerNetworksAdvancedArgs(name=network.name, aliases=[ALERTMANAGER_HOST])],
        restart="unless-stopped",
        log_driver=LOG_DRIVER,
        log_opts=SIDECAR_LOG_OPTIONS,
        opts=pulumi.ResourceOptions.merge(
            on_host, pulumi.ResourceOptions(depends_on=[webhook.fetched] if webhook is not None else [])
        ),
    )
