"""Pulumi's project rules: every project and stack file of the repository loads under the CLI's real rules.

Mocks never read Pulumi.yaml or a stack file, so these are checked against the CLI's own sources (pulumi/pulumi
@1b594989, v3.259.0+14): the project schema `sdk/go/common/workspace/project.json` (tests/data, with its
provenance), `project.go` (Validate, RewriteShorthandConfigValues, ValidateConfigValue), `pkg/workspace/config.go`
(mergeConfig), `sdk/go/common/resource/config/key.go` (ParseKey) and `object.go`, and the ciphertext formats of
`config/crypt.go` and `pkg/secrets/{passphrase,cloud,service}/manager.go`. The rules live in
components/config/project_rules.py, which `python -m components plan` applies too.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from repo import DATA_DIR, PROJECT_DIR

from components.config import raw_from_stack_file
from components.config.project_rules import (
    merged_config_issues,
    parse_key,
    project_issues,
    stack_file_issues,
    stack_issues,
)
from components.errors import ConfigError

DATA = DATA_DIR
SCHEMA = json.loads((DATA / "pulumi-project-schema.json").read_text(encoding="utf-8"))
PROJECT_FILES = [PROJECT_DIR / "Pulumi.yaml", *sorted((PROJECT_DIR / "examples").glob("*/Pulumi.yaml"))]
STACK_FILES = [(p, s) for p in PROJECT_FILES for s in sorted(p.parent.glob("Pulumi.*.yaml"))]
BEFORE_10 = DATA / "pulumi-yaml-before-issue-10.yaml"
# Well-formed ciphertexts: a 12-byte nonce and 24 bytes of AES-GCM output, and a passphrase manager's salt record.
NONCE, SEALED = "AAECAwQFBgcICQoL", "KCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4/"
SALT = f"v1:AAECAwQFBgc=:v1:{NONCE}:{SEALED}"


def _load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return document


def _stack_name(stack_file: Path) -> str:
    return stack_file.name.removeprefix("Pulumi.").removesuffix(".yaml")


def _id(path: Path) -> str:
    return str(path.relative_to(PROJECT_DIR))


def test_the_repository_ships_its_projects_and_stacks() -> None:
    assert [_id(p) for p in PROJECT_FILES] == [
        "Pulumi.yaml",
        "examples/extra-model/Pulumi.yaml",
        "examples/yaml/Pulumi.yaml",
    ]
    assert sorted(_id(s) for _, s in STACK_FILES) == [
        "Pulumi.dev.yaml",
        "Pulumi.prod.yaml",
        "examples/extra-model/Pulumi.example.yaml",
    ]


# --- the shipped files ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("project_file", PROJECT_FILES, ids=_id)
def test_project_file_matches_pulumis_project_schema(project_file: Path) -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    errors = [e.message for e in jsonschema.Draft202012Validator(SCHEMA).iter_errors(_load(project_file))]
    assert errors == []


@pytest.mark.parametrize("project_file", PROJECT_FILES, ids=_id)
def test_project_file_passes_the_clis_project_validation(project_file: Path) -> None:
    assert project_issues(_load(project_file), project_file.name) == []


@pytest.mark.parametrize(("project_file", "stack_file"), STACK_FILES, ids=_id)
def test_shipped_stack_loads_under_its_project(project_file: Path, stack_file: Path) -> None:
    assert stack_issues(project_file, stack_file, _stack_name(stack_file)) == []


@pytest.mark.parametrize(("project_file", "stack_file"), STACK_FILES, ids=_id)
def test_shipped_stack_files_carry_no_ciphertext(project_file: Path, stack_file: Path) -> None:
    """#10 item 4: a `secure:` value is bound to one stack's key, so a shipped one cannot be decrypted anywhere."""
    document = _load(stack_file)
    assert list(_ciphertexts(document["config"])) == []
    assert not {"encryptionsalt", "encryptedkey", "secretsprovider"} & set(document)


