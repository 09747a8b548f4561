"""Cloud-init user-data of a GPU host, and the shell scripts it installs.

Pure functions, no Pulumi: :class:`components.host.gpu_host.GpuHost` calls :func:`render_user_data` inside an
``Output.apply`` once the cache volume id is known. The host runs the AWS Deep Learning Base GPU AMI (Ubuntu
24.04), which already carries the NVIDIA driver, Docker, the NVIDIA Container Toolkit and the AWS CLI, so
the bootstrap only verifies them, mounts the model cache, fetches secrets and marks the host ready.

User-data is readable by anyone who may call ``ec2:DescribeInstanceAttribute`` and is kept in the Pulumi
state, so it carries SSM parameter *names* only; ``bootstrap.sh`` fetches the values on the host.

Re-runs after a reboot: cloud-init's ``runcmd`` runs once per instance, so it also enables a systemd oneshot
unit that runs the same (idempotent) bootstrap on every later boot, after Docker and the network. A unit
rather than cloud-init ``bootcmd`` (too early: no network, no Docker) or a per-boot script (it would run
twice on the first boot, beside ``runcmd``). The cache itself comes back through its fstab line (``nofail``,
by UUID) even before the unit runs; the unit refreshes the secrets and re-earns the ready marker. The
marker lives on persistent disk, so a tmpfiles.d rule deletes it early in every boot (before sshd): a
readiness check never sees the previous boot's marker while this boot's bootstrap is still running.
"""

from __future__ import annotations

import base64
import gzip
import re
import shlex
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, field_validator

from ...catalog.cuda import DriverRequirement
from ...config import aws_ids
from ..ami import DLAMI_SSH_USER

CACHE_MOUNT = "/opt/vllm-cache"  # where the EBS model cache is mounted
HF_HOME_DIR = f"{CACHE_MOUNT}/huggingface"  # container HF_HOME
VLLM_CACHE_DIR = f"{CACHE_MOUNT}/vllm"  # container VLLM_CACHE_ROOT (torch.compile cache etc.)
# Root-only (0700) directory fetched at boot: one 0600 file per secret, named after its environment variable and
# holding the parameter's value byte for byte. A file is data to its reader (the vLLM entrypoint), never shell or
# an env-file line, so no character of a value needs escaping or is refused.
SECRETS_DIR = "/etc/vllm-aws/secrets"
READY_MARKER = "/var/lib/vllm-aws/ready"
BOOTSTRAP_LOG = "/var/log/vllm-aws/bootstrap.log"

# Where cloud-init installs things on the host.
SETTINGS_FILE = "/etc/vllm-aws/bootstrap.env"  # non-secret settings read by bootstrap.sh
BOOTSTRAP_PATH = "/usr/local/sbin/vllm-aws-bootstrap"
MOUNT_CACHE_PATH = "/usr/local/sbin/vllm-aws-mount-cache"
SYSTEMD_UNIT = "vllm-aws-bootstrap.service"
SYSTEMD_UNIT_PATH = f"/etc/systemd/system/{SYSTEMD_UNIT}"
TMPFILES_PATH = "/etc/tmpfiles.d/vllm-aws.conf"
PRUNE_UNIT = "vllm-aws-image-prune"
PRUNE_SERVICE_PATH = f"/etc/systemd/system/{PRUNE_UNIT}.service"
PRUNE_TIMER_PATH = f"/etc/systemd/system/{PRUNE_UNIT}.timer"
# Images unused for a week go: an image upgrade leaves the old one (pulumi-docker keeps images locally), and the
# root volume holds about two (#14 RootDiskCannotHoldImageUpgrade). `docker image prune -a` removes only images
# no container uses, running or stopped (docs.docker.com/reference/cli/docker/image/prune), and the age filter
# spares an image pulled for a container not yet created.
PRUNE_UNUSED_FOR = "168h"

# EC2 rejects user-data above 16 KiB (before base64); the scripts are gzipped to stay well below it.
USER_DATA_LIMIT_BYTES = 16 * 1024
# Seconds the mount script waits for the asynchronous EBS attachment before failing the bootstrap.
DEVICE_WAIT_SECONDS = 600

