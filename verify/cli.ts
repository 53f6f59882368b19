// `npm run verify -- --stack <name>`: checks a deployed cluster the way the seed's last step
// does ("run the cluster"), and with --failover proves that one node can go while the others
// serve. Exit 0 only when every check passes; 1 when a check fails; 2 for a usage problem or a
// refused drill. docs/operations.md describes each check.
import * as fs from "fs";
import * as readline from "readline/promises";
import { parseArgs } from "util";
import {
    CheckContext,
    checkAffinityCookie,
    checkDns,
    checkHealth,
    checkLoad,
    checkNodes,
    checkOidc,
    checkRedirect,
    checkTls,
    discoveryPath,
} from "./checks";
import { createNodeControl } from "./controls";
import { MissingDependency, NodeControl } from "./controls/types";
import { Refused, failoverCheck, runFailover } from "./failover";
import { Endpoint } from "./http";
import { ClusterInfo, Target, UsageError, clusterFromOutputs, readStackOutputs, targets } from "./outputs";
import { CheckResult, Report, formatLine, formatReport, isOk } from "./report";

export const checkNames = [
    "dns",
    "http-redirect",
    "tls",
    "health",
    "oidc-discovery",
    "jwks",
    "affinity-cookie",
    "requests",
    "nodes",
] as const;

const options = {
    stack: { type: "string" },
    url: { type: "string" },
    ca: { type: "string" },
    address: { type: "string" },
    "http-port": { type: "string", default: "80" },
    requests: { type: "string", default: "100" },
    concurrency: { type: "string", default: "10" },
    timeout: { type: "string", default: "10" },
    "min-cert-days": { type: "string", default: "14" },
    skip: { type: "string" },
    json: { type: "boolean", default: false },
    target: { type: "string" },
    region: { type: "string" },
    subscription: { type: "string" },
    "cluster-name": { type: "string" },
    "node-control": { type: "string" },
    failover: { type: "boolean", default: false },
    yes: { type: "boolean", default: false },
    node: { type: "string" },
    clients: { type: "string", default: "4" },
    "interval-ms": { type: "string", default: "100" },
    warmup: { type: "string", default: "5" },
    hold: { type: "string", default: "30" },
    tail: { type: "string", default: "5" },
    poll: { type: "string", default: "2" },
    "failover-timeout": { type: "string", default: "900" },
    help: { type: "boolean", short: "h", default: false },
} as const;

export const usage = `Usage: npm run verify -- (--stack NAME | --url https://HOST[:PORT]) [options]

Checks: ${checkNames.join(", ")}; with --failover, a failover drill.
  --stack NAME          read the stack's outputs (pulumi stack output --json)
  --url URL             check this base URL instead of the stack's (the stack still names the nodes)
  --ca FILE             trust this PEM CA instead of the system's (self-signed dev clusters)
  --address ADDR        connect here instead of resolving the hostname (not yet in DNS)
  --http-port N         port of the HTTP -> HTTPS redirect check (default 80)
  --requests N          requests in the burst (default 100); --concurrency N clients (default 10)
  --timeout S           per request, seconds (default 10); --min-cert-days N (default 14)
  --skip a,b            skip these checks
  --json                print one JSON report
  --target T            ${targets.join(" | ")} (default: from the outputs)
  --region R            AWS region (default: from the ALB name or AWS_REGION)
  --subscription ID     Azure subscription (default: AZURE_SUBSCRIPTION_ID)
  --cluster-name N      Azure: the cluster tag value (default wso2is-<stack>)
  --node-control FILE   a module exporting createNodeControl() for any other load balancer
Failover drill:
  --failover            take one node out under a steady stream of requests, then bring it back
  --yes                 do not ask for confirmation; --node ID picks the node
  --clients N (4)  --interval-ms N (100)  --warmup S (5)  --hold S (30)  --tail S (5)
  --poll S (2)  --failover-timeout S (900)
Exit: 0 all passed, 1 a check failed, 2 usage error or refused.`;

export interface Io {
    out: (s: string) => void;
    err: (s: string) => void;
    /** Asks for confirmation; undefined when there is no terminal to ask on. */
    confirm?: (question: string) => Promise<boolean>;
}

function num(v: string | undefined, name: string, min: number, max: number): number {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n) || n < min || n > max) {
        throw new UsageError(`--${name} must be a number from ${min} to ${max}, got ${JSON.stringify(v)}`);
    }
    return n;
}

