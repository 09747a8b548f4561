"""Every variable a vLLM container gets is one vLLM or the Hub defines, or lies outside vLLM's VLLM_ prefix.

vLLM 0.33 warns about each VLLM_* variable its envs.py does not define (vllm/platforms/interface.py
validate_environ; the list is tests/data/vllm_0.33.0_env_names.txt, with its source). The container's
environment is the Docker `envs` input, the secrets file its entrypoint exports (`set -a`), and what the
entrypoint exports itself.
"""

from __future__ import annotations

import base64
import gzip
import re

import pytest
import yaml
from repo import DATA_DIR
from stack_runs import of_type, run_stack

from components.cli.program import ProgramRun

VLLM_ENV_NAMES = {
    line
    for line in (DATA_DIR / "vllm_0.33.0_env_names.txt").read_text().splitlines()
    if line and not line.startswith("#")
}


def container_variables(run: ProgramRun) -> dict[str, set[str]]:
    """Per vLLM container: every variable name its `vllm serve` process starts with (beyond the image's)."""
    secret_names: dict[str, set[str]] = {}
    for instance in of_type(run, "aws:ec2/instance:Instance"):
        files = {entry["path"]: entry for entry in yaml.safe_load(instance.inputs["userData"])["write_files"]}
        for entry in files.values():
            content = entry["content"]
            if entry.get("encoding") == "gz+b64":
                content = gzip.decompress(base64.b64decode(content)).decode()
            if match := re.search(r"^VLLM_AWS_SECRET_PARAMETERS='?([^'\n]*)", content, re.MULTILINE):
                secret_names[instance.parent or ""] = {pair.split("=")[0] for pair in match[1].split()}
    out = {}
    for container in of_type(run, "docker:index/container:Container"):
        if not container.name.endswith("-container"):
            continue  # exporters: not vLLM
        host = container.options["deletedWith"].removesuffix("-instance")
        names = {env.split("=", 1)[0] for env in container.inputs["envs"]}
        for upload in container.inputs["uploads"]:
            names |= set(re.findall(r"^\s*export ([A-Z_][A-Z0-9_]*)=", upload["content"], re.MULTILINE))
        out[container.name] = names | secret_names[host]
    return out


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_container_variable_is_vllms_or_outside_its_prefix(stack: str) -> None:
    variables = container_variables(run_stack(stack, hfToken="hf_offline_test"))
    assert variables
    for container, names in variables.items():
        assert {"HF_TOKEN", "VLLM_API_KEY", "HF_HOME", "HF_HUB_OFFLINE"} <= names, container
        unknown = {name for name in names if name.startswith("VLLM_") and name not in VLLM_ENV_NAMES}
        assert unknown == set(), f"{container}: vLLM would warn about {sorted(unknown)}"
        # huggingface_hub 1.0 dropped hf_transfer and warns when this is set (huggingface/huggingface_hub#3444).
        assert "HF_HUB_ENABLE_HF_TRANSFER" not in names


def test_the_list_is_vllm_0_33s() -> None:
    assert len(VLLM_ENV_NAMES) == 318
    assert {"VLLM_API_KEY", "VLLM_CACHE_ROOT", "VLLM_NO_USAGE_STATS"} <= VLLM_ENV_NAMES
    assert not any(name.startswith("VLLM_AWS") for name in VLLM_ENV_NAMES)
