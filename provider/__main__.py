"""Entry point of the vllm-aws component provider plugin (run by the Pulumi CLI, not imported)."""

from pulumi.provider.experimental import component_provider_host
from vllm_aws_provider import VllmDeployment

import components

if __name__ == "__main__":
    component_provider_host(name="vllm-aws", components=[VllmDeployment], version=components.__version__)
