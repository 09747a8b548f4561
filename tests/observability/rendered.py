"""What the observability tests share: the rendered rules and dashboards, their queries, and promtool."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import yaml
from repo import DATA_DIR
from tools import require_tool

from components.observability import (
    ExpectedModel,
    PrometheusSpec,
    StackAlertsSpec,
    render_alert_rules,
    render_dashboards,
    unknown_vllm_metrics,
)

UNIT_TESTS = DATA_DIR / "alert_rules_test.yml"
SPEC = PrometheusSpec(stack="prod", region="eu-west-1")
# The inventory tests/data/stack_alert_rules_test.yml is written for (its header says the same).
INVENTORY = StackAlertsSpec(
    models=(
        ExpectedModel(name="qwen-8b", replicas=2, weight_bytes=16_400_000_000),
        ExpectedModel(name="qwen-7b", replicas=3, replicas_per_host=2, weight_bytes=15_200_000_000),
    ),
    image_pull_bytes=45_000_000_000,
)
# The serving and host alerts (tests/data/alert_rules_test.yml); the inventory's are tested on their own.
SERVING_GROUPS = ("vllm-aws.vllm", "vllm-aws.gpu-hosts")


def promtool(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    binary = require_tool("promtool", "prometheus")
    return subprocess.run([binary, *map(str, args)], capture_output=True, text=True, cwd=cwd, check=False)


def rules_text() -> str:
    return render_alert_rules(INVENTORY)


def all_rules() -> list[dict[str, Any]]:
    """Every rule of the file, recording rules included."""
    return [rule for group in yaml.safe_load(rules_text())["groups"] for rule in group["rules"]]


def alert_rules() -> list[dict[str, Any]]:
    """The serving and host alerts."""
    groups = yaml.safe_load(rules_text())["groups"]
    return [rule for group in groups if group["name"] in SERVING_GROUPS for rule in group["rules"]]


def dashboards() -> dict[str, dict[str, Any]]:
    return {name: json.loads(text) for name, text in render_dashboards().items()}


def panel_targets() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    return [
        (name, panel, target)
        for name, board in dashboards().items()
        for panel in board["panels"]
        for target in panel["targets"]
    ]


def variable_queries() -> list[str]:
    # label_values(<selector>, <label>) is Grafana syntax; its selector is PromQL.
    queries = [v["definition"] for board in dashboards().values() for v in board["templating"]["list"]]
    selectors = [re.fullmatch(r"label_values\((.+), *\w+\)", q) for q in queries]
    assert all(selectors), queries
    return [m.group(1) for m in selectors if m]


def unknown_in_rules(rules_text: str) -> set[str]:
    """The checker over a whole rules file: what the removed-name tests run on a broken copy too."""
    rules = [rule for group in yaml.safe_load(rules_text)["groups"] for rule in group["rules"]]
    return set().union(*(unknown_vllm_metrics(rule["expr"]) for rule in rules))


def substitute_grafana_variables(expr: str) -> str:
    expr = re.sub(r"\$__(rate_interval|interval|range)\b", "5m", expr)
    expr = re.sub(r"\$\{?(\w+)\}?", "qwen-8b", expr)
    assert "$" not in expr, expr
    return expr
