// nginx.conf for users who front the IS cluster with their own nginx (the seed's way:
// WSO2's "front with the nginx load balancer" page), rendered as a pure function.
//
// Community nginx has no `sticky` directive (NGINX Plus only) and no active health checks, so:
// - stickiness: nginx hands out its own affinity cookie and hashes it with `hash ... consistent`
//   (see AFFINITY_COMMENT below for why not JSESSIONID, and why not ip_hash);
// - health: passive (`max_fails`/`fail_timeout`) with retries on the next node
//   (`proxy_next_upstream`), and a short connect timeout so failover is fast.
import * as net from "net";
import { healthCheckPath } from "../model";

/** Arguments of {@link renderNginxConf}. */
export interface NginxArgs {
    /** Public DNS name users reach (`server_name`, redirect target, SNI towards the nodes). */
    hostname: string;
    /** The IS nodes, HTTPS (normally port 9443). */
    backends: { address: string; port: number }[];
    /** Certificate (PEM, full chain) and key of `hostname`, as paths on the nginx host. */
    tlsCertificatePath: string;
    tlsKeyPath: string;
    /** Health path of IS; default "/api/health-check/v1.0/health". */
    healthPath?: string;
    /** Listen ports; defaults 443 and 80. */
    listenHttps?: number;
    listenHttp?: number;
    /** Address to listen on (e.g. "127.0.0.1"); default: every IPv4 address. */
    listenAddress?: string;
    /** proxy_read_timeout / proxy_send_timeout in seconds; default 300 (WSO2 docs: 5m). */
    readTimeoutSeconds?: number;
    /** Passive health: failed attempts that mark a node unavailable (default 2) ... */
    maxFails?: number;
    /** ... and for how long, in seconds, before nginx tries it again (default 5). */
    failTimeoutSeconds?: number;
    /**
     * CA bundle (PEM) that signed the nodes' certificates. When set, nginx verifies the nodes'
     * certificates against it for `hostname`; when not, it does not verify them (IS's default
     * keystore is self-signed), and only the network rules keep 9443 private.
     */
    backendCaPath?: string;
    /** Paths for running unprivileged (tests). Defaults: Debian's. pidPath needs fullConfig. */
    pidPath?: string;
    errorLogPath?: string;
    accessLogPath?: string;
    /** Directory for client_body/proxy/fastcgi/uwsgi/scgi temp files; default: nginx's built-in. */
    tempDir?: string;
    /** true (default): a whole nginx.conf; false: only the http-level snippet for conf.d. */
    fullConfig?: boolean;
}

/** The cookie nginx uses to keep a browser on one IS node. */
export const AFFINITY_COOKIE = "WSO2IS_LB";
/** Upstream carrying user traffic (sticky). */
export const STICKY_UPSTREAM = "wso2is_cluster";
/** Upstream for the health path (any live node, no affinity). */
export const ANY_UPSTREAM = "wso2is_any";

export const NGINX_DEFAULTS = {
    healthPath: healthCheckPath,
    listenHttps: 443,
    listenHttp: 80,
    readTimeoutSeconds: 300,
    maxFails: 2,
    failTimeoutSeconds: 5,
    connectTimeoutSeconds: 2,
    pidPath: "/run/nginx.pid",
    errorLogPath: "/var/log/nginx/error.log",
    accessLogPath: "/var/log/nginx/access.log",
} as const;

// Mozilla "intermediate" TLS 1.2 suites without DHE (no dhparam file needed); TLS 1.3 suites are
// always on in OpenSSL and not set by ssl_ciphers.
const TLS12_CIPHERS = [
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-CHACHA20-POLY1305",
].join(":");

