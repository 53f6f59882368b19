// Stack names against cloud name limits (components/config/names.ts): each limit at its
// boundary (K characters pass, K+1 fail with the limit and K named), the characters AWS names
// refuse, one error listing every overflow, and the table checked against what the real
// program registers (every example stack's synth output in test/golden).
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import {
    ConfigError,
    DerivedName,
    awsLimitedResources,
    awsNameRules,
    awsNames,
    azureNames,
    clusterName,
    parseConfig,
    stackNameProblems,
} from "../../components/config";
import { sha } from "../fixtures/models";

const raw = {
    aws: { cloud: "aws", hostname: "is.example.com", isDistributionSha256: sha, jdbcDriverSha256: sha },
    ecs: { cloud: "ecs", hostname: "is.example.com", jdbcDriverSha256: sha },
    azure: { cloud: "azure", hostname: "is.example.com", isDistributionSha256: sha, jdbcDriverSha256: sha },
};

function problemsWith(config: Record<string, string>, stack: string): string {
    try {
        parseConfig(config, undefined, stack);
    } catch (e) {
        assert.ok(e instanceof ConfigError, `expected ConfigError, got ${(e as Error).stack}`);
        return e.message;
    }
    return assert.fail(`stack ${stack} was accepted`);
}

/** The longest stack name whose derived name still fits (computed independently of the module). */
function longestStack(n: DerivedName, stack: string): number {
    return n.limit - (n.name.length - stack.length);
}

