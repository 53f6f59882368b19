// npm run synth [-- --stack NAME] [--out DIR] [--project-dir DIR]
//
// Offline synth: runs the real program (components/program.ts) under the deterministic mock
// engine with the stack's config, and writes everything that would be deployed to
// <out>/<stack>/: resources.json, model.json, outputs.json, per-node cloud-init and the files
// it writes, the load balancer's config, Kubernetes manifests and topology.dot (+ .svg when
// Graphviz is installed). No secret value reaches a file; two runs give identical bytes.
// Exit codes: 0 written; 1 bad stack/config (message only, nothing written); 2 other failure.
//
// Only the chosen target's provider SDK is loaded (program.ts requires it lazily): this file
// imports no provider package.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "node:util";
import * as pulumi from "@pulumi/pulumi";
import { FileTree, buildArtifacts, nodeArtifacts, userDataWarnings } from "./artifacts";
import { RecordedResource, createMocks, settle } from "./mocks";
import { Scrubber, collectSecretValues, redacted } from "./redact";
import { StackFileError, loadStackConfig } from "./stackConfig";

const usage = `usage: npm run synth [-- --stack NAME] [--out DIR] [--project-dir DIR]
  --stack NAME        stack to synthesize (Pulumi.NAME.yaml); default dev
  --out DIR           output root; files go to DIR/NAME/; default <project-dir>/out
  --project-dir DIR   directory with Pulumi.yaml and the stack files; default the current one`;

export interface CliArgs {
    stack: string;
    out?: string;
    projectDir?: string;
    help: boolean;
}

class UsageError extends Error {}

export function parseCliArgs(argv: string[]): CliArgs {
    let values: { stack?: string; out?: string; "project-dir"?: string; help?: boolean };
    try {
        ({ values } = parseArgs({
            args: argv,
            options: {
                stack: { type: "string", short: "s", default: "dev" },
                out: { type: "string", short: "o" },
                "project-dir": { type: "string", short: "C" },
                help: { type: "boolean", short: "h", default: false },
            },
            strict: true,
            allowPositionals: false,
        }));
    } catch (e) {
        throw new UsageError((e as Error).message);
    }
    for (const [flag, v] of [
        ["--out", values.out],
        ["--project-dir", values["project-dir"]],
    ] as const)
        if (v !== undefined && (v === "" || v.startsWith("--")))
            throw new UsageError(`${flag} needs a value`);
    const args: CliArgs = {
        stack: values.stack ?? "dev",
        out: values.out,
        projectDir: values["project-dir"],
        help: values.help ?? false,
    };
    if (!/^[A-Za-z0-9_.-]+$/.test(args.stack))
        throw new UsageError(
            `--stack ${JSON.stringify(args.stack)}: a stack name is letters, digits, "-", "_" and "."`,
        );
    return args;
}

/**
 * Fills each record's urn and parent URN as the mock monitor registers it (exact parents).
 * This wraps the mock monitor because the SDK (3.248) offers no public hook for it:
 * MockResourceArgs carries no parent or URN, and stack transforms need a Stack resource,
 * which would change every URN synth writes.
 */
function trackUrns(records: RecordedResource[]): void {
    const monitor = pulumi.runtime.getMonitor() as any;
    if (!monitor || typeof monitor.newUrn !== "function") return;
    for (const method of ["registerResource", "readResource"]) {
        const original = monitor[method];
        if (typeof original !== "function") continue;
        monitor[method] = function (this: unknown, req: any, callback: unknown) {
            const before = records.length;
            // The mock monitor calls mocks.newResource synchronously, before its first await.
            const result = original.call(this, req, callback);
            if (records.length === before + 1) {
                const parent: string = req.getParent?.() || "";
                records[before].parent = parent;
                records[before].urn = monitor.newUrn(parent, req.getType(), req.getName());
            }
            return result;
        };
    }
}

/** URNs for records the tracker missed, matched by type and name in the monitor's resources. */
function fillMissingUrns(records: RecordedResource[]): void {
    const monitor = pulumi.runtime.getMonitor() as any;
    const urns: string[] = monitor?.resources instanceof Map ? [...monitor.resources.keys()] : [];
    for (const r of records) {
        if (r.urn) continue;
        const hits = urns.filter((u) => {
            const parts = u.split("::");
            return parts.slice(3).join("::") === r.name && parts[2]?.split("$").pop() === r.type;
        });
        if (hits.length === 1) r.urn = hits[0];
    }
}

