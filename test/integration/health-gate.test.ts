// The Azure rolling-change health gate (components/render/healthGate.ts), run for real: bash,
// curl and a certificate chain made by openssl; a Node HTTPS server on 127.0.0.1 stands in for
// IS's 9443 (its health path answers what each test says). What the gate must do: pass only when
// the gateway's probe would (200, the certificate verified against the cluster CA for the
// public hostname), and fail with a message when the time is up.
import { strict as assert } from "assert";
import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as https from "https";
import * as path from "path";
import { renderHealthGate } from "../../components/render/healthGate";
import { ensureCommands, freePort, tempDir } from "./support/system";

const hostname = "is.example.com";
const healthPath = "/api/health-check/v1.0/health";

function openssl(args: string[], cwd: string): void {
    execFileSync("openssl", args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
}

/** A CA and a server certificate for `hostname` signed by it (what backendTls.ts makes). */
function pki(dir: string, name: string): { caPem: string; key: string; cert: string } {
    const p = (f: string) => `${name}-${f}`;
    openssl(
        [
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            p("ca.key"),
            "-out",
            p("ca.pem"),
            "-subj",
            `/CN=${name} CA`,
            "-days",
            "2",
        ],
        dir,
    );
    openssl(
        [
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            p("server.key"),
            "-out",
            p("server.csr"),
            "-subj",
            `/CN=${hostname}`,
        ],
        dir,
    );
    fs.writeFileSync(path.join(dir, p("ext")), `subjectAltName=DNS:${hostname},IP:127.0.0.1\n`);
    openssl(
        [
            "x509",
            "-req",
            "-in",
            p("server.csr"),
            "-CA",
            p("ca.pem"),
            "-CAkey",
            p("ca.key"),
            "-CAcreateserial",
            "-out",
            p("server.pem"),
            "-days",
            "2",
            "-extfile",
            p("ext"),
        ],
        dir,
    );
    const read = (f: string) => fs.readFileSync(path.join(dir, p(f)), "utf8");
    return { caPem: read("ca.pem"), key: read("server.key"), cert: read("server.pem") };
}

function run(script: string, dir: string): Promise<{ status: number | null; out: string; seconds: number }> {
    const file = path.join(dir, `gate-${Math.random().toString(16).slice(2)}.sh`);
    fs.writeFileSync(file, script, { mode: 0o700 });
    const started = Date.now();
    return new Promise((resolve) => {
        const child = spawn("bash", [file], { stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        child.stdout.on("data", (d) => (out += d));
        child.stderr.on("data", (d) => (out += d));
        child.on("close", (status) => resolve({ status, out, seconds: (Date.now() - started) / 1000 }));
    });
}

describe("Azure health gate (render/healthGate.ts) under bash and curl", function () {
    this.timeout(120000);
    let tmp: ReturnType<typeof tempDir>;
    let good: ReturnType<typeof pki>;
    let other: ReturnType<typeof pki>;
    let server: https.Server | undefined;
    let port: number;
    /** What the stand-in answers on the health path, in order (the last one repeats). */
    let answers: number[] = [200];
    let hits = 0;
    let hosts: string[] = [];

    before(function () {
        ensureCommands({ bash: "bash", curl: "curl", openssl: "openssl", shellcheck: "shellcheck" });
        tmp = tempDir("health-gate");
        good = pki(tmp.dir, "cluster");
        other = pki(tmp.dir, "other");
    });
    after(function () {
        tmp?.cleanup();
    });
    beforeEach(async function () {
        port = await freePort();
        hits = 0;
        hosts = [];
        server = https.createServer({ key: good.key, cert: good.cert }, (req, res) => {
            const status = req.url === healthPath ? answers[Math.min(hits++, answers.length - 1)] : 404;
            hosts.push(String(req.headers.host));
            res.writeHead(status).end();
        });
        await new Promise<void>((resolve) => server!.listen(port, "127.0.0.1", resolve));
    });
    afterEach(async function () {
        await new Promise((resolve) => server?.close(resolve));
    });

    const gate = (over: Partial<Parameters<typeof renderHealthGate>[0]> = {}) =>
        renderHealthGate({
            node: "node-1",
            ip: "127.0.0.1",
            hostname,
            port,
            path: healthPath,
            caPem: good.caPem,
            timeoutSeconds: 30,
            settleSeconds: 0,
            marker: "vm=00000000-0000-0000-0000-000000000000/spec=" + "a".repeat(64),
            ...over,
        });

    it("is shellcheck-clean", function () {
        const file = path.join(tmp.dir, "gate.sh");
        fs.writeFileSync(file, gate());
        const r = execFileSync("shellcheck", ["-s", "bash", "--format", "gcc", file], { encoding: "utf8" });
        assert.equal(r, "");
    });

    it("passes at once when the node answers 200 with the cluster's certificate for the hostname", async function () {
        answers = [200];
        const r = await run(gate(), tmp.dir);
        assert.equal(r.status, 0, r.out);
        assert.match(r.out, /answers 200 after \d+ s/);
        // The probe's Host header is the public hostname, as the gateway sends it.
        assert.deepEqual(hosts, [`${hostname}:${port}`]);
    });

    it("waits while the node answers 503 (IS starting), then passes", async function () {
        answers = [503, 503, 200];
        const r = await run(gate(), tmp.dir);
        assert.equal(r.status, 0, r.out);
        assert.match(
            r.out,
            /waiting for is\.example\.com at 127\.0\.0\.1:\d+\/api\/health-check\/v1\.0\/health \(now: 503\)/,
        );
        assert.equal(hits, 3);
        assert.ok(r.seconds >= 9, `waited between attempts (${r.seconds} s)`);
    });

    it("fails (exit 1, a message) when the time is up", async function () {
        answers = [503];
        const r = await run(gate({ timeoutSeconds: 0 }), tmp.dir);
        assert.equal(r.status, 1, r.out);
        assert.match(r.out, /did not answer 200 within 0 s \(last: 503\)/);
    });

    it("fails when the certificate does not chain to the cluster CA (the gateway would refuse it too)", async function () {
        answers = [200];
        const r = await run(gate({ caPem: other.caPem, timeoutSeconds: 0 }), tmp.dir);
        assert.equal(r.status, 1, r.out);
        assert.match(r.out, /last: 000/);
        assert.equal(hits, 0, "no request got through");
    });

    it("fails when nothing listens", async function () {
        const r = await run(gate({ port: await freePort(), timeoutSeconds: 0 }), tmp.dir);
        assert.equal(r.status, 1, r.out);
    });

    it("refuses inputs that are not plain words or one PEM certificate", function () {
        assert.throws(() => gate({ hostname: "is.example.com; rm -rf /" }), /not a plain word/);
        assert.throws(
            () => gate({ caPem: "-----BEGIN CERTIFICATE-----\nPEM\n-----END CERTIFICATE-----" }),
            /one PEM/,
        );
    });
});
