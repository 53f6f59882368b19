#!/usr/bin/env bash
set -Eeuo pipefail
# shellcheck disable=SC2034 # read by lib.sh
readonly PROG=install-is.sh
# shellcheck source=/dev/null
source "${WSO2IS_LIB:-$(dirname -- "${BASH_SOURCE[0]}")/lib.sh}"
NODE_ENV_FILE=${WSO2IS_NODE_ENV:-/etc/wso2is/node.env}
DOWNLOAD_DIR=${WSO2IS_DOWNLOAD_DIR:-/var/cache/wso2is}
load_env --export "$NODE_ENV_FILE"
DOWNLOAD_RETRIES=${DOWNLOAD_RETRIES:-5}
[[ $DOWNLOAD_RETRIES =~ ^[0-9]+$ ]] || die "DOWNLOAD_RETRIES must be a non-negative integer, got '$DOWNLOAD_RETRIES'"
for var in IS_HOME IS_USER JDBC_DRIVER_URL JDBC_DRIVER_SHA256; do
    [[ -n ${!var:-} ]] || die "$var is not set in $NODE_ENV_FILE"
done
[[ $IS_HOME == /* ]] || die "IS_HOME must be an absolute path, got '$IS_HOME'"
IS_HOME=${IS_HOME%/}
[[ $IS_USER =~ ^[a-z_][a-z0-9_-]*$ ]] || die "IS_USER '$IS_USER' is not a valid user name"
for cmd in curl sha256sum unzip; do
    command -v "$cmd" >/dev/null || die "$cmd is not installed (bootstrap.sh installs NODE_PACKAGES)"
done
TMP_PATHS=()
cleanup() { ((${#TMP_PATHS[@]} == 0)) || rm -rf -- "${TMP_PATHS[@]}"; }
trap cleanup EXIT
check_sha256() { # check_sha256 VAR: VAR must hold 64 hex digits; lower-cases it in place
    local hex=${!1,,}
    [[ $hex =~ ^[0-9a-f]{64}$ ]] || die "$1 '${!1}' is not a sha256 (64 hex digits)"
    printf -v "$1" '%s' "$hex"
}
sha256_ok() { # sha256_ok FILE HEX
    printf '%s  %s\n' "$2" "$1" | sha256sum -c --status - 2>/dev/null
}
FETCHED=
fetch() {
    local url=$1 sha=$2 name file part actual err
    name=${url%%[?#]*}
    name=${name##*/}
    [[ -n $name && $name != . && $name != .. ]] || die "cannot derive a file name from $url"
    file=$DOWNLOAD_DIR/$name
    if [[ -f $file ]] && sha256_ok "$file" "$sha"; then
        log "$name already downloaded and verified"
        FETCHED=$file
        return 0
    fi
    mkdir -p -- "$DOWNLOAD_DIR"
    part=$(mktemp "$DOWNLOAD_DIR/.$name.XXXXXX")
    TMP_PATHS+=("$part")
    log "downloading $url"
    if ! err=$(curl --fail --silent --show-error --location --proto '=https,http' \
        --connect-timeout 10 --max-time 1800 \
        --retry "$DOWNLOAD_RETRIES" --retry-delay 5 --retry-connrefused \
        --output "$part" -- "$url" 2>&1); then
        rm -f -- "$part"
        die "download of $url failed: ${err//$'\n'/ }"
    fi
    if ! sha256_ok "$part" "$sha"; then
        actual=$(sha256sum -- "$part")
        actual=${actual%% *}
        rm -f -- "$part"
        die "sha256 mismatch for $url: expected $sha, actual $actual; refusing to use it"
    fi
    mv -f -- "$part" "$file"
    log "$name verified (sha256 $sha)"
    FETCHED=$file
}
if [[ -f $IS_HOME/bin/wso2server.sh ]]; then
    log "$IS_HOME/bin/wso2server.sh exists (pre-baked image or earlier run): skipping the IS download"
else
    [[ ! -e $IS_HOME ]] ||
        die "$IS_HOME exists but has no bin/wso2server.sh; refusing to unpack over it (move it aside first)"
    for var in IS_ZIP_URL IS_ZIP_SHA256; do
        [[ -n ${!var:-} ]] || die "$var is not set in $NODE_ENV_FILE"
    done
    check_sha256 IS_ZIP_SHA256
    fetch "$IS_ZIP_URL" "$IS_ZIP_SHA256"
    zip_file=$FETCHED
    parent=$(dirname -- "$IS_HOME")
    base=$(basename -- "$IS_HOME")
    (umask 022 && mkdir -p -- "$parent")
    unpack=$(mktemp -d "$parent/.wso2is-unpack.XXXXXX")
    TMP_PATHS+=("$unpack")
    log "unpacking $zip_file into $parent"
    if ! err=$(unzip -q -o "$zip_file" -d "$unpack" 2>&1); then
        die "cannot unzip $zip_file: ${err//$'\n'/ }"
    fi
    if [[ ! -d $unpack/$base ]]; then
        found=$(find "$unpack" -mindepth 1 -maxdepth 1 -printf '%f ' | head -c 200 || true)
        die "$zip_file has no top-level directory '$base' (IS_HOME is $IS_HOME; the zip holds: ${found:-nothing})"
    fi
    mv -T -- "$unpack/$base" "$IS_HOME"
    [[ -d $IS_HOME ]] || die "$IS_HOME does not exist after unpacking"
    [[ -f $IS_HOME/bin/wso2server.sh ]] || log "warning: $IS_HOME/bin/wso2server.sh is missing from the zip"
    log "unpacked $IS_HOME"
fi
check_sha256 JDBC_DRIVER_SHA256
driver_sha=$JDBC_DRIVER_SHA256
driver_name=${JDBC_DRIVER_URL%%[?#]*}
driver_name=${driver_name##*/}
lib_dir=$IS_HOME/repository/components/lib
driver_target=$lib_dir/$driver_name
if [[ -f $driver_target ]] && sha256_ok "$driver_target" "$driver_sha"; then
    log "JDBC driver $driver_target already in place"
else
    fetch "$JDBC_DRIVER_URL" "$driver_sha"
    driver_file=$FETCHED
    mkdir -p -- "$lib_dir"
    install -m 0644 -- "$driver_file" "$driver_target"
    log "installed JDBC driver $driver_target"
fi
id_args=()
[[ -n ${IS_UID:-} ]] && id_args=(--gid "$IS_UID")
if ! getent group "$IS_USER" >/dev/null; then
    groupadd --system "${id_args[@]}" "$IS_USER"
    log "created system group $IS_USER"
fi
if ! getent passwd "$IS_USER" >/dev/null; then
    nologin=/usr/sbin/nologin
    [[ -x $nologin ]] || nologin=/sbin/nologin
    uid_args=()
    [[ -n ${IS_UID:-} ]] && uid_args=(--uid "$IS_UID")
    useradd --system "${uid_args[@]}" --gid "$IS_USER" --home-dir "$(dirname -- "$IS_HOME")" --no-create-home \
        --shell "$nologin" "$IS_USER"
    log "created system user $IS_USER"
fi
is_group=$(id -gn -- "$IS_USER")
if [[ -n $(find "$IS_HOME" \( ! -user "$IS_USER" -o ! -group "$is_group" \) -print -quit) ]]; then
    chown -R -- "$IS_USER:$is_group" "$IS_HOME"
    log "$IS_HOME owned by $IS_USER"
fi
log "done"
