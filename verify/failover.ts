// The seed's last step as a drill: with a steady stream of browser-like clients running, take
// one node out through the target's control plane, measure how long until the load balancer
// (as its API reports) stops counting it, hold, bring it back, measure how long until it is
// healthy again, and count every failed request. The node is always restored, even on error.
import * as https from "https";
import { Sample, errorSummary, sample } from "./checks";
import { CookieJar, Endpoint, latencySummary } from "./http";
import type { CheckResult } from "./report";
import type { NodeControl, NodeState } from "./controls/types";

export interface FailoverOptions {
    ep: Endpoint;
    control: NodeControl;
    /** Path the stream requests (IS-served, through the sticky route). */
    path: string;
    /** Which node to take out; default the first healthy one. */
    node?: string;
    /** Clients in the stream, and each one's pause between requests. */
    clients: number;
    intervalMs: number;
    /** Stream before the node goes out; time the node stays out once out of rotation; stream after it is back. */
    warmupMs: number;
    holdMs: number;
    tailMs: number;
    /** How often the control plane is polled, and how long each wait may take. */
    pollMs: number;
    timeoutMs: number;
    log: (line: string) => void;
    /** Aborted (Ctrl-C): stop waiting, bring the node back now. */
    signal?: AbortSignal;
}

export interface FailoverResult {
    node: string;
    requests: number;
    failed: number;
    failures: string;
    latencyMs: ReturnType<typeof latencySummary>;
    /** From the take-out call until the control plane reported the node out of rotation. */
    outOfRotationMs?: number;
    /** From the restore call (VMs) or the take-out (pods, tasks) until healthy again. */
    backHealthyMs?: number;
    /** Failed requests during each phase. */
    failedByPhase: { before: number; out: number; back: number };
    actions: string[];
    problems: string[];
}

/** Refuses a drill that would leave no healthy node: returns the node to take out. */
export function pickNode(nodes: NodeState[], wanted?: string): string {
    const healthy = nodes.filter((n) => n.healthy);
    if (healthy.length < 2) {
        throw new Refused(
            `refusing --failover: ${healthy.length} of ${nodes.length} node(s) healthy (${
                nodes.map((n) => `${n.id} ${n.state}`).join(", ") || "none"
            }); taking one out needs at least 2 healthy nodes`,
        );
    }
    if (wanted === undefined) return healthy[0].id;
    const n = nodes.find((x) => x.id === wanted);
    if (!n) throw new Refused(`--node ${wanted} is not one of ${nodes.map((x) => x.id).join(", ")}`);
    if (!n.healthy) throw new Refused(`--node ${wanted} is not healthy (${n.state}); pick a healthy node`);
    return wanted;
}

export class Refused extends Error {}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A steady stream of requests from `clients` browser-like clients until stop(). */
class Stream {
    readonly samples: Sample[] = [];
    private running = true;
    private readonly done: Promise<void>;

    constructor(ep: Endpoint, path: string, clients: number, intervalMs: number) {
        this.done = Promise.all(
            Array.from({ length: clients }, async () => {
                const jar = new CookieJar();
                const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
                try {
                    while (this.running) {
                        this.samples.push(await sample(ep, path, jar, agent));
                        if (intervalMs > 0 && this.running) await sleep(intervalMs);
                    }
                } finally {
                    agent.destroy();
                }
            }),
        ).then(() => undefined);
    }

    async stop(): Promise<void> {
        this.running = false;
        await this.done;
    }
}

