"""mount-cache.sh, the mount-or-format script, against real ext4/vfat/GPT images made with the real tools.

As root with loop devices (CI, here) each image is attached with ``losetup`` and the script really mounts it;
elsewhere the same script runs with ``VLLM_AWS_SKIP_MOUNT=1`` on the image file and the data is read back with
``debugfs``. Both modes run where loop devices exist, so the fallback itself stays tested. Nothing is ever
skipped: a missing tool fails with the package to install.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from bootstrap_hosts import FSTAB_LINE, IMAGE_MIB, SCRIPTS, run, sha256
from tools import require_tool

# --- mount-cache.sh against real filesystem images ----------------------------------------------------


def loop_devices_usable() -> bool:
    if os.geteuid() != 0 or not Path("/dev/loop-control").exists() or shutil.which("losetup") is None:
        return False
    return subprocess.run(["losetup", "--find"], capture_output=True, check=False).returncode == 0


LOOP = loop_devices_usable()
# Online ext4 resize (EXT4_IOC_RESIZE_FS) needs CAP_SYS_RESOURCE, which some containers drop even for root.
CAP_SYS_RESOURCE = 24
CAN_RESIZE_ONLINE = bool(
    int(re.search(r"^CapEff:\s*([0-9a-f]+)$", Path("/proc/self/status").read_text(), re.MULTILINE)[1], 16)  # type: ignore[index]
    & (1 << CAP_SYS_RESOURCE)
)


@dataclass
class Disk:
    """One image file presented to the script: a loop device (real mounts) or the file itself (fallback)."""

    image: Path
    mountpoint: Path
    fstab: Path
    loop: bool
    device: str = ""

    def script(self, *extra: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "FSTAB": str(self.fstab)}
        if not self.loop:
            env["VLLM_AWS_SKIP_MOUNT"] = "1"
        return run("bash", SCRIPTS["mount-cache.sh"], self.device, self.mountpoint, *extra, env=env, check=False)

    def fstab_lines_for_mountpoint(self) -> list[str]:
        return [line for line in self.fstab.read_text().splitlines() if f" {self.mountpoint} " in line]

    def uuid(self) -> str:
        return run("blkid", "--probe", "--match-tag", "UUID", "--output", "value", self.image).stdout.strip()

    def mounted(self) -> bool:
        return run("findmnt", "--mountpoint", self.mountpoint, check=False).returncode == 0

    def unmount(self) -> None:
        if self.loop and self.mounted():
            run("umount", self.mountpoint)

    def read_file(self, name: str) -> bytes:
        """A file's bytes straight from the image, without mounting it (ext4 via debugfs)."""
        self.unmount()
        debugfs = require_tool("debugfs", "e2fsprogs")
        result = subprocess.run([debugfs, "-R", f"cat /{name}", str(self.image)], capture_output=True, check=True)
        return result.stdout


SCRIPT_TOOLS = (
    ("mkfs.ext4", "e2fsprogs"),
    ("resize2fs", "e2fsprogs"),
    ("dumpe2fs", "e2fsprogs"),
    ("wipefs", "util-linux"),
    ("blkid", "util-linux"),
    ("findmnt", "util-linux"),
    ("mount", "mount"),
    ("umount", "mount"),
)


