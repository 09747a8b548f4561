"""The rules the Pulumi CLI applies to ``Pulumi.yaml`` and ``Pulumi.<stack>.yaml`` before it runs any program.

Mocks never load these files, so a project the CLI refuses still passes every mock run. These checks restate the
CLI's rules from its source (pulumi/pulumi @1b594989, v3.259.0+14; each rule cites its file) and report each
breach as a ``ConfigIssue`` quoting the CLI's own error, so ``python -m components plan`` refuses what
``pulumi preview`` would refuse. Pure: no Pulumi SDK, no I/O beyond reading the two YAML files.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from ..errors import ConfigError, ConfigIssue

# project.json `simpleConfigType`; `object` (and object items) are understood by the CLI from 3.187.0.
CONFIG_TYPES = ("string", "integer", "boolean", "array", "object")
# project.json `configTypeDeclaration` (additionalProperties: false).
DECLARATION_FIELDS = frozenset({"type", "items", "description", "secret", "default", "value"})
# AES-256-GCM as the passphrase and cloud secrets managers use it (sdk/go/common/resource/config/crypt.go).
NONCE_BYTES = 12
GCM_TAG_BYTES = 16
_INTEGER = re.compile(r"^[+-]?\d+$")  # Go strconv.Atoi


def parse_key(key: str) -> tuple[str, str] | None:
    """``<namespace>:<name>`` (or the legacy ``<namespace>:config:<name>``) -> (namespace, name); None if neither.

    sdk/go/common/resource/config/key.go ``ParseKey``: exactly one ``:``, or two with ``config`` in the middle.
    """
    parts = key.split(":")
    if len(parts) == 2:
        return parts[0], parts[1]
    if len(parts) == 3 and parts[1] == "config" and all(parts):
        return parts[0], parts[2]
    return None


def _config(document: Mapping[str, Any]) -> Mapping[str, Any]:
    config = document.get("config")
    return config if isinstance(config, Mapping) else {}


def _declarations(project: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``config:`` entries as declarations; shorthand values become ``default`` (own namespace) or ``value``.

    sdk/go/common/workspace/project.go ``RewriteShorthandConfigValues`` (only string, int, bool and lists).
    """
    name = str(project.get("name", ""))
    out: dict[str, dict[str, Any]] = {}
    for key, entry in _config(project).items():
        if isinstance(entry, Mapping):
            # A null default or value is Go's nil: no default, no value.
            out[str(key)] = {f: v for f, v in entry.items() if not (f in ("default", "value") and v is None)}
        elif isinstance(entry, str | int | bool | list):
            out[str(key)] = {"default" if _own_namespace(name, str(key)) else "value": entry}
    return out


def _own_namespace(project_name: str, key: str) -> bool:
    # project.go configKeyIsNamespacedByProject
    return ":" not in key or key.startswith(f"{project_name}:")


def _full_key(project_name: str, key: str) -> str:
    # pkg/workspace/config.go parseConfigKey: a bare key lives in the project's namespace.
    return key if ":" in key else f"{project_name}:{key}"


def _type_name(declared: str, items: Any) -> str:
    # project.go InferFullTypeName
    if isinstance(items, Mapping):
        return f"array<{_type_name(str(items.get('type', '')), items.get('items'))}>"
    return declared


def value_has_type(type_name: str, items: Any, value: Any) -> bool:
    """project.go ``ValidateConfigValue``: the CLI's check of a default or stack value against a declared type."""
    if type_name == "string":
        return isinstance(value, str)
    if type_name == "integer":
        if isinstance(value, bool):
            return False
        if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
            return True
        return isinstance(value, str) and bool(_INTEGER.match(value))
    if type_name == "boolean":
        return isinstance(value, bool) or value in ("true", "false")
    if type_name == "object":
        return isinstance(value, Mapping)
    if not isinstance(value, list) or not isinstance(items, Mapping):
        return False
    return all(value_has_type(str(items.get("type", "")), items.get("items"), item) for item in value)


