"""Validation failures as :class:`~components.errors.ConfigIssue`: one per key, with its key path, value and fix.

``parse_stack_config`` validates a whole ``vllm-aws`` config; :func:`parse_section` validates one section
(a model entry, a cache block, an image) wherever it is configured, e.g. under another project's namespace or
as a component's input, with key paths under the prefix given.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast, get_origin, overload

import pulumi
from pydantic import BaseModel, TypeAdapter, ValidationError

from ..errors import NAMESPACE, ConfigError, ConfigIssue, KeyPrefix, did_you_mean, key_path
from .base import LocatedError, MultiLocatedError
from .schema import SECRET_KEYS, SECRET_PLACEHOLDER, OutputSecret, PartialConfigError, StackConfig

_T = TypeVar("_T")
_TOP_LEVEL_KEYS = tuple((field.alias or name) for name, field in StackConfig.model_fields.items() if name != "region")


def parse_stack_config(raw: Mapping[str, Any]) -> StackConfig:
    """Validate a ``{key: value}`` map of un-namespaced ``vllm-aws`` keys (plus ``aws:region``).

    Raises :class:`PartialConfigError` listing every problem, each with its key path, value and fix; it carries
    the config without the bad keys and models, when one validates, so the planner can add its own problems.
    """
    issues = [
        ConfigIssue(
            key_path((key,)),
            raw[key],
            "is not a vllm-aws config key",
            f"did you mean '{hint}'?"
            if (hint := did_you_mean(key, _TOP_LEVEL_KEYS))
            else f"remove it; known keys: {', '.join(_TOP_LEVEL_KEYS)}",
        )
        for key in raw
        if key not in _TOP_LEVEL_KEYS and key != "aws:region"
    ]
    # A secret read through pulumi.Config is an Output; the schema holds it without importing Pulumi.
    values = {
        key: OutputSecret(value) if key in SECRET_KEYS and isinstance(value, pulumi.Output) else value
        for key, value in raw.items()
        if key in _TOP_LEVEL_KEYS or key == "aws:region"
    }
    try:
        config = StackConfig.model_validate(values)
    except ValidationError as exc:
        issues += issues_from_pydantic(exc, StackConfig)
        raise PartialConfigError(issues, *_without_bad_parts(values, exc)) from None
    if issues:
        raise PartialConfigError(issues, config, tuple(range(len(config.models))))
    return config


def _without_bad_parts(values: Mapping[str, Any], exc: ValidationError) -> tuple[StackConfig | None, tuple[int, ...]]:
    """The config without the keys and models that failed, and the models' indexes in the user's list; no config
    when a key every model's checks read failed (the image decides the CUDA checks: they would judge a default the
    user did not choose). A failed ``cache`` or ``hfToken`` takes its default: the planner's problems with that
    key are not reported (:func:`components.planner.plan.plan_config`), the models' others are."""
    failed = {
        tuple(error["loc"][:2]) if error["loc"][:1] == ("models",) else error["loc"][:1] for error in exc.errors()
    }
    if any(loc in failed for loc in (("image",), ("models",), ())):
        return None, ()
    models = values.get("models")
    if not isinstance(models, list | tuple):
        return None, ()
    kept = tuple(index for index in range(len(models)) if ("models", index) not in failed)
    rest = {key: value for key, value in values.items() if (key,) not in failed}
    if ("loadBalancer",) in failed:
        # The planner reads nothing of the front door, but the default one (plain HTTP, not allowed) would fail
        # the transport check again and hide the models' problems.
        rest["loadBalancer"] = {"allowPlainHttp": True}
    try:
        return StackConfig.model_validate({**rest, "models": [models[index] for index in kept]}), kept
    except ValidationError:
        return None, ()


@overload
def parse_section(
    section: type[_T], raw: object, key_prefix: KeyPrefix = (), *, namespace: str | None = NAMESPACE
) -> _T: ...
@overload
def parse_section(
    section: object, raw: object, key_prefix: KeyPrefix = (), *, namespace: str | None = NAMESPACE
) -> Any: ...
def parse_section(
    section: object, raw: object, key_prefix: KeyPrefix = (), *, namespace: str | None = NAMESPACE
) -> Any:
    """Validate ``raw`` as ``section`` (a config model such as ``ModelConfig``, or a type such as ``PinnedImage``).

    Raises :class:`ConfigError` whose key paths start with ``key_prefix`` in ``namespace`` (``None``: a
    component's own inputs, no namespace), e.g. ``("model",)`` in ``vllm-aws-extra-model`` gives
    ``vllm-aws-extra-model:model.tensorParallelSize``.
    """
    try:
        if isinstance(section, type) and issubclass(section, BaseModel):
            return section.model_validate(raw)
        # pydantic 2.14 types TypeAdapter's argument as a TypeForm, which an `object` parameter is not.
        return TypeAdapter(cast(Any, section)).validate_python(raw)
    except ValidationError as exc:
        root = section if isinstance(section, type) and issubclass(section, BaseModel) else None
        raise ConfigError(issues_from_pydantic(exc, root, key_prefix, namespace)) from None


