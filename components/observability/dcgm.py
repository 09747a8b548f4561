"""The counters file of dcgm-exporter: which DCGM fields it exports, so the GPU alerts have their series.

dcgm-exporter's default counters file leaves ``DCGM_FI_DEV_ECC_DBE_VOL_TOTAL`` (and the single-bit count)
commented out, so the ECC alert could never fire on it. The host exporters upload this file into the
container at :data:`DCGM_COUNTERS_PATH` and start dcgm-exporter with ``-f`` on it.

Format (dcgm-exporter's CSV): one field a line, ``<DCGM field>, <Prometheus type>, <help text>``; lines
starting with ``#`` are comments. The help text must not contain a comma (it would be a fourth field).
"""

from __future__ import annotations

from typing import Literal

DCGM_COUNTERS_PATH = "/etc/dcgm-exporter/vllm-aws-counters.csv"

CounterType = Literal["gauge", "counter"]

# (section, [(field, type, help)]): what the alert rules and the GPU dashboard read, and a few more for
# debugging a slow or failing host from Grafana's Explore.
_COUNTERS: tuple[tuple[str, tuple[tuple[str, CounterType, str], ...]], ...] = (
    (
        "Utilization",
        (
            ("DCGM_FI_DEV_GPU_UTIL", "gauge", "GPU utilization (in %)."),
            ("DCGM_FI_DEV_MEM_COPY_UTIL", "gauge", "Memory utilization (in %)."),
        ),
    ),
    (
        "Memory usage",
        (
            ("DCGM_FI_DEV_FB_FREE", "gauge", "Framebuffer memory free (in MiB)."),
            ("DCGM_FI_DEV_FB_USED", "gauge", "Framebuffer memory used (in MiB)."),
        ),
    ),
    (
        "Temperature and power",
        (
            ("DCGM_FI_DEV_GPU_TEMP", "gauge", "GPU temperature (in C)."),
            ("DCGM_FI_DEV_MEMORY_TEMP", "gauge", "Memory temperature (in C)."),
            ("DCGM_FI_DEV_POWER_USAGE", "gauge", "Power draw (in W)."),
            ("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", "counter", "Total energy consumption since boot (in mJ)."),
        ),
    ),
    (
        "Clocks",
        (
            ("DCGM_FI_DEV_SM_CLOCK", "gauge", "SM clock frequency (in MHz)."),
            ("DCGM_FI_DEV_MEM_CLOCK", "gauge", "Memory clock frequency (in MHz)."),
        ),
    ),
    (
        "Errors: the GpuXidError and GpuEccDoubleBitErrors alerts",
        (
            ("DCGM_FI_DEV_XID_ERRORS", "gauge", "Value of the last XID error encountered."),
            ("DCGM_FI_DEV_ECC_SBE_VOL_TOTAL", "counter", "Total number of single-bit volatile ECC errors."),
            ("DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", "counter", "Total number of double-bit volatile ECC errors."),
            ("DCGM_FI_DEV_PCIE_REPLAY_COUNTER", "counter", "Total number of PCIe retries."),
        ),
    ),
)


def dcgm_counter_names() -> frozenset[str]:
    """The DCGM fields :func:`render_dcgm_counters` lists."""
    return frozenset(field for _, counters in _COUNTERS for field, _, _ in counters)


def render_dcgm_counters() -> str:
    """dcgm-exporter's counters CSV (its ``-f`` file): the fields the alert rules and dashboards need."""
    lines = [
        "# DCGM fields exported by dcgm-exporter on the vllm-aws GPU hosts; rendered by components.observability.",
        "# Format: DCGM field, Prometheus metric type, help message. Lines starting with '#' are comments.",
    ]
    for section, counters in _COUNTERS:
        lines.append(f"# {section}")
        lines.extend(f"{field}, {kind}, {help_text}" for field, kind, help_text in counters)
    return "\n".join(lines) + "\n"