/** The value of an Output; rejects when the output failed (apply threw, registration failed). */
function valueOf<T>(o: pulumi.Output<T>): Promise<T> {
    const impl = o as unknown as { promise?: () => Promise<T> };
    return typeof impl.promise === "function"
        ? impl.promise()
        : new Promise<T>((resolve) =>
              o.apply((v) => {
                  resolve(v);
                  return v;
              }),
          );
}

async function resolveOutputs(
    outputs: Record<string, pulumi.Output<unknown>>,
): Promise<Record<string, unknown>> {
    const result: Record<string, unknown> = {};
    for (const key of Object.keys(outputs).sort()) {
        const o = outputs[key];
        if (!pulumi.Output.isInstance(o)) {
            result[key] = o;
            continue;
        }
        const value = await valueOf(o);
        // isSecret is on every Output at runtime but not in the public type.
        const secret = await (o as unknown as { isSecret?: Promise<boolean> }).isSecret;
        result[key] = secret ? redacted : value === undefined ? null : value;
    }
    return result;
}

/** Every secret value the run knows: config placeholders, generated passwords and keys, secret inputs. */
function knownSecrets(records: RecordedResource[], placeholders: string[]): Set<string> {
    const secrets = new Set<string>(placeholders);
    for (const r of records) {
        collectSecretValues(r.inputs, secrets);
        collectSecretValues(r.state, secrets);
        if (/^random:index\/random(Password|Bytes):/.test(r.type)) {
            for (const k of ["result", "bcryptHash", "base64", "hex"])
                if (typeof r.state[k] === "string") secrets.add(r.state[k]);
        }
        if (r.type.startsWith("tls:index/privateKey:")) {
            for (const [k, v] of Object.entries(r.state))
                if (/private/i.test(k) && typeof v === "string") secrets.add(v);
        }
    }
    return secrets;
}

