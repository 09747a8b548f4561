"""Deregister before stop (#14): the drain wait's script against a stub AWS CLI, and its place between the target's
registration and its server on the recorded resources (Pulumi deletes dependents first)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from stack_runs import named, of_type, run_stack
from tools import shellcheck

from components.network import drain

TG = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/qwen-8b-tg/0123456789abcdef"
INSTANCE = "i-0123456789abcdef0"
COMMAND = "command:local:Command"


def run_drain(tmp_path: Path, states: list[str], wait_seconds: int = 30) -> subprocess.CompletedProcess[str]:
    """The script with an `aws` stub that answers each describe-target-health with the next state (a state
    starting with 'error:' is printed to stderr with exit 254, as the CLI reports a service error)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    answers = tmp_path / "answers"
    answers.write_text("\n".join(states) + "\n")
    calls = tmp_path / "calls"
    stub = bin_dir / "aws"
    stub.write_text(
        "#!/bin/bash\n"
        f'echo "$*" >>{calls}\n'
        f"answer=$(head -n 1 {answers}); sed -i 1d {answers}\n"
        'case $answer in error:*) echo "${answer#error:}" >&2; exit 254 ;; *) echo "$answer" ;; esac\n'
    )
    stub.chmod(0o755)
    script = drain.drain_script(TG, INSTANCE, 8001, wait_seconds=wait_seconds, propagation_seconds=0)
    script = script.replace(f"sleep {drain.POLL_SECONDS}", "sleep 0.1")
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, check=False)
    result.stdout += "\nCALLS:\n" + (calls.read_text() if calls.exists() else "")
    return result


def test_the_wait_ends_once_the_alb_reports_the_target_draining(tmp_path: Path) -> None:
    result = run_drain(tmp_path, ["healthy", "healthy", "draining"])
    assert result.returncode == 0, result.stderr
    calls = result.stdout.split("CALLS:\n")[1].splitlines()
    assert len(calls) == 3
    assert calls[0] == (
        f"elbv2 describe-target-health --region eu-west-1 --target-group-arn {TG} --targets "
        f"Id={INSTANCE},Port=8001 --query TargetHealthDescriptions[0].TargetHealth.State --output text"
    )
    assert f"target {INSTANCE}:8001: draining; its server may stop" in result.stdout


@pytest.mark.parametrize(
    "answer",
    ["unused", "error:An error occurred (TargetGroupNotFound) when calling the DescribeTargetHealth operation"],
)
def test_a_target_or_group_already_gone_needs_no_wait(tmp_path: Path, answer: str) -> None:
    assert run_drain(tmp_path, [answer]).returncode == 0


def test_a_target_still_in_service_stops_the_delete_with_the_reason(tmp_path: Path) -> None:
    result = run_drain(tmp_path, ["healthy"] * 100 + ["error:Unable to locate credentials"] * 100, wait_seconds=1)
    assert result.returncode == drain.DRAIN_FAILED_EXIT
    assert "not stopping its server while the load balancer may send it requests" in result.stderr


def test_the_script_passes_shellcheck(tmp_path: Path) -> None:
    path = tmp_path / "drain.sh"
    path.write_text("#!/bin/bash\n" + drain.drain_script(TG, INSTANCE, 8000))
    result = subprocess.run([shellcheck(), "--severity=style", str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize(
    ("arn", "instance", "port"),
    [("arn:aws:s3:::bucket", INSTANCE, 8000), (TG, "i-123; rm -rf /", 8000), (TG, INSTANCE, 0)],
)
def test_only_real_ids_reach_the_script(arn: str, instance: str, port: int) -> None:
    with pytest.raises(ValueError, match="not a"):
        drain.drain_script(arn, instance, port)


def test_the_target_is_deregistered_and_drained_before_its_server_stops() -> None:
    """Pulumi deletes dependents before their dependencies; a delete-before-replace of the container first deletes
    the dependents whose inputs its new id makes unknown. The chain makes both orders: attachment (deregister) ->
    drain wait -> health wait -> container (SIGTERM, vLLM drains in-flight requests)."""
    run = run_stack("prod")
    for attach in of_type(run, "aws:lb/targetGroupAttachment:TargetGroupAttachment"):
        key = attach.name.removeprefix(f"{attach.parent}-").removesuffix("-attach")  # e.g. qwen-8b-1-vllm-0
        drain_wait = named(run, f"{attach.parent}-{key}-drain")
        health, container = named(run, f"{key}-health"), named(run, f"{key}-container")
        # Dependency edges (the delete order is their reverse) ...
        assert drain_wait.name in attach.options["dependsOn"]
        assert health.name in drain_wait.options["dependsOn"]
        assert container.name in health.options["dependsOn"]
        # ... carried by inputs, so a new container replaces the wait, and the wait the attachment.
        assert container.name in drain_wait.options["propertyDependencies"]["triggers"]
        assert drain_wait.name in attach.options["propertyDependencies"]["targetId"]
        assert drain_wait.inputs["triggers"] == [f"{container.name}-id"]  # the mocks' id of the container
        assert drain_wait.options["deleteBeforeReplace"] is True and attach.options["deleteBeforeReplace"] is True
        # The wait does nothing on create, and on delete waits for this very target to drain.
        assert "create" not in drain_wait.inputs
        script = drain_wait.inputs["delete"]
        assert f"Id={attach.inputs['targetId']},Port={int(attach.inputs['port'])}" in script
        assert f"--target-group-arn {attach.inputs['targetGroupArn']}" in script
    assert len(of_type(run, "aws:lb/targetGroupAttachment:TargetGroupAttachment")) == len(
        [r for r in of_type(run, COMMAND) if r.name.endswith("-drain")]
    )
