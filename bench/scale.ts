// Scale: the offline synth of a stack with `wso2is-cluster:nodes` set to 2, 10 and 50. Each
// size gets a temp project dir: the repo's Pulumi.yaml and a copy of the stack file with only
// the node count changed; synth runs with --project-dir. Wall time (median of the runs, sizes
// interleaved per round) and peak RSS (/usr/bin/time -v when installed, else the probe's
// process.resourceUsage().maxRSS).
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { failureReason, repoRoot, runSynth, scratchDir } from "./proc";

export interface ScaleRow {
    nodes: number;
    resources?: number;
    wallMs: number[];
    maxRssKb: number[];
}

export interface ScaleResult {
    stack: string;
    rssSource: string;
    rows: ScaleRow[];
    available: boolean;
    reason?: string;
}

/** A project dir holding Pulumi.yaml and Pulumi.<stack>.yaml with the node count replaced. */
export function scaledProject(stack: string, nodes: number): string {
    const dir = path.join(scratchDir(), `project-${stack}-${nodes}`);
    fs.mkdirSync(dir, { recursive: true });
    fs.copyFileSync(path.join(repoRoot, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    const doc = YAML.parseDocument(fs.readFileSync(path.join(repoRoot, `Pulumi.${stack}.yaml`), "utf8"));
    doc.setIn(["config", "wso2is-cluster:nodes"], nodes);
    fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), doc.toString());
    return dir;
}

export function measureScale(
    stack: string,
    sizes: number[],
    options: { runs: number; gnuTimeV: boolean; log: (s: string) => void },
): ScaleResult {
    const projects = new Map(sizes.map((n) => [n, scaledProject(stack, n)]));
    const rows: ScaleRow[] = sizes.map((nodes) => ({ nodes, wallMs: [], maxRssKb: [] }));
    const result: ScaleResult = {
        stack,
        rssSource: options.gnuTimeV ? "/usr/bin/time -v" : "process.resourceUsage().maxRSS (probe)",
        rows,
        available: true,
    };
    for (let round = 0; round < options.runs; round++) {
        const order = rows.map((_, i) => rows[(i + round) % rows.length]);
        options.log(
            `  round ${round + 1}/${options.runs}: ${stack} with ${order.map((r) => r.nodes).join(", ")} nodes`,
        );
        for (const row of order) {
            const r = runSynth(stack, {
                projectDir: projects.get(row.nodes),
                gnuTimeV: options.gnuTimeV,
                cwd: repoRoot,
            });
            if (r.status !== 0) {
                return { ...result, available: false, reason: `${row.nodes} nodes: ${failureReason(r)}` };
            }
            row.wallMs.push(r.wallMs);
            const rss = r.timeMaxRssKb ?? r.probe?.maxRssKb;
            if (rss !== undefined) row.maxRssKb.push(rss);
            const m = /^\s*resources\s+(\d+)/m.exec(r.stdout);
            if (m) row.resources = Number(m[1]);
        }
    }
    return result;
}
