"""`python -m components plan|render` as a user runs it: output shape, formats and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from repo import DATA_DIR, PROJECT_DIR
from tools import require_tool, shellcheck

# The documented plan JSON shape (docs/plan-json.md). Adding keys is compatible; removing or renaming is not.
TOP_KEYS = {
    "schemaVersion",
    "stack",
    "region",
    "image",
    "nvidiaDriver",
    "images",
    "models",
    "resources",
    "cost",
    "quotas",
    "warnings",
}
QUOTA_KEYS = {"quota", "code", "service", "scope", "unit", "needed", "awsDefault"}
MODEL_KEYS = {
    "name",
    "id",
    "revision",
    "shapeSource",
    "instanceType",
    "instanceReason",
    "gpu",
    "gpuCount",
    "tensorParallelSize",
    "replicas",
    "hosts",
    "fit",
    "cacheSizeGib",
    "coldStart",
    "cost",
    "vllmArgs",
}
FIT_KEYS = {
    "gpuMemoryGib",
    "weightsGib",
    "reserveGib",
    "kvCacheGibPerGpu",
    "kvCacheTokens",
    "maxConcurrency",
    "maxModelLen",
}
COLD_START_KEYS = {
    "firstBootSeconds",
    "warmCacheSeconds",
    "hostReplacementSeconds",
    "hostRestartSeconds",
    "containerFirstStartSeconds",
}
RESOURCE_KEYS = {"type", "name", "urn", "parent", "custom", "inputs", "options"}
OPTION_KEYS = {
    "protect",
    "retainOnDelete",
    "deleteBeforeReplace",
    "ignoreChanges",
    "replaceOnChanges",
    "dependsOn",
    "propertyDependencies",
    "provider",
    "deletedWith",
    "replaceWith",
    "replacementTrigger",
    "aliases",
}


def cli(*args: str, cwd: Path = PROJECT_DIR) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "components", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT_DIR)},
    )


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_plan_json_has_the_documented_shape(stack: str) -> None:
    result = cli("plan", "--stack", stack, "--format", "json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert set(document) == TOP_KEYS
    assert document["stack"] == stack and document["schemaVersion"] == 1
    for model in document["models"]:
        assert set(model) == MODEL_KEYS
        assert set(model["fit"]) == FIT_KEYS
        assert set(model["coldStart"]) == COLD_START_KEYS
        assert set(model["cost"]) == {"hourlyUsd", "monthlyUsd", "instancePrice"}
        price = model["cost"]["instancePrice"]
        assert set(price) == {"usdPerHour", "market", "region", "asOf", "source", "stale", "note"}
        assert price["region"] == document["region"] and price["asOf"] and price["market"] == "on-demand"
        assert set(model["revision"]) == {"configured", "resolvedSha"} and model["shapeSource"]
        assert model["vllmArgs"][:3] == [model["id"], "--served-model-name", model["name"]]
    for resource in document["resources"]:
        assert set(resource) == RESOURCE_KEYS
        assert set(resource["options"]) == OPTION_KEYS
        # The URN carries the parent type chain (a reparent is a new resource to the engine).
        assert resource["urn"].startswith(f"urn:pulumi:{stack}::vllm-aws::")
        assert resource["urn"].endswith(f"{resource['type']}::{resource['name']}")
    (instance, *_) = (r for r in document["resources"] if r["name"].endswith("-0-instance"))
    assert "::vllm-aws:index:VllmDeployment$vllm-aws:index:GpuHost$aws:ec2/instance:Instance::" in instance["urn"]
    assert set(document["cost"]) == {"hourlyUsd", "monthlyUsd", "lowerBound", "note"}
    assert document["cost"]["lowerBound"] is False
    assert document["quotas"] and all(set(quota) == QUOTA_KEYS for quota in document["quotas"])


def test_the_same_config_prints_the_same_plan_json_byte_for_byte() -> None:
    # The mock engine receives inputs as protobuf Structs, whose maps iterate in a per-process order: two runs
    # printed the same plan with keys in different orders, so a PR diff or a byte comparison saw changes.
    runs = [
        subprocess.run(
            [sys.executable, "-m", "components", "plan", "--stack", "prod", "--format", "json"],
            cwd=PROJECT_DIR,
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    ]
    assert runs[0] == runs[1]


def test_plan_table_is_readable_and_markdown_is_a_table() -> None:
    table = cli("plan", "--stack", "dev")
    assert table.returncode == 0, table.stderr
    assert "qwen-7b" in table.stdout and "g6.xlarge" in table.stdout and "Total:" in table.stdout
    markdown = cli("plan", "--stack", "prod", "--format", "markdown")
    assert markdown.returncode == 0, markdown.stderr
    assert "| model | instance |" in markdown.stdout and "<details>" in markdown.stdout


def test_secret_values_never_appear_in_plan_output(tmp_path: Path) -> None:
    config = tmp_path / "Pulumi.offline.yaml"
    config.write_text(
        "config:\n"
        "  vllm-aws:models: [{name: qwen-8b, id: meta-llama/Llama-3.1-8B-Instruct, maxModelLen: 8192}]\n"
        "  vllm-aws:loadBalancer: {allowPlainHttp: true}\n"
        "  vllm-aws:hfToken: hf_do_not_print_me\n"
        "  vllm-aws:apiKey: sk_do_not_print_me\n"
    )
    for fmt in ("json", "table", "markdown"):
        result = cli("plan", "--config", str(config), "--format", fmt, "--project-dir", str(PROJECT_DIR))
        assert result.returncode == 0, result.stderr
        assert "do_not_print_me" not in result.stdout + result.stderr


def test_bad_input_exits_2_with_one_clean_message(tmp_path: Path) -> None:
    config = tmp_path / "Pulumi.bad.yaml"
    config.write_text(
        "config:\n  vllm-aws:models: [{name: q, id: Qwen/Qwen2.5-7B-Instruct, tensorParallelSize: 3}]\n"
        "  vllm-aws:loadBalancer: {allowPlainHttp: true}\n"
    )
    result = cli("plan", "--config", str(config))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("error: invalid configuration: vllm-aws:models[0].tensorParallelSize: ")
    assert "Fix: use one of 1, 2, 4, 7" in result.stderr
    assert "Traceback" not in result.stderr


def test_config_json_is_relative_to_the_config_file_wherever_plan_runs(tmp_path: Path) -> None:
    # Issue #12: `plan --config /elsewhere/Pulumi.x.yaml` with configJson ./x.json reads /elsewhere/x.json, though
    # the CLI runs the program in the project directory (as Pulumi does); an absolute path is read as written.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "x.json").write_text(
        (DATA_DIR / "hf" / "meta-llama__Llama-3.1-8B-Instruct" / "config.json").read_text()
    )
    config = elsewhere / "Pulumi.x.yaml"
    for path in ("./x.json", str(elsewhere / "x.json")):
        config.write_text(
            "config:\n"
            f"  vllm-aws:models: [{{name: m, id: acme/llama-copy, architecture: {{configJson: '{path}'}}}}]\n"
            "  vllm-aws:loadBalancer: {allowPlainHttp: true}\n"
        )
        result = cli("plan", "--config", str(config), "--format", "json")
        assert result.returncode == 0, result.stderr
        (model,) = json.loads(result.stdout)["models"]
        # Only /elsewhere has x.json (the CLI runs in the project directory): the plan read that file.
        assert model["shapeSource"] == "configJson file: acme/llama-copy" and model["fit"]["weightsGib"] > 14


def test_a_config_json_that_is_not_there_names_the_key_the_path_looked_at_and_the_fix(tmp_path: Path) -> None:
    config = tmp_path / "Pulumi.x.yaml"
    config.write_text(
        "config:\n"
        "  vllm-aws:models: [{name: m, id: acme/llama-copy, architecture: {configJson: models/missing.json}}]\n"
        "  vllm-aws:loadBalancer: {allowPlainHttp: true}\n"
    )
    result = cli("plan", "--config", str(config))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: invalid configuration: vllm-aws:models[0].architecture.configJson: ")
    assert f"looked at {tmp_path / 'models' / 'missing.json'}" in result.stderr
    assert "relative to the directory of the config file" in result.stderr


@pytest.mark.parametrize(
    "args",
    [("plan", "--stack", "nope"), ("plan", "--format", "yaml"), ("frobnicate",), ("render", "--stack", "dev")],
    ids=["missing-stack-file", "unknown-format", "unknown-command", "render-without-out"],
)
def test_usage_errors_exit_2_without_traceback(args: tuple[str, ...]) -> None:
    result = cli(*args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "error:" in result.stderr


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_rendered_user_data_of_every_host_passes_cloud_init_schema(stack: str, tmp_path: Path) -> None:
    out = tmp_path / "out"  # tmp_path also holds the test's home directory: render refuses a foreign folder
    result = cli("render", "--stack", stack, "--out", str(out))
    assert result.returncode == 0, result.stderr
    user_data = sorted((out / "hosts").glob("*/user-data.yaml"))
    assert len(user_data) == {"dev": 1, "prod": 4}[stack]  # prod: three GPU hosts and the monitoring host
    cloud_init = require_tool("cloud-init", "cloud-init")
    for path in user_data:
        check = subprocess.run(
            [cloud_init, "schema", "--config-file", str(path)], capture_output=True, text=True, check=False
        )
        assert check.returncode == 0, check.stdout + check.stderr
    promtool = require_tool("promtool", "prometheus")
    (config,) = (out / "containers").glob("*-prometheus/etc/prometheus/prometheus.yml")
    check = subprocess.run([promtool, "check", "config", str(config)], capture_output=True, text=True, check=False)
    assert check.returncode == 0 and "SUCCESS" in check.stdout + check.stderr, check.stdout + check.stderr
    scripts = [*(out / "bootstrap").glob("*.sh"), *(out / "containers").glob("*/usr/local/bin/*")]
    assert len(scripts) >= 3
    for script in scripts:
        lint = subprocess.run([shellcheck(), str(script)], capture_output=True, text=True, check=False)
        assert lint.returncode == 0, lint.stdout


def test_render_writes_the_vllm_arguments_of_every_model(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = cli("render", "--stack", "prod", "--out", str(out))
    assert result.returncode == 0, result.stderr
    args = json.loads((out / "vllm" / "qwen-72b.args.json").read_text())
    assert args[0] == "Qwen/Qwen2.5-72B-Instruct"
    assert args[args.index("--tensor-parallel-size") + 1] == "4"
    assert (out / "vllm" / "qwen-8b.args.sh").read_text().splitlines()[-1].startswith("exec vllm serve Qwen/")
