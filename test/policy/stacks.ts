// An example stack's synth output as the policies see it: synth's resources.json (type, name,
// parent and inputs of every resource) with its user-data markers replaced by the files they
// point at (nodes/<node>/cloud-init.yaml, base64 where the marker says so). Used by
// examples.test.ts and by the AWSGuard test (test/awsguard/).
import * as fs from "fs";
import * as path from "path";
import { Props, StackResourceInput } from "./harness";

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
