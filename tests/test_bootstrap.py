"""GPU host bootstrap: the rendered cloud-config, its shell scripts, and the mount-or-format script on real disks.

The disk tests make real ext4/vfat/GPT images with the real tools. As root with loop devices (CI, here)
they attach each image with ``losetup`` and let the script really mount it; elsewhere they run the same
script with ``VLLM_AWS_SKIP_MOUNT=1`` on the image file and read the data back with ``debugfs``. Both modes
run where loop devices exist, so the fallback itself stays tested. Nothing is ever skipped: a missing tool
fails with the package to install.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import hashlib
import os
import re
import shlex
import shutil
import stat
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError
from secret_stubs import CANARY, HOSTILE_VALUES, read_vllm_dump, write_vllm_stub
from tools import require_tool, shellcheck

from components import bootstrap, containers
from components.bootstrap import BootstrapSpec, cache_device_path, render_user_data
from components.cuda import driver_requirement

PACKAGE_DIR = Path(bootstrap.__file__).parent
SCRIPTS = {"bootstrap.sh": PACKAGE_DIR / "bootstrap.sh", "mount-cache.sh": PACKAGE_DIR / "mount-cache.sh"}
PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB5xOAJRGHbhW9I7Sm0uPQeZq6pAJ4Ck6QkR4hQ3AKuX ops@example"
SPEC = BootstrapSpec(
    cache_volume_id="vol-0123456789abcdef0",
    ssh_public_key=PUBLIC_KEY,
    region="eu-west-1",
    secret_parameters={"HF_TOKEN": "/vllm-aws/prod/hf-token", "VLLM_API_KEY": "/vllm-aws/prod/api-key"},
    driver=driver_requirement("vllm/vllm-openai:v0.33.0"),
)
# What a leaked credential would look like in user-data.
SECRET_PATTERNS = [
    r"hf_[A-Za-z0-9]{20,}",
    r"sk-[A-Za-z0-9_-]{20,}",
    r"AKIA[0-9A-Z]{16}",
    r"PRIVATE KEY",
    r"aws_secret_access_key",
]
FSTAB_LINE = re.compile(r"^UUID=(?P<uuid>[0-9a-f-]{36}) (?P<mp>\S+) ext4 defaults,nofail,noatime 0 2$")
ISO_LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ elapsed=\d+s uptime=\d+s ")


def run(*args: str | Path, env: dict[str, str] | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True, env=env, check=False)
    if check and result.returncode != 0:
        raise AssertionError(
            f"{shlex.join(map(str, args))} failed ({result.returncode}):\n{result.stdout}{result.stderr}"
        )
    return result


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def decoded_files(document: dict[str, Any]) -> dict[str, str]:
    files = {}
    for entry in document["write_files"]:
        content = entry["content"]
        if entry.get("encoding") == "gz+b64":
            content = gzip.decompress(base64.b64decode(content)).decode("utf-8")
        files[entry["path"]] = content
    return files


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
    # A reboot must not present the previous boot's ready marker before the bootstrap re-runs.
    assert f"r {bootstrap.READY_MARKER}" in files[bootstrap.TMPFILES_PATH].splitlines()


def test_user_data_is_deterministic() -> None:
    # gzip without a timestamp: re-rendering must not change user-data (that would replace the instance).
    assert render_user_data(SPEC) == render_user_data(SPEC.model_copy())


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


# --- bootstrap.sh with stub tools ---------------------------------------------------------------------

STUB_SECRETS = {
    "/vllm-aws/prod/hf-token": "hf_StubTokenValue0123456789abcdef",
    "/vllm-aws/prod/api-key": "k3y=with=equals",
}


def write_stub(path: Path, body: str) -> None:
    path.write_text("#!/usr/bin/env bash\nset -euo pipefail\n" + body)
    path.chmod(0o755)


def set_parameter(ssm: Path, name: str, value: str) -> None:
    (ssm / name.replace("/", "%")).write_bytes(value.encode("utf-8"))


@dataclass
class BootstrapHost:
    root: Path
    settings: Path
    env: dict[str, str]
    ssm: Path

    @property
    def secrets(self) -> Path:
        return self.root / "etc/secrets"

    @property
    def calls(self) -> str:
        path = self.root / "calls.log"
        return path.read_text() if path.exists() else ""

    def run(self) -> subprocess.CompletedProcess[str]:
        # In its own directory: where a command hidden in a secret value would leave its file.
        command = ["bash", str(SCRIPTS["bootstrap.sh"]), str(self.settings)]
        return subprocess.run(command, cwd=self.root, env=self.env, capture_output=True, text=True, check=False)


@pytest.fixture
def bootstrap_host(tmp_path: Path) -> BootstrapHost:
    """A fake host: stub nvidia-smi/nvidia-ctk/docker/usermod/aws/mount script, every path under tmp_path."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls.log"
    for tool in ("nvidia-ctk", "docker", "usermod"):
        write_stub(bin_dir / tool, f'echo "{tool} $*" >>{calls}\necho "{tool} ok"\n')
    # One line per GPU for the driver query (two GPUs here), as the real nvidia-smi prints it.
    write_stub(
        bin_dir / "nvidia-smi",
        f'echo "nvidia-smi $*" >>{calls}\n'
        "if [[ $* == *--query-gpu=driver_version* ]]; then\n"
        '    printf "%s\\n%s\\n" "$STUB_DRIVER_VERSION" "$STUB_DRIVER_VERSION"\n'
        'else\n    echo "GPU 0: NVIDIA L4"\nfi\n',
    )
    # Like `aws ssm get-parameter ... --query Parameter.Value --output text`: the value, then one newline
    # (aws/aws-cli awscli/text.py _format_text). Values are files, so any byte can be served.
    ssm = tmp_path / "ssm"
    ssm.mkdir()
    for parameter, value in STUB_SECRETS.items():
        set_parameter(ssm, parameter, value)
    write_stub(
        bin_dir / "aws",
        f'echo "aws $*" >>{calls}\n'
        "while [[ $# -gt 0 && $1 != --name ]]; do shift; done\n"
        f'value={ssm}/"${{2//\\//%}}"\n'
        'if [[ -f $value ]]; then cat -- "$value"; printf "\\n"; else echo "ParameterNotFound: $2" >&2; exit 254; fi\n',
    )
    mount_stub = bin_dir / "mount-cache"
    write_stub(mount_stub, f'echo "mount-cache $*" >>{calls}\n')
    settings = tmp_path / "bootstrap.env"
    text = bootstrap.settings_env(SPEC)
    for old, new in [
        (bootstrap.SECRETS_DIR, tmp_path / "etc/secrets"),
        (bootstrap.READY_MARKER, tmp_path / "lib/ready"),
        (bootstrap.BOOTSTRAP_LOG, tmp_path / "log/bootstrap.log"),
        (bootstrap.MOUNT_CACHE_PATH, mount_stub),
        (bootstrap.CACHE_MOUNT, tmp_path / "cache"),
    ]:
        text = text.replace(old, str(new))
    settings.write_text(text + "VLLM_AWS_SSM_ATTEMPTS=2\n")
    # The driver of the current Deep Learning Base AMI (Ubuntu 24.04, 2026-07 release notes).
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "STUB_DRIVER_VERSION": "595.71.05"}
    return BootstrapHost(tmp_path, settings, env, ssm)


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
    entrypoint.write_text(containers.entrypoint_script())
    write_vllm_stub(host.root / "bin", host.root / "vllm.json")
    marker = host.root / "warm"
    marker.touch()
    served = subprocess.run(
        ["bash", str(entrypoint), "org/model", "--served-model-name", "m"],
        cwd=host.root,
        env={
            "PATH": f"{host.root / 'bin'}:/usr/bin:/bin",
            containers.SECRETS_DIR_ENV: str(host.secrets),
            containers.WARM_MARKER_ENV: str(marker),
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


# --- mount-cache.sh against real filesystem images ----------------------------------------------------

IMAGE_MIB = 64


def loop_devices_usable() -> bool:
    if os.geteuid() != 0 or not Path("/dev/loop-control").exists() or shutil.which("losetup") is None:
        return False
    return subprocess.run(["losetup", "--find"], capture_output=True, check=False).returncode == 0


LOOP = loop_devices_usable()
# Online ext4 resize (EXT4_IOC_RESIZE_FS) needs CAP_SYS_RESOURCE, which some containers drop even for root.
CAP_SYS_RESOURCE = 24
CAN_RESIZE_ONLINE = bool(
    int(re.search(r"^CapEff:\s*([0-9a-f]+)$", Path("/proc/self/status").read_text(), re.MULTILINE)[1], 16)  # type: ignore[index]
    & (1 << CAP_SYS_RESOURCE)
)


@dataclass
class Disk:
    """One image file presented to the script: a loop device (real mounts) or the file itself (fallback)."""

    image: Path
    mountpoint: Path
    fstab: Path
    loop: bool
    device: str = ""

    def script(self, *extra: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "FSTAB": str(self.fstab)}
        if not self.loop:
            env["VLLM_AWS_SKIP_MOUNT"] = "1"
        return run("bash", SCRIPTS["mount-cache.sh"], self.device, self.mountpoint, *extra, env=env, check=False)

    def fstab_lines_for_mountpoint(self) -> list[str]:
        return [line for line in self.fstab.read_text().splitlines() if f" {self.mountpoint} " in line]

    def uuid(self) -> str:
        return run("blkid", "--probe", "--match-tag", "UUID", "--output", "value", self.image).stdout.strip()

    def mounted(self) -> bool:
        return run("findmnt", "--mountpoint", self.mountpoint, check=False).returncode == 0

    def unmount(self) -> None:
        if self.loop and self.mounted():
            run("umount", self.mountpoint)

    def read_file(self, name: str) -> bytes:
        """A file's bytes straight from the image, without mounting it (ext4 via debugfs)."""
        self.unmount()
        debugfs = require_tool("debugfs", "e2fsprogs")
        result = subprocess.run([debugfs, "-R", f"cat /{name}", str(self.image)], capture_output=True, check=True)
        return result.stdout


@pytest.fixture(params=["loop-device", "image-file"])
def disk(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Disk]:
    """A blank 64 MiB image, as a loop device when possible; always unmounted and detached afterwards."""
    for tool, package in [("mkfs.ext4", "e2fsprogs"), ("wipefs", "util-linux"), ("blkid", "util-linux")]:
        require_tool(tool, package)
    loop = request.param == "loop-device" and LOOP
    if request.param == "loop-device" and not LOOP:
        print("loop devices unavailable (needs root and /dev/loop-control): using the image-file fallback")
    image = tmp_path / "cache.img"
    with image.open("wb") as f:
        f.truncate(IMAGE_MIB * 2**20)
    disk = Disk(image=image, mountpoint=tmp_path / "mnt" / "vllm-cache", fstab=tmp_path / "fstab", loop=loop)
    disk.fstab.write_text("# /etc/fstab: static file system information.\nLABEL=cloudimg-rootfs / ext4 discard 0 1\n")
    try:
        disk.device = run("losetup", "--find", "--show", image).stdout.strip() if loop else str(image)
        yield disk
    finally:
        with contextlib.suppress(AssertionError):
            disk.unmount()
        if loop and disk.device:
            run("losetup", "--detach", disk.device, check=False)


def make_ext4_with_file(disk: Disk, tmp_path: Path, payload: bytes) -> None:
    source = tmp_path / "seed"
    (source / "huggingface").mkdir(parents=True)
    (source / "huggingface" / "weights.bin").write_bytes(payload)
    run("mkfs.ext4", "-q", "-F", "-L", "vllm-cache", "-d", source, disk.image)
    if disk.loop:  # the loop device caches nothing yet, but make sure it sees the new filesystem
        run("blockdev", "--flushbufs", disk.device, check=False)


def test_blank_device_is_formatted_and_mounted(disk: Disk) -> None:
    result = disk.script()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "creating an ext4 filesystem" in result.stdout
    probe = run("blkid", "--probe", "--output", "export", disk.image).stdout
    assert "TYPE=ext4" in probe and "LABEL=vllm-cache" in probe
    lines = disk.fstab_lines_for_mountpoint()
    assert len(lines) == 1 and (m := FSTAB_LINE.match(lines[0])) and m["uuid"] == disk.uuid()
    assert "LABEL=cloudimg-rootfs / ext4 discard 0 1" in disk.fstab.read_text()  # other lines untouched
    if disk.loop:
        assert disk.mounted()
        (disk.mountpoint / "probe.txt").write_bytes(b"written through the mountpoint\n")
        assert disk.read_file("probe.txt") == b"written through the mountpoint\n"
    else:
        assert "not mounting" in result.stdout
        assert "lost+found" in run("debugfs", "-R", "ls /", disk.image).stdout


def test_existing_filesystem_keeps_its_data_across_runs(disk: Disk, tmp_path: Path) -> None:
    payload = os.urandom(3 * 2**20 + 17)
    make_ext4_with_file(disk, tmp_path, payload)
    uuid = disk.uuid()
    for attempt in range(2):
        result = disk.script()
        assert result.returncode == 0, f"run {attempt + 1}: {result.stdout}{result.stderr}"
        assert "keeping its data" in result.stdout and "creating" not in result.stdout
        if disk.loop:
            assert disk.mounted(), result.stdout + result.stderr
            target = disk.mountpoint / "huggingface" / "weights.bin"
            assert hashlib.sha256(target.read_bytes()).hexdigest() == hashlib.sha256(payload).hexdigest()
    if disk.loop:
        assert "already mounted" in result.stdout  # the second run found the first run's mount
    assert hashlib.sha256(disk.read_file("huggingface/weights.bin")).hexdigest() == hashlib.sha256(payload).hexdigest()
    assert disk.uuid() == uuid
    assert len(disk.fstab_lines_for_mountpoint()) == 1


@pytest.mark.parametrize("foreign", ["vfat", "gpt-partition-table", "dos-partition-table"])
def test_foreign_signature_is_refused_and_left_untouched(disk: Disk, foreign: str) -> None:
    if foreign == "vfat":
        run(require_tool("mkfs.vfat", "dosfstools"), disk.image)
    else:
        table = "label: gpt\n" if foreign == "gpt-partition-table" else "label: dos\n,,L\n"
        subprocess.run([require_tool("sfdisk", "fdisk"), "-q", str(disk.image)], input=table, text=True, check=True)
    if disk.loop:
        run("blockdev", "--rereadpt", disk.device, check=False)
    before = sha256(disk.image)
    fstab_before = disk.fstab.read_text()
    result = disk.script()
    assert result.returncode != 0
    assert "refusing to format" in result.stderr
    assert sha256(disk.image) == before
    assert disk.fstab.read_text() == fstab_before
    assert not disk.mounted()


def test_old_fstab_line_for_the_mountpoint_is_replaced(disk: Disk) -> None:
    old = f"UUID=00000000-0000-0000-0000-000000000000 {disk.mountpoint} ext4 defaults 0 2"
    comment = f"# {disk.mountpoint} is the model cache"
    disk.fstab.write_text(disk.fstab.read_text() + f"{comment}\n{old}\n/dev/xvdf /data xfs defaults 0 2\n")
    assert disk.script().returncode == 0
    text = disk.fstab.read_text()
    assert old not in text and comment in text and "/dev/xvdf /data xfs defaults 0 2" in text
    lines = [line for line in disk.fstab_lines_for_mountpoint() if not line.startswith("#")]
    assert len(lines) == 1 and FSTAB_LINE.match(lines[0])
    mtime = disk.fstab.stat().st_mtime_ns
    assert disk.script().returncode == 0
    assert disk.fstab.stat().st_mtime_ns == mtime  # unchanged line: the file is not rewritten


def test_grown_volume_is_grown_online(disk: Disk) -> None:
    assert disk.script().returncode == 0

    def block_count() -> int:
        out = run("dumpe2fs", "-h", disk.device if disk.loop else disk.image).stdout
        return int(re.search(r"^Block count:\s+(\d+)", out, re.MULTILINE)[1])  # type: ignore[index]

    before = block_count()
    with disk.image.open("r+b") as f:  # `aws ec2 modify-volume --size` as seen by the host
        f.truncate(2 * IMAGE_MIB * 2**20)
    if disk.loop:
        run("losetup", "--set-capacity", disk.device)
    result = disk.script()
    assert result.returncode == 0, result.stdout + result.stderr
    if disk.loop and CAN_RESIZE_ONLINE:
        assert block_count() >= 2 * before * 0.95
    elif disk.loop:
        # A container without CAP_SYS_RESOURCE cannot resize online; the script must carry on, saying so.
        assert "could not grow" in result.stdout
        assert block_count() == before
    else:
        assert block_count() == before  # VLLM_AWS_SKIP_MOUNT=1: no grow without a mount


def test_waits_for_the_device_to_appear(disk: Disk, tmp_path: Path) -> None:
    # The fallback path is enough here: the wait loop only checks that the path exists.
    late = tmp_path / "late.img"
    env = {**os.environ, "FSTAB": str(disk.fstab), "VLLM_AWS_SKIP_MOUNT": "1"}
    script = ["bash", str(SCRIPTS["mount-cache.sh"]), str(late), str(disk.mountpoint)]
    missing = run(*script, "0", env=env, check=False)
    assert missing.returncode != 0 and "did not appear within 0s" in missing.stderr
    process = subprocess.Popen([*script, "30"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1)
        assert process.poll() is None  # still waiting
        shutil.copyfile(disk.image, tmp_path / "copying.img")
        (tmp_path / "copying.img").rename(late)  # appears whole, like an attachment
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stdout + stderr
    assert "TYPE=ext4" in run("blkid", "--probe", "--output", "export", late).stdout


def test_usage_errors() -> None:
    result = run("bash", SCRIPTS["mount-cache.sh"], "/dev/null", check=False)
    assert result.returncode != 0 and "usage:" in result.stderr
    result = run("bash", SCRIPTS["mount-cache.sh"], "/dev/null", "relative/path", check=False)
    assert result.returncode != 0 and "absolute path" in result.stderr


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
