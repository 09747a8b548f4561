"""What the vLLM image's CUDA needs of a GPU host: an NVIDIA driver at least this new, a GPU at least this recent.

Pure: reads ``catalog/cuda.yaml`` (sources there). The planner rejects GPUs the image's CUDA dropped; the
bootstrap compares ``nvidia-smi``'s driver with :attr:`DriverRequirement.min_driver` and fails the host's
readiness gate below it; the plan states the requirement (plan JSON ``nvidiaDriver``).
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from . import GpuSpec

# A release tag, optionally with a CUDA variant and more suffixes: v0.33.0, v0.19.1-cu130, v0.22.0-cu129-ubuntu2404.
_RELEASE_TAG = re.compile(r"^v(?P<version>\d+\.\d+\.\d+)(?:rc\d+|\.post\d+)?(?:-(?P<variant>cu\d{3}))?(?:-[\w.-]+)?$")


class DriverRequirement(BaseModel):
    """The host side of an image's CUDA: the minimum NVIDIA driver and GPU compute capability."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    cuda: Annotated[str, Field(description="CUDA of the image: '13.0', or '12.x' when only the major is known.")]
    min_driver: Annotated[
        str, Field(pattern=r"^\d+(\.\d+){1,2}$", description="Minimum NVIDIA Linux driver, e.g. '580.65.06'.")
    ]
    min_compute_capability: float
    dropped_architectures: tuple[str, ...] = ()


@cache
def _table() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("cuda.yaml").read_text(encoding="utf-8")
    table: dict[str, Any] = yaml.safe_load(text)
    return table


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def image_cuda(image: str) -> str | None:
    """The CUDA toolkit a ``vllm/vllm-openai`` release image is built on; ``None`` for other images or digests."""
    images = _table()["vllmImage"]
    repository, _, tag = image.split("@", 1)[0].rpartition(":")
    if repository not in images["repositories"] or (match := _RELEASE_TAG.fullmatch(tag)) is None:
        return None
    variant = match["variant"]
    if variant is not None:
        cuda: str | None = images["tagSuffixes"].get(variant)
        return cuda
    cuda_13 = _version(match["version"]) >= _version(images["cuda13DefaultSince"])
    return "13.0" if cuda_13 else "12.x"


def driver_requirement(image: str) -> DriverRequirement | None:
    """What ``image`` needs of a host, or ``None`` when its CUDA cannot be told (it is then not checked)."""
    cuda = image_cuda(image)
    if cuda is None:
        return None
    major = _table()["cudaMajors"][cuda.split(".")[0]]
    return DriverRequirement(
        cuda=cuda,
        min_driver=major["minDriver"],
        min_compute_capability=major["minComputeCapability"],
        dropped_architectures=tuple(major["droppedArchitectures"]),
    )


def dropped_gpu(gpu: GpuSpec, requirement: DriverRequirement | None) -> str | None:
    """Why the image's CUDA cannot run on ``gpu`` (an architecture it dropped), or ``None`` when it can."""
    if requirement is None or gpu.compute_capability >= requirement.min_compute_capability:
        return None
    dropped = ", ".join(name.capitalize() for name in requirement.dropped_architectures)
    return (
        f"has {gpu.name} GPUs ({gpu.architecture.capitalize()}, compute capability {gpu.compute_capability}); "
        f"the image is built on CUDA {requirement.cuda}, which dropped "
        f"{dropped + ' ' if dropped else ''}GPUs below compute capability {requirement.min_compute_capability}"
    )


def plan_warnings(image: str, ami_id: str | None) -> list[str]:
    """What the plan says about the hosts' driver: a pinned AMI must carry one new enough; an unknown CUDA."""
    requirement = driver_requirement(image)
    if requirement is None:
        return [
            f"cannot tell which CUDA {image} is built on (not a vllm/vllm-openai release tag): the GPU hosts' "
            "NVIDIA driver is not checked against it; make sure the AMI's driver supports it"
        ]
    if ami_id is None:
        return []
    return [
        f"amiId {ami_id} is pinned: its NVIDIA driver must be {requirement.min_driver} or newer ({image} is built "
        f"on CUDA {requirement.cuda}); every GPU host checks at boot and fails its readiness gate below that"
    ]