def _items_issues(where: str, items: Any) -> Iterator[ConfigIssue]:
    # project.json `configItemsType`: a type of the five, and `items` again under an array.
    if not isinstance(items, Mapping) or items.get("type") not in CONFIG_TYPES:
        yield ConfigIssue(where, items, "is not a `{type: ...}` item declaration", f"use one of {CONFIG_TYPES}")
    elif items["type"] == "array":
        if "items" not in items:
            yield ConfigIssue(where, dict(items), "declares an array of arrays without `items`", "add `items`")
        else:
            yield from _items_issues(f"{where}.items", items["items"])


def project_issues(project: Mapping[str, Any], source: str = "Pulumi.yaml") -> list[ConfigIssue]:
    """Why the CLI would refuse to load this project file's ``config:`` block (empty when it loads)."""
    name = str(project.get("name", ""))
    issues: list[ConfigIssue] = []
    for key, entry in _config(project).items():
        if entry is None or isinstance(entry, float):
            # project.json: each entry is a string, integer, boolean, array or declaration (oneOf)
            issues.append(ConfigIssue(f"{source} config.{key}", entry, "is not a value or a declaration", "remove it"))
    for key, declaration in _declarations(project).items():
        where = f"{source} config.{key}"
        unknown = sorted(set(declaration) - DECLARATION_FIELDS)
        if unknown:
            issues.append(
                ConfigIssue(
                    where, unknown, "has fields a declaration cannot have", f"keep to {sorted(DECLARATION_FIELDS)}"
                )
            )
        declared = declaration.get("type")
        if declared is not None and declared not in CONFIG_TYPES:
            issues.append(ConfigIssue(where, declared, "is not a config type", f"use one of {CONFIG_TYPES}"))
            continue
        if "default" in declaration and "value" in declaration:
            # project.go Validate
            issues.append(
                ConfigIssue(
                    where,
                    None,
                    f"Pulumi refuses it: \"project config '{key}' cannot have both a 'default' and 'value' attribute\"",
                    "keep one",
                    origin="",
                )
            )
        if _own_namespace(name, key):
            issues.extend(_own_key_issues(where, key, declaration))
        else:
            issues.extend(_foreign_key_issues(where, key, declaration))
    return issues


def _own_key_issues(where: str, key: str, declaration: Mapping[str, Any]) -> Iterator[ConfigIssue]:
    declared, items = declaration.get("type"), declaration.get("items")
    if declared == "array" and items is None:
        # project.go Validate (issues pulumi/pulumi#16056, #18813)
        yield ConfigIssue(
            where,
            dict(declaration),
            f"Pulumi refuses to load the project: \"The configuration key '{key}' declares an array but does not "
            "specify the underlying type via the 'items' attribute\"",
            "add `items: {type: ...}`, or remove the declaration and document the key in docs/configuration.md",
        )
    elif items is not None:
        yield from _items_issues(f"{where}.items", items)
    if (
        declared is not None
        and "default" in declaration
        and not value_has_type(declared, items, declaration["default"])
    ):
        yield ConfigIssue(
            where,
            declaration["default"],
            f"Pulumi refuses it: \"The default value specified for configuration key '{key}' is not of the "
            f"expected type '{_type_name(str(declared), items)}'\"",
            "make the default match the type",
        )


def _foreign_key_issues(where: str, key: str, declaration: Mapping[str, Any]) -> Iterator[ConfigIssue]:
    # project.go Validate: another namespace's key (aws:region) carries a value, never a type or a default.
    if "type" in declaration:
        yield ConfigIssue(
            where,
            declaration["type"],
            f"Pulumi refuses it: \"Configuration key '{key}' is not namespaced by the project and should not define "
            'a type"',
            "remove `type`",
        )
    if "default" in declaration:
        yield ConfigIssue(
            where,
            declaration["default"],
            f"Pulumi refuses it: \"Configuration key '{key}' is not namespaced by the project and should not define "
            'a default value"',
            "use `value` instead of `default`",
        )
    elif "value" not in declaration:
        yield ConfigIssue(
            where,
            None,
            f"Pulumi refuses it: \"Configuration key '{key}' is namespaced and must provide an attribute 'value'\"",
            "give it a `value`, or set it per stack instead",
            origin="",
        )


