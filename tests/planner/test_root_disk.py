"""#14 Disk: the GPU hosts' root volume holds an image upgrade, and the plan says so when a configured one cannot.

The sizes are cited in components/planner/root_disk.py: 12.6 GB compressed + 28.6 GB unpacked per copy of the
vLLM image (vllm-project/vllm #27154, #22377), both kept by Docker 29's containerd store
(docs.docker.com/engine/storage/containerd), beside about 50 GiB of DLAMI files (tekumara/notes, 2025-05).
"""

from __future__ import annotations

from typing import Any

import pytest
from stack_runs import of_type, plan_document, run_stack

from components.planner.cost import GP3_USD_PER_GIB_MONTH, HOURS_PER_MONTH
from components.planner.memory import GIB
from components.planner.root_disk import (
    AMI_SYSTEM_GIB,
    DEFAULT_ROOT_VOLUME_GIB,
    IMAGE_ON_DISK_BYTES,
    root_volume_size,
    root_volume_warning,
    upgrade_need_gib,
)


def test_an_upgrade_needs_the_ami_and_two_copies_of_the_image() -> None:
    assert IMAGE_ON_DISK_BYTES == 41_200_000_000
    assert upgrade_need_gib() == pytest.approx(AMI_SYSTEM_GIB + 82.4e9 / GIB)  # 126.7 GiB
    assert 126 < upgrade_need_gib() < 127


def test_auto_keeps_the_size_every_deployed_host_has_and_holds_an_upgrade() -> None:
    # 150 GiB was every host's size before the key existed: `auto` changes no deployed volume.
    assert root_volume_size("auto") == DEFAULT_ROOT_VOLUME_GIB == 150
    assert root_volume_warning(root_volume_size("auto")) is None
    assert root_volume_size(300) == 300


def test_a_size_below_the_upgrade_need_warns_with_the_consequence_in_numbers_and_the_fix() -> None:
    assert root_volume_warning(127) is None
    warning = root_volume_warning(100)
    assert warning is not None
    assert warning.startswith("rootVolumeGib 100 cannot hold an image upgrade")
    assert "41.2 GB on disk (12.6 GB compressed layers + 28.6 GB unpacked" in warning
    assert "127 GiB in all" in warning and "no space left on device" in warning
    assert warning.endswith("Set rootVolumeGib to at least 127, or 'auto' (150)")


def test_the_plan_warns_for_a_small_root_volume_and_not_on_the_default() -> None:
    def small_root(raw: dict[str, Any]) -> None:
        raw["rootVolumeGib"] = 100

    default_warnings = plan_document("dev")["warnings"]
    assert not [w for w in default_warnings if "rootVolumeGib" in w]
    warnings = plan_document("dev", small_root)["warnings"]
    assert [w for w in warnings if w.startswith("rootVolumeGib 100 cannot hold an image upgrade")]


def test_the_configured_size_reaches_every_gpu_host_and_the_cost() -> None:
    run = run_stack("prod", rootVolumeGib=200)
    sizes = {
        instance.parent: instance.inputs["rootBlockDevice"]["volumeSize"]
        for instance in of_type(run, "aws:ec2/instance:Instance")
    }
    # The GPU hosts take the key; the monitoring host keeps its own 30 GiB (no vLLM image there).
    assert sizes == {"qwen-72b-0": 200, "qwen-8b-0": 200, "qwen-8b-1": 200, "monitoring": 30}

    def grown(raw: dict[str, Any]) -> None:
        raw["rootVolumeGib"] = 200

    before, after = plan_document("dev")["models"][0], plan_document("dev", grown)["models"][0]
    extra_per_host = 50 * GP3_USD_PER_GIB_MONTH / HOURS_PER_MONTH  # 50 GiB more gp3, per host
    assert after["cost"]["hourlyUsd"] == pytest.approx(before["cost"]["hourlyUsd"] + extra_per_host, abs=0.006)
