"""The planner: will a model serve on a GPU, with how much KV cache, how fast it starts and what it costs.

Pure: imports no Pulumi at all, not even through the config package (tests/project/test_layers.py).
:func:`plan_model` plans one model wherever it is configured; :func:`plan_stack` a whole stack config.
"""

from .context import PlanContext
from .cost import HOURS_PER_MONTH
from .plan import ModelPlan, StackPlan, hosts_for, plan_config, plan_model, plan_stack
from .vllm_args import render_args

__all__ = [
    "HOURS_PER_MONTH",
    "ModelPlan",
    "PlanContext",
    "StackPlan",
    "hosts_for",
    "plan_config",
    "plan_model",
    "plan_stack",
    "render_args",
]
