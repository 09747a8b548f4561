"""What the bootstrap tests share: the spec, the scripts, a command runner, and a fake host for bootstrap.sh."""

from __future__ import annotations

import base64
import gzip
import hashlib
import os
import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.catalog.cuda import driver_requirement
from components.host import bootstrap
from components.host.bootstrap import BootstrapSpec

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


def make_bootstrap_host(tmp_path: Path) -> BootstrapHost:
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
        (bootstrap.SERVICE_SECRETS_DIR, tmp_path / "etc/service-secrets"),
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


IMAGE_MIB = 64
