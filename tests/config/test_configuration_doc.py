"""docs/configuration.md documents exactly the keys the schema accepts, and its example of every key plans."""

from __future__ import annotations

import re
import subprocess
import sys
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel
from repo import PROJECT_DIR

from components.config.schema import StackConfig

DOC = PROJECT_DIR / "docs" / "configuration.md"
# Read instead of the explicit architecture fields: an alternative, not part of the example.
# allowPlainHttp is rejected together with the HTTPS keys the example sets; an existing access-logs bucket is the
# alternative to the created one, whose expirationDays the example sets. alertsWebhookUrl is refused in plain text,
# and the example's secrets are plain.
NOT_IN_EXAMPLE = {
    "models[].architecture.configJson",
    "loadBalancer.allowPlainHttp",
    "loadBalancer.accessLogs.bucket",
    "alertsWebhookUrl",
}


def _nested_models(annotation: Any) -> list[type[BaseModel]]:
    found = []
    for candidate in (annotation, *typing.get_args(annotation)):
        for inner in (candidate, *typing.get_args(candidate)):
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                found.append(inner)
    return found


def schema_keys(model: type[BaseModel] = StackConfig, prefix: str = "") -> set[str]:
    keys = set()
    for name, field in model.model_fields.items():
        key = prefix + (field.alias or name)
        keys.add(key)
        for nested in _nested_models(field.annotation):
            is_list = typing.get_origin(field.annotation) in (tuple, list)
            keys |= schema_keys(nested, key + ("[]." if is_list else "."))
    return keys


def documented_keys() -> set[str]:
    """Keys of the two tables: the first cell's `a.b` / `.c` / `d` spellings; architecture's fields in its row."""
    text = DOC.read_text(encoding="utf-8")
    keys: set[str] = set()
    in_models = False
    for line in text.splitlines():
        if line.startswith("Each entry of `models`"):
            in_models = True
        if not line.startswith("| `"):
            continue
        first, *rest = line.split(" | ")
        tokens = re.findall(r"`([^`]+)`", first)
        parent = tokens[0].rsplit(".", 1)[0] + "." if "." in tokens[0] and tokens[0] != "aws:region" else ""
        names = [tokens[0], *(parent + token.lstrip(".") for token in tokens[1:])]
        prefix = "models[]." if in_models else ""
        keys |= {prefix + name for name in names}
        if names == ["architecture"]:
            keys |= {f"models[].architecture.{name}" for name in re.findall(r"`(\w+)[`:]", rest[1])}
    return keys


def _flattened(value: Any, prefix: str = "") -> set[str]:
    if isinstance(value, dict):
        keys = set()
        for key, inner in value.items():
            path = prefix + key
            keys.add(path)
            if not path.endswith(("tags", "rulePriorities")):  # free-form maps: their keys are data
                keys |= _flattened(inner, path + ".")
        return keys
    if isinstance(value, list):
        return set().union(*(_flattened(item, prefix.rstrip(".") + "[].") for item in value if isinstance(item, dict)))
    return set()


def _example() -> str:
    text = DOC.read_text(encoding="utf-8")
    return text[text.index("## Example: every key") :].split("```yaml\n", 1)[1].split("```", 1)[0]


def test_the_tables_list_exactly_the_schemas_keys() -> None:
    keys = schema_keys()
    leaves = {key for key in keys if not any(other.startswith((f"{key}.", f"{key}[].")) for other in keys)}
    documented = documented_keys()
    assert leaves - documented == set(), "document these keys in docs/configuration.md"
    assert documented - keys == set(), "docs/configuration.md documents keys the schema does not accept"


def test_the_example_sets_every_key_and_plans(tmp_path: Path) -> None:
    example = yaml.safe_load(_example())["config"]
    keys = _flattened({name.removeprefix("vllm-aws:"): value for name, value in example.items()})
    assert keys == schema_keys() - NOT_IN_EXAMPLE
    stack_file = tmp_path / "Pulumi.example.yaml"
    stack_file.write_text(_example(), encoding="utf-8")
    plan = subprocess.run(
        [sys.executable, "-m", "components", "plan", "--config", str(stack_file), "--format", "json"],
        capture_output=True, text=True, cwd=PROJECT_DIR, check=False,
    )  # fmt: skip
    assert plan.returncode == 0, plan.stderr
