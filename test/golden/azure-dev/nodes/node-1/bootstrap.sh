#!/usr/bin/env bash
set -Eeuo pipefail
# shellcheck disable=SC2034 # read by lib.sh
readonly PROG=bootstrap.sh
# shellcheck source=/dev/null
source "${WSO2IS_LIB:-$(dirname -- "${BASH_SOURCE[0]}")/lib.sh}"
NODE_ENV_FILE=${WSO2IS_NODE_ENV:-/etc/wso2is/node.env}
SCRIPT_DIR=${WSO2IS_SCRIPT_DIR:-$(dirname -- "${BASH_SOURCE[0]}")}
STATE_DIR=${WSO2IS_BOOTSTRAP_STATE:-/var/lib/wso2is/bootstrap}
DB_ADMIN_ENV=${WSO2IS_DB_ADMIN_ENV:-/run/wso2is/db-admin.env}
unset WSO2IS_DB_ADMIN_ENV
DEPLOYMENT_TOML=${WSO2IS_DEPLOYMENT_TOML:-/etc/wso2is/deployment.toml}
APT_GET=${WSO2IS_APT_GET:-apt-get}
ATTEMPTS=${BOOTSTRAP_STEP_ATTEMPTS:-3}
DELAY=${BOOTSTRAP_STEP_DELAY:-10}
MAX_DELAY=${BOOTSTRAP_STEP_MAX_DELAY:-120}
load_env "$NODE_ENV_FILE"
require_vars "node.env: $NODE_ENV_FILE" IS_HOME IS_USER DB_HOST DB_INIT_PLAN
for v in ATTEMPTS DELAY MAX_DELAY; do
    is_uint "${!v}" || die 2 "BOOTSTRAP_STEP_$v must be a non-negative integer, got '${!v}'"
done
((ATTEMPTS >= 1)) || die 2 "BOOTSTRAP_STEP_ATTEMPTS must be at least 1"
[[ -d $SCRIPT_DIR ]] || die 2 "script directory $SCRIPT_DIR does not exist"
trap 'rm -f -- "$DB_ADMIN_ENV"' EXIT
mkdir -p -- "$STATE_DIR"
chmod 0700 -- "$STATE_DIR"
done_for() { [[ -f $STATE_DIR/$1.done && $(<"$STATE_DIR/$1.done") == "$2" ]]; }
mark_done() { printf '%s\n' "$2" >"$STATE_DIR/$1.done"; }
step() {
    local name=$1 attempts=$2 what=$3 started=$SECONDS rc=0
    shift 3
    log "step $name: start"
    retry --stream "$attempts" "$DELAY" "$MAX_DELAY" "step $name ($what)" "$@" || rc=$?
    ((rc == 0)) || die "$rc" "step $name failed (exit $rc): $what; systemd restarts wso2is-bootstrap.service (journalctl -u wso2is-bootstrap)"
    log "step $name: done in $((SECONDS - started))s"
}
apt_get() {
    (
        umask 022
        DEBIAN_FRONTEND=noninteractive "$APT_GET" -q -y -o Acquire::Retries=5 -o DPkg::Lock::Timeout=600 \
            -o Dpkg::Options::=--force-confold "$@"
    )
}
install_packages() {
    local packages
    read -r -a packages <<<"$NODE_PACKAGES"
    apt_get update && apt_get install "${packages[@]}"
}
install_config() {
    local dest=$IS_HOME/repository/conf/deployment.toml group
    [[ -r $DEPLOYMENT_TOML ]] || {
        log "cannot read $DEPLOYMENT_TOML"
        return 2
    }
    group=$(id -gn -- "$IS_USER") || return 1
    if [[ -f $dest ]] && cmp -s -- "$DEPLOYMENT_TOML" "$dest" &&
        [[ $(stat -c '%U:%G %a' -- "$dest") == "root:$group 640" ]]; then
        log "$dest already up to date"
        return 0
    fi
    install -o root -g "$group" -m 0640 -- "$DEPLOYMENT_TOML" "$dest" && log "installed $dest (root:$group 0640)"
}
run() { "$SCRIPT_DIR/$1" "${@:2}"; }
if [[ -z ${NODE_PACKAGES:-} ]]; then
    log "step packages: NODE_PACKAGES is empty, nothing to install"
elif done_for packages "$NODE_PACKAGES"; then
    log "step packages: already done ($STATE_DIR/packages.done)"
else
    step packages "$ATTEMPTS" "apt mirrors and the dpkg lock" install_packages
    mark_done packages "$NODE_PACKAGES"
fi
step node-ip 1 "the instance metadata service" run node-ip.sh
step install-is "$ATTEMPTS" "the IS and JDBC driver downloads" run install-is.sh
db_fingerprint="$DB_HOST $DB_INIT_PLAN"
if done_for db-init "$db_fingerprint"; then
    step fetch-secrets 1 "the cluster secret" run fetch-secrets.sh
    log "step db-init: already done ($STATE_DIR/db-init.done)"
else
    step fetch-secrets 1 "the cluster secret" env WSO2IS_DB_ADMIN_ENV="$DB_ADMIN_ENV" "$SCRIPT_DIR/fetch-secrets.sh"
fi
step mount-share 1 "the shared file system" run mount-share.sh
step artifact-sync "$ATTEMPTS" "the artifact lock on the share" run artifact-sync.sh
if ! done_for db-init "$db_fingerprint"; then
    step db-init 1 "the database and its init lock" env WSO2IS_SECRETS_ENV="$DB_ADMIN_ENV" "$SCRIPT_DIR/db-init.sh"
    mark_done db-init "$db_fingerprint"
fi
rm -f -- "$DB_ADMIN_ENV"
step jvm-heap 1 "nothing (reads /proc/meminfo)" run jvm-heap.sh
step config 1 "nothing (a local copy)" install_config
log "done: wso2is.service may start"
