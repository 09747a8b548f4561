"""GPU instance and model architecture catalogs (data files beside this module) and their loaders.

The data files say where each number comes from and when it was collected; prices are approximate.
Submodules: aws_instances (every instance type, prices per region and AZ), hub (any Hugging Face model's shape:
Hub, disk cache, bundled snapshot: the one source of model shapes), hf_config and model_shape (config.json ->
ModelShape).
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from . import aws_instances
from .model_shape import ModelShape

# The region of InstanceType.hourly_usd (aws_instances.instance_price has every region's).
PRICE_REGION = "us-east-1"

Dtype = Literal["bfloat16", "float16"]
Quantization = Literal["awq", "gptq", "fp8", "compressed-tensors"]
WeightFormat = Literal["fp16", "int4", "int8", "fp8", "fp4", "mxfp4"]


class _CatalogModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, frozen=True, extra="ignore", populate_by_name=True)


class GpuSpec(_CatalogModel):
    """One GPU model."""

    name: str
    memory_gib: float = Field(description="Total memory per GPU as CUDA reports it (see memory_source).")
    compute_capability: float
    architecture: str
    memory_source: Literal["cuda", "ec2"] = Field(
        default="cuda", description="ec2: no CUDA figure is known, memory_gib is EC2's figure (larger than CUDA's)."
    )


class InstanceType(_CatalogModel):
    """One EC2 GPU instance type."""

    name: str
    gpu: GpuSpec
    gpu_count: int
    vcpu: int
    ram_gib: int
    ebs_mbps: int = Field(description="Baseline EBS bandwidth, megabits per second (see ebs_baseline_known).")
    ebs_burst_mbps: int | None = Field(default=None, description="Burst bandwidth (30 min per 24 h).")
    ebs_baseline_known: bool = Field(
        default=True, description="False: no source gives the baseline, and ebs_mbps is EC2's maximum."
    )
    nvlink: bool
    hourly_usd: float | None = Field(description="Approximate us-east-1 on-demand price; None if unknown.")

    @property
    def ebs_mibps(self) -> float:
        """Baseline EBS bandwidth in MiB/s."""
        return self.ebs_mbps * 1_000_000 / 8 / 2**20

    @property
    def startup_ebs_mibps(self) -> float:
        """EBS bandwidth while loading weights at start-up: the burst, which lasts one cold start."""
        return (self.ebs_burst_mbps or self.ebs_mbps) * 1_000_000 / 8 / 2**20


class ModelSpec(_CatalogModel):
    """The shape of a model: what the fit planner needs from its HF config.json."""

    id: str
    num_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    head_dim: int
    hidden_size: int
    intermediate_size: int
    vocab_size: int
    tie_word_embeddings: bool = False
    max_position_embeddings: int
    default_dtype: Dtype = "bfloat16"
    params_billion: float
    sliding_window: int | None = None
    num_experts: int | None = None
    num_experts_per_token: int | None = None
    gated: bool = False
    quantization: str | None = Field(
        default=None, description="The checkpoint's own quantization method (awq, gptq, fp8, mxfp4, modelopt...)."
    )
    weight_bits: int | None = None
    weight_format: WeightFormat | None = None
    source: str | None = None
    shape: ModelShape | None = Field(
        default=None,
        description="The shape read from the Hub, cache, snapshot or a config.json; None: architecture block.",
    )

    @property
    def embedding_params(self) -> float:
        """Parameters of the input embedding and LM head, which quantization leaves in 16 bits."""
        return self.vocab_size * self.hidden_size * (1 if self.tie_word_embeddings else 2)


def _read_text(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


@cache
def gpus() -> dict[str, GpuSpec]:
    data = yaml.safe_load(_read_text("gpus.yaml"))["gpus"]
    return {
        name: GpuSpec.model_validate(
            {"name": name, "memoryGib": spec.get("memoryGib", spec["ec2MemoryMiB"] / 1024), **spec}
        )
        for name, spec in data.items()
    }


@cache
def instance_types() -> dict[str, InstanceType]:
    """The catalog types the planner may use, priced at us-east-1 on-demand (aws_instances has every type)."""
    out: dict[str, InstanceType] = {}
    for name, record in aws_instances.instance_catalog().items():
        if record.unplannable_reason is not None:
            continue
        ebs = record.ebs
        on_demand = record.on_demand.get(PRICE_REGION)
        out[name] = InstanceType(
            name=name,
            gpu=gpus()[record.gpu],
            gpu_count=record.gpu_count,
            vcpu=record.vcpu,
            ram_gib=record.memory_mib // 1024,
            ebs_mbps=ebs.baseline_mbps or ebs.maximum_mbps,
            ebs_burst_mbps=ebs.maximum_mbps if ebs.baseline_mbps and ebs.baseline_mbps < ebs.maximum_mbps else None,
            ebs_baseline_known=ebs.baseline_mbps is not None,
            nvlink=record.nvlink,
            hourly_usd=on_demand[0] if on_demand else None,
        )
    return out


@cache
def price_note() -> str:
    dates = {
        aws_instances.sources()[record.on_demand[PRICE_REGION][1]].date
        for record in aws_instances.instance_catalog().values()
        if PRICE_REGION in record.on_demand
    }
    return (
        f"approximate {PRICE_REGION} on-demand prices as of {', '.join(sorted(d or 'an unknown date' for d in dates))}"
    )


@cache
def serve_flags() -> dict[str, dict[str, Any]]:
    """Every ``vllm serve`` flag of the pinned vLLM release (argparse actions read from the wheel)."""
    flags: dict[str, dict[str, Any]] = json.loads(_read_text("vllm_serve_flags.json"))["flags"]
    return flags


@cache
def serve_flags_version() -> str:
    version: str = json.loads(_read_text("vllm_serve_flags.json"))["vllm_version"]
    return version
