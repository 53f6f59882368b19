// The node boot scripts are real bash files beside this module (shellcheck runs on them as
// they are); the renderer ships them verbatim. Their contract is scripts/CONTRACT.md.
import * as fs from "fs";
import * as path from "path";

/** Boot order on a VM node (CONTRACT.md): each runs as root from cloud-init runcmd. */
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
 * Scripts run around every start of IS, not at boot (CONTRACT.md): first-start-gate.sh `enter`
 * before IS starts and `hold` after (systemd ExecStartPre/ExecStartPost; in a pod an init
 * container and a sidecar).
 */
export const unitScripts = ["first-start-gate.sh"] as const;
export type UnitScript = (typeof unitScripts)[number];

/** Every script a node needs. */
export const nodeScripts = [...bootScripts, ...unitScripts] as const;
export type NodeScript = BootScript | UnitScript;

export const scriptDir = "/usr/local/lib/wso2is";

export const scriptSourceDir = path.join(__dirname, "scripts");

const cache = new Map<string, string>();

/** The source of one script in components/render/scripts/, comments and all. */
export function scriptSource(name: NodeScript): string {
    let text = cache.get(name);
    if (text === undefined) {
        text = fs.readFileSync(path.join(scriptSourceDir, name), "utf8");
        cache.set(name, text);
    }
    return text;
}

/**
 * The script as nodes receive it: the source without comment-only and blank lines (none of
 * the scripts has a heredoc). EC2 takes at most 16 KB of user-data, so what ships is lean;
 * the integration tests and shellcheck run this shipped text.
 */
export function scriptText(name: NodeScript): string {
    const lines = scriptSource(name).split("\n");
    // shellcheck directives stay: shellcheck runs on the shipped text too.
    const body = lines.slice(1).filter((line) => !/^\s*(#(?! shellcheck ).*)?$/.test(line));
    return [lines[0], ...body, ""].join("\n");
}

/** The pods' keystore builder (Java single-file program, components/render/keystore/). */
export function keystoreProgramText(): string {
    return fs.readFileSync(path.join(__dirname, "keystore", "BuildKeystores.java"), "utf8");
}
