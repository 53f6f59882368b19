#!/usr/bin/env bash
set -Eeuo pipefail
# shellcheck disable=SC2034 # read by lib.sh
readonly PROG=jvm-heap.sh
# shellcheck source=/dev/null
source "${WSO2IS_LIB:-$(dirname -- "${BASH_SOURCE[0]}")/lib.sh}"
readonly MIN_HEAP_MB=1024 MAX_HEAP_MB=31744 STEP_MB=64
readonly NON_HEAP_OPTS="-XX:MaxMetaspaceSize=512m -XX:MaxDirectMemorySize=512m -XX:+ExitOnOutOfMemoryError"
NODE_ENV_FILE=${WSO2IS_NODE_ENV:-/etc/wso2is/node.env}
MEMINFO=${WSO2IS_MEMINFO:-/proc/meminfo}
JVM_ENV_FILE=${WSO2IS_JVM_ENV:-/etc/wso2is/jvm.env}
OVERRIDE_FILE=${WSO2IS_JVM_OVERRIDE:-/etc/wso2is/jvm.override.env}
[[ ! -e $NODE_ENV_FILE ]] || load_env "$NODE_ENV_FILE"
percent=${JVM_HEAP_PERCENT:-60}
opts=
source_desc="${percent}% of MemTotal"
if [[ -f $OVERRIDE_FILE ]]; then
    unset JVM_MEM_OPTS
    load_env "$OVERRIDE_FILE"
    if [[ -n ${JVM_MEM_OPTS:-} ]]; then
        [[ $JVM_MEM_OPTS != *[\'$'\n']* ]] || die "JVM_MEM_OPTS in $OVERRIDE_FILE must not contain quotes or newlines"
        opts=$JVM_MEM_OPTS
        source_desc="JVM_MEM_OPTS from $OVERRIDE_FILE"
    elif [[ -n ${JVM_HEAP_PERCENT:-} ]]; then
        percent=$JVM_HEAP_PERCENT
        source_desc="${percent}% of MemTotal (JVM_HEAP_PERCENT from $OVERRIDE_FILE)"
    fi
fi
if [[ -z $opts ]]; then
    if ! [[ $percent =~ ^[0-9]+$ ]] || ((percent < 20 || percent > 90)); then
        die "JVM_HEAP_PERCENT must be an integer from 20 to 90, got '$percent'"
    fi
    [[ -r $MEMINFO ]] || die "cannot read $MEMINFO"
    total_kb=$(sed -n 's/^MemTotal:[[:space:]]*\([0-9][0-9]*\) kB$/\1/p' -- "$MEMINFO")
    [[ -n $total_kb ]] || die "no 'MemTotal: <n> kB' line in $MEMINFO"
    heap_mb=$((total_kb * percent / 100 / 1024 / STEP_MB * STEP_MB))
    if ((heap_mb < MIN_HEAP_MB)); then
        log "warning: ${percent}% of $((total_kb / 1024)) MiB is below ${MIN_HEAP_MB} MiB; using ${MIN_HEAP_MB} MiB (this node is smaller than IS needs)"
        heap_mb=$MIN_HEAP_MB
    elif ((heap_mb > MAX_HEAP_MB)); then
        heap_mb=$MAX_HEAP_MB
    fi
    opts="-Xms${heap_mb}m -Xmx${heap_mb}m $NON_HEAP_OPTS"
    source_desc+=" ($((total_kb / 1024)) MiB)"
fi
dir=$(dirname -- "$JVM_ENV_FILE")
mkdir -p -- "$dir"
tmp=$(mktemp "$dir/.jvm.env.XXXXXX")
trap 'rm -f -- "$tmp"' EXIT
printf '# Written by jvm-heap.sh before each start of IS (docs/vm-nodes.md); do not edit.\nJVM_MEM_OPTS='\''%s'\''\n' "$opts" >"$tmp"
if [[ -f $JVM_ENV_FILE ]] && cmp -s -- "$tmp" "$JVM_ENV_FILE"; then
    log "JVM_MEM_OPTS unchanged: $opts"
    exit 0
fi
chmod 0644 -- "$tmp"
mv -f -- "$tmp" "$JVM_ENV_FILE"
log "wrote $JVM_ENV_FILE: JVM_MEM_OPTS=$opts ($source_desc)"
