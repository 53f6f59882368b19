// Cross-cloud cluster policies, on user data rendered by the real renderers (components/render)
// from the fixture models, wrapped in the resources each target creates.
import { strict as assert } from "assert";
import * as zlib from "zlib";
import * as YAML from "yaml";
import { T as AWS } from "../../policy/aws";
import { T as AZ } from "../../policy/azure";
import { T as K8S } from "../../policy/kubernetes";
import * as stack from "../../policy/stack";
import { findSecrets } from "../../policy/secrets";
import { renderCloudInit, renderDeploymentToml } from "../../components/render";
import { awsModel, azureModel } from "../fixtures/models";
import { deployment } from "./fixtures";
import {
    Props,
    RunResult,
    StackResourceInput,
    messages,
    runResource,
    runStack,
    stackResources,
} from "./harness";

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

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

const aws = awsModel();
const awsCloudInit = renderCloudInit(aws, aws.nodes[0]);
const azure = azureModel();
const azureCloudInit = azure.nodes.map((n) => renderCloudInit(azure, n));

const awsRoot = { type: "wso2is:aws:Cluster", name: "c1", props: {} };
const under = (r: StackResourceInput, parent = "wso2is:aws:Cluster::c1"): StackResourceInput => ({
    ...r,
    parent,
});

function awsCluster(
    over: {
        asg?: Props;
        userData?: string;
        extra?: StackResourceInput[];
        dbs?: number;
        shares?: number;
    } = {},
): StackResourceInput[] {
    return [
        awsRoot,
        under({
            type: AWS.launchTemplate,
            name: "c1-node",
            props: {
                userData: over.userData ?? b64(awsCloudInit),
                metadataOptions: { httpTokens: "required" },
            },
        }),
        under({
            type: AWS.asg,
            name: "c1-nodes",
            props: {
                desiredCapacity: 2,
                minSize: 2,
                maxSize: 4,
                vpcZoneIdentifiers: ["subnet-a", "subnet-b"],
                launchTemplate: { id: "lt-1", version: "1" },
                ...over.asg,
            },
        }),
        ...Array.from({ length: over.dbs ?? 1 }, (_, i) =>
            under({ type: AWS.rdsInstance, name: `c1-db${i || ""}`, props: { engine: "mysql" } }),
        ),
        ...Array.from({ length: over.shares ?? 1 }, (_, i) =>
            under({ type: AWS.efs, name: `c1-efs${i || ""}`, props: { encrypted: true } }),
        ),
        ...(over.extra ?? []),
    ];
}

const azRoot = { type: "wso2is:azure:Cluster", name: "c2", props: {} };
const vm = (i: number, over: Props = {}): StackResourceInput => ({
    type: AZ.vm,
    name: `c2-node-${i + 1}`,
    parent: "wso2is:azure:Cluster::c2",
    props: {
        identity: { type: "SystemAssigned" },
        zones: [String(i + 1)],
        osProfile: {
            linuxConfiguration: { disablePasswordAuthentication: true },
            customData: b64(azureCloudInit[i]),
        },
        ...over,
    },
});
const azureCluster = (vms: StackResourceInput[] = [vm(0), vm(1)]): StackResourceInput[] => [
    azRoot,
    ...vms,
    {
        type: AZ.mysqlServer,
        name: "c2-mysql",
        parent: "wso2is:azure:Cluster::c2",
        props: { network: { delegatedSubnetResourceId: "/s" } },
    },
    {
        type: AZ.storageAccount,
        name: "c2-files",
        parent: "wso2is:azure:Cluster::c2",
        props: { kind: "FileStorage" },
    },
    {
        type: AZ.fileShare,
        name: "c2-share",
        parent: "wso2is:azure:Cluster::c2",
        props: { enabledProtocols: "NFS" },
    },
];

