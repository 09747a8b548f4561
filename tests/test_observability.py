"""Prometheus and Grafana files of components.observability, checked with the real promtool.

``promtool check config`` and ``check rules`` validate what Prometheus would load, ``promtool test rules``
runs tests/data/alert_rules_test.yml (synthetic series named as vLLM 0.33, dcgm-exporter and node-exporter
expose them) against the rendered rules: every alert fires when it should and stays silent when healthy.
Dashboard queries are parsed by promtool too, as recording rules. promtool missing fails, never skips.
"""

from __future__ import annotations

import ast
import json
import posixpath
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError
from tools import require_tool

from components import observability
from components.observability import (
    ALERT_RULES_FILE_NAME,
    ALERTMANAGER_ADDRESS,
    DCGM_COUNTERS_PATH,
    DCGM_EXPORTER_PORT,
    GRAFANA_DASHBOARDS_DIR,
    MAX_SERVERS_PER_HOST,
    NODE_EXPORTER_PORT,
    PROMETHEUS_CONFIG_PATH,
    PROMETHEUS_DATASOURCE_UID,
    PROMETHEUS_RULES_DIR,
    SERVERS_TAG,
    VLLM_METRIC_KINDS,
    VLLM_PORT,
    PrometheusSpec,
    dcgm_counter_names,
    metric_names_in_expression,
    render_alert_rules,
    render_dashboards,
    render_dcgm_counters,
    render_grafana_dashboard_provider,
    render_grafana_datasource,
    render_prometheus_config,
    unknown_vllm_metrics,
    vllm_metric_names,
)

DATA_DIR = Path(__file__).parent / "data"
UNIT_TESTS = DATA_DIR / "alert_rules_test.yml"
SPEC = PrometheusSpec(stack="prod", region="eu-west-1")


