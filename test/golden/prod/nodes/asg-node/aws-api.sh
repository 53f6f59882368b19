#!/usr/bin/env bash
# shellcheck shell=bash
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
_AWS_FATAL=3
[[ $AWS_API_RETRIES =~ ^[1-9][0-9]?$ && $AWS_API_RETRY_DELAY =~ ^[0-9]{1,2}$ ]] ||
    die 2 "AWS_API_RETRIES must be 1-99 and AWS_API_RETRY_DELAY 0-99 s, got '$AWS_API_RETRIES' and '$AWS_API_RETRY_DELAY'"
_aws_retry() {
    local what=$1 first=$((AWS_API_RETRY_DELAY < 30 ? AWS_API_RETRY_DELAY : 30))
    shift
    retry --stream --fatal "$_AWS_FATAL" "$AWS_API_RETRIES" "$first" 30 "$what" "$@"
}
_aws_imds_once() {
    local method=$1 path=$2 config=
    if [[ $method == PUT ]]; then
        config='header = "X-aws-ec2-metadata-token-ttl-seconds: 21600"'
    else
        config="header = \"X-aws-ec2-metadata-token: $_AWS_IMDS_TOKEN\""
    fi
    printf '%s\n' "$config" | curl --silent --noproxy '*' --connect-timeout 2 --max-time 10 -K - \
        -X "$method" -w '\n%{http_code} %{errormsg}' "$_AWS_IMDS$path"
}
_aws_imds_token() {
    [[ -z $_AWS_IMDS_TOKEN ]] || return 0
    _AWS_IMDS_TOKEN=$(_aws_imds PUT /latest/api/token) || return 1
    [[ $_AWS_IMDS_TOKEN =~ ^[A-Za-z0-9_=+/.-]+$ ]] || {
        _AWS_IMDS_TOKEN=
        log "IMDSv2 returned an unusable token"
        return 1
    }
}
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
        000 | 404 | 429 | 5??) ;;
        *)
            log "IMDS $method $path: HTTP $code"
            return "$_AWS_FATAL"
            ;;
    esac
    log "IMDS $method $path: HTTP $code${err:+, $err}"
    return 1
}
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
_aws_json_string() {
    local re="\"$2\"[[:space:]]*:[[:space:]]*\"([$3]+)\""
    [[ $1 =~ $re ]] || return 1
    printf '%s' "${BASH_REMATCH[1]}"
}
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
        printf 'https://s3.%s.amazonaws.com/%s\n' "$region" "$bucket"
    elif [[ $service == s3 ]]; then
        printf 'https://%s.s3.%s.amazonaws.com\n' "$bucket" "$region"
    else
        printf 'https://%s.%s.amazonaws.com\n' "$service" "$region"
    fi
}
_aws_curl_once() {
    local region=$1 service=$2 method=$3 url=$4 out=$5
    shift 5
    printf 'user = "%s:%s"\nheader = "x-amz-security-token: %s"\n' \
        "$_AWS_AKID" "$_AWS_SECRET" "$_AWS_TOKEN" |
        curl --silent --connect-timeout 5 --max-time 60 -K - --aws-sigv4 "aws:amz:$region:$service" \
            -X "$method" -o "$out" -w '\n%{http_code} %{errormsg}' \
            "$@" "$url"
}
_aws_request_attempt() {
    local method=$3 url=$4 out=$5 resp code body err
    _aws_credentials || return "$_AWS_FATAL"
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
