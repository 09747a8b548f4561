"""The image's CUDA and what it needs of the hosts: the driver the plan states and the bootstrap checks, and
the GPU architectures it dropped, rejected at plan time (sources: components/catalog/cuda.yaml)."""

from __future__ import annotations

import base64
import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from stack_runs import PROJECT_DIR, named, run_stack, stack_raw

from components import catalog
from components.catalog import GpuSpec, InstanceType
from components.catalog.cuda import driver_requirement, image_cuda
from components.config import parse_stack_config
from components.errors import ConfigError
from components.host import bootstrap
from components.planner import StackPlan, plan_stack


@pytest.mark.parametrize(
    ("image", "cuda"),
    [
        ("vllm/vllm-openai:v0.33.0", "13.0"),  # unsuffixed tags are CUDA 13.0 since v0.20.0 (vLLM #39878)
        ("vllm/vllm-openai:v0.20.0", "13.0"),
        ("docker.io/vllm/vllm-openai:v0.33.0", "13.0"),
        ("vllm/vllm-openai:v0.33.0@sha256:" + "0" * 64, "13.0"),
        ("vllm/vllm-openai:v0.33.0-cu129", "12.9"),  # the CUDA 12.9 variant since v0.20.0
        ("vllm/vllm-openai:v0.22.0-cu129-ubuntu2404", "12.9"),
        ("vllm/vllm-openai:v0.19.1", "12.x"),  # before v0.20.0 the default was CUDA 12
        ("vllm/vllm-openai:v0.19.1-cu130", "13.0"),  # ... and -cu130 the variant
        ("vllm/vllm-openai@sha256:" + "0" * 64, None),  # a digest alone names no release
        ("registry.example.com/team/vllm:v0.33.0", None),
    ],
)
def test_image_cuda(image: str, cuda: str | None) -> None:
    assert image_cuda(image) == cuda


def test_cuda_13_needs_the_r580_driver_and_cuda_12_its_minor_version_floor() -> None:
    # CUDA 13.0 release notes, Table 3: CUDA 13.0 GA >= 580.65.06; Table 2: 12.x >= 525.60.13.
    cuda_13 = driver_requirement("vllm/vllm-openai:v0.33.0")
    assert cuda_13 is not None and (cuda_13.min_driver, cuda_13.min_compute_capability) == ("580.65.06", 7.5)
    assert cuda_13.dropped_architectures == ("maxwell", "pascal", "volta")
    cuda_12 = driver_requirement("vllm/vllm-openai:v0.33.0-cu129")
    assert cuda_12 is not None and cuda_12.min_driver == "525.60.13"
    assert driver_requirement("registry.example.com/team/vllm:v0.33.0") is None


def cli_plan(config: Path) -> dict:  # type: ignore[type-arg]
    result = subprocess.run(
        [sys.executable, "-m", "components", "plan", "--config", str(config), "--format", "json"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT_DIR)},
    )
    assert result.returncode == 0, result.stderr
    document: dict = json.loads(result.stdout)  # type: ignore[type-arg]
    return document


def stack_file(tmp_path: Path, **config: object) -> Path:
    raw, _ = stack_raw("dev")
    raw.update(config)
    path = tmp_path / "Pulumi.driver.yaml"
    path.write_text(yaml.safe_dump({"config": {k if ":" in k else f"vllm-aws:{k}": v for k, v in raw.items()}}))
    return path


def test_the_plan_states_the_driver_requirement_and_warns_for_a_pinned_ami(tmp_path: Path) -> None:
    document = cli_plan(stack_file(tmp_path))
    assert document["nvidiaDriver"] == {"cuda": "13.0", "minVersion": "580.65.06"}
    assert not any("NVIDIA driver" in w for w in document["warnings"])
    pinned = cli_plan(stack_file(tmp_path, amiId="ami-0123456789abcdef0"))
    assert any(
        "amiId ami-0123456789abcdef0 is pinned: its NVIDIA driver must be 580.65.06 or newer" in w
        for w in pinned["warnings"]
    )


def test_an_image_of_unknown_cuda_says_the_driver_is_not_checked(tmp_path: Path) -> None:
    document = cli_plan(stack_file(tmp_path, image="registry.example.com/team/vllm:v0.33.0"))
    assert document["nvidiaDriver"] is None
    assert any(
        "cannot tell which CUDA registry.example.com/team/vllm:v0.33.0 is built on" in w for w in document["warnings"]
    )


