#!/usr/bin/env bash
set -euo pipefail
readonly PROG="db-init"
readonly LOCK_NAME="wso2is-db-init"
readonly MARKER="__wso2is_done__"
readonly HISTORY_TABLE="wso2is_schema_history"
log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() {
    local code=$1
    shift
    log "ERROR: $*"
    exit "$code"
}
NODE_ENV_FILE=${WSO2IS_NODE_ENV:-/etc/wso2is/node.env}
SECRETS_ENV_FILE=${WSO2IS_SECRETS_ENV:-/etc/wso2is/secrets.env}
for f in "$NODE_ENV_FILE" "$SECRETS_ENV_FILE"; do
    [[ -r $f ]] || die 2 "cannot read $f"
done
# shellcheck source=/dev/null
source "$NODE_ENV_FILE"
# shellcheck source=/dev/null
source "$SECRETS_ENV_FILE"
for v in IS_HOME DB_HOST DB_PORT DB_TLS DB_APP_USER DB_INIT_PLAN \
    WSO2_DB_ADMIN_USER WSO2_DB_ADMIN_PASSWORD WSO2_DB_PASSWORD; do
    [[ -n ${!v:-} ]] || die 2 "$v is not set (node.env: $NODE_ENV_FILE, secrets.env: $SECRETS_ENV_FILE)"
done
RETRIES=${DB_INIT_RETRIES:-30}
RETRY_DELAY=${DB_INIT_RETRY_DELAY:-5}
LOCK_TIMEOUT=${DB_INIT_LOCK_TIMEOUT:-600}
STATEMENT_TIMEOUT=${DB_INIT_STATEMENT_TIMEOUT:-1800}
for v in RETRIES RETRY_DELAY LOCK_TIMEOUT STATEMENT_TIMEOUT DB_PORT; do
    [[ ${!v} =~ ^[0-9]+$ ]] || die 2 "$v must be a non-negative integer, got '${!v}'"
done
((RETRIES >= 1)) || die 2 "DB_INIT_RETRIES must be at least 1"
((STATEMENT_TIMEOUT >= 1)) || die 2 "DB_INIT_STATEMENT_TIMEOUT must be at least 1"
case $DB_TLS in
    required | disabled) ;;
    *) die 2 "DB_TLS must be 'required' or 'disabled', got '$DB_TLS'" ;;
