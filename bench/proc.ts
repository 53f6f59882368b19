// Child processes for the benchmark: one timed run of a command, with the probe preload
// (bench/probe.js) reporting what the process loaded and its peak RSS, and optionally
// /usr/bin/time -v around it. Runs are sequential, so the wall time of one run is the time
// from spawn to exit as seen from here.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { listStacks } from "../synth/stackConfig";

export const repoRoot = path.resolve(__dirname, "..");
export const probePath = path.join(__dirname, "probe.js");
/** ts-node's CLI: what `npm run synth` runs (ts-node --transpile-only synth/cli.ts), minus npm. */
export const tsNodeBin = require.resolve("ts-node/dist/bin.js", { paths: [repoRoot] });
export const gnuTime = "/usr/bin/time";

export interface ProbeReport {
    pulumiPackages: Record<string, number>;
    maxRssKb: number;
    cpuMs: number;
    uptimeS: number;
}

export interface RunResult {
    wallMs: number;
    status: number | null;
    stdout: string;
    stderr: string;
    probe?: ProbeReport;
    /** Peak RSS from /usr/bin/time -v, when it wrapped the run. */
    timeMaxRssKb?: number;
}

let scratch: string | undefined;

/** A temp dir for this benchmark run, removed at exit. */
export function scratchDir(): string {
    if (!scratch) {
        scratch = fs.mkdtempSync(path.join(os.tmpdir(), "wso2is-bench-"));
        const dir = scratch;
        process.on("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
    }
    return scratch;
}

let counter = 0;

/** Runs `node [-r probe] ...nodeArgs` once; with gnuTimeV, under /usr/bin/time -v. */
export function runNode(
    nodeArgs: string[],
    options: { cwd?: string; gnuTimeV?: boolean; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): RunResult {
    const id = ++counter;
    const probeOut = path.join(scratchDir(), `probe-${id}.json`);
    const timeOut = path.join(scratchDir(), `time-${id}.txt`);
    const argv = ["-r", probePath, ...nodeArgs];
    const [cmd, args] = options.gnuTimeV
        ? [gnuTime, ["-v", "-o", timeOut, process.execPath, ...argv]]
        : [process.execPath, argv];
    const start = process.hrtime.bigint();
    const r = spawnSync(cmd, args, {
        cwd: options.cwd ?? repoRoot,
        env: { ...process.env, ...options.env, BENCH_PROBE_OUT: probeOut },
        encoding: "utf8",
        maxBuffer: 256 * 1024 * 1024,
        timeout: options.timeoutMs ?? 180_000,
    });
    const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
    const result: RunResult = {
        wallMs,
        status: r.status,
        stdout: r.stdout ?? "",
        stderr: (r.stderr ?? "") + (r.error ? `\n${r.error.message}` : ""),
    };
    if (fs.existsSync(probeOut)) result.probe = JSON.parse(fs.readFileSync(probeOut, "utf8")) as ProbeReport;
    if (options.gnuTimeV && fs.existsSync(timeOut)) {
        const m = /Maximum resident set size \(kbytes\):\s*(\d+)/.exec(fs.readFileSync(timeOut, "utf8"));
        if (m) result.timeMaxRssKb = Number(m[1]);
    }
    fs.rmSync(probeOut, { force: true });
    fs.rmSync(timeOut, { force: true });
    return result;
}

/** Whether GNU time is installed (Debian package `time`). */
export function hasGnuTime(): boolean {
    if (!fs.existsSync(gnuTime)) return false;
    const r = spawnSync(gnuTime, ["-v", "true"], { encoding: "utf8" });
    return r.status === 0 && /Maximum resident set size/.test(r.stderr ?? "");
}

/** The floor: what loading the Pulumi SDK alone costs. */
export function runFloor(): RunResult {
    return runNode(["-e", "require('@pulumi/pulumi')"]);
}

/** One offline synth of a stack, as `npm run synth -- --stack NAME --out DIR [--project-dir DIR]`. */
export function runSynth(
    stack: string,
    options: { projectDir?: string; gnuTimeV?: boolean; entry?: string; cwd?: string } = {},
): RunResult {
    const out = path.join(scratchDir(), `out-${++counter}`);
    const tail = [
        "--stack",
        stack,
        "--out",
        out,
        ...(options.projectDir ? ["--project-dir", options.projectDir] : []),
    ];
    const nodeArgs = options.entry
        ? [options.entry, ...tail]
        : [tsNodeBin, "--transpile-only", path.join("synth", "cli.ts"), ...tail];
    const r = runNode(nodeArgs, {
        gnuTimeV: options.gnuTimeV,
        cwd: options.cwd ?? options.projectDir ?? repoRoot,
    });
    fs.rmSync(out, { recursive: true, force: true });
    return r;
}

/** The example stacks: Pulumi.<stack>.yaml in the repo root, sorted. */
export function exampleStacks(dir = repoRoot): string[] {
    return listStacks(dir);
}

/** The last lines of a failed run's stderr, for the "not available" note. */
export function failureReason(r: RunResult): string {
    const lines = r.stderr
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l.length > 0 && !l.startsWith("warning:") && !l.startsWith("note:"));
    return `${r.status === null ? "killed/timeout" : `exit ${r.status}`}${lines.length > 0 ? `: ${lines[0].slice(0, 140)}` : ""}`;
}
