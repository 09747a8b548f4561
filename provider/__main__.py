"""Entry point of the vllm-aws component provider plugin (run by the Pulumi CLI, not imported)."""

import vllm_aws
from pulumi.provider.experimental import component_provider_host
from vllm_aws_provider import VllmDeployment

if __name__ == "__main__":
    component_provider_host(name="vllm-aws", components=[VllmDeployment], version=vllm_aws.__version__)
