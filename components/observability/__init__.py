"""Everything the monitoring host's Prometheus, Alertmanager and Grafana read: scrape config, alert rules, alert
routing, provisioning, dashboards; and the counters file of the GPU hosts' dcgm-exporter (the fields those rules
and dashboards query).

The renderers (prometheus, alert_rules, stack_alerts, alertmanager, grafana, dcgm, metrics) are pure functions,
no Pulumi; re-exported here. The ``Monitoring`` component (:mod:`.monitoring`) renders them into its containers'
files, on a dedicated host (:mod:`.monitoring_host`) or a GPU host. Each ``vllm:`` metric name they use is
checked against the metric names of the pinned vLLM release (:func:`unknown_vllm_metrics`), and the tests run the
real ``promtool`` on the rendered files.
"""

from __future__ import annotations

# The tag keys the scrape config discovers hosts by, vLLM's port and the servers a host may run, as defined where
# they belong.
from .._naming import (
    GPU_HOST_ROLE,
    MODEL_TAG,
    REPLICA_TAG,
    ROLE_TAG,
    SERVER_MODEL_LABEL,
    SERVERS_TAG,
    STACK_TAG,
)
from ..config.sections import MAX_SERVERS_PER_HOST
from ..planner.vllm_args import VLLM_PORT
from ..serving.images import ALERTMANAGER_IMAGE
from .alert_rules import render_alert_rules
from .alertmanager import (
    ALERTMANAGER_ADDRESS,
    ALERTMANAGER_CONFIG_PATH,
    ALERTMANAGER_PORT,
    ALERTMANAGER_SECRETS_DIR,
    ALERTS_WEBHOOK_URL_FILE,
    HEARTBEAT_WEBHOOK_URL_FILE,
    AlertDestination,
    AlertmanagerSpec,
    render_alertmanager_config,
)
from .dcgm import DCGM_COUNTERS_PATH, dcgm_counter_names, render_dcgm_counters
from .grafana import (
    DASHBOARD_FOLDER,
    GRAFANA_DASHBOARDS_DIR,
    PROMETHEUS_DATASOURCE_UID,
    render_dashboards,
    render_grafana_dashboard_provider,
    render_grafana_datasource,
)
from .metrics import (
    VLLM_METRIC_KINDS,
    exposed_vllm_metric_names,
    metric_names_in_expression,
    unknown_vllm_metrics,
    vllm_metric_names,
)
from .prometheus import (
    ALERT_RULES_FILE_NAME,
    DCGM_EXPORTER_PORT,
    GRAFANA_PORT,
    NODE_EXPORTER_PORT,
    PROMETHEUS_CONFIG_PATH,
    PROMETHEUS_PORT,
    PROMETHEUS_RULES_DIR,
    RULE_FILES_GLOB,
    PrometheusSpec,
    render_prometheus_config,
)
from .stack_alerts import (
    EXPECTED_HOST_METRIC,
    EXPECTED_SERVER_METRIC,
    WATCHDOG_ALERT,
    ExpectedModel,
    StackAlertsSpec,
    stack_inventory,
)

__all__ = [
    "ALERTMANAGER_ADDRESS",
    "ALERTMANAGER_CONFIG_PATH",
    "ALERTMANAGER_IMAGE",
    "ALERTMANAGER_PORT",
    "ALERTMANAGER_SECRETS_DIR",
    "ALERTS_WEBHOOK_URL_FILE",
    "ALERT_RULES_FILE_NAME",
    "DASHBOARD_FOLDER",
    "DCGM_COUNTERS_PATH",
    "DCGM_EXPORTER_PORT",
    "EXPECTED_HOST_METRIC",
    "EXPECTED_SERVER_METRIC",
    "GPU_HOST_ROLE",
    "GRAFANA_DASHBOARDS_DIR",
    "GRAFANA_PORT",
    "HEARTBEAT_WEBHOOK_URL_FILE",
    "MAX_SERVERS_PER_HOST",
    "MODEL_TAG",
    "NODE_EXPORTER_PORT",
    "PROMETHEUS_CONFIG_PATH",
    "PROMETHEUS_DATASOURCE_UID",
    "PROMETHEUS_PORT",
    "PROMETHEUS_RULES_DIR",
    "REPLICA_TAG",
    "ROLE_TAG",
    "RULE_FILES_GLOB",
    "SERVERS_TAG",
    "SERVER_MODEL_LABEL",
    "STACK_TAG",
    "VLLM_METRIC_KINDS",
    "VLLM_PORT",
    "WATCHDOG_ALERT",
    "AlertDestination",
    "AlertmanagerSpec",
    "ExpectedModel",
    "PrometheusSpec",
    "StackAlertsSpec",
    "dcgm_counter_names",
    "exposed_vllm_metric_names",
    "metric_names_in_expression",
    "render_alert_rules",
    "render_alertmanager_config",
    "render_dashboards",
    "render_dcgm_counters",
    "render_grafana_dashboard_provider",
    "render_grafana_datasource",
    "render_prometheus_config",
    "stack_inventory",
    "unknown_vllm_metrics",
    "vllm_metric_names",
]