@pytest.fixture(params=["loop-device", "image-file"])
def disk(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Disk]:
    """A blank 64 MiB image, as a loop device when possible; always unmounted and detached afterwards."""
    # Every tool mount-cache.sh and this harness call, so a missing one fails naming its package (scripts/test
    # installs them).
    for tool, package in SCRIPT_TOOLS:
        require_tool(tool, package)
    if request.param == "loop-device" and os.geteuid() == 0 and Path("/dev/loop-control").exists():
        require_tool("losetup", "mount")
    loop = request.param == "loop-device" and LOOP
    if request.param == "loop-device" and not LOOP:
        print("loop devices unavailable (needs root and /dev/loop-control): using the image-file fallback")
    image = tmp_path / "cache.img"
    with image.open("wb") as f:
        f.truncate(IMAGE_MIB * 2**20)
    disk = Disk(image=image, mountpoint=tmp_path / "mnt" / "vllm-cache", fstab=tmp_path / "fstab", loop=loop)
    disk.fstab.write_text("# /etc/fstab: static file system information.\nLABEL=cloudimg-rootfs / ext4 discard 0 1\n")
    try:
        disk.device = run("losetup", "--find", "--show", image).stdout.strip() if loop else str(image)
        yield disk
    finally:
        with contextlib.suppress(AssertionError):
            disk.unmount()
        if loop and disk.device:
            run("losetup", "--detach", disk.device, check=False)


def make_ext4_with_file(disk: Disk, tmp_path: Path, payload: bytes) -> None:
    source = tmp_path / "seed"
    (source / "huggingface").mkdir(parents=True)
    (source / "huggingface" / "weights.bin").write_bytes(payload)
    run("mkfs.ext4", "-q", "-F", "-L", "vllm-cache", "-d", source, disk.image)
    if disk.loop:  # the loop device caches nothing yet, but make sure it sees the new filesystem
        run("blockdev", "--flushbufs", disk.device, check=False)


def test_blank_device_is_formatted_and_mounted(disk: Disk) -> None:
    result = disk.script()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "creating an ext4 filesystem" in result.stdout
    probe = run("blkid", "--probe", "--output", "export", disk.image).stdout
    assert "TYPE=ext4" in probe and "LABEL=vllm-cache" in probe
    lines = disk.fstab_lines_for_mountpoint()
    assert len(lines) == 1 and (m := FSTAB_LINE.match(lines[0])) and m["uuid"] == disk.uuid()
    assert "LABEL=cloudimg-rootfs / ext4 discard 0 1" in disk.fstab.read_text()  # other lines untouched
    if disk.loop:
        assert disk.mounted()
        (disk.mountpoint / "probe.txt").write_bytes(b"written through the mountpoint\n")
        assert disk.read_file("probe.txt") == b"written through the mountpoint\n"
    else:
        assert "not mounting" in result.stdout
        assert "lost+found" in run("debugfs", "-R", "ls /", disk.image).stdout


def test_existing_filesystem_keeps_its_data_across_runs(disk: Disk, tmp_path: Path) -> None:
    payload = os.urandom(3 * 2**20 + 17)
    make_ext4_with_file(disk, tmp_path, payload)
    uuid = disk.uuid()
    for attempt in range(2):
        result = disk.script()
        assert result.returncode == 0, f"run {attempt + 1}: {result.stdout}{result.stderr}"
        assert "keeping its data" in result.stdout and "creating" not in result.stdout
        if disk.loop:
            assert disk.mounted(), result.stdout + result.stderr
            target = disk.mountpoint / "huggingface" / "weights.bin"
            assert hashlib.sha256(target.read_bytes()).hexdigest() == hashlib.sha256(payload).hexdigest()
    if disk.loop:
        assert "already mounted" in result.stdout  # the second run found the first run's mount
    assert hashlib.sha256(disk.read_file("huggingface/weights.bin")).hexdigest() == hashlib.sha256(payload).hexdigest()
    assert disk.uuid() == uuid
    assert len(disk.fstab_lines_for_mountpoint()) == 1


@pytest.mark.parametrize("foreign", ["vfat", "gpt-partition-table", "dos-partition-table"])
def test_foreign_signature_is_refused_and_left_untouched(disk: Disk, foreign: str) -> None:
    if foreign == "vfat":
        run(require_tool("mkfs.vfat", "dosfstools"), disk.image)
    else:
        table = "label: gpt\n" if foreign == "gpt-partition-table" else "label: dos\n,,L\n"
        subprocess.run([require_tool("sfdisk", "fdisk"), "-q", str(disk.image)], input=table, text=True, check=True)
    if disk.loop:
        run("blockdev", "--rereadpt", disk.device, check=False)
    before = sha256(disk.image)
    fstab_before = disk.fstab.read_text()
    result = disk.script()
    assert result.returncode != 0
    assert "refusing to format" in result.stderr
    assert sha256(disk.image) == before
    assert disk.fstab.read_text() == fstab_before
    assert not disk.mounted()


