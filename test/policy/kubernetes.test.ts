// Kubernetes policies: a passing and a violating case for each, on props shaped like the
// objects components/kubernetes creates.
import { strict as assert } from "assert";
import * as k8s from "../../policy/kubernetes";
import { deployment, restricted, selector } from "./fixtures";
import { Props, RunResult, messages, runResource, runStack } from "./harness";

const T = k8s.T;

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

const toml = [
    "[server]",
    'hostname = "is.example.com"',
    'node_ip = "$env{NODE_IP}"',
    "[super_admin]",
    'username = "admin"',
    'password = "$env{WSO2_ADMIN_PASSWORD}"',
    "[database.identity_db]",
    'url = "jdbc:mysql://db.example.internal:3306/WSO2IS_IDENTITY_DB?sslMode=REQUIRED"',
    'username = "wso2is"',
    'password = "$env{WSO2_DB_PASSWORD}"',
    "[clustering]",
    'membership_scheme = "kubernetes"',
    "",
].join("\n");

describe("policy: kubernetes", function () {
    describe("k8s-configmap-no-secrets", function () {
        it("passes a deployment.toml with $env{...} placeholders and plain settings", async function () {
            ok(
                await runResource(k8s.configMapNoSecrets, {
                    type: T.configMap,
                    props: {
                        data: {
                            "deployment.toml": toml,
                            "db-init.env": "DB_HOST='db'\nDB_PORT='3306'\n",
                            LOG_LEVEL: "info",
                        },
                    },
                }),
            );
        });
        it("flags a literal password in the TOML, a secret-named key, a PEM key and an AccountKey", async function () {
            violates(
                await runResource(k8s.configMapNoSecrets, {
                    type: T.configMap,
                    props: { data: { "deployment.toml": toml.replace("$env{WSO2_DB_PASSWORD}", "hunter2") } },
                }),
                /deployment\.toml"\] line 10: a literal value for password/,
            );
            violates(
                await runResource(k8s.configMapNoSecrets, {
                    type: T.configMap,
                    props: { data: { DB_PASSWORD: "hunter2" } },
                }),
                /named like a secret/,
            );
            violates(
                await runResource(k8s.configMapNoSecrets, {
                    type: T.configMap,
                    props: {
                        data: {
                            "tls.key":
                                "-----BEGIN RSA PRIVATE KEY-----\nMIIE...\n-----END RSA PRIVATE KEY-----\n",
                        },
                    },
                }),
                /PEM private key/,
            );
            violates(
                await runResource(k8s.configMapNoSecrets, {
                    type: T.configMap,
                    props: {
                        data: {
                            storage:
                                "DefaultEndpointsProtocol=https;AccountName=x;AccountKey=abc123==;EndpointSuffix=core.windows.net",
                        },
                    },
                }),
                /AccountKey/,
            );
        });
        it("flags AWS static keys in a Hazelcast config", async function () {
            violates(
                await runResource(k8s.configMapNoSecrets, {
                    type: T.configMap,
                    props: {
                        data: {
                            "deployment.toml": `${toml}[clustering.properties]\naccessKey = "AKIAABCDEFGHIJKLMNOP"\n`,
                        },
                    },
                }),
                /AWS access key id|static cloud key/,
            );
        });
    });

    describe("k8s-probes", function () {
        it("passes startup, readiness and liveness probes", async function () {
            ok(await runResource(k8s.workloadProbes, { type: T.deployment, props: deployment() }));
        });
        it("flags a missing probe", async function () {
            violates(
                await runResource(k8s.workloadProbes, {
                    type: T.statefulSet,
                    props: deployment({ container: { startupProbe: undefined, livenessProbe: undefined } }),
                }),
                /container 'wso2is' has no startupProbe, livenessProbe/,
            );
        });
    });

    describe("k8s-resources", function () {
        it("passes requests and limits on every container", async function () {
            ok(await runResource(k8s.workloadResources, { type: T.deployment, props: deployment() }));
        });
        it("flags missing limits", async function () {
            violates(
                await runResource(k8s.workloadResources, {
                    type: T.deployment,
                    props: deployment({
                        container: { resources: { requests: { cpu: "1", memory: "1Gi" } } },
                    }),
                }),
                /limits\.cpu, limits\.memory/,
            );
        });
    });

    describe("k8s-no-privilege", function () {
        it("passes allowPrivilegeEscalation false everywhere", async function () {
            ok(await runResource(k8s.noPrivilegeEscalation, { type: T.deployment, props: deployment() }));
        });
        it("flags a privileged container and one that leaves escalation on (the default)", async function () {
            violates(
                await runResource(k8s.noPrivilegeEscalation, {
                    type: T.deployment,
                    props: deployment({
                        container: { securityContext: { ...restricted, privileged: true } },
                    }),
                }),
                /is privileged/,
            );
            violates(
                await runResource(k8s.noPrivilegeEscalation, {
                    type: T.pod,
                    props: { spec: { containers: [{ name: "x", image: "busybox" }] } },
                }),
                /allowPrivilegeEscalation/,
            );
        });
    });

    describe("k8s-run-as-non-root", function () {
        it("passes runAsNonRoot on the pod or the container", async function () {
            ok(await runResource(k8s.runAsNonRoot, { type: T.deployment, props: deployment() }));
            ok(
                await runResource(k8s.runAsNonRoot, {
                    type: T.deployment,
                    props: deployment({ pod: { securityContext: {} } }),
                }),
            );
        });
        it("flags no runAsNonRoot and runAsUser 0", async function () {
            violates(
                await runResource(k8s.runAsNonRoot, {
                    type: T.cronJob,
                    props: {
                        spec: {
                            jobTemplate: {
                                spec: {
                                    template: { spec: { containers: [{ name: "x", image: "busybox" }] } },
                                },
                            },
                        },
                    },
                }),
                /runAsNonRoot/,
            );
            violates(
                await runResource(k8s.runAsNonRoot, {
                    type: T.deployment,
                    props: deployment({ container: { securityContext: { ...restricted, runAsUser: 0 } } }),
                }),
                /runAsUser 0/,
            );
        });
    });

    describe("k8s-replicas-and-pdb (stack)", function () {
        const cm = {
            type: T.configMap,
            name: "c1-config",
            props: {
                metadata: { name: "wso2is-config", namespace: "wso2is" },
                data: { "deployment.toml": toml },
            },
        };
        const pdb = (spec: Props, namespace = "wso2is") => ({
            type: T.pdb,
            name: "c1-pdb",
            props: { metadata: { name: "wso2is", namespace }, spec },
        });
        it("passes 2 replicas with a PDB selecting the pods (maxUnavailable 1)", async function () {
            ok(
                await runStack(k8s.replicasAndPdb, [
                    cm,
                    { type: T.deployment, name: "c1-is", props: deployment() },
                    pdb({ maxUnavailable: 1, selector: { matchLabels: selector } }),
                ]),
            );
        });
        it("recognises the IS workload by image alone", async function () {
            const d = deployment({ pod: { volumes: [] } });
            violates(
                await runStack(k8s.replicasAndPdb, [{ type: T.deployment, name: "c1-is", props: d }]),
                /no PodDisruptionBudget/,
            );
        });
        it("flags 1 replica, a PDB in another namespace or not selecting the pods, and a PDB that blocks drains", async function () {
            violates(
                await runStack(k8s.replicasAndPdb, [
                    cm,
                    { type: T.deployment, name: "c1-is", props: deployment({ replicas: 1 }) },
                    pdb({ maxUnavailable: 1, selector: { matchLabels: selector } }),
                ]),
                /runs 1 replica/,
            );
            violates(
                await runStack(k8s.replicasAndPdb, [
                    cm,
                    { type: T.deployment, name: "c1-is", props: deployment() },
                    pdb({ maxUnavailable: 1, selector: { matchLabels: selector } }, "other"),
                ]),
                /no PodDisruptionBudget/,
            );
            violates(
                await runStack(k8s.replicasAndPdb, [
                    cm,
                    { type: T.deployment, name: "c1-is", props: deployment() },
                    pdb({ maxUnavailable: 1, selector: { matchLabels: { app: "other" } } }),
                ]),
                /no PodDisruptionBudget/,
            );
            violates(
                await runStack(k8s.replicasAndPdb, [
                    cm,
                    { type: T.deployment, name: "c1-is", props: deployment() },
                    pdb({ minAvailable: 2, selector: { matchLabels: selector } }),
                ]),
                /minAvailable 2 with 2 replicas/,
            );
            violates(
                await runStack(k8s.replicasAndPdb, [
                    cm,
                    { type: T.deployment, name: "c1-is", props: deployment() },
                    pdb({
                        maxUnavailable: 0,
                        selector: {
                            matchExpressions: [
                                { key: "app.kubernetes.io/name", operator: "In", values: ["wso2is"] },
                            ],
                        },
                    }),
                ]),
                /maxUnavailable 0/,
            );
        });
        it("reads minReplicas from config", async function () {
            violates(
                await runStack(
                    k8s.replicasAndPdb,
                    [
                        cm,
                        { type: T.deployment, name: "c1-is", props: deployment() },
                        pdb({ maxUnavailable: 1, selector: { matchLabels: selector } }),
                    ],
                    { config: { minReplicas: 3 } },
                ),
                /at least 3/,
            );
        });
        it("is not applicable to workloads that are not IS", async function () {
            assert.equal(
                (
                    await runStack(k8s.replicasAndPdb, [
                        {
                            type: T.deployment,
                            name: "tool",
                            props: {
                                spec: {
                                    replicas: 1,
                                    template: { spec: { containers: [{ name: "t", image: "busybox" }] } },
                                },
                            },
                        },
                    ])
                ).status,
                "n/a",
            );
        });
    });
});