/** Runs verify; resolves to the exit code. */
export async function main(argv: string[], io: Io): Promise<number> {
    const started = Date.now();
    try {
        const { values: v } = parseArgs({ args: argv, options, strict: true, allowPositionals: false });
        if (v.help) {
            io.out(usage);
            return 0;
        }
        if (!v.stack && !v.url) throw new UsageError("pass --stack NAME or --url https://HOST");
        if (v.target !== undefined && !targets.includes(v.target as Target))
            throw new UsageError(
                `--target must be one of ${targets.join(", ")}, got ${JSON.stringify(v.target)}`,
            );
        const skip = new Set((v.skip ?? "").split(",").filter(Boolean));
        for (const s of skip)
            if (!(checkNames as readonly string[]).includes(s))
                throw new UsageError(
                    `--skip: unknown check ${JSON.stringify(s)} (checks: ${checkNames.join(", ")})`,
                );

        const outputs = v.stack ? readStackOutputs(v.stack) : {};
        const fromStack: ClusterInfo | undefined = v.stack ? clusterFromOutputs(outputs) : undefined;
        let url: URL;
        try {
            url = new URL(v.url ?? fromStack!.url);
        } catch {
            throw new UsageError(
                `--url must be an absolute URL like https://is.example.com, got ${JSON.stringify(v.url)}`,
            );
        }
        if (url.protocol !== "https:") throw new UsageError(`--url must be https://, got ${url.protocol}//`);
        url = new URL(url.origin); // the base: path and query are not ours to keep
        let ca: Buffer | undefined;
        if (v.ca) {
            try {
                ca = fs.readFileSync(v.ca);
            } catch (e) {
                throw new UsageError(`--ca ${v.ca}: ${(e as Error).message}`);
            }
        }
        const ep: Endpoint = {
            url,
            ca,
            address: v.address,
            httpPort: num(v["http-port"], "http-port", 1, 65535),
            timeoutMs: num(v.timeout, "timeout", 0.1, 600) * 1000,
        };
        const target = (v.target as Target | undefined) ?? fromStack?.target;
        const sameHost = !v.url || !fromStack || new URL(fromStack.url).host === url.host;

        // Per-node control: only when the stack names the nodes (or a module is given).
        let control: NodeControl | undefined;
        let noControl = "no per-node view: pass --stack (aws, azure, aks, ecs) or --node-control MODULE";
        if (v["node-control"] || (v.stack && target)) {
            try {
                control = await createNodeControl({
                    target,
                    outputs,
                    stack: v.stack,
                    region: v.region,
                    subscription: v.subscription,
                    clusterName: v["cluster-name"],
                    nodeControl: v["node-control"],
                });
            } catch (e) {
                if (!(e instanceof MissingDependency || e instanceof UsageError) || v.failover) throw e;
                noControl = e.message;
            }
        } else if (v.stack) {
            noControl = "the outputs name no known target (pass --target)";
        }

        const ctx: CheckContext = {
            ep,
            lbDnsName: sameHost ? fromStack?.lbDnsName : undefined,
            lbAddress: sameHost ? fromStack?.lbAddress : undefined,
            requests: num(v.requests, "requests", 1, 100_000),
            concurrency: num(v.concurrency, "concurrency", 1, 200),
            minCertDays: num(v["min-cert-days"], "min-cert-days", 0, 3650),
            healthHint:
                control?.lookAt ??
                "the load balancer's per-node health and the nodes' IS logs (wso2carbon.log; journalctl -u wso2is; kubectl logs)",
        };

        const checks: CheckResult[] = [];
        const add = (c: CheckResult) => {
            if (skip.has(c.name)) c = { name: c.name, status: "skip", summary: "--skip" };
            checks.push(c);
            if (!v.json) io.out(formatLine(c));
        };
        if (!v.json)
            io.out(
                `verify ${url.origin}${target ? ` (${target}${v.stack ? `, stack ${v.stack}` : ""})` : ""}`,
            );
        const run = async (name: string, f: () => Promise<CheckResult>) =>
            add(skip.has(name) ? { name, status: "skip", summary: "--skip" } : await f());
        await run("dns", () => checkDns(ctx));
        await run("http-redirect", () => checkRedirect(ctx));
        await run("tls", () => checkTls(ctx));
        await run("health", () => checkHealth(ctx));
        if (skip.has("oidc-discovery") && skip.has("jwks")) {
            add({ name: "oidc-discovery", status: "skip", summary: "--skip" });
            add({ name: "jwks", status: "skip", summary: "--skip" });
        } else {
            const oidc = await checkOidc(ctx);
            add(oidc.discovery);
            add(oidc.jwks);
        }
        await run("affinity-cookie", () => checkAffinityCookie(ctx));
        await run("requests", () => checkLoad(ctx));
        await run("nodes", () => checkNodes(control, noControl, fromStack?.nodeCount));

        if (v.failover) {
            if (!isOk(checks)) {
                throw new Refused(
                    `refusing --failover: ${checks
                        .filter((c) => c.status === "fail")
                        .map((c) => c.name)
                        .join(", ")} failed; fix the cluster first`,
                );
            }
            if (!control) throw new Refused(`refusing --failover: ${noControl}`);
            const drill = {
                clients: num(v.clients, "clients", 1, 100),
                intervalMs: num(v["interval-ms"], "interval-ms", 0, 60_000),
                warmupMs: num(v.warmup, "warmup", 0, 3600) * 1000,
                holdMs: num(v.hold, "hold", 0, 3600) * 1000,
                tailMs: num(v.tail, "tail", 0, 3600) * 1000,
                pollMs: num(v.poll, "poll", 0.05, 600) * 1000,
                timeoutMs: num(v["failover-timeout"], "failover-timeout", 1, 7200) * 1000,
            };
            const nodes = await control.nodes();
            const { pickNode } = await import("./failover");
            const node = pickNode(nodes, v.node);
            if (!v.yes) {
                const question =
                    `Take ${node} out of ${url.host} (${control.target}: ${control.source}) for a failover drill, ` +
                    `then bring it back? Users may notice. [y/N] `;
                if (!io.confirm)
                    throw new Refused("refusing --failover without a terminal to confirm on: pass --yes");
                if (!(await io.confirm(question))) throw new Refused("failover drill not confirmed");
            }
            if (!v.json)
                io.out(`      drill: ${node}, ${drill.clients} clients every ${drill.intervalMs} ms`);
            // Ctrl-C during the drill brings the node back first; a second one exits at once.
            const interrupt = new AbortController();
            const onSigint = () => {
                if (interrupt.signal.aborted) process.exit(130);
                io.err("verify: interrupted: bringing the node back (Ctrl-C again to exit without it)");
                interrupt.abort();
            };
            process.on("SIGINT", onSigint);
            let r;
            try {
                r = await runFailover({
                    ep,
                    control,
                    path: discoveryPath,
                    node,
                    ...drill,
                    log: (l) => (v.json ? io.err(l) : io.out(l)),
                    signal: interrupt.signal,
                });
            } finally {
                process.removeListener("SIGINT", onSigint);
            }
            add(failoverCheck(r, control));
        }

        const report: Report = {
            ok: isOk(checks),
            target: control?.target ?? target,
            stack: v.stack,
            url: url.origin,
            startedAt: new Date(started).toISOString(),
            durationMs: Date.now() - started,
            checks,
        };
        if (v.json) io.out(JSON.stringify(report, null, 2));
        else io.out(formatReport(report).split("\n").pop()!);
        return report.ok ? 0 : 1;
    } catch (e) {
        if (e instanceof UsageError || e instanceof Refused || e instanceof MissingDependency) {
            io.err(`verify: ${e.message}`);
            return 2;
        }
        if ((e as NodeJS.ErrnoException).code?.startsWith("ERR_PARSE_ARGS")) {
            io.err(`verify: ${(e as Error).message}\n\n${usage}`);
            return 2;
        }
        throw e;
    }
}

if (require.main === module) {
    const io: Io = {
        out: (s) => process.stdout.write(`${s}\n`),
        err: (s) => process.stderr.write(`${s}\n`),
        confirm: process.stdin.isTTY
            ? async (q) => {
                  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
                  try {
                      return /^y(es)?$/i.test((await rl.question(q)).trim());
                  } finally {
                      rl.close();
                  }
              }
            : undefined,
    };
    main(process.argv.slice(2), io).then(
        (code) => (process.exitCode = code),
        (e) => {
            process.stderr.write(`verify: ${(e as Error).stack ?? e}\n`);
            process.exitCode = 2;
        },
    );
}
