"""The GPU hosts' dcgm-exporter counters file: parses, and exports every DCGM field the rules and dashboards query."""

from __future__ import annotations

import re

import pytest
from rendered import alert_rules, panel_targets, variable_queries

from components.observability import (
    DCGM_COUNTERS_PATH,
    dcgm_counter_names,
    metric_names_in_expression,
    render_dcgm_counters,
)

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
