import * as assert from "assert";
import {
    AFFINITY_COOKIE,
    ANY_UPSTREAM,
    NginxArgs,
    renderNginxConf,
    STICKY_UPSTREAM,
} from "../../components/render/nginx";

// A small nginx config parser, so the tests check structure (which directive sits in which
// block) and exact arguments, not text snippets.
interface Directive {
    name: string;
    args: string[];
    block?: Directive[];
}

function tokenize(text: string): string[] {
    const tokens: string[] = [];
    let i = 0;
    while (i < text.length) {
        const c = text[i];
        if (/\s/.test(c)) {
            i++;
        } else if (c === "#") {
            while (i < text.length && text[i] !== "\n") i++;
        } else if (c === "{" || c === "}" || c === ";") {
            tokens.push(c);
            i++;
        } else if (c === '"' || c === "'") {
            let j = i + 1;
            let s = "";
            while (j < text.length && text[j] !== c) {
                if (text[j] === "\\") j++;
                s += text[j++];
            }
            if (j >= text.length) throw new Error("unterminated quote");
            tokens.push(`\u0000${s}`); // mark quoted so "{" inside quotes is not a block
            i = j + 1;
        } else {
            let j = i;
            while (j < text.length && !/[\s{};]/.test(text[j])) j++;
            tokens.push(text.slice(i, j));
            i = j;
        }
    }
    return tokens;
}

function parse(text: string): Directive[] {
    const tokens = tokenize(text);
    let pos = 0;
    const unq = (t: string) => (t.startsWith("\u0000") ? t.slice(1) : t);
    function block(top: boolean): Directive[] {
        const out: Directive[] = [];
        for (;;) {
            if (pos >= tokens.length) {
                if (!top) throw new Error("unclosed block");
                return out;
            }
            if (tokens[pos] === "}") {
                if (top) throw new Error("unbalanced }");
                pos++;
                return out;
            }
            const name = unq(tokens[pos++]);
            const args: string[] = [];
            while (pos < tokens.length && tokens[pos] !== ";" && tokens[pos] !== "{") {
                if (tokens[pos] === "}") throw new Error(`directive ${name} not terminated`);
                args.push(unq(tokens[pos++]));
            }
            if (pos >= tokens.length) throw new Error(`directive ${name} not terminated`);
            if (tokens[pos++] === "{") out.push({ name, args, block: block(false) });
            else out.push({ name, args });
        }
    }
    return block(true);
}

const all = (ds: Directive[], name: string) => ds.filter((d) => d.name === name);
function one(ds: Directive[], name: string, ...args: string[]): Directive {
    const found = ds.filter((d) => d.name === name && args.every((a, i) => d.args[i] === a));
    assert.strictEqual(found.length, 1, `expected one ${name} ${args.join(" ")}, found ${found.length}`);
    return found[0];
}
const argsOf = (ds: Directive[], name: string) => one(ds, name).args;
const inner = (d: Directive) => {
    assert.ok(d.block, `${d.name} has no block`);
    return d.block!;
};

const BASE: NginxArgs = {
    hostname: "is.example.com",
    backends: [
        { address: "10.0.1.10", port: 9443 },
        { address: "10.0.1.11", port: 9443 },
    ],
    tlsCertificatePath: "/etc/nginx/tls/is.crt",
    tlsKeyPath: "/etc/nginx/tls/is.key",
};

function http(conf: string): Directive[] {
    return inner(one(parse(conf), "http"));
}
function servers(ds: Directive[]) {
    const s = all(ds, "server").filter((d) => d.block);
    assert.strictEqual(s.length, 2);
    const https = s.find((d) => d.block!.some((x) => x.name === "listen" && x.args.includes("ssl")))!;
    const plain = s.find((d) => d !== https)!;
    assert.ok(https && plain);
    return { https: inner(https), plain: inner(plain) };
}

