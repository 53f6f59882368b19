#!/usr/bin/env bash
# shellcheck shell=bash
# aws-api.sh: a sourced library that calls AWS APIs with the instance role and nothing but bash
# and curl (no AWS CLI, no jq: it runs before cloud-init's packages are installed). Source
# lib.sh first (log, die, retry): it ships beside this file wherever this file goes (EC2's
# user-data carries both, scripts.ts fetcherScripts).
#
# aws_request REGION SERVICE METHOD URL OUT [CURL_ARGS...]
#   A SigV4-signed request with the instance role's credentials from IMDSv2. OUT is a file for
#   the body, or - for stdout. Retries connection errors, 5xx, 429 and throttling with lib.sh's
#   retry (AWS_API_RETRIES attempts, default 8; AWS_API_RETRY_DELAY first wait, default 1 s,
#   doubling up to 30 s), logging what it waits for; other 4xx fail at once with AWS's error
#   message. Expired credentials are fetched again.
# aws_endpoint SERVICE REGION [BUCKET]: https://<service>.<region>.amazonaws.com, or S3's
#   virtual-hosted https://<bucket>.s3.<region>.amazonaws.com (path style for a dotted bucket
#   name); WSO2IS_AWS_ENDPOINT_URL (tests) replaces it.
# aws_imds_get PATH: an IMDSv2 GET (token cached per process); aws_region: the node's region.
#
# Signing is curl's --aws-sigv4 (curl >= 7.75; Ubuntu 24.04 has 8.5): it signs host,
# x-amz-date and every -H header (lib/http_aws_sigv4.c, make_headers), so the session token
# header is signed. S3 needs x-amz-content-sha256; curl adds it for service s3 only since 8.0
# (commit 495d09810a), and since 7.87 signs a payload hash given in that header (7f8e6da6dc),
# so the S3 caller passes it itself.
# Secrets: the access key, secret key and session token reach curl through its config on stdin
# (-K -), never through argv (other users read /proc/<pid>/cmdline), and are not exported.
# Overrides (tests): WSO2IS_IMDS_ENDPOINT (default http://169.254.169.254), WSO2IS_AWS_ENDPOINT_URL.

if ! declare -F retry >/dev/null; then
    printf '%s: error: aws-api.sh needs lib.sh sourced first\n' "${PROG:-aws-api.sh}" >&2
    return 2
fi

