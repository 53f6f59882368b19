#!/usr/bin/env bash
# fetch-scripts.sh: installs the node's boot scripts from the cluster's S3 bucket (EC2, whose
# user-data holds 16 KB: it carries only this fetcher and each script's sha256). For each line
# `<sha256>  <name>` of the manifest it downloads s3://SCRIPT_BUCKET/SCRIPT_PREFIX/<sha256> with
# the instance role, refuses content whose sha256 differs, and installs it 0755 root into the
# script directory atomically (temporary file, then rename). A script already there with the
# right digest is kept, so a reboot needs neither the bucket nor the IMDS.
#
# Parameters (from node.env, see CONTRACT.md): SCRIPT_BUCKET, SCRIPT_REGION, SCRIPT_PREFIX.
# Overrides (tests): WSO2IS_NODE_ENV, WSO2IS_SCRIPTS_MANIFEST (default /etc/wso2is/scripts.sha256),
# WSO2IS_SCRIPT_DIR (default: this script's directory), WSO2IS_LIB, and those of aws-api.sh.
# lib.sh and aws-api.sh come in the user-data beside it (scripts.ts fetcherScripts).
set -Eeuo pipefail
umask 022

readonly PROG=fetch-scripts.sh
# shellcheck source=/dev/null
source "${WSO2IS_LIB:-$(dirname -- "${BASH_SOURCE[0]}")/lib.sh}"

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NODE_ENV_FILE=${WSO2IS_NODE_ENV:-/etc/wso2is/node.env}
MANIFEST=${WSO2IS_SCRIPTS_MANIFEST:-/etc/wso2is/scripts.sha256}
SCRIPT_DIR=${WSO2IS_SCRIPT_DIR:-$HERE}
# The SHA-256 of nothing: S3 requests sign it as their payload hash (aws-api.sh).
readonly EMPTY_SHA256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855

load_env "$NODE_ENV_FILE"
[[ -r $MANIFEST ]] || die "cannot read the script manifest $MANIFEST"

digest() { sha256sum "$1" | cut -d' ' -f1; }

# Check the whole manifest before touching anything.
declare -a names=() sums=()
while IFS= read -r line || [[ -n $line ]]; do
    [[ -n $line ]] || continue
    [[ $line =~ ^([0-9a-f]{64})\ [\ *]([A-Za-z0-9][A-Za-z0-9._-]*)$ ]] ||
        die "$MANIFEST: not a '<sha256>  <name>' line: '${line:0:120}'"
    sums+=("${BASH_REMATCH[1]}")
    names+=("${BASH_REMATCH[2]}")
done <"$MANIFEST"
((${#names[@]} > 0)) || die "$MANIFEST lists no script"

declare -a missing=()
for i in "${!names[@]}"; do
    target=$SCRIPT_DIR/${names[i]}
    if [[ -f $target && $(digest "$target") == "${sums[i]}" ]]; then continue; fi
    missing+=("$i")
done
if ((${#missing[@]} == 0)); then
    log "all ${#names[@]} scripts present with their sha256"
    exit 0
fi

[[ -n ${SCRIPT_BUCKET:-} ]] || die "SCRIPT_BUCKET is not set in $NODE_ENV_FILE"
[[ -n ${SCRIPT_REGION:-} ]] || die "SCRIPT_REGION is not set in $NODE_ENV_FILE"
[[ -n ${SCRIPT_PREFIX:-} ]] || die "SCRIPT_PREFIX is not set in $NODE_ENV_FILE"
[[ $SCRIPT_BUCKET =~ ^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$ ]] || die "SCRIPT_BUCKET '$SCRIPT_BUCKET' is not an S3 bucket name"
[[ $SCRIPT_PREFIX =~ ^[A-Za-z0-9._/-]+$ ]] || die "SCRIPT_PREFIX '$SCRIPT_PREFIX' has characters a key must not"
[[ -r $HERE/aws-api.sh ]] || die "aws-api.sh is missing beside $PROG"
# shellcheck source=/dev/null
source "$HERE/aws-api.sh"
mkdir -p "$SCRIPT_DIR"
base=$(aws_endpoint s3 "$SCRIPT_REGION" "$SCRIPT_BUCKET")

tmp=
trap 'rm -f "$tmp"' EXIT
for i in "${missing[@]}"; do
    name=${names[i]} sum=${sums[i]}
    key=${SCRIPT_PREFIX%/}/$sum
    tmp=$(mktemp "$SCRIPT_DIR/.$name.XXXXXX")
    aws_request "$SCRIPT_REGION" s3 GET "$base/$key" "$tmp" -H "x-amz-content-sha256: $EMPTY_SHA256" ||
        die "could not read s3://$SCRIPT_BUCKET/$key ($name) (does the node role allow s3:GetObject there?)"
    got=$(digest "$tmp")
    [[ $got == "$sum" ]] || die "s3://$SCRIPT_BUCKET/$key ($name) has sha256 $got, expected $sum: refused"
    chmod 0755 "$tmp"
    ((EUID != 0)) || chown 0:0 "$tmp"
    mv -f "$tmp" "$SCRIPT_DIR/$name"
    tmp=
    log "installed $name ($sum) from s3://$SCRIPT_BUCKET/$key"
done