def _ciphertexts(value: Any) -> Any:
    # config/object.go isSecureValue: a map whose only key is `secure`, at any depth.
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            yield value["secure"]
        for item in value.values():
            yield from _ciphertexts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _ciphertexts(item)


@pytest.mark.parametrize("project_file", [p for p in PROJECT_FILES if p.parent != PROJECT_DIR / "examples" / "yaml"])
def test_python_projects_declare_no_key_without_a_default(project_file: Path) -> None:
    """House style: the program owns its keys' defaults; a declaration without one makes the key mandatory."""
    project = _load(project_file)
    assert project["runtime"]["name"] == "python"
    own = {
        key: d for key, d in (project.get("config") or {}).items() if ":" not in key or key.startswith(project["name"])
    }
    assert [key for key, d in own.items() if not isinstance(d, dict) or "default" not in d] == []


# --- what the checks catch: the files shipped before #10 ---------------------------------------------------------


def test_the_pulumi_yaml_shipped_before_10_fails_to_load() -> None:
    """#10 item 1: the project schema accepts it, and project.go Validate refuses it."""
    before = _load(BEFORE_10)
    assert list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(before)) == []
    (issue,) = project_issues(before)
    assert issue.path == "Pulumi.yaml config.vllm-aws:models"
    assert issue.problem == (
        "Pulumi refuses to load the project: \"The configuration key 'vllm-aws:models' declares an array but does "
        "not specify the underlying type via the 'items' attribute\""
    )


@pytest.mark.parametrize(
    ("stack", "missing"),
    [
        ("dev", "'vllm-aws:access', 'vllm-aws:apiKey', 'vllm-aws:hfToken', 'vllm-aws:network' and 'vllm-aws:tags'"),
        ("prod", "'vllm-aws:access', 'vllm-aws:apiKey', 'vllm-aws:hfToken', 'vllm-aws:network' and 'vllm-aws:tags'"),
    ],
)  # fmt: skip
def test_the_pulumi_yaml_shipped_before_10_made_every_declared_key_required(stack: str, missing: str) -> None:
    """#10 item 2: mergeConfig requires each declared key without a default, apiKey included."""
    (issue,) = merged_config_issues(_load(BEFORE_10), stack, _load(PROJECT_DIR / f"Pulumi.{stack}.yaml"))
    assert issue.path == f"Pulumi.{stack}.yaml"
    assert f"\"Stack '{stack}' is missing configuration values {missing}\"" in issue.problem


def test_the_placeholder_ciphertext_shipped_before_10_is_refused() -> None:
    """#10 item 4: `v1:placeholder-...` has no nonce part, so config/crypt.go fails with "bad value"."""
    document = {
        "config": {"vllm-aws:hfToken": {"secure": "v1:placeholder-ciphertext-replace-with-pulumi-config-set-secret"}}
    }
    (issue,) = stack_file_issues(document)
    assert issue.path == "vllm-aws:hfToken" and "is not a ciphertext" in issue.problem
    assert issue.fix.startswith("set it with `pulumi config set --secret vllm-aws:hfToken")


# --- each rule on its own ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "parsed"),
    [
        ("vllm-aws:models", ("vllm-aws", "models")),
        ("aws:region", ("aws", "region")),
        ("vllm-aws:config:models", ("vllm-aws", "models")),  # the legacy form
        ("models", None),
        ("vllm-aws:models:0", None),
    ],
)
def test_stack_keys_parse_as_the_cli_parses_them(key: str, parsed: tuple[str, str] | None) -> None:
    """config/key.go ParseKey."""
    assert parse_key(key) == parsed