const k8sToml = renderDeploymentToml(aws, aws.nodes[0]);
const k8sCluster = (d: Props = deployment()): StackResourceInput[] => [
    { type: "wso2is:aks:Cluster", name: "c3", props: {} },
    { type: "wso2is:kubernetes:Workload", name: "c3", parent: "wso2is:aks:Cluster::c3", props: {} },
    { type: AZ.mysqlServer, name: "c3-mysql", parent: "wso2is:aks:Cluster::c3", props: {} },
    {
        type: K8S.configMap,
        name: "c3-config",
        parent: "wso2is:kubernetes:Workload::c3",
        props: {
            metadata: { name: "wso2is-config", namespace: "wso2is" },
            data: { "deployment.toml": k8sToml },
        },
    },
    { type: K8S.deployment, name: "c3-is", parent: "wso2is:kubernetes:Workload::c3", props: d },
    {
        type: "kubernetes:core/v1:PersistentVolumeClaim",
        name: "c3-share",
        parent: "wso2is:kubernetes:Workload::c3",
        props: {
            metadata: { name: "wso2is-share", namespace: "wso2is" },
            spec: { accessModes: ["ReadWriteMany"] },
        },
    },
];

/** A cloud-init whose deployment.toml is edited. */
function editToml(cloudInit: string, edit: (toml: string) => string): string {
    const doc = YAML.parse(cloudInit);
    for (const f of doc.write_files)
        if (String(f.path).endsWith("deployment.toml")) f.content = edit(f.content);
    return `#cloud-config\n${YAML.stringify(doc, { lineWidth: 0 })}`;
}

