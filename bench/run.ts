// npm run bench [-- --runs N] [--cp-runs N] [--only program,scale,critical] [--scale-stacks dev,azure-dev]
//
// Prints three tables and never asserts a timing (exit 0 unless the benchmark itself breaks):
//   1. program time: synth wall time per example stack vs the floor (loading @pulumi/pulumi),
//      and which provider SDKs each synth loaded;
//   2. scale: synth of the dev stack with 2, 10 and 50 nodes: wall time and peak RSS;
//   3. deployment critical path: each stack's program under a delayed mock engine
//      (bench/durations.ts, scaled 1000x down): simulated vs ideal deploy time and the chain
//      that bounds it.
// Tables go to stdout, progress to stderr. Children run one at a time; see bench/proc.ts.
import { execSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { StackCriticalPath, formatChain, measureCriticalPath } from "./critical-path";
import { bootToHealthySeconds, otherSeconds } from "./durations";
import { precompile } from "./precompile";
import { floorMedian, measureProgramTime, ratioGoal, targetProviders } from "./program-time";
import { exampleStacks, gnuTime, hasGnuTime, repoRoot, scratchDir } from "./proc";
import { parseArgs } from "node:util";
import { ScaleResult, measureScale } from "./scale";
import { max, mb, median, min, ratio, seconds, table } from "./stats";

interface Options {
    runs: number;
    cpRuns: number;
    only: Set<string>;
    scaleStacks: string[];
    scale: number;
}

const usage =
    "usage: npm run bench [-- --runs N] [--cp-runs N] [--only program,scale,critical] [--scale-stacks dev,azure-dev]";

function parseOptions(argv: string[]): Options {
    const { values } = parseArgs({
        args: argv,
        options: {
            runs: { type: "string", default: "5" },
            "cp-runs": { type: "string", default: "3" },
            only: { type: "string", default: "program,scale,critical" },
            "scale-stacks": { type: "string", default: "dev,azure-dev" },
        },
    });
    const o: Options = {
        runs: Number(values.runs),
        cpRuns: Number(values["cp-runs"]),
        only: new Set(values.only.split(",")),
        scaleStacks: values["scale-stacks"].split(","),
        scale: 1000,
    };
    if (!(o.runs >= 1) || !(o.cpRuns >= 1))
        throw new Error(`--runs and --cp-runs must be at least 1 (${usage})`);
    return o;
}

const log = (s: string) => process.stderr.write(`${s}\n`);
const out = (s = "") => process.stdout.write(`${s}\n`);
const loadavg = () =>
    os
        .loadavg()
        .map((x) => x.toFixed(2))
        .join(" ");

function header(o: Options): void {
    const cpus = os.cpus();
    let commit = "unknown";
    try {
        commit = execSync("git rev-parse --short HEAD", {
            cwd: repoRoot,
            encoding: "utf8",
            stdio: ["ignore", "pipe", "ignore"],
        }).trim();
        const dirty = execSync("git status --porcelain --untracked-files=no", {
            cwd: repoRoot,
            encoding: "utf8",
            stdio: ["ignore", "pipe", "ignore"],
        }).trim();
        if (dirty) commit += " + uncommitted changes";
    } catch {
        // not a git checkout
    }
    out("wso2is-cluster benchmarks (npm run bench): figures only, nothing here is asserted");
    out(`  date          ${new Date().toISOString()}`);
    out(`  node          ${process.version} (${process.platform}/${process.arch})`);
    out(`  cpus          ${cpus.length} x ${cpus[0]?.model.trim() ?? "?"}`);
    out(`  memory        ${Math.round(os.totalmem() / 2 ** 30)} GiB`);
    out(`  load average  ${loadavg()} (1/5/15 min, at start)`);
    out(`  commit        ${commit}`);
    out(
        `  runs          ${o.runs} per figure in tables 1 and 2 (median), ${o.cpRuns} wall-clock runs per stack in table 3`,
    );
}

/** Prints table 1; returns the stacks whose synth failed (printed as "not available"). */
function programTable(o: Options, stacks: string[], jsRoot: string): Set<string> {
    out();
    out("1. Program time: offline synth per example stack vs the floor");
    out(
        "   synth = `ts-node --transpile-only synth/cli.ts --stack S --out <tmp>` in a child (what `npm run synth` runs, without npm);",
    );
    out(
        "   js = the same synth transpiled once to JavaScript beforehand (no ts-node); floor = node -e \"require('@pulumi/pulumi')\".",
    );
    out("   Floor and synth runs interleave (per round and stack: floor, synth, js). Wall times, medians.");
    log("table 1: program time");
    const r = measureProgramTime(stacks, { runs: o.runs, jsRoot, log });
    const floor = floorMedian(r);
    const floorCpu = median(r.floorCpuMs);
    const rows = r.stacks.map((s) => {
        if (!s.available) return [s.stack, s.cloud, "not available", "", "", "", "", "", ""];
        const t = median(s.tsNodeMs);
        const js = median(s.jsMs);
        const goal = ratioGoal(s.cloud);
        return [
            s.stack,
            s.cloud,
            seconds(t),
            ratio(t / floor),
            `<= ${goal}x ${t / floor <= goal ? "met" : "NOT met"}`,
            seconds(js),
            ratio(js / floor),
            `${js / floor <= goal ? "met" : "NOT met"}`,
            `${ratio(median(s.tsNodeCpuMs) / floorCpu)} / ${ratio(median(s.jsCpuMs) / floorCpu)}`,
        ];
    });
    out();
    out(
        `   floor median ${seconds(floor)} wall, ${seconds(floorCpu)} CPU (wall min ${seconds(min(r.floorMs))}, max ${seconds(max(r.floorMs))}, ${r.floorMs.length} runs, peak RSS ${mb(r.floorRssKb)})`,
    );
    out(
        table(
            ["stack", "target", "synth", "/floor", "goal", "js", "/floor", "goal", "CPU /floor (synth / js)"],
            rows,
        ),
    );
    out(
        "   what each synth loaded (bench/probe.js: require.cache at exit, @pulumi/* packages other than pulumi, modules per package):",
    );
    for (const s of r.stacks) {
        if (!s.available) {
            out(`   ${s.stack}: not available (${s.reason})`);
            continue;
        }
        const providers = Object.entries(s.providers)
            .sort()
            .map(([p, n]) => `${p}(${n})`)
            .join(" ");
        const check =
            s.unexpected.length > 0
                ? `ALSO LOADS ${s.unexpected.join(", ")}`
                : s.missing.length > 0
                  ? `does not load ${s.missing.join(", ")}`
                  : `only the ${s.cloud} target's SDK (${(targetProviders[s.cloud] ?? []).join(", ")}) besides random/tls`;
        out(
            `   ${s.stack.padEnd(10)} ${Object.keys(s.providers).length} provider packages: ${providers}: ${check}; peak RSS ${mb(s.maxRssKb)}`,
        );
    }
    for (const s of r.stacks.filter((x) => x.available)) {
        out(
            `   ${s.stack.padEnd(10)} synth runs ${s.tsNodeMs.map((x) => (x / 1000).toFixed(2)).join(" ")} s; js runs ${s.jsMs.map((x) => (x / 1000).toFixed(2)).join(" ")} s`,
        );
    }
    const avail = r.stacks.filter((x) => x.available);
    if (avail.length > 0) {
        const tsOver = median(avail.map((s) => median(s.tsNodeCpuMs) - median(s.jsCpuMs)));
        out(
            `   ts-node costs ${seconds(tsOver)} CPU per synth (median over stacks of synth - js): it transpiles every .ts file at start with the`,
        );
        out(
            "   TypeScript compiler, and its source-map-support maps every stack trace the SDK captures (one or more per resource and per Output).",
        );
    }
    return new Set(r.stacks.filter((s) => !s.available).map((s) => s.stack));
}

function scaleTable(o: Options, stacks: string[], unavailable: Set<string>): void {
    out();
    out(
        "2. Scale: offline synth with wso2is-cluster:nodes = 2, 10, 50 (temp project dir per size, synth --project-dir)",
    );
    log("table 2: scale");
    const gnu = hasGnuTime();
    const results: ScaleResult[] = [];
    for (const stack of o.scaleStacks) {
        if (!stacks.includes(stack) || unavailable.has(stack)) {
            results.push({
                stack,
                rssSource: "",
                rows: [],
                available: false,
                reason: unavailable.has(stack) ? "its synth fails (table 1)" : `no Pulumi.${stack}.yaml`,
            });
            continue;
        }
        results.push(measureScale(stack, [2, 10, 50], { runs: o.runs, gnuTimeV: gnu, log }));
    }
    out(
        `   wall time median of ${o.runs} (sizes interleaved); peak RSS from ${gnu ? `${gnuTime} -v` : "process.resourceUsage().maxRSS (Debian package `time` not installed)"}`,
    );
    const rows: string[][] = [];
    for (const res of results) {
        if (!res.available) {
            rows.push([res.stack, "-", "not available", "", "", "", res.reason ?? ""]);
            continue;
        }
        const base = median(res.rows[0].wallMs);
        for (const row of res.rows) {
            const t = median(row.wallMs);
            rows.push([
                res.stack,
                String(row.nodes),
                String(row.resources ?? "-"),
                seconds(t),
                `${seconds(min(row.wallMs))} .. ${seconds(max(row.wallMs))}`,
                mb(median(row.maxRssKb)),
                ratio(t / base),
            ]);
        }
    }
    out(table(["stack", "nodes", "resources", "synth", "min .. max", "peak RSS", "vs 2 nodes"], rows));
    for (const res of results.filter((x) => x.available)) {
        const t2 = median(res.rows[0].wallMs);
        const t50 = median(res.rows[res.rows.length - 1].wallMs);
        const rss2 = median(res.rows[0].maxRssKb);
        const rss50 = median(res.rows[res.rows.length - 1].maxRssKb);
        out(
            `   ${res.stack}: 50/2 nodes = ${ratio(t50 / t2)} wall (goal <= 1.3x: ${t50 / t2 <= 1.3 ? "met" : "NOT met"}), ${ratio(rss50 / rss2)} peak RSS`,
        );
    }
}

function criticalTable(o: Options, stacks: string[], unavailable: Set<string>, jsRoot: string): void {
    out();
    out(
        `3. Deployment critical path: each stack's program under a delayed mock engine (creation times in bench/durations.ts, scaled ${o.scale}x down)`,
    );
    out(
        `   Node boot to healthy (${bootToHealthySeconds} s) is an extra delay on the node resources (ASG / VM / Deployment), so it counts in simulated and ideal alike.`,
    );
    out(
        `   simulated = wall time from the first registration to the last resolution (median of ${o.cpRuns}), x ${o.scale}`,
    );
    out(
        "   ideal     = longest chain over TRUE data dependencies (an input holds another resource's output, or it is the resource's provider;",
    );
    out("               dependsOn and parents excluded)");
    out(
        "   virtual   = the same run on a virtual clock (CPU counts as zero); declared = longest chain over data + dependsOn edges",
    );
    out(
        `   0-delay   = the span of a run where every resource resolves at once: the program's and the SDK's own time, x ${o.scale} like the rest`,
    );
    out(
        "   One child process per run (bench/critical-path-child.ts, from the precompiled JS copy: under ts-node its per-resource stack-trace",
    );
    out("   mapping would add CPU time, which the scale multiplies too).");
    log("table 3: critical path");
    const results: (StackCriticalPath | { stack: string; error: string })[] = [];
    for (const stack of stacks) {
        if (unavailable.has(stack)) {
            results.push({ stack, error: "its synth fails (table 1)" });
            continue;
        }
        log(`  ${stack}: ${o.cpRuns} wall-clock runs, 1 virtual-clock run, 1 zero-delay run`);
        try {
            results.push(
                measureCriticalPath(jsRoot, stack, repoRoot, { scale: o.scale, wallRuns: o.cpRuns }),
            );
        } catch (e) {
            results.push({ stack, error: e instanceof Error ? e.message : String(e) });
        }
    }
    const rows = results.map((r) => {
        if ("error" in r)
            return [r.stack, "-", "not available", "", "", "", "", "", "", "", "", r.error.slice(0, 100)];
        const wr = r.simulatedS / r.idealS;
        const vr = r.virtualS / r.idealS;
        return [
            r.stack,
            r.cloud,
            String(r.resources),
            seconds(r.simulatedS * 1000, 0),
            seconds(r.idealS * 1000, 0),
            ratio(wr),
            `<= 1.1x ${wr <= 1.1 ? "met" : "NOT met"}`,
            seconds(r.virtualS * 1000, 0),
            ratio(vr),
            vr <= 1.1 ? "met" : "NOT met",
            seconds(r.declaredS * 1000, 0),
            seconds(r.overheadS * 1000, 0),
        ];
    });
    out(
        table(
            [
                "stack",
                "target",
                "resources",
                "simulated",
                "ideal",
                "ratio",
                "goal",
                "virtual",
                "virt/ideal",
                "goal",
                "declared",
                `0-delay x${o.scale}`,
            ],
            rows,
        ),
    );
    out("   chains: A -> B  B takes A's output (data);  A -p> B  A is B's provider;  A => B  B dependsOn A;");
    out(
        "           A ~> B  B registered when A resolved without depending on it (an await or an apply in the program)",
    );
    for (const r of results) {
        if ("error" in r) continue;
        const prefix = `wso2is-${r.stack}-`;
        out(
            `   ${r.stack} (${r.cloud}, ${r.nodes} nodes): wall runs ${r.wallRunsS.map((x) => x.toFixed(0)).join(" ")} s`,
        );
        out(
            `     bounding chain (virtual clock, ${r.virtualS.toFixed(0)} s): ${formatChain(r.simulatedChain, prefix)}`,
        );
        if (formatChain(r.idealChain, prefix) !== formatChain(r.simulatedChain, prefix)) {
            out(
                `     ideal chain (data and provider edges only, ${r.idealS.toFixed(0)} s): ${formatChain(r.idealChain, prefix)}`,
            );
        }
        if (r.nodesChain.length > 0)
            out(`     nodes serve at ${r.nodesS.toFixed(0)} s: ${formatChain(r.nodesChain, prefix)}`);
        if (r.declaredS > r.idealS + 0.5) {
            out(
                `     dependsOn adds ${(r.declaredS - r.idealS).toFixed(0)} s: ${r.dependsOnOnChain.map((e) => `${e.from.replace(prefix, "")} => ${e.to.replace(prefix, "")}`).join(", ") || "(edges off the bounding chain)"}`,
            );
        }
        if (r.virtualS > r.declaredS + 0.5 || r.hiddenWaits.length > 0) {
            const byAfter = new Map<string, string[]>();
            for (const w of r.hiddenWaits) {
                const key = `${w.lagS.toFixed(0)} s after ${w.after.map((a) => a.replace(prefix, "")).join(", ") || "?"}`;
                byAfter.set(key, [...(byAfter.get(key) ?? []), w.name.replace(prefix, "")]);
            }
            for (const [after, names] of byAfter)
                out(
                    `     undeclared wait: ${names.length} registration(s) ${after} (${names.slice(0, 4).join(", ")}${names.length > 4 ? ", ..." : ""})`,
                );
        }
        const cpuShare = r.simulatedS - r.virtualS;
        if (cpuShare > 0.05 * r.idealS) {
            out(
                `     wall - virtual = ${cpuShare.toFixed(0)} s: CPU time x${o.scale} (program + SDK ${((r.overheadS / o.scale) * 1000).toFixed(0)} ms in the 0-delay run), not a wait a real deploy would see`,
            );
        }
    }
    out(
        `   durations: RDS / MySQL Flexible Server 600 s, AKS / Application Gateway 420 s, ALB 180 s, NAT 120 s, Traefik Helm release 90 s,`,
    );
    out(
        `   EFS 60 s (+ mount targets 90 s), VM / EC2 / ASG 60 s + boot ${bootToHealthySeconds} s, Deployment 2 s + boot ${bootToHealthySeconds} s, Key Vault / storage account 30 s,`,
    );
    out(`   IAM role 10 s, security group / NSG 5 s, platform stack read 1 s, others ${otherSeconds} s`);
}

function main(): void {
    const started = Date.now();
    const o = parseOptions(process.argv.slice(2));
    header(o);
    const stacks = exampleStacks();
    out(`  stacks        ${stacks.join(", ")} (Pulumi.*.yaml in the repo root)`);
    log("transpiling a JavaScript copy of components/, synth/ and bench/");
    const jsRoot = precompile(path.join(scratchDir(), "js"));
    const unavailable = o.only.has("program") ? programTable(o, stacks, jsRoot) : new Set<string>();
    if (o.only.has("scale")) scaleTable(o, stacks, unavailable);
    if (o.only.has("critical")) criticalTable(o, stacks, unavailable, jsRoot);
    out();
    out(`done in ${((Date.now() - started) / 1000).toFixed(0)} s; load average at end ${loadavg()}`);
    fs.rmSync(scratchDir(), { recursive: true, force: true });
}

try {
    main();
} catch (e) {
    process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(2);
}
