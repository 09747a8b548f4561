"""The shape of a model to size: read through the model reader (Hub, disk cache, bundled snapshot), or from its
``architecture:`` block (explicit numbers, or ``configJson``: a local config.json, relative to the config file).

Every answer says where the shape came from (``ModelSpec.source``).
"""

from __future__ import annotations

from pathlib import Path

from ..catalog import ModelSpec, WeightFormat
from ..catalog.hub import ModelReadError, bundled_snapshot, shape_from_config_file
from ..catalog.model_shape import CannotSize, ModelShape
from ..config.schema import SECRET_PLACEHOLDER
from ..config.sections import ArchitectureConfig, ModelConfig
from ..errors import ConfigError, ConfigIssue, KeyPaths, key_path
from .context import PlanContext
from .weights import estimated_parameters

ARCHITECTURE_FIX = (
    "add an `architecture:` block (numLayers, numAttentionHeads, numKeyValueHeads, headDim, paramsBillion, "
    "maxPositionEmbeddings) or `architecture.configJson: path/to/config.json` (relative to the config file)"
)


def spec_from_shape(shape: ModelShape, model_id: str, *, gated: bool = False) -> ModelSpec:
    """The planner's view of a read shape; sizing reads ``shape`` itself for weights and KV."""
    moe = shape.moe
    quant = shape.quantization
    params = shape.safetensors.total if shape.safetensors else estimated_parameters(shape)
    active = 1
    intermediate = shape.intermediate_size
    if moe is not None:
        # Activations run through the routed experts a token picks, plus the shared ones (VLLM_SIZING.md §1.2 P).
        intermediate = moe.moe_intermediate_size
        shared = moe.shared_expert_intermediate_size or moe.shared_experts * moe.moe_intermediate_size
        active = moe.experts_per_token + -(-shared // moe.moe_intermediate_size)
    return ModelSpec(
        id=model_id,
        num_layers=shape.num_layers,
        num_attention_heads=shape.num_attention_heads,
        num_key_value_heads=shape.num_key_value_heads,
        head_dim=shape.head_dim,
        hidden_size=shape.hidden_size,
        intermediate_size=intermediate,
        vocab_size=shape.vocab_size,
        tie_word_embeddings=shape.tie_word_embeddings,
        max_position_embeddings=shape.max_position_embeddings,
        default_dtype="float16" if shape.dtype == "float16" else "bfloat16",
        params_billion=params / 1e9,
        sliding_window=shape.sliding_window,
        num_experts=moe.num_experts if moe else None,
        num_experts_per_token=active if moe else None,
        gated=gated,
        quantization=quant.method if quant else None,
        weight_bits=quant.weight_bits if quant else None,
        weight_format=_weight_format(shape),
        source=shape.provenance.summary,
        shape=shape,
    )


def bundled_spec(model_id: str) -> ModelSpec | None:
    """The planner's view of ``model_id`` as the bundled snapshot has it (no Hub, no cache), if it has it."""
    record = bundled_snapshot().get(model_id.lower())
    if record is None:
        return None
    shape = record.shape("bundled snapshot")
    return None if isinstance(shape, CannotSize) else spec_from_shape(shape, record.repo_id, gated=record.gated)


def _weight_format(shape: ModelShape) -> WeightFormat | None:
    quant = shape.quantization
    if quant is None or not quant.recognized:
        return None
    if quant.weight_type == "mxfp4":
        return "mxfp4"
    if quant.weight_bits == 4:
        return "fp4" if quant.weight_type == "float" else "int4"
    return "fp8" if quant.weight_type == "float" else "int8"


def resolve_model_spec(keys: KeyPaths, model: ModelConfig, context: PlanContext) -> ModelSpec | ConfigIssue:
    """The shape of ``model.id``: its ``architecture`` block when it has one, else what the reader reads.

    Raises :class:`ConfigError` naming every number an ``architecture`` block is missing.
    """
    if model.architecture is not None:
        return _spec_from_architecture(keys, model, model.architecture, context)
    try:
        shape = context.reader.read(model.id, model.revision, context.hub_token)
    except ModelReadError as error:
        return _read_issue(keys, model, context, error)
    if isinstance(shape, CannotSize):
        return ConfigIssue(keys("id"), model.id, f"cannot be sized: {shape.reason}", ARCHITECTURE_FIX)
    return spec_from_shape(shape, model.id, gated=shape.provenance.gated)


def _read_issue(keys: KeyPaths, model: ModelConfig, context: PlanContext, error: ModelReadError) -> ConfigIssue:
    if error.problem in ("revision-not-found", "revision-unreadable"):
        return ConfigIssue(keys("revision"), model.revision, error.message, error.fix)
    if error.problem == "gated":
        return ConfigIssue(
            key_path(context.hf_token_key, namespace=context.namespace),
            SECRET_PLACEHOLDER if context.hf_token else None,
            f"cannot read {model.id}: it {error.message}",
            error.fix,
            origin=None if context.hf_token else "not set",
        )
    if error.problem == "unreachable":
        return ConfigIssue(keys("id"), model.id, error.message, f"{error.fix}; {ARCHITECTURE_FIX}")
    return ConfigIssue(keys("id"), model.id, error.message, error.fix)


def _spec_from_architecture(
    keys: KeyPaths, model: ModelConfig, arch: ArchitectureConfig, context: PlanContext
) -> ModelSpec | ConfigIssue:
    # The block's numbers complete the bundled snapshot's shape (never a Hub read): it is how a model is sized offline.
    base = bundled_spec(model.id)
    fields: dict[str, object] = (
        base.model_dump(by_alias=True, exclude={"shape", "source"}) if base else {"id": model.id}
    )
    explicit = arch.model_dump(by_alias=True, exclude_none=True, exclude={"config_json"}, exclude_unset=True)
    if arch.config_json is not None:
        path = Path(arch.config_json)
        if not path.is_absolute():
            path = (context.config_dir or Path.cwd()) / path
        try:
            shape = shape_from_config_file(path, model.id)
        except (OSError, ValueError) as exc:
            return ConfigIssue(
                keys("architecture", "configJson"),
                arch.config_json,
                f"cannot be read as a Hugging Face config.json: looked at {path} ({exc.__class__.__name__}: {exc})",
                "point it at a readable config.json: an absolute path, or one relative to the directory of the "
                "config file (Pulumi.<stack>.yaml) that sets it",
            )
        if isinstance(shape, CannotSize):
            return ConfigIssue(
                keys("architecture", "configJson"),
                arch.config_json,
                f"cannot be sized: {shape.reason}",
                "describe the model with architecture keys instead (numLayers, numAttentionHeads, "
                "numKeyValueHeads, headDim, paramsBillion, maxPositionEmbeddings)",
            )
        updates = {_snake(key): value for key, value in explicit.items()}
        if "params_billion" in updates:
            # An explicit parameter count is sized as a dense model of that size: the file's layers no longer add up.
            spec = spec_from_shape(shape, model.id)
            return spec.model_copy(update={**updates, "shape": None, "source": f"{spec.source} + architecture block"})
        shaped = shape.model_copy(update={k: v for k, v in updates.items() if k in ModelShape.model_fields})
        return spec_from_shape(shaped, model.id, gated=bool(updates.get("gated", False)))
    fields.update(explicit)
    # Every missing number at once, each with its key path: the user fills the block in one edit.
    required = ("numLayers", "numAttentionHeads", "numKeyValueHeads", "headDim", "maxPositionEmbeddings")
    missing = [
        ConfigIssue(
            keys("architecture", key),
            None,
            f"is needed to size {model.id}, which the planner cannot read",
            f"set architecture.{key} (from the model's config.json)",
            origin="not set",
        )
        for key in required
        if fields.get(key) is None
    ]
    if fields.get("paramsBillion") is None:
        missing.append(
            ConfigIssue(
                keys("architecture", "paramsBillion"),
                None,
                f"is needed to size the weights of {model.id}",
                "set architecture.paramsBillion (the model card's parameter count, in billions)",
                origin="not set",
            )
        )
    if missing:
        raise ConfigError(missing)
    heads = int(fields["numAttentionHeads"])  # type: ignore[call-overload]
    head_dim = int(fields["headDim"])  # type: ignore[call-overload]
    fields.setdefault("hiddenSize", heads * head_dim)
    fields.setdefault("intermediateSize", int(3.5 * int(fields["hiddenSize"])))  # type: ignore[call-overload]
    fields.setdefault("vocabSize", 32000)
    fields["source"] = "architecture block" + (" over the bundled snapshot" if base else "")
    return ModelSpec.model_validate(fields)


def _snake(camel: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in camel)