_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
# SSM parameter names: letters, digits, `_.-`, `/` between hierarchy levels (AWS "Parameter name requirements").
_PARAMETER_NAME = re.compile(r"^/?[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")
_SSH_KEY = re.compile(
    r"^(ssh-(rsa|ed25519|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com)"
    r" [A-Za-z0-9+/]+={0,3}( [^\r\n]*)?$"
)
_SSH_USER = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
# Tokens people paste where a parameter name belongs (Hugging Face, OpenAI-style, AWS access keys).
_SECRET_LOOKING = re.compile(r"^(hf_[A-Za-z0-9]{20,}|sk-[A-Za-z0-9_-]{20,}|AKIA[0-9A-Z]{16})$")


class BootstrapSpec(BaseModel):
    """What one GPU host needs at boot; every field ends up in user-data, so none may be a secret."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    cache_volume_id: str  # "vol-0123456789abcdef0"
    ssh_public_key: str  # OpenSSH public key for ssh_user
    region: str  # for `aws ssm get-parameter --region`
    secret_parameters: dict[str, str]  # env var -> SSM SecureString parameter NAME
    ssh_user: str = DLAMI_SSH_USER
    gpu: bool = True  # False on the dedicated monitoring host: no NVIDIA checks
    packages: tuple[str, ...] = ()  # distribution packages to install first (Docker on a plain AMI)
    # The oldest NVIDIA driver the image's CUDA runs on (components.catalog.cuda); None: not checked. Only the CUDA
    # version and driver reach the user-data, so an image bump within one CUDA leaves it (and the host) alone.
    driver: DriverRequirement | None = None

    _volume_id = field_validator("cache_volume_id")(aws_ids.check_volume_id)
    _region = field_validator("region")(aws_ids.check_region)

    @field_validator("ssh_public_key")
    @classmethod
    def _public_key(cls, value: str) -> str:
        value = value.strip()
        # Never echo the value: if it is a private key, the message must not leak it.
        if "PRIVATE KEY" in value:
            raise ValueError("this is a private key; user-data takes the OpenSSH *public* key (ssh-ed25519 AAAA...)")
        if not _SSH_KEY.fullmatch(value):
            raise ValueError("not a single-line OpenSSH public key like 'ssh-ed25519 AAAA... comment'")
        return value

    @field_validator("ssh_user")
    @classmethod
    def _ssh_user(cls, value: str) -> str:
        if not _SSH_USER.fullmatch(value):
            raise ValueError(f"not a valid Linux user name (got {value!r})")
        return value

    @field_validator("secret_parameters")
    @classmethod
    def _secret_parameters(cls, value: dict[str, str]) -> dict[str, str]:
        for env_name, parameter in value.items():
            if not _ENV_NAME.fullmatch(env_name):
                raise ValueError(f"{env_name!r} is not an environment variable name (A-Z, 0-9, _)")
            if _SECRET_LOOKING.fullmatch(parameter):
                # The value is not repeated: it is probably a live credential.
                raise ValueError(
                    f"{env_name}: looks like a secret value, not an SSM parameter name; user-data is not secret"
                )
            if not _PARAMETER_NAME.fullmatch(parameter) or len(parameter) > 1011:
                raise ValueError(
                    f"{env_name}: {parameter!r} is not an SSM parameter name (letters, digits, '_.-', '/' levels)"
                )
        return value


def cache_device_path(volume_id: str) -> str:
    """The stable device path of an attached EBS volume on Nitro instances (NVMe serial = id without '-')."""
    aws_ids.check_volume_id(volume_id)
    return f"/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_{volume_id.replace('-', '')}"


def _read(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def mount_cache_script() -> str:
    """Text of ``mount-cache.sh``: wait for the device, format only if blank, fstab by UUID, mount, grow."""
    return _read("mount-cache.sh")


def bootstrap_script() -> str:
    """Text of ``bootstrap.sh``: verify the GPU stack, mount the cache, fetch secrets, mark ready."""
    return _read("bootstrap.sh")


def settings_env(spec: BootstrapSpec) -> str:
    """The non-secret settings file ``bootstrap.sh`` sources (shell-quoted, though every value is validated)."""
    pairs = " ".join(f"{name}={parameter}" for name, parameter in sorted(spec.secret_parameters.items()))
    settings = {
        "VLLM_AWS_CACHE_VOLUME_ID": spec.cache_volume_id,
        "VLLM_AWS_CACHE_DEVICE": cache_device_path(spec.cache_volume_id),
        "VLLM_AWS_CACHE_MOUNT": CACHE_MOUNT,
        "VLLM_AWS_DEVICE_WAIT_SECONDS": str(DEVICE_WAIT_SECONDS),
        "VLLM_AWS_REGION": spec.region,
        "VLLM_AWS_SSH_USER": spec.ssh_user,
        "VLLM_AWS_HF_HOME": HF_HOME_DIR,
        "VLLM_AWS_VLLM_CACHE": VLLM_CACHE_DIR,
        "VLLM_AWS_SECRETS_DIR": SECRETS_DIR,
        "VLLM_AWS_SECRET_PARAMETERS": pairs,
        "VLLM_AWS_READY_MARKER": READY_MARKER,
        "VLLM_AWS_BOOTSTRAP_LOG": BOOTSTRAP_LOG,
        "VLLM_AWS_MOUNT_SCRIPT": MOUNT_CACHE_PATH,
        "VLLM_AWS_GPU": "1" if spec.gpu else "0",
        "VLLM_AWS_MIN_DRIVER_VERSION": spec.driver.min_driver if spec.driver else "",
        "VLLM_AWS_CUDA_VERSION": spec.driver.cuda if spec.driver else "",
    }
    lines = ["# vllm-aws bootstrap settings (no secrets: values are fetched from SSM at boot)"]
    lines += [f"{key}={shlex.quote(value)}" for key, value in settings.items()]
    return "\n".join(lines) + "\n"


def systemd_unit() -> str:
    """Oneshot unit re-running the bootstrap on every boot after the first (see the module docstring)."""
    return f"""[Unit]
