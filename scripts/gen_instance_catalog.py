"""Generate components/catalog/instances.json: every AWS NVIDIA GPU instance type, each value with its source.

    python scripts/gen_instance_catalog.py           # rewrite instances.json
    python scripts/gen_instance_catalog.py --check   # exit 1 if it differs from what the sources give

Inputs, both in components/catalog/source/:
- aws-gpu-instances.csv (+ .SOURCE.md): a third-party snapshot of the EC2 API (SkyPilot's catalog): GPU, vCPU,
  RAM, on-demand price per region and spot price per availability zone, for the families it knew;
- instances_supplement.yaml, kept by hand: what the CSV lacks (newer families' specs, EBS bandwidth, CPU
  architecture, NVLink, newer us-east-1 prices), each value with its source.
tests/catalog/test_instance_catalog.py regenerates the file and compares, so the committed catalog cannot drift.
"""

from __future__ import annotations

import ast
import csv
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "components" / "catalog"
SOURCE = CATALOG / "source"
OUTPUT = CATALOG / "instances.json"
CSV_SOURCE = "skypilot-csv"


def _csv_source() -> dict[str, Any]:
    note = (SOURCE / "aws-gpu-instances.SOURCE.md").read_text(encoding="utf-8")
    first = next(line for line in note.splitlines() if line.startswith("- Source:"))
    return {
        "date": None,
        "what": (
            "source/aws-gpu-instances.csv: " + first.removeprefix("- Source: ") + " Spot prices are per availability"
            " zone ID at collection time; the collection date is unknown and the on-demand prices predate the"
            " June 2025 P4/P5 price cut (see source/aws-gpu-instances.SOURCE.md)."
        ),
        "url": "https://github.com/skypilot-org/skypilot-catalog/blob/001367d22a0033fac286a8c71aeac7109e431bcb/catalogs/v7/aws/vms.csv",
    }


def _value(entry: Any, default_source: str) -> tuple[Any, str]:
    """A supplement value is either bare (the default source) or [value, source]."""
    if isinstance(entry, list):
        value, source = entry
        return value, str(source)
    return entry, default_source


def _csv_rows() -> dict[str, list[dict[str, str]]]:
    rows: dict[str, list[dict[str, str]]] = defaultdict(list)
    with (SOURCE / "aws-gpu-instances.csv").open(encoding="utf-8", newline="") as file:
        for row in csv.DictReader(file):
            rows[row["InstanceType"]].append(row)
    return rows


def _gpu_mib(row: dict[str, str]) -> int:
    # GpuInfo is a Python literal (single quotes) in the CSV, as SkyPilot wrote it.
    return int(ast.literal_eval(row["GpuInfo"])["Gpus"][0]["MemoryInfo"]["SizeInMiB"])


def _spec_from_csv(name: str, rows: list[dict[str, str]], gpu_names: dict[str, str]) -> dict[str, Any]:
    first = rows[0]
    specs = {(r["AcceleratorName"], r["AcceleratorCount"], r["vCPUs"], r["MemoryGiB"], _gpu_mib(r)) for r in rows}
    if len(specs) != 1:
        raise SystemExit(f"{name}: the CSV's rows disagree on the type's specs: {sorted(specs)}")
    return {
        "gpu": gpu_names[first["AcceleratorName"]],
        "gpuCount": int(float(first["AcceleratorCount"])),
        "gpuFraction": None,
        "gpuMemoryMiB": _gpu_mib(first),
        "vcpu": int(float(first["vCPUs"])),
        "memoryMiB": int(float(first["MemoryGiB"]) * 1024),
        "specSource": CSV_SOURCE,
    }


