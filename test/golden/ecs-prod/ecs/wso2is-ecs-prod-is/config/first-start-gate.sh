#!/usr/bin/env bash
set -euo pipefail
# shellcheck disable=SC2034 # read by lib.sh
readonly PROG="first-start-gate" DIE_LABEL="ERROR"
# shellcheck source=/dev/null
log() { printf '%s: %s\n' "${PROG:-wso2is}" "$*" >&2; }
die() {
    local code=1
    if (($# > 1)) && [[ $1 =~ ^[0-9]+$ ]]; then
        code=$1
        shift
    fi
    log "${DIE_LABEL:-error}: $*"
    exit "$code"
}
trap 'log "error: command failed (exit $?) at line $LINENO: $BASH_COMMAND"' ERR
is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }
retry() {
    local stream=0 fatal='' attempts delay max what n=1 rc err v
    while true; do
        case $1 in
            --stream) stream=1 ;;
            --fatal)
                fatal=$2
                shift
                ;;
            *) break ;;
        esac
        shift
    done
    attempts=$1 delay=$2 max=$3 what=$4
    shift 4
    for v in "$attempts" "$delay" "$max" ${fatal:+"$fatal"}; do
        is_uint "$v" || die 2 "retry: ATTEMPTS, DELAY, MAX_DELAY and CODE must be non-negative integers, got '$attempts' '$delay' '$max' '$fatal'"
    done
    ((attempts >= 1)) || die 2 "retry: ATTEMPTS must be at least 1 ($what)"
    ((max >= delay)) || max=$delay
    while true; do
        rc=0
        err=
        if ((stream)); then
            "$@" || rc=$?
        else
            { err=$("$@" 2>&1 >&3 3>&-); } 3>&1 || rc=$?
        fi
        ((rc != 0)) || return 0
        err=${err//$'\n'/ }
        err=${err:0:300}
        if [[ $rc == "$fatal" ]]; then
            log "$what: failed (exit $rc), not retried${err:+: $err}"
            return "$rc"
        fi
        if ((n >= attempts)); then
            log "$what: failed after $n attempts (exit $rc)${err:+ (last: $err)}"
            return "$rc"
        fi
        log "waiting for $what: attempt $n/$attempts failed (exit $rc)${err:+: $err}; next try in ${delay}s"
        sleep "$delay"
        delay=$((delay * 2 > max ? max : delay * 2))
        n=$((n + 1))
    done
}
ENV_TUNING_KNOBS=(SECRET_FETCH_RETRIES SECRET_FETCH_RETRY_DELAY SHARE_MOUNT_RETRIES
    SHARE_MOUNT_RETRY_DELAY DB_INIT_RETRIES DB_INIT_RETRY_DELAY FIRST_START_WAIT
    FIRST_START_HOLD_TIMEOUT)