AWS_API_RETRIES=${AWS_API_RETRIES:-8}
AWS_API_RETRY_DELAY=${AWS_API_RETRY_DELAY:-1}
_AWS_IMDS=${WSO2IS_IMDS_ENDPOINT:-http://169.254.169.254}
_AWS_IMDS=${_AWS_IMDS%/}
_AWS_IMDS_TOKEN=
_AWS_AKID=
_AWS_SECRET=
_AWS_TOKEN=
_AWS_EXPIRES=0
# An attempt's exit code for a failure no wait fixes (retry --fatal).
_AWS_FATAL=3

[[ $AWS_API_RETRIES =~ ^[1-9][0-9]?$ && $AWS_API_RETRY_DELAY =~ ^[0-9]{1,2}$ ]] ||
    die 2 "AWS_API_RETRIES must be 1-99 and AWS_API_RETRY_DELAY 0-99 s, got '$AWS_API_RETRIES' and '$AWS_API_RETRY_DELAY'"

# _aws_retry WHAT ATTEMPT...: ATTEMPT until it succeeds (AWS_API_RETRIES times, waiting
# AWS_API_RETRY_DELAY, 2x, 4x ... up to 30 s), not after an exit _AWS_FATAL. --stream: ATTEMPT
# logs its own failure, and runs in this shell, so the token and credentials it loads stay.
_aws_retry() {
    local what=$1 first=$((AWS_API_RETRY_DELAY < 30 ? AWS_API_RETRY_DELAY : 30))
    shift
    retry --stream --fatal "$_AWS_FATAL" "$AWS_API_RETRIES" "$first" 30 "$what" "$@"
}

# _aws_imds_once METHOD PATH: prints the body, then a line "<http code> <curl's error>"; the token
# travels in curl's config.
_aws_imds_once() {
    local method=$1 path=$2 config=
    if [[ $method == PUT ]]; then
        config='header = "X-aws-ec2-metadata-token-ttl-seconds: 21600"'
    else
        config="header = \"X-aws-ec2-metadata-token: $_AWS_IMDS_TOKEN\""
    fi
    # The IMDS is link-local: never through a proxy.
    printf '%s\n' "$config" | curl --silent --noproxy '*' --connect-timeout 2 --max-time 10 -K - \
        -X "$method" -w '\n%{http_code} %{errormsg}' "$_AWS_IMDS$path"
}

# _aws_imds_token: gets the IMDSv2 token unless held; call it outside $(...) to keep it.
_aws_imds_token() {
    [[ -z $_AWS_IMDS_TOKEN ]] || return 0
    _AWS_IMDS_TOKEN=$(_aws_imds PUT /latest/api/token) || return 1
    [[ $_AWS_IMDS_TOKEN =~ ^[A-Za-z0-9_=+/.-]+$ ]] || {
        _AWS_IMDS_TOKEN=
        log "IMDSv2 returned an unusable token"
        return 1
    }
}

# _aws_imds_attempt METHOD PATH: one IMDS call, the body of a 200 on stdout; a 401 drops the
# token, so the next attempt gets a new one.
_aws_imds_attempt() {
    local method=$1 path=$2 out code err
    if [[ $method != PUT ]]; then _aws_imds_token || return "$_AWS_FATAL"; fi
    out=$(_aws_imds_once "$method" "$path") || true
    code=${out##*$'\n'}
    out=${out%$'\n'*}
    err=${code#* }
    code=${code%% *}
    case $code in
        200)
            printf '%s' "$out"
            return 0
            ;;
        401) _AWS_IMDS_TOKEN= ;;
        # 404 on the role's credentials: the instance profile is not attached yet.
        000 | 404 | 429 | 5??) ;;
        *)
            log "IMDS $method $path: HTTP $code"
            return "$_AWS_FATAL"
            ;;
    esac
    log "IMDS $method $path: HTTP $code${err:+, $err}"
    return 1
}

# _aws_imds METHOD PATH: the body of a 200, with retries.
_aws_imds() { _aws_retry "IMDS $1 $2" _aws_imds_attempt "$1" "$2"; }

aws_imds_get() { _aws_imds GET "$1"; }

aws_region() {
    local region
    region=$(aws_imds_get /latest/meta-data/placement/region) || return 1
    [[ $region =~ ^[a-z]{2}(-[a-z]+)+-[0-9]+$ ]] || {
        log "IMDS gave an unusable region '$region'"
        return 1
    }
    printf '%s\n' "$region"
}

# _aws_json_string JSON KEY CHARSET: the value of "KEY": "..." when it matches [CHARSET]+.
# The IMDS credentials document is flat JSON of plain strings, so no jq is needed; the charset
# also keeps the values from breaking curl's config syntax.
_aws_json_string() {
    local re="\"$2\"[[:space:]]*:[[:space:]]*\"([$3]+)\""
    [[ $1 =~ $re ]] || return 1
    printf '%s' "${BASH_REMATCH[1]}"
}

