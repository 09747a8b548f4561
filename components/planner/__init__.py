"""The planner: will a model serve on a GPU, with how much KV cache, how fast it starts and what it costs.

Pure: imports no Pulumi at all (tests/project/test_layers.py). ``plan_stack`` plans a whole stack config.
"""

from .plan import HOURS_PER_MONTH, ModelPlan, StackPlan, hosts_for, plan_stack
from .vllm_args import render_args

__all__ = ["HOURS_PER_MONTH", "ModelPlan", "StackPlan", "hosts_for", "plan_stack", "render_args"]
