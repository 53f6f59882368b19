#!/usr/bin/env bash
# lib.sh: what every node script shares (scripts/CONTRACT.md): log, die, retry with backoff,
# loading the env files, and the mysql client's option file. Sourced, never run: each script
# sets PROG and then
#   source "${WSO2IS_LIB:-$(dirname -- "${BASH_SOURCE[0]}")/lib.sh}"
# so it runs alone from any directory that holds lib.sh beside it (tests: WSO2IS_LIB). Shipped
# once per node, beside the scripts; container targets get it inlined (scripts.ts
# standaloneScriptText).
set -euo pipefail

# log MESSAGE...: one line on stderr, prefixed with the script's name.
log() { printf '%s: %s\n' "${PROG:-wso2is}" "$*" >&2; }

# die [CODE] MESSAGE...: logs "<DIE_LABEL>: MESSAGE" (default label `error`) and exits CODE
# (default 1). A first argument of digits is a code only when a message follows.
die() {
    local code=1
    if (($# > 1)) && [[ $1 =~ ^[0-9]+$ ]]; then
        code=$1
        shift
    fi
    log "${DIE_LABEL:-error}: $*"
    exit "$code"
}

# Scripts with `set -E` log the command that failed; without it only top-level failures do.
trap 'log "error: command failed (exit $?) at line $LINENO: $BASH_COMMAND"' ERR

# is_uint VALUE: VALUE is a non-negative integer in decimal.
is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }

# retry [--stream] [--fatal CODE] ATTEMPTS DELAY MAX_DELAY WHAT COMMAND...: runs COMMAND until
# it succeeds, at most ATTEMPTS times. After a failure it logs WHAT it waits for, the attempt and
# the failure, and sleeps DELAY seconds, doubling each time up to MAX_DELAY (MAX_DELAY = DELAY:
# fixed). COMMAND's stdout passes through. Its stderr is kept for the log line (300 characters),
# or with --stream goes straight to ours (commands that log a lot themselves; COMMAND then runs
# in this shell, so what it sets stays). --fatal: an exit CODE of COMMAND is a failure no wait
# fixes, not retried. Returns COMMAND's last exit code after the last attempt.
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

# The budgets node.env renders (components/model/boot.ts) that may be shortened from outside:
# a value of one of these in the environment (a systemd drop-in's Environment=, a test) wins over
# an env file's (load_env). Every other node.env key wins over the environment.
ENV_TUNING_KNOBS=(SECRET_FETCH_RETRIES SECRET_FETCH_RETRY_DELAY SHARE_MOUNT_RETRIES
    SHARE_MOUNT_RETRY_DELAY DB_INIT_RETRIES DB_INIT_RETRY_DELAY FIRST_START_WAIT
    FIRST_START_HOLD_TIMEOUT)

# load_env [--export] FILE...: reads each env file (root-owned, single-quoted values: valid for
# bash `source` and for systemd's EnvironmentFile=) into the shell. Without --export the values
# are set, not exported: the children (mysql, curl) never see secrets in their environment.
# A knob of ENV_TUNING_KNOBS exported to this script, not empty, keeps its value (logged when a
# file says otherwise).
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

# require_vars WHERE NAME...: each NAME is set and not empty, else exit 2 naming it and WHERE.
require_vars() {
    local where=$1 v
    shift
    for v in "$@"; do
        [[ -n ${!v:-} ]] || die 2 "$v is not set ($where)"
    done
}

# mysql_client: MYSQL_BIN (mariadb when present: MariaDB >= 11 warns on stderr when called as
# `mysql`; else mysql), MYSQL_CLIENT_VERSION and MYSQL_CLIENT_FLAVOUR (mariadb | mysql).
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

# cnf_quote VALUE: an option-file value, double-quoted; the client unescapes \\ \" \n \t.
cnf_quote() {
    local s=$1
    s=${s//\\/\\\\}
    s=${s//\"/\\\"}
    s=${s//$'\n'/\\n}
    s=${s//$'\t'/\\t}
    printf '"%s"' "$s"
}

# mysql_defaults_file FILE USER PASSWORD: the [client] option file (0600) for DB_HOST, DB_PORT
# and DB_TLS: the password lives only there, never in argv (`ps` shows argv). Call mysql_client
# first. TLS: the MySQL client refuses plain text with ssl-mode=REQUIRED; MariaDB's client knows
# no ssl-mode, and its `ssl` (before 11.4) falls back to plain text when the server offers no
# TLS, so the callers check the session's Ssl_cipher before they send anything secret.
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

# check_db_params: DB_HOST, DB_PORT, DB_TLS and DB_APP_USER (node.env) are usable (exit 2).
check_db_params() {
    is_uint "$DB_PORT" || die 2 "DB_PORT must be a non-negative integer, got '$DB_PORT'"
    case $DB_TLS in
        required | disabled) ;;
        *) die 2 "DB_TLS must be 'required' or 'disabled', got '$DB_TLS'" ;;
    esac
    [[ $DB_HOST =~ ^[A-Za-z0-9._:-]+$ ]] || die 2 "DB_HOST '$DB_HOST' is not a host name or address"
    [[ $DB_APP_USER != *$'\n'* && ${#DB_APP_USER} -le 80 ]] || die 2 "DB_APP_USER is not a valid user name"
}