const AFFINITY_COMMENT = [
    "Stickiness without NGINX Plus. IS keeps login state per node and needs it (product-is#12024,",
    "#11313), so a browser must stay on one node. Why not `hash $cookie_JSESSIONID consistent`:",
    "a cookie-less first request is spread (empty key: round robin), but the JSESSIONID the node",
    "then issues hashes to an arbitrary node, not necessarily the one that issued it; and IS sets",
    "one JSESSIONID per webapp path (/oauth2, /authenticationendpoint, ...), so the key changes",
    "in the middle of a login. ip_hash breaks behind NAT and spreads badly.",
    `Instead nginx owns the key: a request without a valid ${AFFINITY_COOKIE} cookie is hashed by`,
    "$request_id (random: first requests spread), and the response sets the cookie to that same",
    "value (Path=/), so every later request hashes to the node that served the first one.",
    "`consistent` (ketama) + max_fails: while a node is marked failed its keys walk the ring to",
    "the next live node; the others' keys do not move; once it answers again its keys come back.",
];

const RETRY_COMMENT = [
    "Failover: a request that cannot reach its node (refused, 2s connect timeout, 502/503/504)",
    "goes to the next node, each node tried at most once. No `non_idempotent`: a POST that",
    "never reached a node is still retried (nginx only holds back non-idempotent requests that",
    "were already sent), but one whose node died mid-request is not replayed on another node,",
    "because the first may have acted on it (login, token exchange, SCIM create).",
];

