// The rendered nginx.conf in a real nginx, in front of two local HTTPS stand-ins for IS nodes:
// `nginx -t`, stickiness, spread, and one node killed and brought back under load.
// Everything listens on 127.0.0.1 only.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as https from "https";
import * as http from "http";
import * as path from "path";
import { AFFINITY_COOKIE, NginxArgs, renderNginxConf } from "../../components/render/nginx";
import { Backend, HEALTH, LOOPBACK, NginxProcess, nginxTest } from "./support/nginx";
import { ensureCommands, freePort, tempDir } from "./support/system";

const HOSTNAME = "is.test.local";

interface Reply {
    status: number;
    body: string;
    headers: http.IncomingHttpHeaders;
}

/** A browser-like client: its own keep-alive connection to nginx and its own cookie jar. */
class Client {
    readonly cookies = new Map<string, string>();
    readonly agent = new https.Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false });
    constructor(private readonly port: number) {}

    request(pathname: string, method = "GET", body?: string): Promise<Reply> {
        return new Promise((resolve, reject) => {
            const headers: http.OutgoingHttpHeaders = { host: HOSTNAME };
            if (this.cookies.size > 0)
                headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
            if (body !== undefined) headers["content-type"] = "application/json";
            const req = https.request(
                {
                    host: LOOPBACK,
                    port: this.port,
                    servername: HOSTNAME,
                    path: pathname,
                    method,
                    headers,
                    agent: this.agent,
                },
                (res) => {
                    const chunks: Buffer[] = [];
                    res.on("data", (c: Buffer) => chunks.push(c));
                    res.on("error", reject);
                    res.on("end", () => {
                        for (const c of res.headers["set-cookie"] ?? []) {
                            const [pair] = c.split(";");
                            const eq = pair.indexOf("=");
                            this.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
                        }
                        resolve({
                            status: res.statusCode ?? 0,
                            body: Buffer.concat(chunks).toString(),
                            headers: res.headers,
                        });
                    });
                },
            );
            req.setTimeout(10_000, () => req.destroy(new Error("client timeout after 10 s")));
            req.on("error", reject);
            req.end(body);
        });
    }

    close(): void {
        this.agent.destroy();
    }
}