describe("stack names and cloud name limits", function () {
    // Expected K per limit, worked out by hand from "wso2is-" (7) + stack + role + suffix.
    const expected: [cloud: "aws" | "ecs" | "azure", what: string, k: number][] = [
        ["aws", "ALB name", 13], // 7 + K + "-alb" 4 + "-xxxxxxx" 8 = 32
        ["aws", "target group name", 14], // 7 + K + "-is" 3 + 8 = 32
        ["aws", "IAM role name", 44], // 7 + K + "-node" 5 + 8 = 64
        ["aws", "S3 bucket name", 40], // 7 + K + "-scripts" 8 + 8 = 63
        ["aws", "RDS instance identifier", 46], // 7 + K + "-db" 3 + 7 (no separator) = 63
        ["ecs", "ALB name", 13],
        ["ecs", "IAM role name", 39], // 7 + K + "-task-exec" 10 + 8 = 64
        ["azure", "private endpoint name", 43], // 7 + K + "-files" 6 + 8 = 64
        ["azure", "virtual network name", 44], // 7 + K + "-vnet" 5 + 8 = 64
        ["azure", "VM name (Linux)", 50], // 7 + K + "-node-2" 7 = 64 (2 nodes)
        ["azure", "Linux computer name", 50],
        ["azure", "OS disk name", 63], // 7 + K + "-node-2-os" 10 = 80
        ["azure", "Application Gateway name", 67], // 7 + K + "-appgw" 6 = 80
    ];
    for (const [cloud, what, k] of expected) {
        it(`${cloud}: the ${what} allows a stack name of ${k} characters, not ${k + 1}`, function () {
            const fits = "s".repeat(k);
            const over = "s".repeat(k + 1);
            const about = (stack: string) =>
                stackNameProblems(cloud, stack, 2).filter((p) => p.includes(` ${what} `));
            assert.deepStrictEqual(about(fits), []);
            const [line, ...more] = about(over);
            assert.deepStrictEqual(more, []);
            assert.match(line, new RegExp(`use a stack name of at most ${k} characters$`));
            assert.match(
                line,
                new RegExp(
                    `^the stack name "${over}" makes the (AWS|Azure) ${what.replace(/[()]/g, "\\$&")} "`,
                ),
            );
        });
    }

    it("every derived name reports the K at which it just fits, on every target", function () {
        const stack = "s".repeat(20);
        const derived: ["aws" | "ecs" | "azure", DerivedName[]][] = [
            ["aws", awsNames(clusterName(stack), "aws")],
            ["ecs", awsNames(clusterName(stack), "ecs")],
            ["azure", azureNames(clusterName(stack), 2)],
        ];
        for (const [cloud, names] of derived)
            for (const n of names) {
                const k = longestStack(n, stack);
                const over = stackNameProblems(cloud, "s".repeat(k + 1), 2);
                assert.ok(
                    over.some((p) =>
                        p.includes(`"${n.name.replace(stack, "s".repeat(k + 1))}" ${n.limit + 1} characters`),
                    ),
                    `${cloud} ${n.what}: ${over.join("\n")}`,
                );
            }
    });

    it("the exact AWS error: the ALB name, its length, the limit, how it is built, the longest stack", function () {
        const message = problemsWith(raw.aws, "averyverylongname");
        assert.ok(
            message.includes(
                '  - the stack name "averyverylongname" makes the AWS ALB name "wso2is-averyverylongname-alb-xxxxxxx" 36 characters; AWS allows 32 (wso2is-<stack>-alb plus Pulumi\'s auto-name suffix "-xxxxxxx"): use a stack name of at most 13 characters\n',
            ),
            message,
        );
        // One error lists every overflow: the target group overflows too.
        assert.match(message, /AWS target group name "wso2is-averyverylongname-is-xxxxxxx" 35 characters/);
        assert.strictEqual(parseConfig(raw.aws, undefined, "thirteen-char").cloud, "aws");
        assert.strictEqual(parseConfig(raw.ecs, undefined, "thirteen-char").cloud, "ecs");
    });

    it("aws and ecs refuse uppercase, underscores, dots and double hyphens in the stack name", function () {
        for (const cloud of ["aws", "ecs"] as const)
            for (const bad of ["Dev", "my_dev", "dev.eu", "a--b", "-dev", "dev-"]) {
                const message = problemsWith(raw[cloud], bad);
                assert.match(
                    message,
                    new RegExp(
                        `the stack name ${JSON.stringify(bad).replace(/[.]/g, "\\.")} cannot be part of AWS names: .*use lowercase letters, digits and single hyphens`,
                    ),
                );
            }
        assert.match(problemsWith(raw.aws, "My_Dev"), /\(e\.g\. "my-dev"\)/);
        for (const ok of ["dev", "ecs-prod", "eu1-prod-2"]) assert.ok(parseConfig(raw.aws, undefined, ok));
        // Azure keeps its own rules (kebab() shapes its names); aks derives none from the stack.
        assert.strictEqual(parseConfig(raw.azure, undefined, "My_Dev").cloud, "azure");
        assert.strictEqual(
            parseConfig(
                { cloud: "aks", hostname: "is.example.com", jdbcDriverSha256: sha },
                undefined,
                "s".repeat(90),
            ).cloud,
            "aks",
        );
    });

    it("the Azure VM name counts the last node: more nodes, a shorter stack", function () {
        const stack = "s".repeat(50);
        assert.deepStrictEqual(
            stackNameProblems("azure", stack, 9).filter((p) => p.includes("VM name")),
            [],
        );
        const [line] = stackNameProblems("azure", stack, 10).filter((p) => p.includes("VM name"));
        assert.match(line, /"wso2is-s{50}-node-10" 65 characters; Azure allows 64 .*at most 49 characters/);
    });

    it("the table names every limited resource the real program registers (synth of every example stack)", function () {
        const root = path.join(__dirname, "..", "..");
        const golden = path.join(root, "test", "golden");
        let checked = 0;
        for (const stack of fs.readdirSync(golden)) {
            const cfg = YAML.parse(fs.readFileSync(path.join(root, `Pulumi.${stack}.yaml`), "utf8")).config;
            const cloud = cfg["wso2is-cluster:cloud"];
            const nodes = Number(cfg["wso2is-cluster:nodes"] ?? 2);
            const cluster = clusterName(stack);
            const resources: { type: string; name: string; inputs: Record<string, any> }[] = JSON.parse(
                fs.readFileSync(path.join(golden, stack, "resources.json"), "utf8"),
            );
            if (cloud === "aws" || cloud === "ecs") {
                const table = awsLimitedResources(cluster, cloud);
                for (const r of resources.filter((x) => x.type in awsNameRules)) {
                    assert.ok(
                        table.some((t) => t.type === r.type && t.logical === r.name),
                        `${stack}: ${r.type} ${r.name} is auto-named from the stack but not in names.ts awsLimitedResources`,
                    );
                    checked++;
                }
            }
            if (cloud === "azure") {
                const names = azureNames(cluster, nodes);
                const vms = resources.filter((x) => x.type === "azure-native:compute:VirtualMachine");
                assert.strictEqual(vms.length, nodes);
                const last = vms
                    .map((v) => v.inputs.vmName as string)
                    .sort()
                    .at(-1)!;
                assert.strictEqual(last, names.find((n) => n.what === "VM name (Linux)")!.name);
                assert.strictEqual(
                    vms.find((v) => v.inputs.vmName === last)!.inputs.osProfile.computerName,
                    names.find((n) => n.what === "Linux computer name")!.name,
                );
                const logical = (type: string) => resources.filter((x) => x.type === type).map((x) => x.name);
                assert.deepStrictEqual(logical("azure-native:network:PrivateEndpoint"), [`${cluster}-files`]);
                assert.deepStrictEqual(logical("azure-native:network:VirtualNetwork"), [`${cluster}-vnet`]);
                checked += vms.length + 2;
            }
        }
        assert.ok(checked >= 20, `checked ${checked} names`);
    });
});