def test_old_fstab_line_for_the_mountpoint_is_replaced(disk: Disk) -> None:
    old = f"UUID=00000000-0000-0000-0000-000000000000 {disk.mountpoint} ext4 defaults 0 2"
    comment = f"# {disk.mountpoint} is the model cache"
    disk.fstab.write_text(disk.fstab.read_text() + f"{comment}\n{old}\n/dev/xvdf /data xfs defaults 0 2\n")
    assert disk.script().returncode == 0
    text = disk.fstab.read_text()
    assert old not in text and comment in text and "/dev/xvdf /data xfs defaults 0 2" in text
    lines = [line for line in disk.fstab_lines_for_mountpoint() if not line.startswith("#")]
    assert len(lines) == 1 and FSTAB_LINE.match(lines[0])
    mtime = disk.fstab.stat().st_mtime_ns
    assert disk.script().returncode == 0
    assert disk.fstab.stat().st_mtime_ns == mtime  # unchanged line: the file is not rewritten


def test_grown_volume_is_grown_online(disk: Disk) -> None:
    assert disk.script().returncode == 0

    def block_count() -> int:
        out = run("dumpe2fs", "-h", disk.device if disk.loop else disk.image).stdout
        return int(re.search(r"^Block count:\s+(\d+)", out, re.MULTILINE)[1])  # type: ignore[index]

    before = block_count()
    with disk.image.open("r+b") as f:  # `aws ec2 modify-volume --size` as seen by the host
        f.truncate(2 * IMAGE_MIB * 2**20)
    if disk.loop:
        run("losetup", "--set-capacity", disk.device)
    result = disk.script()
    assert result.returncode == 0, result.stdout + result.stderr
    if disk.loop and CAN_RESIZE_ONLINE:
        assert block_count() >= 2 * before * 0.95
    elif disk.loop:
        # A container without CAP_SYS_RESOURCE cannot resize online; the script must carry on, saying so.
        assert "could not grow" in result.stdout
        assert block_count() == before
    else:
        assert block_count() == before  # VLLM_AWS_SKIP_MOUNT=1: no grow without a mount


def test_waits_for_the_device_to_appear(disk: Disk, tmp_path: Path) -> None:
    # The fallback path is enough here: the wait loop only checks that the path exists.
    late = tmp_path / "late.img"
    env = {**os.environ, "FSTAB": str(disk.fstab), "VLLM_AWS_SKIP_MOUNT": "1"}
    script = ["bash", str(SCRIPTS["mount-cache.sh"]), str(late), str(disk.mountpoint)]
    missing = run(*script, "0", env=env, check=False)
    assert missing.returncode != 0 and "did not appear within 0s" in missing.stderr
    process = subprocess.Popen([*script, "30"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1)
        assert process.poll() is None  # still waiting
        shutil.copyfile(disk.image, tmp_path / "copying.img")
        (tmp_path / "copying.img").rename(late)  # appears whole, like an attachment
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stdout + stderr
    assert "TYPE=ext4" in run("blkid", "--probe", "--output", "export", late).stdout


def test_usage_errors() -> None:
    result = run("bash", SCRIPTS["mount-cache.sh"], "/dev/null", check=False)
    assert result.returncode != 0 and "usage:" in result.stderr
    result = run("bash", SCRIPTS["mount-cache.sh"], "/dev/null", "relative/path", check=False)
    assert result.returncode != 0 and "absolute path" in result.stderr
