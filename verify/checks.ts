// The checks, in the order a user meets the cluster: the name resolves, port 80 sends them to
// HTTPS, the certificate is valid, IS answers its health API, OIDC discovery names the public
// issuer, the JWKS answers, the load balancer sets its affinity cookie, and a burst of requests
// all succeed. Each returns one CheckResult; none throws.
import * as dns from "dns";
import * as https from "https";
import * as tls from "tls";
import { healthCheckPath } from "../components/model";
import { livenessPath as discoveryPath } from "../components/kubernetes/names";
import { AFFINITY_COOKIE } from "../components/render/nginx";
import { CookieJar, Endpoint, Reply, get, isIpLiteral, latencySummary } from "./http";
import type { CheckResult } from "./report";
import type { NodeControl } from "./controls/types";

/**
 * Affinity cookies by load balancer: the ALB's duration-based stickiness cookie is AWSALB
 * (AWS "Sticky sessions for your Application Load Balancer"), Application Gateway's
 * ApplicationGatewayAffinity (Azure "Application Gateway cookie-based affinity"), our nginx
 * and Traefik ingress use WSO2IS_LB (components/render/nginx.ts, components/kubernetes/ingress.ts).
 */
export const affinityCookies = ["AWSALB", "ApplicationGatewayAffinity", AFFINITY_COOKIE] as const;

export { discoveryPath, healthCheckPath };

export interface CheckContext {
    ep: Endpoint;
    /** Where the outputs say the load balancer is (used by the DNS check). */
    lbDnsName?: string;
    lbAddress?: string;
    /** Requests for the burst, and how many run at once. */
    requests: number;
    concurrency: number;
    /** The TLS check fails when the certificate expires in fewer days. */
    minCertDays: number;
    /** What to look at when the health API fails (target-specific). */
    healthHint: string;
    lookup?: (host: string) => Promise<string[]>;
}

const ms = (v: number) => `${Math.round(v)} ms`;

async function lookupAll(host: string): Promise<string[]> {
    const r = await dns.promises.lookup(host, { all: true });
    return [...new Set(r.map((a) => a.address))];
}

export async function checkDns(ctx: CheckContext): Promise<CheckResult> {
    const host = ctx.ep.url.hostname.replace(/^\[|\]$/g, "");
    const lookup = ctx.lookup ?? lookupAll;
    if (isIpLiteral(host)) return { name: "dns", status: "skip", summary: `${host} is an IP address` };
    let addrs: string[];
    try {
        addrs = await lookup(host);
    } catch (e) {
        const lb = ctx.lbDnsName ?? ctx.lbAddress;
        return {
            name: "dns",
            status: "fail",
            summary: `${host} does not resolve (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
            lookAt: lb
                ? `the DNS record of ${host}: point it at ${lb} (the load balancer)`
                : `the DNS record of ${host}${ctx.ep.address ? " (or skip this check with --skip dns while it is not in DNS)" : ""}`,
        };
    }
    const figures = { addresses: addrs };
    if (ctx.lbDnsName) {
        let lbAddrs: string[] = [];
        try {
            lbAddrs = await lookup(ctx.lbDnsName);
        } catch {
            /* reported below */
        }
        // An ALB's addresses change over time; a CNAME/alias to it resolves to the same set now.
        const shared = addrs.filter((a) => lbAddrs.includes(a));
        return shared.length
            ? {
                  name: "dns",
                  status: "pass",
                  summary: `${host} -> ${addrs.join(", ")} (the load balancer ${ctx.lbDnsName})`,
                  figures,
              }
            : {
                  name: "dns",
                  status: "fail",
                  summary: `${host} -> ${addrs.join(", ")}, but ${ctx.lbDnsName} -> ${lbAddrs.join(", ") || "nothing"}`,
                  lookAt: `the DNS record of ${host}: a CNAME or alias to ${ctx.lbDnsName}`,
                  figures,
              };
    }
    const expected = ctx.lbAddress ?? ctx.ep.address;
    if (expected && !isIpLiteral(expected)) {
        return { name: "dns", status: "pass", summary: `${host} -> ${addrs.join(", ")}`, figures };
    }
    if (expected && !addrs.includes(expected)) {
        return {
            name: "dns",
            status: "fail",
            summary: `${host} -> ${addrs.join(", ")}, not the load balancer's ${expected}`,
            lookAt: `the DNS record of ${host}: an A record for ${expected}`,
            figures,
        };
    }
    return {
        name: "dns",
        status: "pass",
        summary: `${host} -> ${addrs.join(", ")}${expected ? " (the load balancer's address)" : ""}`,
        figures,
    };
}

