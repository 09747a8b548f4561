"""Grafana: the dashboards parse as PromQL (promtool) and as Grafana JSON, and the provisioning files point at
Prometheus and the dashboards directory."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from rendered import dashboards, panel_targets, promtool, substitute_grafana_variables, variable_queries

from components.observability import (
    GRAFANA_DASHBOARDS_DIR,
    PROMETHEUS_DATASOURCE_UID,
    metric_names_in_expression,
    render_dashboards,
    render_grafana_dashboard_provider,
    render_grafana_datasource,
)

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
