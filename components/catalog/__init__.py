"""GPU instance and model architecture catalogs (data files beside this module) and their loaders.

The data files say where each number comes from and when it was collected; prices are approximate.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

Dtype = Literal["bfloat16", "float16"]
Quantization = Literal["awq", "gptq", "fp8", "compressed-tensors"]
WeightFormat = Literal["fp16", "int4", "int8", "fp8"]


class _CatalogModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, frozen=True, extra="ignore", populate_by_name=True)


class GpuSpec(_CatalogModel):
    """One GPU model."""

    name: str
    memory_gib: float = Field(description="Total memory per GPU as CUDA reports it.")
    compute_capability: float
    architecture: str


class InstanceType(_CatalogModel):
    """One EC2 GPU instance type."""

    name: str
    gpu: GpuSpec
    gpu_count: int
    vcpu: int
    ram_gib: int
    ebs_mbps: int = Field(description="Baseline EBS bandwidth, megabits per second.")
    ebs_burst_mbps: int | None = Field(default=None, description="Burst bandwidth (30 min per 24 h).")
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
    quantization: Quantization | None = Field(default=None, description="The checkpoint's own quantization.")
    weight_bits: int | None = None
    weight_format: WeightFormat | None = None
    source: str | None = None

    @property
    def embedding_params(self) -> float:
        """Parameters of the input embedding and LM head, which quantization leaves in 16 bits."""
        return self.vocab_size * self.hidden_size * (1 if self.tie_word_embeddings else 2)


def _read_text(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


@cache
def gpus() -> dict[str, GpuSpec]:
    data = yaml.safe_load(_read_text("gpus.yaml"))["gpus"]
    return {name: GpuSpec.model_validate({"name": name, **spec}) for name, spec in data.items()}


@cache
def instance_types() -> dict[str, InstanceType]:
    data = yaml.safe_load(_read_text("instances.yaml"))
    return {
        name: InstanceType.model_validate({**spec, "name": name, "gpu": gpus()[spec["gpu"]]})
        for name, spec in data["instances"].items()
    }


@cache
def price_note() -> str:
    data = yaml.safe_load(_read_text("instances.yaml"))
    return f"approximate {data['priceRegion']} on-demand prices as of {data['priceDate']}"


@cache
def models() -> dict[str, ModelSpec]:
    """Catalog models keyed by lower-cased HF id (HF ids are case-insensitive)."""
    entries: list[dict[str, Any]] = yaml.safe_load(_read_text("models.yaml"))["models"]
    by_id = {entry["id"].lower(): entry for entry in entries}
    out: dict[str, ModelSpec] = {}
    for key, entry in by_id.items():
        base = by_id[entry["baseModel"].lower()] if "baseModel" in entry else {}
        merged = {**base, **{k: v for k, v in entry.items() if k != "baseModel"}}
        out[key] = ModelSpec.model_validate(merged)
    return out


def find_model(model_id: str) -> ModelSpec | None:
    return models().get(model_id.lower())


def model_from_hf_config(path: Path, model_id: str) -> dict[str, Any]:
    """Read the fields the planner needs from a local Hugging Face ``config.json``.

    Returns camelCase keys (the ``architecture:`` block's shape), so explicit config overrides them.
    Parameter count is not in config.json; for dense Llama-style models it is estimated from the shape.
    """
    hf = json.loads(path.read_text(encoding="utf-8"))
    hf = hf.get("text_config", hf)  # multimodal wrappers keep the language model under text_config
    heads = hf.get("num_attention_heads")
    hidden = hf.get("hidden_size")
    out: dict[str, Any] = {
        "numLayers": hf.get("num_hidden_layers"),
        "numAttentionHeads": heads,
        "numKeyValueHeads": hf.get("num_key_value_heads", heads),
        "headDim": hf.get("head_dim") or (hidden // heads if hidden and heads else None),
        "hiddenSize": hidden,
        "intermediateSize": hf.get("intermediate_size"),
        "vocabSize": hf.get("vocab_size"),
        "maxPositionEmbeddings": hf.get("max_position_embeddings"),
        "tieWordEmbeddings": hf.get("tie_word_embeddings", False),
    }
    dtype = hf.get("torch_dtype") or hf.get("dtype")
    if dtype in ("bfloat16", "float16"):
        out["defaultDtype"] = dtype
    quant = (hf.get("quantization_config") or {}).get("quant_method")
    if quant in ("awq", "gptq", "fp8", "compressed-tensors"):
        out["quantization"] = quant
    return {k: v for k, v in out.items() if v is not None}


def estimate_params_billion(
    *,
    num_layers: int,
    hidden_size: int,
    intermediate_size: int,
    vocab_size: int,
    num_attention_heads: int,
    num_key_value_heads: int,
    head_dim: int,
    tie_word_embeddings: bool,
) -> float:
    """Dense decoder parameter count: attention + gated MLP per layer, plus embeddings (and LM head)."""
    attention = hidden_size * head_dim * (2 * num_attention_heads + 2 * num_key_value_heads)
    mlp = 3 * hidden_size * intermediate_size
    embeddings = vocab_size * hidden_size * (1 if tie_word_embeddings else 2)
    return (num_layers * (attention + mlp) + embeddings) / 1e9


@cache
def serve_flags() -> dict[str, dict[str, Any]]:
    """Every ``vllm serve`` flag of the pinned vLLM release (argparse actions read from the wheel)."""
    flags: dict[str, dict[str, Any]] = json.loads(_read_text("vllm_serve_flags.json"))["flags"]
    return flags


@cache
def serve_flags_version() -> str:
    version: str = json.loads(_read_text("vllm_serve_flags.json"))["vllm_version"]
    return version
