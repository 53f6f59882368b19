// ECS policies: the passing case is the task definition the program renders
// (components/ecs/containers.ts on the ECS fixture model); each violating case changes one thing.
import { strict as assert } from "assert";
import * as ecs from "../../policy/ecs";
import * as stack from "../../policy/stack";
import { containerDefinitions, taskSize } from "../../components/ecs/containers";
import { ecsModel } from "../fixtures/models";
import { Props, RunResult, StackResourceInput, messages, runResource, runStack, unknown } from "./harness";

function ok(r: RunResult) {
    assert.equal(r.status, "ok", messages(r));
}
function violates(r: RunResult, pattern: RegExp) {
    assert.equal(r.status, "violations", `expected a violation matching ${pattern}, got ${messages(r)}`);
    assert.ok(
        r.violations.some((v) => pattern.test(v.message)),
        messages(r),
    );
}

const secretArn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:wso2is-ecs-dev-AbCdEf";
function containers(): Props[] {
    return containerDefinitions({
        model: ecsModel(),
        image: "wso2/wso2is:7.1.0",
        secretArn,
        region: "eu-west-1",
        logGroup: "wso2is-ecs-dev-is",
        size: taskSize({ vcpu: 4, memoryGb: 8 }),
        dbAdminUser: "wso2admin",
        secretRotation: "0".repeat(64),
    }) as Props[];
}
const task = (cs: Props[] = containers()) => ({
    type: ecs.T.taskDefinition,
    props: { family: "wso2is-ecs-dev-is", networkMode: "host", containerDefinitions: JSON.stringify(cs) },
});
const named = (cs: Props[], name: string) => cs.find((c) => c.name === name)!;

describe("policy: ecs", function () {
    describe("aws-ecs-no-privileged-containers", function () {
        it("passes the rendered task (the config container adds CHOWN only)", async function () {
            ok(await runResource(ecs.ecsNoPrivilegedContainers, task()));
        });
        it("passes a task definition whose containers are given as a list (outputs)", async function () {
            ok(
                await runResource(ecs.ecsNoPrivilegedContainers, {
                    type: ecs.T.taskDefinition,
                    props: { containerDefinitions: containers() },
                }),
            );
        });
        it("flags privileged: true and host-level capabilities", async function () {
            const cs = containers();
            named(cs, "wso2is").privileged = true;
            violates(await runResource(ecs.ecsNoPrivilegedContainers, task(cs)), /wso2is is privileged/);
            const cs2 = containers();
            named(cs2, "db-init").linuxParameters = { capabilities: { add: ["sys_admin"] } };
            violates(await runResource(ecs.ecsNoPrivilegedContainers, task(cs2)), /db-init adds sys_admin/);
        });
        it("is not applicable to other types", async function () {
            assert.equal(
                (await runResource(ecs.ecsNoPrivilegedContainers, { type: ecs.T.service, props: {} })).status,
                "n/a",
            );
        });
    });

    describe("aws-ecs-no-plaintext-secrets", function () {
        it("passes the rendered task: passwords only through secrets/valueFrom", async function () {
            const cs = containers();
            assert.ok(named(cs, "wso2is").secrets.every((s: Props) => s.valueFrom.startsWith(secretArn)));
            ok(await runResource(ecs.ecsNoPlaintextSecrets, task(cs)));
        });
        it("flags a password in the environment", async function () {
            const cs = containers();
            named(cs, "wso2is").environment.push({ name: "WSO2_ADMIN_PASSWORD", value: "correct horse" });
            violates(
                await runResource(ecs.ecsNoPlaintextSecrets, task(cs)),
                /wso2is: environment WSO2_ADMIN_PASSWORD holds a literal value/,
            );
        });
        it("flags a private key or an AWS key id in any variable, and a literal in a *_B64 file", async function () {
            const cs = containers();
            named(cs, "config").environment.push({
                name: "TLS_PEM",
                value: "-----BEGIN PRIVATE KEY-----",
            });
            violates(
                await runResource(ecs.ecsNoPlaintextSecrets, task(cs)),
                /TLS_PEM holds a PEM private key/,
            );
            const cs2 = containers();
            named(cs2, "db-init").environment.push({ name: "NOTE", value: "AKIAABCDEFGHIJKLMNOP" });
            violates(await runResource(ecs.ecsNoPlaintextSecrets, task(cs2)), /an AWS access key id/);
            const cs3 = containers();
            named(cs3, "config").environment.push({
                name: "EXTRA_ENV_B64",
                value: Buffer.from("A=1\nDB_PASSWORD=hunter2\n").toString("base64"),
            });
            violates(
                await runResource(ecs.ecsNoPlaintextSecrets, task(cs3)),
                /EXTRA_ENV_B64 line 2 holds a literal value for DB_PASSWORD/,
            );
        });
        it("cannot run on a preview-unknown value (the runtime's proxy)", async function () {
            assert.equal(
                (
                    await runResource(ecs.ecsNoPlaintextSecrets, {
                        type: ecs.T.taskDefinition,
                        props: { containerDefinitions: unknown },
                    })
                ).status,
                "unknown",
            );
        });
    });

    describe("wso2is-zone-spread / wso2is-min-nodes on an ECS service", function () {
        const resources = (service: Props, subnets = ["s-a", "s-b"]): StackResourceInput[] => [
            { type: "wso2is:aws:EcsCluster", name: "c", props: {} },
            {
                type: "aws:ec2/subnet:Subnet",
                name: "a",
                props: { id: "s-a", availabilityZone: "eu-west-1a" },
            },
            {
                type: "aws:ec2/subnet:Subnet",
                name: "b",
                props: { id: "s-b", availabilityZone: "eu-west-1b" },
            },
            {
                type: "aws:autoscaling/group:Group",
                name: "c-nodes",
                parent: "wso2is:aws:EcsCluster::c",
                props: {
                    minSize: 1,
                    vpcZoneIdentifiers: subnets,
                    tags: [{ key: "wso2is-cluster", value: "c" }],
                },
            },
            { type: ecs.T.service, name: "c-is", parent: "wso2is:aws:EcsCluster::c", props: service },
        ];
        const spread = [{ type: "spread", field: "attribute:ecs.availability-zone" }];
        it("passes 2 tasks spread over the zones of capacity in 2 zones (the ASG is capacity, not nodes)", async function () {
            const rs = resources({ desiredCount: 2, orderedPlacementStrategies: spread });
            ok(await runStack(stack.zoneSpread, rs));
            ok(await runStack(stack.minNodes, rs));
        });
        it("flags a service without the zone spread, capacity in one zone, and one task", async function () {
            violates(
                await runStack(
                    stack.zoneSpread,
                    resources({ desiredCount: 2, orderedPlacementStrategies: [] }),
                ),
                /no placement strategy spread over attribute:ecs.availability-zone/,
            );
            violates(
                await runStack(
                    stack.zoneSpread,
                    resources({ desiredCount: 2, orderedPlacementStrategies: spread }, ["s-a"]),
                ),
                /capacity in 1 zone/,
            );
            violates(
                await runStack(
                    stack.minNodes,
                    resources({ desiredCount: 1, orderedPlacementStrategies: spread }),
                ),
                /runs 1 IS node/,
            );
        });
    });
});
