"""Read a Hugging Face ``config.json`` (and the safetensors counts) into a ``ModelShape``, as transformers reads it.

Pure: no I/O. The per-layer rules (which layers slide, which are MoE) are transformers' configuration classes'
(huggingface/transformers src/transformers/models/<type>/configuration_<type>.py) and, where vLLM decides
differently, vLLM's model code, each cited next to its rule. An architecture outside ``FAMILIES`` is a
``CannotSize``: the planner then asks for an explicit ``architecture`` block.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from .hf_quantization import from_hf_quant_config, from_quantization_config
from .model_shape import (
    CannotSize,
    Dtype,
    LayerKind,
    LinearAttentionShape,
    MlaShape,
    ModelShape,
    MoeShape,
    Provenance,
    QuantizationShape,
    SafetensorsCounts,
)

# model_type -> family. The families vLLM 0.33 serves whose shapes this parser knows.
FAMILIES: dict[str, str] = {
    "llama": "llama",
    "mistral": "mistral",
    "mixtral": "mixtral",
    "qwen2": "qwen2",
    "qwen2_moe": "qwen2_moe",
    "qwen3": "qwen3",
    "qwen3_moe": "qwen3_moe",
    "qwen3_next": "qwen3_next",
    "deepseek_v2": "deepseek_v2",
    "deepseek_v3": "deepseek_v3",
    "gemma2": "gemma2",
    "gemma3_text": "gemma3",
    "gpt_oss": "gpt_oss",
    "phi3": "phi3",
    # Kimi K2 is DeepSeek-V3's architecture (MLA + MoE); vLLM serves it with the same model code and lists it
    # with the DeepSeek MLA types (transformers_utils/model_arch_config_convertor.py::is_deepseek_mla).
    "kimi_k2": "deepseek_v3",
}
# Wrappers whose language model is `text_config` (a vision tower beside it): model_type -> text model_type.
WRAPPERS: dict[str, str] = {"gemma3": "gemma3_text", "mistral3": "mistral", "kimi_k25": "kimi_k2"}

# What a config class assumes for a key the file leaves out. Gemma 3's text_config on the Hub spells out only what
# differs from Gemma3TextConfig's defaults (configuration_gemma3.py: vocab_size 262208, max_position_embeddings
# 131072, tie_word_embeddings True, sliding_window_pattern 6 ...). Elsewhere: the classes' tie_word_embeddings
# (Gemma2Config True; Llama, Mistral, Mixtral, Qwen2/3, Qwen3-MoE/Next, DeepSeek, GptOss, Phi3 False) and the
# parameters of the per-layer rules below.
_DEFAULTS: dict[str, dict[str, Any]] = {  # by family
    "gemma3": {
        "vocab_size": 262208, "hidden_size": 2304, "intermediate_size": 9216, "num_hidden_layers": 26,
        "num_attention_heads": 8, "num_key_value_heads": 4, "head_dim": 256, "max_position_embeddings": 131072,
        "tie_word_embeddings": True, "sliding_window": 4096, "sliding_window_pattern": 6,
    },
    "gemma2": {"tie_word_embeddings": True, "sliding_window": 4096},
    "qwen2": {"use_sliding_window": False, "max_window_layers": 28},
    "qwen2_moe": {"use_sliding_window": False, "max_window_layers": 28, "decoder_sparse_step": 1},
    "qwen3": {"use_sliding_window": False, "max_window_layers": 28},
    "qwen3_moe": {"use_sliding_window": False, "max_window_layers": 28, "decoder_sparse_step": 1},
    "qwen3_next": {"full_attention_interval": 4, "decoder_sparse_step": 1, "linear_conv_kernel_dim": 4},
    "deepseek_v2": {"first_k_dense_replace": 0, "moe_layer_freq": 1, "n_shared_experts": 0},
    "deepseek_v3": {"first_k_dense_replace": 3, "moe_layer_freq": 1, "n_shared_experts": 1},
}  # fmt: skip
_DTYPES: dict[str, Dtype] = {"bfloat16": "bfloat16", "float16": "float16", "float32": "float32"}
_SAFETENSORS_FLOATS: dict[str, Dtype] = {"BF16": "bfloat16", "F16": "float16", "F32": "float32"}


class _MissingKeyError(Exception):
    """config.json lacks a key the family needs."""


class _Config:
    """The language model's config with its class defaults; typed getters that say which key is missing."""

    def __init__(self, values: Mapping[str, Any], defaults: Mapping[str, Any], wrapper: Mapping[str, Any]) -> None:
        # A key the language model's config leaves out may sit on the wrapper (a multimodal config's top level,
        # e.g. tie_word_embeddings, dtype), and only then falls to the class default.
        self._values = {**defaults, **{k: v for k, v in wrapper.items() if k != "text_config"}, **values}

    def has(self, key: str) -> bool:
        return self._values.get(key) is not None

    def get(self, key: str) -> Any:
        return self._values.get(key)

    def number(self, key: str, *alternatives: str) -> int:
        for name in (key, *alternatives):
            value = self._values.get(name)
            if value is not None:
                return int(value)
        raise _MissingKeyError(key)

    def maybe_number(self, key: str) -> int | None:
        value = self._values.get(key)
        return None if value is None else int(value)


