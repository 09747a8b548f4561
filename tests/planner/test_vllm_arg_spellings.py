"""extraArgs accepts every spelling vLLM 0.33's parser accepts, checked flag by flag against its flag table.

The rules are FlexibleArgumentParser's (vllm/utils/argparse_utils.py in the vllm 0.33.0 wheel): underscores
before the first `.` become dashes, -O3/-O=3/-O 3 mean --optimization-level, dotted keys build one JSON value
for a config or dict flag, EnableDisableAction keeps the declared flag's hidden --no- form, argparse takes
--flag=value. What vLLM rejects (unknown flags, a bad choice, a dotted key of a flag that takes no JSON) stays
rejected, and so does a typed key in any spelling.
"""

from __future__ import annotations

from typing import Any

import pytest

from components import catalog
from components.config import ModelConfig
from components.errors import ConfigIssue, KeyPaths
from components.planner.vllm_arg_spellings import flag_uses, json_destinations, option_table
from components.planner.vllm_args import TYPED_FLAGS, extra_args_issues

FLAGS = catalog.serve_flags()


def issues(*tokens: str) -> list[ConfigIssue]:
    model = ModelConfig.model_validate({"name": "m", "id": "Qwen/Qwen2.5-7B-Instruct", "extraArgs": list(tokens)})
    return extra_args_issues(KeyPaths(("models", 0)), model)


def accepted(option: str, spec: dict[str, Any], *tokens: str) -> None:
    found = issues(*tokens)
    if spec["dest"] in TYPED_FLAGS:
        assert [i.problem.split(" owned by ")[0] for i in found] == ["duplicates a typed setting"], (tokens, found)
    else:
        assert found == [], (tokens, found)


def underscored(option: str) -> str:
    return "--" + option[2:].replace("-", "_") if option.startswith("--") else option


@pytest.mark.parametrize("option", sorted(FLAGS))
def test_every_flag_of_the_table_in_every_spelling(option: str) -> None:
    spec = FLAGS[option]
    for spelling in {option, underscored(option)}:
        accepted(option, spec, spelling)
        accepted(option, spec, "--enable-chunked-prefill", spelling)  # not first: a flag after another
        for choice in spec["choices"] or []:
            accepted(option, spec, spelling, choice)
            accepted(option, spec, f"{spelling}={choice}")
        if spec["choices"] and spec["dest"] not in TYPED_FLAGS:
            (bad,) = issues(f"{spelling}=bogus")
            assert bad.problem == f"'bogus' is not a choice of {option}"


def test_the_hidden_no_forms_of_enable_disable_pairs() -> None:
    hidden = {name: spec for name, spec in option_table().items() if name not in FLAGS}
    # 0.33.0 has 50 --enable-x/--disable-x pairs; each keeps the --no- form of the flag as declared.
    assert len(hidden) == 50 and all(name.startswith(("--no-enable-", "--no-disable-")) for name in hidden)
    assert "--no-enable-prefix-caching" in hidden and "--no-enable-log-requests" in hidden
    for name, spec in hidden.items():
        accepted(name, dict(spec), name)
        accepted(name, dict(spec), underscored(name))


@pytest.mark.parametrize(
    "tokens",
    [
        ("--disable-log-requests",),  # 0.33: the inverse of --enable-log-requests (EnableDisableAction), a no-op
        ("--enable-log-requests",),
        ("-O3",),
        ("-O=3",),
        ("-O", "0"),
        ("--optimization-level", "2"),
        ("--optimization_level=1",),
        ("--compilation-config.mode", "3"),
        ("--compilation_config.mode=3",),
        ("-cc.mode", "3"),
        ("-cc.pass_config.fuse_allreduce_rms", "true"),
        ("--compilation-config.cudagraph_capture_sizes+", "1,2,4"),
        ("--compilation-config", '{"mode": 3}'),
        ("--speculative-config.num_speculative_tokens=3", "--speculative-config.method", "ngram"),
        ("--max_log_len", "100", "--enable_chunked_prefill"),
        ("--no-enable-chunked-prefill",),
        ("--kv-transfer-config.kv_role", "kv_both"),
    ],
    ids=" ".join,
)
def test_spellings_users_write(tokens: tuple[str, ...]) -> None:
    assert issues(*tokens) == []


@pytest.mark.parametrize(
    ("tokens", "problem"),
    [
        (("-tp", "2"), "duplicates a typed setting owned by tensorParallelSize"),
        (("-tp=2",), "duplicates a typed setting owned by tensorParallelSize"),
        (("--tensor_parallel_size", "2"), "duplicates a typed setting owned by tensorParallelSize"),
        (("--no-enable-prefix-caching",), "duplicates a typed setting owned by enablePrefixCaching"),
        (("--enable_prefix_caching",), "duplicates a typed setting owned by enablePrefixCaching"),
        (("-q", "fp8"), "duplicates a typed setting owned by quantization"),
        (("--served_model_name=x",), "duplicates a typed setting owned by name"),
        (("--api_key", "sk"), "duplicates a typed setting owned by the apiKey secret"),
        (("--max-log-len.limit", "100"), "sets the key 'limit' of --max-log-len, which takes no JSON"),
        (("-O", "decode"), "is not a `vllm serve` flag"),  # only 0-3 may follow a spaced -O
        (("--no-such-flag",), "is not a `vllm serve` flag"),
        (("--no-enable-log-stats",), "is not a `vllm serve` flag"),
        (("--enable-chunked-pre",), "abbreviates --enable-chunked-prefill"),
        (("--max-log",), "is not a `vllm serve` flag"),  # ambiguous: --max-log-len, --max-logprobs
        (("--convert", "bogus"), "'bogus' is not a choice of --convert"),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, tuple) else "",
)
def test_what_vllm_rejects_or_a_typed_key_owns(tokens: tuple[str, ...], problem: str) -> None:
    (issue,) = issues(*tokens)
    assert issue.problem.startswith(problem), issue


def test_dotted_keys_only_for_flags_that_take_json() -> None:
    json_dests = json_destinations()
    assert {"compilation_config", "speculative_config", "hf_overrides", "kv_transfer_config"} <= json_dests
    assert json_dests <= {spec["dest"] for spec in FLAGS.values()}
    for option, spec in FLAGS.items():
        found = issues(f"{option}.key", "1")
        if spec["dest"] in TYPED_FLAGS:
            continue
        assert (found == []) == (spec["dest"] in json_dests), (option, found)


def test_a_dotted_key_takes_the_next_token_whatever_it_looks_like() -> None:
    (use,) = flag_uses(["-cc.mode", "-1"])
    assert (use.option, use.json_key, use.value, use.written) == ("-cc", "mode", "-1", "-cc.mode -1")
    (level,) = flag_uses(["-O", "3"])
    assert (level.option, level.value) == ("--optimization-level", "3")