def _project(config: dict[str, Any]) -> dict[str, Any]:
    return {"name": "p", "runtime": "python", "config": config}


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"aws:region": {"default": "us-west-2"}}, "is not namespaced by the project and should not define a default"),
        ({"aws:region": {"description": "x"}}, "is namespaced and must provide an attribute 'value'"),
        ({"aws:region": {"type": "string", "value": "x"}}, "by the project and should not define a type"),
        ({"size": {"default": 1, "value": 2}}, "cannot have both a 'default' and 'value' attribute"),
        ({"p:zones": {"type": "array"}}, "declares an array but does not specify the underlying type"),
        ({"n": {"type": "integer", "default": "ten"}}, "is not of the expected type 'integer'"),
        ({"l": {"type": "array", "items": {"type": "integer"}, "default": ["a"]}}, "expected type 'array<integer>'"),
        ({"l": {"type": "array", "items": {"type": "array"}}}, "declares an array of arrays without `items`"),
        ({"l": {"type": "list"}}, "is not a config type"),
        ({"l": {"type": "string", "required": True}}, "has fields a declaration cannot have"),
    ],
)  # fmt: skip
def test_project_declarations_the_cli_refuses(config: dict[str, Any], message: str) -> None:
    """project.go Validate, project.json configTypeDeclaration/configItemsType."""
    (issue,) = project_issues(_project(config))
    assert message in issue.problem


@pytest.mark.parametrize(
    "config",
    [
        {"instanceSize": "t3.micro", "aws:region": "us-west-2"},  # shorthand: a default, and another namespace's value
        {"n": {"type": "integer", "default": "10"}, "b": {"type": "boolean", "default": "true"}},  # strings coerce
        {"l": {"type": "array", "items": {"type": "array", "items": {"type": "object"}}, "default": [[{}]]}},
        {"p:s": {"type": "string", "description": "required per stack, but a valid declaration"}},
    ],
)
def test_project_declarations_the_cli_accepts(config: dict[str, Any]) -> None:
    assert project_issues(_project(config)) == []


def test_declared_keys_without_a_default_are_required_in_every_stack() -> None:
    """pkg/workspace/config.go mergeConfig and formatMissingKeys."""
    project = _project({"a": {"type": "string"}, "p:b": {}, "c": {"default": "x"}, "aws:region": {"value": "eu"}})
    (issue,) = merged_config_issues(project, "dev", {"config": {"p:a": "set"}})
    assert issue.value == ["p:b"]
    assert "\"Stack 'dev' is missing configuration value 'p:b'\"" in issue.problem
    assert merged_config_issues(project, "dev", {"config": {"p:a": "set", "p:config:b": "legacy key form"}}) == []
    # Values may come from an ESC environment, which cannot be read offline.
    assert merged_config_issues(project, "dev", {"environment": ["shared"], "config": {}}) == []


@pytest.mark.parametrize(
    ("declaration", "value", "ok"),
    [
        ({"type": "string"}, 5, True),  # a scalar reaches the check as its string form
        ({"type": "integer"}, "12", True),
        ({"type": "integer"}, 1.5, False),
        ({"type": "boolean"}, True, True),
        ({"type": "boolean"}, "yes", False),
        ({"type": "object"}, {"a": 1}, True),
        ({"type": "object"}, [1], False),
        ({"type": "string"}, {"a": 1}, False),
        ({"type": "array", "items": {"type": "string"}}, ["a", "b"], True),
        ({"type": "array", "items": {"type": "string"}}, [1, 2], False),
        ({"type": "array", "items": {"type": "integer"}}, [1, 2.0], True),
        ({"type": "string"}, {"secure": f"v1:{NONCE}:{SEALED}"}, True),
        ({"type": "integer"}, {"secure": f"v1:{NONCE}:{SEALED}"}, True),  # its plaintext is unknown offline
        ({"type": "object"}, {"secure": f"v1:{NONCE}:{SEALED}"}, False),  # a ciphertext is never a map
    ],
)
def test_stack_values_must_match_their_declared_type(declaration: dict[str, Any], value: Any, ok: bool) -> None:
    """config.go validateStackConfigValue -> project.go ValidateConfigValue."""
    issues = merged_config_issues(_project({"k": declaration}), "s", {"encryptionsalt": SALT, "config": {"p:k": value}})
    assert (issues == []) is ok
    if not ok:
        assert "\"Stack 's' with configuration key 'k' must be of type" in issues[0].problem