Description=vllm-aws host bootstrap (GPU check, model cache, secrets)
Wants=network-online.target
After=network-online.target docker.service
Requires=docker.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart={BOOTSTRAP_PATH} {SETTINGS_FILE}
TimeoutStartSec=1200

[Install]
WantedBy=multi-user.target
"""


def prune_service() -> str:
    """Oneshot unit removing images no container uses (see :data:`PRUNE_UNUSED_FOR`)."""
    return f"""[Unit]
Description=vllm-aws: remove Docker images no container uses
Requires=docker.service
After=docker.service

[Service]
Type=oneshot
ExecStart=/usr/bin/docker image prune --all --force --filter until={PRUNE_UNUSED_FOR}
"""


def prune_timer() -> str:
    """Daily, at a random time of the night per host, and caught up after a host was off (Persistent)."""
    return f"""[Unit]
Description=vllm-aws: daily removal of unused Docker images

[Timer]
OnCalendar=daily
RandomizedDelaySec=1h
Persistent=true
Unit={PRUNE_UNIT}.service

[Install]
WantedBy=timers.target
"""


def tmpfiles_rule() -> str:
    """systemd-tmpfiles rule removing the ready marker at boot (see the module docstring)."""
    return f"# vllm-aws: the ready marker is earned again on every boot\nr {READY_MARKER}\n"


def _gzip_b64(text: str) -> str:
    # mtime=0: the same inputs give byte-identical user-data, so a re-render never replaces the instance.
    return base64.b64encode(gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)).decode("ascii")


def runcmd(spec: BootstrapSpec) -> list[list[str]]:
    """First-boot commands, argv lists (no shell): enable the per-boot unit, then bootstrap right away.

    The unit is enabled, not started: starting it from cloud-final would wait on a job ordered after the
    boot transaction cloud-final belongs to. Running the script directly also puts a failure in
    ``cloud-init status``.
    """
    # A Docker installed from packages is not running yet on first boot.
    start_docker = [["systemctl", "enable", "--now", "docker"]] if spec.packages else []
    return [
        *start_docker,
        ["systemctl", "daemon-reload"],
        ["systemctl", "enable", SYSTEMD_UNIT],
        ["systemctl", "enable", "--now", f"{PRUNE_UNIT}.timer"],
        [BOOTSTRAP_PATH, SETTINGS_FILE],
    ]


def user_data(spec: BootstrapSpec) -> dict[str, Any]:
    """The cloud-config document as a mapping (what :func:`render_user_data` serialises)."""
    document: dict[str, Any] = {}
    if spec.ssh_user == DLAMI_SSH_USER:
        # Top-level keys go to the image's default user, which is `ubuntu` on the Ubuntu DLAMI.
        document["ssh_authorized_keys"] = [spec.ssh_public_key]
    else:
        document["users"] = [
            "default",
            {
                "name": spec.ssh_user,
                "shell": "/bin/bash",
                "lock_passwd": True,
                "ssh_authorized_keys": [spec.ssh_public_key],
            },
        ]
    script = {"owner": "root:root", "permissions": "0755", "encoding": "gz+b64"}
    document["write_files"] = [
        {"path": MOUNT_CACHE_PATH, **script, "content": _gzip_b64(mount_cache_script())},
        {"path": BOOTSTRAP_PATH, **script, "content": _gzip_b64(bootstrap_script())},
        {"path": SETTINGS_FILE, "owner": "root:root", "permissions": "0644", "content": settings_env(spec)},
        {"path": SYSTEMD_UNIT_PATH, "owner": "root:root", "permissions": "0644", "content": systemd_unit()},
        {"path": TMPFILES_PATH, "owner": "root:root", "permissions": "0644", "content": tmpfiles_rule()},
        {"path": PRUNE_SERVICE_PATH, "owner": "root:root", "permissions": "0644", "content": prune_service()},
        {"path": PRUNE_TIMER_PATH, "owner": "root:root", "permissions": "0644", "content": prune_timer()},
    ]
    if spec.packages:
        document["packages"] = list(spec.packages)
    document["runcmd"] = runcmd(spec)
    return document


# libyaml's emitter where PyYAML was built with it (its wheels are): 10x faster than the pure-Python one, which a
# 32-host plan spends 0.2 s in; both write the same bytes for these documents (tests/host/test_bootstrap.py), so a
# host never changes with the machine that deploys it.
_EMITTER: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_EMITTER):  # type: ignore[valid-type,misc]
    """Multi-line strings as literal blocks, so the settings and unit read naturally in the console."""


class _PurePythonDumper(yaml.SafeDumper):
    """The emitter a PyYAML without libyaml uses: what :data:`_EMITTER` must agree with."""


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_representer)
_PurePythonDumper.add_representer(str, _str_representer)


def render_user_data(spec: BootstrapSpec, *, pure_python: bool = False) -> str:
    """``#cloud-config`` user-data for one GPU host. Deterministic; raises if EC2 would reject its size.

    ``pure_python`` forces PyYAML's own emitter, as on a machine without libyaml (the tests compare the two).
    """
    dumper = _PurePythonDumper if pure_python else _Dumper
    body = yaml.dump(user_data(spec), Dumper=dumper, sort_keys=False, width=10_000, allow_unicode=False)
    text = "#cloud-config\n" + body
    size = len(text.encode("utf-8"))
    if size > USER_DATA_LIMIT_BYTES:
        raise ValueError(f"user-data is {size} bytes; EC2 accepts at most {USER_DATA_LIMIT_BYTES}")
    return text


__all__ = [
    "BOOTSTRAP_LOG",
    "CACHE_MOUNT",
    "HF_HOME_DIR",
    "READY_MARKER",
    "SECRETS_DIR",
    "VLLM_CACHE_DIR",
    "BootstrapSpec",
    "bootstrap_script",
    "cache_device_path",
    "mount_cache_script",
    "render_user_data",
]
