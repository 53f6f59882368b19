// A small HTTP(S) client on Node's own https/http: the public hostname for SNI, Host and
// certificate checks, an optional address to connect to instead (a cluster not yet in DNS),
// an optional CA (self-signed dev clusters), a cookie jar per simulated browser.
import * as http from "http";
import * as https from "https";
import * as net from "net";
import * as tls from "tls";

/** Where and how to reach the cluster's public endpoint. */
export interface Endpoint {
    /** Base URL users reach, e.g. https://is.example.com (a port when it is not 443). */
    url: URL;
    /** Connect here instead of resolving url's hostname (the DNS check still looks at the name). */
    address?: string;
    /** PEM CA bundle that replaces the system's trust store. */
    ca?: Buffer;
    /** Plain-HTTP port for the redirect check (default 80). */
    httpPort: number;
    /** Per request (default 10 s). */
    timeoutMs: number;
}

export interface Reply {
    status: number;
    headers: http.IncomingHttpHeaders;
    body: string;
    /** Time to the last byte, in ms. */
    ms: number;
}

/** A browser's cookies for one site: enough to carry the affinity cookie and JSESSIONID. */
export class CookieJar {
    readonly cookies = new Map<string, string>();

    header(): string | undefined {
        return this.cookies.size ? [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ") : undefined;
    }

    store(setCookie: string[] | undefined): void {
        for (const c of setCookie ?? []) {
            const [pair] = c.split(";");
            const eq = pair.indexOf("=");
            if (eq > 0) this.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
        }
    }
}

export interface RequestOptions {
    /** Plain HTTP to endpoint.httpPort instead of HTTPS. */
    plain?: boolean;
    jar?: CookieJar;
    /** A keep-alive agent (a browser's connection); default: a new connection per request. */
    agent?: https.Agent;
}

/** GET `path` on the endpoint; resolves for every HTTP status, rejects on network/TLS errors. */
export function get(ep: Endpoint, path: string, opts: RequestOptions = {}): Promise<Reply> {
    const started = process.hrtime.bigint();
    const hostname = ep.url.hostname.replace(/^\[|\]$/g, "");
    const headers: http.OutgoingHttpHeaders = {
        host: opts.plain ? hostWithPort(hostname, ep.httpPort, 80) : ep.url.host,
        "user-agent": "wso2is-cluster-verify",
        accept: "application/json, */*",
    };
    const cookie = opts.jar?.header();
    if (cookie) headers.cookie = cookie;
    const common = { host: ep.address ?? hostname, path, method: "GET", headers };
    return new Promise((resolve, reject) => {
        const onResponse = (res: http.IncomingMessage) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("error", reject);
            res.on("end", () => {
                opts.jar?.store(res.headers["set-cookie"]);
                resolve({
                    status: res.statusCode ?? 0,
                    headers: res.headers,
                    body: Buffer.concat(chunks).toString("utf8"),
                    ms: Number(process.hrtime.bigint() - started) / 1e6,
                });
            });
        };
        const req = opts.plain
            ? http.request({ ...common, port: ep.httpPort, agent: false }, onResponse)
            : https.request(
                  {
                      ...common,
                      port: Number(ep.url.port || 443),
                      servername: isIpLiteral(hostname) ? undefined : hostname,
                      ca: ep.ca,
                      agent: opts.agent ?? false,
                      // Node checks the certificate against `servername`, i.e. the public name.
                      checkServerIdentity: (_host, cert) => tls.checkServerIdentity(hostname, cert),
                  },
                  onResponse,
              );
        req.setTimeout(ep.timeoutMs, () =>
            req.destroy(new Error(`no answer within ${ep.timeoutMs / 1000} s`)),
        );
        req.on("error", reject);
        req.end();
    });
}

export function isIpLiteral(host: string): boolean {
    return net.isIP(host.replace(/^\[|\]$/g, "")) !== 0;
}

function hostWithPort(host: string, port: number, dflt: number): string {
    const h = host.includes(":") ? `[${host}]` : host;
    return port === dflt ? h : `${h}:${port}`;
}

/** Percentile (nearest rank) of a list of numbers; 0 for an empty list. */
export function percentile(values: number[], p: number): number {
    if (values.length === 0) return 0;
    const sorted = [...values].sort((a, b) => a - b);
    const rank = Math.ceil((p / 100) * sorted.length);
    return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export function latencySummary(ms: number[]): { p50: number; p95: number; p99: number; max: number } {
    const r = (v: number) => Math.round(v * 10) / 10;
    return {
        p50: r(percentile(ms, 50)),
        p95: r(percentile(ms, 95)),
        p99: r(percentile(ms, 99)),
        max: r(ms.length ? Math.max(...ms) : 0),
    };
}
