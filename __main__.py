"""vllm-aws stack: validate and plan the configuration, then compose the components.

Everything is validated and sized before the first resource is registered, so a model that cannot
serve fails `pulumi preview` with a message naming the config key instead of failing on the host.
"""

import pulumi
import pulumi_random as random

from components import ConfigError, load_stack_config, plan_stack
from components.config import secret_output
from components.sizing import HOURS_PER_MONTH

try:
    config = load_stack_config()
    plan = plan_stack(config)
except ConfigError as error:
    # RunError ends the program with just this message: no traceback, nothing registered.
    raise pulumi.RunError(str(error)) from None

for warning in plan.warnings + tuple(w for model in plan.models for w in model.warnings):
    pulumi.log.warn(warning)

if config.api_key is not None:
    api_key = secret_output(config.api_key)
else:
    # No key configured: generate one so the endpoint is never open; read it with
    # `pulumi stack output apiKey --show-secrets`.
    api_key = random.RandomPassword("api-key", length=48, special=False).result

pulumi.export("apiKey", pulumi.Output.secret(api_key))
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
