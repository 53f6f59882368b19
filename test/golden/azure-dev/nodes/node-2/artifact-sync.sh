#!/usr/bin/env bash
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
mountpoint -q -- "$SHARE_MOUNT" 2>/dev/null ||
    die "share not mounted, refusing to write to local disk: $SHARE_MOUNT is not a mount point (run mount-share.sh first)"
[[ -d $IS_HOME/repository ]] || die "$IS_HOME/repository does not exist (run install-is.sh first)"
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
exec 9>>"$LOCK_FILE"
log "waiting for the lock $LOCK_FILE"
flock -x -w "$LOCK_TIMEOUT" 9 || die "could not lock $LOCK_FILE within ${LOCK_TIMEOUT}s"
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
