"""Placement is sticky: a host runs in the zone its cache volume is in, whatever today's zone offerings say.

Instance-type offerings are looked up at every preview and the spread over them changes when AWS adds or drops
a zone, while a cache volume ignores zone changes (its data would be lost). A host planned in another zone than
its cache could never attach it, so hosts follow the volume's availabilityZone output (from state).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pulumi
import pytest
from stack_runs import PROJECT_DIR, of_type, run_stack

from components.cli.offline import OfflineAws

INSTANCE = "aws:ec2/instance:Instance"
VOLUME = "aws:ebs/volume:Volume"


def hosts_by_zone(run):  # type: ignore[no-untyped-def]
    return {i.parent: (i.inputs["availabilityZone"], i.inputs["subnetId"]) for i in of_type(run, INSTANCE)}


def test_a_new_zone_never_moves_a_replica_away_from_its_cache() -> None:
    # Deployed when g6e.xlarge was offered in b and c only: qwen-8b's caches are in b and c.
    before = run_stack("prod", aws=OfflineAws(offered_zones={"g6e.xlarge": ["us-east-1b", "us-east-1c"]}))
    cache_zones = {v.name: v.inputs["availabilityZone"] for v in of_type(before, VOLUME)}
    assert cache_zones["qwen-8b-0-cache-volume"] == "us-east-1b"
    assert cache_zones["qwen-8b-1-cache-volume"] == "us-east-1c"
    # Then us-east-1a starts offering it, which shifts the spread of new caches to a and b; the volumes keep
    # their zone (state), and each host must stay in its volume's zone or the attachment could never succeed.
    after = run_stack("prod", aws=OfflineAws(volume_zones=cache_zones))
    spread = {v.name: v.inputs["availabilityZone"] for v in of_type(after, VOLUME)}
    assert spread["qwen-8b-0-cache-volume"] == "us-east-1a"  # what a new cache would get (ignored by the volume)
    assert hosts_by_zone(after) == hosts_by_zone(before)
    assert hosts_by_zone(after)["qwen-8b-1"] == ("us-east-1c", OfflineAws().subnet_id("us-east-1c"))


def test_the_monitoring_host_follows_its_data_volume_too() -> None:
    aws = OfflineAws(volume_zones={"monitoring-cache-volume": "us-east-1b"})
    assert hosts_by_zone(run_stack("prod", aws=aws))["monitoring"] == ("us-east-1b", aws.subnet_id("us-east-1b"))


def test_a_host_whose_cache_zone_no_longer_offers_its_type_fails_the_preview_with_the_fix() -> None:
    aws = OfflineAws(
        offered_zones={"g6e.xlarge": ["us-east-1a", "us-east-1b"]},
        volume_zones={"qwen-8b-1-cache-volume": "us-east-1c"},
    )
    with pytest.raises(pulumi.RunError) as caught:
        run_stack("prod", aws=aws)
    message = str(caught.value)
    assert "qwen-8b-1 (cache volume zone)" in message and "'us-east-1c'" in message
    assert "g6e.xlarge" in message and "choose an instance type offered in us-east-1c" in message
    assert "Traceback" not in message


def test_plan_compare_reads_the_old_plans_volumes_as_state(tmp_path: Path) -> None:
    # The base plan was deployed with qwen-8b-1 and its cache in us-east-1c (an earlier spread); today's spread
    # says b. Compared with it, the new plan keeps the host in c: no replacement, as a real preview would say.
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT_DIR)}
    plan = [sys.executable, "-m", "components", "plan", "--stack", "prod", "--format", "json"]
    base = json.loads(subprocess.run(plan, cwd=PROJECT_DIR, capture_output=True, text=True, check=True, env=env).stdout)
    zone_c = {"availabilityZone": "us-east-1c", "subnetId": OfflineAws().subnet_id("us-east-1c")}
    for resource in base["resources"]:
        if resource["name"] == "qwen-8b-1-cache-volume":
            resource["inputs"]["availabilityZone"] = "us-east-1c"
        if resource["name"] == "qwen-8b-1-instance":
            assert resource["inputs"]["availabilityZone"] == "us-east-1b"
            resource["inputs"].update(zone_c)
    old = tmp_path / "base.json"
    old.write_text(json.dumps(base))
    result = subprocess.run(
        [*plan, "--compare", str(old)], cwd=PROJECT_DIR, capture_output=True, text=True, check=False, env=env
    )
    assert result.returncode == 0, result.stderr
    diff = json.loads(result.stdout)
    moved = {r["name"] for r in diff["resources"]["replaced"]} | {r["name"] for r in diff["resources"]["changed"]}
    assert "qwen-8b-1-instance" not in moved
    assert diff["disruptions"] == []