/** Renders nginx.conf (or its http-level snippet) for an IS cluster. Throws on bad input. */
export function renderNginxConf(args: NginxArgs): string {
    const a = validate(args);
    const lines: string[] = [];
    const out = (indent: number, s = "") => lines.push(s === "" ? "" : "    ".repeat(indent) + s);
    const base = a.fullConfig ? 1 : 0;

    out(0, "# Rendered by wso2is-cluster (components/render/nginx.ts). Do not edit by hand.");
    out(
        0,
        `# WSO2 Identity Server cluster behind nginx: https://${a.hostname}/ -> ${a.backends.length} node(s).`,
    );
    if (a.fullConfig) {
        out(0);
        out(0, "worker_processes auto;");
        out(0, "worker_rlimit_nofile 8192;");
        out(0, `pid ${a.pidPath};`);
        out(0, `error_log ${a.errorLogPath} warn;`);
        out(0);
        out(0, "events {");
        out(1, "worker_connections 4096;");
        out(0, "}");
        out(0);
        out(0, "http {");
        out(1, "server_tokens off;");
        out(1, "default_type application/octet-stream;");
        out(1, "large_client_header_buffers 4 32k;");
    } else {
        out(0, "# http-level snippet: include it inside http { } (e.g. /etc/nginx/conf.d/wso2is.conf).");
    }
    // No query strings (id_token_hint, codes) and no cookies in the log; the upstream fields
    // show which node served a request and whether it was retried ("a, b").
    out(base);
    out(
        base,
        "log_format wso2is_upstream '$remote_addr [$time_local] \"$request_method $uri $server_protocol\" $status $body_bytes_sent '",
    );
    out(
        base,
        "                           'rt=$request_time upstream=$upstream_addr ustatus=$upstream_status '",
    );
    out(base, "                           'urt=$upstream_response_time';");
    if (a.fullConfig) {
        out(base, `access_log ${a.accessLogPath} wso2is_upstream;`);
        if (a.tempDir) tempPaths(a.tempDir).forEach((l) => out(base, l));
    }

    out(base);
    AFFINITY_COMMENT.forEach((l) => out(base, `# ${l}`));
    out(base, `map $cookie_${AFFINITY_COOKIE} $wso2is_affinity {`);
    out(base + 1, `"~^[0-9a-f]{32}$" $cookie_${AFFINITY_COOKIE};`);
    out(base + 1, "default $request_id;");
    out(base, "}");
    out(base, `map $cookie_${AFFINITY_COOKIE} $wso2is_set_affinity {`);
    out(base + 1, `"~^[0-9a-f]{32}$" "";`);
    out(base + 1, `default "${AFFINITY_COOKIE}=$request_id; Path=/; Secure; HttpOnly; SameSite=None";`);
    out(base, "}");

    const server = (b: { address: string; port: number }) =>
        `server ${hostPort(b.address, b.port)} max_fails=${a.maxFails} fail_timeout=${a.failTimeoutSeconds}s;`;
    out(base);
    out(base, `upstream ${STICKY_UPSTREAM} {`);
    out(base + 1, `zone ${STICKY_UPSTREAM} 64k;`);
    out(base + 1, "hash $wso2is_affinity consistent;");
    a.backends.forEach((b) => out(base + 1, server(b)));
    out(base + 1, "keepalive 32;");
    out(
        base + 1,
        "keepalive_timeout 15s; # below Tomcat's 20 s connectionTimeout, so nginx closes idle first",
    );
    out(base, "}");
    out(base);
    out(base, "# The health path: any live node, round robin, no affinity cookie.");
    out(base, `upstream ${ANY_UPSTREAM} {`);
    out(base + 1, `zone ${ANY_UPSTREAM} 64k;`);
    a.backends.forEach((b) => out(base + 1, server(b)));
    out(base + 1, "keepalive 4;");
    out(base + 1, "keepalive_timeout 15s;");
    out(base, "}");

    // HTTP: everything goes to HTTPS on the public name.
    const httpsUrl =
        a.listenHttps === 443 ? `https://${a.hostname}` : `https://${a.hostname}:${a.listenHttps}`;
    out(base);
    out(base, "server {");
    out(base + 1, `listen ${listen(a.listenAddress, a.listenHttp)};`);
    out(base + 1, `server_name ${a.hostname};`);
    if (!a.fullConfig) serverLogs(a).forEach((l) => out(base + 1, l));
    out(base + 1, `return 301 ${httpsUrl}$request_uri;`);
    out(base, "}");

    out(base);
    out(base, "server {");
    out(base + 1, `listen ${listen(a.listenAddress, a.listenHttps)} ssl;`);
    out(base + 1, `server_name ${a.hostname};`);
    if (!a.fullConfig) serverLogs(a).forEach((l) => out(base + 1, l));
    out(base);
    out(base + 1, `ssl_certificate ${a.tlsCertificatePath};`);
    out(base + 1, `ssl_certificate_key ${a.tlsKeyPath};`);
    out(base + 1, "ssl_protocols TLSv1.2 TLSv1.3;");
    out(base + 1, `ssl_ciphers ${TLS12_CIPHERS};`);
    out(base + 1, "ssl_prefer_server_ciphers off;");
    out(base + 1, "ssl_session_cache shared:wso2is_tls:10m;");
    out(base + 1, "ssl_session_timeout 1h;");
    out(base + 1, "ssl_session_tickets off;");
    out(base);
    out(base + 1, "# Re-encrypt to the nodes (WSO2: plain HTTP to IS is no longer recommended).");
    out(base + 1, "proxy_ssl_protocols TLSv1.2 TLSv1.3;");
    out(base + 1, "proxy_ssl_server_name on;");
    out(base + 1, `proxy_ssl_name ${a.hostname};`);
    out(base + 1, "proxy_ssl_session_reuse on;");
    if (a.backendCaPath) {
        out(base + 1, "proxy_ssl_verify on;");
        out(base + 1, `proxy_ssl_trusted_certificate ${a.backendCaPath};`);
        out(base + 1, "proxy_ssl_verify_depth 3;");
    } else {
        out(
            base + 1,
            "proxy_ssl_verify off; # IS's default keystore is self-signed; set backendCaPath to verify",
        );
    }
    out(base + 1, "proxy_http_version 1.1;");
    out(base + 1, 'proxy_set_header Connection "";');
    out(base + 1, "proxy_set_header Host $host;");
    out(base + 1, "proxy_set_header X-Real-IP $remote_addr;");
    out(base + 1, "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;");
    out(base + 1, "proxy_set_header X-Forwarded-Proto $scheme;");
    out(base + 1, "proxy_set_header X-Forwarded-Host $host;");
    out(base + 1, "proxy_set_header X-Forwarded-Port $server_port;");
    out(base + 1, "proxy_set_header X-Forwarded-Server $host;");
    out(base + 1, `proxy_connect_timeout ${NGINX_DEFAULTS.connectTimeoutSeconds}s;`);
    out(base + 1, `proxy_read_timeout ${a.readTimeoutSeconds}s;`);
    out(base + 1, `proxy_send_timeout ${a.readTimeoutSeconds}s;`);
    out(base + 1, "proxy_buffer_size 64k; # IS sends large Set-Cookie/Location headers");
    out(base + 1, "proxy_buffers 8 64k;");
    out(base + 1, "proxy_busy_buffers_size 128k;");
    RETRY_COMMENT.forEach((l) => out(base + 1, `# ${l}`));
    out(base + 1, "proxy_next_upstream error timeout http_502 http_503 http_504;");
    out(base + 1, `proxy_next_upstream_tries ${a.backends.length};`);
    out(base);
    out(base + 1, `location = ${a.healthPath} {`);
    out(base + 2, `proxy_pass https://${ANY_UPSTREAM};`);
    out(base + 2, "access_log off;");
    out(base + 1, "}");
    out(base);
    out(base + 1, "location / {");
    out(base + 2, `proxy_pass https://${STICKY_UPSTREAM};`);
    out(base + 2, `# Empty (so not sent) when the request already carries a valid ${AFFINITY_COOKIE}.`);
    out(base + 2, "add_header Set-Cookie $wso2is_set_affinity always;");
    out(base + 1, "}");
    out(base, "}");
    if (a.fullConfig) out(0, "}");
    return lines.join("\n") + "\n";
}

