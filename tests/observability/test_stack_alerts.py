"""The alert rules rendered with the stack's inventory (components/observability/stack_alerts.py), with promtool.

``promtool check rules`` validates the file and ``promtool test rules`` runs tests/data/stack_alert_rules_test.yml
on it: a stopped host's server and host are missing within 5 minutes, a replacement under the same replica
silences them once it reports, a server that is discovered but down is not missing, each cache is judged against
its own model's weights, and the watchdog always fires. Each broken rule below must make those tests fail.
"""

from __future__ import annotations

import math
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError
from rendered import INVENTORY, alert_rules
from repo import DATA_DIR
from stack_runs import of_type, run_stack
from tools import require_tool

from components.observability import (
    EXPECTED_HOST_METRIC,
    EXPECTED_SERVER_METRIC,
    MODEL_TAG,
    REPLICA_TAG,
    SERVERS_TAG,
    VLLM_PORT,
    WATCHDOG_ALERT,
    ExpectedModel,
    PrometheusSpec,
    StackAlertsSpec,
    metric_names_in_expression,
    render_alert_rules,
    unknown_vllm_metrics,
)
from components.observability.prometheus import EC2_SD_REFRESH_SECONDS, EVALUATION_INTERVAL_SECONDS
from components.observability.stack_alerts import MISSING_FOR, WEIGHT_BYTES_METRIC
from components.serving import watchdog

UNIT_TESTS = DATA_DIR / "stack_alert_rules_test.yml"
SPEC = INVENTORY
NEW_ALERTS = {
    "VllmReplicaMissing",
    "GpuHostMissing",
    "ModelCacheCannotHoldNewRevision",
    "RootDiskCannotHoldImageUpgrade",
    WATCHDOG_ALERT,
    "AlertDeliveryFailing",
}


