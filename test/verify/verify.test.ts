// verify's pure parts: reading the stack outputs, the target from output names, the DNS
// check's comparisons, the CLI's usage errors, the report, and the failover drill's
// bookkeeping (refusals, always restoring) against a fake node control (a stand-in).
import * as assert from "assert";
import * as http from "http";
import { checkDns } from "../../verify/checks";
import { main } from "../../verify/cli";
import type { NodeControl, NodeState } from "../../verify/controls/types";
import { Refused, failoverCheck, pickNode, runFailover } from "../../verify/failover";
import { percentile } from "../../verify/http";
import { clusterFromOutputs, clusterNameOf, readStackOutputs, targetOf } from "../../verify/outputs";
import { formatReport } from "../../verify/report";

// Output names as components/{ec2,azure-vm,aks}/index.ts outputs() export them.
const awsOutputs = {
    url: "https://is.example.com",
    hostname: "is.example.com",
    loadBalancerDnsName: "wso2is-dev-alb-1234567890.eu-west-1.elb.amazonaws.com",
    autoScalingGroupName: "wso2is-dev-nodes-4f2a",
    membershipScheme: "aws",
    nodeCount: 2,
};
const azureOutputs = {
    url: "https://is.example.com",
    hostname: "is.example.com",
    gatewayAddress: "20.1.2.3",
    nodeIps: ["10.0.1.4", "10.0.1.5"],
    nodeCount: 2,
};
const aksOutputs = {
    url: "https://is.example.com",
    hostname: "is.example.com",
    ingressAddress: "20.1.2.4",
    clusterName: "wso2is-aks-dev",
    namespace: "wso2is",
};

describe("verify: stack outputs", () => {
    it("runs `pulumi stack output --json --stack <name>` and parses it", () => {
        let ran: string[] = [];
        const o = readStackOutputs("org/wso2is-cluster/dev", (cmd, args) => {
            ran = [cmd, ...args];
            return JSON.stringify(awsOutputs);
        });
        assert.deepStrictEqual(ran, [
            "pulumi",
            "stack",
            "output",
            "--json",
            "--stack",
            "org/wso2is-cluster/dev",
        ]);
        assert.deepStrictEqual(o, awsOutputs);
    });

    it("says how to get the Pulumi CLI when it is missing, and shows pulumi's error otherwise", () => {
        const enoent = () => {
            throw Object.assign(new Error("spawn pulumi ENOENT"), { code: "ENOENT" });
        };
        assert.throws(
            () => readStackOutputs("dev", enoent),
            /the Pulumi CLI \(`pulumi`\) is not on PATH: install it .* or check a URL directly with --url/,
        );
        const failing = () => {
            throw Object.assign(new Error("Command failed"), {
                status: 255,
                stderr: "error: no stack named 'nope' found\n",
            });
        };
        assert.throws(
            () => readStackOutputs("nope", failing),
            /`pulumi stack output --json --stack nope` failed: error: no stack named 'nope' found/,
        );
        assert.throws(() => readStackOutputs("dev", () => "Current stack outputs (0)"), /did not print JSON/);
    });

    it("tells the target from the output names of each component", () => {
        assert.strictEqual(targetOf(awsOutputs), "aws");
        assert.strictEqual(targetOf(azureOutputs), "azure");
        assert.strictEqual(targetOf(aksOutputs), "aks");
        assert.strictEqual(targetOf({ ...awsOutputs, ecsClusterName: "c", ecsServiceName: "s" }), "ecs");
        assert.strictEqual(targetOf({ url: "https://x" }), undefined);
        const aws = clusterFromOutputs(awsOutputs);
        assert.strictEqual(aws.lbDnsName, awsOutputs.loadBalancerDnsName);
        assert.strictEqual(aws.nodeCount, 2);
        assert.strictEqual(clusterFromOutputs(azureOutputs).lbAddress, "20.1.2.3");
        assert.strictEqual(clusterFromOutputs(aksOutputs).lbAddress, "20.1.2.4");
        assert.throws(
            () => clusterFromOutputs({ databaseEndpoint: "x" }),
            /no `url` or `hostname` output \(outputs: databaseEndpoint\)/,
        );
        assert.strictEqual(clusterNameOf("org/wso2is-cluster/azure-dev"), "wso2is-azure-dev");
    });
});

