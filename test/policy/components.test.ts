// Component resources straight from the mock engine (test/setup.ts), with their inputs exactly
// as the program registers them (no synth redaction or markers): the AWS cluster (its user data
// gzip'd and base64'd as EC2 receives it) in dev and production through every policy, and the
// Kubernetes workload (components/kubernetes), which has no example stack yet, through every
// Kubernetes policy and the cross-cloud ones that apply to a workload on its own (its database
// belongs to the aks target).
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { AwsCluster } from "../../components/aws";
import { Workload } from "../../components/kubernetes";
import { kubernetesPolicies, policies } from "../../policy/policies";
import * as stack from "../../policy/stack";
import { configFor } from "../fixtures/models";
import { resourcesNamed } from "../harness";
import { Props, StackResourceInput, effective, messages, runPolicy } from "./harness";

/** The SDK's serialized secret ({ sig, value }) as the analyzer sees it: the plain value. */
function unwrap(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(unwrap);
    if (typeof v !== "object" || v === null) return v;
    const o = v as Record<string, unknown>;
    if (o["4dabf18193072939515e22adb298388d"] === "1b47061264138c4ac30d75fd1eb44270") return unwrap(o.value);
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, unwrap(x)]));
}

/** Recorded custom resources of a component, as stack resources under one root. */
async function recorded(rootType: string, name: string, prefix: string): Promise<StackResourceInput[]> {
    const root = { type: rootType, name, props: {} };
    return [root, ...(await resourcesNamed(name))
        .filter((r) => r.custom && r.type.startsWith(prefix))
        .map((r) => ({ type: r.type, name: r.name, parent: `${rootType}::${name}`, props: unwrap(r.inputs) as Props }))];
}

describe("policy: component resources under the mock engine", function () {
    for (const production of [false, true]) {
        describe(`aws cluster (${production ? "production, with config.production.json" : "dev"})`, function () {
            let resources: StackResourceInput[] = [];
            const name = production ? "apolprod" : "apoldev";

            before(async function () {
                const extra: Record<string, string> = production
                    ? { production: "true", nodes: "3", dbBackupDays: "14", certificate: "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789" }
                    : {};
                const cluster = new AwsCluster(name, { config: configFor("aws", extra), region: "eu-west-1" });
                await new Promise((resolve) => cluster.cloudInit.apply(resolve));
                resources = await recorded("wso2is:aws:Cluster", name, "aws:");
                const lt = resources.find((r) => r.type === "aws:ec2/launchTemplate:LaunchTemplate");
                assert.ok(lt && Buffer.from(lt.props.userData, "base64").subarray(0, 2).equals(Buffer.from([0x1f, 0x8b])), "the launch template carries gzip'd user data");
            });

            it("passes every policy at its effective level", async function () {
                const failures: string[] = [];
                for (const p of policies) {
                    const r = await runPolicy(p, resources, { config: effective(p, production).config });
                    if (r.status === "violations" || r.status === "unknown") failures.push(`${p.name} (${effective(p, production).level}): ${messages(r)}`);
                }
                assert.deepEqual(failures, [], failures.join("\n"));
            });

            it("the user-data policies read the gzip'd launch template", async function () {
                for (const p of [stack.noSecretsInUserData, stack.consistentNodeConfig, stack.minNodes]) {
                    const r = await runPolicy(p, resources, {});
                    assert.equal(r.status, "ok", `${p.name}: ${messages(r)}`);
                }
            });
        });
    }

    describe("kubernetes workload", function () {
        let resources: StackResourceInput[] = [];

        before(async function () {
            const name = "kpol";
            const provider = new k8s.Provider(`${name}-k8s`, { kubeconfig: "<platform:kubeconfig>" });
            const workload = new Workload(name, {
                config: configFor("aks"),
                provider,
                database: { host: "wso2is-x.mysql.database.azure.com", port: 3306, adminUser: "wso2admin", tls: true },
                passwords: { dbAdmin: pulumi.secret("db-admin-pw"), dbApp: pulumi.secret("db-app-pw"), admin: pulumi.secret("is-admin-pw") },
                storageClassName: "azurefile-csi",
                ingress: { installController: true, controllerNamespace: "traefik", ingressClassName: "traefik", tls: { source: "pem", certPem: "CERT", keyPem: "KEY" } },
            });
            await new Promise((resolve) => workload.deploymentToml.apply(resolve));
            const root = { type: "wso2is:kubernetes:Workload", name, props: {} };
            resources = [root, ...(await resourcesNamed(name))
                .filter((r) => r.custom && r.type.startsWith("kubernetes:"))
                .map((r) => ({ type: r.type, name: r.name, parent: `${root.type}::${name}`, props: unwrap(r.inputs) as Props }))];
            assert.ok(resources.some((r) => r.type === "kubernetes:apps/v1:Deployment"), "the workload registered its Deployment");
        });

        for (const p of kubernetesPolicies) {
            it(`passes ${p.name} (${p.enforcementLevel})`, async function () {
                const r = await runPolicy(p, resources);
                assert.equal(r.status, "ok", messages(r));
            });
        }

        for (const p of [stack.minNodes, stack.zoneSpread, stack.consistentNodeConfig]) {
            it(`passes ${p.name} (${p.enforcementLevel})`, async function () {
                const r = await runPolicy(p, resources);
                assert.equal(r.status, "ok", messages(r));
            });
        }
    });
});
