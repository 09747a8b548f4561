"""Models that cannot serve are rejected before anything is created, with the key path, the value and the fix.

Each case starts from a configuration that plans cleanly and breaks exactly one thing the planner checks (tensor
parallelism, memory fit, dtype and quantization, catalog lookups, extraArgs, the gated model's token).
"""

from __future__ import annotations

import pytest
from bad_inputs import Case, extra_args, gated, model, p, second_model_fits_nowhere, without_hf_token

from components.config import parse_stack_config
from components.errors import ConfigError, format_value
from components.planner import plan_stack

CASES = [
    # --- tensor parallelism ---------------------------------------------------------------------------------------
    Case(
        "tp-not-dividing-heads",
        model(tensorParallelSize=8, instanceType="g6e.48xlarge"),  # 28 heads
        p("models[0].tensorParallelSize"),
        "use one of 1, 2, 4, 7",
    ),
    Case(
        "tp-above-gpu-count",
        model(tensorParallelSize=2),  # g6.xlarge has one L4
        p("models[0].tensorParallelSize"),
        "tensorParallelSize <= 1",
    ),
    Case(
        "tp-not-dividing-kv-heads",
        model(id="microsoft/phi-4", tensorParallelSize=4, instanceType="g6e.12xlarge"),  # 40 heads, 10 KV heads
        p("models[0].tensorParallelSize"),
        "use one of 1, 2, 5",
    ),
    Case(
        "nothing-fits-second-model",
        second_model_fits_nowhere,
        p("models[1].tensorParallelSize"),
        "set tensorParallelSize:",
    ),
    # --- memory fit -------------------------------------------------------------------------------------------------
    Case(
        "weights-do-not-fit",
        gated(id="meta-llama/Llama-3.1-70B-Instruct", instanceType="g6.xlarge", maxModelLen=8192),
        p("models[0].instanceType"),
        "use a larger GPU",
    ),
    Case(
        "max-model-len-does-not-fit-kv",
        gated(instanceType="g6.xlarge", maxModelLen=131072),
        p("models[0].maxModelLen"),
        "set maxModelLen to",
    ),
    Case(
        "max-model-len-above-model-limit",
        model(maxModelLen=65536),  # Qwen2.5 supports 32768
        p("models[0].maxModelLen"),
        "set it to 32768 or less",
    ),
    Case(
        "gpu-memory-utilization-above-one",
        model(gpuMemoryUtilization=1.5),
        p("models[0].gpuMemoryUtilization"),
        "at most 0.99",
    ),
    # --- dtype and quantization -------------------------------------------------------------------------------------
    Case(
        "bfloat16-on-t4",
        model(dtype="bfloat16", instanceType="g4dn.xlarge"),
        p("models[0].dtype"),
        "set dtype: float16",
    ),
    Case(
        "awq-on-unquantized-checkpoint",
        model(id="Qwen/Qwen2.5-7B-Instruct", quantization="awq", instanceType="g6e.xlarge"),
        p("models[0].quantization"),
        "serve a pre-quantized checkpoint",
    ),
    Case(
        "quantization-mismatches-checkpoint",
        model(quantization="gptq"),
        p("models[0].quantization"),
        "vLLM reads awq from the checkpoint",
    ),
    Case(
        "kv-cache-dtype-unknown",
        model(kvCacheDtype="fp16"),
        p("models[0].kvCacheDtype"),
        "use one of 'auto' or 'fp8'",
    ),
    # --- catalog lookups --------------------------------------------------------------------------------------------
    Case(
        "instance-type-typo",
        model(instanceType="g6.xlarg"),
        p("models[0].instanceType"),
        "did you mean 'g6.xlarge'?",
    ),
    Case(
        # Offline (the suite's Hub is), a repo the snapshot holds at another revision: the revision is the problem.
        "known-model-at-an-unreadable-revision",
        model(revision="not-a-branch"),
        p("models[0].revision"),
        "or remove revision to plan the snapshot's",
    ),
    Case(
        "unknown-model-without-architecture",
        model(id="acme/secret-sauce-9b"),
        p("models[0].id"),
        "an `architecture:` block",
    ),
    Case(
        "architecture-missing-max-position-embeddings",
        model(
            id="acme/secret-sauce-9b",
            architecture={
                "numLayers": 32,
                "numAttentionHeads": 32,
                "numKeyValueHeads": 8,
                "headDim": 128,
                "paramsBillion": 9,
            },
        ),
        p("models[0].architecture.maxPositionEmbeddings"),
        "set architecture.maxPositionEmbeddings",
    ),
    Case(
        "architecture-missing-params",
        model(
            id="acme/secret-sauce-9b",
            architecture={
                "numLayers": 32,
                "numAttentionHeads": 32,
                "numKeyValueHeads": 8,
                "headDim": 128,
                "maxPositionEmbeddings": 8192,
            },
        ),
        p("models[0].architecture.paramsBillion"),
        "set architecture.paramsBillion",
    ),
    Case(
        "architecture-config-json-missing",
        model(id="acme/secret-sauce-9b", architecture={"configJson": "/nonexistent/config.json"}),
        p("models[0].architecture.configJson"),
        "point it at a readable config.json",
    ),
    # --- secrets ----------------------------------------------------------------------------------------------------
    Case("gated-model-without-hf-token", without_hf_token, p("hfToken"), "pulumi config set --secret vllm-aws:hfToken"),
    # --- extraArgs --------------------------------------------------------------------------------------------------
    Case(
        "extra-args-unknown-flag",
        extra_args("--enable-chunkd-prefill"),
        p("models[0].extraArgs[0]"),
        "did you mean '--enable-chunked-prefill'?",
    ),
    Case(
        "extra-args-abbreviated-flag",
        extra_args("--enable-chunked-prefil"),
        p("models[0].extraArgs[0]"),
        "write --enable-chunked-prefill",
    ),
    Case(
        "extra-args-typed-flag",
        extra_args("--enable-chunked-prefill", "--max-model-len=4096"),
        p("models[0].extraArgs[1]"),
        "use maxModelLen",
    ),
    Case(
        "extra-args-typed-flag-underscored",
        extra_args("--max_num_seqs=8"),
        p("models[0].extraArgs[0]"),
        "use maxNumSeqs",
    ),
    Case(
        "extra-args-dotted-key-of-a-plain-flag",
        extra_args("--enable-chunked-prefill", "--max-log-len.limit", "100"),
        p("models[0].extraArgs[1]"),
        "pass --max-log-len VALUE",
    ),
    Case(
        "extra-args-bad-choice",
        extra_args("--convert", "bogus"),
        p("models[0].extraArgs[0]"),
        "use one of auto, classify, embed, none",
    ),
    Case(
        "extra-args-value-without-flag",
        extra_args("4096", "--enable-chunked-prefill"),
        p("models[0].extraArgs[0]"),
        "start extraArgs with a flag",
    ),
    Case(
        "extra-args-api-key",
        extra_args("--api-key", "sk-123"),
        p("models[0].extraArgs[0]"),
        "set the key with `pulumi config set --secret vllm-aws:apiKey ...`",
    ),
]


def test_cases_are_many_and_distinct() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) >= 25
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_names_path_value_and_fix(case: Case) -> None:
    with pytest.raises(ConfigError) as caught:
        plan_stack(parse_stack_config(case.build()))
    err = caught.value
    paths = [issue.path for issue in err.issues]
    assert any(issue.path == case.path for issue in err.issues), f"{case.path} not in {paths}"
    # Each case breaks one thing, so nothing else may be reported (no knock-on or duplicate issues).
    assert set(paths) == {case.path}, paths
    message = str(err)
    assert case.path in message
    for issue in err.issues:
        # A value the user set is shown as given; one they did not set says where it came from instead (#15).
        assert (f"({issue.origin})" if issue.origin else f"(got {format_value(issue.value)})") in message
    assert "Fix:" in message
    matching = [issue for issue in err.issues if issue.path == case.path]
    assert any(case.fix in issue.fix for issue in matching), f"{case.fix!r} not in {[i.fix for i in matching]}"
    assert case.fix in message
