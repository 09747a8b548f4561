"""Cold start: seconds until ``/health`` answers, on a first boot and with a warm cache (docs/sizing.md)."""

from __future__ import annotations

from dataclasses import dataclass

from ..catalog import InstanceType
from .memory import MIB

# Cold-start inputs (VLLM_AWS.md §F; docs/sizing.md).
IMAGE_COMPRESSED_GB = 12.6  # vllm/vllm-openai compressed size (#27154, #22377)
IMAGE_EXTRACTED_GB = 28.6  # the same image unpacked on disk (vllm-project/vllm #27154, #22377)
IMAGE_PULL_MB_PER_S = 60.0  # 15-20 GB images pull in 4-6 min on EC2 (AWS ML blog, SOCI for DLAMI)
HF_DOWNLOAD_MIB_PER_S = 250.0  # Hugging Face Hub from EC2, before the volume/instance caps apply
HOST_BOOT_SECONDS = 90.0  # EC2 launch + cloud-init until Docker and the GPU answer
CONTAINER_START_SECONDS = 20.0  # container start to engine config (#44881: 16 s)
COMPILE_COLD_SECONDS = 45.0  # torch.compile without cache (#44881: 43 s)
COMPILE_WARM_SECONDS = 5.0  # compile cache hit (#44881, #16848)
GRAPHS_AND_PROFILE_SECONDS = 25.0  # memory profiling + CUDA graph capture (#11005, #20264)
TP_INIT_COLD_SECONDS = 60.0  # NCCL + P2P access check on first TP start; cached after (#19824)
TP_INIT_WARM_SECONDS = 10.0


@dataclass(frozen=True)
class ColdStart:
    """Predicted seconds until ``/health`` answers 200."""

    first_boot_seconds: float
    warm_cache_seconds: float
    host_replacement_seconds: float
    container_first_start_seconds: float  # first start of the container: download + load + compile
    read_mib_per_s: float


def cold_start(spec_bytes: float, instance: InstanceType, tp: int, volume_mibps: int) -> ColdStart:
    """First boot downloads everything; a warm cache only reads weights and hits the compile cache.

    Reading is capped by the slower of the volume's provisioned throughput and the instance's EBS
    bandwidth; every TP rank reads its shard from the same volume, so all bytes pass through it once.
    """
    read_rate = min(float(volume_mibps), instance.startup_ebs_mibps)
    read_seconds = spec_bytes / MIB / read_rate
    download_seconds = spec_bytes / MIB / min(HF_DOWNLOAD_MIB_PER_S, read_rate)
    image_pull = IMAGE_COMPRESSED_GB * 1000 / IMAGE_PULL_MB_PER_S
    tp_cold = TP_INIT_COLD_SECONDS if tp > 1 else 0.0
    tp_warm = TP_INIT_WARM_SECONDS if tp > 1 else 0.0
    engine_warm = CONTAINER_START_SECONDS + COMPILE_WARM_SECONDS + GRAPHS_AND_PROFILE_SECONDS + tp_warm
    engine_cold = CONTAINER_START_SECONDS + COMPILE_COLD_SECONDS + GRAPHS_AND_PROFILE_SECONDS + tp_cold
    warm = read_seconds + engine_warm
    return ColdStart(
        first_boot_seconds=round(HOST_BOOT_SECONDS + image_pull + download_seconds + read_seconds + engine_cold),
        warm_cache_seconds=round(warm),
        host_replacement_seconds=round(HOST_BOOT_SECONDS + image_pull + warm),
        container_first_start_seconds=round(download_seconds + read_seconds + engine_cold),
        read_mib_per_s=round(read_rate, 1),
    )