def test_keys_declared_secret_need_a_ciphertext_except_offline() -> None:
    project = _project({"token": {"type": "string", "secret": True}})
    (issue,) = merged_config_issues(project, "s", {"config": {"p:token": "plain"}})
    assert "must be encrypted as it's secret" in issue.problem and issue.fix == "pulumi config set --secret p:token ..."
    assert merged_config_issues(project, "s", {"config": {"p:token": "plain"}}, plain_secrets=True) == []
    assert (
        merged_config_issues(
            project, "s", {"encryptionsalt": SALT, "config": {"p:token": {"secure": f"v1:{NONCE}:{SEALED}"}}}
        )
        == []
    )


@pytest.mark.parametrize(
    ("header", "ciphertext", "problem"),
    [
        ({"encryptionsalt": SALT}, f"v1:{NONCE}:{SEALED}", None),  # passphrase
        ({"secretsprovider": "awskms://alias/k", "encryptedkey": "ZGF0YWtleQ=="}, f"v1:{NONCE}:{SEALED}", None),
        ({}, SEALED, None),  # Pulumi Cloud: plain base64, no key in the file
        ({}, f"v1:{NONCE}:{SEALED}", "has no key"),
        ({"encryptionsalt": SALT}, f"v1:AAAA:{SEALED}", "is not a ciphertext"),  # a 3-byte nonce
        ({"encryptionsalt": SALT}, "v1:abc", "is not a ciphertext"),
        ({"encryptionsalt": SALT}, SEALED, "is a Pulumi Cloud ciphertext, but the stack file is keyed"),
        ({}, "hunter2", "is not a ciphertext of any secrets manager"),
    ],
)
def test_secure_values_have_a_real_ciphertext_shape(
    header: dict[str, str], ciphertext: str, problem: str | None
) -> None:
    document = {**header, "config": {"p:nested": {"list": [{"secure": ciphertext}]}}}
    issues = stack_file_issues(document)
    if problem is None:
        assert issues == []
    else:
        (issue,) = issues
        assert issue.path == "p:nested.list[0]" and problem in issue.problem


# --- the offline CLI refuses what `pulumi` would refuse ----------------------------------------------------------


def _plan(*args: str, cwd: Path = PROJECT_DIR) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "components", "plan", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT_DIR)},
    )


def test_plan_refuses_a_stack_key_without_a_namespace(tmp_path: Path) -> None:
    config = tmp_path / "Pulumi.offline.yaml"
    config.write_text("config:\n  models: [{name: q, id: Qwen/Qwen2.5-7B-Instruct}]\n")
    result = _plan("--config", str(config))
    assert result.returncode == 2 and result.stdout == "" and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: invalid configuration: models: Pulumi refuses the stack file: ")
    assert "Fix: write it as `<namespace>:models`, e.g. `vllm-aws:models`" in result.stderr


def test_plan_refuses_a_stack_the_project_file_makes_unloadable(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text(BEFORE_10.read_text(encoding="utf-8"))
    (tmp_path / "Pulumi.dev.yaml").write_text((PROJECT_DIR / "Pulumi.dev.yaml").read_text(encoding="utf-8"))
    result = _plan("--stack", "dev", "--project-dir", str(tmp_path))
    assert result.returncode == 2 and result.stdout == "" and "Traceback" not in result.stderr
    assert "error: invalid configuration (2 problems):" in result.stderr
    assert "Pulumi.yaml config.vllm-aws:models: Pulumi refuses to load the project" in result.stderr
    assert "Pulumi.dev.yaml: lacks keys that Pulumi.yaml declares without a default" in result.stderr


def test_reading_a_stack_file_applies_the_stack_file_rules(tmp_path: Path) -> None:
    stack = tmp_path / "Pulumi.x.yaml"
    stack.write_text("config:\n  vllm-aws:hfToken: {secure: v1:abc}\n")
    with pytest.raises(ConfigError, match=r"vllm-aws:hfToken: is not a ciphertext"):
        raw_from_stack_file(stack)
