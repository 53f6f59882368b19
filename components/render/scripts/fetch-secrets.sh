#!/usr/bin/env bash
# fetch-secrets.sh: reads the cluster secret (one JSON document, see CONTRACT.md) with the node's
# own cloud identity and writes what IS needs as /etc/wso2is/secrets.env (mode 0600, root) for the
# systemd unit (EnvironmentFile=), and builds the keystores IS reads.
#
# Parameters (from node.env, see CONTRACT.md): SECRET_SOURCE (aws-secrets-manager |
# azure-key-vault), SECRET_ID, AWS_REGION (aws), SECRET_FETCH_RETRIES and
# SECRET_FETCH_RETRY_DELAY (azure, required: the wait for the VM's Key Vault role; a value in the
# environment wins, lib.sh load_env), AZURE_CLIENT_ID (azure, optional: picks a
# user-assigned managed identity when the VM has several), SMB_CREDENTIALS_FILE (SMB shares
# only: also write the secret's smbUsername/smbPassword there as a cifs credentials file, 0600),
# SIGNING_KEYSTORE_FILE, SIGNING_KEYSTORE_ALIAS (the cluster's own primary keystore: a PKCS#12
# from signingCertificate/signingPrivateKey/signingKeystorePassword for [keystore.primary] and
# [keystore.internal]; its certificate is also added to IS's client truststore),
# TLS_KEYSTORE_FILE, TLS_KEYSTORE_ALIAS, TLS_CA_ALIAS (when the load balancer verifies the nodes'
# 9443 certificate: build that PKCS#12 keystore from the secret's tlsCertificate/tlsPrivateKey/
# tlsKeystorePassword for IS's [keystore.tls], and add tlsCaCertificate to IS's client truststore,
# whose password is IS's published default unless TLS_TRUSTSTORE_STOREPASS says otherwise).
# WSO2IS_DB_ADMIN_ENV (environment, set by the step that runs db-init): also write the database
# admin pair and the app password, as they are, to that file (0600, root) for db-init.sh; the
# caller removes it afterwards. secrets.env never holds the admin pair.
# AWS: Secrets Manager's GetSecretValue through aws-api.sh (beside this script: curl --aws-sigv4
# with the instance role from IMDSv2, its own retries, AWS_API_RETRIES; no AWS CLI).
# Overrides (tests): WSO2IS_NODE_ENV, WSO2IS_SECRETS_ENV, those of aws-api.sh,
# WSO2IS_IMDS_ENDPOINT (default http://169.254.169.254).
#
# Secret values never reach argv, the log or a file other than the ones named here.
# Quoting: every value is written single-quoted, a ' inside it as '"'"' . Both bash and systemd
# (env-file parser: after a closing quote it reads the next quoted segment and concatenates) read
# that back byte for byte, so quotes, $, `, \ and spaces round-trip. Control characters (newline,
# tab, ...) are refused: they have no portable env-file form.
# Values IS reads through $env{} are written in the form IS needs (see is_value below).
# IS's config tool writes the resolved values into IS_HOME (repository/conf/*.xml and
# repository/resources/conf/.metadata), so IS_HOME is made unreadable to other users (0750).
# Idempotent: an unchanged secret leaves every file untouched.
set -Eeuo pipefail
umask 077

# shellcheck disable=SC2034 # read by lib.sh
readonly PROG=fetch-secrets.sh

# shellcheck source=/dev/null
source "${WSO2IS_LIB:-$(dirname -- "${BASH_SOURCE[0]}")/lib.sh}"

