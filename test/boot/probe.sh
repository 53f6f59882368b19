#!/usr/bin/env bash
# wso2is-boot-probe: runs inside the boot test's guest (installed by the harness part, never by
# the product). Waits for cloud-init, then for the node to answer its own public URL, reports
# what the boot did as "PROBE ..." lines on the second serial port (/dev/ttyS1, read by the
# host), dumps the boot's journal there and powers the guest off.
# Settings: /etc/wso2is-boot-test/probe.env (PROBE_TIMEOUT seconds from boot, HEALTH_CA, UNITS).
set -u
exec >>/dev/ttyS1 2>&1
# shellcheck source=/dev/null
source /etc/wso2is-boot-test/probe.env

out() { printf 'PROBE %s\n' "$*"; }
up() { cut -d. -f1 /proc/uptime; }
# ACTIVE/SUB/RESULT/restarts=N (systemctl show prints properties in its own order: ask one by one).
unit_state() {
    local p v s=""
    for p in ActiveState SubState Result NRestarts; do
        v=$(systemctl show -p "$p" --value "$1" 2>/dev/null)
        s+=${s:+/}${v:-?}
    done
    printf '%s' "$s"
}
finish() {
    out "journal-begin"
    journalctl -b -o short-monotonic --no-pager 2>&1 | grep -v ' kernel: ' | sed 's/^/J /'
    out "journal-end"
    if [[ -f /var/log/cloud-init-output.log ]]; then
        sed 's/^/O /' /var/log/cloud-init-output.log
    fi
    out "done $1 uptime=$(up)"
    sync
    systemctl poweroff --no-block
    exit 0
}

out "start uptime=$(up)"
timeout "$PROBE_TIMEOUT" cloud-init status --wait >/dev/null 2>&1
out "cloud-init-done uptime=$(up)"
out "cloud-init-status $(cloud-init status --format json 2>/dev/null | jq -c '{status, extended_status, errors, recoverable_errors}')"
out "cloud-init-result $(jq -c . /var/lib/cloud/data/result.json 2>/dev/null)"

if [[ ! -r /etc/wso2is/node.env ]]; then
    out "failed no /etc/wso2is/node.env (write_files did not run)"
    finish failed
fi
# shellcheck source=/dev/null
source /etc/wso2is/node.env
url="https://$LB_HOSTNAME/api/health-check/v1.0/health"
last_report=0
code=000
idle_since=''
# Nothing may stay idle this long (s): wso2is.service stopped with no restart pending, no bootstrap.
readonly IDLE_LIMIT=90
while true; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$HEALTH_CA" --connect-timeout 3 --max-time 10 "$url")
    [[ $code == 200 ]] && break
    states=""
    alive=false
    failed=""
    for u in $UNITS; do
        s=$(unit_state "$u")
        states+=" $u=$s"
        case $u:$s in
            wso2is.service:active/* | *:activating/* | *:reloading/*) alive=true ;;
            *:failed/*) failed+=" $u" ;;
        esac
    done
    if ((SECONDS - last_report >= 30)); then
        out "waiting uptime=$(up) health=$code$states"
        last_report=$SECONDS
    fi
    if [[ -n $failed ]]; then
        out "failed unit(s)$failed: $states"
        for u in $failed; do
            journalctl -b -u "$u" -o cat --no-pager 2>&1 | tail -n 15 | sed "s/^/PROBE reason $u: /"
        done
        finish failed
    fi
    if $alive; then
        idle_since=''
    else
        idle_since=${idle_since:-$SECONDS}
        if ((SECONDS - idle_since >= IDLE_LIMIT)); then
            out "failed IS is not running and nothing is starting it (for ${IDLE_LIMIT}s):$states (cloud-init: $(cloud-init status 2>&1 | tail -n 1))"
            journalctl -b -u wso2is.service -o cat --no-pager 2>&1 | tail -n 15 | sed "s/^/PROBE reason wso2is.service: /"
            finish failed
        fi
    fi
    if (($(up) > PROBE_TIMEOUT)); then
        out "failed timeout after $(up) s:$states"
        finish failed
    fi
    sleep 5
done

out "healthy uptime=$(up)"
for u in $UNITS; do out "unit $u $(unit_state "$u")"; done
out "hosts $(grep -F '# wso2is-lb-pin' /etc/hosts | paste -sd';' -)"
out "runtime $(paste -sd' ' /etc/wso2is/runtime.env 2>/dev/null)"
out "redirect $(curl -s -o /dev/null -w '%{http_code} via %{remote_ip}:%{remote_port}' --cacert "$HEALTH_CA" "$url")"
out "direct-9443 $(curl -s -o /dev/null -w '%{http_code}' --cacert "$HEALTH_CA" --resolve "$LB_HOSTNAME:9443:127.0.0.1" "https://$LB_HOSTNAME:9443/api/health-check/v1.0/health")"
out "nft $(nft list ruleset 2>/dev/null | grep -E 'redirect|dnat' | sed 's/^[[:space:]]*//' | paste -sd';' -)"
out "share $(findmnt -n -o SOURCE,FSTYPE,OPTIONS --target "$SHARE_MOUNT" | head -n 1)"
out "link userstores $(readlink "$IS_HOME/repository/deployment/server/userstores")"
out "link tenants $(readlink "$IS_HOME/repository/tenants")"
pid=$(pgrep -u "$IS_USER" -f org.wso2.carbon.bootstrap.Bootstrap | head -n 1)
if [[ -n $pid ]]; then
    out "java-heap-args $(tr '\0' '\n' <"/proc/$pid/cmdline" | grep -E '^-Xm[sx]|^-XX:(Max|Initial)RAM' | paste -sd' ' -)"
    out "java-env $(tr '\0' '\n' <"/proc/$pid/environ" | grep -E '^JVM_MEM_OPTS=' | paste -sd' ' -)"
    out "java-user $(ps -o user= -p "$pid")"
fi
out "memtotal-kb $(awk '/^MemTotal/ {print $2}' /proc/meminfo)"
out "secrets-env $(stat -c '%a %U' /etc/wso2is/secrets.env 2>&1)"
finish healthy