function renderSvg(dot: string): string | undefined {
    const result = spawnSync("dot", ["-Tsvg"], { input: dot, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    if (result.error || result.status !== 0) return undefined;
    return result.stdout;
}

/** Writes the tree to a temp dir beside the target and swaps it in: all or nothing. */
function writeTree(outRoot: string, stack: string, files: FileTree): string {
    const final = path.join(outRoot, stack);
    const tmp = path.join(outRoot, `.${stack}.synth-tmp-${process.pid}`);
    const old = path.join(outRoot, `.${stack}.synth-old-${process.pid}`);
    fs.mkdirSync(outRoot, { recursive: true });
    fs.rmSync(tmp, { recursive: true, force: true });
    try {
        for (const rel of [...files.keys()].sort()) {
            const file = path.join(tmp, ...rel.split("/"));
            fs.mkdirSync(path.dirname(file), { recursive: true });
            fs.writeFileSync(file, files.get(rel)!);
        }
        if (fs.existsSync(final)) fs.renameSync(final, old);
        fs.renameSync(tmp, final);
        fs.rmSync(old, { recursive: true, force: true });
    } catch (e) {
        fs.rmSync(tmp, { recursive: true, force: true });
        if (!fs.existsSync(final) && fs.existsSync(old)) fs.renameSync(old, final);
        throw e;
    }
    return final;
}

function summary(args: {
    stack: string;
    project: string;
    config: { cloud: string; membership: string; nodes: number; hostname: string };
    records: RecordedResource[];
    outputs: Record<string, unknown>;
    outDir: string;
    files: string[];
    nodeNames: string[];
    warnings: string[];
}): string {
    const counts = new Map<string, number>();
    for (const r of args.records) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
    const custom = args.records.filter((r) => r.custom).length;
    const types = [...counts.keys()].sort();
    const width = Math.max(...types.map((t) => t.length), 10);
    const lines = [
        `synth ${args.project}/${args.stack}`,
        `  target       ${args.config.cloud}`,
        `  membership   ${args.config.membership}`,
        `  nodes        ${args.config.nodes}${args.nodeNames.length > 0 ? ` (rendered: ${args.nodeNames.join(", ")})` : ""}`,
        `  resources    ${args.records.length} (${custom} custom, ${args.records.length - custom} component${args.records.length - custom === 1 ? "" : "s"})`,
        ...types.map((t) => `    ${t.padEnd(width)}  ${counts.get(t)}`),
        "  endpoints",
        ...["url", "hostname", "loadBalancerDnsName", "databaseEndpoint"]
            .filter((k) => args.outputs[k] !== undefined)
            .map((k) => `    ${k.padEnd(20)} ${String(args.outputs[k])}`),
        `  files        ${args.outDir}/`,
        ...args.files.map((f) => `    ${f}`),
        ...(args.warnings.length > 0 ? ["  warnings", ...args.warnings.map((w) => `    ${w}`)] : []),
    ];
    return `${lines.join("\n")}\n`;
}

let finished = false;

function exit(code: number): never {
    finished = true;
    // Let stdout/stderr drain (pipes are async), then stop: the SDK may keep handles open.
    process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
    // Unreachable in practice; keeps the type `never` honest if the callbacks never run.
    setTimeout(() => process.exit(code), 2000).unref();
    return undefined as never;
}

function isUserError(e: unknown): e is Error {
    return (
        pulumi.RunError.isInstance(e) ||
        e instanceof StackFileError ||
        e instanceof UsageError ||
        (e instanceof Error && e.name === "ConfigError")
    );
}

function fail(e: unknown): never {
    if (finished) return undefined as never;
    if (isUserError(e)) {
        process.stderr.write(`${e.message}\n`);
        if (e instanceof UsageError) process.stderr.write(`${usage}\n`);
        return exit(1);
    }
    const err = e instanceof Error ? e : new Error(String(e));
    process.stderr.write(`synth failed: ${err.stack ?? err.message}\n`);
    return exit(2);
}

export async function main(argv: string[]): Promise<void> {
    const args = parseCliArgs(argv);
    if (args.help) {
        process.stdout.write(`${usage}\n`);
        return exit(0);
    }
    const projectDir = path.resolve(args.projectDir ?? process.cwd());
    const outRoot = args.out ? path.resolve(args.out) : path.join(projectDir, "out");
    const stack = loadStackConfig(projectDir, args.stack);
    for (const note of stack.notes) process.stderr.write(`note: ${note}\n`);

    // Config, then mocks, then (and only then) the program.
    pulumi.runtime.setAllConfig(stack.config, stack.secretKeys);
    const { mocks, records } = createMocks({
        region: stack.config["aws:region"],
        location: stack.config["azure-native:location"],
    });
    void pulumi.runtime.setMocks(mocks, stack.project, args.stack, false);
    trackUrns(records);

    const { program }: typeof import("../components/program") = require(
        path.join(__dirname, "..", "components", "program"),
    );
    // Not a deployment: placeholder digests warn as in `pulumi preview` (preview = false above
    // keeps the mocks' outputs known, so the rendered files are those of an up).
    const p = await program({ deploying: false });
    const outputs = await resolveOutputs(p.outputs);
    const model = pulumi.Output.isInstance(p.cluster.model) ? await valueOf(p.cluster.model) : null;
    const nginx = (p.cluster as unknown as { nginxConf?: unknown }).nginxConf;
    const nginxConf = pulumi.Output.isInstance(nginx)
        ? String(await valueOf(nginx))
        : typeof nginx === "string"
          ? nginx
          : undefined;
    await settle();
    fillMissingUrns(records);

    const scrubber = new Scrubber(knownSecrets(records, stack.placeholders));
    const files = buildArtifacts({
        stack: args.stack,
        records,
        model,
        outputs,
        nginxConf,
        nodeCount: p.config.nodes,
        scrubber,
    });
    const svg = renderSvg(files.get("topology.dot")!);
    if (svg !== undefined) files.set("topology.svg", scrubber.text(svg));

    const written = writeTree(outRoot, args.stack, files);
    const nodes = nodeArtifacts(records);
    const warnings = userDataWarnings(nodes);
    const shownDir = path.relative(process.cwd(), written) || ".";
    process.stdout.write(
        summary({
            stack: args.stack,
            project: stack.project,
            config: p.config,
            records,
            outputs,
            outDir: shownDir.startsWith("..") ? written : shownDir,
            files: [...files.keys()].sort(),
            nodeNames: nodes.map((n) => n.node),
            warnings,
        }),
    );
    if (svg === undefined) process.stdout.write("  (Graphviz `dot` not found: topology.svg skipped)\n");
    process.stdout.write(`  done in ${process.uptime().toFixed(1)} s\n`);
    return exit(0);
}

if (require.main === module) {
    process.on("unhandledRejection", (e) => fail(e));
    process.on("uncaughtException", (e) => fail(e));
    process.on("beforeExit", () => {
        if (!finished)
            fail(
                new Error(
                    "the program stopped before its outputs resolved (an Output or registration never completed)",
                ),
            );
    });
    main(process.argv.slice(2)).catch(fail);
}