export async function checkRedirect(ctx: CheckContext): Promise<CheckResult> {
    const path = "/oauth2/authorize?verify=1";
    const where = `http://${ctx.ep.url.hostname}${ctx.ep.httpPort === 80 ? "" : `:${ctx.ep.httpPort}`}${path}`;
    let r: Reply;
    try {
        r = await get(ctx.ep, path, { plain: true });
    } catch (e) {
        return {
            name: "http-redirect",
            status: "fail",
            summary: `GET ${where}: ${(e as Error).message}`,
            lookAt: `the load balancer's listener on port ${ctx.ep.httpPort} (it should answer and redirect to HTTPS)`,
        };
    }
    const location = String(r.headers.location ?? "");
    let target: URL | undefined;
    try {
        target = new URL(location);
    } catch {
        /* not absolute */
    }
    const ok =
        [301, 302, 307, 308].includes(r.status) &&
        target !== undefined &&
        target.origin === ctx.ep.url.origin &&
        target.pathname === "/oauth2/authorize";
    return ok
        ? {
              name: "http-redirect",
              status: "pass",
              summary: `${where} -> ${r.status} ${location}`,
              figures: { status: r.status, location },
          }
        : {
              name: "http-redirect",
              status: "fail",
              summary: `${where} -> ${r.status}${location ? ` ${location}` : ""}, expected a redirect to ${ctx.ep.url.origin}/oauth2/authorize`,
              lookAt: `the load balancer's HTTP listener: it must redirect to https://${ctx.ep.url.host} keeping path and query`,
              figures: { status: r.status, location },
          };
}

export function checkTls(ctx: CheckContext): Promise<CheckResult> {
    const host = ctx.ep.url.hostname.replace(/^\[|\]$/g, "");
    const port = Number(ctx.ep.url.port || 443);
    return new Promise((resolve) => {
        const done = (r: CheckResult) => {
            socket.destroy();
            resolve(r);
        };
        const socket = tls.connect({
            host: ctx.ep.address ?? host,
            port,
            servername: isIpLiteral(host) ? undefined : host,
            ca: ctx.ep.ca,
            rejectUnauthorized: false, // we report why instead of failing the handshake
        });
        socket.setTimeout(ctx.ep.timeoutMs, () =>
            done({
                name: "tls",
                status: "fail",
                summary: `no TLS handshake on ${host}:${port} within ${ctx.ep.timeoutMs / 1000} s`,
                lookAt: "the load balancer's HTTPS listener and its security group / NSG",
            }),
        );
        socket.on("error", (e) =>
            done({
                name: "tls",
                status: "fail",
                summary: `TLS to ${host}:${port}: ${e.message}`,
                lookAt: "the load balancer's HTTPS listener on 443 and its certificate",
            }),
        );
        socket.on("secureConnect", () => {
            const cert = socket.getPeerCertificate();
            const daysLeft = Math.floor((Date.parse(cert.valid_to) - Date.now()) / 86_400_000);
            const identity = tls.checkServerIdentity(host, cert);
            const figures = {
                protocol: socket.getProtocol(),
                subject: cert.subject?.CN,
                issuer: cert.issuer?.CN,
                validTo: new Date(cert.valid_to).toISOString(),
                daysLeft,
            };
            const trust = ctx.ep.ca ? "the CA given with --ca" : "the system's trusted CAs";
            if (!socket.authorized) {
                done({
                    name: "tls",
                    status: "fail",
                    summary: `certificate for ${cert.subject?.CN ?? "?"} (issuer ${cert.issuer?.CN ?? "?"}) is not trusted: ${socket.authorizationError}`,
                    lookAt: `the listener certificate: it must chain to ${trust}${ctx.ep.ca ? "" : " (a self-signed dev cluster: pass its CA with --ca FILE)"}`,
                    figures,
                });
            } else if (identity) {
                done({
                    name: "tls",
                    status: "fail",
                    summary: `certificate is not valid for ${host}: ${identity.message}`,
                    lookAt: "the listener certificate's subject alternative names (config `certificate`)",
                    figures,
                });
            } else if (daysLeft < ctx.minCertDays) {
                done({
                    name: "tls",
                    status: "fail",
                    summary: `certificate for ${host} expires in ${daysLeft} days (${figures.validTo}); minimum ${ctx.minCertDays}`,
                    lookAt: "renew the listener certificate (config `certificate`) and `pulumi up`",
                    figures,
                });
            } else {
                done({
                    name: "tls",
                    status: "pass",
                    summary: `${figures.protocol}, valid for ${host}, issuer ${figures.issuer ?? "?"}, expires in ${daysLeft} days`,
                    figures,
                });
            }
        });
    });
}

