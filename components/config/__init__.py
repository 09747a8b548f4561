"""The ``vllm-aws:*`` config contract: schema (no Pulumi), error translation, sources (``pulumi.Config``, files).

Inside the package, import from the module that defines a name (``..config.schema``): the planner may import
the schema, never the sources (tests/project/test_layers.py).
"""

from .schema import (
    DEFAULT_IMAGE,
    SECRET_KEYS,
    SECRET_PLACEHOLDER,
    AwsRegion,
    OutputSecret,
    PinnedImage,
    SecretValue,
    StackConfig,
)
from .sections import (
    AccessConfig,
    ArchitectureConfig,
    CacheConfig,
    Cidr,
    ImageBuildConfig,
    LoadBalancerConfig,
    ModelConfig,
    MonitoringConfig,
    NetworkConfig,
    SshCidr,
)
from .sources import load_stack_config, raw_from_stack_file, secret_output, to_pulumi_config
from .translate import generic_fix, issues_from_pydantic, parse_section, parse_stack_config

__all__ = [
    "DEFAULT_IMAGE",
    "SECRET_KEYS",
    "SECRET_PLACEHOLDER",
    "AccessConfig",
    "ArchitectureConfig",
    "AwsRegion",
    "CacheConfig",
    "Cidr",
    "ImageBuildConfig",
    "LoadBalancerConfig",
    "ModelConfig",
    "MonitoringConfig",
    "NetworkConfig",
    "OutputSecret",
    "PinnedImage",
    "SecretValue",
    "SshCidr",
    "StackConfig",
    "generic_fix",
    "issues_from_pydantic",
    "load_stack_config",
    "parse_section",
    "parse_stack_config",
    "raw_from_stack_file",
    "secret_output",
    "to_pulumi_config",
]
