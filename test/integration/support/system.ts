// Helpers for the integration tests: they run the real programs (cloud-init, MariaDB, nginx,
// shellcheck, bash). Missing Debian packages are installed when we are root; otherwise the
// error says exactly what to run, so a test never silently skips.
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** True when `cmd` is on PATH. */
export function hasCommand(cmd: string): boolean {
    return spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
}

let aptUpdated = false;

/**
 * Makes sure each command exists, installing its Debian package when it does not.
 * `needs` maps a command to the package that provides it, e.g. { shellcheck: "shellcheck" }.
 */
export function ensureCommands(needs: Record<string, string>): void {
    const missing = Object.entries(needs).filter(([cmd]) => !hasCommand(cmd));
    if (missing.length === 0) return;
    const packages = [...new Set(missing.map(([, pkg]) => pkg))];
    const hint = `apt-get update && apt-get install -y --no-install-recommends ${packages.join(" ")}`;
    if (typeof process.getuid === "function" && process.getuid() !== 0) {
        throw new Error(`missing ${missing.map(([c]) => c).join(", ")}; run as root: ${hint}`);
    }
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    try {
        if (!aptUpdated) {
            execFileSync("apt-get", ["update", "-q"], { stdio: "ignore", env });
            aptUpdated = true;
        }
        execFileSync("apt-get", ["install", "-y", "-q", "--no-install-recommends", ...packages], {
            stdio: "ignore",
            env,
        });
    } catch (e) {
        throw new Error(`could not install ${packages.join(" ")} (${(e as Error).message}); run: ${hint}`, {
            cause: e,
        });
    }
    const still = missing.filter(([cmd]) => !hasCommand(cmd));
    if (still.length > 0)
        throw new Error(
            `installed ${packages.join(" ")} but ${still.map(([c]) => c).join(", ")} is still missing`,
        );
}

/** A fresh temporary directory, removed by the returned cleanup function. */
export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `wso2is-${prefix}-`));
    return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** A free TCP port on 127.0.0.1 (the kernel picks it). */
export async function freePort(): Promise<number> {
    const net = await import("net");
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.unref();
        srv.on("error", reject);
        srv.listen(0, "127.0.0.1", () => {
            const port = (srv.address() as { port: number }).port;
            srv.close(() => resolve(port));
        });
    });
}

// Reads an env file with systemd's own parser (load_env_file from libsystemd-shared, the code
// behind EnvironmentFile=), through a 10-line C program.
export function systemdEnvReader(dir: string): (file: string) => Record<string, string> {
    ensureCommands({ gcc: "gcc", systemctl: "systemd" });
    const candidates = [
        "/usr/lib/x86_64-linux-gnu/systemd",
        "/usr/lib/aarch64-linux-gnu/systemd",
        "/usr/lib/systemd",
        "/lib/systemd",
        "/usr/lib64/systemd",
    ];
    let lib: string | undefined;
    for (const d of candidates) {
        const f = fs.existsSync(d)
            ? fs.readdirSync(d).find((n) => /^libsystemd-shared-.*\.so$/.test(n))
            : undefined;
        if (f) {
            lib = path.join(d, f);
            break;
        }
    }
    if (!lib) throw new Error(`libsystemd-shared-*.so not found in ${candidates.join(", ")}`);
    const src = path.join(dir, "envfile.c");
    const bin = path.join(dir, "envfile");
    fs.writeFileSync(
        src,
        `#include <stdio.h>
int load_env_file(FILE *f, const char *fname, char ***ret);
int main(int argc, char **argv) {
    char **m = 0;
    if (argc != 2 || load_env_file(NULL, argv[1], &m) < 0) return 1;
    for (char **p = m; p && *p; p++) { fputs(*p, stdout); fputc(0, stdout); }
    return 0;
}
`,
    );
    execFileSync("gcc", ["-o", bin, src, lib, `-Wl,-rpath,${path.dirname(lib)}`]);
    return (file: string) => {
        const out = execFileSync(bin, [file], { encoding: "utf8" });
        const vars: Record<string, string> = {};
        for (const kv of out.split("\0").filter((s) => s.length > 0)) {
            const i = kv.indexOf("=");
            vars[kv.slice(0, i)] = kv.slice(i + 1);
        }
        return vars;
    };
}
