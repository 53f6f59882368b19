// Cloud SDKs are optional: loaded only for the target being checked, and never a dependency in
// package.json (the AWS, Azure and Kubernetes clients together are tens of megabytes that a
// `pulumi up` does not need). A missing one gives the npm command to install it.
import { MissingDependency } from "./types";

// A real dynamic import(): TypeScript's commonjs output would turn `import()` into `require`,
// which cannot load ESM-only packages (@kubernetes/client-node >= 1) on every Node 20.
const nativeImport = new Function("specifier", "return import(specifier)") as (s: string) => Promise<any>;

/**
 * Loads each package (given as an npm install spec, e.g. "@kubernetes/client-node@1"), or
 * throws MissingDependency naming every missing one and the command that installs them.
 */
export async function loadOptional(specs: string[], purpose: string): Promise<any[]> {
    const loaded: any[] = [];
    const missing: string[] = [];
    for (const spec of specs) {
        const pkg = spec.replace(/(.)@[^/]*$/, "$1");
        try {
            loaded.push(require(pkg));
        } catch (e) {
            const err = e as NodeJS.ErrnoException;
            if (err.code === "MODULE_NOT_FOUND" && err.message.includes(`'${pkg}'`)) {
                missing.push(spec);
                continue;
            }
            try {
                // ESM-only packages where require(esm) is off or fails.
                loaded.push(await nativeImport(pkg));
            } catch (e2) {
                throw new MissingDependency(
                    `${purpose}: ${pkg} is installed but does not load on Node ${process.version} ` +
                        `(${(e2 as Error).message.split("\n")[0]}); install the version named here: npm install --no-save ${spec}`,
                );
            }
        }
    }
    if (missing.length) {
        throw new MissingDependency(
            `${purpose} needs the npm package${missing.length > 1 ? "s" : ""} ${missing.join(", ")} ` +
                `(optional, not installed by npm ci): npm install --no-save ${missing.join(" ")}`,
        );
    }
    return loaded;
}

/** Polls `probe` every `intervalMs` until it returns true; false after `timeoutMs`. */
export async function waitFor(
    probe: () => Promise<boolean>,
    intervalMs: number,
    timeoutMs: number,
    sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        if (await probe()) return true;
        if (Date.now() >= deadline) return false;
        await sleep(intervalMs);
    }
}

/** The script both VM targets run on a node (SSM / Run Command): systemd stops or starts IS. */
export function serviceScript(unit: string, action: "stop" | "start"): string[] {
    return [`systemctl ${action} ${unit}`, `echo "wso2is-state=$(systemctl is-active ${unit})"`];
}

/** The state the script above printed ("inactive", "active", ...). */
export function scriptState(output: string): string | undefined {
    return /wso2is-state=(\S+)/.exec(output)?.[1];
}
