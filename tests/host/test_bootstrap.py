"""GPU host bootstrap: the rendered cloud-config and its shell scripts, checked by cloud-init and shellcheck.

The scripts themselves run in tests/host/test_bootstrap_script.py (bootstrap.sh with stub tools) and
tests/host/test_mount_cache.py (mount-or-format on real disks). Nothing is ever skipped: a missing tool fails with
the package to install.
"""

from __future__ import annotations

import re
import shlex
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml
from bootstrap_hosts import PUBLIC_KEY, SCRIPTS, SECRET_PATTERNS, SPEC, decoded_files, run
from pydantic import ValidationError
from tools import require_tool, shellcheck

from components.host import bootstrap
from components.host.bootstrap import BootstrapSpec, cache_device_path, render_user_data

# --- rendered user-data -------------------------------------------------------------------------------


def test_user_data_is_cloud_config_with_key_and_parameter_names() -> None:
    text = render_user_data(SPEC)
    assert text.startswith("#cloud-config\n")
    document = yaml.safe_load(text)
    assert document["ssh_authorized_keys"] == [PUBLIC_KEY]
    settings = decoded_files(document)[bootstrap.SETTINGS_FILE]
    assert "/vllm-aws/prod/hf-token" in settings and "/vllm-aws/prod/api-key" in settings
    assert "VLLM_AWS_REGION=eu-west-1" in settings
    assert f"VLLM_AWS_CACHE_DEVICE={cache_device_path(SPEC.cache_volume_id)}" in settings
    assert len(text.encode()) < bootstrap.USER_DATA_LIMIT_BYTES


def test_user_data_installs_the_scripts_verbatim_and_runs_the_bootstrap() -> None:
    document = yaml.safe_load(render_user_data(SPEC))
    files = decoded_files(document)
    assert files[bootstrap.BOOTSTRAP_PATH] == bootstrap.bootstrap_script() == SCRIPTS["bootstrap.sh"].read_text()
    assert files[bootstrap.MOUNT_CACHE_PATH] == bootstrap.mount_cache_script() == SCRIPTS["mount-cache.sh"].read_text()
    modes = {entry["path"]: (entry["permissions"], entry["owner"]) for entry in document["write_files"]}
    assert modes[bootstrap.BOOTSTRAP_PATH] == modes[bootstrap.MOUNT_CACHE_PATH] == ("0755", "root:root")
    assert f"ExecStart={bootstrap.BOOTSTRAP_PATH} {bootstrap.SETTINGS_FILE}" in files[bootstrap.SYSTEMD_UNIT_PATH]
    assert document["runcmd"][-1] == [bootstrap.BOOTSTRAP_PATH, bootstrap.SETTINGS_FILE]
    assert ["systemctl", "enable", bootstrap.SYSTEMD_UNIT] in document["runcmd"]
    # Unused images are pruned daily; the timer is enabled before the bootstrap runs (#14).
    assert ["systemctl", "enable", "--now", f"{bootstrap.PRUNE_UNIT}.timer"] in document["runcmd"]
    assert "docker image prune --all --force --filter until=168h" in files[bootstrap.PRUNE_SERVICE_PATH]
    assert "OnCalendar=daily" in files[bootstrap.PRUNE_TIMER_PATH]
    assert f"Unit={bootstrap.PRUNE_UNIT}.service" in files[bootstrap.PRUNE_TIMER_PATH]
    # A reboot must not present the previous boot's ready marker before the bootstrap re-runs.
    assert f"r {bootstrap.READY_MARKER}" in files[bootstrap.TMPFILES_PATH].splitlines()


def test_user_data_is_deterministic() -> None:
    # gzip without a timestamp: re-rendering must not change user-data (that would replace the instance).
    assert render_user_data(SPEC) == render_user_data(SPEC.model_copy())


@pytest.mark.parametrize(
    "update",
    [
        {},
        {"ssh_user": "deploy"},
        {"secret_parameters": {}, "region": "ap-southeast-2", "driver": None},
        {"gpu": False, "packages": ("docker", "amazon-cloudwatch-agent")},
        {"secret_parameters": {"VLLM_API_KEY": "/vllm-aws/stack.with-dots_and-dashes/api-key"}},
    ],
)
def test_libyaml_and_pure_python_emitters_write_the_same_user_data(update: dict[str, Any]) -> None:
    # User-data replaces the host when it changes: it must not depend on whether the deploying machine's PyYAML
    # has libyaml (its wheels do; a source build may not). Without libyaml both sides are the pure emitter.
    spec = SPEC.model_copy(update=update)
    assert render_user_data(spec) == render_user_data(spec, pure_python=True)