def promtool(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    binary = require_tool("promtool", "prometheus")
    return subprocess.run([binary, *map(str, args)], capture_output=True, text=True, cwd=cwd, check=False)


def alert_rules() -> list[dict[str, Any]]:
    return [rule for group in yaml.safe_load(render_alert_rules())["groups"] for rule in group["rules"]]


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


# --- prometheus.yml -------------------------------------------------------------------------------------


def write_prometheus_dir(directory: Path, rules_text: str | None = None) -> Path:
    """prometheus.yml and rules/ laid out as in the container (relative rule_files resolve the same)."""
    (directory / "rules").mkdir()
    (directory / "rules" / ALERT_RULES_FILE_NAME).write_text(rules_text or render_alert_rules())
    config = directory / "prometheus.yml"
    config.write_text(render_prometheus_config(SPEC))
    return config


def test_prometheus_config_passes_promtool_check_config(tmp_path: Path) -> None:
    result = promtool("check", "config", write_prometheus_dir(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    output = result.stdout + result.stderr
    assert "SUCCESS: 1 rule files found" in output, output
    assert f"SUCCESS: {len(alert_rules())} rules found" in output, output


def test_promtool_check_config_rejects_a_broken_rule_file(tmp_path: Path) -> None:
    # The config check really loads the rule files it points at.
    result = promtool("check", "config", write_prometheus_dir(tmp_path, render_alert_rules().replace(" > 10", " >")))
    assert result.returncode != 0, result.stdout


def test_rule_files_resolve_to_the_container_rules_dir() -> None:
    config = yaml.safe_load(render_prometheus_config(SPEC))
    [pattern] = config["rule_files"]
    resolved = posixpath.join(posixpath.dirname(PROMETHEUS_CONFIG_PATH), pattern)
    assert resolved == f"{PROMETHEUS_RULES_DIR}/*.yml" == "/etc/prometheus/rules/*.yml"
    assert ALERT_RULES_FILE_NAME.endswith(".yml")


def test_prometheus_config_scrapes_discovered_gpu_hosts_and_itself() -> None:
    text = render_prometheus_config(PrometheusSpec(stack="prod", region="eu-west-1", retention_days=30))
    config = yaml.safe_load(text)
    assert config["global"] == {
        "scrape_interval": "15s",
        "evaluation_interval": "30s",
        "external_labels": {"stack": "prod"},
    }
    assert "--storage.tsdb.retention.time=30d" in text.split("global:")[0]  # documented in the header comment
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == {"vllm", "node", "dcgm", "prometheus"}
    assert jobs["prometheus"]["static_configs"] == [{"targets": ["localhost:9090"]}]
    for name, port in {"vllm": VLLM_PORT, "node": NODE_EXPORTER_PORT, "dcgm": DCGM_EXPORTER_PORT}.items():
        job = jobs[name]
        assert job["metrics_path"] == "/metrics"
        [sd] = job["ec2_sd_configs"]
        assert sd["region"] == "eu-west-1" and sd["port"] == port
        filters = {f["name"]: f["values"] for f in sd["filters"]}
        assert filters["tag:vllm-aws:stack"] == ["prod"]
        assert filters["tag:vllm-aws:role"] == ["gpu-host"]
    assert (VLLM_PORT, NODE_EXPORTER_PORT, DCGM_EXPORTER_PORT) == (8000, 9100, 9400)


def relabel(configs: list[dict[str, Any]], labels: dict[str, str]) -> dict[str, str]:
    """Prometheus' `replace` relabelling (the only action the config uses), then meta labels dropped."""
    labels = dict(labels)
    for config in configs:
        assert config.get("action", "replace") == "replace", config
        value = config.get("separator", ";").join(labels.get(name, "") for name in config["source_labels"])
        match = re.fullmatch(config.get("regex", "(.*)"), value)
        if match is None:
            continue
        # Go's $1 / ${1} as Python's \g<1>.
        replacement = match.expand(re.sub(r"\$\{?(\d+)\}?", r"\\g<\1>", config.get("replacement", "$1")))
        if replacement:
            labels[config["target_label"]] = replacement
        else:
            labels.pop(config["target_label"], None)
    return {name: value for name, value in labels.items() if not name.startswith("__meta_")}


# What EC2 discovery hands to relabelling for one GPU host (tag keys sanitised as Prometheus does); EC2
# discovery sets __address__ to <private ip>:<port of the sd config that found it>.
DISCOVERED = {
    "__meta_ec2_private_ip": "10.0.1.23",
    "__meta_ec2_public_ip": "54.1.2.3",
    "__meta_ec2_instance_id": "i-0123456789abcdef0",
    "__meta_ec2_availability_zone": "eu-west-1b",
    "__meta_ec2_instance_type": "g6e.xlarge",
    "__meta_ec2_tag_vllm_aws_model": "qwen-8b",
    "__meta_ec2_tag_vllm_aws_replica": "1",
    "__meta_ec2_tag_vllm_aws_stack": "prod",
    "__meta_ec2_tag_vllm_aws_servers": "4",
}


def scrape_jobs(spec: PrometheusSpec = SPEC) -> dict[str, dict[str, Any]]:
    return {job["job_name"]: job for job in yaml.safe_load(render_prometheus_config(spec))["scrape_configs"]}


@pytest.mark.parametrize(
    ("name_tag", "instance"),
    [({"__meta_ec2_tag_Name": "vllm-aws-prod-qwen-8b-1"}, "vllm-aws-prod-qwen-8b-1"), ({}, "i-0123456789abcdef0")],
    ids=["name-tag", "instance-id"],
)
def test_relabelling_targets_the_private_ip_and_labels_model_replica_zone(
    name_tag: dict[str, str], instance: str
) -> None:
    jobs = scrape_jobs(PrometheusSpec(stack="prod", region="eu-west-1", max_servers_per_host=4))
    scraped: dict[str, list[str]] = {}
    for job, config in jobs.items():
        for sd in config.get("ec2_sd_configs", []):
            # The public address as __address__ too: relabelling must still take the private one.
            for address in (f"10.0.1.23:{sd['port']}", f"54.1.2.3:{sd['port']}"):
                labels = relabel(config["relabel_configs"], DISCOVERED | name_tag | {"__address__": address})
                assert labels["__address__"] == f"10.0.1.23:{sd['port']}"
                assert labels["instance"] == instance
                assert labels["instance_id"] == "i-0123456789abcdef0"
                assert (labels["model"], labels["replica"], labels["availability_zone"]) == (
                    "qwen-8b",
                    "1",
                    "eu-west-1b",
                )
                assert labels["instance_type"] == "g6e.xlarge"
                # port tells apart the servers of one host; the exporters (one per host) do not need it.
                assert labels.get("port") == (str(sd["port"]) if job == "vllm" else None)
            scraped.setdefault(job, []).append(labels["__address__"])
    assert scraped == {
        "vllm": ["10.0.1.23:8000", "10.0.1.23:8001", "10.0.1.23:8002", "10.0.1.23:8003"],
        "node": ["10.0.1.23:9100"],
        "dcgm": ["10.0.1.23:9400"],
    }


def matches_filters(filters: list[dict[str, Any]], tags: dict[str, str]) -> bool:
    """EC2 DescribeInstances filters: AND across filters, OR across one filter's values."""
    for f in filters:
        if f["name"] == "instance-state-name":
            continue  # the hosts below are running
        assert f["name"].startswith("tag:"), f
        if tags.get(f["name"].removeprefix("tag:")) not in f["values"]:
            return False
    return True


@pytest.mark.parametrize("max_servers", [1, 3, MAX_SERVERS_PER_HOST])
def test_vllm_job_scrapes_each_host_on_exactly_its_servers_ports(max_servers: int) -> None:
    spec = PrometheusSpec(stack="prod", region="eu-west-1", max_servers_per_host=max_servers)
    sds = scrape_jobs(spec)["vllm"]["ec2_sd_configs"]
    assert [sd["port"] for sd in sds] == [VLLM_PORT + s for s in range(max_servers)]
    for slot, sd in enumerate(sds):
        filters = {f["name"]: f["values"] for f in sd["filters"]}
        if slot == 0:  # every GPU host runs a server on 8000, tagged or not
            assert f"tag:{SERVERS_TAG}" not in filters
        else:
            assert filters[f"tag:{SERVERS_TAG}"] == [str(n) for n in range(slot + 1, 9)]
    base = {"vllm-aws:stack": "prod", "vllm-aws:role": "gpu-host"}
    for servers in range(1, max_servers + 1):
        tags = base | {SERVERS_TAG: str(servers)}
        ports = [sd["port"] for sd in sds if matches_filters(sd["filters"], tags)]
        assert ports == list(range(8000, 8000 + servers)), servers
    # Another stack's host, or the monitoring host, is never scraped.
    assert not any(matches_filters(sd["filters"], base | {"vllm-aws:stack": "dev"}) for sd in sds)
    assert not any(matches_filters(sd["filters"], base | {"vllm-aws:role": "monitoring"}) for sd in sds)
    assert SERVERS_TAG == "vllm-aws:servers" and MAX_SERVERS_PER_HOST == 8


def test_multi_server_config_passes_promtool_check_config(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / ALERT_RULES_FILE_NAME).write_text(render_alert_rules())
    config = tmp_path / "prometheus.yml"
    config.write_text(
        render_prometheus_config(PrometheusSpec(stack="prod", region="eu-west-1", max_servers_per_host=8))
    )
    result = promtool("check", "config", config)
    assert result.returncode == 0, result.stdout + result.stderr


def test_prometheus_sends_alerts_to_the_alertmanager_container_only_when_given_one(tmp_path: Path) -> None:
    plain = yaml.safe_load(render_prometheus_config(SPEC))
    assert "alerting" not in plain  # the config the stack ships until it runs an Alertmanager
    spec = PrometheusSpec(stack="prod", region="eu-west-1", alertmanager=ALERTMANAGER_ADDRESS)
    config = yaml.safe_load(render_prometheus_config(spec))
    # The container's name on the monitoring Docker network, as Grafana reaches Prometheus.
    assert config["alerting"] == {"alertmanagers": [{"static_configs": [{"targets": ["alertmanager:9093"]}]}]}
    assert {key: value for key, value in config.items() if key != "alerting"} == plain
    (tmp_path / "rules").mkdir()
    (tmp_path / "prometheus.yml").write_text(render_prometheus_config(spec))
    result = promtool("check", "config", tmp_path / "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "change",
    [
        {"region": "eu-west"},
        {"stack": "prod stack"},
        {"scrape_interval_seconds": 1},
        {"retention_days": 0},
        {"port": 1},
        {"max_servers_per_host": 0},
        {"max_servers_per_host": 9},
        {"alertmanager": "alertmanager"},
        {"alertmanager": "http://alertmanager:9093"},
        {"alertmanager": "alert manager:9093"},
    ],
)
def test_prometheus_spec_rejects_bad_values(change: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        PrometheusSpec.model_validate({"stack": "prod", "region": "eu-west-1"} | change)


def test_prometheus_spec_is_frozen() -> None:
    with pytest.raises(ValidationError):
        SPEC.stack = "dev"  # type: ignore[misc]


# --- alert rules ----------------------------------------------------------------------------------------


def test_alert_rules_pass_promtool_check_rules(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yml"
    rules.write_text(render_alert_rules())
    result = promtool("check", "rules", rules)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(alert_rules())} rules found" in result.stdout


def run_unit_tests(tmp_path: Path, rules_text: str) -> subprocess.CompletedProcess[str]:
    # The unit-test file names `rules.yml`, resolved relative to itself.
    (tmp_path / "rules.yml").write_text(rules_text)
    shutil.copy(UNIT_TESTS, tmp_path / UNIT_TESTS.name)
    return promtool("test", "rules", UNIT_TESTS.name, cwd=tmp_path)


def test_every_alert_fires_and_stays_silent_as_promtool_test_rules_expects(tmp_path: Path) -> None:
    result = run_unit_tests(tmp_path, render_alert_rules())
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
    rules_text = render_alert_rules()
    assert original in rules_text
    result = run_unit_tests(tmp_path, rules_text.replace(original, broken))
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


# --- metric names -----------------------------------------------------------------------------------------


def test_metric_catalog_is_vllm_0_33_declared_names() -> None:
    names = vllm_metric_names()
    assert len(names) == 140
    assert all(name.startswith("vllm:") for name in names)
    # Declared names: the exposition's suffixes are added by prometheus_client, so they are absent here.
    assert "vllm:num_preemptions" in names and "vllm:num_preemptions_total" not in names
    assert "vllm:gpu_cache_usage_perc" not in names  # removed with the V0 engine


def test_metric_kinds_are_recorded_only_for_declared_metrics() -> None:
    assert set(VLLM_METRIC_KINDS) <= vllm_metric_names()


def test_rules_and_dashboards_use_only_vllm_0_33_metric_names() -> None:
    assert unknown_in_rules(render_alert_rules()) == set()
    for name, panel, target in panel_targets():
        assert unknown_vllm_metrics(target["expr"]) == set(), (name, panel["title"])
    for query in variable_queries():
        assert unknown_vllm_metrics(query) == set(), query


def test_rules_and_dashboards_use_every_kind_recorded() -> None:
    # VLLM_METRIC_KINDS lists what is queried, no more: a stale entry would hide nothing, but would mislead.
    used = set().union(
        *(metric_names_in_expression(rule["expr"]) for rule in alert_rules()),
        *(metric_names_in_expression(target["expr"]) for _, _, target in panel_targets()),
    )
    declared_used = {re.sub(r"_(total|bucket|sum|count)$", "", name) for name in used if name.startswith("vllm:")}
    assert declared_used == set(VLLM_METRIC_KINDS)


@pytest.mark.parametrize(
    ("expr", "unknown"),
    [
        ("vllm:gpu_cache_usage_perc > 0.95", "vllm:gpu_cache_usage_perc"),  # V0 name, removed
        ("avg(vllm:avg_generation_throughput_toks_per_s)", "vllm:avg_generation_throughput_toks_per_s"),  # removed
        ("sum(vllm:num_requests_swapped)", "vllm:num_requests_swapped"),  # removed
        ("rate(vllm:time_per_output_token_seconds_bucket[5m])", "vllm:time_per_output_token_seconds_bucket"),
        ("rate(vllm:num_preemptions[5m])", "vllm:num_preemptions"),  # a counter is scraped as _total
        ("vllm:time_to_first_token_seconds > 1", "vllm:time_to_first_token_seconds"),  # a histogram has no bare name
        ("rate(vllm:kv_cache_usage_perc_total[5m])", "vllm:kv_cache_usage_perc_total"),  # a gauge has no _total
    ],
)
def test_removed_or_misspelt_vllm_metrics_are_caught(expr: str, unknown: str) -> None:
    assert unknown_vllm_metrics(f"sum by (model) (rate(vllm:prompt_tokens_total[5m])) + {expr}") == {unknown}
    # The same checker, over a rules file that uses the name, fails it.
    broken_rules = render_alert_rules().replace(
        "vllm:num_requests_waiting) > 10", f"vllm:num_requests_waiting) > 10 or {expr}"
    )
    assert unknown in unknown_in_rules(broken_rules)


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        (
            'sum by (model, le) (rate(vllm:e2e_request_latency_seconds_bucket{model=~"$model"}[$__rate_interval]))',
            {"vllm:e2e_request_latency_seconds_bucket"},
        ),
        ("a / on (instance) group_left (model) b offset 5m", {"a", "b"}),
        ('count_values("vllm:not_a_metric", up) > bool 1e3', {"up"}),
        ('{__name__="vllm:num_requests_running", model="m"}', {"vllm:num_requests_running"}),
        ("histogram_quantile(0.95, sum(rate(x_bucket[5m])) by (le)) @ end()", {"x_bucket"}),
        ("max_over_time(vllm:kv_cache_usage_perc[1h:5m]) and inf > NaN", {"vllm:kv_cache_usage_perc"}),
    ],
)
def test_metric_names_in_expression(expr: str, names: set[str]) -> None:
    assert metric_names_in_expression(expr) == names


# --- Grafana ------------------------------------------------------------------------------------------------


def test_dashboard_queries_parse_as_promtool_recording_rules(tmp_path: Path) -> None:
    rules = [
        {
            "record": f"panel:{Path(name).stem.replace('-', '_')}:{panel['id']}_{target['refId']}",
            "expr": substitute_grafana_variables(target["expr"]),
        }
        for name, panel, target in panel_targets()
    ]
    rules += [{"record": f"variable:{i}", "expr": query} for i, query in enumerate(variable_queries())]
    path = tmp_path / "panels.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard-panels", "rules": rules}]}))
    result = promtool("check", "rules", path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rules)} rules found" in result.stdout


