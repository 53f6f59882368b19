// The program loads only the chosen target's provider SDK (what keeps `pulumi preview` and
// synth fast): each example stack's synth run (test/fixtures/stacks.ts) carries bench/probe.js,
// which lists the @pulumi packages in require.cache at exit.
import * as assert from "assert";
import { exampleStacks, synthOnce } from "../fixtures/stacks";

const providers: Record<string, string[]> = {
    aws: ["@pulumi/aws"],
    azure: ["@pulumi/azure-native"],
    aks: ["@pulumi/azure-native", "@pulumi/kubernetes"],
    ecs: ["@pulumi/aws"],
};
const allProviders = ["@pulumi/aws", "@pulumi/azure-native", "@pulumi/kubernetes"];

describe("synth loads only the chosen target's provider SDK", function () {
    this.timeout(120000);
    for (const { name: stack, cloud } of exampleStacks()) {
        it(`${stack} (${cloud}) loads ${providers[cloud]?.join(" + ")} and no other provider`, function () {
            const r = synthOnce(stack);
            assert.strictEqual(r.status, 0, `${r.stdout}${r.stderr}`);
            const loaded = Object.keys(r.pulumiPackages);
            const expected = providers[cloud];
            assert.ok(expected, `unknown cloud ${cloud}`);
            assert.deepStrictEqual(
                loaded.filter((p) => allProviders.includes(p)).sort(),
                [...expected].sort(),
            );
        });
    }
});
