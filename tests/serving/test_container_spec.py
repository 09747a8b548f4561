"""Pure container decisions: GPU slots, the entrypoint, healthcheck timing, custom image tags."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from secret_stubs import read_vllm_dump, write_vllm_stub
from tools import shellcheck

from components.serving import container_spec as containers


def test_one_server_using_every_gpu_gets_them_all() -> None:
    assert containers.server_slots(4, 1, 4) == [containers.ServerSlot(index=0, host_port=8000, device_ids=None)]


def test_several_servers_on_one_host_get_disjoint_gpus_and_ports() -> None:
    slots = containers.server_slots(2, 4, 8)
    assert [s.device_ids for s in slots] == [("0", "1"), ("2", "3"), ("4", "5"), ("6", "7")]
    assert [s.host_port for s in slots] == [8000, 8001, 8002, 8003]


def test_a_server_smaller_than_its_host_is_pinned_to_its_gpus() -> None:
    assert containers.server_slots(1, 1, 4)[0].device_ids == ("0",)


def test_more_servers_than_gpus_is_refused() -> None:
    with pytest.raises(ValueError, match="needs more than 4 GPUs"):
        containers.server_slots(2, 3, 4)


def test_start_period_covers_the_cold_start_with_margin_in_30s_steps() -> None:
    assert containers.healthcheck_start_period_seconds(400) == 600
    assert containers.healthcheck_start_period_seconds(1) == 30


def test_entrypoint_passes_shellcheck_and_goes_offline_only_after_a_healthy_start(tmp_path: Path) -> None:
    script = tmp_path / "entrypoint.sh"
    script.write_text(containers.entrypoint_script())
    result = subprocess.run([shellcheck(), str(script)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout
    text = containers.entrypoint_script()
    assert text.index("export HF_HUB_OFFLINE=1") < text.index("else")  # only when the marker exists
    assert 'touch "$marker"' in text and containers.HEALTH_URL in text
    assert text.rstrip().endswith('exec vllm serve "$@"')


@dataclass
class Container:
    """The real entrypoint in a directory standing in for the container, with a stub `vllm` on PATH."""

    root: Path

    @property
    def secrets(self) -> Path:
        return self.root / "secrets"

    def start(self, *args: str) -> subprocess.CompletedProcess[str]:
        entrypoint = self.root / "entrypoint"
        entrypoint.write_text(containers.entrypoint_script())
        return subprocess.run(
            ["bash", str(entrypoint), *args],
            cwd=self.root,
            env={
                "PATH": f"{self.root / 'bin'}:/usr/bin:/bin",
                containers.SECRETS_DIR_ENV: str(self.secrets),
                containers.WARM_MARKER_ENV: str(self.root / "warm"),
                # Set some other way than the mounted files: must not count.
                "VLLM_API_KEY": "from-the-environment",
                "HF_TOKEN": "hf_from_the_environment",
            },
            capture_output=True,
            text=True,
            check=False,
        )

    @property
    def served(self) -> bool:
        return (self.root / "vllm.json").exists()

    def vllm_env(self) -> dict[str, bytes]:
        return read_vllm_dump(self.root / "vllm.json")[1]


@pytest.fixture
def container(tmp_path: Path) -> Container:
    (tmp_path / "bin").mkdir()
    write_vllm_stub(tmp_path / "bin", tmp_path / "vllm.json")
    (tmp_path / "secrets").mkdir()
    (tmp_path / "warm").touch()
    return Container(tmp_path)


def test_entrypoint_serves_with_the_key_and_token_from_their_files(container: Container) -> None:
    (container.secrets / "VLLM_API_KEY").write_text("k3y")
    (container.secrets / "HF_TOKEN").write_text("hf_from_file")
    result = container.start("my/model", "--max-model-len", "8192")
    assert result.returncode == 0, result.stderr
    argv, env = read_vllm_dump(container.root / "vllm.json")
    assert argv == ["serve", "my/model", "--max-model-len", "8192"]
    assert env["VLLM_API_KEY"] == b"k3y" and env["HF_TOKEN"] == b"hf_from_file"
    assert env["HF_HUB_OFFLINE"] == b"1"
    assert "k3y" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        (None, "no API key: "),
        ("", "is empty: vLLM would serve /v1 without authentication"),
        ("bad\0key", "holds a NUL byte"),
    ],
    ids=["missing", "empty", "nul-byte"],
)
def test_entrypoint_fails_closed_without_a_usable_key(container: Container, key: str | None, reason: str) -> None:
    """No vLLM without authentication: the container exits and `docker logs` (its stderr) says why."""
    if key is not None:
        (container.secrets / "VLLM_API_KEY").write_text(key)
    (container.secrets / "HF_TOKEN").write_text("hf_token")
    result = container.start("my/model")
    assert result.returncode != 0
    assert not container.served
    assert "vllm-aws: not starting vLLM: " in result.stderr and reason in result.stderr
    assert "from-the-environment" not in result.stderr


def test_entrypoint_fails_closed_without_the_secrets_mount(container: Container) -> None:
    container.secrets.rmdir()
    result = container.start("my/model")
    assert result.returncode != 0 and not container.served and "no API key" in result.stderr


@pytest.mark.parametrize("token", [None, ""], ids=["absent", "empty"])
def test_hf_token_is_optional(container: Container, token: str | None) -> None:
    (container.secrets / "VLLM_API_KEY").write_text("k3y")
    if token is not None:
        (container.secrets / "HF_TOKEN").write_text(token)
    result = container.start("my/model")
    assert result.returncode == 0, result.stderr
    assert "HF_TOKEN" not in container.vllm_env()  # ungated models need none; never the ambient variable


def test_warm_marker_is_per_model_and_revision() -> None:
    assert containers.warm_marker("org/m", None) != containers.warm_marker("org/m", "abc123")
    assert "/" not in containers.warm_marker("org/m", "v1").rsplit("/", 1)[1]


def test_custom_image_tag_follows_the_build_context(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("ARG VLLM_IMAGE\nFROM ${VLLM_IMAGE}\n")
    first = containers.custom_image_tag(str(tmp_path))
    assert first == containers.custom_image_tag(str(tmp_path))
    (tmp_path / "Dockerfile").write_text("ARG VLLM_IMAGE\nFROM ${VLLM_IMAGE}\nRUN true\n")
    assert containers.custom_image_tag(str(tmp_path)) != first
