"""pinImagesByDigest end to end: every container runs ``<repository>@sha256:...``, and the plan (JSON, table,
markdown) shows the digests. The registries are never asked (tests are offline): the digests come from the
resolver's disk cache, which the registry tests (tests/catalog/test_registry.py) fill over the real protocol."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from repo import PROJECT_DIR
from stack_runs import of_type, run_stack

from components.catalog.registry import DigestResolver
from components.serving.images import stack_images

IMAGE = "docker:index/remoteImage:RemoteImage"


def digest_of(image: str) -> str:
    return "sha256:" + hashlib.sha256(image.encode()).hexdigest()


def prime_cache(cache_root: Path) -> dict[str, str]:
    """What an earlier online plan left in the cache: a digest for every image the dev stack runs."""
    images = stack_images("vllm/vllm-openai:v0.33.0", monitoring=True, grafana=True).values()
    folder = cache_root / "registry"
    folder.mkdir(parents=True)
    resolver = DigestResolver(cache_dir=folder)
    for image in images:
        resolver._write_cache(image, digest_of(image))
    return {image: f"{image.rpartition(':')[0]}@{digest_of(image)}" for image in images}


def test_every_container_runs_by_digest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VLLM_AWS_CACHE_DIR", str(tmp_path))
    expected = prime_cache(tmp_path)
    run = run_stack("dev", pinImagesByDigest=True)
    names = {r.inputs["name"] for r in of_type(run, IMAGE)}
    assert names == set(expected.values())
    assert all("@sha256:" in name for name in names)
    assert not any("pinImagesByDigest" in warning for warning in run.warnings)


def test_without_a_digest_the_hosts_pull_by_tag_and_the_plan_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VLLM_AWS_CACHE_DIR", str(tmp_path))
    run = run_stack("dev", pinImagesByDigest=True)
    assert not any("@" in r.inputs["name"] for r in of_type(run, IMAGE))
    (warning,) = [w for w in run.warnings if w.startswith("pinImagesByDigest")]
    assert "vllm/vllm-openai:v0.33.0" in warning and "by tag" in warning


def test_off_by_default_every_image_runs_by_tag() -> None:
    run = run_stack("dev")
    assert not any("@" in r.inputs["name"] for r in of_type(run, IMAGE))


def test_the_plan_shows_the_digests_it_resolved(tmp_path: Path) -> None:
    expected = prime_cache(tmp_path)
    config = tmp_path / "Pulumi.pinned.yaml"
    config.write_text(
        "config:\n"
        "  vllm-aws:models: [{name: q, id: Qwen/Qwen2.5-7B-Instruct-AWQ, instanceType: g6.xlarge}]\n"
        "  vllm-aws:loadBalancer: {allowPlainHttp: true}\n"
        "  vllm-aws:monitoring: {grafana: false}\n"
        "  vllm-aws:pinImagesByDigest: true\n"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(PROJECT_DIR),
        "HOME": str(tmp_path),
        "HF_HUB_OFFLINE": "1",
        "VLLM_AWS_REGISTRY_OFFLINE": "1",
        "VLLM_AWS_CACHE_DIR": str(tmp_path),
    }

    def plan(fmt: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "components", "plan", "--config", str(config), "--format", fmt],
            cwd=PROJECT_DIR,
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, **env},
        )
        assert result.returncode in (0, 1), result.stderr
        return result.stdout

    images = {image["role"]: image for image in json.loads(plan("json"))["images"]}
    assert set(images) == {"vllm", "node-exporter", "dcgm-exporter", "prometheus", "alertmanager"}
    vllm = images["vllm"]
    assert vllm["image"] == "vllm/vllm-openai:v0.33.0"
    assert vllm["pull"] == expected["vllm/vllm-openai:v0.33.0"]
    assert vllm["source"] == "cache" and vllm["digest"] == digest_of("vllm/vllm-openai:v0.33.0")
    assert expected["vllm/vllm-openai:v0.33.0"] in plan("table")
    assert f"- vllm: {expected['vllm/vllm-openai:v0.33.0']}" in plan("markdown")
