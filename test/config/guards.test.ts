// Placeholder digests under the mock engine, through the real program (components/program.ts):
// `pulumi up` (setMocks preview = false, what isDryRun() returns) stops with one RunError before
// any resource is registered; `pulumi preview` (preview = true) and synth (deploying: false) go
// on with a warning per key. The clouds are the mock engine's stand-ins.
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { parseConfig, placeholderDigestMessages } from "../../components/config";
import { program } from "../../components/program";
import { settle } from "../../synth/mocks";
import { engine, installMocks } from "../harness";
import { sha } from "../fixtures/models";

const zero = "0".repeat(64);
const config = {
    "aws:region": "eu-west-1",
    "wso2is-cluster:cloud": "aws",
    "wso2is-cluster:hostname": "is.example.com",
    "wso2is-cluster:isDistributionSha256": zero,
    "wso2is-cluster:jdbcDriverSha256": zero,
};

/** Runs `fn` with the stack config and the mock engine in preview or up mode; collects warnings. */
async function run<T>(preview: boolean, fn: () => Promise<T>): Promise<{ result: T; warnings: string[] }> {
    const saved = pulumi.runtime.allConfig();
    const warn = console.warn;
    const warnings: string[] = [];
    await settle();
    try {
        pulumi.runtime.setAllConfig(config);
        void pulumi.runtime.setMocks(engine.mocks, "wso2is-cluster", "test", preview);
        console.warn = (m: unknown) => void warnings.push(String(m));
        const result = await fn();
        await settle();
        return { result, warnings };
    } finally {
        console.warn = warn;
        pulumi.runtime.setAllConfig(saved);
        installMocks();
    }
}

describe("placeholder digests: pulumi up stops, preview and synth warn", function () {
    it("under setMocks, isDryRun() is the preview argument (the harness and synth pass false)", async function () {
        assert.strictEqual(pulumi.runtime.isDryRun(), false);
        const { result } = await run(true, async () => pulumi.runtime.isDryRun());
        assert.strictEqual(result, true);
        assert.strictEqual(pulumi.runtime.isDryRun(), false);
    });

    it("`pulumi up` (preview = false): one RunError naming each key, its value and the command; nothing registered", async function () {
        const before = engine.records.length;
        const { result } = await run(false, () =>
            program().then(
                () => undefined,
                (e: unknown) => e,
            ),
        );
        assert.ok(result instanceof pulumi.RunError, `expected a RunError, got ${String(result)}`);
        assert.strictEqual(
            result.message,
            [
                "placeholder digests: `pulumi up` stops before creating anything (`pulumi preview` and `npm run synth` only warn):",
                `  - wso2is-cluster:isDistributionSha256 = "${zero}" is the all-zero placeholder, which the nodes' download check refuses: get the real sha256 with \`curl -fsSL https://github.com/wso2/product-is/releases/download/v7.1.0/wso2is-7.1.0.zip | sha256sum\`, then pulumi config set wso2is-cluster:isDistributionSha256 <hex>`,
                `  - wso2is-cluster:jdbcDriverSha256 = "${zero}" is the all-zero placeholder, which the nodes' download check refuses: get the real sha256 with \`curl -fsSL https://repo1.maven.org/maven2/com/mysql/mysql-connector-j/9.1.0/mysql-connector-j-9.1.0.jar | sha256sum\`, then pulumi config set wso2is-cluster:jdbcDriverSha256 <hex>`,
            ].join("\n"),
        );
        assert.strictEqual(engine.records.length, before, "no resource registered");
    });

    it("`pulumi preview` (preview = true): the program runs, one warning per key", async function () {
        const before = engine.records.length;
        const { warnings } = await run(true, () => program());
        assert.ok(engine.records.length > before + 20, "the cluster's resources are registered");
        const ours = warnings.filter((w) => w.includes("all-zero placeholder"));
        assert.strictEqual(ours.length, 2, warnings.join("\n"));
        assert.match(
            ours[0],
            /^warning: \[runtime\] wso2is-cluster:isDistributionSha256 = "0{64}" is the all-zero/,
        );
        assert.match(ours[1], /jdbcDriverSha256 .*\(`pulumi up` refuses to deploy until then\)$/);
    });

    it("synth (deploying: false, preview = false as synth/cli.ts runs it): warnings, no error", async function () {
        const before = engine.records.length;
        const { warnings } = await run(false, () => program({ deploying: false }));
        assert.ok(engine.records.length > before + 20);
        assert.strictEqual(warnings.filter((w) => w.includes("all-zero placeholder")).length, 2);
    });

    it("real digests deploy without a word; aks image digests name the image and the commands", function () {
        assert.deepStrictEqual(
            placeholderDigestMessages(
                parseConfig({
                    cloud: "aws",
                    hostname: "is.example.com",
                    isDistributionSha256: sha,
                    jdbcDriverSha256: sha,
                }),
            ),
            { warnings: [] },
        );
        const aks = parseConfig({
            cloud: "aks",
            hostname: "is.example.com",
            jdbcDriverSha256: sha,
            imageDigests: JSON.stringify([
                `wso2/wso2is@sha256:${zero}`,
                `library/mysql@sha256:${"b".repeat(64)}`,
            ]),
        });
        const { error } = placeholderDigestMessages(aks);
        assert.strictEqual(
            error!.split("\n")[1],
            `  - wso2is-cluster:imageDigests = ["wso2/wso2is@sha256:${zero}","library/mysql@sha256:${"b".repeat(64)}"] is the all-zero placeholder, which the nodes' download check refuses: get the manifest digest of wso2/wso2is:7.1.0: crane digest docker.io/wso2/wso2is:7.1.0, or docker buildx imagetools inspect docker.io/wso2/wso2is:7.1.0, or for the copy in your ACR az acr repository show --name <registry> --image wso2/wso2is:7.1.0 --query digest, then put <repository>@sha256:<hex> in wso2is-cluster:imageDigests`,
        );
    });
});
