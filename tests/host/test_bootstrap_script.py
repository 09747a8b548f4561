"""bootstrap.sh on a fake host: stub nvidia-smi, nvidia-ctk, docker, aws and mount script, every path under tmp.

Every phase runs, secrets are written privately (one file per secret, byte for byte from SSM to vLLM), a failure
leaves the host not ready, the driver the image's CUDA needs is enforced; and end to end, the installed mount
script gets the device and mountpoint.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
from pathlib import Path

import pytest
from bootstrap_hosts import (
    FSTAB_LINE,
    IMAGE_MIB,
    ISO_LOG_LINE,
    SCRIPTS,
    SPEC,
    STUB_SECRETS,
    BootstrapHost,
    make_bootstrap_host,
    run,
    set_parameter,
)
from secret_stubs import CANARY, HOSTILE_VALUES, read_vllm_dump, write_vllm_stub

from components.host import bootstrap
from components.host.bootstrap import cache_device_path
from components.serving import container_spec

# --- bootstrap.sh with stub tools ---------------------------------------------------------------------


@pytest.fixture
def bootstrap_host(tmp_path: Path) -> BootstrapHost:
    return make_bootstrap_host(tmp_path)


def test_bootstrap_runs_every_phase_and_writes_secrets_privately(bootstrap_host: BootstrapHost) -> None:
    host = bootstrap_host
    for _ in range(2):  # idempotent: the second run (a reboot) gives the same result
        result = host.run()
        assert result.returncode == 0, result.stdout + result.stderr
    # One file per secret, named after its variable, holding the value and nothing else (no KEY=, no newline).
    assert {p.name: p.read_text() for p in host.secrets.iterdir()} == {
        "HF_TOKEN": STUB_SECRETS["/vllm-aws/prod/hf-token"],
        "VLLM_API_KEY": STUB_SECRETS["/vllm-aws/prod/api-key"],
    }
    assert stat.S_IMODE(host.secrets.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in host.secrets.iterdir())
    assert (host.root / "lib/ready").exists()
    assert (host.root / "cache/huggingface").is_dir() and (host.root / "cache/vllm").is_dir()

    log = (host.root / "log/bootstrap.log").read_text()
    for value in STUB_SECRETS.values():
        assert value not in log and value not in result.stdout and value not in result.stderr
    assert all(ISO_LOG_LINE.match(line) for line in log.splitlines() if "phase=" in line)
    done = [m.group(1) for m in re.finditer(r"phase=(\S+) done in \d+s", result.stdout)]
    assert done == ["verify-gpu-stack", "docker-group", "mount-cache", "cache-dirs", "fetch-secrets", "ready"]

    calls = host.calls
    assert "nvidia-smi -L" in calls and "nvidia-ctk --version" in calls and "docker info" in calls
    assert "usermod -aG docker ubuntu" in calls
    device = cache_device_path(SPEC.cache_volume_id)
    assert f"mount-cache {device} {host.root / 'cache'} {bootstrap.DEVICE_WAIT_SECONDS}" in calls
    assert (
        "aws ssm get-parameter --region eu-west-1 --name /vllm-aws/prod/hf-token --with-decryption "
        "--query Parameter.Value --output text"
    ) in calls


def test_bootstrap_failure_leaves_host_not_ready(bootstrap_host: BootstrapHost) -> None:
    host = bootstrap_host
    assert host.run().returncode == 0
    host.settings.write_text(
        host.settings.read_text().replace("VLLM_API_KEY=/vllm-aws/prod/api-key", "VLLM_API_KEY=/missing")
    )
    result = host.run()
    assert result.returncode != 0
    assert not (host.root / "lib/ready").exists()  # the previous boot's marker does not survive a failed run
    assert "FAILED phase=fetch-secrets" in (host.root / "log/bootstrap.log").read_text()
    # The previous secret files are kept whole; the half-written temp file is gone.
    assert sorted(p.name for p in host.secrets.iterdir()) == ["HF_TOKEN", "VLLM_API_KEY"]
    assert STUB_SECRETS["/vllm-aws/prod/hf-token"] not in result.stdout + result.stderr


@pytest.mark.parametrize("value", list(HOSTILE_VALUES.values()), ids=list(HOSTILE_VALUES))
def test_a_secret_reaches_vllm_byte_for_byte_from_ssm(bootstrap_host: BootstrapHost, value: str) -> None:
    """SSM (stub CLI) -> the real bootstrap -> the secret files -> the real entrypoint -> `vllm` (stub): same bytes."""
    host = bootstrap_host
    for parameter in STUB_SECRETS:
        set_parameter(host.ssm, parameter, value)
    result = host.run()
    assert result.returncode == 0, result.stdout + result.stderr
    expected = value.encode("utf-8")
    assert (host.secrets / "VLLM_API_KEY").read_bytes() == expected
    assert (host.secrets / "HF_TOKEN").read_bytes() == expected

    entrypoint = host.root / "entrypoint"
    entrypoint.write_text(container_spec.entrypoint_script())
    write_vllm_stub(host.root / "bin", host.root / "vllm.json")
    marker = host.root / "warm"
    marker.touch()
    served = subprocess.run(
        ["bash", str(entrypoint), "org/model", "--served-model-name", "m"],
        cwd=host.root,
        env={
            "PATH": f"{host.root / 'bin'}:/usr/bin:/bin",
            container_spec.SECRETS_DIR_ENV: str(host.secrets),
            container_spec.WARM_MARKER_ENV: str(marker),
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert served.returncode == 0, served.stderr
    argv, env = read_vllm_dump(host.root / "vllm.json")
    assert argv == ["serve", "org/model", "--served-model-name", "m"]
    assert env["VLLM_API_KEY"] == expected and env["HF_TOKEN"] == expected
    assert not (host.root / CANARY).exists()  # nothing evaluated the value
    if len(value.strip()) >= 8:
        outputs = result.stdout + result.stderr + served.stdout + served.stderr
        assert value not in outputs and value not in (host.root / "log/bootstrap.log").read_text()


def test_bootstrap_keeps_only_the_configured_secrets(bootstrap_host: BootstrapHost) -> None:
    host = bootstrap_host
    assert host.run().returncode == 0
    host.settings.write_text(host.settings.read_text().replace("HF_TOKEN=/vllm-aws/prod/hf-token ", ""))
    (host.secrets / ".VLLM_API_KEY.AbC123").write_text("left by a run cut short")
    result = host.run()
    assert result.returncode == 0, result.stdout + result.stderr
    assert [p.name for p in host.secrets.iterdir()] == ["VLLM_API_KEY"]
    assert "removed HF_TOKEN: no longer configured" in result.stdout


def test_an_owned_secret_is_read_only_to_its_user_and_the_rest_stay_roots(bootstrap_host: BootstrapHost) -> None:
    """The webhook URL's file belongs to Alertmanager's user (nobody, 65534), read-only; no other file changes."""
    host = bootstrap_host
    host.settings.write_text(host.settings.read_text() + "VLLM_AWS_SECRET_OWNERS='HF_TOKEN=65534'\n")
    result = host.run()
    assert result.returncode == 0, result.stdout + result.stderr
    owned, private = (host.secrets / "HF_TOKEN").stat(), (host.secrets / "VLLM_API_KEY").stat()
    assert (owned.st_uid, stat.S_IMODE(owned.st_mode)) == (65534, 0o400)
    assert (private.st_uid, stat.S_IMODE(private.st_mode)) == (os.getuid(), 0o600)
    assert stat.S_IMODE(host.secrets.stat().st_mode) == 0o700


def test_bootstrap_refuses_output_that_is_not_a_value(bootstrap_host: BootstrapHost) -> None:
    # The CLI always ends a text value with a newline; without it the output is not what the parser expects.
    host = bootstrap_host
    stub = host.root / "bin/aws"
    stub.write_text(stub.read_text().replace('printf "\\n"; ', ""))
    result = host.run()
    assert result.returncode != 0
    assert "the AWS CLI printed no value for SSM parameter" in result.stdout
    assert not host.secrets.exists() or not any(host.secrets.iterdir())


@pytest.mark.parametrize(
    ("driver", "ready"),
    [
        ("595.71.05", True),  # the current DLAMI
        ("580.65.06", True),  # exactly the minimum of CUDA 13.0
        ("580.65.6", True),  # the same version without the zero padding
        ("1000.1.2", True),
        ("580.9.1", False),  # 9 < 65: compared as numbers, not as text
        ("575.57.08", False),  # CUDA 12.9's driver, e.g. an older pinned DLAMI
        ("570.133.20", False),
    ],
)
def test_bootstrap_fails_below_the_driver_the_images_cuda_needs(
    bootstrap_host: BootstrapHost, driver: str, ready: bool
) -> None:
    host = bootstrap_host
    host.env["STUB_DRIVER_VERSION"] = driver
    result = host.run()
    assert (result.returncode == 0) is ready, result.stdout + result.stderr
    assert (host.root / "lib/ready").exists() is ready
    assert "nvidia-smi --query-gpu=driver_version --format=csv,noheader" in host.calls
    log = (host.root / "log/bootstrap.log").read_text()
    if ready:
        assert f"NVIDIA driver {driver} (CUDA 13.0 needs 580.65.06 or newer)" in log
    else:
        # What the readiness gate shows from the log: the driver found, the one needed, the fix.
        assert (
            f"NVIDIA driver {driver} is too old: the vLLM image is built on CUDA 13.0, which needs driver "
            "580.65.06 or newer. Fix: use a newer Deep Learning AMI (remove vllm-aws:amiId" in log
        )
        assert "FAILED phase=verify-gpu-stack" in log
        assert "phase=mount-cache" not in log  # nothing after the failed check ran


def test_bootstrap_without_a_driver_requirement_does_not_query_it(bootstrap_host: BootstrapHost) -> None:
    host = bootstrap_host
    host.settings.write_text(
        host.settings.read_text().replace("VLLM_AWS_MIN_DRIVER_VERSION=580.65.06", "VLLM_AWS_MIN_DRIVER_VERSION=''")
    )
    host.env["STUB_DRIVER_VERSION"] = "470.1.1"
    assert host.run().returncode == 0
    assert "--query-gpu=driver_version" not in host.calls


def test_an_unreadable_driver_version_fails_with_what_nvidia_smi_printed(bootstrap_host: BootstrapHost) -> None:
    host = bootstrap_host
    host.env["STUB_DRIVER_VERSION"] = "[N/A]"
    assert host.run().returncode != 0
    assert (
        "could not read the NVIDIA driver version: nvidia-smi printed '[N/A]'"
        in (host.root / "log/bootstrap.log").read_text()
    )


def test_bootstrap_drives_the_real_mount_script(bootstrap_host: BootstrapHost) -> None:
    # End to end through the settings file: the installed mount script gets the device and mountpoint.
    host = bootstrap_host
    image = host.root / "volume.img"
    with image.open("wb") as f:
        f.truncate(IMAGE_MIB * 2**20)
    text = host.settings.read_text()
    text = text.replace(str(host.root / "bin/mount-cache"), str(SCRIPTS["mount-cache.sh"]))
    text = text.replace(cache_device_path(SPEC.cache_volume_id), str(image))
    host.settings.write_text(text)
    fstab = host.root / "fstab"
    host.env |= {"FSTAB": str(fstab), "VLLM_AWS_SKIP_MOUNT": "1"}
    result = host.run()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "TYPE=ext4" in run("blkid", "--probe", "--output", "export", image).stdout
    (line,) = fstab.read_text().splitlines()
    assert (m := FSTAB_LINE.match(line)) and m["mp"] == str(host.root / "cache")
    assert "mount-cache: no signature" in (host.root / "log/bootstrap.log").read_text()
