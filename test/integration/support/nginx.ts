// Stand-ins and real programs the nginx-fronted integration tests share (nginx.test.ts,
// verify.test.ts): a stand-in IS node (HTTPS, crashes like a killed process), the real nginx
// started on a rendered nginx.conf, and a test CA made by openssl.
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as net from "net";
import * as path from "path";

export const LOOPBACK = "127.0.0.1";
export const HEALTH = "/api/health-check/v1.0/health";

/** A stand-in IS node: HTTPS, names itself in the body, issues a JSESSIONID like Tomcat. */
export class Backend {
    server?: https.Server;
    readonly sockets = new Set<net.Socket>();
    /** Every request it served (health checks excluded), with arrival time. */
    readonly served: { t: number; path: string }[] = [];
    lastHeaders: http.IncomingHttpHeaders = {};
    lastServername: string | false = false;
    /** A crashed process accepts nothing: connections the closing listener still hands over are dropped. */
    private dead = false;

    constructor(
        readonly name: string,
        readonly port: number,
        private readonly tls: { key: Buffer; cert: Buffer },
        /** Extra routes tried first (e.g. OIDC discovery); return true when handled. */
        private readonly routes?: (req: http.IncomingMessage, res: http.ServerResponse) => boolean,
    ) {}

    async start(): Promise<void> {
        const server = https.createServer(this.tls, (req, res) => this.handle(req, res));
        server.keepAliveTimeout = 20_000; // Tomcat's connectionTimeout in IS; nginx's idle timeout is 15 s
        this.dead = false;
        server.on("connection", (s: net.Socket) => {
            if (this.dead) {
                s.destroy();
                return;
            }
            this.sockets.add(s);
            s.on("close", () => this.sockets.delete(s));
        });
        await new Promise<void>((resolve, reject) => {
            server.once("error", reject);
            server.listen(this.port, LOOPBACK, () => resolve());
        });
        this.server = server;
    }

    /** Dies like a crashed node: stops listening and drops every connection at once. */
    kill(): void {
        this.dead = true;
        this.server?.close();
        for (const s of this.sockets) s.destroy();
        this.sockets.clear();
        this.server = undefined;
    }

    private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
        const url = req.url ?? "/";
        if (this.dead) {
            req.socket.destroy();
            return;
        }
        if (this.routes?.(req, res)) {
            if (url !== HEALTH) this.served.push({ t: Date.now(), path: url });
            return;
        }
        if (url === HEALTH) {
            res.writeHead(200, { "content-type": "application/json" });
            res.end('{"health":[{"key":"status","value":"UP"}]}');
            return;
        }
        if (url === `/crash/${this.name}`) {
            // a node dying after it received the request (request_sent for nginx)
            req.socket.destroy();
            return;
        }
        this.served.push({ t: Date.now(), path: url });
        this.lastHeaders = req.headers;
        this.lastServername = (req.socket as unknown as { servername?: string | false }).servername ?? false;
        const headers: http.OutgoingHttpHeaders = { "content-type": "text/plain" };
        if (!/(^|;\s*)JSESSIONID=/.test(req.headers.cookie ?? "")) {
            const id = `${this.name}-${crypto.randomBytes(8).toString("hex")}`;
            headers["set-cookie"] = `JSESSIONID=${id}; Path=/; Secure; HttpOnly`;
        }
        req.resume();
        req.on("end", () => {
            res.writeHead(200, headers);
            res.end(this.name);
        });
    }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `nginx -t` on a config: exit status and output. */
export function nginxTest(conf: string, prefix: string): { status: number | null; output: string } {
    const r = spawnSync("nginx", ["-t", "-c", conf, "-p", prefix], { encoding: "utf8" });
    return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** The real nginx in the foreground on a config; killed at process exit if a test forgets. */
export class NginxProcess {
    private proc?: ChildProcess;
    output = "";
    private readonly killOnExit = () => this.proc?.kill("SIGKILL");

    start(conf: string, prefix: string): void {
        this.proc = spawn("nginx", ["-c", conf, "-p", prefix, "-g", "daemon off;"], {
            stdio: ["ignore", "pipe", "pipe"],
        });
        this.proc.stdout!.on("data", (d) => (this.output += d));
        this.proc.stderr!.on("data", (d) => (this.output += d));
        process.on("exit", this.killOnExit);
    }

    get running(): boolean {
        return !!this.proc && this.proc.exitCode === null && this.proc.signalCode === null;
    }

    /** Polls `probe` until it resolves truthy; throws with nginx's output if nginx exits or time runs out. */
    async waitUntil<T>(probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
            if (!this.running) throw new Error(`nginx exited: ${this.output}`);
            if (Date.now() > deadline)
                throw new Error(`nginx did not answer within ${timeoutMs / 1000} s: ${this.output}`);
            const r = await probe().catch(() => undefined);
            if (r) return r;
            await sleep(100);
        }
    }

    async stop(): Promise<void> {
        const p = this.proc;
        if (p && this.running) {
            const exited = new Promise((r) => p.once("exit", r));
            p.kill("SIGTERM");
            await Promise.race([exited, sleep(5_000)]);
            if (this.running) p.kill("SIGKILL");
        }
        process.removeListener("exit", this.killOnExit);
    }
}

/**
 * A test CA and a server certificate it signed (P-256, openssl), valid `days` days for
 * `names` (DNS names and IP addresses). Files ca.crt, tls.crt, tls.key in `dir`.
 */
export function testCa(
    dir: string,
    names: string[],
    days = 30,
): { caPath: string; certPath: string; keyPath: string; key: Buffer; cert: Buffer } {
    const p = (f: string) => path.join(dir, f);
    const openssl = (...args: string[]) => {
        const r = spawnSync("openssl", args, { encoding: "utf8" });
        if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
    };
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    openssl(
        "req",
        "-x509",
        ...ec,
        "-days",
        String(days + 1),
        "-keyout",
        p("ca.key"),
        "-out",
        p("ca.crt"),
        "-subj",
        "/CN=wso2is-cluster test CA",
    );
    openssl("req", ...ec, "-keyout", p("tls.key"), "-out", p("tls.csr"), "-subj", `/CN=${names[0]}`);
    const san = names.map((n) => (net.isIP(n) ? `IP:${n}` : `DNS:${n}`)).join(",");
    fs.writeFileSync(p("ext.cnf"), `subjectAltName=${san}\nextendedKeyUsage=serverAuth\n`);
    openssl(
        "x509",
        "-req",
        "-in",
        p("tls.csr"),
        "-CA",
        p("ca.crt"),
        "-CAkey",
        p("ca.key"),
        "-CAcreateserial",
        "-days",
        String(days),
        "-extfile",
        p("ext.cnf"),
        "-out",
        p("tls.crt"),
    );
    return {
        caPath: p("ca.crt"),
        certPath: p("tls.crt"),
        keyPath: p("tls.key"),
        key: fs.readFileSync(p("tls.key")),
        cert: fs.readFileSync(p("tls.crt")),
    };
}
