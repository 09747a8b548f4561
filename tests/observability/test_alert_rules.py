"""The alert rules: promtool checks them, and its unit tests prove every alert fires when it should and stays
silent when healthy (tests/data/alert_rules_test.yml)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from rendered import UNIT_TESTS, alert_rules, all_rules, promtool, rules_text

from components.observability import unknown_vllm_metrics

# --- alert rules ----------------------------------------------------------------------------------------


def test_alert_rules_pass_promtool_check_rules(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yml"
    rules.write_text(rules_text())
    result = promtool("check", "rules", rules)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(all_rules())} rules found" in result.stdout


def run_unit_tests(tmp_path: Path, rules_text: str) -> subprocess.CompletedProcess[str]:
    # The unit-test file names `rules.yml`, resolved relative to itself.
    (tmp_path / "rules.yml").write_text(rules_text)
    shutil.copy(UNIT_TESTS, tmp_path / UNIT_TESTS.name)
    return promtool("test", "rules", UNIT_TESTS.name, cwd=tmp_path)


def test_every_alert_fires_and_stays_silent_as_promtool_test_rules_expects(tmp_path: Path) -> None:
    result = run_unit_tests(tmp_path, rules_text())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


@pytest.mark.parametrize(
    ("original", "broken"),
    [
        ("(vllm:kv_cache_usage_perc) > 0.95", "(vllm:kv_cache_usage_perc) > 0.99"),  # threshold
        ("DCGM_FI_DEV_GPU_TEMP > 85", "DCGM_FI_DEV_GPU_TEMP > 95"),
        ('finished_reason=~"abort|error"', 'finished_reason="error"'),  # label value
        ("{{ $labels.model }} replica {{ $labels.replica }} is down", "{{ $labels.model_name }} is down"),  # template
        # ReplicaDown without the "was up" guard fires during a cold start.
        (' and on (instance, port) max_over_time(up{job="vllm"}[1h]) == 1', ""),
        # NeverReady without the "discovered 30m ago" guard fires 5 minutes into a cold start.
        (' and on (instance, port) up{job="vllm"} offset 30m', ""),
        # Aggregating without port merges the servers of one host: a stalled one hides behind a busy one.
        ("(model, instance, replica, port)", "(model, instance, replica)"),
    ],
    ids=[
        "kv-threshold",
        "temperature-threshold",
        "abort-label",
        "annotation-template",
        "replica-down-on-cold-start",
        "never-ready-without-age",
        "servers-merged",
    ],
)
def test_promtool_unit_tests_catch_a_broken_rule(tmp_path: Path, original: str, broken: str) -> None:
    text = rules_text()
    assert original in text
    result = run_unit_tests(tmp_path, text.replace(original, broken))
    assert result.returncode != 0, result.stdout
    assert "FAILED" in result.stdout + result.stderr


def test_unit_tests_cover_every_alert_firing_and_healthy() -> None:
    names = {rule["alert"] for rule in alert_rules()}
    cases = yaml.safe_load(UNIT_TESTS.read_text())["tests"]
    fired = {c["alertname"] for t in cases for c in t["alert_rule_test"] if c["exp_alerts"]}
    [healthy] = [t for t in cases if t["name"] == "healthy"]
    silent = {c["alertname"] for c in healthy["alert_rule_test"] if c["exp_alerts"] == []}
    assert fired == names
    assert silent == names
    for test in cases:
        for case in test["alert_rule_test"]:
            for alert in case["exp_alerts"]:
                assert set(alert["exp_annotations"]) == {"summary", "description"}, case
                assert "{{" not in str(alert["exp_annotations"]), case  # rendered, not templates
        # The synthetic series use the names vLLM 0.33 really exposes.
        for series in test["input_series"]:
            assert unknown_vllm_metrics(series["series"]) == set(), series


def test_every_alert_has_a_severity_and_templated_annotations() -> None:
    rules = alert_rules()
    assert len({rule["alert"] for rule in rules}) == len(rules)
    for rule in rules:
        assert rule["labels"]["severity"] in {"warning", "critical"}, rule
        assert set(rule["annotations"]) == {"summary", "description"}, rule
    by_name = {rule["alert"]: rule for rule in rules}
    assert "{{ $labels.model }}" in by_name["VllmQueueBuildingUp"]["annotations"]["summary"]
    assert by_name["VllmKvCacheSaturated"]["for"] == "10m"
    assert by_name["VllmReplicaDown"]["expr"] == (
        'up{job="vllm"} == 0 and on (instance, port) max_over_time(up{job="vllm"}[1h]) == 1'
    )
    assert (by_name["VllmReplicaDown"]["for"], by_name["VllmReplicaDown"]["labels"]["severity"]) == ("5m", "critical")
    assert by_name["VllmReplicaNeverReady"]["expr"].startswith('max_over_time(up{job="vllm"}[30m]) == 0')
    assert (by_name["VllmReplicaNeverReady"]["for"], by_name["VllmReplicaNeverReady"]["labels"]["severity"]) == (
        "5m",
        "warning",
    )
    assert 'mountpoint="/opt/vllm-cache"' in by_name["ModelCacheDiskNearlyFull"]["expr"]
