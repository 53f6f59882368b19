#!/usr/bin/env bash
set -Eeuo pipefail
# shellcheck disable=SC2034 # read by lib.sh
readonly PROG=node-ip.sh
readonly PIN_MARKER="# wso2is-lb-pin"
# shellcheck source=/dev/null
source "${WSO2IS_LIB:-$(dirname -- "${BASH_SOURCE[0]}")/lib.sh}"
NODE_ENV_FILE=${WSO2IS_NODE_ENV:-/etc/wso2is/node.env}
RUNTIME_ENV_FILE=${WSO2IS_RUNTIME_ENV:-/etc/wso2is/runtime.env}
HOSTS_FILE=${WSO2IS_HOSTS_FILE:-/etc/hosts}
IMDS=${WSO2IS_IMDS_ENDPOINT:-http://169.254.169.254}
IMDS=${IMDS%/}
load_env --export "$NODE_ENV_FILE"
IMDS_RETRIES=${IMDS_RETRIES:-10}
IMDS_RETRY_DELAY=${IMDS_RETRY_DELAY:-3}
[[ $IMDS_RETRIES =~ ^[1-9][0-9]*$ ]] || die "IMDS_RETRIES must be a positive integer, got '$IMDS_RETRIES'"
[[ $IMDS_RETRY_DELAY =~ ^[0-9]+$ ]] || die "IMDS_RETRY_DELAY must be a non-negative integer, got '$IMDS_RETRY_DELAY'"
[[ -n ${NODE_IP_SOURCE:-} ]] || die "NODE_IP_SOURCE is not set in $NODE_ENV_FILE"
[[ -n ${LB_HOSTNAME:-} ]] || die "LB_HOSTNAME is not set in $NODE_ENV_FILE"
[[ $LB_HOSTNAME =~ ^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$ ]] || die "LB_HOSTNAME '$LB_HOSTNAME' is not a valid host name"
CURL_OPTS=(--fail --silent --show-error --noproxy '*' --connect-timeout 2 --max-time 10)
aws_token() {
    curl "${CURL_OPTS[@]}" -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 300" "$IMDS/latest/api/token"
}
aws_local_ipv4() {
    printf 'header = "X-aws-ec2-metadata-token: %s"\n' "$1" |
        curl "${CURL_OPTS[@]}" -K - "$IMDS/latest/meta-data/local-ipv4"
}
azure_private_ip() {
    curl "${CURL_OPTS[@]}" -H "Metadata: true" \
        "$IMDS/metadata/instance/network/interface/0/ipv4/ipAddress/0/privateIpAddress?api-version=2021-02-01&format=text"
}
is_ipv4() {
    local ip=$1 octet
    [[ $ip =~ ^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$ ]] || return 1
    local IFS=.
    for octet in $ip; do
        ((10#$octet <= 255)) || return 1
    done
}
case $NODE_IP_SOURCE in
    aws-imds)
        token=$(retry "$IMDS_RETRIES" "$IMDS_RETRY_DELAY" "$IMDS_RETRY_DELAY" "IMDSv2 token (PUT $IMDS/latest/api/token)" aws_token) ||
            die "could not get an IMDSv2 token from $IMDS"
        [[ -n $token ]] || die "IMDSv2 returned an empty token"
        ip=$(retry "$IMDS_RETRIES" "$IMDS_RETRY_DELAY" "$IMDS_RETRY_DELAY" "IMDSv2 local-ipv4" aws_local_ipv4 "$token") ||
            die "could not read meta-data/local-ipv4 from $IMDS"
        ;;
    azure-imds)
        ip=$(retry "$IMDS_RETRIES" "$IMDS_RETRY_DELAY" "$IMDS_RETRY_DELAY" "Azure IMDS privateIpAddress" azure_private_ip) ||
            die "could not read the private IP from the Azure IMDS at $IMDS"
        ;;
    static)
        [[ -n ${NODE_IP:-} ]] || die "NODE_IP_SOURCE=static but NODE_IP is not set in $NODE_ENV_FILE"
        ip=$NODE_IP
        ;;
    *)
        die "unknown NODE_IP_SOURCE '$NODE_IP_SOURCE' (expected aws-imds, azure-imds or static)"
        ;;
esac
ip=${ip//[$'\r\n\t ']/}
is_ipv4 "$ip" || die "'$ip' from $NODE_IP_SOURCE is not an IPv4 address"
log "node IP is $ip (source: $NODE_IP_SOURCE)"
TMP_FILES=()
cleanup() { ((${#TMP_FILES[@]} == 0)) || rm -f -- "${TMP_FILES[@]}"; }
trap cleanup EXIT
replace_file() {
    local target=$1 new=$2 mode=$3
    if [[ -f $target ]] && cmp -s -- "$new" "$target"; then
        log "$target already up to date"
        return 0
    fi
    chmod "$mode" -- "$new"
    if ! mv -f -- "$new" "$target" 2>/dev/null; then
        cat -- "$new" >"$target" || die "cannot write $target"
    fi
    log "wrote $target"
}
runtime_dir=$(dirname -- "$RUNTIME_ENV_FILE")
mkdir -p -- "$runtime_dir"
tmp=$(mktemp "$runtime_dir/.runtime.env.XXXXXX")
TMP_FILES+=("$tmp")
if [[ -f $RUNTIME_ENV_FILE ]]; then
    grep -v '^NODE_IP=' -- "$RUNTIME_ENV_FILE" >"$tmp" || true
fi
printf 'NODE_IP=%s\n' "$ip" >>"$tmp"
replace_file "$RUNTIME_ENV_FILE" "$tmp" 0644
[[ -f $HOSTS_FILE ]] || die "$HOSTS_FILE does not exist"
hosts_dir=$(dirname -- "$HOSTS_FILE")
tmp=$(mktemp "$hosts_dir/.hosts.XXXXXX")
TMP_FILES+=("$tmp")
grep -v -- "[[:space:]]${PIN_MARKER}\$" "$HOSTS_FILE" >"$tmp" || true
if grep -v '^[[:space:]]*#' "$tmp" | grep -qiwF -- "$LB_HOSTNAME"; then
    log "warning: $HOSTS_FILE already names $LB_HOSTNAME on another line, which may take precedence over the pin"
fi
printf '%s %s %s\n' "$ip" "$LB_HOSTNAME" "$PIN_MARKER" >>"$tmp"
replace_file "$HOSTS_FILE" "$tmp" "$(stat -c %a -- "$HOSTS_FILE")"
