// Deployment critical path: runs each stack's program in a child (bench/critical-path-child.ts)
// under the delayed mock engine and reads the dependency graph the SDK reported.
//
//   simulated  wall time from the first registration to the last resolution, x scale
//   ideal      the longest chain over TRUE data dependencies: an edge A -> B only where an
//              input property of B holds a value that came from A (the per-property
//              dependencies the SDK sends), or A is B's explicit provider instance (B cannot be
//              created before its provider is configured, e.g. a kubeconfig from the cluster).
//              dependsOn edges and parents are not data.
//   declared   the longest chain over every dependency the SDK sent (data + provider + dependsOn)
//   virtual    the simulated time on a virtual clock, where the program's and the SDK's CPU
//              time count as zero (at scale 1000, 1 ms of CPU reads as 1 simulated second)
// so that   virtual - declared = waits the graph does not show (awaits, resources made in an
// apply), declared - ideal = ordering by dependsOn, wall - virtual = CPU x scale.
import * as path from "path";
import type { ChildReport, Registration } from "./critical-path-child";
import { nodeTypes } from "./durations";
import { runNode } from "./proc";

export type EdgeKind = "data" | "provider" | "dependsOn" | "undeclared";

export interface Step {
    name: string;
    type: string;
    durationS: number;
    /** How this step waited for the previous one (undefined on the first step). */
    via?: EdgeKind;
    /** Simulated seconds at which it started and finished (ideal: earliest start). */
    startS: number;
    endS: number;
}

export interface HiddenWait {
    name: string;
    type: string;
    /** Simulated seconds between its declared dependencies' resolution and its registration. */
    lagS: number;
    /** What resolved at the moment it was registered (not among its dependencies). */
    after: string[];
}

export interface StackCriticalPath {
    stack: string;
    cloud: string;
    nodes: number;
    resources: number;
    scale: number;
    wallRunsS: number[];
    simulatedS: number;
    virtualS: number;
    declaredS: number;
    idealS: number;
    /** The 0-delay run's span x scale: the program's and the SDK's own time as the wall clock shows it. */
    overheadS: number;
    idealChain: Step[];
    declaredChain: Step[];
    /** The longest declared chain that ends in a node resource (ASG / VM / Deployment): when the nodes serve. */
    nodesChain: Step[];
    nodesS: number;
    /** The chain that bounds the virtual-clock run, walked back from the last resolution. */
    simulatedChain: Step[];
    hiddenWaits: HiddenWait[];
    dependsOnOnChain: { from: string; to: string }[];
}

function dataDeps(r: Registration): Set<string> {
    return new Set(Object.values(r.propertyDeps).flat());
}

/** Everything the SDK made this registration wait for: its dependencies and its provider. */
function waitedFor(r: Registration): string[] {
    return r.provider && !r.deps.includes(r.provider) ? [...r.deps, r.provider] : r.deps;
}

