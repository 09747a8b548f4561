#!/usr/bin/env bash
# Mount the EBS model cache of a GPU host, formatting it only when it is brand new.
#
# usage: mount-cache.sh DEVICE MOUNTPOINT [WAIT_SECONDS]
#   DEVICE        block device, normally /dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol<id>
#   MOUNTPOINT    where to mount it (created if missing)
#   WAIT_SECONDS  how long to wait for DEVICE to appear (default 300): EBS attachment is asynchronous
#                 and may complete after the instance has booted
# env:
#   FSTAB                 fstab to maintain (default /etc/fstab)
#   VLLM_AWS_SKIP_MOUNT=1 do everything except mount and grow (tests without loop devices run the script on
#                         an image file this way)
#
# The cache holds hours of downloads and may have been restored from a snapshot, so the one destructive step
# (mkfs) runs only on a device with no signature at all. Any signature other than a lone ext4 filesystem (a
# partition table, another filesystem, leftovers) is refused: a wrong volume attached here must never be
# wiped. Safe to run on every boot: an existing filesystem is reused, the fstab line is rewritten only when
# it changed, an already-mounted cache is left mounted, and resize2fs is a no-op unless the volume grew.
set -euo pipefail

readonly LABEL="vllm-cache"
readonly FSTYPE="ext4"
readonly FSTAB_OPTIONS="defaults,nofail,noatime"

log() { printf 'mount-cache: %s\n' "$*"; }
die() {
    printf 'mount-cache: error: %s\n' "$*" >&2
    exit 1
}

if [[ $# -lt 2 || $# -gt 3 ]]; then
    die "usage: mount-cache.sh DEVICE MOUNTPOINT [WAIT_SECONDS]"
fi
device_arg=$1
mountpoint_dir=$2
wait_seconds=${3:-300}
fstab=${FSTAB:-/etc/fstab}
skip_mount=${VLLM_AWS_SKIP_MOUNT:-0}

[[ $wait_seconds =~ ^[0-9]+$ ]] || die "WAIT_SECONDS must be a whole number of seconds (got '$wait_seconds')"
[[ $mountpoint_dir == /* ]] || die "MOUNTPOINT must be an absolute path (got '$mountpoint_dir')"
# fstab fields are whitespace-separated; a path with blanks would need octal escapes nobody reads correctly.
[[ $mountpoint_dir =~ ^[^[:space:]]+$ ]] || die "MOUNTPOINT must not contain whitespace (got '$mountpoint_dir')"

# 1. Wait for the attachment: the by-id link appears when the NVMe controller shows up.
deadline=$((SECONDS + wait_seconds))
until [[ -e $device_arg ]]; do
    if ((SECONDS >= deadline)); then
        die "$device_arg did not appear within ${wait_seconds}s (is the EBS volume attached to this instance?)"
    fi
    sleep 2
done
device=$(readlink -f -- "$device_arg")
if [[ $skip_mount != 1 && ! -b $device ]]; then
    die "$device_arg ($device) is not a block device"
fi
log "device $device_arg is $device"

# 2. Format only a device that carries no signature at all.
mapfile -t signatures < <(wipefs --no-act --noheadings --output TYPE -- "$device")
if ((${#signatures[@]} == 0)); then
    log "no signature on $device: creating an $FSTYPE filesystem labelled $LABEL"
    # -m 0: no root reserve on a data-only volume; lazy init: a new multi-TiB volume is usable in seconds.
    mkfs.ext4 -q -L "$LABEL" -m 0 -E lazy_itable_init=1,lazy_journal_init=1 -- "$device"
elif [[ ${#signatures[@]} -eq 1 && ${signatures[0]} == "$FSTYPE" ]]; then
    log "$device already holds an $FSTYPE filesystem: keeping its data"
else
    die "refusing to format $device: it carries signature(s) '${signatures[*]}' and only a blank device or" \
        "a single $FSTYPE filesystem is accepted. Attach the right volume, or wipe this one by hand" \
        "(wipefs --all $device) if its contents are disposable"
fi

uuid=$(blkid --probe --match-tag UUID --output value -- "$device")
[[ -n $uuid ]] || die "could not read the filesystem UUID of $device"
log "filesystem UUID $uuid"

# 3. Exactly one fstab line for the mountpoint, by UUID (NVMe names like /dev/nvme1n1 change across boots).
# nofail: a missing or slow volume must not drop the host into emergency mode; the bootstrap waits for it.
wanted="UUID=$uuid $mountpoint_dir $FSTYPE $FSTAB_OPTIONS 0 2"
[[ -e $fstab ]] || : >"$fstab"
others=$(awk -v mp="$mountpoint_dir" '!($1 !~ /^#/ && $2 == mp)' "$fstab")
current=$(awk -v mp="$mountpoint_dir" '$1 !~ /^#/ && $2 == mp' "$fstab")
if [[ $current == "$wanted" ]]; then
    log "$fstab already mounts $mountpoint_dir by UUID"
else
    # Atomic replace (same directory, then rename) so a crash never leaves a truncated fstab.
    tmp=$(mktemp -- "$fstab.XXXXXX")
    trap 'rm -f -- "$tmp"' EXIT
    chmod --reference="$fstab" -- "$tmp"
    {
        if [[ -n $others ]]; then printf '%s\n' "$others"; fi
        printf '%s\n' "$wanted"
    } >"$tmp"
    mv -f -- "$tmp" "$fstab"
    trap - EXIT
    log "$fstab: $wanted"
fi

mkdir -p -- "$mountpoint_dir"
if [[ $skip_mount == 1 ]]; then
    log "VLLM_AWS_SKIP_MOUNT=1: not mounting or growing"
    exit 0
fi

# 4. Mount (unless this filesystem already is), then grow online so a volume enlarged in config is used.
if mounted=$(findmnt --noheadings --output UUID --mountpoint "$mountpoint_dir"); then
    [[ $mounted == "$uuid" ]] || die "$mountpoint_dir is already mounted from another filesystem (UUID $mounted)"
    log "$mountpoint_dir is already mounted"
else
    # UUID= resolves through /dev/disk/by-uuid, which udev updates after mkfs, else through libblkid's cache,
    # which trusts an entry younger than 2 s even when the device was just reformatted: bypass the cache.
    if command -v udevadm >/dev/null 2>&1; then
        udevadm settle --timeout=10 >/dev/null 2>&1 || true
    fi
    BLKID_FILE=/dev/null mount --fstab "$fstab" -- "$mountpoint_dir"
    # nofail makes mount exit 0 when the UUID is not found, so check what is actually mounted.
    mounted=$(findmnt --noheadings --output UUID --mountpoint "$mountpoint_dir") ||
        die "mount reported success but nothing is mounted on $mountpoint_dir (UUID $uuid not resolved)"
    [[ $mounted == "$uuid" ]] || die "$mountpoint_dir got filesystem UUID $mounted instead of $uuid"
    log "mounted $device on $mountpoint_dir"
fi
# Not fatal: the cache still works at its old size, and the warning lands in the bootstrap log.
if ! resize2fs -- "$device" 2>&1 | sed 's/^/mount-cache: resize2fs: /'; then
    log "warning: could not grow the filesystem on $device (online resize needs root with CAP_SYS_RESOURCE)"
fi
log "done"