def _prices_from_csv(rows: list[dict[str, str]]) -> tuple[dict[str, list[Any]], dict[str, dict[str, float]]]:
    on_demand: dict[str, list[Any]] = {}
    spot: dict[str, dict[str, float]] = defaultdict(dict)
    for row in rows:
        region, zone = row["Region"], row["AvailabilityZone"]
        if row["Price"]:
            on_demand[region] = [float(row["Price"]), CSV_SOURCE]
        # p4de lists five zones twice, once without a spot price: keep the row that has one.
        if row["SpotPrice"]:
            spot[region][zone] = float(row["SpotPrice"])
    return on_demand, {region: dict(sorted(zones.items())) for region, zones in sorted(spot.items())}


def build() -> dict[str, Any]:
    supplement = yaml.safe_load((SOURCE / "instances_supplement.yaml").read_text(encoding="utf-8"))
    gpus = yaml.safe_load((CATALOG / "gpus.yaml").read_text(encoding="utf-8"))["gpus"]
    sources: dict[str, Any] = {CSV_SOURCE: _csv_source(), **supplement["sources"]}
    csv_rows = _csv_rows()
    extra_specs: dict[str, dict[str, Any]] = supplement["specs"]
    overlap = set(extra_specs) & set(csv_rows)
    if overlap:
        raise SystemExit(f"specs for types the CSV already has: {sorted(overlap)}")
    names = sorted(set(csv_rows) | set(extra_specs), key=lambda n: (n.split(".")[0], n))
    missing = set(names) ^ set(supplement["instances"])
    if missing:
        raise SystemExit(
            f"instances_supplement.yaml `instances` must list exactly the catalog's types: {sorted(missing)}"
        )

    instances: dict[str, Any] = {}
    for name in names:
        family = name.split(".")[0]
        extra = supplement["instances"][name]
        if name in csv_rows:
            spec = _spec_from_csv(name, csv_rows[name], supplement["csvGpuNames"])
            on_demand, spot = _prices_from_csv(csv_rows[name])
        else:
            spec = {"gpuFraction": None, **extra_specs[name], "specSource": "karpenter-types"}
            on_demand, spot = {}, {}
        gpu = gpus[spec["gpu"]]
        if spec["gpuFraction"] is None and spec["gpuMemoryMiB"] != gpu["ec2MemoryMiB"]:
            raise SystemExit(f"{name}: GPU memory {spec['gpuMemoryMiB']} MiB, gpus.yaml says {gpu['ec2MemoryMiB']}")
        if extra["usEast1"] is not None:
            on_demand["us-east-1"] = [extra["usEast1"], "karpenter-prices"]
        baseline, baseline_source = _value(extra["ebsBaseline"], "") if "ebsBaseline" in extra else (None, "")
        maximum, maximum_source = _value(extra["ebsMaximum"], "karpenter-types")
        for source in (spec["specSource"], baseline_source, maximum_source):
            if source and source not in sources:
                raise SystemExit(f"{name}: unknown source {source!r}")
        family_facts = supplement["families"][family]
        instances[name] = {
            "family": family,
            **{key: spec[key] for key in ("gpu", "gpuCount", "gpuFraction", "gpuMemoryMiB", "vcpu", "memoryMiB")},
            "cpuArchitecture": family_facts["cpuArchitecture"],
            "nvlink": family_facts["nvlink"] and spec["gpuCount"] > 1,
            "specSource": spec["specSource"],
            "ebs": {
                "baselineMbps": baseline,
                "baselineSource": baseline_source or None,
                "maximumMbps": maximum,
                "maximumSource": maximum_source,
            },
            "onDemand": dict(sorted(on_demand.items())),
            "spot": spot,
        }
    return {
        "generatedBy": (
            "scripts/gen_instance_catalog.py from source/aws-gpu-instances.csv and source/instances_supplement.yaml"
        ),
        "sources": sources,
        "staleOnDemand": {"families": supplement["priceCutFamilies"], "source": "aws-price-cut-2025-06"},
        "instances": instances,
    }


def render() -> str:
    return json.dumps(build(), indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if OUTPUT.read_text(encoding="utf-8") != text:
            print(f"{OUTPUT.relative_to(ROOT)} is stale: run python scripts/gen_instance_catalog.py", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
