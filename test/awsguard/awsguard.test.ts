// Pulumi's own AWS policy pack, AWSGuard (npm @pulumi/awsguard 0.3.1), over the production
// example stack (Pulumi.prod.yaml) under the mock engine: the offline synth's resources, each
// through every AWSGuard resource policy, run the way the analyzer runs them (test/policy/harness.ts).
// AWSGuard is a peer's pack, not ours: it lives in this folder's own package (it pulls
// @pulumi/aws 4 and aws-sdk 2, which stay out of the program's dependencies); `npm run
// test:awsguard` installs it on first use. Its policies are loaded module by module, never
// through `new AwsGuard()` (a PolicyPack starts the analyzer's gRPC server).
//
// What AWSGuard cannot see here: its elb-* policies match only the type tokens
// aws:elasticloadbalancingv2/... and aws:applicationloadbalancing/..., not this program's
// aws:lb/loadBalancer, so our pack carries the equivalents (policy/aws.ts).
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { RunResult, StackResourceInput, messages, runPolicy, runResource } from "../policy/harness";
import { exampleStacks, synthOnce } from "../fixtures/stacks";
import { loadResources } from "../policy/stacks";

const awsguardDir = path.join(__dirname, "node_modules", "@pulumi", "awsguard");
const modules = ["apiGateway", "compute", "database", "elasticsearch", "network", "security", "storage"];

function awsguardPolicies(): ResourceValidationPolicy[] {
    const out: ResourceValidationPolicy[] = [];
    for (const m of modules) {
        const exported = require(path.join(awsguardDir, m)) as Record<string, unknown>;
        for (const p of Object.values(exported)) {
            const policy = p as ResourceValidationPolicy;
            if (policy && typeof policy.name === "string" && policy.validateResource) out.push(policy);
        }
    }
    return out;
}

describe("AWSGuard (@pulumi/awsguard) on the production example stack", function () {
    this.timeout(600_000);
    let policies: ResourceValidationPolicy[] = [];
    let resources: StackResourceInput[] = [];
    const results = new Map<string, RunResult>();

    before(async function () {
        assert.ok(
            fs.existsSync(path.join(awsguardDir, "package.json")),
            "test/awsguard has no node_modules: run `npm run test:awsguard` (it installs them)",
        );
        assert.strictEqual(exampleStacks().find((s) => s.name === "prod")?.production, true);
        policies = awsguardPolicies();
        const run = synthOnce("prod");
        if (run.status !== 0) throw new Error(`synth --stack prod exited ${run.status}: ${run.stderr}`);
        resources = loadResources(run.dir);
        // Defaults, as `pulumi preview --policy-pack` runs the pack with no config.
        for (const p of policies) results.set(p.name, await runPolicy(p, resources));
    });

    it("loads every AWSGuard policy", function () {
        assert.strictEqual(policies.length, 24, "AWSGuard 0.3.1 exports 24 resource policies");
        for (const name of ["efs-encrypted", "cmk-backing-key-rotation-enabled", "rds-storage-encrypted"])
            assert.ok(results.has(name), name);
    });

    /**
     * AWSGuard findings this program accepts, each with why. The nodes' script bucket holds
     * content-addressed copies of the repo's scripts that only the node role reads; S3 server
     * access logging would need a second bucket, which this same policy would flag in turn.
     */
    const accepted: { policy: string; resource: string; why: string }[] = [
        {
            policy: "s3-bucket-logging-enabled",
            resource: "aws:s3/bucket:Bucket::wso2is-prod-scripts",
            why: "the script bundle: public copies of the repo's scripts, read by the node role only",
        },
    ];
    const isAccepted = (policy: string, message: string) =>
        accepted.some((a) => a.policy === policy && message.startsWith(`${a.resource}: `));

    it("raises no violation but the accepted ones", function () {
        const failures = [...results].flatMap(([name, r]) =>
            r.violations.filter((v) => !isAccepted(name, v.message)).map((v) => `${name}: ${v.message}`),
        );
        assert.deepStrictEqual(failures, [], failures.join("\n"));
        // Each accepted finding still occurs: a fix removes it from the list.
        for (const a of accepted)
            assert.ok(
                results.get(a.policy)?.violations.some((v) => isAccepted(a.policy, v.message)),
                `${a.policy} no longer reports ${a.resource}: drop it from the accepted list`,
            );
    });

    it("ran on the stack's RDS, EFS and KMS key (not vacuously)", function () {
        for (const name of [
            "efs-encrypted",
            "cmk-backing-key-rotation-enabled",
            "rds-storage-encrypted",
            "rds-instance-multi-az-enabled",
            "rds-instance-backup-enabled",
            "rds-instance-public-access",
        ])
            assert.strictEqual(results.get(name)?.status, "ok", `${name}: ${messages(results.get(name)!)}`);
    });

    it("control: the same EFS without the cluster's KMS key is a violation", async function () {
        const efs = resources.find((r) => r.type === "aws:efs/fileSystem:FileSystem")!;
        const { kmsKeyId: _dropped, ...props } = efs.props;
        const policy = policies.find((p) => p.name === "efs-encrypted")!;
        const r = await runResource(policy, { ...efs, props });
        assert.strictEqual(r.status, "violations", messages(r));
    });
});
