// The health gate of a rolling change on the Azure VM target: a script the node runs through
// Azure's managed Run Command (azure-vm/nodes.ts) after its VM was created, replaced or resized.
// The deployer has no network path to the nodes, so the check runs on the node and reports
// through ARM: the Run Command resource only succeeds when the script exits 0
// (treatFailureAsDeploymentFailure), and the next node's VM waits for that resource.
//
// What it checks is the Application Gateway's own probe, made from the node: HTTPS to the
// node's static IP on 9443 with the public hostname as SNI and Host, the certificate verified
// against the cluster CA (the gateway's trusted root), the health path answering 200. Then it
// waits a few probe intervals so the gateway has seen the node healthy before the next node
// goes down. Pure: no Pulumi imports; everything in it is public (no secret).

export interface HealthGateInput {
    /** Node name, for the log. */
    node: string;
    /** The node's static private IP. */
    ip: string;
    /** The public hostname: SNI and Host of the probe, the name on the node's certificate. */
    hostname: string;
    port: number;
    /** The gateway's probe path. */
    path: string;
    /** PEM of the cluster CA the gateway trusts. */
    caPem: string;
    /** Give up (exit 1) after this many seconds. */
    timeoutSeconds: number;
    /** After the first 200: wait this long so the gateway's probe has seen it too. */
    settleSeconds: number;
    /**
     * What makes this run unique (the VM's id and a digest of its spec): a change re-creates the
     * Run Command, which runs the script again.
     */
    marker: string;
}

const shellWord = /^[A-Za-z0-9._:/@%+=-]+$/;

function word(name: string, value: string): string {
    if (!shellWord.test(value))
        throw new Error(`health gate: ${name} ${JSON.stringify(value)} is not a plain word`);
    return value;
}

export function renderHealthGate(g: HealthGateInput): string {
    const pem = g.caPem.trim();
    // Quoted here-document: nothing in it is expanded; only its terminator line must not occur.
    if (!/^-----BEGIN CERTIFICATE-----\n[\s\S]+\n-----END CERTIFICATE-----$/.test(pem) || /^PEM$/m.test(pem))
        throw new Error("health gate: caPem must be one PEM certificate");
    return `#!/bin/bash
# wso2is-cluster health gate for ${word("node", g.node)} (components/render/healthGate.ts).
# ${word("marker", g.marker)}
# The Application Gateway's probe, from the node: https://${word("hostname", g.hostname)}:${g.port}${word("path", g.path)}
# at ${word("ip", g.ip)}, verified against the cluster CA, must answer 200 within ${g.timeoutSeconds} s.
set -euo pipefail
host=${g.hostname}
ip=${g.ip}
port=${Number(g.port)}
path=${g.path}
timeout=${Number(g.timeoutSeconds)}
settle=${Number(g.settleSeconds)}
ca=$(mktemp)
trap 'rm -f "$ca"' EXIT
cat >"$ca" <<'PEM'
${pem}
PEM
start=$SECONDS
last=""
while :; do
    code=$(curl --silent --output /dev/null --write-out '%{http_code}' --max-time 4 \\
        --cacert "$ca" --resolve "$host:$port:$ip" "https://$host:$port$path" || true)
    if [ "$code" = 200 ]; then
        break
    fi
    if [ $((SECONDS - start)) -ge "$timeout" ]; then
        echo "health gate: $host at $ip:$port$path did not answer 200 within $timeout s (last: \${code:-none})" >&2
        systemctl --no-pager --lines=20 status wso2is.service >&2 || true
        exit 1
    fi
    if [ "$code" != "$last" ]; then
        echo "health gate: waiting for $host at $ip:$port$path (now: \${code:-none}) after $((SECONDS - start)) s"
        last=$code
    fi
    sleep 5
done
echo "health gate: $host at $ip:$port$path answers 200 after $((SECONDS - start)) s; settling $settle s"
sleep "$settle"
`;
}