def parse_model(
    config: Mapping[str, Any],
    *,
    provenance: Provenance,
    safetensors: SafetensorsCounts | None = None,
    hf_quant_config: Mapping[str, Any] | None = None,
) -> ModelShape | CannotSize:
    """The shape of the model a ``config.json`` describes, or why it cannot be sized."""
    architectures = config.get("architectures") or []
    architecture = str(architectures[0]) if architectures else None
    top_type = str(config.get("model_type") or "")
    multimodal = top_type in WRAPPERS
    text: Mapping[str, Any] = (config.get("text_config") or {}) if multimodal else config
    model_type = str(text.get("model_type") or WRAPPERS.get(top_type) or top_type)

    def cannot(reason: str) -> CannotSize:
        return CannotSize(
            repo_id=provenance.repo_id,
            reason=reason,
            architecture=architecture,
            model_type=model_type or None,
            provenance=provenance,
        )

    family = FAMILIES.get(model_type)
    if family is None:
        known = ", ".join(sorted(FAMILIES))
        return cannot(f"model_type {model_type or '(none)'!r} ({architecture}) is not one the planner sizes ({known})")
    c = _Config(text, _DEFAULTS.get(family, {}), config if multimodal else {})
    try:
        return _shape(
            config,
            c,
            family=family,
            model_type=model_type,
            architecture=architecture,
            multimodal=multimodal,
            provenance=provenance,
            safetensors=safetensors,
            hf_quant_config=hf_quant_config,
        )
    except _MissingKeyError as missing:
        return cannot(f"config.json has no {missing.args[0]}, which a {family} model needs")
    except ValueError as error:
        return cannot(str(error))


def _shape(
    config: Mapping[str, Any],
    c: _Config,
    *,
    family: str,
    model_type: str,
    architecture: str | None,
    multimodal: bool,
    provenance: Provenance,
    safetensors: SafetensorsCounts | None,
    hf_quant_config: Mapping[str, Any] | None,
) -> ModelShape:
    layers = c.number("num_hidden_layers")
    heads = c.number("num_attention_heads")
    hidden = c.number("hidden_size")
    mla = _mla(c) if family in ("deepseek_v2", "deepseek_v3") else None
    # transformers: num_key_value_heads defaults to num_attention_heads, head_dim to hidden_size // heads.
    # MLA's query/key head is qk_nope_head_dim + qk_rope_head_dim (DeepSeek's q_head_dim).
    head_dim = mla.qk_nope_head_dim + mla.qk_rope_head_dim if mla else c.maybe_number("head_dim") or hidden // heads
    layer_types = _layer_types(c, family, layers)
    torch_dtype = _DTYPES.get(str(c.get("torch_dtype") or c.get("dtype")))
    return ModelShape(
        provenance=provenance,
        architecture=architecture or model_type,
        model_type=model_type,
        family=family,
        multimodal=multimodal,
        num_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=c.maybe_number("num_key_value_heads") or heads,
        head_dim=head_dim,
        hidden_size=hidden,
        intermediate_size=c.number("intermediate_size"),
        vocab_size=c.number("vocab_size"),
        tie_word_embeddings=bool(c.get("tie_word_embeddings")),
        max_position_embeddings=c.number("max_position_embeddings"),
        torch_dtype=torch_dtype,
        dtype=torch_dtype or _safetensors_dtype(safetensors),
        layer_types=layer_types,
        sliding_window=c.maybe_number("sliding_window") if "sliding_attention" in layer_types else None,
        moe=_moe(c, family, layers),
        mla=mla,
        linear_attention=_linear_attention(c) if family == "qwen3_next" else None,
        mtp_layers=c.maybe_number("num_nextn_predict_layers") or 0,
        quantization=_quantization(config, c, hf_quant_config),
        safetensors=safetensors,
    )


def _safetensors_dtype(safetensors: SafetensorsCounts | None) -> Dtype:
    """vLLM's auto dtype without a config dtype: the checkpoint's float dtype, failing that float32
    (vllm/config/model.py::_resolve_auto_dtype, VLLM_SIZING.md §3.1)."""
    floats = {d: n for d, n in (safetensors.parameters if safetensors else {}).items() if d in _SAFETENSORS_FLOATS}
    return _SAFETENSORS_FLOATS[max(floats, key=floats.__getitem__)] if floats else "float32"


