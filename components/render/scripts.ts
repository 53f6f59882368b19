// The node scripts are real bash files beside this module (shellcheck runs on them as they
// are); the renderer ships them verbatim. Their contract is scripts/CONTRACT.md.
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";

/** The steps bootstrap.sh runs, in order (CONTRACT.md), each as root. */
export const bootScripts = [
    "node-ip.sh",
    "install-is.sh",
    "fetch-secrets.sh",
    "mount-share.sh",
    "artifact-sync.sh",
    "db-init.sh",
] as const;
export type BootScript = (typeof bootScripts)[number];

/**
 * Scripts run around every start of IS (CONTRACT.md, systemdUnit.ts): redirect-443.sh and
 * jvm-heap.sh before it, first-start-gate.sh `enter` before it and `hold` beside it (in a pod an
 * init container and a sidecar).
 */
export const unitScripts = ["redirect-443.sh", "jvm-heap.sh", "first-start-gate.sh"] as const;
export type UnitScript = (typeof unitScripts)[number];

/** Every script a VM node runs: the shared library, the bootstrap unit's script and its steps. */
export const nodeScripts = ["lib.sh", "bootstrap.sh", ...bootScripts, ...unitScripts] as const;
export type NodeScript = (typeof nodeScripts)[number];

/**
 * With `s3` delivery (model ScriptDelivery) the user-data carries only these; the node fetches
 * every other script from S3 by its sha256 (fetch-scripts.sh, using aws-api.sh's signed calls).
 */
export const fetcherScripts = ["lib.sh", "aws-api.sh", "fetch-scripts.sh"] as const;
export type FetcherScript = (typeof fetcherScripts)[number];

export type ShippedScript = NodeScript | FetcherScript;

export const scriptDir = "/usr/local/lib/wso2is";

export const scriptSourceDir = path.join(__dirname, "scripts");

const cache = new Map<string, string>();

/** The source of one script in components/render/scripts/, comments and all. */
export function scriptSource(name: ShippedScript): string {
    let text = cache.get(name);
    if (text === undefined) {
        const file = path.join(scriptSourceDir, name);
        if (!fs.existsSync(file))
            throw new Error(`node script ${name} is missing: expected ${file} (scripts/CONTRACT.md)`);
        text = fs.readFileSync(file, "utf8");
        cache.set(name, text);
    }
    return text;
}

/**
 * The script as nodes receive it: the source without comment-only and blank lines (none of
 * the scripts has a heredoc). EC2 takes at most 16 KB of user-data, so what ships is lean;
 * the integration tests and shellcheck run this shipped text.
 */
export function scriptText(name: ShippedScript): string {
    const lines = scriptSource(name).split("\n");
    // shellcheck directives stay: shellcheck runs on the shipped text too.
    const body = lines.slice(1).filter((line) => !/^\s*(#(?! shellcheck ).*)?$/.test(line));
    return [lines[0], ...body, ""].join("\n");
}

/** sha256 (hex) of the shipped text: what `s3` delivery names the object by and checks. */
export function scriptSha256(name: ShippedScript): string {
    return crypto.createHash("sha256").update(scriptText(name), "utf8").digest("hex");
}

/** The line of every script that sources lib.sh from its own directory. */
const libSourceLine = /^source "\$\{WSO2IS_LIB:-\$\(dirname -- "\$\{BASH_SOURCE\[0\]\}"\)\/lib\.sh\}"$/m;

/**
 * A script with lib.sh inlined where it sources it, for targets that ship one script alone
 * (the AKS init container, the ECS db-init container): self-contained, still shellcheck-clean.
 */
export function standaloneScriptText(name: NodeScript): string {
    const text = scriptText(name);
    if (!libSourceLine.test(text)) return text;
    const lib = scriptText("lib.sh")
        .split("\n")
        .slice(1)
        .filter((l) => !/^set -euo pipefail$/.test(l))
        .join("\n")
        .trimEnd();
    return text.replace(libSourceLine, () => lib);
}

/** The pods' keystore builder (Java single-file program, components/render/keystore/). */
export function keystoreProgramText(): string {
    return fs.readFileSync(path.join(__dirname, "keystore", "BuildKeystores.java"), "utf8");
}
