"""Every problem in one run, across keys and models (#15), and no message shows a value the user did not set as if
they had set it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from repo import PROJECT_DIR

from components.config import parse_stack_config
from components.errors import ConfigError, ConfigIssue
from components.planner import plan_config

ARN = "arn:aws:acm:eu-west-1:123456789012:certificate/0123abcd-4567-89ef-0123-456789abcdef"


def _issues(raw: dict[str, Any]) -> list[ConfigIssue]:
    # Plain HTTP knowingly, unless the case is about the front door: the transport check is not what these test.
    raw = {"loadBalancer": {"allowPlainHttp": True}, **raw}
    with pytest.raises(ConfigError) as raised:
        plan_config(lambda: parse_stack_config(raw))
    return list(raised.value.issues)


def test_seven_independent_problems_in_keys_and_models_arrive_in_one_run(tmp_path: Path) -> None:
    config = {
        "vllm-aws:cahce": {"sizeGib": 200},  # misspelled top-level key
        "vllm-aws:loadBalancer": {"domain": "Not A Domain"},
        "vllm-aws:models": [
            {"name": "a", "id": "Qwen/Qwen2.5-7B-Instruct", "dtype": "fp32"},
            # gated, no hfToken, too big for a T4, and an unknown flag: three problems of one model
            {
                "name": "b",
                "id": "meta-llama/Llama-3.1-8B-Instruct",
                "instanceType": "g4dn.xlarge",
                "maxModelLen": 4096,
                "extraArgs": ["--no-such-flag"],
            },
            {"name": "c", "id": "Qwen/Qwen2.5-7B-Instruct", "instanceType": "g6e.12xlarge", "tensorParallelSize": 3},
        ],
    }
    path = tmp_path / "Pulumi.bad.yaml"
    path.write_text(yaml.safe_dump({"config": config}), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "components", "plan", "--config", str(path)],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT_DIR)},
    )
    assert (result.returncode, result.stdout) == (2, "")
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: invalid configuration (7 problems):")
    paths = [line.split(": ")[0].removeprefix("  - ") for line in result.stderr.splitlines()[1:]]
    assert paths == [
        "vllm-aws:cahce",
        "vllm-aws:models[0].dtype",
        "vllm-aws:loadBalancer.domain",
        "vllm-aws:hfToken",
        "vllm-aws:models[1].extraArgs[0]",
        "vllm-aws:models[1].instanceType",
        "vllm-aws:models[2].tensorParallelSize",
    ]


def test_cross_section_checks_report_every_clash() -> None:
    model = {"id": "Qwen/Qwen2.5-7B-Instruct", "instanceType": "g6e.xlarge"}
    issues = _issues(
        {
            "models": [{"name": "a", **model}, {"name": "a", **model}],
            "loadBalancer": {"certificateArn": ARN},
            "tagz": {},
        }
    )
    assert [issue.path for issue in issues] == [
        "vllm-aws:tagz",
        "vllm-aws:models[1].name",
        "vllm-aws:loadBalancer.certificateArn",
    ]


def test_a_bad_key_the_planner_reads_silences_the_checks_that_need_it() -> None:
    # The image decides the CUDA checks: planning with the default instead would judge an image nobody chose.
    issues = _issues({"image": "vllm/vllm-openai:latest", "models": [{"name": "a", "id": "Qwen/Qwen2.5-7B-Instruct"}]})
    assert [issue.path for issue in issues] == ["vllm-aws:image"]


def test_the_hf_token_error_does_not_hide_that_the_weights_do_not_fit() -> None:
    issues = _issues(
        {"models": [{"name": "b", "id": "meta-llama/Llama-3.1-8B-Instruct", "instanceType": "g4dn.xlarge"}]}
    )
    assert [issue.path for issue in issues] == ["vllm-aws:hfToken", "vllm-aws:models[0].instanceType"]
    assert str(issues[0]).endswith(
        "(not set). Fix: accept the licence on huggingface.co, then "
        "`pulumi config set --secret vllm-aws:hfToken hf_...`"
    )


def test_a_tensor_parallel_size_wrong_twice_is_one_issue_with_one_fix() -> None:
    # TP 3 divides none of Qwen2.5-7B's 28 heads and exceeds g6.xlarge's one GPU: two problems, one key, one fix
    # (apart, "use one of 1, 2, 4, 7" and "use tensorParallelSize <= 1" contradicted each other).
    model = {"name": "a", "id": "Qwen/Qwen2.5-7B-Instruct", "instanceType": "g6.xlarge", "tensorParallelSize": 3}
    (issue,) = [i for i in _issues({"models": [model]}) if i.path.endswith("tensorParallelSize")]
    assert "does not divide the 28 attention heads" in issue.problem and "more than the 1 GPU(s)" in issue.problem
    assert issue.fix.startswith("use 1 (the sizes that divide the heads of Qwen/Qwen2.5-7B-Instruct and fit the 1 ")


def test_a_sizing_problem_silences_the_fit_check_that_would_use_it() -> None:
    # TP 3 does not divide 28 heads: a memory fit at TP 3 would be a message about a configuration vLLM refuses.
    issues = _issues(
        {
            "models": [
                {
                    "name": "c",
                    "id": "Qwen/Qwen2.5-7B-Instruct",
                    "instanceType": "g4dn.12xlarge",
                    "tensorParallelSize": 3,
                }
            ]
        }
    )
    assert [issue.path for issue in issues] == ["vllm-aws:models[0].tensorParallelSize"]


# --- messages that show a value the user did not set say where it came from ------------------------------------------


def _only(raw_model: dict[str, Any], **top: Any) -> str:
    (issue,) = _issues({"models": [{"name": "m", **raw_model}], **top})
    return str(issue)


def test_defaulted_max_model_len_is_named_as_the_models_default() -> None:
    message = _only({"id": "meta-llama/Llama-3.1-8B-Instruct", "instanceType": "g6.xlarge"}, hfToken="hf_x")
    assert message.startswith("vllm-aws:models[0].maxModelLen: does not fit")
    assert "(got" not in message
    assert "(not set; maxModelLen defaults to the model's 131,072)" in message


def test_set_max_model_len_is_shown_as_given() -> None:
    message = _only(
        {"id": "meta-llama/Llama-3.1-8B-Instruct", "instanceType": "g6.xlarge", "maxModelLen": 100000}, hfToken="hf_x"
    )
    assert "(got 100000)" in message


def test_weights_that_do_not_fit_name_the_default_utilization_and_tp_as_defaults() -> None:
    message = _only({"id": "Qwen/Qwen2.5-32B-Instruct", "instanceType": "g6.xlarge", "maxModelLen": 4096})
    assert "(gpuMemoryUtilization 0.92 (the default) x" in message
    assert "at TP 1 (the default)" in message


def test_nothing_fits_names_the_defaulted_tp_and_context() -> None:
    huge = {
        "numLayers": 126,
        "numAttentionHeads": 128,
        "numKeyValueHeads": 8,
        "headDim": 128,
        # Beyond any catalog host at any TP size (the planner searches TP 1-8 when it is not set).
        "paramsBillion": 4000,
        "maxPositionEmbeddings": 131072,
    }
    message = _only({"id": "acme/huge", "architecture": huge})
    assert message.startswith("vllm-aws:models[0].tensorParallelSize: no priced catalog instance fits")
    assert "(not set; maxModelLen not set: the model's own 131,072)" in message


def test_an_architecture_block_reports_every_missing_number_at_once_with_its_key_path() -> None:
    issues = _issues(
        {
            "models": [
                {"name": "m", "id": "acme/private-model", "architecture": {"numLayers": 32}},
                {"name": "n", "id": "acme/other-model", "architecture": {"headDim": 128, "paramsBillion": 7}},
            ]
        }
    )
    assert [issue.path for issue in issues] == [
        "vllm-aws:models[0].architecture.numAttentionHeads",
        "vllm-aws:models[0].architecture.numKeyValueHeads",
        "vllm-aws:models[0].architecture.headDim",
        "vllm-aws:models[0].architecture.maxPositionEmbeddings",
        "vllm-aws:models[0].architecture.paramsBillion",
        "vllm-aws:models[1].architecture.numLayers",
        "vllm-aws:models[1].architecture.numAttentionHeads",
        "vllm-aws:models[1].architecture.numKeyValueHeads",
        "vllm-aws:models[1].architecture.maxPositionEmbeddings",
    ]
    message = str(issues[0])
    assert "is needed to size acme/private-model" in message
    assert "(not set)" in message and "got None" not in message


def test_a_checkpoints_own_quantization_is_blamed_on_the_id_not_an_unset_key() -> None:
    issues = _issues(
        {
            "models": [
                {"name": "m", "id": "Qwen/Qwen2.5-7B-Instruct-AWQ", "instanceType": "p3.2xlarge", "maxModelLen": 4096}
            ]
        }
    )
    int4 = [issue for issue in issues if "AWQ/GPTQ kernels" in issue.problem]
    assert [(issue.path, issue.value) for issue in int4] == [("vllm-aws:models[0].id", "Qwen/Qwen2.5-7B-Instruct-AWQ")]


def test_an_absent_load_balancer_section_is_not_set_not_an_empty_value() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_stack_config({"models": [{"name": "m", "id": "Qwen/Qwen2.5-7B-Instruct"}]})
    (issue,) = raised.value.issues
    assert issue.path == "vllm-aws:loadBalancer"
    assert "(not set)" in str(issue) and "got {}" not in str(issue)


@pytest.mark.parametrize(
    ("models", "problem", "fix"),
    [
        ([], "List should have at least 1 item, not 0", "give at least one entry"),
        ({"name": "m"}, "Input should be a valid list", "use a list value"),
    ],
)
def test_list_keys_are_named_lists_as_in_yaml_not_tuples(models: object, problem: str, fix: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_stack_config({"models": models, "loadBalancer": {"allowPlainHttp": True}})
    (issue,) = raised.value.issues
    assert (issue.path, issue.problem, issue.fix) == ("vllm-aws:models", problem, fix)
    assert "tuple" not in str(issue).lower()


def test_a_bad_cache_or_token_does_not_hide_the_models_problems_nor_judge_their_defaults() -> None:
    issues = _issues(
        {
            # sizeGib 10 is below gp3's minimum: the planner's own cache check would judge the default instead.
            "cache": {"sizeGib": 10},
            "hfToken": "",
            "models": [
                {"name": "a", "id": "Qwen/Qwen2.5-7B-Instruct-AWQ", "instanceType": "g6.xlarge", "maxModelLen": 100000},
                # gated: with the token rejected, "hfToken is required" would repeat the token's own problem
                {"name": "b", "id": "meta-llama/Llama-3.1-8B-Instruct", "instanceType": "g4dn.xlarge"},
            ],
        }
    )
    assert [issue.path for issue in issues] == [
        "vllm-aws:cache.sizeGib",
        "vllm-aws:hfToken",
        "vllm-aws:models[0].maxModelLen",
        "vllm-aws:models[1].instanceType",
    ]


def test_a_file_that_does_not_exist_shows_no_value(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "components", "plan", "--stack", "nope", "--project-dir", str(tmp_path)],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT_DIR)},
    )
    assert result.returncode == 2
    assert result.stderr == (
        f"error: invalid configuration: {tmp_path}/Pulumi.nope.yaml: does not exist. Fix: pass --stack NAME or "
        "--config FILE\n"
    )


@pytest.mark.parametrize(("typo", "meant"), [("modle", "models"), ("chace", "cache"), ("tgas", "tags")])
def test_a_top_level_key_with_swapped_letters_gets_its_hint(typo: str, meant: str) -> None:
    issues = _issues({typo: {}, "models": [{"name": "m", "id": "Qwen/Qwen2.5-7B-Instruct-AWQ"}]})
    assert [(issue.path, issue.fix) for issue in issues] == [(f"vllm-aws:{typo}", f"did you mean '{meant}'?")]


def test_a_stack_file_that_is_not_yaml_shows_no_value(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.bad.yaml"
    path.write_text("config:\n  vllm-aws:models:\n  - name: a\n    id: x\n      instanceType: g6.xlarge\n")
    result = subprocess.run(
        [sys.executable, "-m", "components", "plan", "--config", str(path)],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT_DIR)},
    )
    assert result.returncode == 2
    assert "is not valid YAML" in result.stderr and result.stderr.endswith("). Fix: fix the syntax\n")
    assert "got None" not in result.stderr and "Traceback" not in result.stderr


def test_a_context_length_the_user_did_not_set_is_named_as_the_models_own() -> None:
    def reason(**model: Any) -> str:
        raw = {
            "loadBalancer": {"allowPlainHttp": True},
            "models": [{"name": "m", "id": "Qwen/Qwen2.5-7B-Instruct", **model}],
        }
        return plan_config(lambda: parse_stack_config(raw)).models[0].instance_reason

    assert "x 32,768-token sequences, the model's own context with maxModelLen not set" in reason()
    assert "x 8,192-token sequences (TP searched" in reason(maxModelLen=8192)
