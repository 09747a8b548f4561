"""Predicted KV-cache tokens against what real vLLM startup logs reported ("GPU KV cache size: N tokens").

Evidence: tests/data/kv_cache_observations.yaml (every number copied from a public log, with its URL).
Observations used here are those whose model, GPU and settings are all known; the rest stay in the data
file with the reason they cannot be reproduced (unknown GPU, unknown utilization, MoE with a KV connector).
"""

from __future__ import annotations

import re

import pytest
import yaml
from repo import DATA_DIR, PROJECT_DIR

from components import catalog
from components.catalog import GpuSpec
from components.planner.memory import GIB, ServingSettings, default_batch_limits, fit_memory, kv_bytes_per_token
from components.planner.model_spec import bundled_spec

OBSERVATIONS = {
    o["source"] + "#" + str(o["gpuMemoryUtilization"]): o
    for o in yaml.safe_load((DATA_DIR / "kv_cache_observations.yaml").read_text())["observations"]
}
DENNISLEE = "https://github.com/dennislee22/vLLM-benchmarking/blob/"
# RTX A5000 is not an AWS GPU: its CUDA total follows from the same log, where a 0.52 GiB CUDA-graph
# estimate equals a 0.9764 - 0.9543 = 0.0221 utilization difference, so total = 0.52 / 0.0221 GiB.
RTX_A5000 = GpuSpec(name="RTX-A5000", memory_gib=0.52 / 0.0221, compute_capability=8.6, architecture="ampere")

# (observation key, catalog model id, GPU, vLLM >= 0.21 so the CUDA-graph estimate is in the budget)
TABLE = [
    (
        DENNISLEE + "391660db66f5a6e44ea8ed82decf48a88e55e992/log/vllm-7B-1gpuA10080GB-0.25GRAM.log#0.25",
        "Qwen/Qwen2-7B-Instruct",
        "A100-80GB",
        False,
    ),
    (
        DENNISLEE + "608c86e90fc1ab6071c6bb8a673046ab9cd65062/log/vllm-7B-1gpuA10080GB-0.5GRAM.log#0.5",
        "Qwen/Qwen2-7B-Instruct",
        "A100-80GB",
        False,
    ),
    (
        DENNISLEE + "e514a58512f7c1ced8a2bffb191be171e7ad99b2/log/vllm-7B-2gpuA10080GB-0.5GRAM-same-node.log#0.5",
        "Qwen/Qwen2-7B-Instruct",
        "A100-80GB",
        False,
    ),
    (
        DENNISLEE + "89771826649777b1127b11adaf18514eb24ff099/log/vllm-7B-2gpuA10040GB-0.5GRAM-diff-nodes.log#0.5",
        "Qwen/Qwen2-7B-Instruct",
        "A100-40GB",
        False,
    ),
    # The 69.66 GiB of free KV memory only fits the 80 GB A100; utilization is that version's default 0.9.
    ("https://github.com/vllm-project/vllm/pull/24577#None", "Qwen/Qwen3-0.6B", "A100-80GB", False),
    ("https://github.com/LMCache/LMCache/issues/3430#0.9764", "Qwen/Qwen3-8B", RTX_A5000, True),
]
DEFAULT_UTILIZATION_BEFORE_0_21 = 0.9
TOLERANCE = 0.10


def predicted_tokens(key: str, model_id: str, gpu: str | GpuSpec, graphs_in_budget: bool) -> int:
    """The planner's KV-cache tokens for one observation's model, GPU and settings."""
    observation = OBSERVATIONS[key]
    spec = bundled_spec(model_id)
    assert spec is not None
    gpu_spec = catalog.gpus()[gpu] if isinstance(gpu, str) else gpu
    default_seqs, default_tokens = default_batch_limits(gpu_spec)
    settings = ServingSettings(
        tensor_parallel_size=observation["tensorParallelSize"],
        gpu_memory_utilization=observation["gpuMemoryUtilization"] or DEFAULT_UTILIZATION_BEFORE_0_21,
        max_model_len=observation["maxModelLen"],
        max_num_seqs=observation["maxNumSeqs"] or default_seqs,
        max_num_batched_tokens=observation["maxNumBatchedTokens"] or default_tokens,
        weight_format="fp16",
        kv_cache_bytes=2,
        cuda_graphs_in_budget=graphs_in_budget,
        # Every pre-0.21 log here is also pre-#25359 (v0.10.x), whose NCCL buffers were charged to the KV budget.
        communicators_in_budget=not graphs_in_budget,
    )

    return fit_memory(spec, gpu_spec, settings).kv_cache_tokens


@pytest.mark.parametrize(("key", "model_id", "gpu", "graphs_in_budget"), TABLE, ids=lambda v: str(v)[-40:])
def test_predicted_kv_tokens_within_ten_percent_of_vllm_logs(
    key: str, model_id: str, gpu: str | GpuSpec, graphs_in_budget: bool
) -> None:
    predicted = predicted_tokens(key, model_id, gpu, graphs_in_budget)
    reported = OBSERVATIONS[key]["logged"]["kvCacheTokens"]
    assert abs(predicted - reported) / reported <= TOLERANCE, f"predicted {predicted:,}, vLLM reported {reported:,}"


def test_the_sizing_doc_quotes_the_current_predictions() -> None:
    """docs/sizing.md's table of logged against predicted tokens, row by row in TABLE's order (#15)."""
    text = (PROJECT_DIR / "docs" / "sizing.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| [^|]+ \| [^|]+ \| \d \| [^|]+ \| [^|]+ \| ([\d,]+) \| ([\d,]+) \| ([^|]+) \|$", text, re.M)
    assert len(rows) == len(TABLE)
    for (logged, predicted, error), row in zip(rows, TABLE, strict=True):
        current = predicted_tokens(*row)
        reported = OBSERVATIONS[row[0]]["logged"]["kvCacheTokens"]
        expected = (f"{reported:,}", f"{current:,}", f"{(current - reported) / reported:+.1%}".replace("-", "\u2212"))
        assert (logged, predicted, error) == expected, "update this row of docs/sizing.md"


def test_kv_bytes_per_token_matches_every_logged_ratio() -> None:
    """Available KV GiB / tokens in each log is exactly the per-GPU bytes per token of the formula."""
    for key, model_id, _gpu, _graphs in TABLE:
        observation = OBSERVATIONS[key]
        spec = bundled_spec(model_id)
        assert spec is not None
        per_token = kv_bytes_per_token(spec, observation["tensorParallelSize"], 2)
        logged = observation["logged"]
        implied = logged["availableKvCacheGib"] * GIB / logged["kvCacheTokens"]
        assert abs(implied - per_token) / per_token < 0.01, key
