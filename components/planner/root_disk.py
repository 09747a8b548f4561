"""The GPU hosts' root volume: what it must hold for an image upgrade, and the size ``rootVolumeGib: auto`` gives.

An upgrade of ``vllm-aws:image`` pulls the new image while the old one still runs, so the root volume holds both
at once, beside the AMI's own files. Docker 29 on the DLAMI keeps every image twice: "containerd stores images in
both compressed and uncompressed formats ... When you pull an image, containerd keeps the compressed layers (as
received from the registry) and also extracts them to disk" (docs.docker.com/engine/storage/containerd, the
default store "for Docker Engine 29.0 and later on fresh installations"; the Ubuntu 24.04 DLAMIs of 2026 ship
docker-ce 29, e.g. 29.6.2 in Deep Learning Base AMI with Single CUDA (Ubuntu 24.04) 20260717's release notes). Not
verified: that the AMI's daemon.json leaves that store on; with the legacy store an image takes its unpacked size
only, and the figure below is high by one compressed copy per image. A pull that does not fit fails with "no space
left on device" and `pulumi up` with it, on the first host it reaches. Pure: no Pulumi.
"""

from __future__ import annotations

import math
from typing import Literal

from .cold_start import IMAGE_COMPRESSED_GB, IMAGE_EXTRACTED_GB
from .memory import GIB

DEFAULT_ROOT_VOLUME_GIB = 150
"""What every GPU host had before the size was configurable: ``auto`` keeps it, so no deployed volume changes."""
# One copy of the serving image on the root volume: its compressed layers plus their unpacked snapshot.
IMAGE_ON_DISK_BYTES = round((IMAGE_COMPRESSED_GB + IMAGE_EXTRACTED_GB) * 1e9)
# The AMI's own files (OS, NVIDIA driver, four CUDA toolkits, Docker): `df -h /` on a fresh Deep Learning Base
# OSS Nvidia Driver GPU AMI (Ubuntu 22.04) 20250505 showed "73G 50G 24G" (tekumara/notes aws-deeplearning-ami.md,
# 2025-05-25). No figure was found for the Ubuntu 24.04 AMI the stack uses, which ships the same multi-CUDA stack;
# an estimate, not a measurement, and a custom `amiId` may differ.
AMI_SYSTEM_GIB = 50


def upgrade_need_gib() -> float:
    """Root space an image upgrade needs at its peak: the AMI's files, the running image and the one pulled."""
    return AMI_SYSTEM_GIB + 2 * IMAGE_ON_DISK_BYTES / GIB


def root_volume_size(setting: int | Literal["auto"]) -> int:
    """The size a ``rootVolumeGib`` setting gives: itself, or (``auto``) the historical 150 GiB, grown in steps of
    10 if an upgrade needs more."""
    if setting != "auto":
        return setting
    return max(DEFAULT_ROOT_VOLUME_GIB, math.ceil(upgrade_need_gib() / 10) * 10)


def root_volume_warning(size_gib: int) -> str | None:
    """Why a root volume of ``size_gib`` cannot take the next image upgrade, with the fix; None when it can."""
    need = upgrade_need_gib()
    if size_gib >= need:
        return None
    image_gb = IMAGE_ON_DISK_BYTES / 1e9
    return (
        f"rootVolumeGib {size_gib} cannot hold an image upgrade: the next vllm-aws:image is pulled beside the "
        f"running one, and each takes {image_gb:.1f} GB on disk ({IMAGE_COMPRESSED_GB} GB compressed layers + "
        f"{IMAGE_EXTRACTED_GB} GB unpacked, both kept by Docker's containerd store), beside about {AMI_SYSTEM_GIB} "
        f"GiB of AMI files: {need:.0f} GiB in all. That `pulumi up` would fail on the first host with 'no space "
        f"left on device'. Set rootVolumeGib to at least {math.ceil(need)}, or 'auto' ({root_volume_size('auto')})"
    )


__all__ = [
    "AMI_SYSTEM_GIB",
    "DEFAULT_ROOT_VOLUME_GIB",
    "IMAGE_ON_DISK_BYTES",
    "root_volume_size",
    "root_volume_warning",
    "upgrade_need_gib",
]