type Resolved = Required<Omit<NginxArgs, "listenAddress" | "backendCaPath" | "tempDir">> &
    Pick<NginxArgs, "listenAddress" | "backendCaPath" | "tempDir">;

function tempPaths(dir: string): string[] {
    return ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((k) => `${k}_temp_path ${dir}/${k};`);
}

/** Logs and temp paths inside server blocks (snippet mode: http level belongs to the user). */
function serverLogs(a: Resolved): string[] {
    const l: string[] = [];
    if (a.accessLogPath !== NGINX_DEFAULTS.accessLogPath)
        l.push(`access_log ${a.accessLogPath} wso2is_upstream;`);
    if (a.errorLogPath !== NGINX_DEFAULTS.errorLogPath) l.push(`error_log ${a.errorLogPath} warn;`);
    if (a.tempDir) l.push(...tempPaths(a.tempDir).filter((t) => /^(client_body|proxy)_/.test(t)));
    return l;
}

function hostPort(address: string, port: number): string {
    return net.isIPv6(address) ? `[${address}]:${port}` : `${address}:${port}`;
}

function listen(address: string | undefined, port: number): string {
    return address === undefined ? String(port) : hostPort(address, port);
}

const DNS_NAME =
    /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;
// Characters that would end or alter an nginx directive, or start a variable.
const UNSAFE_PATH = /[\s;{}"'$#\\]/;

function fail(message: string): never {
    throw new Error(`nginx.conf: ${message}`);
}

function checkPort(name: string, v: unknown): number {
    if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > 65535) {
        fail(`${name} must be an integer port between 1 and 65535, got ${JSON.stringify(v)}`);
    }
    return v;
}

function checkPositiveInt(name: string, v: unknown, max: number): number {
    if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > max) {
        fail(`${name} must be an integer between 1 and ${max}, got ${JSON.stringify(v)}`);
    }
    return v;
}

function checkPath(name: string, v: unknown): string {
    if (typeof v !== "string" || !v.startsWith("/") || UNSAFE_PATH.test(v)) {
        fail(
            `${name} must be an absolute path without spaces, quotes, ';', '{', '}', '$', '#' or '\\', got ${JSON.stringify(v)}`,
        );
    }
    return v.length > 1 ? v.replace(/\/+$/, "") : v;
}

function checkHost(name: string, v: unknown): string {
    if (typeof v !== "string" || !(net.isIP(v) !== 0 || DNS_NAME.test(v))) {
        fail(`${name} must be a DNS name or an IP address, got ${JSON.stringify(v)}`);
    }
    return v;
}

