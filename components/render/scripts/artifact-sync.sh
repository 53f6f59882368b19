#!/usr/bin/env bash
# artifact-sync.sh: WSO2's "Enabling artifact synchronization" for a VM node. The shared file
# system mounted at SHARE_MOUNT holds `Userstores` and `Tenants`; this node's
#   IS_HOME/repository/deployment/server/userstores -> SHARE_MOUNT/Userstores
#   IS_HOME/repository/tenants                      -> SHARE_MOUNT/Tenants
# become symlinks to them. The first node to get the lock on the share seeds a missing share
# directory from its own local defaults; every other node keeps what is there. Local directories
# are moved aside to <path>.local-<timestamp>, never deleted.
#
# Parameters (from node.env, see CONTRACT.md): SHARE_MOUNT, IS_HOME, IS_USER, NODE_NAME (for the
# .seeded-by record only).
# Overrides: WSO2IS_NODE_ENV, ARTIFACT_SYNC_LOCK_TIMEOUT (seconds, default 300).
# Idempotent: a rerun creates no file and changes no symlink.
set -Eeuo pipefail

# shellcheck disable=SC2034 # read by lib.sh
readonly PROG=artifact-sync.sh

# shellcheck source=/dev/null
source "${WSO2IS_LIB:-$(dirname -- "${BASH_SOURCE[0]}")/lib.sh}"

NODE_ENV_FILE=${WSO2IS_NODE_ENV:-/etc/wso2is/node.env}
load_env --export "$NODE_ENV_FILE"

LOCK_TIMEOUT=${ARTIFACT_SYNC_LOCK_TIMEOUT:-300}
[[ $LOCK_TIMEOUT =~ ^[0-9]+$ ]] || die "ARTIFACT_SYNC_LOCK_TIMEOUT must be a non-negative integer, got '$LOCK_TIMEOUT'"
for var in SHARE_MOUNT IS_HOME IS_USER; do
    [[ -n ${!var:-} ]] || die "$var is not set in $NODE_ENV_FILE"
done
[[ $SHARE_MOUNT == /* && $SHARE_MOUNT != / ]] || die "SHARE_MOUNT must be an absolute path other than /, got '$SHARE_MOUNT'"
[[ $IS_HOME == /* ]] || die "IS_HOME must be an absolute path, got '$IS_HOME'"
SHARE_MOUNT=${SHARE_MOUNT%/}
IS_HOME=${IS_HOME%/}

# Before anything else: a share that is not mounted is a directory on the local disk, and
# artifacts written there would silently diverge between nodes.
mountpoint -q -- "$SHARE_MOUNT" 2>/dev/null ||
    die "share not mounted, refusing to write to local disk: $SHARE_MOUNT is not a mount point (run mount-share.sh first)"
[[ -d $IS_HOME/repository ]] || die "$IS_HOME/repository does not exist (run install-is.sh first)"

# share directory name -> path inside IS_HOME
NAMES=(Userstores Tenants)
declare -A LOCAL_PATH=(
    [Userstores]=$IS_HOME/repository/deployment/server/userstores
    [Tenants]=$IS_HOME/repository/tenants
)
readonly LOCK_FILE=$SHARE_MOUNT/.wso2is-artifact-sync.lock
readonly SEEDED_BY=$SHARE_MOUNT/.seeded-by

user_exists=false
if getent passwd "$IS_USER" >/dev/null; then
    user_exists=true
    IS_GROUP=$(id -gn -- "$IS_USER")
fi

# seed NAME: creates SHARE_MOUNT/NAME from this node's local default directory, atomically.
seed() {
    local name=$1 target=$SHARE_MOUNT/$1 src=${LOCAL_PATH[$1]} tmp
    tmp=$(mktemp -d "$SHARE_MOUNT/.seed-$name.XXXXXX")
    if [[ -d $src && ! -L $src ]]; then
        cp -a -- "$src/." "$tmp/"
        chmod --reference="$src" -- "$tmp"
        log "seeding $target from $src"
    else
        chmod 0755 -- "$tmp"
        log "warning: $src is not a local directory; seeding $target empty"
    fi
    mv -T -- "$tmp" "$target"
    printf '%s seeded by %s (host %s, %s) at %s\n' "$name" "${NODE_NAME:-?}" "$(uname -n)" "$IS_HOME" \
        "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >>"$SEEDED_BY"
}

# --- under the share-wide lock: seed what is missing -------------------------------------------
exec 9>>"$LOCK_FILE"
log "waiting for the lock $LOCK_FILE"
flock -x -w "$LOCK_TIMEOUT" 9 || die "could not lock $LOCK_FILE within ${LOCK_TIMEOUT}s"
# Seeds left half-done by a node that crashed while holding the lock: they were never visible.
for stale in "$SHARE_MOUNT"/.seed-*; do
    [[ -e $stale ]] || continue
    log "removing the unfinished seed $stale"
    rm -rf -- "$stale"
done
for name in "${NAMES[@]}"; do
    target=$SHARE_MOUNT/$name
    if [[ -L $target || (-e $target && ! -d $target) ]]; then
        die "$target exists but is not a directory"
    elif [[ -d $target ]]; then
        log "$target already exists, keeping it"
    else
        seed "$name"
    fi
    if $user_exists && [[ -n $(find "$target" \( ! -user "$IS_USER" -o ! -group "$IS_GROUP" \) -print -quit) ]]; then
        chown -R -- "$IS_USER:$IS_GROUP" "$target"
        log "$target owned by $IS_USER"
    fi
done
flock -u 9
exec 9>&-

# --- local: symlink IS_HOME paths to the share -------------------------------------------------
stamp=$(date -u +%Y%m%dT%H%M%SZ)
for name in "${NAMES[@]}"; do
    target=$SHARE_MOUNT/$name
    path=${LOCAL_PATH[$name]}
    if [[ -L $path && $(readlink -- "$path") == "$target" ]]; then
        log "$path already links to $target"
        continue
    fi
    if [[ -e $path || -L $path ]]; then
        aside=$path.local-$stamp
        [[ ! -e $aside && ! -L $aside ]] || aside=$aside-$$
        mv -T -- "$path" "$aside"
        log "moved the local $path aside to $aside"
    fi
    mkdir -p -- "$(dirname -- "$path")"
    ln -s -T -- "$target" "$path"
    if $user_exists; then chown -h -- "$IS_USER:$IS_GROUP" "$path"; fi
    log "linked $path -> $target"
done
log "done"
