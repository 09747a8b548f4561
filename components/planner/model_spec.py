"""The shape of a model to size: its catalog entry, overridden or replaced by its ``architecture:`` block."""

from __future__ import annotations

from pathlib import Path

from .. import catalog
from ..catalog import ModelSpec
from ..config.sections import ArchitectureConfig, ModelConfig
from ..errors import ConfigIssue, KeyPaths, did_you_mean


def resolve_model_spec(keys: KeyPaths, model: ModelConfig) -> ModelSpec | ConfigIssue:
    """The catalog entry for ``model.id``, overridden or replaced by its ``architecture:`` block."""
    base = catalog.find_model(model.id)
    arch = model.architecture
    if arch is None:
        if base is not None:
            return base
        hint = did_you_mean(model.id, [m.id for m in catalog.models().values()])
        return ConfigIssue(
            keys("id"),
            model.id,
            "is not in the model catalog, so the planner cannot size it",
            (f"did you mean '{hint}'? Otherwise add " if hint else "add ")
            + "an `architecture:` block (numLayers, numAttentionHeads, numKeyValueHeads, headDim, "
            "paramsBillion, maxPositionEmbeddings) or `architecture.configJson: path/to/config.json`",
        )
    return _spec_from_architecture(keys, model, arch, base)


def _spec_from_architecture(
    keys: KeyPaths, model: ModelConfig, arch: ArchitectureConfig, base: ModelSpec | None
) -> ModelSpec | ConfigIssue:
    fields: dict[str, object] = base.model_dump(by_alias=True) if base else {"id": model.id}
    if arch.config_json is not None:
        config_path = Path(arch.config_json)
        try:
            fields.update(catalog.model_from_hf_config(config_path, model.id))
        except (OSError, ValueError) as exc:
            return ConfigIssue(
                keys("architecture", "configJson"),
                arch.config_json,
                f"cannot be read as a Hugging Face config.json ({exc.__class__.__name__}: {exc})",
                "point it at a readable config.json (relative to the directory you run from)",
            )
    explicit = arch.model_dump(by_alias=True, exclude_none=True, exclude={"config_json"}, exclude_unset=True)
    fields.update(explicit)
    required = ("numLayers", "numAttentionHeads", "numKeyValueHeads", "headDim", "maxPositionEmbeddings")
    for key in required:
        if fields.get(key) is None:
            return ConfigIssue(
                keys("architecture", key),
                None,
                f"is needed to size {model.id}, which is not in the catalog",
                f"set architecture.{key} (from the model's config.json)",
                origin="not set",
            )
    heads = int(fields["numAttentionHeads"])  # type: ignore[call-overload]
    head_dim = int(fields["headDim"])  # type: ignore[call-overload]
    fields.setdefault("hiddenSize", heads * head_dim)
    fields.setdefault("intermediateSize", int(3.5 * int(fields["hiddenSize"])))  # type: ignore[call-overload]
    fields.setdefault("vocabSize", 32000)
    if fields.get("paramsBillion") is None:
        if arch.config_json is None:
            return ConfigIssue(
                keys("architecture", "paramsBillion"),
                None,
                f"is needed to size the weights of {model.id}",
                "set architecture.paramsBillion (the model card's parameter count, in billions)",
                origin="not set",
            )
        fields["paramsBillion"] = catalog.estimate_params_billion(
            num_layers=int(fields["numLayers"]),  # type: ignore[call-overload]
            hidden_size=int(fields["hiddenSize"]),  # type: ignore[call-overload]
            intermediate_size=int(fields["intermediateSize"]),  # type: ignore[call-overload]
            vocab_size=int(fields["vocabSize"]),  # type: ignore[call-overload]
            num_attention_heads=heads,
            num_key_value_heads=int(fields["numKeyValueHeads"]),  # type: ignore[call-overload]
            head_dim=head_dim,
            tie_word_embeddings=bool(fields.get("tieWordEmbeddings", False)),
        )
    return ModelSpec.model_validate(fields)
