// One stack's program under a DELAYED mock engine (one program per process: the SDK's state
// is global). Sets the stack's config the way synth does (synth/stackConfig.ts), installs
// synth/mocks.ts's mocks with every newResource resolving after the type's creation time
// (bench/durations.ts) divided by --scale, runs program() from components/program.ts, waits
// until every registration resolved, and prints one line `BENCH_JSON {...}` on stdout:
// per registration its URN, type, parent, the dependencies the SDK sent (all, and per
// property), the simulated duration, and when it was registered and resolved (ms since the
// first registration).
//
// usage: ts-node --transpile-only bench/critical-path-child.ts --stack NAME [--project-dir DIR] [--scale 1000] [--zero] [--virtual]
//   --zero     every duration 0: measures the program's and the SDK's own time (overhead baseline)
//   --virtual  a virtual clock instead of timers: it moves to the next resolution only when the
//              process is idle, so the program's and the SDK's CPU time count as zero. At scale
//              1000 each millisecond of CPU reads as a simulated second on the wall clock; on the
//              virtual clock a registration later than its declared dependencies can only be a
//              wait the dependency graph does not show (an await, a resource made in an apply).
import * as path from "path";
import { parseArgs } from "node:util";
import * as pulumi from "@pulumi/pulumi";
import { createMocks, settle } from "../synth/mocks";
import { loadStackConfig } from "../synth/stackConfig";
import { durationSeconds } from "./durations";

export interface Registration {
    urn: string;
    type: string;
    name: string;
    parent: string;
    custom: boolean;
    /** A read (StackReference), not a create. */
    read: boolean;
    /** Every URN the SDK says this registration depends on (property dependencies and dependsOn). */
    deps: string[];
    /** Per input property, the URNs its value came from. */
    propertyDeps: Record<string, string[]>;
    /** The explicit provider instance's URN, if any: the SDK waits for it before registering. */
    provider?: string;
    durationS: number;
    /** ms after the first registration. */
    registeredMs: number;
    resolvedMs: number;
}

export interface ChildReport {
    stack: string;
    cloud: string;
    nodes: number;
    scale: number;
    zero: boolean;
    clock: "wall" | "virtual";
    registrations: Registration[];
    /** From the first registration to the last resolution, ms. */
    spanMs: number;
    /** CPU the process used over that span, ms (user + system). */
    cpuMs: number;
    /** From process start to the first registration, ms (loading, config, the program's own code). */
    startupMs: number;
}

function parse(argv: string[]): {
    stack: string;
    projectDir: string;
    scale: number;
    zero: boolean;
    virtual: boolean;
} {
    const { values } = parseArgs({
        args: argv,
        options: {
            stack: { type: "string", default: "dev" },
            "project-dir": { type: "string", default: process.cwd() },
            scale: { type: "string", default: "1000" },
            zero: { type: "boolean", default: false },
            virtual: { type: "boolean", default: false },
        },
    });
    const o = {
        stack: values.stack,
        projectDir: path.resolve(values["project-dir"]),
        scale: Number(values.scale),
        zero: values.zero,
        virtual: values.virtual,
    };
    if (!(o.scale > 0)) throw new Error("--scale must be a positive number");
    return o;
}