describe("render/nginx", () => {
    describe("full nginx.conf", () => {
        const conf = renderNginxConf(BASE);
        const top = parse(conf);
        const h = http(conf);

        it("has the main context, events and one http block", () => {
            assert.deepStrictEqual(
                top.map((d) => d.name),
                ["worker_processes", "worker_rlimit_nofile", "pid", "error_log", "events", "http"],
            );
            assert.deepStrictEqual(argsOf(top, "pid"), ["/run/nginx.pid"]);
            assert.deepStrictEqual(argsOf(top, "error_log"), ["/var/log/nginx/error.log", "warn"]);
            assert.deepStrictEqual(argsOf(inner(one(top, "events")), "worker_connections"), ["4096"]);
            assert.deepStrictEqual(argsOf(h, "access_log"), ["/var/log/nginx/access.log", "wso2is_upstream"]);
            assert.deepStrictEqual(argsOf(h, "server_tokens"), ["off"]);
            // no temp paths unless asked for: nginx's built-in ones apply
            assert.strictEqual(h.filter((d) => d.name.endsWith("_temp_path")).length, 0);
        });

        it("logs which node served a request, without query strings or cookies", () => {
            const fmt = argsOf(h, "log_format").join("");
            assert.strictEqual(argsOf(h, "log_format")[0], "wso2is_upstream");
            assert.ok(fmt.includes("$upstream_addr") && fmt.includes("$upstream_status"));
            assert.ok(!fmt.includes("$request ") && !fmt.includes("$request_uri") && !fmt.includes("$args"));
            assert.ok(!/cookie/i.test(fmt));
        });

        it("puts every backend with its port in the sticky upstream and the health upstream", () => {
            const sticky = inner(one(h, "upstream", STICKY_UPSTREAM));
            assert.deepStrictEqual(argsOf(sticky, "hash"), ["$wso2is_affinity", "consistent"]);
            assert.deepStrictEqual(argsOf(sticky, "zone"), [STICKY_UPSTREAM, "64k"]);
            assert.deepStrictEqual(
                all(sticky, "server").map((d) => d.args),
                [
                    ["10.0.1.10:9443", "max_fails=2", "fail_timeout=5s"],
                    ["10.0.1.11:9443", "max_fails=2", "fail_timeout=5s"],
                ],
            );
            assert.deepStrictEqual(argsOf(sticky, "keepalive"), ["32"]);
            assert.deepStrictEqual(argsOf(sticky, "keepalive_timeout"), ["15s"]);
            // keepalive must come after the balancing method
            assert.ok(
                sticky.findIndex((d) => d.name === "hash") < sticky.findIndex((d) => d.name === "keepalive"),
            );
            assert.ok(
                !sticky.some((d) => d.name === "sticky" || d.name === "ip_hash"),
                "no NGINX Plus sticky, no ip_hash",
            );

            const any = inner(one(h, "upstream", ANY_UPSTREAM));
            assert.strictEqual(all(any, "hash").length, 0);
            assert.deepStrictEqual(
                all(any, "server").map((d) => d.args[0]),
                ["10.0.1.10:9443", "10.0.1.11:9443"],
            );
        });

        it("derives the hash key from an nginx-owned affinity cookie, falling back to $request_id", () => {
            const key = inner(one(h, "map", `$cookie_${AFFINITY_COOKIE}`, "$wso2is_affinity"));
            assert.deepStrictEqual(
                key.map((d) => [d.name, ...d.args]),
                [
                    ["~^[0-9a-f]{32}$", `$cookie_${AFFINITY_COOKIE}`],
                    ["default", "$request_id"],
                ],
            );
            const set = inner(one(h, "map", `$cookie_${AFFINITY_COOKIE}`, "$wso2is_set_affinity"));
            assert.deepStrictEqual(
                set.map((d) => [d.name, ...d.args]),
                [
                    ["~^[0-9a-f]{32}$", ""],
                    ["default", `${AFFINITY_COOKIE}=$request_id; Path=/; Secure; HttpOnly; SameSite=None`],
                ],
            );
        });

        it("explains the stickiness and retry choices in comments", () => {
            assert.match(conf, /# .*hash \$cookie_JSESSIONID consistent/);
            assert.match(conf, /# .*\$request_id/);
            assert.match(conf, /# .*non_idempotent/);
        });

        it("redirects HTTP 80 to HTTPS on the public name", () => {
            const { plain } = servers(h);
            assert.deepStrictEqual(argsOf(plain, "listen"), ["80"]);
            assert.deepStrictEqual(argsOf(plain, "server_name"), ["is.example.com"]);
            assert.deepStrictEqual(argsOf(plain, "return"), ["301", "https://is.example.com$request_uri"]);
            assert.strictEqual(all(plain, "location").length, 0);
        });

        it("terminates TLS on 443 with TLS 1.2/1.3 only", () => {
            const { https } = servers(h);
            assert.deepStrictEqual(argsOf(https, "listen"), ["443", "ssl"]);
            assert.deepStrictEqual(argsOf(https, "server_name"), ["is.example.com"]);
            assert.deepStrictEqual(argsOf(https, "ssl_certificate"), ["/etc/nginx/tls/is.crt"]);
            assert.deepStrictEqual(argsOf(https, "ssl_certificate_key"), ["/etc/nginx/tls/is.key"]);
            assert.deepStrictEqual(argsOf(https, "ssl_protocols"), ["TLSv1.2", "TLSv1.3"]);
            assert.ok(!/RC4|3DES|CBC|MD5|NULL/.test(argsOf(https, "ssl_ciphers")[0]));
        });

        it("re-encrypts to the nodes with SNI and session reuse", () => {
            const { https } = servers(h);
            assert.deepStrictEqual(argsOf(https, "proxy_ssl_server_name"), ["on"]);
            assert.deepStrictEqual(argsOf(https, "proxy_ssl_name"), ["is.example.com"]);
            assert.deepStrictEqual(argsOf(https, "proxy_ssl_session_reuse"), ["on"]);
            assert.deepStrictEqual(argsOf(https, "proxy_ssl_verify"), ["off"]);
            assert.deepStrictEqual(argsOf(https, "proxy_http_version"), ["1.1"]);
            assert.deepStrictEqual(argsOf(https, "proxy_ssl_protocols"), ["TLSv1.2", "TLSv1.3"]);
        });

        it("sets the forwarding headers", () => {
            const { https } = servers(h);
            const headers = Object.fromEntries(
                all(https, "proxy_set_header").map((d) => [d.args[0], d.args[1]]),
            );
            assert.deepStrictEqual(headers, {
                Connection: "",
                Host: "$host",
                "X-Real-IP": "$remote_addr",
                "X-Forwarded-For": "$proxy_add_x_forwarded_for",
                "X-Forwarded-Proto": "$scheme",
                "X-Forwarded-Host": "$host",
                "X-Forwarded-Port": "$server_port",
                "X-Forwarded-Server": "$host",
            });
            // proxy_set_header in a location would drop all server-level ones there
            for (const loc of all(https, "location"))
                assert.strictEqual(all(inner(loc), "proxy_set_header").length, 0);
        });

        it("fails over fast: short connect timeout, retries on the next node, no POST replay", () => {
            const { https } = servers(h);
            assert.deepStrictEqual(argsOf(https, "proxy_connect_timeout"), ["2s"]);
            assert.deepStrictEqual(argsOf(https, "proxy_read_timeout"), ["300s"]);
            assert.deepStrictEqual(argsOf(https, "proxy_send_timeout"), ["300s"]);
            assert.deepStrictEqual(argsOf(https, "proxy_next_upstream"), [
                "error",
                "timeout",
                "http_502",
                "http_503",
                "http_504",
            ]);
            assert.deepStrictEqual(argsOf(https, "proxy_next_upstream_tries"), ["2"]);
        });

        it("routes the health path to any node and everything else stickily", () => {
            const { https } = servers(h);
            const health = inner(one(https, "location", "=", "/api/health-check/v1.0/health"));
            assert.deepStrictEqual(argsOf(health, "proxy_pass"), [`https://${ANY_UPSTREAM}`]);
            assert.strictEqual(all(health, "add_header").length, 0);
            const root = inner(one(https, "location", "/"));
            assert.deepStrictEqual(argsOf(root, "proxy_pass"), [`https://${STICKY_UPSTREAM}`]);
            assert.deepStrictEqual(argsOf(root, "add_header"), [
                "Set-Cookie",
                "$wso2is_set_affinity",
                "always",
            ]);
            assert.strictEqual(all(https, "location").length, 2);
        });

        it("is deterministic and does not modify its input", () => {
            const args: NginxArgs = JSON.parse(JSON.stringify(BASE));
            const a = renderNginxConf(args);
            assert.deepStrictEqual(args, BASE);
            assert.strictEqual(renderNginxConf(args), a);
            assert.strictEqual(a, conf);
            assert.ok(conf.endsWith("}\n"));
        });
    });

    describe("options", () => {
        it("uses the given ports, address, timeouts, paths and health path", () => {
            const conf = renderNginxConf({
                ...BASE,
                backends: [
                    { address: "127.0.0.1", port: 30001 },
                    { address: "127.0.0.1", port: 30002 },
                    { address: "is-node-3.internal", port: 9443 },
                ],
                listenHttps: 18443,
                listenHttp: 18080,
                listenAddress: "127.0.0.1",
                readTimeoutSeconds: 120,
                maxFails: 1,
                failTimeoutSeconds: 3,
                healthPath: "/health",
                pidPath: "/tmp/t/nginx.pid",
                errorLogPath: "/tmp/t/error.log",
                accessLogPath: "/tmp/t/access.log",
                tempDir: "/tmp/t/tmp/",
            });
            const top = parse(conf);
            assert.deepStrictEqual(argsOf(top, "pid"), ["/tmp/t/nginx.pid"]);
            assert.deepStrictEqual(argsOf(top, "error_log"), ["/tmp/t/error.log", "warn"]);
            const h = inner(one(top, "http"));
            assert.deepStrictEqual(argsOf(h, "access_log"), ["/tmp/t/access.log", "wso2is_upstream"]);
            assert.deepStrictEqual(
                h.filter((d) => d.name.endsWith("_temp_path")).map((d) => [d.name, ...d.args]),
                [
                    ["client_body_temp_path", "/tmp/t/tmp/client_body"],
                    ["proxy_temp_path", "/tmp/t/tmp/proxy"],
                    ["fastcgi_temp_path", "/tmp/t/tmp/fastcgi"],
                    ["uwsgi_temp_path", "/tmp/t/tmp/uwsgi"],
                    ["scgi_temp_path", "/tmp/t/tmp/scgi"],
                ],
            );
            assert.deepStrictEqual(
                all(inner(one(h, "upstream", STICKY_UPSTREAM)), "server").map((d) => d.args),
                [
                    ["127.0.0.1:30001", "max_fails=1", "fail_timeout=3s"],
                    ["127.0.0.1:30002", "max_fails=1", "fail_timeout=3s"],
                    ["is-node-3.internal:9443", "max_fails=1", "fail_timeout=3s"],
                ],
            );
            const { https, plain } = servers(h);
            assert.deepStrictEqual(argsOf(plain, "listen"), ["127.0.0.1:18080"]);
            assert.deepStrictEqual(argsOf(plain, "return"), [
                "301",
                "https://is.example.com:18443$request_uri",
            ]);
            assert.deepStrictEqual(argsOf(https, "listen"), ["127.0.0.1:18443", "ssl"]);
            assert.deepStrictEqual(argsOf(https, "proxy_read_timeout"), ["120s"]);
            assert.deepStrictEqual(argsOf(https, "proxy_next_upstream_tries"), ["3"]);
            one(https, "location", "=", "/health");
        });

        it("brackets IPv6 addresses", () => {
            const conf = renderNginxConf({
                ...BASE,
                backends: [
                    { address: "fd00::10", port: 9443 },
                    { address: "fd00::11", port: 9443 },
                ],
                listenAddress: "::1",
            });
            const h = http(conf);
            assert.deepStrictEqual(
                all(inner(one(h, "upstream", STICKY_UPSTREAM)), "server").map((d) => d.args[0]),
                ["[fd00::10]:9443", "[fd00::11]:9443"],
            );
            assert.deepStrictEqual(argsOf(servers(h).https, "listen"), ["[::1]:443", "ssl"]);
        });

        it("verifies the nodes' certificates when a CA is given", () => {
            const { https } = servers(
                http(renderNginxConf({ ...BASE, backendCaPath: "/etc/nginx/tls/is-ca.pem" })),
            );
            assert.deepStrictEqual(argsOf(https, "proxy_ssl_verify"), ["on"]);
            assert.deepStrictEqual(argsOf(https, "proxy_ssl_trusted_certificate"), [
                "/etc/nginx/tls/is-ca.pem",
            ]);
            assert.deepStrictEqual(argsOf(https, "proxy_ssl_name"), ["is.example.com"]);
        });

        it("renders an http-level snippet for conf.d without main-context directives", () => {
            const conf = renderNginxConf({
                ...BASE,
                fullConfig: false,
                accessLogPath: "/var/log/nginx/wso2is.log",
            });
            const top = parse(conf);
            assert.deepStrictEqual(
                top.map((d) => d.name),
                ["log_format", "map", "map", "upstream", "upstream", "server", "server"],
            );
            const { https, plain } = servers(top);
            for (const s of [https, plain]) {
                assert.deepStrictEqual(argsOf(s, "access_log"), [
                    "/var/log/nginx/wso2is.log",
                    "wso2is_upstream",
                ]);
            }
            assert.deepStrictEqual(argsOf(https, "proxy_next_upstream_tries"), ["2"]);
            assert.ok(!/^(events|http|pid|worker_processes)\b/m.test(conf));
        });
    });

    describe("input validation", () => {
        const bad: [string, Partial<NginxArgs> | Record<string, unknown>, RegExp][] = [
            ["no backends", { backends: [] }, /backends must list at least one IS node/],
            ["empty hostname", { hostname: "" }, /hostname must be a non-empty DNS name/],
            ["blank hostname", { hostname: "  " }, /hostname must be a non-empty DNS name/],
            ["hostname with a space", { hostname: "is example.com" }, /hostname must be a DNS name/],
            ["hostname that is an IP", { hostname: "10.0.0.1" }, /hostname must be a DNS name/],
            ["hostname with ';'", { hostname: "is.example.com;" }, /hostname must be a DNS name/],
            [
                "backend port 0",
                { backends: [{ address: "10.0.0.1", port: 0 }] },
                /backends\[0\]\.port must be an integer port between 1 and 65535, got 0/,
            ],
            [
                "backend port 65536",
                { backends: [{ address: "10.0.0.1", port: 65536 }] },
                /backends\[0\]\.port .* got 65536/,
            ],
            [
                "backend port 1.5",
                { backends: [{ address: "10.0.0.1", port: 1.5 }] },
                /backends\[0\]\.port .* got 1\.5/,
            ],
            [
                "backend address with a space",
                { backends: [{ address: "10.0.0.1 x", port: 9443 }] },
                /backends\[0\]\.address must be a DNS name or an IP address/,
            ],
            [
                "duplicate backend",
                {
                    backends: [
                        { address: "10.0.0.1", port: 9443 },
                        { address: "10.0.0.1", port: 9443 },
                    ],
                },
                /backends\[1\] 10\.0\.0\.1:9443 is listed twice/,
            ],
            [
                "https port 0",
                { listenHttps: 0 },
                /listenHttps must be an integer port between 1 and 65535, got 0/,
            ],
            ["http port 70000", { listenHttp: 70000 }, /listenHttp must be an integer port .* got 70000/],
            [
                "same listen ports",
                { listenHttps: 8443, listenHttp: 8443 },
                /listenHttps and listenHttp must differ/,
            ],
            [
                "listen address not an IP",
                { listenAddress: "localhost" },
                /listenAddress must be an IP address/,
            ],
            [
                "relative certificate path",
                { tlsCertificatePath: "is.crt" },
                /tlsCertificatePath must be an absolute path/,
            ],
            [
                "key path with ';'",
                { tlsKeyPath: "/etc/x.key; include /etc/passwd" },
                /tlsKeyPath must be an absolute path/,
            ],
            [
                "read timeout 0",
                { readTimeoutSeconds: 0 },
                /readTimeoutSeconds must be an integer between 1 and 86400, got 0/,
            ],
            ["health path without '/'", { healthPath: "health" }, /healthPath must be a URL path/],
            ["health path with '{'", { healthPath: "/a{b" }, /healthPath must be a URL path/],
            [
                "pid path in a snippet",
                { fullConfig: false, pidPath: "/run/x.pid" },
                /pidPath .* needs fullConfig: true/,
            ],
        ];
        for (const [what, patch, message] of bad) {
            it(`rejects ${what}`, () => {
                assert.throws(
                    () => renderNginxConf({ ...BASE, ...patch } as NginxArgs),
                    (e: unknown) => {
                        assert.ok(e instanceof Error);
                        assert.match(e.message, /^nginx\.conf: /);
                        assert.match(e.message, message);
                        return true;
                    },
                );
            });
        }

        it("accepts a single backend (dev) and a hostname like localhost", () => {
            const conf = renderNginxConf({
                ...BASE,
                hostname: "localhost",
                backends: [{ address: "127.0.0.1", port: 9443 }],
            });
            assert.deepStrictEqual(argsOf(servers(http(conf)).https, "proxy_next_upstream_tries"), ["1"]);
        });
    });
});
