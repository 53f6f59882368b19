// Component resources straight from the mock engine (test/setup.ts), for targets that have no
// example stack yet: the Kubernetes workload (components/kubernetes) through every Kubernetes
// and cross-cloud policy that applies to a workload on its own. The database and the cluster
// itself belong to the aks target, which the example-stack test covers once its stack exists.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { Workload } from "../../components/kubernetes";
import { kubernetesPolicies } from "../../policy/policies";
import * as stack from "../../policy/stack";
import { configFor } from "../fixtures/models";
import { resourcesNamed } from "../harness";
import { Props, StackResourceInput, messages, runPolicy } from "./harness";

/** The SDK's serialized secret ({ sig, value }) as the analyzer sees it: the plain value. */
function unwrap(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(unwrap);
    if (typeof v !== "object" || v === null) return v;
    const o = v as Record<string, unknown>;
    if (o["4dabf18193072939515e22adb298388d"] === "1b47061264138c4ac30d75fd1eb44270") return unwrap(o.value);
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, unwrap(x)]));
}

describe("policy: component resources under the mock engine", function () {
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
