"""The deploying machine's side of host access: readiness gate script, ssh options, docker host URIs."""

from __future__ import annotations

import subprocess

import pytest
from tools import shellcheck

from components import access


@pytest.mark.parametrize("mode", ["ssm", "ssh"])
def test_readiness_script_passes_shellcheck(mode: access.AccessMode, tmp_path: pytest.TempPathFactory) -> None:
    script = tmp_path / "ready.sh"  # type: ignore[operator]
    script.write_text("#!/bin/bash\n" + access.readiness_script(mode, "us-east-1"))
    result = subprocess.run([shellcheck(), str(script)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout


def test_readiness_waits_for_cloud_init_the_ready_marker_docker_and_the_gpu() -> None:
    script = access.readiness_script("ssm", "eu-west-1")
    for check in ("cloud-init status --wait", "test -f /var/lib/vllm-aws/ready", "docker info", "nvidia-smi -L"):
        assert check in script
    assert "aws ssm start-session --region eu-west-1" in script
    assert "trap 'rm -f \"$key\"' EXIT" in script  # the private key never outlives the command


def test_ssm_mode_tunnels_through_session_manager_and_ssh_mode_dials_the_address() -> None:
    assert any("ProxyCommand=aws ssm start-session" in option for option in access.ssh_options("ssm", "us-east-1"))
    assert not any("ProxyCommand" in option for option in access.ssh_options("ssh", "us-east-1"))
    assert access.docker_host("ssm", "i-0abc", "10.0.0.5") == "ssh://ubuntu@i-0abc"
    assert access.docker_host("ssh", "i-0abc", "10.0.0.5") == "ssh://ubuntu@10.0.0.5"
