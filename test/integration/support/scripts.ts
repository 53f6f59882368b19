// Helpers for the tests of the node boot scripts (components/render/scripts/*.sh): run a script
// with a clean environment, stand in for the cloud metadata services with a local HTTP server,
// and give the artifact-sync tests a real mount point.
import { spawn, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { fetcherScripts, nodeScripts, scriptText } from "../../../components/render/scripts";
import { tempDir } from "./system";

/** The scripts' sources, comments and all. */
export const SOURCE_SCRIPTS_DIR = path.resolve(__dirname, "../../../components/render/scripts");

/**
 * The scripts exactly as cloud-init ships them to a node (scriptText: comment-only lines
 * dropped), written once per test process: what the tests run is what nodes run.
 */
export const SCRIPTS_DIR = (() => {
    const dir = tempDir("shipped-scripts").dir;
    for (const name of new Set([...nodeScripts, ...fetcherScripts]))
        fs.writeFileSync(path.join(dir, name), scriptText(name), { mode: 0o755 });
    process.on("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
    return dir;
})();

export interface RunResult {
    code: number | null;
    stdout: string;
    stderr: string;
}

/**
 * Runs a command with only PATH/LANG from our environment plus `env`, so a WSO2IS_* variable set
 * in the developer's shell never leaks into a test. Never rejects: the exit code is in the result.
 */
export function run(
    cmd: string,
    args: string[],
    env: Record<string, string> = {},
    timeoutMs = 30000,
): Promise<RunResult> {
    return new Promise((resolve, reject) => {
        const child = spawn(cmd, args, {
            env: { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin", LANG: "C.UTF-8", ...env },
            stdio: ["ignore", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
        child.on("error", (e) => {
            clearTimeout(timer);
            reject(e);
        });
        child.on("close", (code) => {
            clearTimeout(timer);
            resolve({ code, stdout, stderr });
        });
    });
}

/** Runs components/render/scripts/<name> with bash. */
export function runScript(name: string, env: Record<string, string>, timeoutMs?: number): Promise<RunResult> {
    return run("bash", [path.join(SCRIPTS_DIR, name)], env, timeoutMs);
}

export interface RecordedRequest {
    method: string;
    url: string;
    headers: http.IncomingHttpHeaders;
}

export interface Reply {
    status?: number;
    body?: string | Buffer;
    headers?: Record<string, string>;
}

/** A local HTTP server on 127.0.0.1 (kernel-chosen port) that records every request. */
export interface HttpStub {
    base: string;
    requests: RecordedRequest[];
    close(): Promise<void>;
}

export async function startHttpStub(handler: (req: RecordedRequest) => Reply): Promise<HttpStub> {
    const requests: RecordedRequest[] = [];
    const server = http.createServer((req, res) => {
        req.resume();
        req.on("end", () => {
            const rec = { method: req.method ?? "", url: req.url ?? "", headers: req.headers };
            requests.push(rec);
            let reply: Reply;
            try {
                reply = handler(rec);
            } catch (e) {
                reply = { status: 500, body: `stub handler failed: ${(e as Error).message}` };
            }
            res.writeHead(reply.status ?? 200, reply.headers ?? { "content-type": "text/plain" });
            res.end(reply.body ?? "");
        });
    });
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => resolve());
    });
    const port = (server.address() as { port: number }).port;
    return {
        base: `http://127.0.0.1:${port}`,
        requests,
        close: () =>
            new Promise<void>((resolve) => {
                server.closeAllConnections();
                server.close(() => resolve());
            }),
    };
}

/**
 * A real mount point for the share. Tries, in order (or only the one named by the environment
 * variable WSO2IS_TEST_MOUNT):
 *  - `tmpfs`: `mount -t tmpfs` on an empty directory;
 *  - `bind`: `mount --bind` of a directory onto another;
 *  - `unshare`: when mounting here is refused, every command that must see the share runs under
 *    `unshare -m`, which bind-mounts the backing directory in a private mount namespace first.
 * `wrap` turns a command into one that sees the mount; `view` is where this process can read the
 * share's content directly.
 */
export interface ShareMount {
    mode: "tmpfs" | "bind" | "unshare";
    mountPoint: string;
    view: string;
    wrap(cmd: string, args: string[]): [string, string[]];
    cleanup(): void;
}

export type MountMode = ShareMount["mode"];

function tryRun(cmd: string, args: string[]): { ok: boolean; err: string } {
    const r = spawnSync(cmd, args, { encoding: "utf8" });
    return {
        ok: r.status === 0,
        err: `${cmd} ${args.join(" ")}: ${(r.stderr || r.error?.message || "").trim()}`,
    };
}

export function mountShare(prefix: string): ShareMount {
    const forced = process.env.WSO2IS_TEST_MOUNT as MountMode | undefined;
    const modes: MountMode[] = forced ? [forced] : ["tmpfs", "bind", "unshare"];
    const errors: string[] = [];
    for (const mode of modes) {
        const tmp = tempDir(prefix);
        const mountPoint = path.join(tmp.dir, "mnt");
        const backing = path.join(tmp.dir, "backing");
        fs.mkdirSync(mountPoint);
        fs.mkdirSync(backing);
        const identity = (cmd: string, args: string[]): [string, string[]] => [cmd, args];
        const unmountAndClean = () => {
            spawnSync("umount", [mountPoint]);
            tmp.cleanup();
        };
        if (mode === "tmpfs") {
            const r = tryRun("mount", ["-t", "tmpfs", "-o", "size=16m,mode=0755", "tmpfs", mountPoint]);
            if (r.ok) return { mode, mountPoint, view: mountPoint, wrap: identity, cleanup: unmountAndClean };
            errors.push(r.err);
        } else if (mode === "bind") {
            const r = tryRun("mount", ["--bind", backing, mountPoint]);
            if (r.ok) return { mode, mountPoint, view: mountPoint, wrap: identity, cleanup: unmountAndClean };
            errors.push(r.err);
        } else {
            const script = 'mount --bind "$1" "$2" && shift 2 && exec "$@"';
            const wrap = (cmd: string, args: string[]): [string, string[]] => [
                "unshare",
                [
                    "-m",
                    "--propagation",
                    "private",
                    "sh",
                    "-c",
                    script,
                    "sh",
                    backing,
                    mountPoint,
                    cmd,
                    ...args,
                ],
            ];
            const [c, a] = wrap("mountpoint", ["-q", mountPoint]);
            const r = tryRun(c, a);
            if (r.ok) return { mode, mountPoint, view: backing, wrap, cleanup: tmp.cleanup };
            errors.push(r.err);
        }
        tmp.cleanup();
    }
    throw new Error(
        `cannot get a real mount point for the share here (need root or CAP_SYS_ADMIN):\n${errors.join("\n")}`,
    );
}

/** `sha256` of a file or buffer, hex. */
export function sha256(data: Buffer | string): string {
    return crypto.createHash("sha256").update(data).digest("hex");
}