function parseJson(body: string): unknown {
    try {
        return JSON.parse(body);
    } catch {
        return undefined;
    }
}

export async function checkHealth(ctx: CheckContext): Promise<CheckResult> {
    let r: Reply;
    try {
        r = await get(ctx.ep, healthCheckPath);
    } catch (e) {
        return {
            name: "health",
            status: "fail",
            summary: `GET ${healthCheckPath}: ${(e as Error).message}`,
            lookAt: ctx.healthHint,
        };
    }
    const json = parseJson(r.body) as { health?: { key?: string; value?: string }[] } | undefined;
    const entries = Array.isArray(json?.health) ? json!.health : [];
    const detail = entries.length ? `: ${entries.map((h) => `${h.key}=${h.value}`).join(", ")}` : "";
    return r.status === 200
        ? {
              name: "health",
              status: "pass",
              summary: `GET ${healthCheckPath} -> 200 in ${ms(r.ms)}${detail}`,
              figures: { status: 200, ms: r.ms },
          }
        : {
              name: "health",
              status: "fail",
              summary: `GET ${healthCheckPath} -> ${r.status} (IS health API)${detail || (r.body ? `: ${r.body.slice(0, 120)}` : "")}`,
              lookAt: ctx.healthHint,
              figures: { status: r.status, ms: r.ms },
          };
}