def issues_from_pydantic(
    exc: ValidationError, root: type[BaseModel] | None, key_prefix: KeyPrefix = (), namespace: str | None = NAMESPACE
) -> list[ConfigIssue]:
    """One issue per failing key of ``root`` (the validated model), under ``key_prefix``."""

    def path(loc: tuple[Any, ...]) -> str:
        return key_path((*key_prefix, *loc), namespace=namespace)

    issues: list[ConfigIssue] = []
    for error in exc.errors(include_url=False):
        raw_loc = tuple(error["loc"])
        loc = _config_loc(raw_loc, root)
        located = (error.get("ctx") or {}).get("error")
        if isinstance(located, LocatedError | MultiLocatedError):
            for one in located.errors if isinstance(located, MultiLocatedError) else [located]:
                # A key a cross-field rule needs is one the user left out: "not set", never "got None".
                origin = "not set" if one.value is None else None
                issues.append(ConfigIssue(path((*loc, *one.loc)), one.value, one.problem, one.fix, origin))
            continue
        if loc != raw_loc and any(issue.path == path(loc) for issue in issues):
            continue  # another member of the same union failed on the same key: one issue per key
        value = error.get("input")
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            candidates = _field_aliases_at(loc[:-1], root)
            hint = did_you_mean(str(loc[-1]), candidates)
            fix = f"did you mean '{hint}'?" if hint else f"remove it; known keys: {', '.join(candidates)}"
            issues.append(ConfigIssue(path(loc), value, "is not a known key here", fix))
            continue
        if error["type"] == "missing":
            issues.append(ConfigIssue(path(loc), None, "is required", "set it", origin="not set"))
            continue
        if error["type"] == "too_short" and len(value or ()) >= (error.get("ctx") or {}).get("min_length", 0):
            continue  # pydantic counts only the valid entries; the invalid ones are reported on their own
        problem, _, fix = message.partition(". Fix: ")
        problem = _yaml_words(problem)
        if not fix:
            fix = generic_fix(error["type"], error.get("ctx") or {})
        issues.append(ConfigIssue(path(loc), _redact(loc, value, root), problem, fix))
    return issues


def _config_loc(loc: tuple[Any, ...], root: type[BaseModel] | None) -> tuple[Any, ...]:
    """A pydantic loc without the tags pydantic adds per union member (``sizeGib.int``, ``hfToken.is-instance[...]``).

    Keeps field names, list indexes and the keys of dict-valued fields (``tags.team``).
    """
    model: type[BaseModel] | None = root
    annotation: Any = None
    out: list[Any] = []
    for part in loc:
        if isinstance(part, int):
            out.append(part)
        elif model is not None:
            field = next((f for n, f in model.model_fields.items() if (f.alias or n) == part), None)
            if field is None:
                return loc  # an unknown key (extra_forbidden): nothing to strip
            out.append(part)
            annotation = field.annotation
            model = _model_in(annotation)
        elif get_origin(annotation) is dict:
            out.append(part)
    return tuple(out) if root is not None else ()


def _redact(loc: tuple[Any, ...], value: object, root: type[BaseModel] | None) -> object:
    return SECRET_PLACEHOLDER if root is StackConfig and loc and loc[0] in SECRET_KEYS else value


def _yaml_words(text: str) -> str:
    """pydantic's words for the config as YAML spells it: a sequence field is a tuple in the models, a list in YAML
    ("Tuple should have at least 1 item after validation" -> "List should have at least 1 item")."""
    return text.replace("Tuple", "List").replace("tuple", "list").replace(" after validation", "")


def generic_fix(error_type: str, ctx: Mapping[str, Any]) -> str:
    """The fix for a pydantic error that names none: the expected values, the bound, or the type."""
    if "expected" in ctx:
        return f"use one of {ctx['expected']}"
    bounds = {"ge": "at least", "gt": "more than", "le": "at most", "lt": "less than"}
    for key, words in bounds.items():
        if key in ctx:
            return f"use a value {words} {ctx[key]}"
    if error_type.endswith("_type") or error_type.endswith("_parsing"):
        kind = _yaml_words(error_type.split("_", maxsplit=1)[0])
        return f"use {'an' if kind[0] in 'aeiou' else 'a'} {kind} value"
    if error_type == "too_short":
        return "give at least one entry"
    if error_type == "string_too_short":
        return "give a non-empty value"
    return "see the config reference in docs/configuration.md"


def _field_aliases_at(loc: tuple[Any, ...], root: type[BaseModel] | None) -> list[str]:
    """Known keys of the model at ``loc`` (for did-you-mean on an unknown key)."""
    if root is None:
        return []
    model: type[BaseModel] = root
    for part in loc:
        if isinstance(part, int):
            continue
        field = next(
            (f for n, f in model.model_fields.items() if (f.alias or n) == part),
            None,
        )
        annotation = getattr(field, "annotation", None)
        nested = _model_in(annotation)
        if nested is None:
            break
        model = nested
    return [f.alias or n for n, f in model.model_fields.items()]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None