export async function runFailover(o: FailoverOptions): Promise<FailoverResult> {
    const { control, log } = o;
    const actions: string[] = [];
    const problems: string[] = [];
    const note = (s: string | void) => {
        if (s) {
            actions.push(s);
            log(`      ${s}`);
        }
    };
    const before = await control.nodes();
    const node = pickNode(before, o.node);
    const healthyBefore = before.filter((n) => n.healthy).length;
    const isOut = (nodes: NodeState[]) => {
        const n = nodes.find((x) => x.id === node);
        return !n || !n.healthy;
    };
    const isBack = (nodes: NodeState[]) =>
        nodes.filter((n) => n.healthy).length >= healthyBefore &&
        (control.replaces || !!nodes.find((x) => x.id === node)?.healthy);
    // Waits that an interrupt cuts short: the finally block below then restores at once.
    const wait = (ms: number) =>
        new Promise<void>((resolve) => {
            if (o.signal?.aborted) return resolve();
            const t = setTimeout(done, ms);
            function done() {
                clearTimeout(t);
                o.signal?.removeEventListener("abort", done);
                resolve();
            }
            o.signal?.addEventListener("abort", done);
        });
    const poll = async (
        test: (n: NodeState[]) => boolean,
        restoring = false,
    ): Promise<number | undefined> => {
        const start = Date.now();
        while (Date.now() - start < o.timeoutMs) {
            if (o.signal?.aborted && !restoring) return undefined;
            try {
                if (test(await control.nodes())) return Date.now() - start;
            } catch (e) {
                log(`      ${control.source}: ${(e as Error).message} (retrying)`);
            }
            await (restoring ? sleep(o.pollMs) : wait(o.pollMs));
        }
        return undefined;
    };

    const stream = new Stream(o.ep, o.path, o.clients, o.intervalMs);
    let outAt = 0;
    let backAt = 0;
    let outOfRotationMs: number | undefined;
    let backHealthyMs: number | undefined;
    let tookOut = false;
    try {
        note(await control.prepare?.());
        await wait(o.warmupMs);
        if (o.signal?.aborted) throw new Error("interrupted before the node was taken out");
        outAt = Date.now();
        tookOut = true; // restore even if takeOut fails half-way (starting a running IS is harmless)
        note(await control.takeOut(node));
        const outWait = await poll(isOut);
        if (o.signal?.aborted) {
            problems.push("interrupted: bringing the node back now");
        } else if (outWait === undefined) {
            problems.push(`${node} still counted healthy by ${control.source} after ${o.timeoutMs / 1000} s`);
        } else {
            outOfRotationMs = Date.now() - outAt;
            log(`      ${node} out of rotation after ${(outOfRotationMs / 1000).toFixed(1)} s`);
        }
        await wait(o.holdMs);
    } catch (e) {
        problems.push((e as Error).message);
    } finally {
        // Always bring the node back and undo prepare(), whatever happened above.
        if (tookOut) {
            try {
                backAt = Date.now();
                note(await control.restore(node));
                const backWait = await poll(isBack, true);
                if (backWait === undefined) {
                    problems.push(
                        `the cluster did not get back to ${healthyBefore} healthy node(s) within ${o.timeoutMs / 1000} s`,
                    );
                } else {
                    backHealthyMs = Date.now() - (control.replaces ? outAt : backAt);
                    log(
                        `      back to ${healthyBefore} healthy after ${(backHealthyMs / 1000).toFixed(1)} s`,
                    );
                }
            } catch (e) {
                problems.push(`restoring ${node}: ${(e as Error).message}`);
            }
        }
        try {
            note(await control.cleanup?.());
        } catch (e) {
            problems.push(`cleanup: ${(e as Error).message}`);
        }
        await wait(o.tailMs);
        await stream.stop();
    }

    const samples = stream.samples;
    const failed = samples.filter((s) => s.error);
    const backDone = backAt + (control.replaces ? 0 : (backHealthyMs ?? 0));
    const phase = (s: Sample) =>
        !outAt || s.t < outAt ? "before" : !backAt || s.t < backDone ? "out" : "back";
    const failedByPhase = { before: 0, out: 0, back: 0 };
    for (const s of failed) failedByPhase[phase(s)]++;
    return {
        node,
        requests: samples.length,
        failed: failed.length,
        failures: errorSummary(failed),
        latencyMs: latencySummary(samples.filter((s) => !s.error).map((s) => s.ms)),
        outOfRotationMs,
        backHealthyMs,
        failedByPhase,
        actions,
        problems,
    };
}

export function failoverCheck(r: FailoverResult, control: NodeControl): CheckResult {
    const secs = (v?: number) => (v === undefined ? "never" : `${(v / 1000).toFixed(1)} s`);
    const summary =
        `${r.node}: out of rotation ${secs(r.outOfRotationMs)} after it was taken out, healthy again ` +
        `${secs(r.backHealthyMs)} after ${control.replaces ? "it was taken out (replaced)" : "it was started"}; ` +
        `${r.requests} requests, ${r.failed} failed${r.failed ? ` (${r.failures})` : ""}; p95 ${r.latencyMs.p95} ms`;
    const problems = [...r.problems];
    if (r.failed > 0)
        problems.push(
            `${r.failed} failed request(s): ${r.failedByPhase.before} before, ${r.failedByPhase.out} while out, ${r.failedByPhase.back} after`,
        );
    if (r.requests === 0) problems.push("the stream sent no request");
    return problems.length === 0
        ? { name: "failover", status: "pass", summary, figures: { ...r } }
        : {
              name: "failover",
              status: "fail",
              summary: `${summary}; ${problems.join("; ")}`,
              lookAt:
                  r.failed > 0
                      ? "the load balancer's health check interval/threshold and retry behaviour (requests failed while a node was out); " +
                        control.lookAt
                      : control.lookAt,
              figures: { ...r },
          };
}