/** OIDC discovery, and the JWKS it names; the JWKS check needs the discovery's jwks_uri. */
export async function checkOidc(ctx: CheckContext): Promise<{ discovery: CheckResult; jwks: CheckResult }> {
    const expectedIssuer = `${ctx.ep.url.origin}/oauth2/token`;
    const issuerHint =
        "[server] hostname and [transport.https.properties] proxyPort = 443 in deployment.toml " +
        "(config `hostname`): IS builds the issuer from them";
    let discovery: CheckResult;
    let jwksUri: string | undefined;
    try {
        const r = await get(ctx.ep, discoveryPath);
        const doc = parseJson(r.body) as { issuer?: unknown; jwks_uri?: unknown } | undefined;
        if (r.status !== 200 || !doc) {
            discovery = {
                name: "oidc-discovery",
                status: "fail",
                summary: `GET ${discoveryPath} -> ${r.status}${doc ? "" : ", not JSON"}`,
                lookAt: ctx.healthHint,
            };
        } else {
            const issuer = String(doc.issuer ?? "");
            jwksUri = typeof doc.jwks_uri === "string" ? doc.jwks_uri : undefined;
            let issuerUrl: URL | undefined;
            try {
                issuerUrl = new URL(issuer);
            } catch {
                /* reported below */
            }
            if (issuer === expectedIssuer) {
                discovery = {
                    name: "oidc-discovery",
                    status: "pass",
                    summary: `issuer ${issuer} in ${ms(r.ms)}`,
                    figures: { issuer, jwksUri },
                };
            } else {
                const why =
                    issuerUrl === undefined
                        ? "is not a URL"
                        : issuerUrl.hostname !== ctx.ep.url.hostname
                          ? `its host is not the public hostname ${ctx.ep.url.hostname}`
                          : issuerUrl.origin !== ctx.ep.url.origin
                            ? `its port is not the public port (${ctx.ep.url.port || 443})`
                            : `expected ${expectedIssuer}`;
                discovery = {
                    name: "oidc-discovery",
                    status: "fail",
                    summary: `issuer is ${JSON.stringify(issuer)}: ${why}`,
                    lookAt: issuerHint,
                    figures: { issuer, expectedIssuer },
                };
            }
        }
    } catch (e) {
        discovery = {
            name: "oidc-discovery",
            status: "fail",
            summary: `GET ${discoveryPath}: ${(e as Error).message}`,
            lookAt: ctx.healthHint,
        };
    }

    let jwks: CheckResult;
    let path = "/oauth2/jwks";
    if (jwksUri) {
        const u = new URL(jwksUri, ctx.ep.url);
        if (u.origin !== ctx.ep.url.origin) {
            return {
                discovery,
                jwks: {
                    name: "jwks",
                    status: "fail",
                    summary: `jwks_uri ${jwksUri} is not on ${ctx.ep.url.origin}`,
                    lookAt: issuerHint,
                },
            };
        }
        path = u.pathname + u.search;
    }
    try {
        const r = await get(ctx.ep, path);
        const doc = parseJson(r.body) as
            { keys?: { kid?: string; alg?: string; kty?: string }[] } | undefined;
        const keys = Array.isArray(doc?.keys) ? doc!.keys : [];
        jwks =
            r.status === 200 && keys.length > 0 && keys.every((k) => typeof k.kty === "string")
                ? {
                      name: "jwks",
                      status: "pass",
                      summary: `GET ${path} -> ${keys.length} key(s) (${keys.map((k) => `${k.alg ?? k.kty}${k.kid ? ` ${k.kid.slice(0, 12)}` : ""}`).join(", ")})`,
                      figures: { keys: keys.length, kids: keys.map((k) => k.kid) },
                  }
                : {
                      name: "jwks",
                      status: "fail",
                      summary: `GET ${path} -> ${r.status}, ${keys.length} usable key(s)`,
                      lookAt: "the token-signing keystore of the nodes (IS logs at start: keystore errors)",
                      figures: { status: r.status, keys: keys.length },
                  };
    } catch (e) {
        jwks = {
            name: "jwks",
            status: "fail",
            summary: `GET ${path}: ${(e as Error).message}`,
            lookAt: ctx.healthHint,
        };
    }
    return { discovery, jwks };
}

export async function checkAffinityCookie(ctx: CheckContext): Promise<CheckResult> {
    const jar = new CookieJar();
    try {
        const r = await get(ctx.ep, discoveryPath, { jar });
        const setCookies = r.headers["set-cookie"] ?? [];
        const found = setCookies.find((c) => affinityCookies.some((n) => c.startsWith(`${n}=`)));
        if (found) {
            const name = found.slice(0, found.indexOf("="));
            const attrs = found
                .split(";")
                .slice(1)
                .map((a) => a.trim().split("=")[0])
                .filter((a) => /^(secure|httponly|samesite)$/i.test(a));
            return {
                name: "affinity-cookie",
                status: "pass",
                summary: `${name} set on the first response${attrs.length ? ` (${attrs.join(", ")})` : ""}`,
                figures: { cookie: name },
            };
        }
        return {
            name: "affinity-cookie",
            status: "fail",
            summary: `no affinity cookie (${affinityCookies.join(", ")}) on GET ${discoveryPath}; cookies set: ${
                setCookies.map((c) => c.slice(0, c.indexOf("="))).join(", ") || "none"
            }`,
            lookAt: "stickiness on the load balancer (ALB target group stickiness, Application Gateway cookie-based affinity, the ingress's sticky cookie): IS keeps login state per node",
        };
    } catch (e) {
        return {
            name: "affinity-cookie",
            status: "fail",
            summary: `GET ${discoveryPath}: ${(e as Error).message}`,
            lookAt: ctx.healthHint,
        };
    }
}