def test_promtool_rejects_a_broken_panel_query(tmp_path: Path) -> None:
    # The panel check above would catch a typo: promtool parses, not just loads, the expressions.
    path = tmp_path / "panels.yml"
    path.write_text(
        yaml.safe_dump({"groups": [{"name": "g", "rules": [{"record": "panel:1", "expr": "sum by (model (x)"}]}]})
    )
    assert promtool("check", "rules", path).returncode != 0


def datasource_uid() -> str:
    [datasource] = yaml.safe_load(render_grafana_datasource("http://localhost:9090"))["datasources"]
    uid: str = datasource["uid"]
    return uid


@pytest.mark.parametrize("name", sorted(render_dashboards()))
def test_dashboard_is_structurally_valid_grafana_json(name: str) -> None:
    board = dashboards()[name]
    assert board["schemaVersion"] >= 39
    assert board["uid"] and board["title"]
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids)) and all(isinstance(i, int) for i in ids)
    occupied: set[tuple[int, int]] = set()
    for panel in board["panels"]:
        grid = panel["gridPos"]
        assert set(grid) == {"h", "w", "x", "y"} and grid["x"] + grid["w"] <= 24, panel["title"]
        cells = {
            (x, y) for x in range(grid["x"], grid["x"] + grid["w"]) for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not cells & occupied, f"{panel['title']} overlaps another panel"
        occupied |= cells
        assert panel["datasource"] == {"type": "prometheus", "uid": datasource_uid()}
        ref_ids = [target["refId"] for target in panel["targets"]]
        assert ref_ids and len(ref_ids) == len(set(ref_ids))
        for target in panel["targets"]:
            assert target["expr"] and target["refId"]
            assert target["datasource"]["uid"] == datasource_uid()
            assert "$model" in target["expr"], target  # the model variable filters every panel
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["model"]["definition"] == "label_values(vllm:num_requests_running, model)"
    assert all(v["datasource"]["uid"] == datasource_uid() for v in variables.values())


def test_dashboard_uids_are_unique_and_files_are_json() -> None:
    boards = dashboards()
    assert set(boards) == {"vllm-overview.json", "gpu-hosts.json"}
    assert len({b["uid"] for b in boards.values()}) == len(boards)
    assert {b["title"] for b in boards.values()} == {"vLLM overview", "GPU hosts"}


def exprs_of(name: str) -> str:
    return "\n".join(target["expr"] for board_name, _, target in panel_targets() if board_name == name)


def test_vllm_overview_shows_throughput_latency_queue_cache_and_preemptions() -> None:
    text = exprs_of("vllm-overview.json")
    names = metric_names_in_expression(text.replace("\n", " + "))
    for metric in (
        "vllm:prompt_tokens_total",
        "vllm:generation_tokens_total",
        "vllm:num_requests_running",
        "vllm:num_requests_waiting",
        "vllm:kv_cache_usage_perc",
        "vllm:prefix_cache_hits_total",
        "vllm:prefix_cache_queries_total",
        "vllm:num_preemptions_total",
    ):
        assert metric in names
    for histogram in ("time_to_first_token_seconds", "inter_token_latency_seconds", "e2e_request_latency_seconds"):
        for quantile in ("0.5", "0.95", "0.99"):
            assert f"histogram_quantile({quantile}, sum by (model, le) (rate(vllm:{histogram}_bucket" in text


def test_gpu_hosts_dashboard_shows_dcgm_and_cache_disk() -> None:
    names = metric_names_in_expression(exprs_of("gpu-hosts.json").replace("\n", " + "))
    assert {
        "DCGM_FI_DEV_GPU_UTIL",
        "DCGM_FI_DEV_FB_USED",
        "DCGM_FI_DEV_GPU_TEMP",
        "node_filesystem_avail_bytes",
    } <= names
    assert 'mountpoint="/opt/vllm-cache"' in exprs_of("gpu-hosts.json")


def test_grafana_datasource_provisions_prometheus_by_uid() -> None:
    document = yaml.safe_load(render_grafana_datasource("http://prometheus:9090", scrape_interval_seconds=30))
    assert document["apiVersion"] == 1
    [datasource] = document["datasources"]
    assert datasource["uid"] == PROMETHEUS_DATASOURCE_UID
    assert (datasource["type"], datasource["url"], datasource["isDefault"]) == (
        "prometheus",
        "http://prometheus:9090",
        True,
    )
    assert datasource["jsonData"]["timeInterval"] == "30s"


@pytest.mark.parametrize("url", ["prometheus:9090", "ftp://prometheus", "http://", "http://a b"])
def test_grafana_datasource_rejects_a_bad_url(url: str) -> None:
    with pytest.raises(ValueError, match="URL"):
        render_grafana_datasource(url)


def test_grafana_dashboard_provider_points_at_the_dashboards_dir() -> None:
    document = yaml.safe_load(render_grafana_dashboard_provider())
    [provider] = document["providers"]
    assert provider["type"] == "file"
    # Not under /var/lib/grafana, the data directory bind-mounted from the host's persisted data.
    assert provider["options"]["path"] == GRAFANA_DASHBOARDS_DIR == "/etc/grafana/dashboards"


# --- dcgm-exporter counters ------------------------------------------------------------------------------


def parse_dcgm_counters(text: str) -> dict[str, str]:
    """Field -> type, parsed as dcgm-exporter reads its -f file (CSV, '#' comments, 3 fields)."""
    counters: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        fields = [field.strip() for field in line.split(",")]
        assert len(fields) == 3 and all(fields), line
        name, kind, _help = fields
        assert re.fullmatch(r"DCGM_FI_[A-Z0-9_]+", name), line
        assert kind in {"gauge", "counter"}, line
        assert name not in counters, f"{name} listed twice"
        counters[name] = kind
    return counters


def test_dcgm_counters_file_parses_and_lists_the_required_fields() -> None:
    counters = parse_dcgm_counters(render_dcgm_counters())
    assert set(counters) == dcgm_counter_names()
    required = {
        "DCGM_FI_DEV_GPU_UTIL": "gauge",
        "DCGM_FI_DEV_MEM_COPY_UTIL": "gauge",
        "DCGM_FI_DEV_FB_USED": "gauge",
        "DCGM_FI_DEV_FB_FREE": "gauge",
        "DCGM_FI_DEV_GPU_TEMP": "gauge",
        "DCGM_FI_DEV_POWER_USAGE": "gauge",
        "DCGM_FI_DEV_SM_CLOCK": "gauge",
        "DCGM_FI_DEV_XID_ERRORS": "gauge",  # the code of the last XID, not a count
        "DCGM_FI_DEV_ECC_SBE_VOL_TOTAL": "counter",
        "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL": "counter",
    }
    assert {name: counters.get(name) for name in required} == required
    assert DCGM_COUNTERS_PATH.startswith("/etc/dcgm-exporter/") and DCGM_COUNTERS_PATH.endswith(".csv")


def test_every_dcgm_metric_the_rules_and_dashboards_query_is_exported() -> None:
    exprs = [rule["expr"] for rule in alert_rules()]
    exprs += [target["expr"] for _, _, target in panel_targets()]
    exprs += variable_queries()
    used = {name for expr in exprs for name in metric_names_in_expression(expr) if name.startswith("DCGM_")}
    assert {"DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", "DCGM_FI_DEV_XID_ERRORS", "DCGM_FI_DEV_GPU_TEMP"} <= used
    assert used <= set(parse_dcgm_counters(render_dcgm_counters())), used - dcgm_counter_names()


def test_a_commented_out_counter_is_not_exported() -> None:
    # What the image's default file does to the ECC count: the parser sees it as missing.
    text = render_dcgm_counters().replace("DCGM_FI_DEV_ECC_DBE_VOL_TOTAL,", "# DCGM_FI_DEV_ECC_DBE_VOL_TOTAL,")
    assert "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL" not in parse_dcgm_counters(text)


@pytest.mark.parametrize(
    "line",
    ["DCGM_FI_DEV_GPU_UTIL, gauge", "DCGM_FI_DEV_GPU_UTIL, gauge, GPU, utilization", "DCGM_FI_DEV_GPU_UTIL, rate, x"],
    ids=["two-fields", "comma-in-help", "bad-type"],
)
def test_dcgm_counters_parser_rejects_malformed_lines(line: str) -> None:
    with pytest.raises(AssertionError):
        parse_dcgm_counters(render_dcgm_counters() + line + "\n")


# --- purity -------------------------------------------------------------------------------------------------


def test_observability_package_imports_no_pulumi() -> None:
    # `components` itself imports Pulumi (config), so check the package's own imports and those it pulls in.
    package_dir = Path(observability.__file__).parent
    pure = (
        "components.observability",
        "components.bootstrap",
        "components.aws_ids",
        "components.cuda",
        "components.catalog",
    )
    sources = [
        *package_dir.glob("*.py"),
        package_dir.parent / "bootstrap" / "__init__.py",
        package_dir.parent / "aws_ids.py",
        package_dir.parent / "cuda.py",
        package_dir.parent / "catalog" / "__init__.py",
    ]
    for source in sources:
        for node in ast.walk(ast.parse(source.read_text())):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                # `from components import aws_ids` names the submodule it imports
                modules = (
                    [f"{node.module}.{a.name}" for a in node.names] if node.module == "components" else [node.module]
                )
            for module in modules:
                assert not module.startswith("pulumi"), (source, module)
                if module.startswith("components"):
                    assert module.startswith(pure), (source, module)
