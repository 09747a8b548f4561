"""Pure decisions about the vLLM containers: GPU slots per host, environment, entrypoint, healthcheck timing."""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from pathlib import Path

from ..host.bootstrap import BOOTSTRAP_LOG, CACHE_MOUNT, HF_HOME_DIR, SECRETS_DIR, VLLM_CACHE_DIR
from ..planner.vllm_args import VLLM_PORT

# Inside the container: the host's root-only secrets directory, mounted read-only, and the entrypoint.
CONTAINER_SECRETS_DIR = "/run/vllm-aws/secrets"
# The secret files the entrypoint reads (named after the variable they become): the key is required, the token not.
API_KEY_ENV = "VLLM_API_KEY"
HF_TOKEN_ENV = "HF_TOKEN"
# What the entrypoint reads. Not VLLM_*: vLLM owns that prefix and warns about every name its envs.py does not
# define ("Unknown vLLM environment variable detected", vllm/platforms/interface.py validate_environ, 0.33.0).
SECRETS_DIR_ENV = "ENTRYPOINT_SECRETS_DIR"
WARM_MARKER_ENV = "ENTRYPOINT_WARM_MARKER"
ENTRYPOINT_PATH = "/usr/local/bin/vllm-aws-entrypoint"
HEALTH_URL = f"http://127.0.0.1:{VLLM_PORT}/health"
HEALTH_INTERVAL_SECONDS = 30
HEALTH_TIMEOUT_SECONDS = 10
HEALTH_RETRIES = 5
START_PERIOD_MARGIN = 1.5  # the prediction is an estimate: never mark a slow but healthy start unhealthy
# Docker's json-file logs, rotated: vLLM logs a line per request batch, the exporters and monitoring little.
LOG_DRIVER = "json-file"
VLLM_LOG_OPTIONS = {"max-size": "100m", "max-file": "5"}
SIDECAR_LOG_OPTIONS = {"max-size": "20m", "max-file": "3"}
MEMLOCK_UNLIMITED = -1
STACK_BYTES = 67_108_864  # 64 MiB, as NVIDIA recommends for CUDA containers


@dataclass(frozen=True)
class ServerSlot:
    """One vLLM container on a host: its number, host port and GPUs (None = all of them)."""

    index: int
    host_port: int
    device_ids: tuple[str, ...] | None


def container_name(model_name: str, slot_index: int) -> str:
    """The vLLM container's name on its host (the watchdog and the health wait address it by name)."""
    return f"vllm-{model_name}-{slot_index}"


def server_slots(tensor_parallel_size: int, servers_on_host: int, gpu_count: int) -> list[ServerSlot]:
    """Pin each container to its own TP-sized block of GPUs and its own port (8000, 8001, ...)."""
    if servers_on_host * tensor_parallel_size > gpu_count:
        raise ValueError(f"{servers_on_host} x TP {tensor_parallel_size} needs more than {gpu_count} GPUs")
    if servers_on_host == 1 and tensor_parallel_size == gpu_count:
        return [ServerSlot(index=0, host_port=VLLM_PORT, device_ids=None)]
    return [
        ServerSlot(
            index=slot,
            host_port=VLLM_PORT + slot,
            device_ids=tuple(str(gpu) for gpu in range(slot * tensor_parallel_size, (slot + 1) * tensor_parallel_size)),
        )
        for slot in range(servers_on_host)
    ]


def container_env(warm_marker_path: str) -> list[str]:
    """Non-secret environment; HF_TOKEN and VLLM_API_KEY come from the mounted secrets directory instead."""
    return [
        f"HF_HOME={HF_HOME_DIR}",
        f"VLLM_CACHE_ROOT={VLLM_CACHE_DIR}",
        "VLLM_NO_USAGE_STATS=1",
        "DO_NOT_TRACK=1",
        # Parallel first-boot downloads. huggingface_hub 1.0 dropped hf_transfer for hf-xet (huggingface/
        # huggingface_hub#3444) and only warns about HF_HUB_ENABLE_HF_TRANSFER (constants.py); vLLM 0.33 needs
        # huggingface_hub>=1.31, whose high-performance switch is this one.
        "HF_XET_HIGH_PERFORMANCE=1",
        f"{SECRETS_DIR_ENV}={CONTAINER_SECRETS_DIR}",
        f"{WARM_MARKER_ENV}={warm_marker_path}",
    ]


def cache_mount() -> tuple[str, str]:
    """(host path, container path): the cache is mounted at the same path, so logs name real host paths."""
    return CACHE_MOUNT, CACHE_MOUNT


