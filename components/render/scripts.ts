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

export const scriptDir = "/usr/local/lib/wso2is";

const cache = new Map<string, string>();

/** The text of one script from components/render/scripts/. */
export function scriptText(name: BootScript): string {
    let text = cache.get(name);
    if (text === undefined) {
        text = fs.readFileSync(path.join(__dirname, "scripts", name), "utf8");
        cache.set(name, text);
    }
    return text;
}
