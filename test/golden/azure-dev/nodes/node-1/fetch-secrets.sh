#!/usr/bin/env bash
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
if [[ ${SECRET_SOURCE:-} == azure-key-vault ]]; then
    RETRIES=${SECRET_FETCH_RETRIES:-60}
    RETRY_DELAY=${SECRET_FETCH_RETRY_DELAY:-10}
else
    RETRIES=${SECRET_FETCH_RETRIES:-10}
    RETRY_DELAY=${SECRET_FETCH_RETRY_DELAY:-5}
fi
[[ $RETRIES =~ ^[1-9][0-9]*$ ]] || die "SECRET_FETCH_RETRIES must be a positive integer, got '$RETRIES'"
[[ $RETRY_DELAY =~ ^[0-9]+$ ]] || die "SECRET_FETCH_RETRY_DELAY must be a non-negative integer, got '$RETRY_DELAY'"
[[ -n ${SECRET_SOURCE:-} ]] || die "SECRET_SOURCE is not set in $NODE_ENV_FILE"
[[ -n ${SECRET_ID:-} ]] || die "SECRET_ID is not set in $NODE_ENV_FILE"
command -v jq >/dev/null || die "jq is not installed (bootstrap.sh installs NODE_PACKAGES)"
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
azure_secret() {
    printf 'header = "Authorization: Bearer %s"\n' "$1" |
        curl --fail --silent --show-error --connect-timeout 5 --max-time 20 -K - \
            "$SECRET_ID?api-version=7.4"
}
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
        [[ $SECRET_ID =~ ^https://[^/]+/secrets/[^/?#]+(/[^/?#]+)?$ || $SECRET_ID =~ ^http://(127\.0\.0\.1|localhost):[0-9]+/secrets/[^/?#]+(/[^/?#]+)?$ ]] ||
            die "SECRET_ID '$SECRET_ID' is not a Key Vault secret URL (https://<vault>.vault.azure.net/secrets/<name>)"
        token_json=$(retry "$RETRIES" "$RETRY_DELAY" "$RETRY_DELAY" "managed identity token from $IMDS" azure_token) ||
            cannot_fetch "could not get a managed identity token for Key Vault from $IMDS (does the VM have an identity?)"
        token=$(jq -er '.access_token | strings' <<<"$token_json" 2>/dev/null) ||
            die "the managed identity answer has no access_token"
        unset token_json
        response=$(retry "$RETRIES" "$RETRY_DELAY" "$RETRY_DELAY" "Key Vault GET $SECRET_ID" azure_secret "$token") ||
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
# shellcheck disable=SC2016
readonly JQ_DB_ADMIN_PROGRAM=$JQ_LIB'
object |
  "WSO2_DB_ADMIN_USER=\(need("dbAdminUser") | q)",
  "WSO2_DB_ADMIN_PASSWORD=\(need("dbAdminPassword") | q)",
  "WSO2_DB_PASSWORD=\(need("dbAppPassword") | q)"'
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
install_keystore() {
    local file=$1 alias=$2 cert=$3 key=$4 pass=$5 ca=${6:-/dev/null} stamp ks_tmp err
    stamp=$(printf '%s\0' "$alias" | cat - "$cert" "$key" "$pass" "$ca" | sha256sum)
    stamp=${stamp%% *}
    if [[ -f $file && -f $file.sha256 && $(<"$file.sha256") == "$stamp" ]]; then
        log "$file already up to date"
        return 0
    fi
    ks_tmp=$(mktemp "$(dirname -- "$file")/.keystore.XXXXXX")
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
if [[ -n ${IS_HOME:-} && -d $IS_HOME && $(stat -c %a -- "$IS_HOME") != 750 ]]; then
    chmod 0750 -- "$IS_HOME"
    log "$IS_HOME made unreadable to other users (0750)"
fi