def _layer_types(c: _Config, family: str, layers: int) -> tuple[LayerKind, ...]:
    explicit = c.get("layer_types")
    if explicit is not None:
        kinds = tuple(explicit)
        if len(kinds) != layers or any(
            k not in ("full_attention", "sliding_attention", "linear_attention") for k in kinds
        ):
            raise ValueError(f"layer_types has {len(kinds)} entries of {sorted(set(kinds))}, not one per layer")
        return cast(tuple[LayerKind, ...], kinds)
    sliding: LayerKind = "sliding_attention"
    full: LayerKind = "full_attention"
    if family in ("gemma2", "gpt_oss"):
        # Gemma2Config / GptOssConfig: "sliding_attention" if bool((i + 1) % 2) else "full_attention".
        return tuple(sliding if (i + 1) % 2 else full for i in range(layers))
    if family == "gemma3":
        # Gemma3TextConfig: sliding if bool((i + 1) % sliding_window_pattern); pattern 6 = 5 sliding then 1 full.
        pattern = c.number("sliding_window_pattern")
        return tuple(sliding if (i + 1) % pattern else full for i in range(layers))
    if family == "qwen3_next":
        # Qwen3NextConfig: "linear_attention" if bool((i + 1) % full_attention_interval) else "full_attention".
        interval = c.number("full_attention_interval")
        return tuple("linear_attention" if (i + 1) % interval else full for i in range(layers))
    if family.startswith("qwen"):
        # Qwen2Config/Qwen3Config(+MoE): sliding_window only with use_sliding_window, and only on the layers from
        # max_window_layers on.
        windowed = bool(c.get("use_sliding_window")) and c.has("sliding_window")
        first = c.number("max_window_layers") if windowed else layers
        return tuple(sliding if i >= first else full for i in range(layers))
    if family in ("mistral", "mixtral", "phi3") and c.has("sliding_window"):
        # MistralConfig/MixtralConfig/Phi3Config: one sliding_window for every layer (Mistral-7B-v0.1: 4096).
        return (sliding,) * layers
    return (full,) * layers


def _moe(c: _Config, family: str, layers: int) -> MoeShape | None:
    if family in ("mixtral", "gpt_oss"):
        # Every layer's MLP is the experts; each expert is intermediate_size wide.
        return MoeShape(
            num_experts=c.number("num_local_experts"),
            experts_per_token=c.number("num_experts_per_tok", "experts_per_token"),
            moe_intermediate_size=c.number("intermediate_size"),
            moe_layers=tuple(range(layers)),
            dense_layers=(),
        )
    if family in ("qwen2_moe", "qwen3_moe", "qwen3_next"):
        # Qwen*MoeDecoderLayer: experts where layer_idx not in mlp_only_layers, num_experts > 0 and
        # (layer_idx + 1) % decoder_sparse_step == 0; a dense MLP otherwise.
        experts, step = c.number("num_experts"), c.number("decoder_sparse_step")
        dense_only = set(c.get("mlp_only_layers") or ())
        moe = [i for i in range(layers) if i not in dense_only and experts > 0 and (i + 1) % step == 0]
        return MoeShape(
            num_experts=experts,
            experts_per_token=c.number("num_experts_per_tok"),
            moe_intermediate_size=c.number("moe_intermediate_size"),
            shared_expert_intermediate_size=c.maybe_number("shared_expert_intermediate_size"),
            moe_layers=tuple(moe),
            dense_layers=tuple(i for i in range(layers) if i not in moe),
        )
    if family in ("deepseek_v2", "deepseek_v3"):
        if not c.has("n_routed_experts"):
            return None
        # vllm/model_executor/models/deepseek_v2.py DeepseekV2DecoderLayer: experts where n_routed_experts is set,
        # layer_idx >= first_k_dense_replace and layer_idx % moe_layer_freq == 0.
        first, freq = c.number("first_k_dense_replace"), c.number("moe_layer_freq")
        moe = [i for i in range(layers) if i >= first and i % freq == 0]
        return MoeShape(
            num_experts=c.number("n_routed_experts"),
            experts_per_token=c.number("num_experts_per_tok"),
            moe_intermediate_size=c.number("moe_intermediate_size"),
            shared_experts=c.maybe_number("n_shared_experts") or 0,
            moe_layers=tuple(moe),
            dense_layers=tuple(i for i in range(layers) if i not in moe),
        )
    return None


def _mla(c: _Config) -> MlaShape:
    return MlaShape(
        kv_lora_rank=c.number("kv_lora_rank"),
        q_lora_rank=c.maybe_number("q_lora_rank"),
        qk_rope_head_dim=c.number("qk_rope_head_dim"),
        qk_nope_head_dim=c.number("qk_nope_head_dim"),
        v_head_dim=c.number("v_head_dim"),
    )


def _linear_attention(c: _Config) -> LinearAttentionShape:
    return LinearAttentionShape(
        full_attention_interval=c.number("full_attention_interval"),
        num_key_heads=c.number("linear_num_key_heads"),
        num_value_heads=c.number("linear_num_value_heads"),
        key_head_dim=c.number("linear_key_head_dim"),
        value_head_dim=c.number("linear_value_head_dim"),
        conv_kernel_dim=c.number("linear_conv_kernel_dim"),
    )


def _quantization(
    config: Mapping[str, Any], c: _Config, hf_quant_config: Mapping[str, Any] | None
) -> QuantizationShape | None:
    block = config.get("quantization_config") or c.get("quantization_config")
    if block:
        return from_quantization_config(block)
    if hf_quant_config:
        # ModelOpt checkpoints may carry their scheme only in hf_quant_config.json, which vLLM reads when
        # config.json has no quantization_config (vllm/model_executor/model_loader/weight_utils.py::get_quant_config).
        return from_hf_quant_config(hf_quant_config)
    return None