load_env() {
    local export=0 f k
    local -A keep=()
    if [[ $1 == --export ]]; then
        export=1
        shift
    fi
    for f in "$@"; do
        [[ -r $f ]] || die 2 "cannot read $f"
    done
    for k in "${ENV_TUNING_KNOBS[@]}"; do
        if [[ -v $k && ${!k@a} == *x* && -n ${!k} ]]; then keep[$k]=${!k}; fi
    done
    for f in "$@"; do
        if ((export)); then set -a; fi
        # shellcheck source=/dev/null
        source "$f"
        if ((export)); then set +a; fi
        for k in "${!keep[@]}"; do
            [[ ${!k} == "${keep[$k]}" ]] && continue
            log "$k: the environment's ${keep[$k]} wins over ${!k} from $f"
            printf -v "$k" '%s' "${keep[$k]}"
        done
    done
    return 0
}
require_vars() {
    local where=$1 v
    shift
    for v in "$@"; do
        [[ -n ${!v:-} ]] || die 2 "$v is not set ($where)"
    done
}
mysql_client() {
    if command -v mariadb >/dev/null 2>&1; then
        MYSQL_BIN=mariadb
    elif command -v mysql >/dev/null 2>&1; then
        MYSQL_BIN=mysql
    else
        die 2 "no mysql client on PATH (install mysql-client or mariadb-client)"
    fi
    MYSQL_CLIENT_VERSION=$("$MYSQL_BIN" --version 2>&1) || die 2 "'$MYSQL_BIN --version' failed: $MYSQL_CLIENT_VERSION"
    if [[ $MYSQL_CLIENT_VERSION == *MariaDB* ]]; then MYSQL_CLIENT_FLAVOUR=mariadb; else MYSQL_CLIENT_FLAVOUR=mysql; fi
}
cnf_quote() {
    local s=$1
    s=${s//\\/\\\\}
    s=${s//\"/\\\"}
    s=${s//$'\n'/\\n}
    s=${s//$'\t'/\\t}
    printf '"%s"' "$s"
}
mysql_defaults_file() {
    local file=$1 user=$2 password=$3
    (
        umask 077
        {
            echo "[client]"
            echo "host=$DB_HOST"
            echo "port=$DB_PORT"
            echo "protocol=TCP"
            echo "user=$(cnf_quote "$user")"
            echo "password=$(cnf_quote "$password")"
            echo "connect-timeout=10"
            echo "default-character-set=utf8mb4"
            if [[ $DB_TLS == required ]]; then
                if [[ $MYSQL_CLIENT_FLAVOUR == mysql ]]; then echo "ssl-mode=REQUIRED"; else echo "ssl=1"; fi
            fi
        } >"$file"
    )
    chmod 0600 -- "$file"
}
check_db_params() {
    is_uint "$DB_PORT" || die 2 "DB_PORT must be a non-negative integer, got '$DB_PORT'"
    case $DB_TLS in
        required | disabled) ;;
        *) die 2 "DB_TLS must be 'required' or 'disabled', got '$DB_TLS'" ;;
    esac
    [[ $DB_HOST =~ ^[A-Za-z0-9._:-]+$ ]] || die 2 "DB_HOST '$DB_HOST' is not a host name or address"
    [[ $DB_APP_USER != *$'\n'* && ${#DB_APP_USER} -le 80 ]] || die 2 "DB_APP_USER is not a valid user name"
}
readonly GATE_TABLE="wso2is_first_start"
MODE=${1:-}
case $MODE in
    enter | hold) ;;
    *) die 2 "usage: first-start-gate.sh enter|hold (got '${MODE}')" ;;
esac
NODE_ENV_FILE=${WSO2IS_NODE_ENV:-/etc/wso2is/node.env}
SECRETS_ENV_FILE=${WSO2IS_SECRETS_ENV:-/etc/wso2is/secrets.env}
load_env "$NODE_ENV_FILE" "$SECRETS_ENV_FILE"
require_vars "node.env: $NODE_ENV_FILE, secrets.env: $SECRETS_ENV_FILE" DB_HOST DB_PORT DB_TLS DB_APP_USER \
    DB_INIT_PLAN WSO2_DB_PASSWORD
WAIT=${FIRST_START_WAIT:-1800}
STALE=${FIRST_START_STALE:-120}
POLL=${FIRST_START_POLL:-5}
LOG_EVERY=${FIRST_START_LOG_EVERY:-30}
HOLD_TIMEOUT=${FIRST_START_HOLD_TIMEOUT:-1800}
for v in WAIT STALE POLL LOG_EVERY HOLD_TIMEOUT; do
    is_uint "${!v}" || die 2 "$v must be a non-negative integer, got '${!v}'"
done
((POLL >= 1)) || die 2 "FIRST_START_POLL must be at least 1"
((STALE >= 2 * POLL)) || die 2 "FIRST_START_STALE ($STALE) must be at least twice FIRST_START_POLL ($POLL)"
check_db_params
GATE_DB=${DB_INIT_PLAN%%[[:space:]]*}
GATE_DB=${GATE_DB%%:*}
[[ $GATE_DB =~ ^[A-Za-z0-9_]{1,64}$ ]] || die 2 "cannot read the first database name from DB_INIT_PLAN '$DB_INIT_PLAN'"
GATE="\`$GATE_DB\`.\`$GATE_TABLE\`"
NODE_ID=${FIRST_START_NODE_ID:-${HOSTNAME:-}}
[[ $NODE_ID =~ ^[A-Za-z0-9._:@/-]{1,255}$ ]] || die 2 "node id '$NODE_ID' (FIRST_START_NODE_ID or the host name) must be 1-255 of A-Z a-z 0-9 . _ : @ / -"
ME="'$NODE_ID'" # safe as a SQL literal: checked above
mysql_client
WORK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/wso2is-first-start.XXXXXX")
DEFAULTS_FILE=$WORK_DIR/client.cnf
ERR_FILE=$WORK_DIR/err
mysql_defaults_file "$DEFAULTS_FILE" "$DB_APP_USER" "$WSO2_DB_PASSWORD"
Q_ROWS=()
Q_ERR=""
q() {
    local out code
    Q_ROWS=()
    if ! out=$("$MYSQL_BIN" --defaults-extra-file="$DEFAULTS_FILE" --batch --skip-column-names \
        -e "SHOW SESSION STATUS LIKE 'Ssl_cipher'; $1" 2>"$ERR_FILE"); then
        Q_ERR=$(tr '\n' ' ' <"$ERR_FILE")
        code=""
        [[ $Q_ERR =~ ERROR\ ([0-9]+) ]] && code=${BASH_REMATCH[1]}
        case $code in
            1044 | 1045 | 1698 | 1129 | 1130 | 1251 | 2059)
                die 4 "the database at $DB_HOST:$DB_PORT refuses user '$DB_APP_USER' (WSO2_DB_PASSWORD): $Q_ERR"
                ;;
            2026 | 3159) die 4 "TLS problem with $DB_HOST:$DB_PORT (DB_TLS=$DB_TLS): $Q_ERR" ;;
            1146) die 6 "table $GATE_DB.$GATE_TABLE does not exist: db-init.sh has not completed on this database ($Q_ERR)" ;;
            1142 | 1143) die 6 "user '$DB_APP_USER' may not use $GATE_DB.$GATE_TABLE (db-init.sh grants it): $Q_ERR" ;;
            "" | 2002 | 2003 | 2005 | 2006 | 2013 | 1040 | 1053 | 1205 | 1213) return 1 ;;
            *) die 6 "SQL on $GATE_DB.$GATE_TABLE failed: $Q_ERR" ;;
        esac
    fi
    mapfile -t Q_ROWS <<<"$out"
    local first=${Q_ROWS[0]:-}
    if [[ $DB_TLS == required && ($first != Ssl_cipher$'\t'* || -z ${first#Ssl_cipher$'\t'}) ]]; then
        die 4 "DB_TLS=required but the connection to $DB_HOST:$DB_PORT is not encrypted; refusing to continue"
    fi
    Q_ROWS=("${Q_ROWS[@]:1}")
}
readonly ROW_SQL="SELECT holder <=> $ME, done_at IS NOT NULL, COALESCE(holder, '-'),
  COALESCE(TIMESTAMPDIFF(SECOND, acquired_at, UTC_TIMESTAMP(6)), -1),
  COALESCE(TIMESTAMPDIFF(SECOND, heartbeat_at, UTC_TIMESTAMP(6)), -1),
  COALESCE(done_by, '-'), COALESCE(done_at, '-') FROM $GATE WHERE id = 1;"
parse_row() {
    [[ -n ${Q_ROWS[0]:-} ]] || die 6 "$GATE_DB.$GATE_TABLE has no row: db-init.sh has not completed on this database"
    IFS=$'\t' read -r G_MINE G_DONE G_HOLDER G_HELD_S G_BEAT_S G_DONE_BY G_DONE_AT <<<"${Q_ROWS[0]}"
}
RELEASE_ON_EXIT=0
release() {
    ((RELEASE_ON_EXIT)) || return 0
    RELEASE_ON_EXIT=0
    if q "UPDATE $GATE SET holder = NULL, heartbeat_at = NULL WHERE id = 1 AND holder = $ME AND done_at IS NULL;"; then
        log "released the first-start gate (first start not recorded as done)"
    else
        log "could not release the gate ($Q_ERR); it goes stale in ${STALE}s"
    fi
}
cleanup() {
    release
    rm -rf "$WORK_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
if [[ $MODE == enter ]]; then
    CLAIM_SQL="$ROW_SQL
UPDATE $GATE SET holder = $ME, acquired_at = UTC_TIMESTAMP(6), heartbeat_at = UTC_TIMESTAMP(6)
  WHERE id = 1 AND done_at IS NULL
    AND (holder IS NULL OR holder = $ME OR heartbeat_at IS NULL
         OR heartbeat_at < UTC_TIMESTAMP(6) - INTERVAL $STALE SECOND);
$ROW_SQL"
    started=$SECONDS
    last_log=-1
    while :; do
        if q "$CLAIM_SQL"; then
            before=${Q_ROWS[0]:-}
            Q_ROWS=("${Q_ROWS[@]:1}")
            parse_row
            waited=$((SECONDS - started))
            if ((G_DONE)); then
                log "first start already done (by $G_DONE_BY at $G_DONE_AT UTC); go ahead (waited ${waited}s)"
                exit 0
            fi
            if ((G_MINE)); then
                Q_ROWS=("$before")
                parse_row
                if [[ $G_HOLDER != - && $G_HOLDER != "$NODE_ID" ]]; then
                    log "took the first-start gate over from '$G_HOLDER' (its last heartbeat ${G_BEAT_S}s ago, stale after ${STALE}s); this node does the first start (waited ${waited}s)"
                else
                    log "this node holds the first-start gate: it does IS's first start on $GATE_DB (waited ${waited}s)"
                fi
                exit 0
            fi
            if ((last_log < 0 || SECONDS - last_log >= LOG_EVERY)); then
                log "waiting: node '$G_HOLDER' holds the first-start gate (for ${G_HELD_S}s, last heartbeat ${G_BEAT_S}s ago); waited ${waited}s of ${WAIT}s"
                last_log=$SECONDS
            fi
        else
            log "database $DB_HOST:$DB_PORT not reachable ($Q_ERR); retrying"
        fi
        if ((SECONDS - started >= WAIT)); then
            die 5 "gave up after ${WAIT}s (FIRST_START_WAIT): node '${G_HOLDER:-?}' still holds the first-start gate (for ${G_HELD_S:-?}s, last heartbeat ${G_BEAT_S:-?}s ago); its IS never answered its health check"
        fi
        sleep "$POLL"
    done
fi
HEALTH_URL=${HEALTH_URL:-https://127.0.0.1:9443/api/health-check/v1.0/health}
CURL_TLS=()
if [[ $HEALTH_URL == https://* ]]; then
    if [[ -n ${HEALTH_CA:-} ]]; then
        [[ -r $HEALTH_CA ]] || die 2 "HEALTH_CA '$HEALTH_CA' is not readable"
        CURL_TLS=(--cacert "$HEALTH_CA")
    elif [[ $HEALTH_URL =~ ^https://(127\.[0-9.]+|localhost|\[::1\])(:[0-9]+)?(/|$) ]]; then
        CURL_TLS=(-k)
    else
        die 2 "HEALTH_URL '$HEALTH_URL' is not a loopback address: set HEALTH_CA to verify it"
    fi
elif [[ $HEALTH_URL != http://* ]]; then
    die 2 "HEALTH_URL '$HEALTH_URL' must be an http:// or https:// URL"
fi
command -v curl >/dev/null 2>&1 || die 2 "curl is not installed"
until q "$ROW_SQL"; do
    log "database $DB_HOST:$DB_PORT not reachable ($Q_ERR); retrying"
    sleep "$POLL"
    ((SECONDS < HOLD_TIMEOUT)) || die 3 "database $DB_HOST:$DB_PORT not reachable for ${HOLD_TIMEOUT}s: $Q_ERR"
done
parse_row
if ((G_DONE)); then
    log "first start already done (by $G_DONE_BY at $G_DONE_AT UTC); nothing to hold"
    exit 0
fi
if ((!G_MINE)); then
    log "this node does not hold the first-start gate (holder: '$G_HOLDER'); nothing to hold"
    exit 0
fi
RELEASE_ON_EXIT=1
log "holding the first-start gate until IS answers 200 at $HEALTH_URL (up to ${HOLD_TIMEOUT}s)"
started=$SECONDS
last_log=$SECONDS
status=""
while :; do
    if q "UPDATE $GATE SET heartbeat_at = UTC_TIMESTAMP(6) WHERE id = 1 AND holder = $ME AND done_at IS NULL;
$ROW_SQL"; then
        parse_row
        if ((!G_MINE)); then
            RELEASE_ON_EXIT=0
            die 8 "lost the first-start gate to '$G_HOLDER' (this node's heartbeat was older than ${STALE}s); two first starts may overlap: stop IS on this node"
        fi
    else
        log "heartbeat failed ($Q_ERR); retrying"
    fi
    status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "${CURL_TLS[@]}" -- "$HEALTH_URL" 2>/dev/null) || true
    if [[ $status == 200 ]]; then
        if q "UPDATE $GATE SET done_at = UTC_TIMESTAMP(6), done_by = $ME, holder = NULL, heartbeat_at = NULL
  WHERE id = 1 AND holder = $ME AND done_at IS NULL;
$ROW_SQL"; then
            parse_row
            if ((G_DONE)) && [[ $G_DONE_BY == "$NODE_ID" ]]; then
                RELEASE_ON_EXIT=0
                log "IS answered 200 after $((SECONDS - started))s: first start recorded as done; gate released"
                exit 0
            fi
            RELEASE_ON_EXIT=0
            die 8 "IS is healthy but the gate is no longer this node's (holder '$G_HOLDER', done by '$G_DONE_BY')"
        fi
        log "IS is healthy but recording it failed ($Q_ERR); retrying"
    fi
    if ((SECONDS - started >= HOLD_TIMEOUT)); then
        die 8 "IS did not answer 200 at $HEALTH_URL within ${HOLD_TIMEOUT}s (FIRST_START_HOLD_TIMEOUT; last status ${status:-none}); releasing the gate so another node can try"
    fi
    if ((SECONDS - last_log >= LOG_EVERY)); then
        log "IS not healthy yet (status ${status:-none}, $((SECONDS - started))s); heartbeat kept"
        last_log=$SECONDS
    fi
    sleep "$POLL"
done