function validate(args: NginxArgs): Resolved {
    if (args === null || typeof args !== "object") fail("arguments are missing");
    if (typeof args.hostname !== "string" || args.hostname.trim() === "") {
        fail(`hostname must be a non-empty DNS name, got ${JSON.stringify(args.hostname)}`);
    }
    if (!DNS_NAME.test(args.hostname) || net.isIP(args.hostname) !== 0) {
        fail(`hostname must be a DNS name (letters, digits, '-', '.'), got ${JSON.stringify(args.hostname)}`);
    }
    if (!Array.isArray(args.backends) || args.backends.length === 0) {
        fail("backends must list at least one IS node ({ address, port })");
    }
    const seen = new Set<string>();
    const backends = args.backends.map((b, i) => {
        const address = checkHost(`backends[${i}].address`, b?.address);
        const port = checkPort(`backends[${i}].port`, b?.port);
        const key = hostPort(address.toLowerCase(), port);
        if (seen.has(key)) fail(`backends[${i}] ${key} is listed twice`);
        seen.add(key);
        return { address, port };
    });
    const listenHttps = checkPort("listenHttps", args.listenHttps ?? NGINX_DEFAULTS.listenHttps);
    const listenHttp = checkPort("listenHttp", args.listenHttp ?? NGINX_DEFAULTS.listenHttp);
    if (listenHttps === listenHttp) fail(`listenHttps and listenHttp must differ, both are ${listenHttps}`);
    const listenAddress = args.listenAddress === undefined ? undefined : args.listenAddress;
    if (listenAddress !== undefined && net.isIP(listenAddress) === 0) {
        fail(`listenAddress must be an IP address, got ${JSON.stringify(listenAddress)}`);
    }
    const healthPath = args.healthPath ?? NGINX_DEFAULTS.healthPath;
    if (typeof healthPath !== "string" || !/^\/[A-Za-z0-9._~/-]*$/.test(healthPath)) {
        fail(
            `healthPath must be a URL path starting with '/' (letters, digits, '.', '_', '~', '-', '/'), got ${JSON.stringify(healthPath)}`,
        );
    }
    const fullConfig = args.fullConfig ?? true;
    if (typeof fullConfig !== "boolean")
        fail(`fullConfig must be true or false, got ${JSON.stringify(fullConfig)}`);
    if (!fullConfig && args.pidPath !== undefined) {
        fail(
            "pidPath belongs to the main context; it needs fullConfig: true (a conf.d snippet cannot set it)",
        );
    }
    return {
        hostname: args.hostname.toLowerCase(),
        backends,
        tlsCertificatePath: checkPath("tlsCertificatePath", args.tlsCertificatePath),
        tlsKeyPath: checkPath("tlsKeyPath", args.tlsKeyPath),
        healthPath,
        listenHttps,
        listenHttp,
        listenAddress,
        readTimeoutSeconds: checkPositiveInt(
            "readTimeoutSeconds",
            args.readTimeoutSeconds ?? NGINX_DEFAULTS.readTimeoutSeconds,
            86400,
        ),
        maxFails: checkPositiveInt("maxFails", args.maxFails ?? NGINX_DEFAULTS.maxFails, 100),
        failTimeoutSeconds: checkPositiveInt(
            "failTimeoutSeconds",
            args.failTimeoutSeconds ?? NGINX_DEFAULTS.failTimeoutSeconds,
            3600,
        ),
        backendCaPath:
            args.backendCaPath === undefined ? undefined : checkPath("backendCaPath", args.backendCaPath),
        pidPath: checkPath("pidPath", args.pidPath ?? NGINX_DEFAULTS.pidPath),
        errorLogPath: checkPath("errorLogPath", args.errorLogPath ?? NGINX_DEFAULTS.errorLogPath),
        accessLogPath: checkPath("accessLogPath", args.accessLogPath ?? NGINX_DEFAULTS.accessLogPath),
        tempDir: args.tempDir === undefined ? undefined : checkPath("tempDir", args.tempDir),
        fullConfig,
    };
}