def secrets_mount() -> tuple[str, str]:
    """(host directory, container directory) of the secret files, mounted read-only."""
    return SECRETS_DIR, CONTAINER_SECRETS_DIR


def warm_marker(model_id: str, revision: str | None) -> str:
    """Written once vLLM served /health for this model and revision: every weight file is then cached."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", f"{model_id}@{revision or 'main'}")
    return f"{VLLM_CACHE_DIR}/vllm-aws-warm/{safe}"


def entrypoint_script() -> str:
    """Entrypoint wrapping ``vllm serve``: secrets read as data, refusal without a key, offline once cached.

    Each secret is one file (host.bootstrap.SECRETS_DIR) whose bytes become the variable's value: never
    sourced, evaluated or word-split, so a space, quote, ``$``, backtick, backslash, ``=`` or newline arrives as
    it is. ``$(...)`` drops trailing newlines, hence the sentinel. vLLM enables authentication only for a
    non-empty key (vllm-project/vllm ``vllm/entrypoints/openai/api_server.py`` build_app: ``if tokens := [key for
    key in (args.api_key or [envs.VLLM_API_KEY]) if key]``), so a missing or empty key stops the container here,
    with the reason in its log, instead of serving /v1 to anyone. The key travels in the environment, which only
    root can read (/proc/<pid>/environ), never on the command line.

    HF_HUB_OFFLINE=1 is only safe when every file is on disk: Hugging Face writes refs before the blobs, so
    partial downloads look cached. The marker is written only after this model and revision answered
    /health once, which vLLM does only after loading all weights.
    """
    return f"""#!/bin/bash
set -euo pipefail
secrets_dir=${{{SECRETS_DIR_ENV}:?}}

refuse() {{
    printf 'vllm-aws: not starting vLLM: %s\\n' "$*" >&2
    exit 1
}}

# load_secret NAME: export NAME holding exactly the bytes of the file $secrets_dir/NAME; fails if there is none.
load_secret() {{
    local name=$1 file=$secrets_dir/$1 value
    [[ -f $file ]] || return 1
    value=$(cat -- "$file" && printf x) || refuse "cannot read $file"
    value=${{value%x}}
    # A NUL byte is dropped by $(...) and cannot be in an environment variable: refuse rather than alter the value.
    if [[ $(printf '%s' "$value" | wc -c) -ne $(wc -c <"$file") ]]; then
        refuse "$file holds a NUL byte, which an environment variable cannot carry"
    fi
    printf -v "$name" '%s' "$value"
    export "${{name?}}"
}}

# Only the mounted files count, never a variable set some other way.
unset {API_KEY_ENV} {HF_TOKEN_ENV}
load_secret {API_KEY_ENV} || refuse "no API key: $secrets_dir/{API_KEY_ENV} is missing (the host's bootstrap \\
writes it from SSM: see {BOOTSTRAP_LOG} on the host)"
if [[ -z ${API_KEY_ENV} ]]; then
    refuse "the API key in $secrets_dir/{API_KEY_ENV} is empty: vLLM would serve /v1 without authentication"
fi
# Optional (ungated models need none); an empty token is no token.
if ! load_secret {HF_TOKEN_ENV} || [[ -z ${HF_TOKEN_ENV} ]]; then
    unset {HF_TOKEN_ENV}
fi

marker=${{{WARM_MARKER_ENV}:?}}
if [[ -f $marker ]]; then
    export HF_HUB_OFFLINE=1
else
    mkdir -p "$(dirname "$marker")"
    (
        until python3 -c 'import urllib.request; urllib.request.urlopen("{HEALTH_URL}", timeout=5)' 2>/dev/null; do
            sleep 15
        done
        touch "$marker"
    ) &
fi
exec vllm serve "$@"
"""


def healthcheck_start_period_seconds(container_cold_start_seconds: float) -> int:
    """The start period covers a cold container start (download, load, compile) with margin, in 30 s steps."""
    return int(math.ceil(container_cold_start_seconds * START_PERIOD_MARGIN / 30) * 30)


def healthcheck_command() -> list[str]:
    # python3 is in the image (curl is not guaranteed); /health needs no API key.
    return ["CMD", "python3", "-c", f"import urllib.request; urllib.request.urlopen('{HEALTH_URL}', timeout=5)"]


def custom_image_tag(context: str) -> str:
    """Tag of a custom build, from the content of its context: an edit means a new tag, hence a rebuild."""
    digest = hashlib.sha256()
    root = Path(context)
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return f"vllm-aws-custom:{digest.hexdigest()[:12]}"