esac
[[ $DB_HOST =~ ^[A-Za-z0-9._:-]+$ ]] || die 2 "DB_HOST '$DB_HOST' is not a host name or address"
[[ $DB_APP_USER != *$'\n'* && ${#DB_APP_USER} -le 80 ]] || die 2 "DB_APP_USER is not a valid user name"
[[ $WSO2_DB_PASSWORD != *$'\n'* ]] || die 2 "WSO2_DB_PASSWORD must not contain a newline"
PLAN_DBS=()
PLAN_SCRIPTS=()
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
        [[ -f $IS_HOME/$s && -r $IS_HOME/$s ]] || die 2 "dbscript $IS_HOME/$s (database $db) does not exist; is WSO2 IS installed in IS_HOME?"
        PLAN_DBS+=("$db")
        PLAN_SCRIPTS+=("$s")
    done
done
if command -v mariadb >/dev/null 2>&1; then
    MYSQL_BIN=mariadb
elif command -v mysql >/dev/null 2>&1; then
    MYSQL_BIN=mysql
else
    die 2 "no mysql client on PATH (install mysql-client or mariadb-client)"
fi
CLIENT_VERSION=$("$MYSQL_BIN" --version 2>&1) || die 2 "'$MYSQL_BIN --version' failed: $CLIENT_VERSION"
if [[ $CLIENT_VERSION == *MariaDB* ]]; then CLIENT_FLAVOUR=mariadb; else CLIENT_FLAVOUR=mysql; fi
WORK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/wso2is-db-init.XXXXXX")
DEFAULTS_FILE=$WORK_DIR/client.cnf
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
cnf_quote() {
    local s=$1
    s=${s//\\/\\\\}
    s=${s//\"/\\\"}
    s=${s//$'\n'/\\n}
    s=${s//$'\t'/\\t}
    printf '"%s"' "$s"
}
(
    umask 077
    {
        echo "[client]"
        echo "host=$DB_HOST"
        echo "port=$DB_PORT"
        echo "protocol=TCP"
        echo "user=$(cnf_quote "$WSO2_DB_ADMIN_USER")"
        echo "password=$(cnf_quote "$WSO2_DB_ADMIN_PASSWORD")"
        echo "connect-timeout=10"
        echo "default-character-set=utf8mb4"
        if [[ $DB_TLS == required ]]; then
            if [[ $CLIENT_FLAVOUR == mysql ]]; then
                echo "ssl-mode=REQUIRED"
            else
                echo "ssl=1"
            fi
        fi
    } >"$DEFAULTS_FILE"
)
chmod 0600 "$DEFAULTS_FILE"
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
  applied_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  outcome VARCHAR(32) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;"
done
app_pw_sql=$(sql_str "$WSO2_DB_PASSWORD")
sql "creating user '$DB_APP_USER'" "$STATEMENT_TIMEOUT" \
    "CREATE USER IF NOT EXISTS $APP_USER_SQL IDENTIFIED BY $app_pw_sql;
ALTER USER $APP_USER_SQL IDENTIFIED BY $app_pw_sql;"
unset app_pw_sql
for db in "${DATABASES[@]}"; do
    sql "granting $db to '$DB_APP_USER'" "$STATEMENT_TIMEOUT" \
        "GRANT ALL PRIVILEGES ON \`$db\`.* TO $APP_USER_SQL;"
done
script_tables() {
    local id="\`?[[:alnum:]_\$]+\`?"
    sed -E -e 's/--([[:space:]].*)?$//' -e 's/^[[:space:]]*#.*$//' "$1" | tr '\r\n' '  ' |
        { grep -oiE "create[[:space:]]+table[[:space:]]+(if[[:space:]]+not[[:space:]]+exists[[:space:]]+)?(${id}[.])?${id}" || true; } |
        sed -E "s/.*[[:space:].\`]\`?([[:alnum:]_\$]+)\`?\$/\1/"
}
applied=0
skipped_recorded=0
skipped_existing=0
for i in "${!PLAN_SCRIPTS[@]}"; do
    db=${PLAN_DBS[$i]}
    script=${PLAN_SCRIPTS[$i]}
    file=$IS_HOME/$script
    script_lit=$(sql_str "$script")
    sql_value "reading the history of $db" "SELECT COUNT(*) FROM \`$db\`.\`$HISTORY_TABLE\` WHERE script = $script_lit;"
    if [[ $SQL_VALUE != 0 ]]; then
        log "$db: $script already recorded, skipped"
        skipped_recorded=$((skipped_recorded + 1))
        continue
    fi
    mapfile -t tables < <(script_tables "$file")
    if ((${#tables[@]} > 0)); then
        sentinel=${tables[0]}
        sql_value "looking for table $db.$sentinel" \
            "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '$db' AND LOWER(TABLE_NAME) = LOWER('$sentinel');"
        if [[ $SQL_VALUE != 0 ]]; then
            in_list=$(printf "LOWER('%s')," "${tables[@]}")
            sql_value "counting the tables of $script in $db" \
                "SELECT COUNT(DISTINCT LOWER(TABLE_NAME)) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '$db' AND LOWER(TABLE_NAME) IN (${in_list%,});"
            expected=$(printf '%s\n' "${tables[@]}" | tr '[:upper:]' '[:lower:]' | sort -u | wc -l)
            if ((SQL_VALUE < expected)); then
                log "WARNING: $db: $script looks partly applied ($SQL_VALUE of $expected tables exist); recording it as pre-existing anyway, inspect the schema"
            fi
            sql "recording $script in $db" "$STATEMENT_TIMEOUT" \
                "INSERT INTO \`$db\`.\`$HISTORY_TABLE\` (script, outcome) VALUES ($script_lit, 'pre-existing');"
            log "$db: $script: table $sentinel already exists, recorded as pre-existing, skipped"
            skipped_existing=$((skipped_existing + 1))
            continue
        fi
    else
        log "WARNING: $db: $script creates no table I can see; applying it once"
    fi
    log "$db: applying $script"
    started=$SECONDS
    sql "applying $script to database $db" "$STATEMENT_TIMEOUT" "USE \`$db\`;
source $file
DELIMITER ;"
    sql "recording $script in $db" "$STATEMENT_TIMEOUT" \
        "INSERT INTO \`$db\`.\`$HISTORY_TABLE\` (script, outcome) VALUES ($script_lit, 'applied');"
    log "$db: $script applied in $((SECONDS - started))s"
    applied=$((applied + 1))
done
sql "releasing lock '$LOCK_NAME'" 60 "DO RELEASE_LOCK('$LOCK_NAME');"
{ printf 'quit\n' 1>&"$SQL_IN"; } 2>/dev/null || true
exec {SQL_IN}>&-
wait "$SESSION_PID" 2>/dev/null || true
SESSION_PID=""
exec {SQL_OUT}<&-
skipped=$((skipped_recorded + skipped_existing))
log "done: applied $applied, skipped $skipped ($skipped_recorded already recorded, $skipped_existing pre-existing) on ${#DATABASES[@]} database(s) at $DB_HOST:$DB_PORT"