def _secure_values(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    """Every ciphertext in a stack value: a map whose only key is ``secure`` (config/object.go isSecureValue)."""
    if isinstance(value, Mapping):
        if set(value) == {"secure"} and isinstance(value["secure"], str):
            yield path, value["secure"]
            return
        for key, item in value.items():
            yield from _secure_values(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _secure_values(item, f"{path}[{index}]")


def _decodes(text: str, length: int | None = None, minimum: int = 1) -> bool:
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return False
    return len(data) == length if length is not None else len(data) >= minimum


def _ciphertext_problem(ciphertext: str, document: Mapping[str, Any]) -> str | None:
    """Why no secrets manager could decrypt this ``secure:`` value (None when its shape is a real one).

    passphrase and cloud (awskms, ...) managers: ``v1:<base64 12-byte nonce>:<base64 AES-256-GCM ciphertext>``
    (config/crypt.go symmetricCrypter), keyed by the stack file's ``encryptionsalt`` (pkg/secrets/passphrase) or
    ``encryptedkey`` (pkg/secrets/cloud). Pulumi Cloud: plain base64, and the stack file carries neither
    (pkg/secrets/service/manager.go clears both).
    """
    keyed = bool(document.get("encryptionsalt") or document.get("encryptedkey"))
    if ciphertext.startswith("v1:"):
        parts = ciphertext.split(":")
        if len(parts) != 3 or not _decodes(parts[1], NONCE_BYTES) or not _decodes(parts[2], minimum=GCM_TAG_BYTES):
            return "is not a ciphertext: `v1:` values are `v1:<base64 12-byte nonce>:<base64 ciphertext>`"
        if not keyed:
            return "has no key: the stack file has neither `encryptionsalt` (passphrase) nor `encryptedkey` (KMS)"
        return None
    if not _decodes(ciphertext):
        return "is not a ciphertext of any secrets manager (neither `v1:<nonce>:<ciphertext>` nor base64)"
    if keyed:
        return "is a Pulumi Cloud ciphertext, but the stack file is keyed for a passphrase or KMS secrets manager"
    return None


def stack_file_issues(document: Mapping[str, Any]) -> list[ConfigIssue]:
    """Why the CLI would refuse this stack file's keys or fail to decrypt one of its ``secure:`` values."""
    issues: list[ConfigIssue] = []
    for key, value in _config(document).items():
        if parse_key(str(key)) is None:
            # config/key.go ParseKey, through config/map.go UnmarshalYAML
            name = str(key).rsplit(":", 1)[-1]
            issues.append(
                ConfigIssue(
                    str(key),
                    None,
                    f'Pulumi refuses the stack file: "could not parse {key} as a configuration key (configuration '
                    'keys should be of the form `<namespace>:<name>`)"',
                    f"write it as `<namespace>:{name}`, e.g. `vllm-aws:{name}`",
                    origin="",
                )
            )
        for path, ciphertext in _secure_values(value, str(key)):
            problem = _ciphertext_problem(ciphertext, document)
            if problem is not None:
                issues.append(
                    ConfigIssue(
                        path,
                        "[secure value]",
                        f"{problem}, so no `pulumi` command on this stack can decrypt it",
                        f"set it with `pulumi config set --secret {path} ...` (never hand-edit a `secure:` value)",
                    )
                )
    return issues


def _stack_view(value: Any, nested: bool = False) -> Any:
    """A stack value as the CLI type-checks it (pkg/workspace/config.go validateStackConfigValue).

    A top-level scalar reaches the check as its string form (config/object.go MarshalString); a map or list as
    its JSON, numbers and booleans kept. A ciphertext counts as its plaintext, a string (unknown offline).
    """
    if isinstance(value, Mapping):
        if set(value) == {"secure"}:
            return "[secret]"
        return {str(key): _stack_view(item, nested=True) for key, item in value.items()}
    if isinstance(value, list):
        return [_stack_view(item, nested=True) for item in value]
    if nested or isinstance(value, str) or value is None:
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Go's JSON encoding of a whole float64
    return str(value)


def merged_config_issues(
    project: Mapping[str, Any], stack: str, document: Mapping[str, Any], *, plain_secrets: bool = False
) -> list[ConfigIssue]:
    """Why ``pulumi preview --stack <stack>`` would stop at config: pkg/workspace/config.go ``mergeConfig``.

    ``plain_secrets`` accepts plain values for keys declared ``secret: true`` (offline ``plan --config`` files).
    """
    name = str(project.get("name", ""))
    stack_values = {
        f"{parsed[0]}:{parsed[1]}": value for key, value in _config(document).items() if (parsed := parse_key(str(key)))
    }
    declarations = _declarations(project)
    missing = sorted(
        key
        for key, declaration in declarations.items()
        if _own_namespace(name, key)
        and "default" not in declaration
        and "value" not in declaration
        and _full_key(name, key) not in stack_values
    )
    # Values from ESC environments (`environment:`) cannot be seen offline; they may supply the missing keys.
    if missing and not document.get("environment"):
        quoted = [f"'{key}'" for key in missing]
        listed = quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} and {quoted[-1]}"
        return [
            ConfigIssue(
                f"Pulumi.{stack}.yaml",
                [_full_key(name, key) for key in missing],
                "lacks keys that Pulumi.yaml declares without a default, which Pulumi requires in every stack: "
                f"\"Stack '{stack}' is missing configuration value{'s' if len(missing) > 1 else ''} {listed}\"",
                f"set them in Pulumi.{stack}.yaml (`pulumi config set`), or remove their declarations from Pulumi.yaml",
            )
        ]
    issues: list[ConfigIssue] = []
    for key, declaration in sorted(declarations.items()):
        full = _full_key(name, key)
        if "type" not in declaration or full not in stack_values:
            continue
        value = stack_values[full]
        is_secure = isinstance(value, Mapping) and set(value) == {"secure"}
        if declaration.get("secret") and not is_secure and not plain_secrets:
            issues.append(
                ConfigIssue(
                    full,
                    "[secret]",
                    f"Pulumi refuses it: \"Stack '{stack}' with configuration key '{key}' must be encrypted as it's "
                    'secret"',
                    f"pulumi config set --secret {full} ...",
                )
            )
        elif is_secure and declaration["type"] in ("integer", "boolean"):
            continue  # the plaintext decides, and it cannot be read offline
        elif not value_has_type(str(declaration["type"]), declaration.get("items"), _stack_view(value)):
            type_name = _type_name(str(declaration["type"]), declaration.get("items"))
            issues.append(
                ConfigIssue(
                    full,
                    "[secret]" if is_secure or declaration.get("secret") else value,
                    f"Pulumi refuses it: \"Stack '{stack}' with configuration key '{key}' must be of type "
                    f"'{type_name}'\"",
                    f"give it a {type_name} value",
                )
            )
    return issues


def read_yaml(path: Path) -> dict[str, Any]:
    """A project or stack file as a map ({} when empty); a syntax error is a ConfigIssue, never a traceback."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError.single(str(path), None, f"is not valid YAML ({exc})", "fix the syntax") from None
    if not isinstance(document, dict):
        raise ConfigError.single(str(path), None, "is not a YAML map", "use the Pulumi project/stack file shape")
    return document


def stack_issues(project_file: Path, stack_file: Path, stack: str, *, plain_secrets: bool = False) -> list[ConfigIssue]:
    """Everything the CLI checks before running ``stack``: the project file, the stack file and their merge."""
    project = read_yaml(project_file)
    document = read_yaml(stack_file)
    return [
        *project_issues(project, project_file.name),
        *stack_file_issues(document),
        *merged_config_issues(project, stack, document, plain_secrets=plain_secrets),
    ]