export interface Sample {
    t: number;
    ms: number;
    status?: number;
    error?: string;
}

/** `total` GETs of `path` from `concurrency` browser-like clients (own jar, own connection). */
export async function burst(
    ep: Endpoint,
    path: string,
    total: number,
    concurrency: number,
): Promise<Sample[]> {
    const samples: Sample[] = [];
    let next = 0;
    await Promise.all(
        Array.from({ length: Math.min(concurrency, total) }, async () => {
            const jar = new CookieJar();
            const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
            try {
                while (next < total) {
                    next++;
                    samples.push(await sample(ep, path, jar, agent));
                }
            } finally {
                agent.destroy();
            }
        }),
    );
    return samples;
}

export async function sample(
    ep: Endpoint,
    path: string,
    jar: CookieJar,
    agent: https.Agent,
): Promise<Sample> {
    const t = Date.now();
    try {
        const r = await get(ep, path, { jar, agent });
        return r.status >= 200 && r.status < 300
            ? { t, ms: r.ms, status: r.status }
            : { t, ms: r.ms, status: r.status, error: `HTTP ${r.status}` };
    } catch (e) {
        return { t, ms: Date.now() - t, error: (e as Error).message };
    }
}

/** "3 x HTTP 502; 1 x socket hang up" */
export function errorSummary(samples: Sample[], max = 3): string {
    const counts = new Map<string, number>();
    for (const s of samples) if (s.error) counts.set(s.error, (counts.get(s.error) ?? 0) + 1);
    return [...counts]
        .sort((a, b) => b[1] - a[1])
        .slice(0, max)
        .map(([e, n]) => `${n} x ${e}`)
        .join("; ");
}

export async function checkLoad(ctx: CheckContext): Promise<CheckResult> {
    const started = Date.now();
    const samples = await burst(ctx.ep, discoveryPath, ctx.requests, ctx.concurrency);
    const elapsed = (Date.now() - started) / 1000;
    const failed = samples.filter((s) => s.error);
    const lat = latencySummary(samples.filter((s) => !s.error).map((s) => s.ms));
    const figures = { requests: samples.length, failed: failed.length, seconds: elapsed, latencyMs: lat };
    const line = `${samples.length - failed.length}/${samples.length} OK in ${elapsed.toFixed(1)} s (${Math.min(ctx.concurrency, ctx.requests)} clients); p50 ${lat.p50} ms, p95 ${lat.p95} ms, p99 ${lat.p99} ms, max ${lat.max} ms`;
    return failed.length === 0
        ? { name: "requests", status: "pass", summary: line, figures }
        : {
              name: "requests",
              status: "fail",
              summary: `${line}; failed: ${errorSummary(failed)}`,
              lookAt: ctx.healthHint,
              figures,
          };
}

/** Per-node health as the target's own API reports it. */
export async function checkNodes(
    control: NodeControl | undefined,
    why: string,
    nodeCount?: number,
): Promise<CheckResult> {
    if (!control) return { name: "nodes", status: "skip", summary: why };
    try {
        const nodes = await control.nodes();
        const healthy = nodes.filter((n) => n.healthy);
        const list = nodes.map((n) => `${n.id} ${n.state}`).join(", ");
        const figures = { healthy: healthy.length, total: nodes.length, nodes };
        const expected = Math.max(2, nodeCount ?? 0);
        return healthy.length >= expected && healthy.length === nodes.length
            ? {
                  name: "nodes",
                  status: "pass",
                  summary: `${healthy.length}/${nodes.length} healthy (${control.source}: ${list})`,
                  figures,
              }
            : {
                  name: "nodes",
                  status: "fail",
                  summary: `${healthy.length}/${nodes.length} healthy, expected ${expected} (${control.source}: ${list || "no nodes"})`,
                  lookAt: control.lookAt,
                  figures,
              };
    } catch (e) {
        return {
            name: "nodes",
            status: "fail",
            summary: `${control.source}: ${(e as Error).message}`,
            lookAt: control.lookAt,
        };
    }
}
