// The program loads only the chosen target's provider SDK (what keeps `pulumi preview` and
// synth fast): each example stack's synth, in a child process with bench/probe.js listing the
// @pulumi packages in require.cache at exit.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const repo = path.resolve(__dirname, "..", "..");
const providers: Record<string, string[]> = {
    aws: ["@pulumi/aws"],
    azure: ["@pulumi/azure-native"],
    aks: ["@pulumi/azure-native", "@pulumi/kubernetes"],
    ecs: ["@pulumi/aws"],
};
const allProviders = ["@pulumi/aws", "@pulumi/azure-native", "@pulumi/kubernetes"];

const stacks = fs
    .readdirSync(repo)
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => !!s)
    .map((stack) => ({
        stack,
        cloud:
            /wso2is-cluster:cloud:\s*(\w+)/.exec(
                fs.readFileSync(path.join(repo, `Pulumi.${stack}.yaml`), "utf8"),
            )?.[1] ?? "",
    }));

describe("synth loads only the chosen target's provider SDK", function () {
    this.timeout(120000);
    for (const { stack, cloud } of stacks) {
        it(`${stack} (${cloud}) loads ${providers[cloud]?.join(" + ")} and no other provider`, function () {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wso2is-lazy-"));
            try {
                const probe = path.join(dir, "probe.json");
                const r = spawnSync(
                    process.execPath,
                    [
                        "-r",
                        "./bench/probe.js",
                        "-r",
                        "ts-node/register/transpile-only",
                        "synth/cli.ts",
                        "--stack",
                        stack,
                        "--out",
                        dir,
                    ],
                    {
                        cwd: repo,
                        encoding: "utf8",
                        env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true", BENCH_PROBE_OUT: probe },
                    },
                );
                assert.strictEqual(r.status, 0, `${r.stdout}${r.stderr}`);
                const loaded = Object.keys(
                    JSON.parse(fs.readFileSync(probe, "utf8")).pulumiPackages as Record<string, number>,
                );
                const expected = providers[cloud];
                assert.ok(expected, `unknown cloud ${cloud}`);
                assert.deepStrictEqual(
                    loaded.filter((p) => allProviders.includes(p)).sort(),
                    [...expected].sort(),
                );
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        });
    }
});
