#!/usr/bin/env bash
set -euo pipefail
# shellcheck disable=SC2034 # read by lib.sh
readonly PROG="db-init" DIE_LABEL="ERROR"
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
app_password_change() {
    local v=$1
    if [[ $v != *MariaDB* && $v =~ ^([0-9]+)[.]([0-9]+)[.]([0-9]+) ]]; then
        local major=$((10#${BASH_REMATCH[1]})) minor=$((10#${BASH_REMATCH[2]})) patch=$((10#${BASH_REMATCH[3]}))
        if ((major > 8 || (major == 8 && (minor > 0 || patch >= 14)))); then
            echo retain
            return 0
        fi
    fi
    echo plain
}
app_password_sql() {
    local statement="ALTER USER $2 IDENTIFIED BY $3"
    [[ $1 == retain ]] && statement+=" RETAIN CURRENT PASSWORD"
    printf '%s;' "$statement"
}
if [[ ${1:-} == --app-password-sql ]]; then
    (($# == 2)) || die 2 "usage: db-init.sh --app-password-sql SERVER_VERSION"
    mode=$(app_password_change "$2")
    printf '%s\t%s\n' "$mode" "$(app_password_sql "$mode" "'app'@'%'" "'<new password>'")"
    exit 0
fi
readonly LOCK_NAME="wso2is-db-init"
readonly MARKER="__wso2is_done__"
readonly HISTORY_TABLE="wso2is_schema_history"
readonly GATE_TABLE="wso2is_first_start"
NODE_ENV_FILE=${WSO2IS_NODE_ENV:-/etc/wso2is/node.env}
SECRETS_ENV_FILE=${WSO2IS_SECRETS_ENV:-/etc/wso2is/secrets.env}
load_env "$NODE_ENV_FILE" "$SECRETS_ENV_FILE"
require_vars "node.env: $NODE_ENV_FILE, secrets.env: $SECRETS_ENV_FILE" IS_HOME DB_HOST DB_PORT DB_TLS \
    DB_APP_USER DB_INIT_PLAN WSO2_DB_ADMIN_USER WSO2_DB_ADMIN_PASSWORD WSO2_DB_PASSWORD
RETRIES=${DB_INIT_RETRIES:-30}
RETRY_DELAY=${DB_INIT_RETRY_DELAY:-5}
LOCK_TIMEOUT=${DB_INIT_LOCK_TIMEOUT:-600}
STATEMENT_TIMEOUT=${DB_INIT_STATEMENT_TIMEOUT:-1800}
for v in RETRIES RETRY_DELAY LOCK_TIMEOUT STATEMENT_TIMEOUT; do
    is_uint "${!v}" || die 2 "$v must be a non-negative integer, got '${!v}'"
done
((RETRIES >= 1)) || die 2 "DB_INIT_RETRIES must be at least 1"
((STATEMENT_TIMEOUT >= 1)) || die 2 "DB_INIT_STATEMENT_TIMEOUT must be at least 1"
check_db_params
[[ $WSO2_DB_PASSWORD != *$'\n'* ]] || die 2 "WSO2_DB_PASSWORD must not contain a newline"
scan_dbscript() {
    # shellcheck disable=SC2016 # a regex: $ and backticks are literal
    local line re='create[[:space:]]+table[[:space:]]+(if[[:space:]]+not[[:space:]]+exists[[:space:]]+)?(`?[[:alnum:]_$]+`?[.])?`?([[:alnum:]_$]+)`?(.*)$'
    SCAN_TABLES=()
    SCAN_LAST=""
    shopt -s nocasematch
    while IFS= read -r line || [[ -n $line ]]; do
        [[ $line =~ ^[[:space:]]*# ]] && continue
        line=${line%%--[[:space:]]*}
        line=${line%--}
        line=${line%"${line##*[![:space:]]}"}
        [[ -n $line ]] || continue
        SCAN_LAST=${line: -1}
        while [[ $line =~ $re ]]; do
            SCAN_TABLES+=("${BASH_REMATCH[3]}")
            line=${BASH_REMATCH[4]}
        done
    done <"$1"
    shopt -u nocasematch
}
layout_hint() {
    local f found=()
    shopt -s globstar nullglob
    for f in "$IS_HOME"/dbscripts/**/mysql*.sql; do found+=("${f#"$IS_HOME"/}"); done
    shopt -u globstar nullglob
    printf 'IS_VERSION=%s: this program applies the MySQL scripts at the paths of the IS 7.1.0 zip; does this zip lay out its dbscripts differently? IS_HOME has: %s' \
        "${IS_VERSION:-unknown}" "${found[*]:-no dbscripts/**/mysql*.sql at all}"
}
check_dbscript() {
    local db=$1 file=$IS_HOME/$2
    [[ -f $file && -r $file ]] || die 2 "dbscript $file (database $db) does not exist. $(layout_hint)"
    [[ -s $file ]] || die 2 "dbscript $file (database $db) is empty; the IS zip ships it non-empty (damaged install?). $(layout_hint)"
    scan_dbscript <(tail -c 4096 -- "$file")
    [[ $SCAN_LAST == ";" ]] || die 2 "dbscript $file (database $db) does not end with a complete statement (its last character is '$SCAN_LAST'): truncated? Reinstall IS (install-is.sh checks the zip's sha256); nothing was applied"
}
PLAN_DBS=()
PLAN_SCRIPTS=()
PLAN_TABLES=() # the table names of each script, space-separated
DATABASES=()
read -r -a plan_entries <<<"$DB_INIT_PLAN"
((${#plan_entries[@]} > 0)) || die 2 "DB_INIT_PLAN is empty"
for entry in "${plan_entries[@]}"; do
    [[ $entry == *:* ]] || die 2 "DB_INIT_PLAN entry '$entry' is not DATABASE:script[,script]"
    db=${entry%%:*}
    list=${entry#*:}
    [[ $db =~ ^[A-Za-z0-9_]{1,64}$ ]] || die 2 "database name '$db' in DB_INIT_PLAN: use letters, digits and _ only"
    [[ -n $list ]] || die 2 "DB_INIT_PLAN entry '$entry' names no script"
    known=0
    for d in "${DATABASES[@]}"; do [[ $d == "$db" ]] && known=1; done
    ((known)) || DATABASES+=("$db")
    IFS=, read -r -a scripts <<<"$list"
    for s in "${scripts[@]}"; do
        [[ -n $s ]] || die 2 "empty script name in DB_INIT_PLAN entry '$entry'"
        [[ ${#s} -le 255 && $s != /* && $s != *..* ]] || die 2 "script '$s' must be a path relative to IS_HOME, without '..'"
        check_dbscript "$db" "$s"
        PLAN_DBS+=("$db")
        PLAN_SCRIPTS+=("$s")
    done
done
mysql_client
CLIENT_VERSION=$MYSQL_CLIENT_VERSION
CLIENT_FLAVOUR=$MYSQL_CLIENT_FLAVOUR
WORK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/wso2is-db-init.XXXXXX")
DEFAULTS_FILE=$WORK_DIR/client.cnf
APP_DEFAULTS_FILE=$WORK_DIR/app.cnf
PROBE_ERR=$WORK_DIR/probe.err
SESSION_ERR=$WORK_DIR/session.err
SESSION_PID=""
cleanup() {
    if [[ -n $SESSION_PID ]] && kill -0 "$SESSION_PID" 2>/dev/null; then
        kill "$SESSION_PID" 2>/dev/null || true
        wait "$SESSION_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap '' PIPE
mysql_defaults_file "$DEFAULTS_FILE" "$WSO2_DB_ADMIN_USER" "$WSO2_DB_ADMIN_PASSWORD"
mysql_cmd() { "$MYSQL_BIN" --defaults-extra-file="$DEFAULTS_FILE" --batch --skip-column-names "$@"; }
check_tls() {
    if [[ $DB_TLS == required && -z $1 ]]; then
        die 4 "DB_TLS=required but the connection to $DB_HOST:$DB_PORT is not encrypted (server offers no TLS?); refusing to continue"
    fi
}
ssl_cipher_of() {
    local line
    while IFS= read -r line; do
        if [[ $line == Ssl_cipher$'\t'* ]]; then
            printf '%s' "${line#Ssl_cipher$'\t'}"
            return 0
        fi
    done < <(printf '%s\n' "$@")
}
log "waiting for $DB_HOST:$DB_PORT as '$WSO2_DB_ADMIN_USER' (client: $CLIENT_VERSION; TLS $DB_TLS; up to $RETRIES attempts, ${RETRY_DELAY}s apart)"
attempt=0
last_error=""
while :; do
    attempt=$((attempt + 1))
    if out=$(mysql_cmd -e "SHOW SESSION STATUS LIKE 'Ssl_cipher'" 2>"$PROBE_ERR"); then
        cipher=$(ssl_cipher_of "$out")
        check_tls "$cipher"
        log "connected on attempt $attempt${cipher:+ (TLS: $cipher)}"
        break
    fi
    last_error=$(tr '\n' ' ' <"$PROBE_ERR")
    code=""
    [[ $last_error =~ ERROR\ ([0-9]+) ]] && code=${BASH_REMATCH[1]}
    case $code in
        1044 | 1045 | 1698)
            die 4 "access denied for user '$WSO2_DB_ADMIN_USER' at $DB_HOST:$DB_PORT (check WSO2_DB_ADMIN_USER / WSO2_DB_ADMIN_PASSWORD); not retrying: $last_error"
            ;;
        1129 | 1130 | 1251 | 2059)
            die 4 "the server at $DB_HOST:$DB_PORT refuses user '$WSO2_DB_ADMIN_USER' from this host or its auth method; not retrying: $last_error"
            ;;
        2026 | 3159)
            die 4 "TLS problem with $DB_HOST:$DB_PORT (DB_TLS=$DB_TLS); not retrying: $last_error"
            ;;
    esac
    if ((attempt >= RETRIES)); then
        die 3 "could not connect to the database server at $DB_HOST:$DB_PORT (unreachable) after $attempt attempts: $last_error"
    fi
    log "attempt $attempt/$RETRIES: cannot connect yet (${last_error:-no error text}); retrying in ${RETRY_DELAY}s"
    sleep "$RETRY_DELAY"
done
for i in "${!PLAN_SCRIPTS[@]}"; do
    scan_dbscript "$IS_HOME/${PLAN_SCRIPTS[$i]}"
    ((${#SCAN_TABLES[@]} > 0)) || die 2 "dbscript $IS_HOME/${PLAN_SCRIPTS[$i]} (database ${PLAN_DBS[$i]}) creates no table: not a WSO2 schema script. $(layout_hint)"
    PLAN_TABLES+=("${SCAN_TABLES[*]}")
done
SESSION_OPTS=(--unbuffered)
[[ $CLIENT_FLAVOUR == mariadb ]] && SESSION_OPTS+=(--abort-source-on-error)
: >"$SESSION_ERR" # exists before the client starts: sql() measures it
coproc DBSESSION { exec "$MYSQL_BIN" --defaults-extra-file="$DEFAULTS_FILE" --batch --skip-column-names "${SESSION_OPTS[@]}" 2>>"$SESSION_ERR"; }
# shellcheck disable=SC2153 # DBSESSION_PID is set by the coproc above, not a misspelling
SESSION_PID=$DBSESSION_PID
exec {SQL_IN}>&"${DBSESSION[1]}" {SQL_OUT}<&"${DBSESSION[0]}"
SQL_RESULT=()
session_error() {
    local what=$1 code=$2 detail
    detail=$(tr '\n' ' ' <"$SESSION_ERR" | sed -e 's/-\{5,\}//g' -e 's/  */ /g')
    die "$code" "$what failed: ${detail:-mysql client session ended unexpectedly}"
}
sql() {
    local what=$1 timeout=$2 statements=$3 line rc err_size
    SQL_RESULT=()
    err_size=$(stat -c %s "$SESSION_ERR")
    if ! { printf '%s\nSELECT '\''%s'\'';\n' "$statements" "$MARKER" 1>&"$SQL_IN"; } 2>/dev/null; then
        session_error "$what" 7
    fi
    while :; do
        rc=0
        IFS= read -r -t "$timeout" -u "$SQL_OUT" line || rc=$?
        if ((rc > 128)); then
            die 7 "$what: no answer from the database within ${timeout}s"
        elif ((rc != 0)); then
            wait "$SESSION_PID" 2>/dev/null || true
            SESSION_PID=""
            session_error "$what" 6
        fi
        [[ $line == "$MARKER" ]] && break
        SQL_RESULT+=("$line")
    done
    if (($(stat -c %s "$SESSION_ERR") > err_size)); then
        local new
        new=$(tail -c +"$((err_size + 1))" "$SESSION_ERR")
        if [[ $new == *ERROR* ]]; then
            die 6 "$what failed: $(printf '%s' "$new" | tr '\n' ' ' | sed -e 's/-\{5,\}//g' -e 's/  */ /g')"
        fi
        log "client said: $(printf '%s' "$new" | tr '\n' ' ')"
    fi
}
sql_value() {
    sql "$1" "$STATEMENT_TIMEOUT" "$2"
    SQL_VALUE=${SQL_RESULT[0]:-}
}
sql "opening the session" 60 "SELECT 1;"
sql "checking TLS" 60 "SHOW SESSION STATUS LIKE 'Ssl_cipher';"
check_tls "$(ssl_cipher_of "${SQL_RESULT[@]}")"
sql_value "reading sql_mode" "SELECT @@SESSION.sql_mode LIKE '%NO_BACKSLASH_ESCAPES%';"
BACKSLASH_ESCAPES=1
[[ $SQL_VALUE == 1 ]] && BACKSLASH_ESCAPES=0
sql_str() {
    local s=$1
    ((BACKSLASH_ESCAPES)) && s=${s//\\/\\\\}
    s=${s//\'/\'\'}
    printf "'%s'" "$s"
}
sql_value "reading the server version" "SELECT VERSION();"
SERVER_VERSION=$SQL_VALUE
log "waiting for lock '$LOCK_NAME' (up to ${LOCK_TIMEOUT}s)"
lock_started=$SECONDS
sql "taking lock '$LOCK_NAME'" "$((LOCK_TIMEOUT + 60))" "SELECT GET_LOCK('$LOCK_NAME', $LOCK_TIMEOUT);"
SQL_VALUE=${SQL_RESULT[0]:-}
if [[ $SQL_VALUE != 1 ]]; then
    die 5 "could not get lock '$LOCK_NAME' on $DB_HOST:$DB_PORT within ${LOCK_TIMEOUT}s (GET_LOCK returned ${SQL_VALUE:-nothing}); another node may be stuck initialising"
fi
log "lock '$LOCK_NAME' held (waited $((SECONDS - lock_started))s)"
APP_USER_SQL="$(sql_str "$DB_APP_USER")@'%'"
for db in "${DATABASES[@]}"; do
    sql "creating database $db" "$STATEMENT_TIMEOUT" \
        "CREATE DATABASE IF NOT EXISTS \`$db\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE TABLE IF NOT EXISTS \`$db\`.\`$HISTORY_TABLE\` (
  script VARCHAR(255) NOT NULL PRIMARY KEY,
  outcome VARCHAR(32) NOT NULL,
  started_at TIMESTAMP NULL DEFAULT NULL,
  finished_at TIMESTAMP NULL DEFAULT NULL,
  node VARCHAR(255) NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;"
    sql_value "reading the character set of $db" \
        "SELECT DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '$db';"
    if [[ $SQL_VALUE != utf8mb4 ]]; then
        log "WARNING: database $db existed with default character set '$SQL_VALUE', not utf8mb4: its consent and shared tables follow it, so user names and consent text outside '$SQL_VALUE' will be refused (docs/database.md)"
    fi
done
app_password_accepted() {
    local out err code="" rc=0 login_timeout=60
    mysql_defaults_file "$APP_DEFAULTS_FILE" "$DB_APP_USER" "$WSO2_DB_PASSWORD"
    out=$(timeout "$login_timeout" "$MYSQL_BIN" --defaults-extra-file="$APP_DEFAULTS_FILE" --batch \
        --skip-column-names -e "SHOW SESSION STATUS LIKE 'Ssl_cipher'" 2>"$PROBE_ERR") || rc=$?
    rm -f -- "$APP_DEFAULTS_FILE"
    if ((rc == 0)); then
        check_tls "$(ssl_cipher_of "$out")"
        return 0
    fi
    err=$(tr '\n' ' ' <"$PROBE_ERR")
    ((rc == 124)) && die 3 "the login of user '$DB_APP_USER' hung for ${login_timeout}s: its password is left as it is"
    [[ $err =~ ERROR\ ([0-9]+) ]] && code=${BASH_REMATCH[1]}
    case $code in
        1045) return 1 ;;
        2002 | 2003 | 2005 | 2006 | 2013 | 1040 | 1203 | 1226)
            die 3 "could not tell whether user '$DB_APP_USER' accepts WSO2_DB_PASSWORD (its login did not get through: the server is unreachable or busy; it is left as it is, the bootstrap tries again): $err"
            ;;
    esac
    die 4 "could not tell whether user '$DB_APP_USER' accepts WSO2_DB_PASSWORD (its login was refused, not with access denied): its password is left as it is: $err"
}
sql_value "looking for user '$DB_APP_USER'" \
    "SELECT COUNT(*) FROM mysql.user WHERE User = $(sql_str "$DB_APP_USER") AND Host = '%';"
app_pw_sql=$(sql_str "$WSO2_DB_PASSWORD")
if [[ $SQL_VALUE == 0 ]]; then
    sql "creating user '$DB_APP_USER'" "$STATEMENT_TIMEOUT" \
        "CREATE USER IF NOT EXISTS $APP_USER_SQL IDENTIFIED BY $app_pw_sql;"
    log "user '$DB_APP_USER' created"
elif app_password_accepted; then
    log "user '$DB_APP_USER' accepts WSO2_DB_PASSWORD: its password is current, not changed"
else
    mode=$(app_password_change "$SERVER_VERSION")
    sql "changing the password of user '$DB_APP_USER'" "$STATEMENT_TIMEOUT" \
        "$(app_password_sql "$mode" "$APP_USER_SQL" "$app_pw_sql")"
    if [[ $mode == retain ]]; then
        log "user '$DB_APP_USER': WSO2_DB_PASSWORD set, the previous password kept as its secondary (RETAIN CURRENT PASSWORD): nodes not yet replaced keep connecting with it; it stays valid until the next rotation or ALTER USER $APP_USER_SQL DISCARD OLD PASSWORD (docs/database.md)"
    else
        log "WARNING: user '$DB_APP_USER': WSO2_DB_PASSWORD set with a plain ALTER USER: the server ($SERVER_VERSION) has no dual passwords (MySQL 8.0.14+), so nodes still on the previous password cannot open new database connections until they are replaced (docs/database.md)"
    fi
fi
unset app_pw_sql
for db in "${DATABASES[@]}"; do
    sql "granting $db to '$DB_APP_USER'" "$STATEMENT_TIMEOUT" \
        "GRANT ALL PRIVILEGES ON \`$db\`.* TO $APP_USER_SQL;"
done
NODE_ID=${HOSTNAME:-unknown}
node_lit=$(sql_str "$NODE_ID")
applied=0
skipped_recorded=0
adopted=0
for i in "${!PLAN_SCRIPTS[@]}"; do
    db=${PLAN_DBS[$i]}
    script=${PLAN_SCRIPTS[$i]}
    file=$IS_HOME/$script
    script_lit=$(sql_str "$script")
    sql "reading the history of $db" "$STATEMENT_TIMEOUT" \
        "SELECT outcome, COALESCE(started_at, '-'), COALESCE(node, '-') FROM \`$db\`.\`$HISTORY_TABLE\` WHERE script = $script_lit;"
    outcome="" started_at="" started_by=""
    [[ -n ${SQL_RESULT[0]:-} ]] && IFS=$'\t' read -r outcome started_at started_by <<<"${SQL_RESULT[0]}"
    case $outcome in
        applied | adopted)
            log "$db: $script already recorded ($outcome), skipped"
            skipped_recorded=$((skipped_recorded + 1))
            continue
            ;;
    esac
    tables=()
    declare -A seen=()
    for t in ${PLAN_TABLES[$i],,}; do
        [[ -n ${seen[$t]:-} ]] || tables+=("$t")
        seen[$t]=1
    done
    unset seen
    in_list=$(printf "'%s'," "${tables[@]}")
    sql "looking for the tables of $script in $db" "$STATEMENT_TIMEOUT" \
        "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = '$db' AND LOWER(TABLE_NAME) IN (${in_list%,}) ORDER BY TABLE_NAME;"
    present=("${SQL_RESULT[@]}")
    if [[ -z $outcome && ${#present[@]} -eq ${#tables[@]} ]]; then
        sql "recording $script in $db" "$STATEMENT_TIMEOUT" \
            "INSERT INTO \`$db\`.\`$HISTORY_TABLE\` (script, outcome, finished_at, node) VALUES ($script_lit, 'adopted', CURRENT_TIMESTAMP, $node_lit);"
        log "$db: all ${#tables[@]} tables of $script exist but db-init never recorded it: adopted as applied (an earlier install), not run again"
        adopted=$((adopted + 1))
        continue
    fi
    if ((${#present[@]} > 0)); then
        if [[ -n $outcome ]]; then
            why="an earlier attempt to apply it (node $started_by, started $started_at UTC) did not finish"
            cleanup_hint=", then DELETE FROM \`$db\`.\`$HISTORY_TABLE\` WHERE script = $script_lit"
        else
            why="it was never recorded as applied"
            cleanup_hint=""
        fi
        die 8 "database $db is half-applied: $why, and ${#present[@]} of the ${#tables[@]} tables of $script exist: ${present[*]}. IS must not start on this schema, and db-init removes nothing. Either restore $db from a backup taken before the first attempt, or remove the ${#present[@]} tables listed here by hand${cleanup_hint}; then run db-init again (reboot the node)"
    fi
    [[ -n $outcome ]] && log "$db: an earlier attempt to apply $script (node $started_by, started $started_at UTC) left none of its tables: applying it again"
    log "$db: applying $script (${#tables[@]} tables)"
    started=$SECONDS
    sql "recording the start of $script in $db" "$STATEMENT_TIMEOUT" \
        "INSERT INTO \`$db\`.\`$HISTORY_TABLE\` (script, outcome, started_at, node) VALUES ($script_lit, 'started', CURRENT_TIMESTAMP, $node_lit)
  ON DUPLICATE KEY UPDATE outcome = 'started', started_at = CURRENT_TIMESTAMP, finished_at = NULL, node = $node_lit;"
    sql "applying $script to database $db" "$STATEMENT_TIMEOUT" "USE \`$db\`;
source $file
DELIMITER ;"
    sql "checking the tables of $script in $db" "$STATEMENT_TIMEOUT" \
        "SELECT LOWER(TABLE_NAME) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '$db' AND LOWER(TABLE_NAME) IN (${in_list%,});"
    if ((${#SQL_RESULT[@]} != ${#tables[@]})); then
        missing=()
        for t in "${tables[@]}"; do
            [[ " ${SQL_RESULT[*]} " == *" $t "* ]] || missing+=("$t")
        done
        die 6 "applying $script to database $db: the script ran but ${#missing[@]} of its ${#tables[@]} tables are missing: ${missing[*]}; not recorded as applied"
    fi
    sql "recording $script in $db" "$STATEMENT_TIMEOUT" \
        "UPDATE \`$db\`.\`$HISTORY_TABLE\` SET outcome = 'applied', finished_at = CURRENT_TIMESTAMP WHERE script = $script_lit;"
    log "$db: $script applied in $((SECONDS - started))s"
    applied=$((applied + 1))
done
GATE_DB=${DATABASES[0]}
sql "creating the first-start gate in $GATE_DB" "$STATEMENT_TIMEOUT" \
    "CREATE TABLE IF NOT EXISTS \`$GATE_DB\`.\`$GATE_TABLE\` (
  id TINYINT NOT NULL PRIMARY KEY,
  holder VARCHAR(255) NULL,
  acquired_at DATETIME(6) NULL,
  heartbeat_at DATETIME(6) NULL,
  done_at DATETIME(6) NULL,
  done_by VARCHAR(255) NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT IGNORE INTO \`$GATE_DB\`.\`$GATE_TABLE\` (id) VALUES (1);
GRANT SELECT, UPDATE ON \`$GATE_DB\`.\`$GATE_TABLE\` TO $APP_USER_SQL;"
sql "releasing lock '$LOCK_NAME'" 60 "DO RELEASE_LOCK('$LOCK_NAME');"
{ printf 'quit\n' 1>&"$SQL_IN"; } 2>/dev/null || true
exec {SQL_IN}>&-
wait "$SESSION_PID" 2>/dev/null || true
SESSION_PID=""
exec {SQL_OUT}<&-
skipped=$((skipped_recorded + adopted))
log "done: applied $applied, skipped $skipped ($skipped_recorded already recorded, $adopted adopted) on ${#DATABASES[@]} database(s) at $DB_HOST:$DB_PORT"
