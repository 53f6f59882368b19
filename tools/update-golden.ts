// npm run golden:update [-- --stack NAME]
//
// Rewrites test/golden/<stack>/ from the offline synth of every example stack (or one), so a
// renderer change shows up as a reviewable diff of the files a node or a cluster receives. The
// synth suite fails while the golden files and the synth output differ. topology.* is left out
// (the SVG depends on the installed Graphviz).
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseArgs } from "node:util";
import { listStacks } from "../synth/stackConfig";

export const goldenRoot = path.join(__dirname, "..", "test", "golden");
const repoRoot = path.join(__dirname, "..");

/** Whether a file synth writes belongs in the golden set (path relative to out/<stack>). */
export function isGolden(relative: string): boolean {
    return !/^topology\./.test(relative);
}

function main(): number {
    const { values } = parseArgs({ options: { stack: { type: "string", short: "s" } } });
    const stacks = values.stack ? [values.stack] : listStacks(repoRoot);
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "wso2is-golden-"));
    try {
        for (const stack of stacks) {
            const r = spawnSync(
                process.execPath,
                ["-r", "ts-node/register/transpile-only", "synth/cli.ts", "--stack", stack, "--out", out],
                { cwd: repoRoot, stdio: ["ignore", "ignore", "inherit"] },
            );
            if (r.status !== 0) {
                console.error(`synth --stack ${stack} exited ${r.status}`);
                return 1;
            }
            const target = path.join(goldenRoot, stack);
            fs.rmSync(target, { recursive: true, force: true });
            fs.cpSync(path.join(out, stack), target, {
                recursive: true,
                filter: (src) => isGolden(path.relative(path.join(out, stack), src)),
            });
            console.log(`test/golden/${stack}: updated`);
        }
        return 0;
    } finally {
        fs.rmSync(out, { recursive: true, force: true });
    }
}

if (require.main === module) process.exit(main());
