"""The instance catalog: generated from its sources (so it cannot drift), every value sourced, prices per region."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from repo import PROJECT_DIR

from components import catalog
from components.catalog import aws_instances
from components.catalog.aws_instances import instance_catalog, instance_price


def _generator() -> ModuleType:
    path = PROJECT_DIR / "scripts" / "gen_instance_catalog.py"
    spec = importlib.util.spec_from_file_location("gen_instance_catalog", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("gen_instance_catalog", module)
    spec.loader.exec_module(module)
    return module


def test_committed_catalog_is_what_its_sources_generate() -> None:
    committed = (PROJECT_DIR / "components" / "catalog" / "instances.json").read_text(encoding="utf-8")
    assert _generator().render() == committed, "instances.json is stale: run python scripts/gen_instance_catalog.py"


def test_every_csv_family_and_the_newer_ones_are_in_the_catalog() -> None:
    families = {record.family for record in instance_catalog().values()}
    csv_families = {"g4dn", "g5", "g5g", "g6", "g6e", "gr6", "p3", "p3dn", "p4d", "p4de", "p5", "p5e", "p5en"}
    newer = {"g6f", "gr6f", "g7", "g7e", "p6-b200", "p6-b300"}
    assert families == csv_families | newer
    assert {"p5.4xlarge", "p5e.48xlarge", "p5en.48xlarge", "g6e.2xlarge", "g5.2xlarge", "g6.2xlarge"} <= set(
        instance_catalog()
    )


def test_every_value_names_a_known_source() -> None:
    sources = aws_instances.sources()
    for record in instance_catalog().values():
        assert record.spec_source in sources
        assert record.ebs.maximum_source in sources
        assert record.ebs.baseline_source is None or record.ebs.baseline_source in sources
        assert {source for _usd, source in record.on_demand.values()} <= set(sources)
    assert all(source.url.startswith("https://") for source in sources.values())


def test_graviton_and_fractional_gpu_types_are_kept_but_never_planned() -> None:
    g5g = instance_catalog()["g5g.xlarge"]
    assert (g5g.cpu_architecture, g5g.gpu) == ("arm64", "T4G")
    assert g5g.unplannable_reason is not None and "x86_64" in g5g.unplannable_reason
    g6f = instance_catalog()["g6f.large"]
    assert (g6f.gpu_count, g6f.gpu_fraction, g6f.gpu_memory_mib) == (0, 0.125, 2861)
    assert g6f.unplannable_reason is not None
    planned = catalog.instance_types()
    assert "g5g.xlarge" not in planned and "g6f.large" not in planned and "gr6f.4xlarge" not in planned
    assert {name for name, r in instance_catalog().items() if r.unplannable_reason is None} == set(planned)


def test_us_east_1_on_demand_is_the_newest_dated_price() -> None:
    price = instance_price("p5.48xlarge", "us-east-1")
    assert price is not None
    # Karpenter's table from the AWS Price List (2026-07-20): after the June 2025 cut (the CSV says 98.32).
    assert (price.usd_per_hour, price.source.key, price.source.date, price.stale) == (
        55.04,
        "karpenter-prices",
        "2026-07-20",
        False,
    )
    assert catalog.instance_types()["p5.48xlarge"].hourly_usd == 55.04
    assert catalog.price_note() == "approximate us-east-1 on-demand prices as of 2026-07-20"


def test_other_regions_come_from_the_csv_and_p4_p5_ones_are_marked_stale() -> None:
    g6 = instance_price("g6.xlarge", "eu-central-1")
    assert g6 is not None and g6.source.key == "skypilot-csv" and not g6.stale and g6.source.date is None
    p4d = instance_price("p4d.24xlarge", "us-west-2")
    assert p4d is not None and p4d.stale and p4d.note is not None and "June 2025" in p4d.note


def test_spot_prices_are_per_availability_zone_id() -> None:
    zone = instance_price("g6.xlarge", "us-east-1", "spot", "use1-az1")
    region = instance_price("g6.xlarge", "us-east-1", "spot")
    assert zone is not None and region is not None
    assert zone.zone_id == "use1-az1" and zone.usd_per_hour == 0.4155
    zones = instance_catalog()["g6.xlarge"].spot["us-east-1"]
    assert region.usd_per_hour == max(zones.values()) and region.zone_id is None
    assert region.note == f"highest of the {len(zones)} zones recorded in us-east-1"


@pytest.mark.parametrize(
    ("instance_type", "region", "market"),
    [
        ("p5e.48xlarge", "us-east-1", "on-demand"),  # Capacity Blocks only: no on-demand price anywhere
        ("g7e.2xlarge", "eu-west-1", "on-demand"),  # newer than the CSV: only us-east-1 is priced
        ("g7e.2xlarge", "us-east-1", "spot"),
        ("g6.xlarge", "us-east-1", "spot-zone"),
        ("t3.medium", "us-east-1", "on-demand"),
    ],
)
def test_an_unpriced_type_region_or_zone_has_no_price(instance_type: str, region: str, market: str) -> None:
    if market == "spot-zone":
        assert instance_price(instance_type, region, "spot", "use1-az99") is None
    else:
        assert instance_price(instance_type, region, "spot" if market == "spot" else "on-demand") is None


def test_legacy_hourly_usd_is_the_us_east_1_on_demand_price() -> None:
    for name, instance in catalog.instance_types().items():
        price = instance_price(name, "us-east-1")
        assert instance.hourly_usd == (price.usd_per_hour if price else None), name


def test_ebs_baseline_and_burst_where_a_source_gives_them_and_unknown_otherwise() -> None:
    g5 = catalog.instance_types()["g5.xlarge"]  # AWS's 2023 table: 700 baseline, 3500 for 30 min a day
    assert (g5.ebs_mbps, g5.ebs_burst_mbps, g5.ebs_baseline_known) == (700, 3500, True)
    g6e = catalog.instance_types()["g6e.2xlarge"]  # no source gives the baseline: EC2's maximum, marked
    assert (g6e.ebs_mbps, g6e.ebs_burst_mbps, g6e.ebs_baseline_known) == (5000, None, False)
    assert instance_catalog()["g6e.2xlarge"].ebs.baseline_mbps is None
    p5 = catalog.instance_types()["p5.48xlarge"]
    assert (p5.ebs_mbps, p5.ebs_burst_mbps) == (80000, None)


def test_gpu_memory_is_cuda_reported_where_known_and_otherwise_ec2s_marked() -> None:
    gpus = catalog.gpus()
    assert (gpus["H100"].memory_gib, gpus["H100"].memory_source) == (79.19, "cuda")
    assert (gpus["L4"].memory_gib, gpus["L4"].memory_source) == (22888 / 1024, "ec2")
    raw = aws_instances_gpu_mib()
    for name, gpu in gpus.items():
        # CUDA always reports less than EC2's GpuInfo (H100 79.19 GiB of 81920 MiB).
        assert gpu.memory_gib <= raw[name] / 1024, name
    for record in instance_catalog().values():
        if record.gpu_fraction is None:
            assert record.gpu_memory_mib == raw[record.gpu], record.name


def aws_instances_gpu_mib() -> dict[str, int]:
    import yaml

    data = yaml.safe_load((PROJECT_DIR / "components" / "catalog" / "gpus.yaml").read_text(encoding="utf-8"))
    return {name: spec["ec2MemoryMiB"] for name, spec in data["gpus"].items()}


def test_generator_refuses_a_value_without_a_known_source(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    generator = _generator()
    source = generator.SOURCE / "instances_supplement.yaml"
    text = source.read_text(encoding="utf-8").replace(
        "g5.xlarge: {ebsBaseline: [700, awsdocs-ebs-2023]", "g5.xlarge: {ebsBaseline: [700, a-blog-post]"
    )
    copy = tmp_path / "source"
    copy.mkdir()
    for path in generator.SOURCE.iterdir():
        (copy / path.name).write_bytes(path.read_bytes())
    (copy / "instances_supplement.yaml").write_text(text, encoding="utf-8")
    monkeypatch.setattr(generator, "SOURCE", copy)
    with pytest.raises(SystemExit, match=r"g5\.xlarge: unknown source 'a-blog-post'"):
        generator.build()
