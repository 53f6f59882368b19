#!/usr/bin/env bash
set -Eeuo pipefail
# shellcheck disable=SC2034 # read by lib.sh
readonly PROG=redirect-443.sh
# shellcheck source=/dev/null
source "${WSO2IS_LIB:-$(dirname -- "${BASH_SOURCE[0]}")/lib.sh}"
readonly TABLE=wso2is
NODE_ENV_FILE=${WSO2IS_NODE_ENV:-/etc/wso2is/node.env}
RUNTIME_ENV_FILE=${WSO2IS_RUNTIME_ENV:-/etc/wso2is/runtime.env}
NFT=${WSO2IS_NFT:-nft}
load_env "$NODE_ENV_FILE" "$RUNTIME_ENV_FILE"
require_vars "runtime.env: $RUNTIME_ENV_FILE (node-ip.sh writes it)" NODE_IP
port=${IS_HTTPS_PORT:-9443}
[[ $NODE_IP =~ ^([0-9]{1,3}\.){3}[0-9]{1,3}$ ]] || die "NODE_IP '$NODE_IP' is not an IPv4 address"
if ! [[ $port =~ ^[0-9]+$ ]] || ((port < 1 || port > 65535)); then
    die "IS_HTTPS_PORT must be a TCP port, got '$port'"
fi
command -v "$NFT" >/dev/null || die "$NFT is not installed (the nftables package; bootstrap.sh installs it)"
ruleset="add table ip $TABLE
delete table ip $TABLE
table ip $TABLE {
    chain output {
        type nat hook output priority -100; policy accept;
        ip daddr $NODE_IP tcp dport 443 dnat to $NODE_IP:$port comment \"wso2is: the node's own calls to its public URL\"
    }
}"
if ! err=$("$NFT" -f - <<<"$ruleset" 2>&1); then
    die "nft refused the ruleset of table ip $TABLE: ${err//$'\n'/ }"
fi
log "table ip $TABLE: $NODE_IP:443 -> $NODE_IP:$port for this node's own traffic"
