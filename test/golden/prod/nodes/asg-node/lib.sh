#!/usr/bin/env bash
set -euo pipefail
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
