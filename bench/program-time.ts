// Program time: the offline synth of each example stack as a child process, next to the
// floor (node -e "require('@pulumi/pulumi')") measured in the same rounds, so noise on a
// shared machine hits both. Each round runs, per stack: floor, synth under ts-node (what
// `npm run synth` runs), synth of the precompiled JS copy (the same code without ts-node).
import * as path from "path";
import { loadStackConfig } from "../synth/stackConfig";
import { ProbeReport, RunResult, failureReason, repoRoot, runFloor, runSynth } from "./proc";
import { median } from "./stats";

/** The provider SDKs each target should load; @pulumi/random and @pulumi/tls are cloud-neutral. */
export const targetProviders: Record<string, string[]> = {
    aws: ["@pulumi/aws"],
    azure: ["@pulumi/azure-native"],
    aks: ["@pulumi/azure-native", "@pulumi/kubernetes"],
};
export const neutralProviders = ["@pulumi/random", "@pulumi/tls"];
/** Not provider SDKs. */
const notProviders = ["@pulumi/pulumi", "@pulumi/policy"];

export const ratioGoal = (cloud: string) => (cloud === "aws" ? 1.5 : 2);

export interface StackProgramTime {
    stack: string;
    cloud: string;
    available: boolean;
    reason?: string;
    tsNodeMs: number[];
    jsMs: number[];
    /** CPU (user + system) of the synth process, per run. */
    tsNodeCpuMs: number[];
    jsCpuMs: number[];
    /** Provider packages the synth loaded, with the number of their modules. */
    providers: Record<string, number>;
    unexpected: string[];
    missing: string[];
    maxRssKb?: number;
}

export interface ProgramTimeResult {
    floorMs: number[];
    floorCpuMs: number[];
    floorRssKb?: number;
    stacks: StackProgramTime[];
}

function providersOf(probe: ProbeReport | undefined): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [pkg, n] of Object.entries(probe?.pulumiPackages ?? {}))
        if (!notProviders.includes(pkg)) out[pkg] = n;
    return out;
}

export function measureProgramTime(
    stacks: string[],
    options: { runs: number; jsRoot: string; log: (s: string) => void },
): ProgramTimeResult {
    const results: StackProgramTime[] = [];
    // A first synth per stack: availability, what it loads, and warm file caches.
    for (const stack of stacks) {
        let cloud = "?";
        try {
            cloud = loadStackConfig(repoRoot, stack).config["wso2is-cluster:cloud"] ?? "?";
        } catch {
            // synth will say what is wrong with the file
        }
        options.log(`  warm-up synth ${stack}`);
        const r = runSynth(stack);
        const providers = providersOf(r.probe);
        const expected = targetProviders[cloud] ?? [];
        const entry: StackProgramTime = {
            stack,
            cloud,
            available: r.status === 0,
            tsNodeMs: [],
            jsMs: [],
            tsNodeCpuMs: [],
            jsCpuMs: [],
            providers,
            unexpected: Object.keys(providers).filter(
                (p) => !expected.includes(p) && !neutralProviders.includes(p),
            ),
            missing: expected.filter((p) => !(p in providers)),
            maxRssKb: r.probe?.maxRssKb,
        };
        if (r.status !== 0) entry.reason = failureReason(r);
        results.push(entry);
    }
    const available = results.filter((s) => s.available);
    const floorMs: number[] = [];
    const floorCpuMs: number[] = [];
    let floorRssKb: number | undefined;
    const jsEntry = path.join(options.jsRoot, "synth", "cli.js");
    for (let round = 0; round < options.runs; round++) {
        // Rotate the order so no stack always runs right after another.
        const order = available.map((_, i) => available[(i + round) % available.length]);
        for (const s of order) {
            options.log(`  round ${round + 1}/${options.runs}: floor, ${s.stack} (ts-node), ${s.stack} (js)`);
            const floor = runFloor();
            if (floor.status !== 0) throw new Error(`the floor run failed: ${failureReason(floor)}`);
            floorMs.push(floor.wallMs);
            if (floor.probe) floorCpuMs.push(floor.probe.cpuMs);
            floorRssKb = floor.probe?.maxRssKb ?? floorRssKb;
            const ts: RunResult = runSynth(s.stack);
            if (ts.status !== 0)
                throw new Error(`synth ${s.stack} failed in round ${round + 1}: ${failureReason(ts)}`);
            s.tsNodeMs.push(ts.wallMs);
            if (ts.probe) s.tsNodeCpuMs.push(ts.probe.cpuMs);
            const js = runSynth(s.stack, { entry: jsEntry, projectDir: repoRoot });
            if (js.status !== 0)
                throw new Error(`synth ${s.stack} (js) failed in round ${round + 1}: ${failureReason(js)}`);
            s.jsMs.push(js.wallMs);
            if (js.probe) s.jsCpuMs.push(js.probe.cpuMs);
        }
    }
    return { floorMs, floorCpuMs, floorRssKb, stacks: results };
}

export function floorMedian(r: ProgramTimeResult): number {
    return median(r.floorMs);
}