def promtool(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    binary = require_tool("promtool", "prometheus")
    return subprocess.run([binary, *map(str, args)], capture_output=True, text=True, cwd=cwd, check=False)


def rules(text: str) -> list[dict[str, Any]]:
    return [rule for group in yaml.safe_load(text)["groups"] for rule in group["rules"]]


def run_unit_tests(tmp_path: Path, rules_text: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "rules.yml").write_text(rules_text)  # the name the unit-test file gives
    shutil.copy(UNIT_TESTS, tmp_path / UNIT_TESTS.name)
    return promtool("test", "rules", UNIT_TESTS.name, cwd=tmp_path)


def test_rules_with_the_inventory_pass_promtool_check_rules(tmp_path: Path) -> None:
    path = tmp_path / "rules.yml"
    path.write_text(render_alert_rules(SPEC))
    result = promtool("check", "rules", path)
    assert result.returncode == 0, result.stdout + result.stderr
    # 5 servers, 4 hosts, 2 weights recorded; 14 serving and host alerts, 6 new ones.
    assert f"SUCCESS: {5 + 4 + 2 + 14 + 6} rules found" in result.stdout


def test_new_alerts_fire_and_stay_silent_as_promtool_test_rules_expects(tmp_path: Path) -> None:
    result = run_unit_tests(tmp_path, render_alert_rules(SPEC))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


@pytest.mark.parametrize(
    ("original", "broken"),
    [
        # Without port, one undiscovered server of a host hides behind the other.
        ("unless on (model, replica, port) up", "unless on (model, replica) up"),
        # Counting a discovered-but-down server as missing pages on every cold start.
        ('port) up{job="vllm"}', 'port) (up{job="vllm"} == 1)'),
        # A longer `for` misses the 5 minutes.
        ("for: 2m", "for: 5m"),
        # A host is there while either exporter reports.
        ('up{job=~"node|dcgm"}', 'up{job="node"}'),
        # One threshold for every cache: qwen-8b's cache would pass on qwen-7b's smaller weights.
        ("vector(16400000000)", "vector(15200000000)"),
        ("< 45000000000", "< 25000000000"),
        ("alert: Watchdog\n    expr: vector(1)", "alert: Watchdog\n    expr: absent(up)"),
    ],
    ids=[
        "servers-of-a-host-merged",
        "down-counted-as-missing",
        "missing-too-slow",
        "host-needs-node-exporter",
        "one-cache-threshold",
        "root-threshold",
        "watchdog-silent",
    ],
)
def test_promtool_unit_tests_catch_a_broken_inventory_rule(tmp_path: Path, original: str, broken: str) -> None:
    rules_text = render_alert_rules(SPEC)
    assert original in rules_text
    result = run_unit_tests(tmp_path, rules_text.replace(original, broken))
    assert result.returncode != 0, result.stdout
    assert "FAILED" in result.stdout + result.stderr


def test_unit_tests_cover_every_new_alert_firing_and_silent() -> None:
    cases = yaml.safe_load(UNIT_TESTS.read_text())["tests"]
    checks = [check for test in cases for check in test["alert_rule_test"]]
    fired = {check["alertname"] for check in checks if check["exp_alerts"]}
    silent = {check["alertname"] for check in checks if check["exp_alerts"] == []}
    assert fired >= NEW_ALERTS
    assert NEW_ALERTS - {WATCHDOG_ALERT} <= silent  # the watchdog is never silent
    new_rules = {rule["alert"] for rule in rules(render_alert_rules(SPEC)) if "alert" in rule}
    new_rules -= {rule["alert"] for rule in alert_rules()}
    assert new_rules == NEW_ALERTS
    for test in cases:
        for series in test["input_series"]:
            assert unknown_vllm_metrics(series["series"]) == set(), series


def test_missing_fires_within_five_minutes_of_a_stop_at_the_stacks_scrape_interval() -> None:
    # Discovery drops the stopped host's targets at its next refresh; the staleness markers follow 2 scrape
    # intervals + 10% later (prometheus scrape/scrape.go endOfRunStaleness); the next evaluation starts `for`.
    scrape = PrometheusSpec.model_fields["scrape_interval_seconds"].default
    for_seconds = int(MISSING_FOR.removesuffix("m")) * 60
    worst = EC2_SD_REFRESH_SECONDS + 2.1 * scrape + EVALUATION_INTERVAL_SECONDS + for_seconds
    assert worst <= 5 * 60, worst
    assert (scrape, EC2_SD_REFRESH_SECONDS, EVALUATION_INTERVAL_SECONDS, MISSING_FOR) == (15, 60, 30, "2m")


def test_new_rules_query_only_names_the_stack_already_scrapes_or_records() -> None:
    shipped = set().union(*(metric_names_in_expression(rule["expr"]) for rule in alert_rules()))
    recorded = {EXPECTED_SERVER_METRIC, EXPECTED_HOST_METRIC, WEIGHT_BYTES_METRIC}
    # The alertmanager job scrapes Alertmanager itself (notify/metrics.go at v0.34.0).
    recorded |= {"alertmanager_notifications_failed_total"}
    for rule in rules(render_alert_rules(SPEC)):
        names = metric_names_in_expression(rule["expr"])
        assert names <= shipped | recorded | {"up"}, rule
        assert unknown_vllm_metrics(rule["expr"]) == set(), rule


def test_recording_rules_precede_the_alerts_of_their_group() -> None:
    # A group evaluates in order: an alert before its inventory would compare with the previous evaluation's.
    for group in yaml.safe_load(render_alert_rules(SPEC))["groups"]:
        kinds = ["record" if "record" in rule else "alert" for rule in group["rules"]]
        assert kinds == sorted(kinds, key=lambda kind: kind == "alert"), group["name"]


def test_the_stalled_engine_text_says_what_happens_now() -> None:
    # vLLM's /health fails only once the engine core has died; the text shipped before #14 promised otherwise.
    stalled = {rule.get("alert"): rule for rule in rules(render_alert_rules(SPEC))}["VllmEngineStalled"]
    assert "/health still answers 200" in stalled["annotations"]["description"]
    assert "/health failing" not in stalled["annotations"]["summary"]
    # It says what happens now: the host's watchdog restarts the container, after its own threshold.
    assert f"after {watchdog.STALL_SECONDS // 60} minutes without progress" in stalled["annotations"]["description"]
    assert f"{watchdog.UNIT}.timer" in stalled["annotations"]["description"]


@pytest.mark.parametrize(
    ("replicas", "per_host", "servers"),
    [(1, 1, [1]), (3, 1, [1, 1, 1]), (4, 2, [2, 2]), (5, 2, [2, 2, 1]), (6, 4, [4, 2]), (3, 8, [3])],
)
def test_servers_per_host_fill_hosts_then_the_remainder(replicas: int, per_host: int, servers: list[int]) -> None:
    model = ExpectedModel(name="m", replicas=replicas, replicas_per_host=per_host, weight_bytes=1)
    assert model.servers_per_host() == servers
    assert len(servers) == math.ceil(replicas / per_host)
    spec = StackAlertsSpec(models=(model,), image_pull_bytes=1)
    assert spec.expected_hosts() == [("m", host) for host in range(len(servers))]
    assert spec.expected_servers() == [
        ("m", host, VLLM_PORT + slot) for host, count in enumerate(servers) for slot in range(count)
    ]


def test_inventory_matches_what_discovery_will_find_on_the_hosts_the_stack_creates() -> None:
    # The real program: hosts tagged with model, replica and server count; discovery scrapes ports 8000.. per count.
    models = [
        {"name": "qwen-small", "id": "Qwen/Qwen2.5-1.5B-Instruct", "instanceType": "g6.12xlarge", "replicas": 6,
         "replicasPerHost": 4, "maxModelLen": 8192},
        {"name": "qwen-7b", "id": "Qwen/Qwen2.5-7B-Instruct-AWQ", "instanceType": "g6.xlarge", "replicas": 2,
         "maxModelLen": 8192},
    ]  # fmt: skip
    run = run_stack("dev", models=models)
    tags = [i.inputs["tags"] for i in of_type(run, "aws:ec2/instance:Instance") if SERVERS_TAG in i.inputs["tags"]]
    discovered = sorted(
        (t[MODEL_TAG], int(t[REPLICA_TAG]), VLLM_PORT + slot) for t in tags for slot in range(int(t[SERVERS_TAG]))
    )
    spec = StackAlertsSpec(
        models=tuple(
            ExpectedModel(
                name=m["name"], replicas=m["replicas"], replicas_per_host=m.get("replicasPerHost", 1), weight_bytes=1
            )
            for m in models
        ),
        image_pull_bytes=1,
    )
    assert sorted(spec.expected_servers()) == discovered
    assert sorted(spec.expected_hosts()) == sorted({(model, replica) for model, replica, _ in discovered})


@pytest.mark.parametrize(
    "change",
    [
        {"models": ()},
        {"models": ({"name": "Qwen_8B", "replicas": 1, "weight_bytes": 1},)},
        {"models": ({"name": 'a"} or vector(1) #', "replicas": 1, "weight_bytes": 1},)},
        {"models": ({"name": "a", "replicas": 0, "weight_bytes": 1},)},
        {"models": ({"name": "a", "replicas": 1, "replicas_per_host": 9, "weight_bytes": 1},)},
        {"models": ({"name": "a", "replicas": 1, "weight_bytes": 0},)},
        {"models": ({"name": "a", "replicas": 1, "weight_bytes": 1}, {"name": "a", "replicas": 2, "weight_bytes": 1})},
        {"image_pull_bytes": 0},
    ],
    ids=[
        "no-model",
        "bad-name",
        "promql-injection",
        "no-replica",
        "too-many-per-host",
        "no-weights",
        "duplicate",
        "no-image",
    ],
)
def test_stack_alerts_spec_rejects_bad_values(change: dict[str, Any]) -> None:
    base = {"models": ({"name": "a", "replicas": 1, "weight_bytes": 1},), "image_pull_bytes": 1}
    with pytest.raises(ValidationError):
        StackAlertsSpec.model_validate(base | change)
