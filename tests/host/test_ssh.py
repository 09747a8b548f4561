"""The deploying machine's side of host access: readiness gate script, ssh options, docker host URIs."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from subprocess import CompletedProcess

import pytest
from tools import shellcheck

from components.host import ssh


@pytest.mark.parametrize("mode", ["ssm", "ssh"])
def test_readiness_script_passes_shellcheck(mode: ssh.AccessMode, tmp_path: pytest.TempPathFactory) -> None:
    script = tmp_path / "ready.sh"  # type: ignore[operator]
    script.write_text("#!/bin/bash\n" + ssh.readiness_script(mode, "us-east-1"))
    result = subprocess.run([shellcheck(), str(script)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout


def test_readiness_waits_for_cloud_init_the_ready_marker_docker_and_the_gpu() -> None:
    script = ssh.readiness_script("ssm", "eu-west-1")
    for check in ("cloud-init status --wait", "test -f /var/lib/vllm-aws/ready", "docker info", "nvidia-smi -L"):
        assert check in script
    assert "aws ssm start-session --region eu-west-1" in script
    assert "trap 'rm -f \"$key\"' EXIT" in script  # the private key never outlives the command


def test_ssm_mode_tunnels_through_session_manager_and_ssh_mode_dials_the_address() -> None:
    assert any("ProxyCommand=aws ssm start-session" in option for option in ssh.ssh_options("ssm", "us-east-1"))
    assert not any("ProxyCommand" in option for option in ssh.ssh_options("ssh", "us-east-1"))
    assert ssh.docker_host("ssm", "i-0abc", "10.0.0.5") == "ssh://ubuntu@i-0abc"
    assert ssh.docker_host("ssh", "i-0abc", "10.0.0.5") == "ssh://ubuntu@10.0.0.5"


# --- the readiness gate, executed with a stub ssh that runs the remote check against stub host tools ----------

TEST_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU=\n-----END OPENSSH PRIVATE KEY-----"


def _stub(path: Path, body: str) -> None:
    path.write_text("#!/usr/bin/env bash\n" + body)
    path.chmod(0o755)


@dataclass
class Gate:
    """A deploying machine (stub ssh, sleep) and a host (stub cloud-init, docker, nvidia-smi) in one directory."""

    root: Path

    @property
    def host(self) -> Path:
        return self.root / "host"

    def ssh_calls(self) -> list[str]:
        calls = self.root / "ssh.calls"
        return calls.read_text().splitlines() if calls.exists() else []

    def run(self, *, cloud_init_status: int = 0, ssh_failures: int = 0, gpu: bool = True) -> CompletedProcess[str]:
        script = self.root / "ready.sh"
        script.write_text(ssh.readiness_script("ssm", "us-east-1", gpu=gpu))
        env = {
            "PATH": f"{self.root / 'bin'}:{os.environ['PATH']}",
            "TARGET": "i-0123456789abcdef0",
            "VLLM_AWS_SSH_KEY": TEST_KEY,
            "STUB_ROOT": str(self.root),
            "CLOUD_INIT_STATUS": str(cloud_init_status),
            "SSH_FAILURES": str(ssh_failures),
        }
        return subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, check=False)


@pytest.fixture
def gate(tmp_path: Path) -> Gate:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (tmp_path / "host").mkdir()
    # ssh: record the options (all but the remote command), check the identity file, fail the first
    # $SSH_FAILURES connections like a host still booting (255), then run the remote check with the host's
    # absolute paths under $STUB_ROOT/host.
    _stub(
        bin_dir / "ssh",
        """set -euo pipefail
printf '%s\\n' "${*:1:$#-1}" >>"$STUB_ROOT/ssh.calls"
args=("$@")
for i in "${!args[@]}"; do
  if [[ ${args[$i]} == -i ]]; then
    key=${args[$((i + 1))]}
    [[ $(stat -c %a "$key") == 600 && $(cat "$key") == "$VLLM_AWS_SSH_KEY" ]] || { echo "bad key file" >&2; exit 99; }
  fi
done
if (($(wc -l <"$STUB_ROOT/ssh.calls") <= SSH_FAILURES)); then
  echo "ssh: connect to host: Connection refused" >&2
  exit 255
fi
remote=${args[-1]}
remote=${remote//\\/var\\/lib\\/vllm-aws/$STUB_ROOT/host}
remote=${remote//\\/var\\/log\\/vllm-aws/$STUB_ROOT/host}
exec sh -c "$remote"
""",
    )
    _stub(bin_dir / "cloud-init", 'exit "$CLOUD_INIT_STATUS"\n')
    _stub(bin_dir / "docker", "exit 0\n")
    _stub(bin_dir / "nvidia-smi", 'echo "GPU 0: NVIDIA L4 (UUID: GPU-0)"\n')
    _stub(bin_dir / "sleep", 'echo "sleep $*" >>"$STUB_ROOT/sleep.calls"\n')
    return Gate(tmp_path)


@pytest.mark.parametrize("cloud_init_status", [0, 2], ids=["done", "done-with-recoverable-errors"])
def test_gate_passes_when_cloud_init_is_done_even_with_recoverable_errors(gate: Gate, cloud_init_status: int) -> None:
    (gate.host / "ready").write_text("ready\n")
    result = gate.run(cloud_init_status=cloud_init_status)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "GPU 0: NVIDIA L4" in result.stdout
    (call,) = gate.ssh_calls()
    assert "-o IdentitiesOnly=yes" in call and "ubuntu@i-0123456789abcdef0" in call


def test_gate_fails_at_once_on_a_cloud_init_error_and_shows_the_bootstrap_log(gate: Gate) -> None:
    log = "2026-11-27T10:00:00Z elapsed=3s uptime=40s FAILED phase=verify-gpu-stack\n"
    (gate.host / "bootstrap.log").write_text(log)
    result = gate.run(cloud_init_status=1)
    assert result.returncode == 1
    assert len(gate.ssh_calls()) == 1  # no retry: waiting cannot fix a failed bootstrap
    assert "FAILED phase=verify-gpu-stack" in result.stderr
    assert "the bootstrap failed (cloud-init error)" in result.stderr
    assert "/var/log/vllm-aws/bootstrap.log" in result.stderr


def test_gate_retries_while_the_host_boots_and_removes_its_key_copy(gate: Gate) -> None:
    (gate.host / "ready").write_text("ready\n")
    result = gate.run(ssh_failures=3)
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(gate.ssh_calls()) == 4
    assert (gate.root / "sleep.calls").read_text().splitlines() == ["sleep 15"] * 3
    key_file = gate.ssh_calls()[0].split("-i ")[1].split(" ")[0]
    assert not Path(key_file).exists()


def test_gate_times_out_without_the_ready_marker(gate: Gate) -> None:
    result = gate.run(gpu=False)
    assert result.returncode == 1
    assert len(gate.ssh_calls()) == ssh.READY_TIMEOUT_SECONDS // 15
    assert f"not ready after {ssh.READY_TIMEOUT_SECONDS} s" in result.stderr


def test_remote_check_passes_shellcheck_as_posix_sh(tmp_path: Path) -> None:
    for gpu in (True, False):
        script = tmp_path / f"check-{gpu}.sh"
        script.write_text("#!/bin/sh\n" + ssh.readiness_check(gpu))
        result = subprocess.run([shellcheck(), str(script)], capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stdout
