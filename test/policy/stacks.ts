// An example stack's synth output as the policies see it: synth's resources.json (type, name,
// parent and inputs of every resource) with its user-data markers replaced by the files they
// point at (nodes/<node>/cloud-init.yaml, base64 where the marker says so; an ECS task
// definition's containers from ecs/). Used by
// examples.test.ts and by the AWSGuard test (test/awsguard/).
import * as fs from "fs";
import * as path from "path";
import * as zlib from "zlib";
import { Props, StackResourceInput } from "./harness";

const marker = /^\[(base64 )?cloud-init, see (nodes\/[^\]]+)\]$/;
const containersMarker = /^\[container definitions, see (ecs\/[^\]]+)\]$/;
const b64Marker = /^\[(gzip, )?base64, see (ecs\/[^\]]+)\]$/;

/**
 * A copy of `v` with synth's markers replaced by the files they point at: user data, and an
 * ECS task definition's containers (JSON, as the provider takes them) with their *_B64 files.
 */
function restoreUserData(v: unknown, dir: string): unknown {
    if (typeof v === "string") {
        const read = (p: string) => fs.readFileSync(path.join(dir, ...p.split("/")), "utf8");
        const c = containersMarker.exec(v);
        if (c) {
            const definition = JSON.parse(read(c[1]));
            return JSON.stringify(restoreUserData(definition.containerDefinitions, dir));
        }
        const b = b64Marker.exec(v);
        if (b) {
            const bytes = Buffer.from(read(b[2]), "utf8");
            return (b[1] ? zlib.gzipSync(bytes) : bytes).toString("base64");
        }
        const m = marker.exec(v);
        if (!m) return v;
        const text = read(m[2]);
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
