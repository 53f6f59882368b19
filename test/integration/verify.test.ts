// `npm run verify` (the real CLI, as a child process) against a stand-in cluster on loopback:
// two HTTPS stand-ins for IS nodes (health API, OIDC discovery, JWKS, JSESSIONID; certificates
// from a test CA made by openssl) behind the real nginx on our rendered nginx.conf. The
// stand-ins are not IS; nginx, TLS, the redirect and the failover are real.
import * as assert from "assert";
import { spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as path from "path";
import { renderNginxConf } from "../../components/render/nginx";
import { Backend, HEALTH, LOOPBACK, NginxProcess, testCa } from "./support/nginx";
import { ensureCommands, freePort, tempDir } from "./support/system";

const HOSTNAME = "localhost";
const ROOT = path.resolve(__dirname, "../..");

interface Run {
    code: number | null;
    stdout: string;
    stderr: string;
}

/** `npm run -s verify -- ...args` (async: the stand-ins answer from this process meanwhile). */
function verify(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
    return new Promise((resolve, reject) => {
        const p = spawn("npm", ["run", "-s", "verify", "--", ...args], {
            cwd: ROOT,
            env: { ...process.env, ...env },
            stdio: ["ignore", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        p.stdout.on("data", (d) => (stdout += d));
        p.stderr.on("data", (d) => (stderr += d));
        p.on("error", reject);
        p.on("close", (code) => resolve({ code, stdout, stderr }));
    });
}

describe("integration/verify: npm run verify against a stand-in cluster (nginx + 2 HTTPS stand-ins)", function () {
    this.timeout(120_000);

    let tmp: { dir: string; cleanup: () => void };
    let ca: ReturnType<typeof testCa>;
    let httpsPort: number;
    let httpPort: number;
    let base: string;
    let a: Backend;
    let b: Backend;
    let admin: http.Server;
    let adminUrl: string;
    const nginx = new NginxProcess();
    const calls: string[] = [];
    // What the stand-ins answer; tests break one thing at a time and restore it.
    const standIn = { healthUp: true, issuer: "" };
    const jwk = {
        ...(crypto
            .generateKeyPairSync("rsa", { modulusLength: 2048 })
            .publicKey.export({ format: "jwk" }) as object),
        kid: "standin-kid-1",
        alg: "RS256",
        use: "sig",
    };

    /** IS's answers for the paths verify reads (the shapes IS 7 returns, abridged). */
    function routes(req: http.IncomingMessage, res: http.ServerResponse): boolean {
        const json = (status: number, body: unknown) => {
            res.writeHead(status, { "content-type": "application/json" });
            res.end(JSON.stringify(body));
            return true;
        };
        if (req.url === HEALTH && !standIn.healthUp)
            return json(503, { errors: [{ key: "jdbc/WSO2IdentityDB", value: "connection refused" }] });
        if (req.url === "/oauth2/token/.well-known/openid-configuration")
            return json(200, {
                issuer: standIn.issuer,
                jwks_uri: `${base}/oauth2/jwks`,
                token_endpoint: `${base}/oauth2/token`,
                authorization_endpoint: `${base}/oauth2/authorize`,
            });
        if (req.url === "/oauth2/jwks") return json(200, { keys: [jwk] });
        return false;
    }

    /** A direct probe of a stand-in's health API, as a load balancer's health check would. */
    function probe(node: Backend): Promise<boolean> {
        return new Promise((resolve) => {
            const req = https.get(
                {
                    host: LOOPBACK,
                    port: node.port,
                    path: HEALTH,
                    ca: fs.readFileSync(ca.caPath),
                    servername: HOSTNAME,
                    agent: false,
                },
                (res) => {
                    res.resume();
                    resolve(res.statusCode === 200);
                },
            );
            req.setTimeout(1_000, () => req.destroy());
            req.on("error", () => resolve(false));
        });
    }

    before(async () => {
        ensureCommands({ nginx: "nginx", openssl: "openssl" });
        tmp = tempDir("verify");
        fs.chmodSync(tmp.dir, 0o755); // nginx workers (nobody when run as root) reach the temp dir
        fs.mkdirSync(path.join(tmp.dir, "tmp"));
        ca = testCa(tmp.dir, [HOSTNAME, LOOPBACK]);
        [httpsPort, httpPort] = [await freePort(), await freePort()];
        base = `https://${HOSTNAME}:${httpsPort}`;
        standIn.issuer = `${base}/oauth2/token`;
        const tls = { key: ca.key, cert: ca.cert };
        a = new Backend("node-a", await freePort(), tls, routes);
        b = new Backend("node-b", await freePort(), tls, routes);
        await a.start();
        await b.start();
        const conf = path.join(tmp.dir, "nginx.conf");
        fs.writeFileSync(
            conf,
            renderNginxConf({
                hostname: HOSTNAME,
                backends: [a, b].map((n) => ({ address: LOOPBACK, port: n.port })),
                tlsCertificatePath: ca.certPath,
                tlsKeyPath: ca.keyPath,
                backendCaPath: ca.caPath,
                listenAddress: LOOPBACK,
                listenHttps: httpsPort,
                listenHttp: httpPort,
                pidPath: path.join(tmp.dir, "nginx.pid"),
                errorLogPath: path.join(tmp.dir, "error.log"),
                accessLogPath: path.join(tmp.dir, "access.log"),
                tempDir: path.join(tmp.dir, "tmp"),
            }),
        );
        nginx.start(conf, tmp.dir);
        await nginx.waitUntil(() => probe(a));

        // The stub control plane the node-control module talks to.
        const byId = new Map([a, b].map((n) => [n.name, n]));
        admin = http.createServer((req, res) => {
            void (async () => {
                const [, verb, id] = (req.url ?? "").split("/");
                const send = (status: number, body: unknown) => {
                    res.writeHead(status, { "content-type": "application/json" });
                    res.end(JSON.stringify(body));
                };
                if (req.method === "GET" && verb === "nodes") {
                    const nodes = await Promise.all(
                        [a, b].map(async (n) => {
                            const up = await probe(n);
                            return { id: n.name, healthy: up, state: up ? "UP" : "no answer" };
                        }),
                    );
                    return send(200, nodes);
                }
                const node = byId.get(id);
                if (req.method !== "POST" || !node) return send(404, { error: req.url });
                calls.push(`${verb} ${id} at ${Date.now()}`);
                if (verb === "kill") node.kill();
                else if (verb === "start") await node.start();
                else return send(404, { error: req.url });
                send(200, { [verb]: id, servedSoFar: node.served.length });
            })();
        });
        await new Promise<void>((r) => admin.listen(0, LOOPBACK, () => r()));
        adminUrl = `http://${LOOPBACK}:${(admin.address() as { port: number }).port}`;
    });

    after(async () => {
        await nginx.stop();
        admin?.close();
        a?.kill();
        b?.kill();
        tmp?.cleanup();
    });

    const common = () => ["--url", base, "--ca", ca.caPath, "--http-port", String(httpPort)];

    it("passes on the healthy stand-in: npm run verify -- --url ... --ca CA.pem --requests 50", async () => {
        const r = await verify([...common(), "--requests", "50"]);
        console.log(r.stdout.replace(/^/gm, "      "));
        assert.strictEqual(r.code, 0, `${r.stdout}\n${r.stderr}`);
        for (const name of [
            "dns",
            "http-redirect",
            "tls",
            "health",
            "oidc-discovery",
            "jwks",
            "affinity-cookie",
            "requests",
        ])
            assert.match(r.stdout, new RegExp(`^PASS  ${name} `, "m"), name);
        assert.match(r.stdout, /^PASS {2}requests +50\/50 OK/m);
        assert.match(r.stdout, /^PASS {2}affinity-cookie +WSO2IS_LB set/m);
        assert.match(r.stdout, /^PASS {2}tls .*issuer wso2is-cluster test CA, expires in 29 days/m);
        assert.match(r.stdout, /^SKIP {2}nodes /m);
        assert.match(r.stdout, /^OK: 8 checks passed, 1 skipped/m);
    });

    it("prints one JSON report with --json", async () => {
        const r = await verify([...common(), "--requests", "20", "--json"]);
        assert.strictEqual(r.code, 0, r.stderr);
        const report = JSON.parse(r.stdout);
        assert.strictEqual(report.ok, true);
        assert.strictEqual(report.url, base);
        const byName = Object.fromEntries(report.checks.map((c: { name: string }) => [c.name, c]));
        assert.strictEqual(byName.requests.figures.requests, 20);
        assert.strictEqual(byName.requests.figures.failed, 0);
        assert.strictEqual(byName["oidc-discovery"].figures.issuer, `${base}/oauth2/token`);
        assert.strictEqual(byName.jwks.figures.kids[0], "standin-kid-1");
    });

    it("fails without the CA: the certificate is not trusted, and says to pass --ca", async () => {
        const r = await verify(["--url", base, "--http-port", String(httpPort), "--requests", "5"]);
        assert.strictEqual(r.code, 1);
        assert.match(r.stdout, /^FAIL {2}tls +certificate for localhost .* is not trusted/m);
        assert.match(r.stdout, /pass its CA with --ca FILE/);
    });

    it("fails naming the health check when the IS health API answers 503", async () => {
        standIn.healthUp = false;
        try {
            const r = await verify([...common(), "--requests", "10"]);
            console.log(r.stdout.replace(/^/gm, "      "));
            assert.strictEqual(r.code, 1);
            assert.match(
                r.stdout,
                /^FAIL {2}health +GET \/api\/health-check\/v1\.0\/health -> 503 \(IS health API\)/m,
            );
            assert.match(r.stdout, /^ +look at: /m);
            assert.match(r.stdout, /^PASS {2}oidc-discovery /m, "the other checks still run and pass");
            assert.match(r.stdout, /^FAILED: 1 of 9 checks failed \(health\)/m);
        } finally {
            standIn.healthUp = true;
        }
    });

    it("fails naming the issuer when IS publishes its own port (proxyPort unset)", async () => {
        standIn.issuer = `https://${HOSTNAME}:9443/oauth2/token`;
        try {
            const r = await verify([...common(), "--requests", "10"]);
            assert.strictEqual(r.code, 1);
            assert.match(
                r.stdout,
                /^FAIL {2}oidc-discovery +issuer is "https:\/\/localhost:9443\/oauth2\/token": its port is not the public port/m,
            );
            assert.match(
                r.stdout,
                /look at: \[server\] hostname and \[transport\.https\.properties\] proxyPort = 443/,
            );
        } finally {
            standIn.issuer = `${base}/oauth2/token`;
        }
    });

    it("fails naming the issuer when it names a node instead of the public hostname", async () => {
        standIn.issuer = "https://10.0.1.10:9443/oauth2/token";
        try {
            const r = await verify([...common(), "--requests", "10", "--json"]);
            assert.strictEqual(r.code, 1);
            const report = JSON.parse(r.stdout);
            const oidc = report.checks.find((c: { name: string }) => c.name === "oidc-discovery");
            assert.strictEqual(oidc.status, "fail");
            assert.match(
                oidc.summary,
                /issuer is "https:\/\/10\.0\.1\.10:9443\/oauth2\/token": its host is not the public hostname localhost/,
            );
            assert.deepStrictEqual(
                report.checks
                    .filter((c: { status: string }) => c.status === "fail")
                    .map((c: { name: string }) => c.name),
                ["oidc-discovery"],
            );
        } finally {
            standIn.issuer = `${base}/oauth2/token`;
        }
    });

    it("fails the redirect check when nothing redirects on the HTTP port", async () => {
        const r = await verify([
            "--url",
            base,
            "--ca",
            ca.caPath,
            "--http-port",
            String(a.port),
            "--requests",
            "5",
        ]);
        assert.strictEqual(r.code, 1);
        assert.match(r.stdout, /^FAIL {2}http-redirect /m);
    });

    it("--stack reads the outputs through the pulumi CLI (a stand-in script) and names the SDK to install", async () => {
        // A stand-in `pulumi` on PATH: prints an aws stack's outputs pointing at the stand-in cluster.
        const bin = path.join(tmp.dir, "bin");
        fs.mkdirSync(bin, { recursive: true });
        const outputs = {
            url: base,
            hostname: HOSTNAME,
            loadBalancerDnsName: "wso2is-dev-alb-1234567890.eu-west-1.elb.amazonaws.com",
            autoScalingGroupName: "wso2is-dev-nodes-4f2a",
            nodeCount: 2,
        };
        fs.writeFileSync(
            path.join(bin, "pulumi"),
            `#!/bin/sh\necho "$@" >> ${tmp.dir}/pulumi-args\ncat <<'EOF'\n${JSON.stringify(outputs)}\nEOF\n`,
            { mode: 0o755 },
        );
        const env = { PATH: `${bin}:${process.env.PATH}` };
        const args = [
            "--stack",
            "dev",
            "--ca",
            ca.caPath,
            "--http-port",
            String(httpPort),
            "--requests",
            "5",
        ];
        const r = await verify([...args, "--skip", "dns"], env);
        assert.strictEqual(r.code, 0, r.stdout + r.stderr);
        assert.strictEqual(
            fs.readFileSync(path.join(tmp.dir, "pulumi-args"), "utf8").trim(),
            "stack output --json --stack dev",
        );
        assert.match(r.stdout, /^verify https:\/\/localhost:\d+ \(aws, stack dev\)/m);
        assert.match(
            r.stdout,
            /^SKIP {2}nodes +per-node health on aws needs the npm packages @aws-sdk\/client-auto-scaling, @aws-sdk\/client-elastic-load-balancing-v2, @aws-sdk\/client-ssm .*npm install --no-save @aws-sdk\/client-auto-scaling/m,
        );
        // the DNS check compares with the ALB, which does not resolve here
        const dns = await verify(args, env);
        assert.strictEqual(dns.code, 1);
        assert.match(
            dns.stdout,
            /^FAIL {2}dns +localhost -> .*, but wso2is-dev-alb-1234567890\.eu-west-1\.elb\.amazonaws\.com -> nothing/m,
        );
        const drill = await verify([...args, "--skip", "dns", "--failover", "--yes"], env);
        assert.strictEqual(drill.code, 2);
        assert.match(drill.stderr, /per-node health on aws needs the npm packages/);
    });

    it("--failover without --yes and without a terminal refuses (exit 2)", async () => {
        const r = await verify(
            [
                ...common(),
                "--requests",
                "5",
                "--failover",
                "--node-control",
                "test/integration/support/verify-node-control.ts",
            ],
            {
                VERIFY_STANDIN_ADMIN: adminUrl,
            },
        );
        assert.strictEqual(r.code, 2, r.stdout + r.stderr);
        assert.match(r.stderr, /refusing --failover without a terminal to confirm on: pass --yes/);
        assert.deepStrictEqual(calls, [], "no node was touched");
    });

    it("--failover kills and restores one node under a steady stream: 0 failed requests, times measured", async () => {
        const servedBefore = { a: a.served.length, b: b.served.length };
        const r = await verify(
            [
                ...common(),
                ...(
                    "--requests 20 --failover --yes --node-control test/integration/support/verify-node-control.ts " +
                    // nginx retries a failed node only after fail_timeout (5 s): a 6 s tail shows node-a back in use
                    "--clients 8 --interval-ms 20 --warmup 1 --hold 3 --tail 6 --poll 0.2"
                ).split(" "),
            ],
            { VERIFY_STANDIN_ADMIN: adminUrl },
        );
        console.log(r.stdout.replace(/^/gm, "      "));
        assert.strictEqual(r.code, 0, `${r.stdout}\n${r.stderr}`);
        assert.match(r.stdout, /^PASS {2}nodes +2\/2 healthy \(stand-in probe: node-a UP, node-b UP\)/m);
        const line =
            /^PASS {2}failover +node-a: out of rotation ([\d.]+) s after it was taken out, healthy again ([\d.]+) s after it was started; (\d+) requests, 0 failed/m.exec(
                r.stdout,
            );
        assert.ok(line, r.stdout);
        const [outS, backS, requests] = [Number(line[1]), Number(line[2]), Number(line[3])];
        assert.ok(outS < 5 && backS < 5, `times: out ${outS} s, back ${backS} s`);
        assert.ok(requests > 100, `a steady stream: ${requests} requests`);
        assert.deepStrictEqual(
            calls.map((c) => c.replace(/ at \d+$/, "")),
            ["kill node-a", "start node-a"],
        );
        // The drill really took node-a away and back: node-b carried the stream meanwhile.
        const [killedAt, startedAt] = calls.map((c) => Number(/ at (\d+)$/.exec(c)![1]));
        const during = (n: Backend) => n.served.filter((s) => s.t > killedAt + 50 && s.t < startedAt).length;
        assert.strictEqual(during(a), 0, "node-a served nothing while killed");
        assert.ok(during(b) > 0, "node-b served while node-a was out");
        assert.ok(a.served.length > servedBefore.a && b.served.length > servedBefore.b);
        assert.ok(
            a.served.some((s) => s.t > startedAt),
            "node-a served again after its restart",
        );
    });

    it("--failover refuses with fewer than 2 healthy nodes", async () => {
        b.kill();
        calls.length = 0;
        try {
            const r = await verify(
                [
                    ...common(),
                    "--requests",
                    "5",
                    "--failover",
                    "--yes",
                    "--node-control",
                    "test/integration/support/verify-node-control.ts",
                    "--skip",
                    "nodes",
                ],
                { VERIFY_STANDIN_ADMIN: adminUrl },
            );
            assert.strictEqual(r.code, 2, r.stdout + r.stderr);
            assert.match(
                r.stderr,
                /refusing --failover: 1 of 2 node\(s\) healthy \(node-a UP, node-b no answer\)/,
            );
            assert.deepStrictEqual(calls, [], "no node was touched");
        } finally {
            await b.start();
        }
    });
});
