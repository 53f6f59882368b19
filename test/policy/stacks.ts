// The example stacks (Pulumi.*.yaml in the repo root) as the policies see them: the offline
// synth runs as a child process (it installs its own mocks) and writes resources.json: type,
// name, parent and inputs of every resource. Its user data is replaced there by a marker
// pointing at nodes/<node>/cloud-init.yaml, which is put back (base64 where the marker says so).
// Used by examples.test.ts and by the AWSGuard test (test/awsguard/).
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { Props, StackResourceInput } from "./harness";

const repo = path.resolve(__dirname, "..", "..");

export const exampleStacks = fs
    .readdirSync(repo)
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();

export function stackConfig(stack: string): Record<string, unknown> {
    return YAML.parse(fs.readFileSync(path.join(repo, `Pulumi.${stack}.yaml`), "utf8"))?.config ?? {};
}

/** Runs `synth --stack <stack> --out <out>`; throws with its stderr when it fails. */
export function synth(stack: string, out: string): void {
    const r = spawnSync(
        process.execPath,
        [
            "-r",
            require.resolve("ts-node/register/transpile-only"),
            path.join(repo, "synth", "cli.ts"),
            "--stack",
            stack,
            "--out",
            out,
        ],
        {
            cwd: repo,
            env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" },
            encoding: "utf8",
            timeout: 180_000,
        },
    );
    if (r.error) throw r.error;
    if (r.status !== 0) throw new Error(`synth --stack ${stack} exited ${r.status}: ${r.stderr}`);
}

const marker = /^\[(base64 )?cloud-init, see (nodes\/[^\]]+)\]$/;

/** A copy of `v` with synth's user-data markers replaced by the files they point at. */
function restoreUserData(v: unknown, dir: string): unknown {
    if (typeof v === "string") {
        const m = marker.exec(v);
        if (!m) return v;
        const text = fs.readFileSync(path.join(dir, ...m[2].split("/")), "utf8");
        return m[1] ? Buffer.from(text, "utf8").toString("base64") : text;
    }
    if (Array.isArray(v)) return v.map((x) => restoreUserData(x, dir));
    if (typeof v === "object" && v !== null)
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, restoreUserData(x, dir)]));
    return v;
}

/** The stack's resources as the policies see them. */
export function loadResources(dir: string): StackResourceInput[] {
    const list = JSON.parse(fs.readFileSync(path.join(dir, "resources.json"), "utf8")) as {
        type: string;
        name: string;
        parent: string;
        inputs: Props;
    }[];
    return list.map((r) => ({
        type: r.type,
        name: r.name,
        parent: r.parent || undefined,
        props: restoreUserData(r.inputs ?? {}, dir) as Props,
    }));
}
