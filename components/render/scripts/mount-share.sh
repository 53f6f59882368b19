#!/usr/bin/env bash
# mount-share.sh: mounts the shared file system (NFS 4.1 / EFS / Azure Files) at SHARE_MOUNT,
# whose fstab entry cloud-init wrote, retrying while the network or the file system's DNS name
# is not ready yet; fails when SHARE_MOUNT is not a mount point afterwards.
#
# Parameters (from node.env, see CONTRACT.md): SHARE_MOUNT.
# Overrides: WSO2IS_NODE_ENV, SHARE_MOUNT_RETRIES (default 20), SHARE_MOUNT_RETRY_DELAY
# (seconds, default 6), WSO2IS_FSTAB (tests: an fstab file other than /etc/fstab).
# Idempotent: an already mounted share is left alone.
set -Eeuo pipefail

# shellcheck disable=SC2034 # read by lib.sh
readonly PROG=mount-share.sh

# shellcheck source=/dev/null
source "${WSO2IS_LIB:-$(dirname -- "${BASH_SOURCE[0]}")/lib.sh}"

NODE_ENV_FILE=${WSO2IS_NODE_ENV:-/etc/wso2is/node.env}
load_env --export "$NODE_ENV_FILE"

SHARE_MOUNT_RETRIES=${SHARE_MOUNT_RETRIES:-20}
SHARE_MOUNT_RETRY_DELAY=${SHARE_MOUNT_RETRY_DELAY:-6}
[[ $SHARE_MOUNT_RETRIES =~ ^[1-9][0-9]*$ ]] ||
    die "SHARE_MOUNT_RETRIES must be a positive integer, got '$SHARE_MOUNT_RETRIES'"
[[ $SHARE_MOUNT_RETRY_DELAY =~ ^[0-9]+$ ]] ||
    die "SHARE_MOUNT_RETRY_DELAY must be a non-negative integer, got '$SHARE_MOUNT_RETRY_DELAY'"
[[ -n ${SHARE_MOUNT:-} ]] || die "SHARE_MOUNT is not set in $NODE_ENV_FILE"
[[ $SHARE_MOUNT == /* ]] || die "SHARE_MOUNT must be an absolute path, got '$SHARE_MOUNT'"
[[ $SHARE_MOUNT == / ]] || SHARE_MOUNT=${SHARE_MOUNT%/}

FSTAB=${WSO2IS_FSTAB:-/etc/fstab}
mount_args=()
[[ $FSTAB == /etc/fstab ]] || mount_args+=(--fstab "$FSTAB")

mkdir -p -- "$SHARE_MOUNT"
if mountpoint -q -- "$SHARE_MOUNT"; then
    log "$SHARE_MOUNT is already mounted"
    exit 0
fi

# A missing fstab entry is not going to appear by waiting.
findmnt --fstab --tab-file "$FSTAB" --noheadings --mountpoint "$SHARE_MOUNT" >/dev/null ||
    die "$FSTAB has no entry for $SHARE_MOUNT (cloud-init should have written it)"

attempt=1
while true; do
    if err=$(mount "${mount_args[@]}" -- "$SHARE_MOUNT" 2>&1); then
        break
    fi
    err=${err//$'\n'/ }
    if ((attempt >= SHARE_MOUNT_RETRIES)); then
        log "mount $SHARE_MOUNT failed $attempt times, giving up${err:+ (last: $err)}"
        break
    fi
    log "mount $SHARE_MOUNT failed (attempt $attempt/$SHARE_MOUNT_RETRIES${err:+: $err}), retrying in ${SHARE_MOUNT_RETRY_DELAY}s"
    sleep "$SHARE_MOUNT_RETRY_DELAY"
    attempt=$((attempt + 1))
done

mountpoint -q -- "$SHARE_MOUNT" ||
    die "$SHARE_MOUNT is not a mount point after $attempt attempt(s); check its fstab entry and that the file system is reachable from this node"
log "mounted $SHARE_MOUNT"