def test_user_data_holds_no_secret_value() -> None:
    text = render_user_data(SPEC)
    everything = text + "".join(decoded_files(yaml.safe_load(text)).values())
    for pattern in SECRET_PATTERNS:
        assert not re.search(pattern, everything), pattern


def test_custom_ssh_user_gets_the_key() -> None:
    document = yaml.safe_load(render_user_data(SPEC.model_copy(update={"ssh_user": "deploy"})))
    assert "ssh_authorized_keys" not in document
    assert document["users"][0] == "default"
    assert document["users"][1]["name"] == "deploy"
    assert document["users"][1]["ssh_authorized_keys"] == [PUBLIC_KEY]
    assert "VLLM_AWS_SSH_USER=deploy" in decoded_files(document)[bootstrap.SETTINGS_FILE]


def test_cache_device_path() -> None:
    assert (
        cache_device_path("vol-0abc1234def567890")
        == "/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0abc1234def567890"
    )
    with pytest.raises(ValueError, match="EBS volume id"):
        cache_device_path("/dev/nvme1n1")


@pytest.mark.parametrize(
    ("update", "message"),
    [
        ({"cache_volume_id": "vol-XYZ"}, "EBS volume id"),
        ({"region": "eu west"}, "AWS region"),
        ({"ssh_public_key": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA\n"}, "private key"),
        ({"ssh_public_key": "AAAAC3NzaC1lZDI1NTE5"}, "OpenSSH public key"),
        ({"secret_parameters": {"HF_TOKEN": "hf_abcdefghijklmnopqrstuvwxyz123456"}}, "looks like a secret value"),
        ({"secret_parameters": {"hf-token": "/p"}}, "environment variable name"),
        ({"secret_parameters": {"HF_TOKEN": "/p/$(reboot)"}}, "not an SSM parameter name"),
        ({"ssh_user": "Root Admin"}, "Linux user name"),
    ],
)
def test_spec_rejects_bad_input_without_echoing_secrets(update: dict[str, Any], message: str) -> None:
    fields = SPEC.model_dump() | update
    with pytest.raises(ValidationError, match=message) as excinfo:
        BootstrapSpec(**fields)
    assert "hf_abcdefghij" not in str(excinfo.value)
    assert "b3BlbnNzaC1rZXktdjEAAAA" not in str(excinfo.value)


def test_spec_is_frozen_and_closed() -> None:
    with pytest.raises(ValidationError):
        BootstrapSpec.model_validate({**SPEC.model_dump(), "hf_token": "x"})
    with pytest.raises(ValidationError):
        SPEC.region = "us-east-1"  # type: ignore[misc]


def test_cloud_init_schema_accepts_the_user_data(tmp_path: Path) -> None:
    cloud_init = require_tool("cloud-init", "cloud-init")
    for name, spec in {"default": SPEC, "custom-user": SPEC.model_copy(update={"ssh_user": "deploy"})}.items():
        path = tmp_path / f"{name}.yaml"
        path.write_text(render_user_data(spec))
        result = run(cloud_init, "schema", "--config-file", path, check=False)
        assert result.returncode == 0 and "Valid cloud-config" in result.stdout, result.stdout + result.stderr


def test_cloud_init_schema_really_validates(tmp_path: Path) -> None:
    # Guards the test above: the installed schema must reject a wrong type.
    cloud_init = require_tool("cloud-init", "cloud-init")
    path = tmp_path / "bad.yaml"
    path.write_text("#cloud-config\nwrite_files: 5\n")
    assert run(cloud_init, "schema", "--config-file", path, check=False).returncode != 0


# --- shellcheck ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_script_passes_shellcheck(name: str) -> None:
    result = run(shellcheck(), "--severity=style", SCRIPTS[name], check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_runcmd_is_argv_lists_and_passes_shellcheck(tmp_path: Path) -> None:
    commands = yaml.safe_load(render_user_data(SPEC))["runcmd"]
    # argv lists: cloud-init quotes each word, so no shell parsing is involved...
    assert all(isinstance(c, list) and all(isinstance(w, str) for w in c) for c in commands)
    # ...and the script cloud-init writes from them is still clean sh.
    script = tmp_path / "runcmd.sh"
    script.write_text("#!/bin/sh\n" + "".join(shlex.join(c) + "\n" for c in commands))
    result = run(shellcheck(), "--severity=style", script, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_scripts_are_executable_bash_with_strict_mode(name: str) -> None:
    path = SCRIPTS[name]
    assert path.stat().st_mode & stat.S_IXUSR
    text = path.read_text()
    assert text.startswith("#!/usr/bin/env bash\n")
    assert re.search(r"^set -E?euo pipefail$", text, re.MULTILINE)