const wallNow = () => Number(process.hrtime.bigint()) / 1e6;
const macrotask = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Discrete-event time: sleeps resolve in due order, and the clock jumps to the next due time
 * only once the process has gone quiet (no registration, resolution or mock call over a few
 * macrotask turns: the SDK's mock path is promise-only, so its work drains in between).
 */
class VirtualClock {
    private time = 0;
    private seq = 0;
    private pending: { due: number; seq: number; resolve: () => void }[] = [];
    private pumping = false;
    /** Bumped on every event that may start more work. */
    public activity = 0;

    public now(): number {
        return this.time;
    }

    public sleep(ms: number): Promise<void> {
        this.activity++;
        return new Promise<void>((resolve) => {
            this.pending.push({ due: this.time + ms, seq: this.seq++, resolve });
            if (!this.pumping) void this.pump();
        });
    }

    private async idle(): Promise<void> {
        for (;;) {
            const before = this.activity;
            for (let i = 0; i < 3; i++) await macrotask();
            if (this.activity === before) return;
        }
    }

    private async pump(): Promise<void> {
        this.pumping = true;
        while (this.pending.length > 0) {
            await this.idle();
            this.pending.sort((a, b) => a.due - b.due || a.seq - b.seq);
            const due = this.pending[0].due;
            const batch = this.pending.filter((p) => p.due === due);
            this.pending = this.pending.filter((p) => p.due !== due);
            this.time = due;
            this.activity++;
            for (const p of batch) p.resolve();
        }
        this.pumping = false;
    }
}

async function main(): Promise<void> {
    const args = parse(process.argv.slice(2));
    const stack = loadStackConfig(args.projectDir, args.stack);
    pulumi.runtime.setAllConfig(stack.config, stack.secretKeys);

    const clock = args.virtual ? new VirtualClock() : undefined;
    const now = clock ? () => clock.now() : wallNow;
    const { mocks } = createMocks({
        region: stack.config["aws:region"],
        location: stack.config["azure-native:location"],
    });
    const registrations: Registration[] = [];
    let current: Registration | undefined;
    let first: number | undefined;
    let cpuAtFirst: NodeJS.CpuUsage | undefined;
    let inflight = 0;

    const delayed: pulumi.runtime.Mocks = {
        call: (a) => {
            if (clock) clock.activity++;
            return mocks.call(a);
        },
        newResource(a) {
            const result = mocks.newResource(a);
            const rec = current;
            const ms = args.zero || !rec ? 0 : (rec.durationS * 1000) / args.scale;
            if (ms <= 0) return result;
            if (clock) return clock.sleep(ms).then(() => result);
            return new Promise((resolve) => setTimeout(() => resolve(result), ms));
        },
    };
    void pulumi.runtime.setMocks(delayed, stack.project, args.stack, false);

    // Capture each registration's dependencies as the SDK sends them to the monitor.
    const monitor = pulumi.runtime.getMonitor() as any;
    for (const method of ["registerResource", "readResource"] as const) {
        const original = monitor[method];
        monitor[method] = function (
            this: unknown,
            req: any,
            callback: (err: unknown, resp: unknown) => void,
        ) {
            const t = now();
            if (clock) clock.activity++;
            if (first === undefined) {
                first = t;
                cpuAtFirst = process.cpuUsage();
            }
            const read = method === "readResource";
            const type: string = req.getType();
            const parent: string = req.getParent?.() || "";
            const custom: boolean = read ? true : Boolean(req.getCustom());
            const propertyDeps: Record<string, string[]> = {};
            if (!read && typeof req.getPropertydependenciesMap === "function") {
                req.getPropertydependenciesMap().forEach((v: any, k: string) => {
                    propertyDeps[k] = [...v.getUrnsList()];
                });
            }
            const providerRef: string = req.getProvider?.() || "";
            const rec: Registration = {
                urn: monitor.newUrn(parent, type, req.getName()),
                type,
                name: req.getName(),
                parent,
                custom,
                read,
                deps: [...(req.getDependenciesList?.() ?? [])],
                propertyDeps,
                provider: providerRef.includes("::")
                    ? providerRef.slice(0, providerRef.lastIndexOf("::"))
                    : undefined,
                durationS: durationSeconds(type, { custom, read }),
                registeredMs: t,
                resolvedMs: NaN,
            };
            registrations.push(rec);
            inflight++;
            const done = (err: unknown, resp: unknown) => {
                rec.resolvedMs = now();
                if (clock) clock.activity++;
                inflight--;
                callback(err, resp);
            };
            // The mock monitor calls mocks.newResource synchronously, before its first await.
            current = rec;
            try {
                return original.call(this, req, done);
            } finally {
                current = undefined;
            }
        };
    }

    const programPath = path.join(__dirname, "..", "components", "program");
    const { program }: typeof import("../components/program") = require(programPath);
    // Not a deployment: the example stacks' placeholder digests only warn.
    const p = await program({ deploying: false });
    for (const o of Object.values(p.outputs)) {
        const impl = o as unknown as { promise?: () => Promise<unknown> };
        if (pulumi.Output.isInstance(o) && typeof impl.promise === "function") await impl.promise();
    }
    // Until nothing is in flight and a settle registers nothing new.
    for (let stable = 0; stable < 2;) {
        const before = registrations.length;
        await settle();
        stable = inflight === 0 && registrations.length === before ? stable + 1 : 0;
    }

    const t0 = first ?? now();
    const last = Math.max(...registrations.map((r) => r.resolvedMs));
    const cpu = process.cpuUsage(cpuAtFirst);
    const report: ChildReport = {
        stack: args.stack,
        cloud: p.config.cloud,
        nodes: p.config.nodes,
        scale: args.scale,
        zero: args.zero,
        clock: clock ? "virtual" : "wall",
        registrations: registrations.map((r) => ({
            ...r,
            registeredMs: r.registeredMs - t0,
            resolvedMs: r.resolvedMs - t0,
        })),
        spanMs: last - t0,
        cpuMs: (cpu.user + cpu.system) / 1000,
        startupMs: clock ? NaN : t0 - (wallNow() - process.uptime() * 1000),
    };
    process.stdout.write(`BENCH_JSON ${JSON.stringify(report)}\n`, () => process.exit(0));
}

main().catch((e) => {
    process.stderr.write(`critical-path child failed: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(2);
});
