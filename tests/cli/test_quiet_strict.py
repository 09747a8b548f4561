"""`plan --quiet` hides warnings from what people read; `plan --strict` fails on any warning, for CI (#15)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml
from repo import PROJECT_DIR

from components.cli import EXIT_WARNINGS

CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/0123abcd-4567-89ef-0123-456789abcdef"


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "components", *args],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT_DIR)},
    )


def test_strict_exits_3_after_printing_and_quiet_hides_only_the_printed_warnings() -> None:
    # The dev stack has no certificate: its one warning is real (plain HTTP).
    loud = cli("plan", "--stack", "dev", "--strict")
    assert (loud.returncode, loud.stderr) == (EXIT_WARNINGS, "")
    assert "WARNING: INSECURE" in loud.stdout and "Resources (" in loud.stdout
    quiet = cli("plan", "--stack", "dev", "--strict", "--quiet", "--format", "markdown")
    assert quiet.returncode == EXIT_WARNINGS
    assert "INSECURE" not in quiet.stdout and "**Warnings**" not in quiet.stdout and "**Total:" in quiet.stdout
    data = cli("plan", "--stack", "dev", "--quiet", "--format", "json")
    assert data.returncode == 0  # not strict: warnings never fail the run
    assert any(w.startswith("INSECURE") for w in json.loads(data.stdout)["warnings"])


def test_strict_passes_a_plan_without_warnings(tmp_path: Path) -> None:
    document = yaml.safe_load((PROJECT_DIR / "Pulumi.dev.yaml").read_text(encoding="utf-8"))
    document["config"]["vllm-aws:loadBalancer"] = {"certificateArn": CERTIFICATE}
    config = tmp_path / "Pulumi.dev.yaml"
    config.write_text(yaml.safe_dump(document), encoding="utf-8")
    result = cli("plan", "--config", str(config), "--strict", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["warnings"] == []


def test_quiet_hides_the_new_warnings_of_a_compare_and_strict_still_counts_them(tmp_path: Path) -> None:
    base = cli("plan", "--stack", "dev", "--format", "json")
    old = tmp_path / "base.json"
    old.write_text(base.stdout, encoding="utf-8")
    document = yaml.safe_load((PROJECT_DIR / "Pulumi.dev.yaml").read_text(encoding="utf-8"))
    document["config"]["vllm-aws:models"][0]["spot"] = True
    config = tmp_path / "Pulumi.dev.yaml"
    config.write_text(yaml.safe_dump(document), encoding="utf-8")
    loud = cli("plan", "--config", str(config), "--compare", str(old))
    assert "New warnings" in loud.stdout and "spot hosts use a persistent request" in loud.stdout
    quiet = cli("plan", "--config", str(config), "--compare", str(old), "--quiet", "--strict")
    assert quiet.returncode == EXIT_WARNINGS
    assert "New warnings" not in quiet.stdout and "spot hosts" not in quiet.stdout


def test_the_programs_own_warnings_reach_the_plan_once(tmp_path: Path) -> None:
    # The quota check (run by the program, not the planner) cannot count P6 spot vCPUs: said in the plan, once.
    config = tmp_path / "Pulumi.dev.yaml"
    models = [{"name": "big", "id": "Qwen/Qwen2.5-7B-Instruct", "instanceType": "p6-b200.48xlarge", "spot": True}]
    config.write_text(
        yaml.safe_dump({"config": {"vllm-aws:models": models, "vllm-aws:loadBalancer": {"allowPlainHttp": True}}}),
        encoding="utf-8",
    )
    result = cli("plan", "--config", str(config), "--format", "json")
    assert result.returncode == 0, result.stderr
    warnings = json.loads(result.stdout)["warnings"]
    assert len(warnings) == len(set(warnings))
    assert [w for w in warnings if "AWS documents no spot vCPU quota for p6-b200.48xlarge" in w]
