"""A checkpoint's ``quantization_config`` (or ModelOpt's ``hf_quant_config.json``) as a ``QuantizationShape``.

Pure. The keys are the ones vLLM's quantization configs read from the same blocks (vllm/model_executor/layers/
quantization/: awq.py and auto_awq.py ``bits``/``w_bit``, ``group_size``/``q_group_size``, ``zero_point``,
``modules_to_not_convert``; gptq.py ``bits``, ``group_size``, ``desc_act``; fp8.py ``activation_scheme``,
``weight_block_size``, ``ignored_layers``/``modules_to_not_convert``; compressed_tensors ``config_groups``,
``ignore``, ``format``, ``kv_cache_scheme``; mxfp4.py; modelopt.py ``quant_algo``, ``kv_cache_quant_algo``,
``exclude_modules``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from .model_shape import QuantizationShape

# ModelOpt quant_algo -> (float weight bits, weights per scale). NVFP4: FP4 values with an FP8 scale per 16.
_MODELOPT_ALGOS: dict[str, tuple[int, int | None]] = {"FP8": (8, None), "NVFP4": (4, 16)}


def _names(value: Any) -> tuple[str, ...]:
    return tuple(str(item) for item in value) if isinstance(value, list | tuple) else ()


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def from_quantization_config(block: Mapping[str, Any]) -> QuantizationShape:
    method = str(block.get("quant_method") or "").lower()
    if method == "awq":
        return QuantizationShape(
            method=method,
            recognized=True,
            weight_bits=_int(block.get("bits", block.get("w_bit"))),
            weight_type="int",
            group_size=_group(block.get("group_size", block.get("q_group_size"))),
            unquantized_modules=_names(block.get("modules_to_not_convert")),
            checkpoint_format=str(block["version"]).lower() if block.get("version") else None,
        )
    if method == "gptq":
        return QuantizationShape(
            method=method,
            recognized=True,
            weight_bits=_int(block.get("bits")),
            weight_type="int",
            group_size=_group(block.get("group_size")),
            checkpoint_format=str(block["checkpoint_format"]) if block.get("checkpoint_format") else None,
        )
    if method == "fp8":
        size = block.get("weight_block_size")
        scheme = block.get("activation_scheme")
        return QuantizationShape(
            method=method,
            recognized=True,
            weight_bits=8,
            weight_type="float",
            block_size=(int(size[0]), int(size[1])) if size else None,
            activations=f"fp8 {scheme}" if scheme else None,
            unquantized_modules=_names(block.get("modules_to_not_convert") or block.get("ignored_layers")),
        )
    if method == "compressed-tensors":
        return _compressed_tensors(block)
    if method == "mxfp4":
        # gpt-oss: MoE experts only, 4-bit E2M1 values with one E8M0 scale per 32 (OCP MX; vLLM mxfp4.py).
        return QuantizationShape(
            method=method,
            recognized=True,
            weight_bits=4,
            weight_type="mxfp4",
            group_size=32,
            unquantized_modules=_names(block.get("modules_to_not_convert")),
        )
    if method.startswith("modelopt"):
        return _modelopt(method, block, "config.json")
    return QuantizationShape(method=method or "(none)", recognized=False)


def from_hf_quant_config(data: Mapping[str, Any]) -> QuantizationShape:
    producer = str((data.get("producer") or {}).get("name") or "modelopt").lower()
    return _modelopt(producer, data.get("quantization") or {}, "hf_quant_config.json")


def _group(value: Any) -> int | None:
    """Weights per scale; AWQ/GPTQ's -1 means one scale per output channel."""
    size = _int(value)
    return None if size is None or size < 0 else size


ConfigFile = Literal["config.json", "hf_quant_config.json"]


def _modelopt(method: str, block: Mapping[str, Any], config_file: ConfigFile) -> QuantizationShape:
    algo = str(block.get("quant_algo") or "").upper()
    if algo not in _MODELOPT_ALGOS:
        return QuantizationShape(method=method, recognized=False, config_file=config_file)
    bits, group = _MODELOPT_ALGOS[algo]
    kv = block.get("kv_cache_quant_algo")
    return QuantizationShape(
        method=method,
        recognized=True,
        weight_bits=bits,
        weight_type="float",
        group_size=_int(block.get("group_size")) or group,
        unquantized_modules=_names(block.get("exclude_modules")),
        kv_cache_dtype=str(kv).lower() if kv else None,
        checkpoint_format=algo.lower(),
        config_file=config_file,
    )


def _compressed_tensors(block: Mapping[str, Any]) -> QuantizationShape:
    groups = [group for group in (block.get("config_groups") or {}).values() if isinstance(group, Mapping)]
    weights = [group.get("weights") or {} for group in groups]
    bits = {_int(w.get("num_bits")) for w in weights if w.get("num_bits") is not None}
    kinds = {str(w.get("type")) for w in weights if w.get("type")}
    # Several schemes (rare): the widest weights, so bytes are never understated.
    widest = max((w for w in weights if w.get("num_bits") is not None), key=lambda w: int(w["num_bits"]), default={})
    inputs = next((group.get("input_activations") for group in groups if group.get("input_activations")), None)
    activations = None
    if inputs:
        kind = "fp" if inputs.get("type") == "float" else "int"
        activations = f"{kind}{inputs.get('num_bits')} {'dynamic' if inputs.get('dynamic') else 'static'}"
    kv = block.get("kv_cache_scheme") or {}
    kv_dtype = f"{'fp' if kv.get('type') == 'float' else 'int'}{kv.get('num_bits')}" if kv else None
    weight_type = "float" if kinds == {"float"} else "int" if kinds == {"int"} else None
    return QuantizationShape(
        method="compressed-tensors",
        recognized=bool(bits),
        weight_bits=max((b for b in bits if b is not None), default=None),
        weight_type=weight_type,
        group_size=_group(widest.get("group_size")) if widest.get("strategy") == "group" else None,
        activations=activations,
        targets=tuple(sorted({str(t) for group in groups for t in group.get("targets") or ()})),
        unquantized_modules=_names(block.get("ignore")),
        kv_cache_dtype=kv_dtype,
        checkpoint_format=str(block["format"]) if block.get("format") else None,
    )
