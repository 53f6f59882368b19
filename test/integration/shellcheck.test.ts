// shellcheck on every node boot script in components/render/scripts (globbed, so a new script is
// covered the day it lands), and proof that the check can fail.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ensureCommands, tempDir } from "./support/system";
import { SCRIPTS_DIR, SOURCE_SCRIPTS_DIR } from "./support/scripts";

function shellcheck(file: string): { status: number | null; output: string } {
    const r = spawnSync("shellcheck", ["-s", "bash", "--format", "gcc", file], { encoding: "utf8" });
    if (r.error) throw r.error;
    return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

const scripts = fs
    .readdirSync(SOURCE_SCRIPTS_DIR)
    .filter((f) => f.endsWith(".sh"))
    .sort();

describe("shellcheck on the node scripts", function () {
    this.timeout(60000);

    before(function () {
        ensureCommands({ shellcheck: "shellcheck" });
    });

    it("finds the scripts of CONTRACT.md", function () {
        for (const s of [
            "node-ip.sh",
            "install-is.sh",
            "mount-share.sh",
            "artifact-sync.sh",
            "fetch-secrets.sh",
        ]) {
            assert.ok(scripts.includes(s), `${s} missing from ${SOURCE_SCRIPTS_DIR}`);
        }
    });

    for (const [label, dir] of [
        ["source", SOURCE_SCRIPTS_DIR],
        ["as shipped to nodes", SCRIPTS_DIR],
    ] as const)
        for (const script of scripts) {
            it(`${script} (${label}) is shellcheck-clean`, function () {
                const file = path.join(dir, script);
                const r = shellcheck(file);
                assert.equal(r.status, 0, `shellcheck -s bash ${script}:\n${r.output}`);
                const text = fs.readFileSync(file, "utf8");
                assert.ok(
                    text.startsWith("#!/usr/bin/env bash\n"),
                    `${script}: shebang must be #!/usr/bin/env bash`,
                );
                // A sourced library (second line `# shellcheck shell=bash`) runs under its caller's options.
                if (text.split("\n")[1] !== "# shellcheck shell=bash")
                    assert.match(
                        text,
                        /^set -(?=[A-Za-z]*e)(?=[A-Za-z]*u)[A-Za-z]*o pipefail\b/m,
                        `${script}: needs set -euo pipefail`,
                    );
            });
        }

    it("rejects a deliberately broken script (the check can fail)", function () {
        const tmp = tempDir("shellcheck");
        try {
            const file = path.join(tmp.dir, "broken.sh");
            fs.writeFileSync(
                file,
                '#!/usr/bin/env bash\nset -euo pipefail\nfor f in $(ls $1); do\n  rm $f\ndone\nif [ $x = "a" ]; then echo "unterminated\n',
            );
            const r = shellcheck(file);
            assert.notEqual(r.status, 0, "shellcheck accepted a broken script");
            assert.match(r.output, /broken\.sh:\d+:\d+: (error|warning|note)/);
        } finally {
            tmp.cleanup();
        }
    });
});