/** Longest path over the registrations, nodes weighted by duration (seconds). */
export function longestPath(
    regs: Registration[],
    kinds: "data" | "declared",
    endsAt: (r: Registration) => boolean = () => true,
): { totalS: number; chain: Step[] } {
    const byUrn = new Map(regs.map((r) => [r.urn, r]));
    const memo = new Map<string, { finish: number; prev?: string; via?: EdgeKind }>();
    const depsOf = (r: Registration): [string, EdgeKind][] => {
        const data = dataDeps(r);
        const all: [string, EdgeKind][] = [...data].map((u) => [u, "data"]);
        if (r.provider && !data.has(r.provider)) all.push([r.provider, "provider"]);
        if (kinds === "declared")
            for (const u of r.deps) if (!data.has(u) && u !== r.provider) all.push([u, "dependsOn"]);
        return all.filter(([u]) => u !== r.urn && u !== r.parent && byUrn.has(u));
    };
    const visiting = new Set<string>();
    const finish = (urn: string): number => {
        const hit = memo.get(urn);
        if (hit) return hit.finish;
        if (visiting.has(urn)) throw new Error(`dependency cycle through ${urn}`);
        visiting.add(urn);
        const r = byUrn.get(urn)!;
        let best = 0;
        let prev: string | undefined;
        let via: EdgeKind | undefined;
        for (const [u, kind] of depsOf(r)) {
            const f = finish(u);
            if (
                f > best ||
                (f === best && prev !== undefined && kind !== "dependsOn" && via === "dependsOn")
            ) {
                best = f;
                prev = u;
                via = kind;
            }
        }
        visiting.delete(urn);
        const result = { finish: best + r.durationS, prev, via };
        memo.set(urn, result);
        return result.finish;
    };
    let end: string | undefined;
    let total = 0;
    for (const r of regs) {
        if (!endsAt(r)) continue;
        const f = finish(r.urn);
        if (f > total) {
            total = f;
            end = r.urn;
        }
    }
    const chain: Step[] = [];
    for (let u = end; u !== undefined;) {
        const r = byUrn.get(u)!;
        const m = memo.get(u)!;
        chain.unshift({
            name: r.name,
            type: r.type,
            durationS: r.durationS,
            via: m.via,
            startS: m.finish - r.durationS,
            endS: m.finish,
        });
        u = m.prev;
    }
    if (chain.length > 0) chain[0].via = undefined;
    return { totalS: total, chain };
}

const toS = (ms: number, scale: number) => (ms * scale) / 1000;

/** Registrations later than their declared dependencies (on the virtual clock: only real waits). */
export function hiddenWaits(report: ChildReport, minLagS: number): HiddenWait[] {
    const byUrn = new Map(report.registrations.map((r) => [r.urn, r]));
    const waits: HiddenWait[] = [];
    for (const r of report.registrations) {
        const deps = waitedFor(r);
        const ready = Math.max(0, ...deps.map((u) => byUrn.get(u)?.resolvedMs ?? 0));
        const lagS = toS(r.registeredMs - ready, report.scale);
        if (lagS < minLagS) continue;
        const after = report.registrations
            .filter(
                (x) =>
                    x !== r &&
                    !deps.includes(x.urn) &&
                    x.custom &&
                    Math.abs(x.resolvedMs - r.registeredMs) < 1e-6,
            )
            .map((x) => x.name);
        waits.push({ name: r.name, type: r.type, lagS, after });
    }
    return waits;
}

/** The chain that ended the run: from the last resolution back through whatever it waited on last. */
export function simulatedChain(report: ChildReport): Step[] {
    const regs = report.registrations;
    if (regs.length === 0) return [];
    const byUrn = new Map(regs.map((r) => [r.urn, r]));
    let r: Registration | undefined = regs.reduce((a, b) => (b.resolvedMs > a.resolvedMs ? b : a));
    const chain: Step[] = [];
    const seen = new Set<string>();
    while (r && !seen.has(r.urn)) {
        const cur: Registration = r;
        seen.add(cur.urn);
        const data = dataDeps(cur);
        const declared: Registration[] = waitedFor(cur)
            .map((u) => byUrn.get(u))
            .filter((x): x is Registration => x !== undefined && x.resolvedMs <= cur.registeredMs + 1e-6);
        let lastDeclared: Registration | undefined;
        for (const d of declared)
            if (!lastDeclared || d.resolvedMs > lastDeclared.resolvedMs) lastDeclared = d;
        const readyMs = lastDeclared?.resolvedMs ?? 0;
        // Something else that resolved right when it was registered, when that is later than its deps.
        const undeclared: Registration | undefined = regs
            .filter(
                (x) =>
                    x !== cur &&
                    x.custom &&
                    x.resolvedMs > readyMs + 1e-6 &&
                    Math.abs(x.resolvedMs - cur.registeredMs) < 1e-6,
            )
            .sort((a, b) => b.durationS - a.durationS)[0];
        const prev: Registration | undefined = undeclared ?? lastDeclared;
        const via: EdgeKind | undefined = !prev
            ? undefined
            : undeclared
              ? "undeclared"
              : data.has(prev.urn)
                ? "data"
                : prev.urn === cur.provider
                  ? "provider"
                  : "dependsOn";
        chain.unshift({
            name: cur.name,
            type: cur.type,
            durationS: cur.durationS,
            via,
            startS: toS(cur.registeredMs, report.scale),
            endS: toS(cur.resolvedMs, report.scale),
        });
        r = prev;
    }
    if (chain.length > 0) chain[0].via = undefined;
    return chain;
}