function plainGet(port: number, pathname: string): Promise<Reply> {
    return new Promise((resolve, reject) => {
        const req = http.get({ host: LOOPBACK, port, path: pathname, headers: { host: HOSTNAME } }, (res) => {
            res.resume();
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body: "", headers: res.headers }));
        });
        req.setTimeout(5_000, () => req.destroy(new Error("timeout")));
        req.on("error", reject);
    });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("integration/nginx: rendered nginx.conf in front of two HTTPS nodes", function () {
    this.timeout(60_000);

    let tmp: { dir: string; cleanup: () => void };
    let tls: { key: Buffer; cert: Buffer };
    let certPath: string;
    let keyPath: string;
    let confPath: string;
    let httpsPort: number;
    let httpPort: number;
    let a: Backend;
    let b: Backend;
    const nginx = new NginxProcess();
    const clients: Client[] = [];

    function args(extra: Partial<NginxArgs> = {}): NginxArgs {
        return {
            hostname: HOSTNAME,
            backends: [
                { address: LOOPBACK, port: a.port },
                { address: LOOPBACK, port: b.port },
            ],
            tlsCertificatePath: certPath,
            tlsKeyPath: keyPath,
            backendCaPath: certPath, // the stand-ins use the same self-signed cert: verify it
            listenAddress: LOOPBACK,
            listenHttps: httpsPort,
            listenHttp: httpPort,
            pidPath: path.join(tmp.dir, "nginx.pid"),
            errorLogPath: path.join(tmp.dir, "error.log"),
            accessLogPath: path.join(tmp.dir, "access.log"),
            tempDir: path.join(tmp.dir, "tmp"),
            ...extra,
        };
    }

    function client(): Client {
        const c = new Client(httpsPort);
        clients.push(c);
        return c;
    }

    before(async () => {
        ensureCommands({ nginx: "nginx", openssl: "openssl" });
        tmp = tempDir("nginx");
        fs.chmodSync(tmp.dir, 0o755); // nginx workers (nobody when run as root) reach the temp dir
        fs.mkdirSync(path.join(tmp.dir, "tmp"));
        certPath = path.join(tmp.dir, "tls.crt");
        keyPath = path.join(tmp.dir, "tls.key");
        const r = spawnSync(
            "openssl",
            [
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-days",
                "2",
                "-keyout",
                keyPath,
                "-out",
                certPath,
                "-subj",
                `/CN=${HOSTNAME}`,
                "-addext",
                `subjectAltName=DNS:${HOSTNAME},IP:${LOOPBACK}`,
            ],
            { encoding: "utf8" },
        );
        assert.strictEqual(r.status, 0, `openssl failed: ${r.stderr}`);
        tls = { key: fs.readFileSync(keyPath), cert: fs.readFileSync(certPath) };

        [httpsPort, httpPort] = [await freePort(), await freePort()];
        a = new Backend("node-a", await freePort(), tls);
        b = new Backend("node-b", await freePort(), tls);
        await a.start();
        await b.start();
        confPath = path.join(tmp.dir, "nginx.conf");
        fs.writeFileSync(confPath, renderNginxConf(args()));
    });

    after(async () => {
        for (const c of clients) c.close();
        await nginx.stop();
        a?.kill();
        b?.kill();
        tmp?.cleanup();
    });

    it("nginx -t accepts the rendered nginx.conf and the conf.d snippet", () => {
        const full = nginxTest(confPath, tmp.dir);
        assert.strictEqual(full.status, 0, full.output);
        assert.match(full.output, /syntax is ok/);
        assert.match(full.output, /test is successful/);

        // the snippet, included in a minimal main config as a user's nginx.conf would
        const snippetPath = path.join(tmp.dir, "wso2is.conf");
        const { pidPath: _pid, ...rest } = args();
        fs.writeFileSync(snippetPath, renderNginxConf({ ...rest, fullConfig: false }));
        const wrapper = path.join(tmp.dir, "wrapper.conf");
        fs.writeFileSync(
            wrapper,
            [
                `pid ${path.join(tmp.dir, "wrapper.pid")};`,
                `error_log ${path.join(tmp.dir, "wrapper-error.log")};`,
                "events {}",
                `http { ${["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((k) => `${k}_temp_path ${tmp.dir}/tmp/${k};`).join(" ")}`,
                `  include ${snippetPath}; }`,
                "",
            ].join("\n"),
        );
        const snippet = nginxTest(wrapper, tmp.dir);
        assert.strictEqual(snippet.status, 0, snippet.output);
    });

    it("nginx -t rejects a broken config (so the check above can fail)", () => {
        const broken = path.join(tmp.dir, "broken.conf");
        const good = fs.readFileSync(confPath, "utf8");
        // a real-looking mistake: the NGINX Plus `sticky` directive in community nginx
        const bad = good.replace("hash $wso2is_affinity consistent;", "sticky cookie srv_id expires=1h;");
        assert.notStrictEqual(bad, good);
        fs.writeFileSync(broken, bad);
        const r = nginxTest(broken, tmp.dir);
        assert.notStrictEqual(r.status, 0);
        assert.match(r.output, /\[emerg\].*unknown directive "sticky"/);
        assert.match(r.output, /test failed/);
    });

    it("starts the real nginx on loopback and answers the health path from any node", async () => {
        nginx.start(confPath, tmp.dir);
        const c = client();
        const reply = await nginx.waitUntil(() => c.request(HEALTH));
        assert.strictEqual(reply.status, 200);
        assert.match(reply.body, /"UP"/);
        assert.ok(
            !(reply.headers["set-cookie"] ?? []).some((s) => s.startsWith(`${AFFINITY_COOKIE}=`)),
            "no affinity cookie on the health path",
        );
        assert.strictEqual(reply.headers.server, "nginx", "server_tokens off: no version");
    });

    it("redirects HTTP to HTTPS on the public name", async () => {
        const r = await plainGet(httpPort, "/oauth2/authorize?x=1");
        assert.strictEqual(r.status, 301);
        assert.strictEqual(r.headers.location, `https://${HOSTNAME}:${httpsPort}/oauth2/authorize?x=1`);
    });

    it("passes the forwarding headers and SNI to the node", async () => {
        const c = client();
        const r = await c.request("/headers");
        assert.strictEqual(r.status, 200);
        const node = r.body === "node-a" ? a : b;
        const h = node.lastHeaders;
        assert.strictEqual(h.host, HOSTNAME);
        assert.strictEqual(h["x-forwarded-proto"], "https");
        assert.strictEqual(h["x-forwarded-host"], HOSTNAME);
        assert.strictEqual(h["x-forwarded-port"], String(httpsPort));
        assert.strictEqual(h["x-forwarded-for"], LOOPBACK);
        assert.strictEqual(node.lastServername, HOSTNAME);
    });

    it("keeps a session on the node that issued it, for 50 requests", async () => {
        const c = client();
        const first = await c.request("/oauth2/authorize");
        assert.strictEqual(first.status, 200);
        const lb = c.cookies.get(AFFINITY_COOKIE);
        assert.match(lb ?? "", /^[0-9a-f]{32}$/, "nginx sets its affinity cookie on the first response");
        const setCookie = (first.headers["set-cookie"] ?? []).find((s) =>
            s.startsWith(`${AFFINITY_COOKIE}=`),
        )!;
        assert.match(setCookie, /; Path=\/; Secure; HttpOnly; SameSite=None$/);
        assert.ok(
            c.cookies.get("JSESSIONID")?.startsWith(`${first.body}-`),
            "JSESSIONID issued by the node that served it",
        );
        const seen = new Map<string, number>();
        for (let i = 0; i < 50; i++) {
            const r = await c.request(i % 2 ? "/authenticationendpoint/login.do" : "/commonauth");
            assert.strictEqual(r.status, 200);
            seen.set(r.body, (seen.get(r.body) ?? 0) + 1);
            assert.ok(
                !(r.headers["set-cookie"] ?? []).some((s) => s.startsWith(`${AFFINITY_COOKIE}=`)),
                "cookie set once",
            );
        }
        console.log(
            `      stickiness: first response from ${first.body}; next 50 requests: ${JSON.stringify(Object.fromEntries(seen))}`,
        );
        assert.deepStrictEqual([...seen.keys()], [first.body]);
        assert.strictEqual(seen.get(first.body), 50);
    });

    it("spreads new sessions (and cookie-less requests) over both nodes", async () => {
        const sessions = new Map<string, number>();
        for (let i = 0; i < 40; i++) {
            const c = client();
            const first = await c.request("/");
            const again = await c.request("/");
            assert.strictEqual(again.body, first.body, "sticky from the second request on");
            sessions.set(first.body, (sessions.get(first.body) ?? 0) + 1);
            c.close();
        }
        const anonymous = new Map<string, number>();
        const c = client();
        for (let i = 0; i < 200; i++) {
            c.cookies.clear();
            const r = await c.request("/");
            anonymous.set(r.body, (anonymous.get(r.body) ?? 0) + 1);
        }
        console.log(
            `      spread: 40 sessions ${JSON.stringify(Object.fromEntries(sessions))}; ` +
                `200 cookie-less requests ${JSON.stringify(Object.fromEntries(anonymous))}`,
        );
        for (const m of [sessions, anonymous]) {
            assert.ok(
                (m.get("node-a") ?? 0) > 0 && (m.get("node-b") ?? 0) > 0,
                JSON.stringify(Object.fromEntries(m)),
            );
        }
    });

    it("loses no request when a node dies under load, and takes it back when it returns", async function () {
        const CLIENTS = 20;
        const KILL_AT = 3_000;
        const RESTART_AT = 6_000;
        const END_AT = 12_000;
        const accessLog = path.join(tmp.dir, "access.log");
        const errorLog = path.join(tmp.dir, "error.log");
        const logStart = fs.statSync(accessLog).size;
        const errorLogStart = fs.statSync(errorLog).size;

        // sessions first, so each client has its node before the clock starts
        const pool: { c: Client; home: string }[] = [];
        while (
            pool.length < CLIENTS ||
            !pool.some((p) => p.home === "node-a") ||
            !pool.some((p) => p.home === "node-b")
        ) {
            assert.ok(pool.length < 200, "could not get sessions on both nodes");
            const c = client();
            const r = await c.request("/");
            assert.strictEqual(r.status, 200);
            pool.push({ c, home: r.body });
        }
        const loaders = pool;

        type Rec = { t: number; node?: string; client: number; error?: string };
        const recs: Rec[] = [];
        const t0 = Date.now();
        let killedAt = 0;
        let restartedAt = 0;
        let servedAtKill = 0;
        let servedAtRestart = 0;
        const schedule = (async () => {
            await sleep(KILL_AT - (Date.now() - t0));
            killedAt = Date.now();
            a.kill();
            // Counted by position, not by clock: a request served in the same millisecond just
            // before the kill is not one served while down.
            servedAtKill = a.served.length;
            await sleep(RESTART_AT - (Date.now() - t0));
            // Stamped before start(): node-a may serve before start() resolves, and that is "after".
            restartedAt = Date.now();
            servedAtRestart = a.served.length;
            await a.start();
        })();
        await Promise.all(
            loaders.map(async ({ c }, i) => {
                while (Date.now() - t0 < END_AT) {
                    try {
                        const r = await c.request("/oauth2/userinfo");
                        recs.push(
                            r.status >= 200 && r.status < 300
                                ? { t: Date.now(), node: r.body, client: i }
                                : { t: Date.now(), client: i, error: `HTTP ${r.status}` },
                        );
                    } catch (e) {
                        recs.push({ t: Date.now(), client: i, error: (e as Error).message });
                    }
                }
            }),
        );
        await schedule;

        const failures = recs.filter((r) => r.error);
        const phase = (r: Rec) => (r.t < killedAt ? "before" : r.t < restartedAt ? "down" : "after");
        const table: Record<string, Record<string, number>> = { before: {}, down: {}, after: {} };
        for (const r of recs.filter((x) => x.node))
            table[phase(r)][r.node!] = (table[phase(r)][r.node!] ?? 0) + 1;
        const aReplies = recs.filter((r) => r.node === "node-a");
        const lastAAfterKill = Math.max(
            0,
            ...aReplies.filter((r) => r.t >= killedAt && r.t < restartedAt).map((r) => r.t - killedAt),
        );
        const firstABack = aReplies.find((r) => r.t >= restartedAt);
        const servedByADown = servedAtRestart - servedAtKill;
        const logLines = fs
            .readFileSync(accessLog, "utf8")
            .slice(logStart)
            .split("\n")
            .filter((l) => l.includes("/oauth2/userinfo"));
        const retried = logLines.filter((l) => /upstream=\S+, /.test(l)).length;
        const errors = fs.readFileSync(errorLog, "utf8").slice(errorLogStart).split("\n").filter(Boolean);
        const refused = errors.filter((l) => /Connection refused/.test(l)).length;
        const disabled = errors.filter((l) => /upstream server temporarily disabled/.test(l)).length;
        const reasons = new Map<string, number>();
        for (const l of errors) {
            const why = (/\*\d+ (.*?)(?:, client:|$)/.exec(l)?.[1] ?? l).replace(/\(\d+: /, "(");
            reasons.set(why, (reasons.get(why) ?? 0) + 1);
        }
        // clients whose home was node-a: all of them must have been served by node-b while a was down
        const homeA = loaders.map((p, i) => ({ ...p, i })).filter((p) => p.home === "node-a");
        const movedToB = homeA.filter((p) =>
            recs.some((r) => r.client === p.i && phase(r) === "down" && r.node === "node-b"),
        ).length;
        const backOnA = homeA.filter((p) =>
            recs.some((r) => r.client === p.i && phase(r) === "after" && r.node === "node-a"),
        ).length;
        const elapsed = Math.max(...recs.map((r) => r.t)) - t0;

        console.log(
            `      failover: ${loaders.length} clients for ${(elapsed / 1000).toFixed(1)} s; node-a killed at ${killedAt - t0} ms, restarted at ${restartedAt - t0} ms`,
        );
        console.log(
            `      total requests ${recs.length}, failed ${failures.length}${
                failures.length
                    ? ` (${failures
                          .slice(0, 3)
                          .map((f) => f.error)
                          .join("; ")})`
                    : ""
            }`,
        );
        console.log(
            `      per node per phase: before ${JSON.stringify(table.before)}, down ${JSON.stringify(table.down)}, after ${JSON.stringify(table.after)}`,
        );
        console.log(
            `      last response from node-a after the kill: ${lastAAfterKill} ms; requests node-a received while down: ${servedByADown}`,
        );
        console.log(
            `      traffic back on node-a ${firstABack ? `${firstABack.t - restartedAt} ms` : "never"} after its restart`,
        );
        console.log(
            `      node-a sessions: ${homeA.length}; moved to node-b while down: ${movedToB}; back on node-a after: ${backOnA}`,
        );
        console.log(
            `      requests nginx retried on the other node (access log): ${retried} of ${logLines.length}`,
        );
        console.log(
            `      nginx error log: ${errors.length} lines, ${refused} connection refused, ${disabled} "upstream server temporarily disabled"`,
        );
        for (const [why, n] of reasons) console.log(`        ${n} x ${why}`);

        assert.strictEqual(failures.length, 0, `failed requests: ${JSON.stringify(failures.slice(0, 5))}`);
        assert.ok(
            (table.before["node-a"] ?? 0) > 0 && (table.before["node-b"] ?? 0) > 0,
            "both nodes served before the kill",
        );
        assert.strictEqual(servedByADown, 0);
        assert.ok(lastAAfterKill < 250, `node-a still answered ${lastAAfterKill} ms after the kill`);
        assert.ok((table.down["node-b"] ?? 0) > 0, "node-b took the traffic");
        assert.strictEqual(
            movedToB,
            homeA.length,
            "every node-a session was served by node-b while node-a was down",
        );
        assert.ok(firstABack, "node-a got traffic again after its restart");
        assert.ok((table.after["node-a"] ?? 0) > 0);
        assert.strictEqual(backOnA, homeA.length, "node-a sessions came back to node-a");
    });

    it("retries a GET whose node died mid-request, but does not replay a POST", async () => {
        // a session on node-a (back in service after the previous test)
        let c: Client;
        for (;;) {
            c = client();
            const r = await c.request("/");
            if (r.body === "node-a") break;
        }
        const post = await c.request("/crash/node-a", "POST", '{"grant_type":"authorization_code"}');
        const get = await c.request("/crash/node-a");
        console.log(
            `      node-a dies mid-request: POST -> ${post.status}, GET -> ${get.status} from ${get.body}`,
        );
        assert.strictEqual(post.status, 502, "a POST that reached a node is not replayed on another one");
        assert.strictEqual(get.status, 200);
        assert.strictEqual(get.body, "node-b", "the GET was retried on node-b");
    });
});