describe("policy: stack (cross-cloud)", function () {
    it("the rendered user data of every fixture holds no secret (the finder has no false positive on our scripts)", function () {
        for (const text of [awsCloudInit, ...azureCloudInit, k8sToml])
            assert.deepEqual(findSecrets(text), []);
        // A wait's knobs are numbers, not secrets; a secret's own value still is one.
        assert.deepEqual(findSecrets("SECRET_FETCH_RETRIES='60'\nSECRET_FETCH_RETRY_DELAY='10'"), []);
        assert.deepEqual(findSecrets("SECRET_FETCH='60'"), [
            { what: "a literal value for SECRET_FETCH", line: 1 },
        ]);
    });

    it("groups resources by their outermost wso2is component", function () {
        const clusters = stack.clustersOf(
            stackResources([
                ...awsCluster(),
                ...k8sCluster(),
                { type: "random:index/randomString:RandomString", name: "loose", props: {} },
            ]),
        );
        const names = clusters.map((c) => c.root?.name ?? "(stack)").sort();
        assert.deepEqual(names, ["(stack)", "c1", "c3"]);
        const c3 = clusters.find((c) => c.root?.name === "c3")!;
        assert.ok(
            c3.resources.some((r) => r.type === K8S.deployment),
            "the Workload's children belong to the aks cluster",
        );
    });

    describe("wso2is-min-nodes", function () {
        it("passes 2 ASG nodes, 2 VMs and 2 replicas", async function () {
            ok(await runStack(stack.minNodes, awsCluster()));
            ok(await runStack(stack.minNodes, azureCluster()));
            ok(await runStack(stack.minNodes, k8sCluster()));
        });
        it("flags 1 node on each target, and honours minNodes", async function () {
            violates(
                await runStack(stack.minNodes, awsCluster({ asg: { desiredCapacity: 1, minSize: 1 } })),
                /runs 1 IS node/,
            );
            violates(await runStack(stack.minNodes, azureCluster([vm(0)])), /runs 1 IS node/);
            violates(
                await runStack(stack.minNodes, k8sCluster(deployment({ replicas: 1 }))),
                /runs 1 IS node/,
            );
            violates(await runStack(stack.minNodes, awsCluster(), { config: { minNodes: 3 } }), /at least 3/);
        });
        it("flags a cluster component with no IS node at all", async function () {
            violates(
                await runStack(stack.minNodes, [
                    awsRoot,
                    under({ type: AWS.rdsInstance, name: "c1-db", props: {} }),
                ]),
                /no IS nodes were found/,
            );
        });
    });

    describe("wso2is-zone-spread", function () {
        it("passes an ASG over 2 subnets, VMs in zones 1 and 2, and pods with zone anti-affinity", async function () {
            ok(await runStack(stack.zoneSpread, awsCluster()));
            ok(await runStack(stack.zoneSpread, azureCluster()));
            ok(await runStack(stack.zoneSpread, k8sCluster()));
        });
        it("flags an ASG in one subnet, or in two subnets of one zone", async function () {
            violates(
                await runStack(stack.zoneSpread, awsCluster({ asg: { vpcZoneIdentifiers: ["subnet-a"] } })),
                /spans 1 zone/,
            );
            const subnets = [
                {
                    type: "aws:ec2/subnet:Subnet",
                    name: "a",
                    props: { id: "subnet-a", availabilityZone: "eu-west-1a" },
                },
                {
                    type: "aws:ec2/subnet:Subnet",
                    name: "b",
                    props: { id: "subnet-b", availabilityZone: "eu-west-1a" },
                },
            ];
            violates(await runStack(stack.zoneSpread, awsCluster({ extra: subnets })), /spans 1 zone/);
        });
        it("flags VMs in one zone or without zones, and pods without zone spreading", async function () {
            violates(
                await runStack(stack.zoneSpread, azureCluster([vm(0), vm(1, { zones: ["1"] })])),
                /zones \[1, 1\]/,
            );
            violates(
                await runStack(
                    stack.zoneSpread,
                    azureCluster([vm(0, { zones: undefined }), vm(1, { zones: undefined })]),
                ),
                /zones \[none, none\]/,
            );
            violates(
                await runStack(stack.zoneSpread, k8sCluster(deployment({ pod: { affinity: {} } }))),
                /topology\.kubernetes\.io\/zone/,
            );
        });
        it("accepts a topology spread constraint on the zone key", async function () {
            ok(
                await runStack(
                    stack.zoneSpread,
                    k8sCluster(
                        deployment({
                            pod: {
                                affinity: {},
                                topologySpreadConstraints: [
                                    {
                                        maxSkew: 1,
                                        topologyKey: "topology.kubernetes.io/zone",
                                        whenUnsatisfiable: "ScheduleAnyway",
                                    },
                                ],
                            },
                        }),
                    ),
                ),
            );
        });
    });

    describe("wso2is-single-database-and-share", function () {
        it("passes one database and one share per cluster on every target", async function () {
            ok(await runStack(stack.singleDatabaseAndShare, awsCluster()));
            ok(await runStack(stack.singleDatabaseAndShare, azureCluster()));
            ok(await runStack(stack.singleDatabaseAndShare, k8sCluster()));
        });
        it("does not count a read replica", async function () {
            ok(
                await runStack(
                    stack.singleDatabaseAndShare,
                    awsCluster({
                        extra: [
                            under({
                                type: AWS.rdsInstance,
                                name: "c1-replica",
                                props: { replicateSourceDb: "c1-db" },
                            }),
                        ],
                    }),
                ),
            );
        });
        it("flags two databases, two shares and no share", async function () {
            violates(
                await runStack(stack.singleDatabaseAndShare, awsCluster({ dbs: 2 })),
                /2 database servers/,
            );
            violates(
                await runStack(stack.singleDatabaseAndShare, awsCluster({ shares: 2 })),
                /2 shared file systems/,
            );
            violates(
                await runStack(stack.singleDatabaseAndShare, awsCluster({ shares: 0 })),
                /0 shared file systems/,
            );
        });
        it("accepts an external share with allowExternalSharedFs", async function () {
            ok(
                await runStack(stack.singleDatabaseAndShare, awsCluster({ shares: 0 }), {
                    config: { allowExternalSharedFs: true },
                }),
            );
        });
    });

    describe("wso2is-consistent-node-config", function () {
        it("passes WKA nodes that differ only in their own address", async function () {
            assert.notEqual(azureCloudInit[0], azureCloudInit[1]);
            ok(await runStack(stack.consistentNodeConfig, azureCluster()));
            ok(await runStack(stack.consistentNodeConfig, awsCluster()));
            ok(await runStack(stack.consistentNodeConfig, k8sCluster()));
        });
        it("flags a node with another membership scheme, another database host, other WKA members, or broken TOML", async function () {
            const variant = (edit: (t: string) => string) =>
                azureCluster([
                    vm(0),
                    vm(1, { osProfile: { customData: b64(editToml(azureCloudInit[1], edit)) } }),
                ]);
            violates(
                await runStack(
                    stack.consistentNodeConfig,
                    variant((t) => t.replace('membership_scheme = "wka"', 'membership_scheme = "multicast"')),
                ),
                /membership scheme multicast/,
            );
            violates(
                await runStack(
                    stack.consistentNodeConfig,
                    variant((t) =>
                        t
                            .split("wso2is-azdev.mysql.database.azure.com")
                            .join("other.mysql.database.azure.com"),
                    ),
                ),
                /points at databases/,
            );
            violates(
                await runStack(
                    stack.consistentNodeConfig,
                    variant((t) => t.replace('"10.41.1.5:4000"', '"10.41.1.9:4000"')),
                ),
                /Hazelcast members/,
            );
            violates(
                await runStack(
                    stack.consistentNodeConfig,
                    variant((t) => `${t}\n[broken\n`),
                ),
                /does not parse/,
            );
        });
        it("reads gzip'd user data too", async function () {
            const gz = zlib
                .gzipSync(
                    Buffer.from(
                        editToml(azureCloudInit[1], (t) =>
                            t.replace('membership_scheme = "wka"', 'membership_scheme = "aws"'),
                        ),
                    ),
                )
                .toString("base64");
            violates(
                await runStack(
                    stack.consistentNodeConfig,
                    azureCluster([vm(0), vm(1, { osProfile: { customData: gz } })]),
                ),
                /membership scheme aws/,
            );
        });
    });

    describe("wso2is-no-secrets-in-user-data", function () {
        it("passes the rendered user data of both VM targets", async function () {
            ok(
                await runResource(stack.noSecretsInUserData, {
                    type: AWS.launchTemplate,
                    props: { userData: b64(awsCloudInit) },
                }),
            );
            ok(
                await runResource(stack.noSecretsInUserData, {
                    type: AZ.vm,
                    props: { osProfile: { customData: b64(azureCloudInit[0]) } },
                }),
            );
            ok(
                await runResource(stack.noSecretsInUserData, {
                    type: AWS.instance,
                    props: { userData: awsCloudInit },
                }),
            );
        });
        it("is not applicable to other types", async function () {
            assert.equal(
                (await runResource(stack.noSecretsInUserData, { type: AWS.efs, props: {} })).status,
                "n/a",
            );
        });
        it("flags a literal password in deployment.toml", async function () {
            const text = editToml(awsCloudInit, (t) =>
                t.replace('password = "$env{WSO2_DB_PASSWORD}"', 'password = "hunter2"'),
            );
            violates(
                await runResource(stack.noSecretsInUserData, {
                    type: AWS.launchTemplate,
                    props: { userData: b64(text) },
                }),
                /a literal value for password/,
            );
        });
        it("flags static AWS keys in the clustering properties", async function () {
            const text = editToml(awsCloudInit, (t) =>
                t.replace(
                    'iamRole = "wso2is-dev-node"',
                    'accessKey = "AKIAABCDEFGHIJKLMNOP"\nsecretKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"',
                ),
            );
            const r = await runResource(stack.noSecretsInUserData, {
                type: AWS.launchTemplate,
                props: { userData: b64(text) },
            });
            violates(r, /AWS access key id/);
            violates(r, /static cloud key \(secretKey\)/);
        });
        it("flags a PEM private key and a storage AccountKey, also inside base64 write_files", async function () {
            const doc = YAML.parse(azureCloudInit[0]);
            doc.write_files.push({
                path: "/etc/ssl/private/is.key",
                encoding: "b64",
                content: b64("-----BEGIN PRIVATE KEY-----\nMIIEv...\n-----END PRIVATE KEY-----\n"),
            });
            doc.write_files.push({
                path: "/etc/wso2is/share.cred",
                content:
                    "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=c2VjcmV0;EndpointSuffix=core.windows.net\n",
            });
            const r = await runResource(stack.noSecretsInUserData, {
                type: AZ.vm,
                props: { osProfile: { customData: b64(`#cloud-config\n${YAML.stringify(doc)}`) } },
            });
            violates(r, /-> \/etc\/ssl\/private\/is\.key line 1: a PEM private key/);
            violates(r, /AccountKey/);
        });
        it("flags a password in a shell script's user data", async function () {
            violates(
                await runResource(stack.noSecretsInUserData, {
                    type: AWS.instance,
                    props: { userDataBase64: b64("#!/bin/bash\nexport DB_PASSWORD=hunter2\n") },
                }),
                /DB_PASSWORD/,
            );
        });
    });
});