/** One child run; throws with the child's message when it fails. */
export function runChild(
    jsRoot: string,
    stack: string,
    projectDir: string,
    flags: string[],
    scale: number,
): ChildReport {
    const r = runNode(
        [
            path.join(jsRoot, "bench", "critical-path-child.js"),
            "--stack",
            stack,
            "--project-dir",
            projectDir,
            "--scale",
            String(scale),
            ...flags,
        ],
        { cwd: projectDir },
    );
    const line = r.stdout.split("\n").find((l) => l.startsWith("BENCH_JSON "));
    if (r.status !== 0 || !line) {
        const why =
            r.stderr
                .split("\n")
                .filter((l) => l.trim() && !l.startsWith("warning:"))
                .slice(-1)[0] ?? `exit ${r.status}`;
        throw new Error(why.trim());
    }
    return JSON.parse(line.slice("BENCH_JSON ".length)) as ChildReport;
}

export function measureCriticalPath(
    jsRoot: string,
    stack: string,
    projectDir: string,
    options: { scale: number; wallRuns: number },
): StackCriticalPath {
    const { scale } = options;
    const wall: ChildReport[] = [];
    for (let i = 0; i < options.wallRuns; i++) wall.push(runChild(jsRoot, stack, projectDir, [], scale));
    const virtual = runChild(jsRoot, stack, projectDir, ["--virtual"], scale);
    const zero = runChild(jsRoot, stack, projectDir, ["--zero"], scale);

    const regs = virtual.registrations;
    const ideal = longestPath(regs, "data");
    const declared = longestPath(regs, "declared");
    const nodes = longestPath(regs, "declared", (r) => nodeTypes.has(r.type));
    const wallRunsS = wall.map((w) => toS(w.spanMs, scale));
    const sorted = [...wallRunsS].sort((a, b) => a - b);
    const simulatedS =
        sorted.length % 2
            ? sorted[(sorted.length - 1) / 2]
            : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
    const chain = simulatedChain(virtual);
    const dependsOnOnChain = chain.flatMap((s, i) =>
        s.via === "dependsOn" ? [{ from: chain[i - 1].name, to: s.name }] : [],
    );
    return {
        stack,
        cloud: virtual.cloud,
        nodes: virtual.nodes,
        resources: regs.length,
        scale,
        wallRunsS,
        simulatedS,
        virtualS: toS(virtual.spanMs, scale),
        declaredS: declared.totalS,
        idealS: ideal.totalS,
        overheadS: toS(zero.spanMs, scale),
        idealChain: ideal.chain,
        declaredChain: declared.chain,
        nodesChain: nodes.chain,
        nodesS: nodes.totalS,
        simulatedChain: chain,
        hiddenWaits: hiddenWaits(virtual, 0.5),
        dependsOnOnChain,
    };
}

/** "db [rds.Instance 600 s]": the name without the cluster prefix, the type's module and kind. */
export function stepLabel(step: Step, prefix: string): string {
    const [, mod = "", kind = step.type] = step.type.split(":");
    const short = step.name.startsWith(prefix) ? step.name.slice(prefix.length) || step.name : step.name;
    return `${short} [${mod.split("/")[0]}.${kind} ${step.durationS} s]`;
}

const arrows: Record<EdgeKind, string> = { data: "->", provider: "-p>", dependsOn: "=>", undeclared: "~>" };

export function formatChain(chain: Step[], prefix: string): string {
    return chain
        .map((s) => (s.via ? `${arrows[s.via]} ${stepLabel(s, prefix)}` : stepLabel(s, prefix)))
        .join(" ");
}
