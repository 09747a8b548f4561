"""vllm-aws: Pulumi components that serve LLMs with vLLM on AWS GPU instances.

The public API grows with each component; configuration, catalogs and the fit planner are here today.
"""

from components.config import StackConfig, load_stack_config
from components.errors import ConfigError, ConfigIssue
from components.sizing import StackPlan, plan_stack

__all__ = ["ConfigError", "ConfigIssue", "StackConfig", "StackPlan", "load_stack_config", "plan_stack"]