def settings_of(user_data: str) -> str:
    for entry in yaml.safe_load(user_data)["write_files"]:
        if entry["path"] == bootstrap.SETTINGS_FILE:
            return str(entry["content"])
    raise AssertionError("no settings file in the user-data")


def test_gpu_hosts_get_the_requirement_in_their_settings_and_the_monitoring_host_none() -> None:
    run = run_stack("prod")
    gpu_settings = settings_of(named(run, "qwen-8b-0-instance").inputs["userData"])
    assert "VLLM_AWS_MIN_DRIVER_VERSION=580.65.06\n" in gpu_settings
    assert "VLLM_AWS_CUDA_VERSION=13.0\n" in gpu_settings
    assert "VLLM_AWS_MIN_DRIVER_VERSION=''\n" in settings_of(named(run, "monitoring-instance").inputs["userData"])


def test_an_image_bump_within_one_cuda_leaves_the_user_data_and_the_host_alone() -> None:
    # A user-data change replaces the host (userDataReplaceOnChange): only the CUDA and driver reach it.
    before = named(run_stack("dev"), "qwen-7b-0-instance").inputs["userData"]
    after = named(run_stack("dev", image="vllm/vllm-openai:v0.34.1"), "qwen-7b-0-instance").inputs["userData"]
    assert before == after
    cuda_12 = named(run_stack("dev", image="vllm/vllm-openai:v0.33.0-cu129"), "qwen-7b-0-instance")
    assert "VLLM_AWS_MIN_DRIVER_VERSION=525.60.13\n" in settings_of(cuda_12.inputs["userData"])


def test_the_bootstrap_script_in_the_user_data_carries_the_driver_check() -> None:
    user_data = yaml.safe_load(named(run_stack("dev"), "qwen-7b-0-instance").inputs["userData"])
    (script,) = [e for e in user_data["write_files"] if e["path"] == bootstrap.BOOTSTRAP_PATH]
    text = gzip.decompress(base64.b64decode(script["content"])).decode()
    assert "nvidia-smi --query-gpu=driver_version --format=csv,noheader" in text


VOLTA = InstanceType(
    name="p3.2xlarge",
    gpu=GpuSpec(name="V100", memory_gib=15.77, compute_capability=7.0, architecture="volta"),
    gpu_count=1,
    vcpu=8,
    ram_gib=61,
    ebs_mbps=1750,
    nvlink=False,
    hourly_usd=0.10,  # cheaper than anything real: the planner would pick it if it were allowed
)
SMALL_FP16_MODEL = {"name": "qwen-small", "id": "Qwen/Qwen2.5-1.5B-Instruct", "dtype": "float16", "maxModelLen": 4096}


@pytest.fixture
def catalog_with_volta(monkeypatch: pytest.MonkeyPatch) -> None:
    # The catalog has no GPU that CUDA 13 dropped today; a synthetic V100 type stands in for one.
    types = {**catalog.instance_types(), VOLTA.name: VOLTA}
    monkeypatch.setattr(catalog, "instance_types", lambda: types)


def plan_with(image: str, **model: object) -> StackPlan:
    raw, _ = stack_raw("dev")
    return plan_stack(parse_stack_config({**raw, "image": image, "models": [{**SMALL_FP16_MODEL, **model}]}))


@pytest.mark.usefixtures("catalog_with_volta")
def test_a_gpu_cuda_13_dropped_is_rejected_at_plan_time_naming_the_image_cuda() -> None:
    with pytest.raises(ConfigError) as caught:
        plan_with("vllm/vllm-openai:v0.33.0", instanceType="p3.2xlarge")
    (issue,) = caught.value.issues
    assert issue.path == "vllm-aws:models[0].instanceType" and issue.value == "p3.2xlarge"
    assert issue.problem == (
        "has V100 GPUs (Volta, compute capability 7.0); the image is built on CUDA 13.0, which dropped Maxwell, "
        "Pascal, Volta GPUs below compute capability 7.5"
    )
    assert "Turing or newer" in issue.fix


@pytest.mark.usefixtures("catalog_with_volta")
def test_the_planner_never_chooses_a_dropped_gpu() -> None:
    (model,) = plan_with("vllm/vllm-openai:v0.33.0").models
    assert model.instance.gpu.compute_capability >= 7.5
    with pytest.raises(ConfigError, match=r"vLLM needs at least 7\.5"):
        plan_with("vllm/vllm-openai:v0.33.0-cu129", instanceType="p3.2xlarge")  # CUDA 12.9 keeps Volta; vLLM not