NODE_ENV_FILE=${WSO2IS_NODE_ENV:-/etc/wso2is/node.env}
SECRETS_ENV_FILE=${WSO2IS_SECRETS_ENV:-/etc/wso2is/secrets.env}
IMDS=${WSO2IS_IMDS_ENDPOINT:-http://169.254.169.254}
IMDS=${IMDS%/}

load_env --export "$NODE_ENV_FILE"

[[ -n ${SECRET_SOURCE:-} ]] || die "SECRET_SOURCE is not set in $NODE_ENV_FILE"
[[ -n ${SECRET_ID:-} ]] || die "SECRET_ID is not set in $NODE_ENV_FILE"
command -v jq >/dev/null || die "jq is not installed (bootstrap.sh installs NODE_PACKAGES)"

# GetSecretValue (AWS JSON 1.1 protocol); aws_request retries and logs by itself.
aws_secret() {
    local request
    request=$(jq -cn --arg id "$SECRET_ID" '{SecretId: $id}')
    aws_request "$AWS_REGION" secretsmanager POST "$(aws_endpoint secretsmanager "$AWS_REGION")/" - \
        -H "X-Amz-Target: secretsmanager.GetSecretValue" \
        -H "Content-Type: application/x-amz-json-1.1" --data-binary "$request" |
        jq -er .SecretString
}

azure_token() {
    local url="$IMDS/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net"
    [[ -z ${AZURE_CLIENT_ID:-} ]] || url+="&client_id=$AZURE_CLIENT_ID"
    curl --fail --silent --show-error --noproxy '*' --connect-timeout 2 --max-time 10 \
        -H "Metadata: true" "$url"
}

# The bearer token reaches curl through its config on stdin, never through argv.
azure_secret() {
    printf 'header = "Authorization: Bearer %s"\n' "$1" |
        curl --fail --silent --show-error --connect-timeout 5 --max-time 20 -K - \
            "$SECRET_ID?api-version=7.4"
}

# Before a restart of IS (wso2is.service sets SECRET_FETCH_KEEP_CURRENT=1) an unreachable secret
# store must not keep down a node that has what it needs on disk: it keeps the files it fetched
# before, loudly. The bootstrap (first boot) still fails, and retries.
cannot_fetch() {
    if [[ ${SECRET_FETCH_KEEP_CURRENT:-0} == 1 && -s $SECRETS_ENV_FILE ]]; then
        log "WARNING: $*; keeping the secrets fetched before ($SECRETS_ENV_FILE) for this start"
        exit 0
    fi
    die "$*"
}

case $SECRET_SOURCE in
    aws-secrets-manager)
        [[ -n ${AWS_REGION:-} ]] || die "AWS_REGION is not set in $NODE_ENV_FILE"
        # shellcheck source=/dev/null
        source "$(dirname "${BASH_SOURCE[0]}")/aws-api.sh"
        secret=$(aws_secret) ||
            cannot_fetch "could not read $SECRET_ID from Secrets Manager in $AWS_REGION (does the node role allow secretsmanager:GetSecretValue?)"
        ;;
    azure-key-vault)
        # A new VM's identity gets its Key Vault role only after the VM exists; the wait for it
        # to propagate is node.env's (components/model/boot.ts secretFetchSeconds).
        require_vars "node.env: $NODE_ENV_FILE" SECRET_FETCH_RETRIES SECRET_FETCH_RETRY_DELAY
        [[ $SECRET_FETCH_RETRIES =~ ^[1-9][0-9]*$ ]] ||
            die "SECRET_FETCH_RETRIES must be a positive integer, got '$SECRET_FETCH_RETRIES'"
        [[ $SECRET_FETCH_RETRY_DELAY =~ ^[0-9]+$ ]] ||
            die "SECRET_FETCH_RETRY_DELAY must be a non-negative integer, got '$SECRET_FETCH_RETRY_DELAY'"
        [[ $SECRET_ID =~ ^https://[^/]+/secrets/[^/?#]+(/[^/?#]+)?$ || $SECRET_ID =~ ^http://(127\.0\.0\.1|localhost):[0-9]+/secrets/[^/?#]+(/[^/?#]+)?$ ]] ||
            die "SECRET_ID '$SECRET_ID' is not a Key Vault secret URL (https://<vault>.vault.azure.net/secrets/<name>)"
        token_json=$(retry "$SECRET_FETCH_RETRIES" "$SECRET_FETCH_RETRY_DELAY" "$SECRET_FETCH_RETRY_DELAY" "managed identity token from $IMDS" azure_token) ||
            cannot_fetch "could not get a managed identity token for Key Vault from $IMDS (does the VM have an identity?)"
        token=$(jq -er '.access_token | strings' <<<"$token_json" 2>/dev/null) ||
            die "the managed identity answer has no access_token"
        unset token_json
        response=$(retry "$SECRET_FETCH_RETRIES" "$SECRET_FETCH_RETRY_DELAY" "$SECRET_FETCH_RETRY_DELAY" "Key Vault GET $SECRET_ID" azure_secret "$token") ||
            cannot_fetch "could not read $SECRET_ID from Key Vault (does the identity have the Key Vault Secrets User role?)"
        unset token
        secret=$(jq -er '.value | strings' <<<"$response" 2>/dev/null) ||
            die "the Key Vault answer for $SECRET_ID has no string .value"
        unset response
        ;;
    *)
        die "unknown SECRET_SOURCE '$SECRET_SOURCE' (expected aws-secrets-manager or azure-key-vault)"
        ;;
esac

# JSON -> env file. The error messages name keys only, never values.
# shellcheck disable=SC2016 # jq programs, not shell strings
readonly JQ_LIB='
def q: $sq + gsub($sq; $sq + "\"" + $sq + "\"" + $sq) + $sq;
def need($k):
  if (.[$k] | type) != "string" or .[$k] == "" then
    error("key \($k) is missing, empty or not a string")
  elif (.[$k] | explode | any(. < 32 or . == 127)) then
    error("key \($k) contains a control character (newline, tab, ...), which an env file cannot carry")
  else .[$k] end;
def object: if type != "object" then error("it is not a JSON object") else . end;
# IS (config-mapper 1.0.22, ReferenceResolver) puts a $env{} value into its XML with
# String.replaceAll (so $ and \ are special) before $ref{} resolution, and Jinjava writes it
# unescaped; XML character references for these characters survive every step and the XML
# parser turns them back into the characters. Non-ASCII too: the JVM decodes its environment
# with the charset of the locale.
def is_value: explode | map(. as $c | if $c > 126 or ([38, 60, 62, 34, 39, 36, 92, 123, 125] | any(. == $c)) then "&#\($c);" else [$c] | implode end) | join("");
def hexkey($k):
  if (.[$k] | type) != "string" or (.[$k] | test("^[0-9a-fA-F]{32}$") | not) then
    error("key \($k) is missing or not 32 hex digits (a 128-bit key)")
  else .[$k] end;
def pem($k):
  if (.[$k] | type) != "string" or (.[$k] | test("-----BEGIN [A-Z0-9 ]+-----") | not) then
    error("key \($k) is missing or not PEM")
  elif (.[$k] | explode | any((. < 32 and . != 10 and . != 13) or . == 127)) then
    error("key \($k) contains a control character")
  else .[$k] end;'
# shellcheck disable=SC2016
readonly JQ_PROGRAM=$JQ_LIB'
object |
  "WSO2_DB_PASSWORD=\(need("dbAppPassword") | is_value | q)",
  "WSO2_ADMIN_PASSWORD=\(need("adminPassword") | is_value | q)",
  "WSO2_ENCRYPTION_KEY=\(hexkey("encryptionKey") | q)",
  (if $signing == "1" then "WSO2_SIGNING_KEYSTORE_PASSWORD=\(need("signingKeystorePassword") | is_value | q)" else empty end),
  (if $tls == "1" then "WSO2_TLS_KEYSTORE_PASSWORD=\(need("tlsKeystorePassword") | is_value | q)" else empty end)'
# db-init.sh only (bash `source`): the values as they are.
# shellcheck disable=SC2016
readonly JQ_DB_ADMIN_PROGRAM=$JQ_LIB'
object |
  "WSO2_DB_ADMIN_USER=\(need("dbAdminUser") | q)",
  "WSO2_DB_ADMIN_PASSWORD=\(need("dbAdminPassword") | q)",
  "WSO2_DB_PASSWORD=\(need("dbAppPassword") | q)"'
# mount.cifs credentials: key=value lines, the value verbatim up to the end of the line.
# shellcheck disable=SC2016
readonly JQ_SMB_PROGRAM=$JQ_LIB'
object |
  "username=\(need("smbUsername"))",
  "password=\(need("smbPassword"))"'

for var in SMB_CREDENTIALS_FILE SIGNING_KEYSTORE_FILE TLS_KEYSTORE_FILE WSO2IS_DB_ADMIN_ENV; do
    [[ -z ${!var:-} || ${!var} == /* ]] || die "$var must be an absolute path, got '${!var}'"
done
if [[ -n ${SIGNING_KEYSTORE_FILE:-} || -n ${TLS_KEYSTORE_FILE:-} ]]; then
    [[ -z ${SIGNING_KEYSTORE_FILE:-} || -n ${SIGNING_KEYSTORE_ALIAS:-} ]] || die "SIGNING_KEYSTORE_ALIAS must be set with SIGNING_KEYSTORE_FILE"
    [[ -z ${TLS_KEYSTORE_FILE:-} || (-n ${TLS_KEYSTORE_ALIAS:-} && -n ${TLS_CA_ALIAS:-}) ]] || die "TLS_KEYSTORE_ALIAS and TLS_CA_ALIAS must be set with TLS_KEYSTORE_FILE"
    [[ -n ${IS_USER:-} && -n ${IS_HOME:-} ]] || die "IS_USER and IS_HOME must be set with SIGNING_KEYSTORE_FILE or TLS_KEYSTORE_FILE"
    command -v openssl >/dev/null || die "openssl is not installed"
    command -v keytool >/dev/null || die "keytool is not installed (it comes with the JRE)"
fi

tmp=
smb_tmp=
db_tmp=
rendered=
parts=
trap 'rm -f -- ${tmp:+"$tmp"} ${smb_tmp:+"$smb_tmp"} ${db_tmp:+"$db_tmp"} ${rendered:+"$rendered"}; rm -rf -- ${parts:+"$parts"}' EXIT

# render PROGRAM DEST: runs the jq PROGRAM on the secret into a new temp file beside DEST, named
# in $rendered; dies naming the problem (jq reports positions and our key names, never input).
render() {
    local program=$1 dest=$2 dir jq_err
    dir=$(dirname -- "$dest")
    if [[ ! -d $dir ]]; then
        (umask 022 && mkdir -p -- "$dir")
    fi
    rendered=$(mktemp "$dir/.$(basename -- "$dest").XXXXXX")
    if ! jq_err=$(jq -r --arg sq "'" --arg tls "${TLS_KEYSTORE_FILE:+1}" --arg signing "${SIGNING_KEYSTORE_FILE:+1}" \
        "$program" <<<"$secret" 2>&1 >"$rendered"); then
        rm -f -- "$rendered"
        jq_err=${jq_err//$'\n'/ }
        die "the secret $SECRET_ID is not usable: ${jq_err#jq: error (at <stdin>:*): }"
    fi
    chmod 0600 -- "$rendered"
}

# install TMP DEST: DEST becomes TMP (mode 0600) unless it already holds the same bytes.
install_file() {
    local from=$1 dest=$2
    if [[ -f $dest ]] && cmp -s -- "$from" "$dest" && [[ $(stat -c %a -- "$dest") == 600 ]]; then
        rm -f -- "$from"
        log "$dest already up to date"
        return 0
    fi
    mv -f -- "$from" "$dest"
    log "wrote $dest (mode 0600) from $SECRET_SOURCE"
}

# extract NAME KEY...: the secret's PEM/password KEYs, checked, parked in $parts/NAME.<key>
# (0600 in a 0700 directory) before anything is replaced.
extract() {
    local name=$1 key jq_err
    shift
    for key in "$@"; do
        # shellcheck disable=SC2016
        if ! jq_err=$(jq -j --arg k "$key" --arg sq "'" "$JQ_LIB"' object | if $k | endswith("Password") then need($k) else pem($k) end' \
            <<<"$secret" 2>&1 >"$parts/$name.$key"); then
            jq_err=${jq_err//$'\n'/ }
            die "the secret $SECRET_ID is not usable: ${jq_err#jq: error (at <stdin>:*): }"
        fi
    done
}

# Every file is rendered (and so checked) before any is replaced.
render "$JQ_PROGRAM" "$SECRETS_ENV_FILE"
tmp=$rendered
if [[ -n ${SMB_CREDENTIALS_FILE:-} ]]; then
    render "$JQ_SMB_PROGRAM" "$SMB_CREDENTIALS_FILE"
    smb_tmp=$rendered
fi
if [[ -n ${WSO2IS_DB_ADMIN_ENV:-} ]]; then
    render "$JQ_DB_ADMIN_PROGRAM" "$WSO2IS_DB_ADMIN_ENV"
    db_tmp=$rendered
fi
if [[ -n ${SIGNING_KEYSTORE_FILE:-} || -n ${TLS_KEYSTORE_FILE:-} ]]; then
    parts=$(mktemp -d "$(dirname -- "$SECRETS_ENV_FILE")/.keys.XXXXXX")
    [[ -z ${SIGNING_KEYSTORE_FILE:-} ]] ||
        extract signing signingCertificate signingPrivateKey signingKeystorePassword
    [[ -z ${TLS_KEYSTORE_FILE:-} ]] ||
        extract tls tlsCertificate tlsPrivateKey tlsCaCertificate tlsKeystorePassword
fi
unset secret
install_file "$tmp" "$SECRETS_ENV_FILE"
tmp=
if [[ -n $smb_tmp ]]; then
    install_file "$smb_tmp" "$SMB_CREDENTIALS_FILE"
    smb_tmp=
fi
if [[ -n $db_tmp ]]; then
    install_file "$db_tmp" "$WSO2IS_DB_ADMIN_ENV"
    db_tmp=
fi

# install_keystore FILE ALIAS CERT KEY PASS [CA]: the PKCS#12 at FILE, readable by IS's group.
# Rebuilt only when its inputs change (a digest of them sits beside it, root-only); CA (the
# 9443 keystore's issuer) counts as an input: a new CA means a re-created cluster PKI.
install_keystore() {
    local file=$1 alias=$2 cert=$3 key=$4 pass=$5 ca=${6:-/dev/null} stamp ks_tmp err
    stamp=$(printf '%s\0' "$alias" | cat - "$cert" "$key" "$pass" "$ca" | sha256sum)
    stamp=${stamp%% *}
    if [[ -f $file && -f $file.sha256 && $(<"$file.sha256") == "$stamp" ]]; then
        log "$file already up to date"
        return 0
    fi
    ks_tmp=$(mktemp "$(dirname -- "$file")/.keystore.XXXXXX")
    # The password reaches openssl through its environment, never argv.
    if ! err=$(WSO2IS_KEYSTORE_PASS=$(<"$pass") openssl pkcs12 -export -name "$alias" \
        -in "$cert" -inkey "$key" -passout env:WSO2IS_KEYSTORE_PASS -out "$ks_tmp" 2>&1); then
        rm -f -- "$ks_tmp"
        die "could not build $file from the secret's certificate and key: ${err//$'\n'/ }"
    fi
    chgrp -- "$IS_USER" "$ks_tmp"
    chmod 0640 -- "$ks_tmp"
    mv -f -- "$ks_tmp" "$file"
    (umask 077 && printf '%s\n' "$stamp" >"$file.sha256")
    log "wrote $file (alias $alias, mode 0640, group $IS_USER)"
}

# trust ALIAS CERT: IS's client truststore holds CERT under ALIAS (replaced only when it holds
# another certificate). IS calls itself by its public hostname (pinned to this node), and checks
# what its own keys signed.
# What was checked sits beside the truststore, root-only, in TRUSTSTORE.trusted: one line
# "<sha256 of the truststore> <alias> <fingerprint>" per alias found or added. While the
# truststore's bytes are the same, a listed alias is not checked again: each keytool run starts
# a JVM, and this runs before every start of IS.
trust() {
    local alias=$1 cert=$2 dir=$IS_HOME/repository/resources/security truststore='' want have err
    local marker sum new_sum
    for f in client-truststore.p12 client-truststore.jks; do
        if [[ -f $dir/$f ]]; then
            truststore=$dir/$f
            break
        fi
    done
    if [[ -z $truststore ]]; then
        log "warning: no client-truststore.p12/.jks in $dir; IS will not trust $alias"
        return 0
    fi
    marker=$truststore.trusted
    want=$(openssl x509 -in "$cert" -noout -fingerprint -sha256)
    want=${want#*=}
    sum=$(sha256sum <"$truststore")
    sum=${sum%% *}
    if [[ -f $marker ]] && grep -qxF -- "$sum $alias $want" "$marker"; then
        log "$truststore already trusts $alias (unchanged since checked)"
        return 0
    fi
    export WSO2IS_STOREPASS=${TLS_TRUSTSTORE_STOREPASS:-wso2carbon}
    have=$(keytool -list -keystore "$truststore" -storepass:env WSO2IS_STOREPASS -alias "$alias" 2>/dev/null | sed -n 's/^Certificate fingerprint (SHA-256): //p') || have=
    if [[ $have == "$want" ]]; then
        log "$truststore already trusts $alias"
    else
        if [[ -n $have ]] && ! err=$(keytool -delete -keystore "$truststore" -storepass:env WSO2IS_STOREPASS \
            -alias "$alias" 2>&1); then
            die "could not remove the old $alias from $truststore: ${err//$'\n'/ }"
        fi
        if ! err=$(keytool -importcert -noprompt -keystore "$truststore" -storepass:env WSO2IS_STOREPASS \
            -alias "$alias" -file "$cert" 2>&1); then
            die "could not add $alias to $truststore (is TLS_TRUSTSTORE_STOREPASS right?): ${err//$'\n'/ }"
        fi
        log "added $alias to $truststore"
    fi
    # The other aliases checked against the old bytes are untouched by a change to this one: they
    # carry over to the new bytes.
    new_sum=$(sha256sum <"$truststore")
    new_sum=${new_sum%% *}
    (
        umask 077
        {
            if [[ -f $marker ]]; then
                grep -F -- "$sum " "$marker" | grep -vF -- "$sum $alias " | sed "s/^$sum /$new_sum /" || true
            fi
            printf '%s %s %s\n' "$new_sum" "$alias" "$want"
        } >"$marker.tmp"
        mv -f -- "$marker.tmp" "$marker"
    )
}

if [[ -n ${SIGNING_KEYSTORE_FILE:-} ]]; then
    install_keystore "$SIGNING_KEYSTORE_FILE" "$SIGNING_KEYSTORE_ALIAS" "$parts/signing.signingCertificate" \
        "$parts/signing.signingPrivateKey" "$parts/signing.signingKeystorePassword"
    trust "$SIGNING_KEYSTORE_ALIAS" "$parts/signing.signingCertificate"
fi
if [[ -n ${TLS_KEYSTORE_FILE:-} ]]; then
    install_keystore "$TLS_KEYSTORE_FILE" "$TLS_KEYSTORE_ALIAS" "$parts/tls.tlsCertificate" \
        "$parts/tls.tlsPrivateKey" "$parts/tls.tlsKeystorePassword" "$parts/tls.tlsCaCertificate"
    trust "$TLS_CA_ALIAS" "$parts/tls.tlsCaCertificate"
fi

# IS's config tool writes resolved $env{} values into IS_HOME: nobody but IS and root reads it.
if [[ -n ${IS_HOME:-} && -d $IS_HOME && $(stat -c %a -- "$IS_HOME") != 750 ]]; then
    chmod 0750 -- "$IS_HOME"
    log "$IS_HOME made unreadable to other users (0750)"
fi
