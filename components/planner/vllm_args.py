"""``vllm serve`` arguments: rendered from the typed model config, checked against vLLM's real flag list.

The flag list (``catalog/vllm_serve_flags.json``) was read from the argparse actions of the pinned vLLM
wheel, so an unknown, misspelt or removed flag is caught at plan time instead of in a crash loop.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .. import catalog
from ..config.sections import ModelConfig
from ..errors import ConfigIssue, KeyPaths, did_you_mean

VLLM_PORT = 8000

# Flags the typed config owns: setting them through extraArgs would fight the typed key (or, for the
# API key, put a secret on the command line where `docker inspect` and the plan would show it).
TYPED_FLAGS: dict[str, str] = {
    "model": "id",
    "served_model_name": "name",
    "tensor_parallel_size": "tensorParallelSize",
    "max_model_len": "maxModelLen",
    "gpu_memory_utilization": "gpuMemoryUtilization",
    "max_num_seqs": "maxNumSeqs",
    "max_num_batched_tokens": "maxNumBatchedTokens",
    "enable_prefix_caching": "enablePrefixCaching",
    "quantization": "quantization",
    "dtype": "dtype",
    "kv_cache_dtype": "kvCacheDtype",
    "revision": "revision",
    "api_key": "the apiKey secret (vLLM reads VLLM_API_KEY from the environment)",
    "host": "the container (vLLM listens on all interfaces)",
    "port": f"the container (vLLM listens on {VLLM_PORT}, the port the load balancer targets)",
    "download_dir": "the model cache (HF_HOME on the cache volume)",
}

# Flags that still parse but whose meaning changed: accepting them silently would mislead.
DEPRECATED_FLAGS: dict[str, str] = {
    "--disable-log-requests": (
        "is deprecated: request logging is already off by default since vLLM v0.10 "
        "(--enable-log-requests turns it on). Fix: remove it"
    ),
}

_NEGATIVE_NUMBER = re.compile(r"^-\d")


def render_args(model: ModelConfig, max_model_len: int) -> list[str]:
    """The ``vllm serve`` arguments after the image's entrypoint: the model first, then flags."""
    args = [
        model.id,
        "--served-model-name",
        model.name,
        "--tensor-parallel-size",
        str(model.tensor_parallel_size),
        "--max-model-len",
        str(max_model_len),
        "--gpu-memory-utilization",
        f"{model.gpu_memory_utilization:g}",
    ]
    if model.revision:
        args += ["--revision", model.revision]
    if model.dtype != "auto":
        args += ["--dtype", model.dtype]
    if model.quantization:
        args += ["--quantization", model.quantization]
    if model.kv_cache_dtype != "auto":
        args += ["--kv-cache-dtype", model.kv_cache_dtype]
    if model.max_num_seqs is not None:
        args += ["--max-num-seqs", str(model.max_num_seqs)]
    if model.max_num_batched_tokens is not None:
        args += ["--max-num-batched-tokens", str(model.max_num_batched_tokens)]
    if not model.enable_prefix_caching:
        args.append("--disable-prefix-caching")  # prefix caching is on by default in V1
    return args + list(model.extra_args)


def split_flag(token: str) -> tuple[str, str | None]:
    """``--x=1`` -> (``--x``, ``1``); ``--x`` -> (``--x``, None)."""
    flag, sep, value = token.partition("=")
    return flag, (value if sep else None)


def extra_args_issues(keys: KeyPaths, model: ModelConfig) -> list[ConfigIssue]:
    """Every problem with the model's ``extraArgs``, checked against vLLM's flag list."""
    flags = catalog.serve_flags()
    issues: list[ConfigIssue] = []
    tokens: Sequence[str] = model.extra_args
    for position, token in enumerate(tokens):
        path = keys("extraArgs", position)
        if not token.startswith("-") or _NEGATIVE_NUMBER.match(token):
            if position == 0:
                issues.append(
                    ConfigIssue(
                        path,
                        token,
                        "is a value with no flag before it",
                        "start extraArgs with a flag, e.g. ['--enable-chunked-prefill']",
                    )
                )
            continue
        flag, inline_value = split_flag(token)
        if flag in DEPRECATED_FLAGS:
            problem, _, fix = DEPRECATED_FLAGS[flag].partition(". Fix: ")
            issues.append(ConfigIssue(path, token, problem, fix))
            continue
        spec = flags.get(flag)
        if spec is None:
            hint = did_you_mean(flag, flags)
            issues.append(
                ConfigIssue(
                    path,
                    token,
                    f"is not a `vllm serve` flag in vLLM {catalog.serve_flags_version()}",
                    f"did you mean '{hint}'?" if hint else "check `vllm serve --help` for the pinned image",
                )
            )
            continue
        owner = TYPED_FLAGS.get(spec["dest"])
        if owner is not None:
            issues.append(
                ConfigIssue(
                    path,
                    token,
                    f"duplicates a typed setting owned by {owner}",
                    f"remove it from extraArgs and use {owner}",
                )
            )
            continue
        value = inline_value
        if value is None and position + 1 < len(tokens):
            following = tokens[position + 1]
            if not following.startswith("-") or _NEGATIVE_NUMBER.match(following):
                value = following
        choices = spec.get("choices")
        if choices and value is not None and value not in choices:
            issues.append(
                ConfigIssue(
                    path,
                    token if inline_value else f"{flag} {value}",
                    f"{value!r} is not a choice of {flag}",
                    f"use one of {', '.join(choices)}",
                )
            )
    return issues