# _aws_credentials: loads the role's credentials unless those held expire in over 5 minutes.
_aws_credentials() {
    local now role doc expiration
    now=$(date +%s)
    ((_AWS_EXPIRES - now > 300)) && return 0
    _aws_imds_token || return 1
    role=$(aws_imds_get /latest/meta-data/iam/security-credentials/) || return 1
    role=${role%%$'\n'*}
    [[ $role =~ ^[A-Za-z0-9+=,.@_-]+$ ]] || {
        log "IMDS names no usable instance role ('$role'): is an instance profile attached?"
        return 1
    }
    doc=$(aws_imds_get "/latest/meta-data/iam/security-credentials/$role") || return 1
    if ! [[ $(_aws_json_string "$doc" Code 'A-Za-z') == Success ]] ||
        ! _AWS_AKID=$(_aws_json_string "$doc" AccessKeyId 'A-Z0-9') ||
        ! _AWS_SECRET=$(_aws_json_string "$doc" SecretAccessKey 'A-Za-z0-9/+=') ||
        ! _AWS_TOKEN=$(_aws_json_string "$doc" Token 'A-Za-z0-9/+=') ||
        ! expiration=$(_aws_json_string "$doc" Expiration '0-9TZ:.-') ||
        ! _AWS_EXPIRES=$(date -d "$expiration" +%s 2>/dev/null); then
        _AWS_EXPIRES=0
        log "IMDS credentials of role $role are incomplete or not Success"
        return 1
    fi
}

aws_endpoint() {
    local service=$1 region=$2 bucket=${3:-}
    if [[ -n ${WSO2IS_AWS_ENDPOINT_URL:-} ]]; then
        printf '%s\n' "${WSO2IS_AWS_ENDPOINT_URL%/}"
    elif [[ $service == s3 && $bucket == *.* ]]; then
        # A dotted name breaks the *.s3 certificate of virtual-hosted style: path style.
        printf 'https://s3.%s.amazonaws.com/%s\n' "$region" "$bucket"
    elif [[ $service == s3 ]]; then
        printf 'https://%s.s3.%s.amazonaws.com\n' "$bucket" "$region"
    else
        printf 'https://%s.%s.amazonaws.com\n' "$service" "$region"
    fi
}

# _aws_curl_once REGION SERVICE METHOD URL OUT CURL_ARGS...: the body (to OUT, or with OUT -
# to stdout), then a line "<http code> <curl's error>".
_aws_curl_once() {
    local region=$1 service=$2 method=$3 url=$4 out=$5
    shift 5
    printf 'user = "%s:%s"\nheader = "x-amz-security-token: %s"\n' \
        "$_AWS_AKID" "$_AWS_SECRET" "$_AWS_TOKEN" |
        curl --silent --connect-timeout 5 --max-time 60 -K - --aws-sigv4 "aws:amz:$region:$service" \
            -X "$method" -o "$out" -w '\n%{http_code} %{errormsg}' \
            "$@" "$url"
}

# _aws_request_attempt REGION SERVICE METHOD URL OUT CURL_ARGS...: one signed call with the
# credentials held (loaded or refreshed first).
_aws_request_attempt() {
    local method=$3 url=$4 out=$5 resp code body err
    _aws_credentials || return "$_AWS_FATAL"
    # With OUT -, the body stays in memory (a secret never touches a file here).
    resp=$(_aws_curl_once "$@") || true
    code=${resp##*$'\n'}
    body=${resp%$'\n'*}
    err=${code#* }
    code=${code%% *}
    if [[ $code == 2?? ]]; then
        [[ $out != - ]] || printf '%s' "$body"
        return 0
    fi
    [[ $out == - ]] || body=$(head -c 300 "$out" 2>/dev/null || true)
    # AWS error bodies name the error (JSON __type, S3's XML <Code>), never a secret.
    body=${body//$'\n'/ }
    body=${body:0:300}
    [[ $code != 000 ]] || body=$err
    log "$2 $method $url: HTTP $code${body:+: $body}"
    case "$code:$body" in
        000:* | 429:* | 5??:* | 4??:*Throttl* | 4??:*RequestLimitExceeded* | 4??:*SlowDown*) return 1 ;;
        4??:*ExpiredToken* | 4??:*RequestExpired*)
            _AWS_EXPIRES=0
            return 1
            ;;
        *) return "$_AWS_FATAL" ;;
    esac
}

aws_request() {
    [[ $1 =~ ^[a-z0-9-]+$ && $2 =~ ^[a-z0-9-]+$ ]] || {
        log "aws_request: bad region '$1' or service '$2'"
        return 1
    }
    _aws_retry "$2 $3 $4" _aws_request_attempt "$@"
}
