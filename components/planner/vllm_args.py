"""``vllm serve`` arguments: rendered from the typed model config, checked against vLLM's real flag list.

The flag list (``catalog/vllm_serve_flags.json``) was read from the argparse actions of the pinned vLLM
wheel, so an unknown, misspelt or removed flag is caught at plan time instead of in a crash loop; every
spelling vLLM's own parser accepts is read as it reads it (:mod:`.vllm_arg_spellings`).
"""

from __future__ import annotations

from collections.abc import Sequence

from .. import catalog
from ..config.sections import ModelConfig
from ..errors import ConfigIssue, KeyPaths, did_you_mean
from .vllm_arg_spellings import FlagUse, abbreviated, flag_uses, is_flag, json_destinations, option_table

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
# The fix where the owner is not a config key to use instead: vllm-aws sets the flag itself.
_SET_BY_THE_STACK = "remove it from extraArgs: vllm-aws sets it for every server"
_FIXES: dict[str, str] = {
    "api_key": "remove it from extraArgs and set the key with `pulumi config set --secret vllm-aws:apiKey ...`",
    "host": _SET_BY_THE_STACK,
    "port": _SET_BY_THE_STACK,
    "download_dir": _SET_BY_THE_STACK,
}


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
    """Every problem with the model's ``extraArgs``, read as vLLM's parser reads it (every spelling it takes)."""
    issues: list[ConfigIssue] = []
    tokens: Sequence[str] = model.extra_args
    if tokens and not is_flag(tokens[0]):
        issues.append(
            ConfigIssue(
                keys("extraArgs", 0),
                tokens[0],
                "is a value with no flag before it",
                "start extraArgs with a flag, e.g. ['--enable-chunked-prefill']",
            )
        )
    table = option_table()
    for use in flag_uses(tokens):
        path = keys("extraArgs", use.position)
        spec = table.get(use.option)
        if spec is None:
            issues.append(_unknown(path, use))
            continue
        owner = TYPED_FLAGS.get(spec["dest"])
        if owner is not None:
            issues.append(
                ConfigIssue(
                    path,
                    use.written,
                    f"duplicates a typed setting owned by {owner}",
                    _FIXES.get(spec["dest"], f"remove it from extraArgs and use {owner}"),
                )
            )
        elif use.json_key is not None and spec["dest"] not in json_destinations():
            issues.append(
                ConfigIssue(
                    path,
                    use.written,
                    f"sets the key {use.json_key!r} of {use.option}, which takes no JSON (dotted keys are for config "
                    "and dict flags such as --compilation-config)",
                    f"pass {use.option} VALUE",
                )
            )
        elif use.json_key is None and use.value is not None and use.value not in (spec.get("choices") or [use.value]):
            issues.append(
                ConfigIssue(
                    path,
                    use.written if "=" in use.written else f"{use.written} {use.value}",
                    f"{use.value!r} is not a choice of {use.option}",
                    f"use one of {', '.join(spec['choices'])}",
                )
            )
    return issues


def _unknown(path: str, use: FlagUse) -> ConfigIssue:
    full = abbreviated(use.option)
    if full is not None:
        return ConfigIssue(
            path,
            use.written,
            f"abbreviates {full}: vLLM's parser takes a unique prefix, but a flag a later vLLM adds can make it "
            "ambiguous and fail the start",
            f"write {full}",
        )
    hint = did_you_mean(use.option, option_table())
    return ConfigIssue(
        path,
        use.written,
        f"is not a `vllm serve` flag in vLLM {catalog.serve_flags_version()}",
        f"did you mean '{hint}'?" if hint else "check `vllm serve --help` for the pinned image",
    )


# extraArgs that change what vLLM allocates on the GPU in ways the plan does not model, and the typed alternative.
# kv_cache_memory_bytes: the KV budget is the given bytes and gpu_memory_utilization is ignored
# (vllm/v1/worker/gpu_worker.py determine_available_memory); num_gpu_blocks_override replaces the block count that
# fits (vllm/v1/core/kv_cache_utils.py); hf_overrides rewrites the config.json vLLM sizes the model from
# (vllm/config/model.py ModelConfig.hf_overrides). vLLM 0.33.0 (VLLM_SIZING.md §1.2 and §2.4).
SIZING_OVERRIDES: dict[str, str] = {
    "kv_cache_memory_bytes": "set gpuMemoryUtilization instead, which the plan sizes",
    "num_gpu_blocks_override": "remove it, and size the KV cache with gpuMemoryUtilization",
    "hf_overrides": "describe the changed shape in an `architecture:` block (its numbers override the read ones), "
    "or use maxModelLen for the context",
}


def sizing_overrides(model: ModelConfig) -> dict[str, str]:
    """The :data:`SIZING_OVERRIDES` flags in ``extraArgs``, by destination, as the user wrote them."""
    table = option_table()
    found: dict[str, str] = {}
    for use in flag_uses(model.extra_args):
        spec = table.get(use.option)
        if spec is not None and spec["dest"] in SIZING_OVERRIDES:
            found.setdefault(spec["dest"], use.written)
    return found
