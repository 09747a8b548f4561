"""vllm-aws: Pulumi components that serve LLMs with vLLM on AWS GPU instances.

Public API (semantic versioning applies to these names; everything else is internal):

- ``VllmDeployment``: one model served by N replicas with persistent caches, behind a given or new ALB.
- The building blocks it composes: ``GpuHost``, ``ModelCache``, ``VllmServer``, ``HostExporters``,
  ``ModelEndpoint``, ``LoadBalancer`` and ``Monitoring``, each with its pydantic ``...Args``.
- Configuration and planning: ``StackConfig`` (and its sections), ``load_stack_config``,
  ``parse_stack_config``, ``parse_section`` (one section under any key), ``plan_config`` (parse and plan, every
  problem at once), ``plan_stack``, ``plan_model`` (one model wherever it is configured, with a ``PlanContext``),
  ``ConfigError``, and ``pull_references`` (the plan's images as the hosts pull them, by digest with
  ``pinImagesByDigest``).
- ``check_stack`` (every check a preview can make before registering: config, models, network, GPUs, quotas;
  every problem at once) and its ``CheckedStack``.
- Helpers the stack program uses: ``placement``, ``access``, ``observability``, ``examples``, ``routing``,
  ``quotas`` (what a stack needs of each AWS quota) and ``quota_check`` (the account's limits, read at preview).
"""

from . import observability
from ._naming import stack_tags
from .config import (
    DEFAULT_IMAGE,
    AccessConfig,
    ArchitectureConfig,
    AwsRegion,
    CacheConfig,
    ImageBuildConfig,
    LoadBalancerConfig,
    ModelConfig,
    MonitoringConfig,
    NetworkConfig,
    PinnedImage,
    StackConfig,
    load_stack_config,
    parse_section,
    parse_stack_config,
    secret_output,
)
from .deployment import ExistingEndpoint, VllmDeployment, VllmDeploymentArgs
from .errors import ConfigError, ConfigIssue
from .host import ssh_access as access
from .host.ami import DLAMI_SSM_PARAMETER, MONITORING_AMI_PARAMETER, MONITORING_SSH_USER
from .host.egress import open_egress
from .host.gpu_host import GpuHost, GpuHostArgs, IngressRule
from .host.iam import parameter_arn
from .host.kms_key import create_stack_key
from .host.model_cache import ModelCache, ModelCacheArgs
from .host.secrets import HostSecrets, StackSecrets, create_stack_secrets, create_webhook_secret
from .host.ssh_access import SshAccess
from .network import client_snippets as examples
from .network import lookup as placement
from .network import routing
from .network.load_balancer import LoadBalancer, LoadBalancerArgs
from .network.model_endpoint import ModelEndpoint, ModelEndpointArgs, Target
from .network.placement import HostPlacement
from .observability.alert_delivery import AlertTopics, create_alert_topics
from .observability.monitoring import Monitoring, MonitoringArgs
from .observability.monitoring_host import (
    MonitoringHost,
    MonitoringHostArgs,
    WebhookUrlFile,
    create_monitoring_host,
    monitoring_outputs,
)
from .planner.context import PlanContext
from .planner.cost import HOURS_PER_MONTH, MONITORING_ROOT_VOLUME_GIB, MONITORING_VOLUME_GIB
from .planner.plan import ModelPlan, StackPlan, hosts_for, plan_config, plan_model, plan_stack
from .quotas import check as quota_check
from .quotas import needs as quotas
from .serving.container_spec import custom_image_tag
from .serving.host_exporters import HostExporters, HostExportersArgs
from .serving.images import ImagePin, pull_references
from .serving.vllm_server import HostAccess, ImageBuild, VllmServer, VllmServerArgs
from .stack_checks import CheckedStack, check_stack
from .version import __version__

__all__ = [
    "DEFAULT_IMAGE",
    "DLAMI_SSM_PARAMETER",
    "HOURS_PER_MONTH",
    "MONITORING_AMI_PARAMETER",
    "MONITORING_ROOT_VOLUME_GIB",
    "MONITORING_SSH_USER",
    "MONITORING_VOLUME_GIB",
    "AccessConfig",
    "AlertTopics",
    "ArchitectureConfig",
    "AwsRegion",
    "CacheConfig",
    "CheckedStack",
    "ConfigError",
    "ConfigIssue",
    "ExistingEndpoint",
    "GpuHost",
    "GpuHostArgs",
    "HostAccess",
    "HostExporters",
    "HostExportersArgs",
    "HostPlacement",
    "HostSecrets",
    "ImageBuild",
    "ImageBuildConfig",
    "ImagePin",
    "IngressRule",
    "LoadBalancer",
    "LoadBalancerArgs",
    "LoadBalancerConfig",
    "ModelCache",
    "ModelCacheArgs",
    "ModelConfig",
    "ModelEndpoint",
    "ModelEndpointArgs",
    "ModelPlan",
    "Monitoring",
    "MonitoringArgs",
    "MonitoringConfig",
    "MonitoringHost",
    "MonitoringHostArgs",
    "NetworkConfig",
    "PinnedImage",
    "PlanContext",
    "SshAccess",
    "StackConfig",
    "StackPlan",
    "StackSecrets",
    "Target",
    "VllmDeployment",
    "VllmDeploymentArgs",
    "VllmServer",
    "VllmServerArgs",
    "WebhookUrlFile",
    "__version__",
    "access",
    "check_stack",
    "create_alert_topics",
    "create_monitoring_host",
    "create_stack_key",
    "create_stack_secrets",
    "create_webhook_secret",
    "custom_image_tag",
    "examples",
    "hosts_for",
    "load_stack_config",
    "monitoring_outputs",
    "observability",
    "open_egress",
    "parameter_arn",
    "parse_section",
    "parse_stack_config",
    "placement",
    "plan_config",
    "plan_model",
    "plan_stack",
    "pull_references",
    "quota_check",
    "quotas",
    "routing",
    "secret_output",
    "stack_tags",
]
