// Every example stack (Pulumi.*.yaml in the repo root) against every policy. The offline synth
// runs as a child process (it installs its own mocks) and writes resources.json: type, name,
// parent and inputs of every resource. Its user data is replaced there by a marker pointing at
// nodes/<node>/cloud-init.yaml, which is put back (base64 where the marker says so) before the
// policies see it. A production stack runs with the pack's production config
// (policy/config.production.json): production-only checks on, HA policies mandatory.
import { strict as assert } from "assert";
import { policies } from "../../policy/policies";
import { exampleStacks, synthOnce } from "../fixtures/stacks";
import { loadResources } from "./stacks";
import {
    Props,
    RunResult,
    StackResourceInput,
    effective,
    isResourcePolicy,
    messages,
    runPolicy,
} from "./harness";

const stacks = exampleStacks();

describe("policy: example stacks", function () {
    this.timeout(600_000);
    const resources = new Map<string, StackResourceInput[]>();
    const results = new Map<string, Map<string, RunResult>>();

    before(async function () {
        assert.ok(stacks.length > 0, "the repo has example stacks");
        for (const { name: stack, production } of stacks) {
            const run = synthOnce(stack);
            if (run.status !== 0)
                throw new Error(`synth --stack ${stack} exited ${run.status}: ${run.stderr}`);
            const rs = loadResources(run.dir);
            resources.set(stack, rs);
            const byPolicy = new Map<string, RunResult>();
            for (const p of policies)
                byPolicy.set(p.name, await runPolicy(p, rs, { config: effective(p, production).config }));
            results.set(stack, byPolicy);
        }
    });

    it("restores every node's user data from synth's markers", function () {
        for (const [stack, rs] of resources) {
            const text = JSON.stringify(rs);
            assert.ok(!/cloud-init, see nodes\//.test(text), `${stack}: a user-data marker is left`);
            assert.ok(
                !/(container definitions|base64), see ecs\//.test(text),
                `${stack}: an ECS marker is left`,
            );
        }
    });

    for (const { name: stack, cloud, production } of stacks) {
        describe(`stack ${stack}`, function () {
            it("passes every mandatory policy (production stacks with policy/config.production.json)", function () {
                const failures: string[] = [];
                for (const p of policies) {
                    const r = results.get(stack)!.get(p.name)!;
                    assert.notEqual(r.status, "unknown", `${p.name}: ${messages(r)}`);
                    if (effective(p, production).level === "mandatory" && r.status === "violations")
                        failures.push(`${p.name}:\n  ${messages(r).split("\n").join("\n  ")}`);
                }
                assert.deepEqual(failures, [], failures.join("\n"));
            });

            it("passes the advisory policies too", function () {
                const findings = policies
                    .filter((p) => effective(p, production).level !== "mandatory")
                    .map((p) => [p.name, results.get(stack)!.get(p.name)!] as const)
                    .filter(([, r]) => r.status === "violations")
                    .map(([name, r]) => `${name}: ${messages(r)}`);
                assert.deepEqual(findings, [], findings.join("\n"));
            });

            it("is really checked: the policies of its target ran on its resources", function () {
                const ran = [...results.get(stack)!.entries()]
                    .filter(([, r]) => r.status !== "n/a")
                    .map(([n]) => n);
                const expected: Record<string, string[]> = {
                    aws: [
                        "aws-rds-not-public",
                        "aws-rds-storage-encrypted",
                        "aws-rds-tls-required",
                        "aws-efs-encrypted",
                        "aws-ec2-imdsv2-required",
                        "aws-ebs-encrypted",
                        "aws-sg-no-public-ingress",
                        "aws-sg-public-only-on-load-balancer",
                        "aws-lb-listener-https",
                        "aws-target-group-stickiness",
                        ...(production ? ["aws-rds-production-resilience"] : []),
                    ],
                    azure: [
                        "azure-mysql-private",
                        "azure-mysql-tls-required",
                        "azure-storage-secure-transfer",
                        "azure-nsg-no-public-sensitive-ports",
                        "azure-vm-managed-identity",
                        "azure-vm-ssh-keys-only",
                        "azure-appgw-https",
                        "azure-appgw-cookie-affinity",
                        "azure-keyvault-soft-delete-retention",
                        "azure-keyvault-item-deletion-path",
                        ...(production
                            ? ["azure-mysql-production-ha", "azure-keyvault-purge-protection"]
                            : []),
                    ],
                    ecs: [
                        "aws-rds-not-public",
                        "aws-rds-storage-encrypted",
                        "aws-rds-tls-required",
                        "aws-efs-encrypted",
                        "aws-ec2-imdsv2-required",
                        "aws-ebs-encrypted",
                        "aws-sg-no-public-ingress",
                        "aws-sg-public-only-on-load-balancer",
                        "aws-lb-listener-https",
                        "aws-target-group-stickiness",
                        "aws-ecs-no-privileged-containers",
                        "aws-ecs-no-plaintext-secrets",
                        ...(production ? ["aws-rds-production-resilience"] : []),
                    ],
                    aks: [
                        "azure-mysql-private",
                        "azure-mysql-tls-required",
                        "k8s-configmap-no-secrets",
                        "k8s-probes",
                        "k8s-resources",
                        "k8s-no-privilege",
                        "k8s-run-as-non-root",
                        ...(production ? ["azure-mysql-production-ha"] : []),
                    ],
                };
                const common = [
                    "wso2is-min-nodes",
                    "wso2is-zone-spread",
                    "wso2is-single-database-and-share",
                    "wso2is-consistent-node-config",
                    ...(cloud === "aks" ? [] : ["wso2is-no-secrets-in-user-data"]),
                ];
                const missing = [...(expected[cloud] ?? []), ...common].filter((n) => !ran.includes(n));
                assert.deepEqual(missing, [], `policies that found nothing to check in ${stack} (${cloud})`);
            });
        });
    }

    describe("the policies catch a change to the real resources (dev)", function () {
        const base = () => JSON.parse(JSON.stringify(resources.get("dev") ?? [])) as StackResourceInput[];
        const run = (name: string, rs: StackResourceInput[], config: Record<string, unknown> = {}) =>
            runPolicy(
                policies.find((p) => p.name === name)!,
                rs,
                { config },
            );
        const edit = (rs: StackResourceInput[], type: string, f: (props: Props) => void) => {
            const hits = rs.filter((r) => r.type === type);
            assert.ok(hits.length > 0, `dev has a ${type}`);
            hits.forEach((r) => f(r.props));
            return rs;
        };
        const userDataOf = (rs: StackResourceInput[]) =>
            rs.find((r) => r.type === "aws:ec2/launchTemplate:LaunchTemplate")!;

        before(function () {
            assert.ok(
                resources.has("dev") && stacks.find((s) => s.name === "dev")?.cloud === "aws",
                "these cases edit the aws dev stack's resources",
            );
        });

        it("a public database, a TLS-optional parameter group, IMDSv1", async function () {
            const r1 = await run(
                "aws-rds-not-public",
                edit(base(), "aws:rds/instance:Instance", (p) => (p.publiclyAccessible = true)),
            );
            assert.equal(r1.status, "violations", messages(r1));
            const r2 = await run(
                "aws-rds-tls-required",
                edit(
                    base(),
                    "aws:rds/parameterGroup:ParameterGroup",
                    (p) =>
                        (p.parameters = p.parameters.filter(
                            (x: Props) => x.name !== "require_secure_transport",
                        )),
                ),
            );
            assert.equal(r2.status, "violations", messages(r2));
            const r3 = await run(
                "aws-ec2-imdsv2-required",
                edit(
                    base(),
                    "aws:ec2/launchTemplate:LaunchTemplate",
                    (p) => (p.metadataOptions.httpTokens = "optional"),
                ),
            );
            assert.equal(r3.status, "violations", messages(r3));
        });

        it("a node group of 1 in one subnet, and the dev stack judged as production", async function () {
            const rs = edit(base(), "aws:autoscaling/group:Group", (p) => {
                p.desiredCapacity = 1;
                p.vpcZoneIdentifiers = p.vpcZoneIdentifiers.slice(0, 1);
            });
            assert.equal((await run("wso2is-min-nodes", rs)).status, "violations");
            assert.equal((await run("wso2is-zone-spread", rs)).status, "violations");
            const prod = await run("aws-rds-production-resilience", base(), { production: true });
            assert.equal(
                prod.status,
                "violations",
                "dev's single-AZ, 1-day-backup database is not production grade",
            );
            assert.match(messages(prod), /multiAz/);
        });

        it("a literal password and another membership scheme in the launch template's deployment.toml", async function () {
            const rs = base();
            const lt = userDataOf(rs);
            const text = Buffer.from(lt.props.userData, "base64").toString("utf8");
            assert.ok(text.includes('password = "$env{WSO2_DB_PASSWORD}"'));
            lt.props.userData = Buffer.from(
                text.replace('password = "$env{WSO2_DB_PASSWORD}"', 'password = "hunter2"'),
                "utf8",
            ).toString("base64");
            const r = await run("wso2is-no-secrets-in-user-data", rs);
            assert.equal(r.status, "violations", messages(r));
            // A second launch template in the cluster with another scheme.
            const second: StackResourceInput = {
                ...lt,
                name: `${lt.name}-b`,
                props: {
                    ...lt.props,
                    userData: Buffer.from(
                        text.replace('membership_scheme = "aws"', 'membership_scheme = "wka"'),
                        "utf8",
                    ).toString("base64"),
                },
            };
            const c = await run("wso2is-consistent-node-config", [...base(), second]);
            assert.equal(c.status, "violations", messages(c));
        });
    });

    describe("the policies catch a change to the real resources (ecs-dev)", function () {
        const base = () => JSON.parse(JSON.stringify(resources.get("ecs-dev") ?? [])) as StackResourceInput[];
        const run = (name: string, rs: StackResourceInput[]) =>
            runPolicy(
                policies.find((p) => p.name === name)!,
                rs,
                { config: {} },
            );
        const taskDefinition = (rs: StackResourceInput[]) => {
            const hits = rs.filter((r) => r.type === "aws:ecs/taskDefinition:TaskDefinition");
            assert.equal(hits.length, 1, "ecs-dev has one task definition");
            return hits[0];
        };
        const editContainers = (rs: StackResourceInput[], f: (containers: Props[]) => void) => {
            const td = taskDefinition(rs);
            const containers = JSON.parse(td.props.containerDefinitions) as Props[];
            f(containers);
            td.props.containerDefinitions = JSON.stringify(containers);
            return rs;
        };
        const is = (cs: Props[]) => cs.find((c) => c.name === "wso2is")!;

        before(function () {
            assert.ok(resources.has("ecs-dev"), "these cases edit the ecs-dev stack's resources");
        });

        it("passes as synthesized: secrets only as valueFrom, no privileged container", async function () {
            for (const name of ["aws-ecs-no-plaintext-secrets", "aws-ecs-no-privileged-containers"]) {
                const r = await run(name, base());
                assert.equal(r.status, "ok", `${name}: ${messages(r)}`);
            }
        });

        it("a password moved from secrets into the IS container's environment", async function () {
            const rs = editContainers(base(), (cs) => {
                const c = is(cs);
                c.secrets = c.secrets.filter((x: Props) => x.name !== "WSO2_DB_PASSWORD");
                c.environment.push({ name: "WSO2_DB_PASSWORD", value: "hunter2-but-longer" });
            });
            const r = await run("aws-ecs-no-plaintext-secrets", rs);
            assert.equal(r.status, "violations", messages(r));
            assert.match(messages(r), /wso2is: environment WSO2_DB_PASSWORD holds a literal value/);
        });

        it("a literal password inside the deployment.toml handed over in DEPLOYMENT_TOML_B64", async function () {
            const rs = editContainers(base(), (cs) => {
                const c = cs.find((x) => x.name === "config")!;
                const e = c.environment.find((x: Props) => x.name === "DEPLOYMENT_TOML_B64");
                const toml = Buffer.from(e.value, "base64").toString("utf8");
                assert.ok(toml.includes('password = "$env{WSO2_DB_PASSWORD}"'));
                e.value = Buffer.from(
                    toml.replace('password = "$env{WSO2_DB_PASSWORD}"', 'password = "hunter2"'),
                ).toString("base64");
            });
            const r = await run("aws-ecs-no-plaintext-secrets", rs);
            assert.equal(r.status, "violations", messages(r));
            assert.match(messages(r), /DEPLOYMENT_TOML_B64 line \d+ holds a literal value for password/);
        });

        it("a privileged IS container, and an init container with SYS_ADMIN", async function () {
            const r1 = await run(
                "aws-ecs-no-privileged-containers",
                editContainers(base(), (cs) => (is(cs).privileged = true)),
            );
            assert.equal(r1.status, "violations", messages(r1));
            const r2 = await run(
                "aws-ecs-no-privileged-containers",
                editContainers(base(), (cs) => cs[0].linuxParameters.capabilities.add.push("SYS_ADMIN")),
            );
            assert.equal(r2.status, "violations", messages(r2));
        });

        it("IMDSv1 on the container instances, tasks not spread over zones, one task", async function () {
            const rs1 = base();
            rs1.filter((r) => r.type === "aws:ec2/launchTemplate:LaunchTemplate").forEach(
                (r) => (r.props.metadataOptions.httpTokens = "optional"),
            );
            assert.equal((await run("aws-ec2-imdsv2-required", rs1)).status, "violations");
            const rs2 = base();
            const svc = rs2.find((r) => r.type === "aws:ecs/service:Service")!;
            svc.props.orderedPlacementStrategies = [{ type: "binpack", field: "memory" }];
            const spread = await run("wso2is-zone-spread", rs2);
            assert.equal(spread.status, "violations", messages(spread));
            assert.match(messages(spread), /attribute:ecs.availability-zone/);
            svc.props.desiredCount = 1;
            assert.equal((await run("wso2is-min-nodes", rs2)).status, "violations");
        });
    });

    it("resource policies ignore component resources (only custom resources are analyzed)", function () {
        for (const p of policies.filter(isResourcePolicy)) {
            for (const [stack, byPolicy] of results) {
                for (const v of byPolicy.get(p.name)!.violations)
                    assert.ok(!/^wso2is:/.test(v.message), `${stack} ${p.name}: ${v.message}`);
            }
        }
    });
});
