"""`plan --compare`: classification of resource changes, cost and capacity deltas, the PR comment."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from repo import SNAPSHOTS_DIR
from stack_runs import PROJECT_DIR
from stack_runs import plan_document as document

from components.cli.compare import compare, upstream_moved
from components.cli.diff_report import COMMENT_MARKER, render_diff_markdown

SNAPSHOTS = SNAPSHOTS_DIR


def names(entries: list[dict[str, Any]], type_: str | None = None) -> set[str]:
    return {e["name"] for e in entries if type_ is None or e["type"] == type_}


@pytest.fixture(scope="module")
def prod() -> dict[str, Any]:
    return document("prod")


def model_change(name: str, **changes: Any) -> Any:
    def apply(raw: dict[str, Any]) -> None:
        for model in raw["models"]:
            if model["name"] == name:
                model.update(changes)

    return apply


def test_no_change_is_an_empty_diff(prod: dict[str, Any]) -> None:
    diff = compare(prod, copy.deepcopy(prod))
    resources = diff["resources"]
    assert resources["added"] == resources["removed"] == resources["replaced"] == resources["changed"] == []
    assert diff["cost"]["delta"] == {"hourlyUsd": 0.0, "monthlyUsd": 0.0}
    assert diff["disruptions"] == diff["availability"] == diff["blockers"] == diff["steps"] == []
    assert {c["status"] for c in diff["capacity"]} == {"same"}


def test_scaling_replicas_adds_a_host_and_its_cost_without_touching_the_others(prod: dict[str, Any]) -> None:
    diff = compare(prod, document("prod", model_change("qwen-8b", replicas=3)))
    resources = diff["resources"]
    assert "qwen-8b-2-instance" in names(resources["added"], "aws:ec2/instance:Instance")
    assert "qwen-8b-2-cache-volume" in names(resources["added"])
    assert resources["removed"] == []
    # Only Prometheus is replaced: its rules now expect the new replica (#14), uploaded once the host is ready.
    assert [(r["name"], r["reasons"]) for r in resources["replaced"]] == [
        ("monitoring-prometheus", ["uploads[1].content"])
    ]
    assert diff["disruptions"] == []
    per_host = next(m for m in prod["models"] if m["name"] == "qwen-8b")["cost"]["hourlyUsd"] / 2
    assert diff["cost"]["delta"]["hourlyUsd"] == pytest.approx(per_host, abs=0.01)
    (capacity,) = [c for c in diff["capacity"] if c["model"] == "qwen-8b"]
    assert capacity["status"] == "changed" and capacity["delta"]["replicas"] == 1 and capacity["delta"]["hosts"] == 1
    assert capacity["delta"]["kvCacheTokens"] == 0


def test_changing_the_instance_type_replaces_the_host_and_flags_the_cold_start(prod: dict[str, Any]) -> None:
    new = document("prod", model_change("qwen-72b", instanceType="p5.48xlarge"))
    diff = compare(prod, new)
    replaced = {e["name"]: e["reasons"] for e in diff["resources"]["replaced"]}
    assert replaced["qwen-72b-0-instance"] == ["instanceType"]
    assert replaced["qwen-72b-0-cache-attach"] == ["instanceId (new value from qwen-72b-0-instance)"]
    assert replaced["qwen-72b-0-vllm-0-container"] == ["deletedWith qwen-72b-0-instance (replaced)"]
    assert "qwen-72b-endpoint-qwen-72b-0-vllm-0-attach" in replaced
    assert "qwen-72b-0-cache-volume" not in replaced  # the cache survives the new host
    cold = next(m for m in new["models"] if m["name"] == "qwen-72b")["coldStart"]["hostReplacementSeconds"]
    assert diff["disruptions"] == [
        {
            "kind": "host-replaced",
            "host": "qwen-72b-0",
            "model": "qwen-72b",
            "replicas": 1,
            "downtimeSeconds": cold,
            "cause": ["instanceType"],
            "after": [],
        }
    ]
    (availability,) = diff["availability"]
    assert availability["model"] == "qwen-72b" and availability["outage"] is True
    assert availability["replicasDown"] == availability["replicas"] == 1 and "2 replicas" in availability["fix"]
    assert diff["blockers"] == []
    assert diff["cost"]["delta"]["hourlyUsd"] == pytest.approx(55.04 - 10.49, abs=0.5)
    (capacity,) = [c for c in diff["capacity"] if c["model"] == "qwen-72b"]
    assert capacity["new"]["instanceType"] == "p5.48xlarge" and capacity["delta"]["kvCacheTokens"] > 0


def test_changing_tp_restarts_the_server_but_keeps_the_host(prod: dict[str, Any]) -> None:
    new = document("prod", model_change("qwen-72b", tensorParallelSize=2, kvCacheDtype="fp8", maxModelLen=8192))
    diff = compare(prod, new)
    replaced = names(diff["resources"]["replaced"])
    assert "qwen-72b-0-vllm-0-container" in replaced
    assert "qwen-72b-0-instance" not in replaced
    assert [d["kind"] for d in diff["disruptions"]] == ["server-restarted"]
    assert diff["disruptions"][0]["downtimeSeconds"] == next(
        m["coldStart"]["warmCacheSeconds"] for m in new["models"] if m["name"] == "qwen-72b"
    )
    (capacity,) = [c for c in diff["capacity"] if c["model"] == "qwen-72b"]
    assert (capacity["old"]["tensorParallelSize"], capacity["new"]["tensorParallelSize"]) == (4, 2)
    assert capacity["delta"]["maxModelLen"] == 8192 - 32768
    assert diff["cost"]["delta"]["hourlyUsd"] == 0.0


def test_a_new_image_tag_replaces_images_and_servers_everywhere(prod: dict[str, Any]) -> None:
    new = document("prod", lambda raw: raw.update(image="vllm/vllm-openai:v0.33.1"))
    diff = compare(prod, new)
    replaced = diff["resources"]["replaced"]
    images = {e["name"] for e in replaced if e["type"] == "docker:index/remoteImage:RemoteImage"}
    assert images == {"qwen-72b-0-vllm-0-image", "qwen-8b-0-vllm-0-image", "qwen-8b-1-vllm-0-image"}
    servers = names(replaced, "docker:index/container:Container")
    assert {"qwen-72b-0-vllm-0-container", "qwen-8b-0-vllm-0-container", "qwen-8b-1-vllm-0-container"} <= servers
    assert not names(replaced, "aws:ec2/instance:Instance")
    assert len(diff["disruptions"]) == 3 and {d["kind"] for d in diff["disruptions"]} == {"server-restarted"}


def test_adding_a_model_adds_its_hosts_target_group_and_routes(prod: dict[str, Any]) -> None:
    extra = {"name": "qwen-7b", "id": "Qwen/Qwen2.5-7B-Instruct-AWQ", "instanceType": "g6.xlarge", "maxModelLen": 8192}
    diff = compare(prod, document("prod", lambda raw: raw["models"].append(extra)))
    added = names(diff["resources"]["added"])
    assert {"qwen-7b-0-instance", "qwen-7b-tg", "qwen-7b-endpoint-prefix-rule"} <= added
    assert diff["resources"]["removed"] == [] and diff["disruptions"] == []
    (capacity,) = [c for c in diff["capacity"] if c["model"] == "qwen-7b"]
    assert capacity["status"] == "added" and capacity["old"] is None
    assert diff["cost"]["delta"]["hourlyUsd"] > 0.8


def test_removing_a_model_removes_everything_of_it(prod: dict[str, Any]) -> None:
    diff = compare(prod, document("prod", lambda raw: raw.update(models=raw["models"][:1])))
    removed = names(diff["resources"]["removed"])
    assert {"qwen-8b-0-instance", "qwen-8b-1-instance", "qwen-8b-tg"} <= removed
    assert {"qwen-8b-0-cache-volume", "qwen-8b-1-cache-volume"} <= removed  # retained by retainOnDelete
    (capacity,) = [c for c in diff["capacity"] if c["model"] == "qwen-8b"]
    assert capacity["status"] == "removed"
    assert diff["cost"]["delta"]["hourlyUsd"] < -3.5


def test_new_and_resolved_warnings(prod: dict[str, Any]) -> None:
    plain = document("prod", lambda raw: raw.update(loadBalancer={"allowPlainHttp": True}))
    assert any(w.startswith("INSECURE") for w in compare(prod, plain)["warnings"]["new"])
    diff = compare(plain, prod)
    assert any(w.startswith("INSECURE") for w in diff["warnings"]["resolved"])
    assert diff["warnings"]["new"] == []


def test_markdown_comment_is_stable(prod: dict[str, Any]) -> None:
    new = document("prod", model_change("qwen-72b", instanceType="p5.48xlarge"))
    text = render_diff_markdown(compare(prod, new))
    assert text.startswith(COMMENT_MARKER)
    snapshot = SNAPSHOTS / "compare-prod-instance-type.md"
    if os.environ.get("UPDATE_SNAPSHOTS"):
        snapshot.write_text(text)
    assert text == snapshot.read_text(), "markdown changed: review it, then rerun with UPDATE_SNAPSHOTS=1"


def test_cli_compare_json_and_bad_old_file(tmp_path: Path, prod: dict[str, Any]) -> None:
    old = tmp_path / "old.json"
    old.write_text(json.dumps(prod))
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT_DIR)}
    run = subprocess.run(
        [sys.executable, "-m", "components", "plan", "--stack", "prod", "--compare", str(old), "--format", "json"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert run.returncode == 0, run.stderr
    diff = json.loads(run.stdout)
    assert set(diff) == {
        "schemaVersion",
        "stack",
        "blockers",
        "resources",
        "steps",
        "disruptions",
        "availability",
        "cost",
        "capacity",
        "coldStartCheck",
        "upstreamMoved",
        "warnings",
        "notes",
        "previewOnly",
    }
    assert diff["resources"]["replaced"] == [] and diff["coldStartCheck"] == []
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    run = subprocess.run(
        [sys.executable, "-m", "components", "plan", "--stack", "prod", "--compare", str(bad)],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert run.returncode == 2 and "is not a plan JSON" in run.stderr and "Traceback" not in run.stderr


def test_an_old_plan_without_costs_compares_with_unknown_deltas(prod: dict[str, Any]) -> None:
    old = {**copy.deepcopy(prod), "cost": None}
    diff = compare(old, prod)
    assert diff["cost"]["delta"] == {"hourlyUsd": None, "monthlyUsd": None}


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "components", "plan", "--stack", "prod", *args],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT_DIR)},
    )


def test_fail_on_blockers_exits_1_after_printing_the_report(tmp_path: Path) -> None:
    # The prod ALB has deletion protection on; a base plan with an internal ALB makes the change a replacement
    # of the load balancer (`internal` is force-new), whose old half DeleteLoadBalancer refuses.
    old = tmp_path / "old.json"
    internal = lambda raw: raw.update(loadBalancer={**raw["loadBalancer"], "internal": True})  # noqa: E731
    old.write_text(json.dumps(document("prod", internal)))
    failing = _cli("--compare", str(old), "--fail-on-blockers")
    assert failing.returncode == 1, failing.stderr
    assert "BLOCKER(S)" in failing.stdout and "OperationNotPermitted" in failing.stdout
    report = _cli("--compare", str(old), "--format", "json")
    assert report.returncode == 0
    assert {b["code"] for b in json.loads(report.stdout)["blockers"]} == {"OperationNotPermitted"}
    misuse = _cli("--fail-on-blockers")
    assert misuse.returncode == 2 and "need --compare" in misuse.stderr and "Traceback" not in misuse.stderr


def test_replace_and_fresh_runner_reach_the_simulation(tmp_path: Path, prod: dict[str, Any]) -> None:
    old = tmp_path / "old.json"
    old.write_text(json.dumps(prod))
    rotated = _cli("--compare", str(old), "--format", "json", "--replace", "ssh-key", "--fresh-runner")
    assert rotated.returncode == 0, rotated.stderr
    diff = json.loads(rotated.stdout)
    assert "ssh-key" in names(diff["resources"]["replaced"])
    # #10 items 5 and 8: no one-shot key-file command any more, and the new public key replaces every host.
    assert diff["blockers"] == []
    assert "qwen-72b-0-instance" in names(diff["resources"]["replaced"])
    # A rotated secret is invisible in the plans ([secret] both sides): named, it restarts the servers, rolling.
    api_key = _cli("--compare", str(old), "--format", "json", "--rotate-secret", "api-key-parameter")
    assert api_key.returncode == 0, api_key.stderr
    rolled = {a["model"]: a for a in json.loads(api_key.stdout)["availability"]}
    assert rolled["qwen-8b"]["rolling"] is True and rolled["qwen-72b"]["outage"] is True


def test_a_reparented_resource_is_recreated_not_unchanged(prod: dict[str, Any]) -> None:
    # #10 item 14: as if the cache volume used to be registered under a top-level ModelCache.
    old = copy.deepcopy(prod)
    volume = next(r for r in old["resources"] if r["name"] == "qwen-72b-0-cache-volume")
    volume["urn"] = volume["urn"].replace("vllm-aws:index:VllmDeployment$", "")
    diff = compare(old, prod)
    (recreated,) = diff["resources"]["recreated"]
    assert recreated["name"] == "qwen-72b-0-cache-volume" and recreated["oldUrn"] == volume["urn"]
    assert "qwen-72b-0-cache-volume" in names(diff["resources"]["added"]) & names(diff["resources"]["removed"])
    # The new (empty) volume gets the host's attachment; the old one is retained, not deleted.
    assert "qwen-72b-0-cache-attach" in names(diff["resources"]["replaced"])
    delete = next(s for s in diff["steps"] if s["urn"] == volume["urn"])
    assert (delete["op"], delete["skipped"]) == ("delete", "retainOnDelete")


def test_an_old_plan_without_urns_still_compares(prod: dict[str, Any]) -> None:
    old = copy.deepcopy(prod)
    for resource in old["resources"]:
        del resource["urn"]
    diff = compare(old, prod)
    assert diff["resources"]["added"] == diff["resources"]["removed"] == diff["resources"]["replaced"] == []
    assert any("no resource URNs" in note for note in diff["notes"])


def test_deployed_outputs_put_the_measured_cold_starts_beside_the_prediction(
    tmp_path: Path, prod: dict[str, Any]
) -> None:
    old = tmp_path / "old.json"
    old.write_text(json.dumps(prod))
    # As `pulumi stack output --json` prints it: the health waits' JSON lines, per model and server.
    measured = '{"readySeconds": 1800, "hostBootSeconds": 97, "weightsSeconds": 140.5}\n'
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"serverReadiness": {"qwen-72b": {"qwen-72b-0-vllm-0": measured}}}))
    report = _cli("--compare", str(old), "--format", "json", "--deployed-outputs", str(outputs))
    assert report.returncode == 0, report.stderr
    checks = {c["model"]: c for c in json.loads(report.stdout)["coldStartCheck"]}
    big = checks["qwen-72b"]
    first_start = big["predicted"]["containerFirstStartSeconds"]
    assert big["measured"] == [
        {"server": "qwen-72b-0-vllm-0", "readySeconds": 1800, "hostBootSeconds": 97, "weightsSeconds": 140.5}
    ]
    assert big["readyVsFirstStart"] == round(1800 / first_start, 2)
    assert checks["qwen-8b"]["measured"] == [] and checks["qwen-8b"]["readyVsFirstStart"] is None
    text = _cli("--compare", str(old), "--deployed-outputs", str(outputs))
    assert "Cold start, predicted vs measured" in text.stdout and "1800 s" in text.stdout
    outputs.write_text("{}")
    bad = _cli("--compare", str(old), "--deployed-outputs", str(outputs))
    assert bad.returncode == 2 and "serverReadiness" in bad.stderr and "Traceback" not in bad.stderr
    alone = _cli("--deployed-outputs", str(outputs))
    assert alone.returncode == 2 and "need --compare" in alone.stderr


def test_compare_says_when_the_same_revision_moved_upstream() -> None:
    def document(sha: str) -> dict[str, object]:
        model = {"name": "qwen", "id": "Qwen/Qwen3-8B", "revision": {"configured": None, "resolvedSha": sha}}
        return {"models": [model]}

    old, new = document("a" * 40), document("b" * 40)
    (moved,) = _upstream_moved_of(old, new)
    assert (moved["oldSha"], moved["newSha"], moved["revision"]) == ("a" * 40, "b" * 40, None)
    assert "moved upstream from aaaaaaaaaaaa to bbbbbbbbbbbb" in moved["message"]
    assert not _upstream_moved_of(old, old)
    pinned_elsewhere = {"models": [{**new["models"][0], "revision": {"configured": "v2", "resolvedSha": "b" * 40}}]}  # type: ignore[index]
    assert not _upstream_moved_of(old, pinned_elsewhere)


def _upstream_moved_of(old: dict[str, object], new: dict[str, object]) -> list[dict[str, object]]:

    olds = {m["name"]: m for m in old["models"]}  # type: ignore[attr-defined]
    news = {m["name"]: m for m in new["models"]}  # type: ignore[attr-defined]
    return [m for name in news if (m := upstream_moved(name, olds.get(name), news[name]))]