describe("verify: the DNS check", () => {
    const ep = { url: new URL("https://is.example.com"), httpPort: 80, timeoutMs: 1000 };
    const table: Record<string, string[]> = {
        "is.example.com": ["52.1.1.1", "52.1.1.2"],
        "alb.eu-west-1.elb.amazonaws.com": ["52.1.1.2", "52.1.1.3"],
        "other.eu-west-1.elb.amazonaws.com": ["52.9.9.9"],
    };
    const lookup = async (h: string) => {
        if (!table[h]) throw Object.assign(new Error("not found"), { code: "ENOTFOUND" });
        return table[h];
    };
    const base = { ep, requests: 1, concurrency: 1, minCertDays: 14, healthHint: "", lookup };

    it("passes when the name resolves to the load balancer (ALB name or gateway address)", async () => {
        assert.strictEqual(
            (await checkDns({ ...base, lbDnsName: "alb.eu-west-1.elb.amazonaws.com" })).status,
            "pass",
        );
        assert.strictEqual((await checkDns({ ...base, lbAddress: "52.1.1.1" })).status, "pass");
        assert.strictEqual(
            (await checkDns(base)).status,
            "pass",
            "no load balancer known (--url): resolving is enough",
        );
    });

    it("fails naming the record to fix when it points elsewhere or does not resolve", async () => {
        const other = await checkDns({ ...base, lbDnsName: "other.eu-west-1.elb.amazonaws.com" });
        assert.strictEqual(other.status, "fail");
        assert.match(other.lookAt!, /a CNAME or alias to other\.eu-west-1\.elb\.amazonaws\.com/);
        const ip = await checkDns({ ...base, lbAddress: "20.1.2.3" });
        assert.match(ip.summary, /not the load balancer's 20\.1\.2\.3/);
        const missing = await checkDns({
            ...base,
            ep: { ...ep, url: new URL("https://new.example.com") },
            lbAddress: "20.1.2.3",
        });
        assert.match(missing.summary, /new\.example\.com does not resolve \(ENOTFOUND\)/);
        assert.match(missing.lookAt!, /point it at 20\.1\.2\.3/);
    });

    it("skips an IP address", async () => {
        const r = await checkDns({ ...base, ep: { ...ep, url: new URL("https://127.0.0.1:8443") } });
        assert.strictEqual(r.status, "skip");
    });
});

describe("verify: CLI usage", () => {
    async function run(argv: string[]) {
        const out: string[] = [];
        const err: string[] = [];
        const code = await main(argv, { out: (s) => out.push(s), err: (s) => err.push(s) });
        return { code, out: out.join("\n"), err: err.join("\n") };
    }

    it("exits 2 with a clear message on bad usage", async () => {
        assert.match((await run([])).err, /pass --stack NAME or --url https:\/\/HOST/);
        const cases: [string[], RegExp][] = [
            [["--url", "http://x"], /--url must be https:\/\/, got http:\/\//],
            [["--url", "not a url"], /--url must be an absolute URL/],
            [["--url", "https://x", "--skip", "dns,nope"], /--skip: unknown check "nope"/],
            [
                ["--url", "https://x", "--requests", "0"],
                /--requests must be a number from 1 to 100000, got "0"/,
            ],
            [
                ["--url", "https://x", "--target", "gcp"],
                /--target must be one of aws, azure, aks, ecs, got "gcp"/,
            ],
            [["--url", "https://x", "--ca", "/nonexistent/ca.pem"], /--ca \/nonexistent\/ca\.pem: ENOENT/],
            [["--url", "https://x", "--bogus"], /Unknown option '--bogus'/],
        ];
        for (const [argv, re] of cases) {
            const r = await run(argv);
            assert.strictEqual(r.code, 2, argv.join(" "));
            assert.match(r.err, re);
        }
        const help = await run(["--help"]);
        assert.strictEqual(help.code, 0);
        assert.match(help.out, /--failover/);
    });
});

describe("verify: report", () => {
    it("prints one line per check, what to look at under a failure, and a last line", () => {
        const text = formatReport({
            ok: false,
            url: "https://is.example.com",
            target: "aws",
            stack: "dev",
            startedAt: "",
            durationMs: 1000,
            checks: [
                { name: "dns", status: "pass", summary: "is.example.com -> 52.1.1.1" },
                { name: "health", status: "fail", summary: "GET ... -> 503", lookAt: "the target group" },
                { name: "nodes", status: "skip", summary: "no SDK" },
            ],
        });
        assert.strictEqual(
            text,
            [
                "verify https://is.example.com (aws, stack dev)",
                "PASS  dns              is.example.com -> 52.1.1.1",
                "FAIL  health           GET ... -> 503",
                "      look at: the target group",
                "SKIP  nodes            no SDK",
                "FAILED: 1 of 3 checks failed (health)",
            ].join("\n"),
        );
        assert.strictEqual(percentile([5, 1, 4, 2, 3], 50), 3);
        assert.strictEqual(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95), 10);
        assert.strictEqual(percentile([], 99), 0);
    });
});

/** A stand-in control plane: nodes as a table the test changes; every call logged. */
function fakeControl(nodes: NodeState[], opts: { failOut?: boolean; replaces?: boolean } = {}) {
    const calls: string[] = [];
    const control: NodeControl = {
        target: "custom",
        source: "fake",
        lookAt: "the fake",
        replaces: !!opts.replaces,
        nodes: async () => nodes.map((n) => ({ ...n })),
        prepare: async () => (calls.push("prepare"), "prepared"),
        cleanup: async () => (calls.push("cleanup"), "cleaned up"),
        takeOut: async (id) => {
            calls.push(`takeOut ${id}`);
            if (opts.failOut) throw new Error("SSM command failed half-way");
            nodes.find((n) => n.id === id)!.healthy = false;
            return `took ${id} out`;
        },
        restore: async (id) => {
            calls.push(`restore ${id}`);
            nodes.find((n) => n.id === id)!.healthy = true;
            return `restored ${id}`;
        },
    };
    return { control, calls };
}

describe("verify: failover drill", () => {
    let server: http.Server;
    let port: number;
    before(async () => {
        // The stream needs an HTTPS endpoint; a plain HTTP server makes every request fail fast,
        // which is what these bookkeeping tests want to see counted.
        server = http.createServer((_q, r) => r.end("x"));
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
        port = (server.address() as { port: number }).port;
    });
    after(() => server.close());

    const opts = (control: NodeControl) => ({
        ep: { url: new URL(`https://127.0.0.1:${port}`), httpPort: 80, timeoutMs: 1000 },
        control,
        path: "/",
        clients: 1,
        intervalMs: 20,
        warmupMs: 0,
        holdMs: 0,
        tailMs: 0,
        pollMs: 5,
        timeoutMs: 300,
        log: () => {},
    });

    it("refuses with fewer than 2 healthy nodes, and an unknown or unhealthy --node", () => {
        const nodes = [
            { id: "a", healthy: true, state: "healthy" },
            { id: "b", healthy: false, state: "unhealthy (Target.Timeout)" },
        ];
        assert.throws(
            () => pickNode(nodes),
            (e: Error) =>
                e instanceof Refused &&
                /1 of 2 node\(s\) healthy \(a healthy, b unhealthy \(Target\.Timeout\)\)/.test(e.message),
        );
        const two = [...nodes, { id: "c", healthy: true, state: "healthy" }];
        assert.strictEqual(pickNode(two), "a");
        assert.strictEqual(pickNode(two, "c"), "c");
        assert.throws(() => pickNode(two, "b"), /--node b is not healthy/);
        assert.throws(() => pickNode(two, "z"), /--node z is not one of a, b, c/);
    });

    it("takes the node out, waits for the control plane, restores it, and undoes prepare()", async () => {
        const { control, calls } = fakeControl([
            { id: "a", healthy: true, state: "healthy" },
            { id: "b", healthy: true, state: "healthy" },
        ]);
        const r = await runFailover(opts(control));
        assert.deepStrictEqual(calls, ["prepare", "takeOut a", "restore a", "cleanup"]);
        assert.strictEqual(r.node, "a");
        assert.ok(r.outOfRotationMs !== undefined && r.backHealthyMs !== undefined);
        assert.deepStrictEqual(r.actions, ["prepared", "took a out", "restored a", "cleaned up"]);
        assert.ok(
            r.requests > 0 && r.failed === r.requests,
            "every request to a non-TLS port fails, and is counted",
        );
        const check = failoverCheck(r, control);
        assert.strictEqual(check.status, "fail");
        assert.match(check.summary, /\d+ failed request\(s\)/);
    });

    it("restores and cleans up even when taking the node out fails", async () => {
        const { control, calls } = fakeControl(
            [
                { id: "a", healthy: true, state: "healthy" },
                { id: "b", healthy: true, state: "healthy" },
            ],
            { failOut: true },
        );
        const r = await runFailover(opts(control));
        assert.deepStrictEqual(calls, ["prepare", "takeOut a", "restore a", "cleanup"]);
        assert.deepStrictEqual(r.problems, ["SSM command failed half-way"]);
    });

    it("an interrupt during the hold brings the node back at once", async () => {
        const { control, calls } = fakeControl([
            { id: "a", healthy: true, state: "healthy" },
            { id: "b", healthy: true, state: "healthy" },
        ]);
        const interrupt = new AbortController();
        const started = Date.now();
        const drill = runFailover({ ...opts(control), holdMs: 60_000, signal: interrupt.signal });
        setTimeout(() => interrupt.abort(), 200);
        const r = await drill;
        assert.ok(Date.now() - started < 5_000, "did not sit out the 60 s hold");
        assert.deepStrictEqual(calls, ["prepare", "takeOut a", "restore a", "cleanup"]);
        assert.ok(r.backHealthyMs !== undefined, "waited for the node to be healthy again");
    });

    it("reports a node the control plane never reports out, and one that never comes back", async () => {
        const nodes = [
            { id: "a", healthy: true, state: "healthy" },
            { id: "b", healthy: true, state: "healthy" },
        ];
        const { control } = fakeControl(nodes);
        const stuck: NodeControl = {
            ...control,
            takeOut: async () => "did nothing",
            restore: async () => "did nothing",
        };
        const r = await runFailover(opts(stuck));
        assert.match(r.problems[0], /a still counted healthy by fake after 0\.3 s/);
        const gone: NodeControl = {
            ...fakeControl(nodes.map((n) => ({ ...n }))).control,
            replaces: true,
            restore: async () => "nothing to restore",
        };
        const r2 = await runFailover(opts(gone));
        assert.match(r2.problems.join(), /did not get back to 2 healthy node\(s\) within 0\.3 s/);
    });
});
