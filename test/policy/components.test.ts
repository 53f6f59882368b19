// Component resources straight from the mock engine (test/setup.ts), with their inputs exactly
// as the program registers them (no synth redaction or markers): the AWS cluster (its user data
// gzip'd and base64'd as EC2 receives it) and the Azure VM cluster (NFS, SMB and own-NFS shares)
// in dev and production through every policy, and the
// Kubernetes workload (components/kubernetes), which has no example stack yet, through every
// Kubernetes policy and the cross-cloud ones that apply to a workload on its own (its database
// belongs to the aks target).
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { AwsCluster } from "../../components/ec2";
import { AzureVmCluster } from "../../components/azure-vm";
import { Workload } from "../../components/kubernetes";
import { kubernetesPolicies, policies } from "../../policy/policies";
import * as stack from "../../policy/stack";
import { configFor, workloadKeys } from "../fixtures/models";
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
    return [
        root,
        ...(await resourcesNamed(name))
            .filter((r) => r.custom && r.type.startsWith(prefix))
            .map((r) => ({
                type: r.type,
                name: r.name,
                parent: `${rootType}::${name}`,
                props: unwrap(r.inputs) as Props,
            })),
    ];
}

describe("policy: component resources under the mock engine", function () {
    for (const production of [false, true]) {
        describe(`aws cluster (${production ? "production, with config.production.json" : "dev"})`, function () {
            let resources: StackResourceInput[] = [];
            const name = production ? "apolprod" : "apoldev";

            before(async function () {
                const extra: Record<string, string> = production
                    ? {
                          production: "true",
                          nodes: "3",
                          dbBackupDays: "14",
                          certificate:
                              "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789",
                      }
                    : {};
                const cluster = new AwsCluster(name, {
                    config: configFor("aws", extra),
                    region: "eu-west-1",
                });
                await new Promise((resolve) => cluster.cloudInit.apply(resolve));
                resources = await recorded("wso2is:aws:Cluster", name, "aws:");
                const lt = resources.find((r) => r.type === "aws:ec2/launchTemplate:LaunchTemplate");
                assert.ok(
                    lt &&
                        Buffer.from(lt.props.userData, "base64")
                            .subarray(0, 2)
                            .equals(Buffer.from([0x1f, 0x8b])),
                    "the launch template carries gzip'd user data",
                );
            });

            it("passes every policy at its effective level", async function () {
                const failures: string[] = [];
                for (const p of policies) {
                    const r = await runPolicy(p, resources, { config: effective(p, production).config });
                    if (r.status === "violations" || r.status === "unknown")
                        failures.push(`${p.name} (${effective(p, production).level}): ${messages(r)}`);
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

    const kvCertificate = "https://acme-certs.vault.azure.net/secrets/login-example-com";
    const azureVariants: {
        label: string;
        production: boolean;
        extra: Record<string, string>;
        policyConfig?: Record<string, Record<string, unknown>>;
    }[] = [
        { label: "dev (Azure Files NFS)", production: false, extra: {} },
        {
            label: "production, with config.production.json",
            production: true,
            extra: { production: "true", nodes: "3", certificate: kvCertificate, dbBackupDays: "14" },
        },
        { label: "Azure Files SMB", production: false, extra: { sharedFs: "azure-files-smb" } },
        {
            label: "own NFS server (allowExternalSharedFs)",
            production: false,
            extra: { sharedFs: "nfs", sharedFsAddress: "nfs.internal.example.com:/exports/wso2is" },
            policyConfig: { "wso2is-single-database-and-share": { allowExternalSharedFs: true } },
        },
    ];
    const mustRun = (production: boolean) => [
        "azure-mysql-private",
        "azure-mysql-tls-required",
        "azure-nsg-no-public-sensitive-ports",
        "azure-vm-managed-identity",
        "azure-vm-ssh-keys-only",
        "azure-appgw-https",
        "azure-appgw-cookie-affinity",
        "azure-keyvault-soft-delete-retention",
        "azure-keyvault-item-deletion-path",
        "wso2is-min-nodes",
        "wso2is-zone-spread",
        "wso2is-single-database-and-share",
        "wso2is-consistent-node-config",
        "wso2is-no-secrets-in-user-data",
        ...(production ? ["azure-mysql-production-ha", "azure-keyvault-purge-protection"] : []),
    ];
    azureVariants.forEach((v, i) => {
        describe(`azure vm cluster (${v.label})`, function () {
            let resources: StackResourceInput[] = [];
            const name = `azpol${i}`;

            before(async function () {
                const cluster = new AzureVmCluster(name, {
                    config: configFor("azure", v.extra),
                    location: "westeurope",
                });
                await new Promise((resolve) => cluster.cloudInit.apply(resolve));
                resources = await recorded("wso2is:azure:VmCluster", name, "azure-native:");
                assert.ok(
                    resources.filter((r) => r.type === "azure-native:compute:VirtualMachine").length >= 2,
                    "the cluster registered its VMs",
                );
            });

            it("passes every policy at its effective level", async function () {
                const failures: string[] = [];
                for (const p of policies) {
                    const config = {
                        ...effective(p, v.production).config,
                        ...(v.policyConfig?.[p.name] ?? {}),
                    };
                    const r = await runPolicy(p, resources, { config });
                    if (r.status === "violations" || r.status === "unknown")
                        failures.push(`${p.name} (${effective(p, v.production).level}): ${messages(r)}`);
                    if (r.status === "n/a" && mustRun(v.production).includes(p.name))
                        failures.push(`${p.name} found nothing to check`);
                }
                assert.deepEqual(failures, [], failures.join("\n"));
            });
        });
    });

    describe("kubernetes workload", function () {
        let resources: StackResourceInput[] = [];

        before(async function () {
            const name = "kpol";
            const provider = new k8s.Provider(`${name}-k8s`, { kubeconfig: "<platform:kubeconfig>" });
            const workload = new Workload(name, {
                config: configFor("aks"),
                provider,
                database: {
                    host: "wso2is-x.mysql.database.azure.com",
                    port: 3306,
                    adminUser: "wso2admin",
                    tls: true,
                },
                passwords: {
                    dbAdmin: pulumi.secret("db-admin-pw"),
                    dbApp: pulumi.secret("db-app-pw"),
                    admin: pulumi.secret("is-admin-pw"),
                },
                keys: workloadKeys(),
                storageClassName: "azurefile-csi",
                ingress: {
                    installController: true,
                    controllerNamespace: "traefik",
                    ingressClassName: "traefik",
                    tls: { source: "pem", certPem: "CERT", keyPem: "KEY" },
                },
            });
            await new Promise((resolve) => workload.deploymentToml.apply(resolve));
            const root = { type: "wso2is:kubernetes:Workload", name, props: {} };
            resources = [
                root,
                ...(await resourcesNamed(name))
                    .filter((r) => r.custom && r.type.startsWith("kubernetes:"))
                    .map((r) => ({
                        type: r.type,
                        name: r.name,
                        parent: `${root.type}::${name}`,
                        props: unwrap(r.inputs) as Props,
                    })),
            ];
            assert.ok(
                resources.some((r) => r.type === "kubernetes:apps/v1:Deployment"),
                "the workload registered its Deployment",
            );
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
