"""Where the config comes from: ``pulumi.Config`` under ``pulumi up`` (the ONLY reader of it in the package), or a
file of the ``Pulumi.<stack>.yaml`` shape offline (``python -m components plan --config FILE``).

Both go through the same models (:mod:`.schema`) and messages (:mod:`.translate`), so the CLI and ``pulumi up``
reject exactly the same inputs with exactly the same messages.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

import pulumi
from pydantic import SecretStr

from ..errors import NAMESPACE, ConfigError, ConfigIssue
from .project_rules import parse_key, read_yaml, stack_file_issues
from .schema import SECRET_KEYS, SECRET_PLACEHOLDER, WEBHOOK_KEY, OutputSecret, SecretValue, StackConfig
from .translate import parse_stack_config


def _config_map(path: Path) -> dict[str, Any]:
    """The ``config:`` map of a stack file, refused as the Pulumi CLI would refuse it (a key not of the form
    ``<namespace>:<name>``, a ``secure:`` value no secrets manager can decrypt): a ConfigError."""
    document = read_yaml(path)
    if not isinstance(document.get("config"), dict):
        raise ConfigError(
            [ConfigIssue(f"{path}:config", None, "has no `config:` map", "use the Pulumi.<stack>.yaml shape")]
        )
    issues = stack_file_issues(document)
    if issues:
        raise ConfigError(issues)
    config: dict[str, Any] = document["config"]
    return config


def _is_encrypted(value: object) -> bool:
    return isinstance(value, dict) and set(value) == {"secure"}


def anchored_paths(models: object, config_dir: Path) -> object:
    """``models`` with each relative ``architecture.configJson`` made absolute against ``config_dir``.

    The path is relative to the config file (issue #12), wherever the plan runs from: ``plan --config
    /elsewhere/Pulumi.x.yaml`` runs the program in the project directory. Under ``pulumi up`` the stack file is in
    the project directory, which is the program's working directory, so the two agree without this.
    """
    if not isinstance(models, list):
        return models
    anchored: list[object] = []
    for model in models:
        architecture = model.get("architecture") if isinstance(model, dict) else None
        path = architecture.get("configJson") if isinstance(architecture, dict) else None
        relative = isinstance(path, str) and bool(path) and not Path(path).is_absolute()
        if isinstance(model, dict) and isinstance(architecture, dict) and relative:
            anchored.append({**model, "architecture": {**architecture, "configJson": str(config_dir / str(path))}})
        else:
            anchored.append(model)
    return anchored


def _plain_webhook_issue() -> ConfigError:
    """The webhook URL in plain text, which Pulumi would keep readable in the stack file and in state."""
    return ConfigError.single(
        f"{NAMESPACE}:{WEBHOOK_KEY}",
        SECRET_PLACEHOLDER,
        "is stored in plain text; the URL usually carries the receiving service's token, so it must be a Pulumi "
        "secret (encrypted in the stack file and in state)",
        f"`pulumi config set --secret {NAMESPACE}:{WEBHOOK_KEY} https://...`",
    )


def raw_from_stack_file(path: Path) -> tuple[dict[str, Any], list[str]]:
    """Read a ``Pulumi.<stack>.yaml``-shaped file into un-namespaced keys.

    Returns the raw map and the keys that are secrets. ``secure:`` values cannot be decrypted offline and
    become the placeholder ``[secret]``; plain values of secret keys are kept (for offline checks) but
    treated as secrets from here on. A relative ``configJson`` is made relative to the file's directory
    (:func:`anchored_paths`). A file the Pulumi CLI would refuse is a ConfigError.
    """
    raw: dict[str, Any] = {}
    secret_keys: list[str] = []
    for full_key, value in _config_map(path).items():
        namespace, key = parse_key(str(full_key)) or ("", "")
        if (namespace, key) == ("aws", "region"):
            raw["aws:region"] = value
        elif namespace == NAMESPACE:
            if key == WEBHOOK_KEY and not _is_encrypted(value):
                raise _plain_webhook_issue()
            if _is_encrypted(value) or key in SECRET_KEYS:
                secret_keys.append(key)
            raw[key] = SECRET_PLACEHOLDER if _is_encrypted(value) else value
    if "models" in raw:
        raw["models"] = anchored_paths(raw["models"], path.resolve().parent)
    return raw, secret_keys


def read_stack_file(path: Path) -> tuple[dict[str, Any], list[str]]:
    """Every key of a ``Pulumi.<stack>.yaml``-shaped file, fully qualified (``<namespace>:<name>``), for any
    program (:func:`components.cli.program.run_offline`), and the keys that are secrets: ``secure:`` values (the
    placeholder ``[secret]`` offline) and the ``vllm-aws`` secret keys. A relative ``configJson`` is made relative
    to the file's directory (:func:`anchored_paths`)."""
    raw: dict[str, Any] = {}
    secret_keys: list[str] = []
    for full_key, value in _config_map(path).items():
        namespace, key = parse_key(str(full_key)) or ("", "")
        if _is_encrypted(value) or (namespace == NAMESPACE and key in SECRET_KEYS):
            secret_keys.append(f"{namespace}:{key}")
        raw[f"{namespace}:{key}"] = SECRET_PLACEHOLDER if _is_encrypted(value) else value
    models_key = f"{NAMESPACE}:models"
    if models_key in raw:
        raw[models_key] = anchored_paths(raw[models_key], path.resolve().parent)
    return raw, secret_keys


def to_pulumi_config(raw: Mapping[str, Any]) -> dict[str, str]:
    """Raw keys -> the fully qualified, JSON-encoded map ``pulumi.runtime.set_all_config`` expects."""
    out: dict[str, str] = {}
    for key, value in raw.items():
        full_key = key if ":" in key else f"{NAMESPACE}:{key}"
        out[full_key] = value if isinstance(value, str) else json.dumps(value)
    return out


def load_stack_config() -> StackConfig:
    """Read and validate the stack's config through ``pulumi.Config`` (the ``pulumi up`` path)."""
    config = pulumi.Config(NAMESPACE)
    raw: dict[str, Any] = {}
    for full_key in _all_config_keys():
        namespace, _, key = full_key.partition(":")
        if namespace != NAMESPACE or key in SECRET_KEYS:
            continue
        value = config.get(key)
        try:
            raw[key] = json.loads(value) if value is not None else None
        except json.JSONDecodeError:
            raw[key] = value  # a plain string such as the image
    region = pulumi.Config("aws").get("region")
    if region is not None:
        raw["aws:region"] = region
    for key in SECRET_KEYS:
        # What get_secret reads too (pulumi/config.py: Output.secret(self.get(key))), kept as a SecretStr so the
        # value is validated like a plain file's before anything is registered; secret_output marks it secret.
        secret = config.get(key)
        if secret is not None:
            if key == WEBHOOK_KEY and not _is_secret_key(f"{NAMESPACE}:{key}"):
                raise _plain_webhook_issue()
            raw[key] = SecretStr(secret)
    return parse_stack_config(raw)


def _is_secret_key(full_key: str) -> bool:
    # `pulumi up`: the Python language host lists the secret keys in PULUMI_CONFIG_SECRET_KEYS (pulumi/pulumi
    # sdk/python/cmd/pulumi-language-python/main.go); under mocks set_all_config holds them.
    return pulumi.runtime.is_config_secret(full_key) or full_key in pulumi.runtime.get_config_secret_keys_env()


def _all_config_keys() -> list[str]:
    # pulumi.Config cannot list keys, yet unknown keys must be rejected: read the runtime's config map
    # (set by the language host through PULUMI_CONFIG, or by set_all_config under mocks).
    keys = set(pulumi.runtime.config.CONFIG.get()) | set(pulumi.runtime.config.get_config_env())
    return sorted(keys)


def secret_output(value: SecretValue | pulumi.Output[str]) -> pulumi.Output[str]:
    """A secret config value as a Pulumi secret Output, whichever way it was loaded."""
    if isinstance(value, SecretStr):
        return pulumi.Output.secret(value.get_secret_value())
    if isinstance(value, OutputSecret):
        return pulumi.Output.secret(cast(pulumi.Output[str], value.output))
    return pulumi.Output.secret(value)
