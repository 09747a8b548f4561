"""Pure container decisions: GPU slots, the entrypoint, healthcheck timing, custom image tags."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from tools import shellcheck

from components import containers


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


def test_entrypoint_sources_secrets_without_echoing_them(tmp_path: Path) -> None:
    """Run the real entrypoint with a fake `vllm` on PATH: secrets arrive in its environment, offline is set."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "vllm").write_text('#!/bin/bash\necho "args=$* token=${HF_TOKEN:-} offline=${HF_HUB_OFFLINE:-0}"\n')
    (bin_dir / "vllm").chmod(0o755)
    secrets = tmp_path / "secrets.env"
    secrets.write_text("HF_TOKEN=hf_from_file\n")
    marker = tmp_path / "warm"
    marker.touch()
    entrypoint = tmp_path / "entrypoint.sh"
    entrypoint.write_text(containers.entrypoint_script())
    result = subprocess.run(
        ["bash", str(entrypoint), "my/model", "--max-model-len", "8192"],
        env={
            "PATH": f"{bin_dir}:/usr/bin:/bin",
            containers.SECRETS_FILE_ENV: str(secrets),
            containers.WARM_MARKER_ENV: str(marker),
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "args=serve my/model --max-model-len 8192 token=hf_from_file offline=1"


def test_warm_marker_is_per_model_and_revision() -> None:
    assert containers.warm_marker("org/m", None) != containers.warm_marker("org/m", "abc123")
    assert "/" not in containers.warm_marker("org/m", "v1").rsplit("/", 1)[1]


def test_custom_image_tag_follows_the_build_context(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("ARG VLLM_IMAGE\nFROM ${VLLM_IMAGE}\n")
    first = containers.custom_image_tag(str(tmp_path))
    assert first == containers.custom_image_tag(str(tmp_path))
    (tmp_path / "Dockerfile").write_text("ARG VLLM_IMAGE\nFROM ${VLLM_IMAGE}\nRUN true\n")
    assert containers.custom_image_tag(str(tmp_path)) != first
