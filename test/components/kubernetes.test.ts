import * as crypto from "crypto";
// wso2is:kubernetes:Workload under the mock engine, on an explicit provider built from a
// platform-supplied kubeconfig.
import * as assert from "assert";
import * as TOML from "@iarna/toml";
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { Workload } from "../../components/kubernetes";
import * as lifecycle from "../../components/kubernetes/lifecycle";
import { standaloneScriptText } from "../../components/render/scripts";
import { configFor, workloadKeys } from "../fixtures/models";
import { engine, ofType, one, promiseOf, resourcesNamed } from "../harness";

const K = {
    ns: "kubernetes:core/v1:Namespace",
    sa: "kubernetes:core/v1:ServiceAccount",
    role: "kubernetes:rbac.authorization.k8s.io/v1:Role",
    binding: "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
    cm: "kubernetes:core/v1:ConfigMap",
    secret: "kubernetes:core/v1:Secret",
    pvc: "kubernetes:core/v1:PersistentVolumeClaim",
    deploy: "kubernetes:apps/v1:Deployment",
    pdb: "kubernetes:policy/v1:PodDisruptionBudget",
    svc: "kubernetes:core/v1:Service",
    netpol: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    ingress: "kubernetes:networking.k8s.io/v1:Ingress",
    release: "kubernetes:helm.sh/v3:Release",
    transport: "kubernetes:traefik.io/v1alpha1:ServersTransport",
};

async function build(name: string, extra: Record<string, string> = {}, adminPassword = "is-admin-pw-XYZ") {
    const provider = new k8s.Provider(`${name}-k8s`, { kubeconfig: "<platform:kubeconfig>" });
    const protects = new Map<string, boolean | undefined>();
    const workload = new Workload(
        name,
        {
            config: configFor("aks", extra),
            provider,
            database: {
                host: "wso2is-x.mysql.database.azure.com",
                port: 3306,
                adminUser: "wso2admin",
                tls: true,
            },
            passwords: {
                dbAdmin: pulumi.secret("db-admin-pw-XYZ"),
                dbApp: pulumi.secret("db-app-pw-XYZ"),
                admin: pulumi.secret(adminPassword),
            },
            keys: workloadKeys(),
            storageClassName: "azurefile-csi",
            ingress: {
                installController: true,
                controllerNamespace: "traefik",
                ingressClassName: "traefik",
                tls: { source: "pem", certPem: "CERT", keyPem: "KEY-PEM-XYZ" },
            },
        },
        {
            transformations: [
                (a) => {
                    protects.set(`${a.type}::${a.name}`, (a.opts as pulumi.CustomResourceOptions).protect);
                    return undefined;
                },
            ],
        },
    );
    const toml = await promiseOf(workload.deploymentToml);
    const resources = await resourcesNamed(name);
    return { workload, toml, resources, protects, providerUrn: await promiseOf(provider.urn) };
}

describe("kubernetes workload (wso2is:kubernetes:Workload)", function () {
    let w: Awaited<ReturnType<typeof build>>;
    before(async function () {
        w = await build("kdev");
    });

    it("creates each object once, all through the explicit provider", function () {
        const count = (t: string) => ofType(w.resources, t).length;
        assert.deepStrictEqual(
            [
                count(K.ns),
                count(K.sa),
                count(K.role),
                count(K.binding),
                count(K.cm),
                count(K.deploy),
                count(K.pdb),
                count(K.svc),
                count(K.netpol),
                count(K.ingress),
                count(K.pvc),
                count(K.release),
            ],
            [2, 1, 1, 1, 1, 1, 1, 2, 1, 1, 1, 1],
        );
        const k8sObjects = w.resources.filter((r) => r.type.startsWith("kubernetes:"));
        assert.ok(k8sObjects.length >= 15);
        for (const r of k8sObjects)
            assert.ok(r.provider?.startsWith(`${w.providerUrn}::`), `${r.type} ${r.name} uses ${r.provider}`);
    });

    it("RBAC: get/list on endpoints, pods and endpointslices, nothing else", function () {
        const rules = one(w.resources, K.role).inputs.rules;
        assert.deepStrictEqual(rules, [
            { apiGroups: [""], resources: ["endpoints", "pods"], verbs: ["get", "list"] },
            { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["get", "list"] },
        ]);
        const binding = one(w.resources, K.binding).inputs;
        assert.deepStrictEqual(
            [binding.roleRef.kind, binding.subjects[0].kind, binding.subjects[0].name],
            ["Role", "ServiceAccount", "wso2is"],
        );
    });

    it("the ConfigMap holds the kubernetes-membership deployment.toml and no secret", function () {
        const data = one(w.resources, K.cm).inputs.data;
        assert.strictEqual(data["deployment.toml"], w.toml);
        const doc = TOML.parse(w.toml) as any;
        assert.deepStrictEqual(doc.clustering.properties, {
            KUBERNETES_NAMESPACE: "wso2is",
            KUBERNETES_SERVICES: "wso2is-hazelcast",
        });
        assert.strictEqual(doc.clustering.membership_scheme, "kubernetes");
        assert.strictEqual(doc.server.node_ip, "$env{NODE_IP}");
        const all = JSON.stringify(data);
        for (const s of [
            "db-admin-pw-XYZ",
            "db-app-pw-XYZ",
            "is-admin-pw-XYZ",
            "KEY-PEM-XYZ",
            "signing-key-XYZ",
            "signing-pw-XYZ",
            "0123456789abcdef0123456789abcdef",
        ])
            assert.ok(!all.includes(s), `${s} in the ConfigMap`);
        assert.match(data["db-init.env"], /^DB_HOST='wso2is-x.mysql.database.azure.com'$/m);
    });

    it("passwords reach the pods only from the Secret", function () {
        const secret = ofType(w.resources, K.secret).find((s) => s.name === "kdev-secrets")!;
        // The engine receives stringData as a secret (wrapped with Pulumi's secret signature).
        const sd = secret.inputs.stringData;
        assert.strictEqual(
            sd["4dabf18193072939515e22adb298388d"],
            "1b47061264138c4ac30d75fd1eb44270",
            "stringData is a Pulumi secret",
        );
        assert.strictEqual(sd.value.WSO2_DB_PASSWORD, "db-app-pw-XYZ");
        const container = one(w.resources, K.deploy).inputs.spec.template.spec.containers[0];
        const env = Object.fromEntries(container.env.map((e: any) => [e.name, e]));
        assert.deepStrictEqual(env.WSO2_DB_PASSWORD.valueFrom.secretKeyRef, {
            name: "wso2is-secrets",
            key: "WSO2_DB_PASSWORD",
        });
        assert.deepStrictEqual(env.NODE_IP.valueFrom.fieldRef, { fieldPath: "status.podIP" });
        assert.ok(!JSON.stringify(one(w.resources, K.deploy).inputs).includes("pw-XYZ"));
    });

    it("the cluster's own keys: the Secret holds them, an init container builds the keystore in memory", function () {
        const sd = ofType(w.resources, K.secret).find((s) => s.name === "kdev-secrets")!.inputs.stringData
            .value;
        assert.strictEqual(sd.WSO2_ENCRYPTION_KEY, "0123456789abcdef0123456789abcdef");
        assert.strictEqual(sd.WSO2_SIGNING_KEYSTORE_PASSWORD, "signing-pw-XYZ");
        assert.match(sd["signing.key"], /signing-key-XYZ/);
        assert.match(sd["signing.crt"], /signing-cert-XYZ/);
        assert.strictEqual(sd["signing.password"], "signing-pw-XYZ");
        const pod = one(w.resources, K.deploy).inputs.spec.template.spec;
        const is = pod.containers[0];
        const env = Object.fromEntries(is.env.map((e: any) => [e.name, e.valueFrom?.secretKeyRef?.key]));
        assert.strictEqual(env.WSO2_ENCRYPTION_KEY, "WSO2_ENCRYPTION_KEY");
        assert.strictEqual(env.WSO2_SIGNING_KEYSTORE_PASSWORD, "WSO2_SIGNING_KEYSTORE_PASSWORD");
        const init = pod.initContainers.find((c: any) => c.name === "keystores");
        assert.deepStrictEqual(init.command, ["java", "/boot/BuildKeystores.java"]);
        assert.strictEqual(init.image, pod.containers[0].image, "the IS image's own JDK");
        const keystores = pod.volumes.find((v: any) => v.name === "keystores");
        assert.deepStrictEqual(keystores.emptyDir, { medium: "Memory", sizeLimit: "1Mi" });
        // The image's entrypoint copies the config volume over the pack: the keystore lands in
        // repository/resources/security, where [keystore.primary] names it.
        assert.deepStrictEqual(
            is.volumeMounts.find((m: any) => m.name === "keystores"),
            {
                name: "keystores",
                mountPath: "/home/wso2carbon/wso2-config-volume/repository/resources/security",
                readOnly: true,
            },
        );
        const doc = TOML.parse(w.toml) as any;
        assert.deepStrictEqual(doc.encryption, { key: "$env{WSO2_ENCRYPTION_KEY}" });
        assert.strictEqual(doc.keystore.primary.file_name, "wso2is-signing.p12");
        assert.strictEqual(doc.keystore.primary.password, "$env{WSO2_SIGNING_KEYSTORE_PASSWORD}");
        assert.deepStrictEqual(doc.keystore.internal, doc.keystore.primary);
        // Only the init container mounts the PEMs.
        const mounts = [...pod.initContainers, ...pod.containers].filter((c: any) =>
            c.volumeMounts?.some((m: any) => m.name === "signing"),
        );
        assert.deepStrictEqual(
            mounts.map((c: any) => c.name),
            ["keystores"],
        );
    });

    it("Deployment: replicas, rolling update with no unavailable pod, anti-affinity, probes, resources, non-root", function () {
        const spec = one(w.resources, K.deploy).inputs.spec;
        assert.strictEqual(spec.replicas, 2);
        assert.deepStrictEqual(spec.strategy, {
            type: "RollingUpdate",
            rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
        });
        const pod = spec.template.spec;
        assert.strictEqual(
            pod.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey,
            "kubernetes.io/hostname",
        );
        assert.strictEqual(
            pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm
                .topologyKey,
            "topology.kubernetes.io/zone",
        );
        const c = pod.containers[0];
        assert.strictEqual(c.readinessProbe.httpGet.path, "/api/health-check/v1.0/health");
        assert.ok(c.startupProbe && c.livenessProbe);
        assert.deepStrictEqual(c.resources.requests, { cpu: "4", memory: "6144Mi" });
        assert.deepStrictEqual(c.resources.limits, c.resources.requests, "memory request = limit");
        assert.ok(c.lifecycle.preStop);
        assert.ok(pod.terminationGracePeriodSeconds >= 60);
        assert.strictEqual(pod.securityContext.runAsNonRoot, true);
        for (const x of [...pod.initContainers, ...pod.containers]) {
            assert.strictEqual(x.securityContext.privileged, false, x.name);
            assert.strictEqual(x.securityContext.allowPrivilegeEscalation, false, x.name);
            assert.ok(x.resources?.limits, `${x.name} has limits`);
        }
        assert.match(spec.template.metadata.annotations["wso2is-cluster/config-sha256"], /^[0-9a-f]{64}$/);
        assert.deepStrictEqual(
            pod.initContainers.map((x: any) => x.name),
            ["jdbc-driver", "dbscripts", "keystores", "db-init", "first-start-gate"],
        );
        assert.match(pod.initContainers[0].command[2], /sha256sum -c/);
        const mounts = c.volumeMounts.map((m: any) => [m.mountPath, m.subPath]);
        assert.ok(
            mounts.some(
                ([p, s]: string[]) =>
                    p.endsWith("/repository/deployment/server/userstores") && s === "Userstores",
            ),
        );
        assert.ok(mounts.some(([p, s]: string[]) => p.endsWith("/repository/tenants") && s === "Tenants"));
    });

    it("the checksum covers every file the pods read from the ConfigMap, scripts included", function () {
        const data: Record<string, string> = one(w.resources, K.cm).inputs.data;
        assert.ok("db-init.sh" in data && "first-start-gate.sh" in data);
        const annotation = one(w.resources, K.deploy).inputs.spec.template.metadata.annotations[
            "wso2is-cluster/config-sha256"
        ];
        const sha = (d: Record<string, string>) => {
            const h = crypto.createHash("sha256");
            for (const k of Object.keys(d).sort())
                h.update(`${k}\0${Buffer.byteLength(d[k])}\0`).update(d[k]);
            return h.digest("hex");
        };
        assert.strictEqual(annotation, sha(data));
    });

    it("a config change rolls the pods (the checksum annotation changes)", async function () {
        const before = engine.records.length;
        await build("kroll", { caching: "4" });
        const other = engine.records.slice(before).find((r) => r.type === K.deploy)!;
        const a = one(w.resources, K.deploy).inputs.spec.template.metadata.annotations[
            "wso2is-cluster/config-sha256"
        ];
        assert.notStrictEqual(
            other.inputs.spec.template.metadata.annotations["wso2is-cluster/config-sha256"],
            a,
        );
    });

    it("a rotated secret rolls the pods (a keyed digest, not the value, changes); a config change does not touch it", async function () {
        const secretAnnotation = (r: { inputs: any }) =>
            r.inputs.spec.template.metadata.annotations["wso2is-cluster/rotation-hmac-sha256"];
        const mine = secretAnnotation(one(w.resources, K.deploy));
        assert.match(mine, /^[0-9a-f]{64}$/);
        const plainDigest = crypto.createHash("sha256").update("is-admin-pw-XYZ").digest("hex");
        assert.notStrictEqual(mine, plainDigest);
        let before = engine.records.length;
        await build("krot", {}, "is-admin-pw-rotated");
        const rotated = engine.records.slice(before).find((r) => r.type === K.deploy)!;
        assert.notStrictEqual(secretAnnotation(rotated), mine);
        before = engine.records.length;
        await build("kcfg", { caching: "4" });
        const reconfigured = engine.records.slice(before).find((r) => r.type === K.deploy)!;
        assert.strictEqual(secretAnnotation(reconfigured), mine);
    });

    it("PDB keeps all but one pod; services include the headless Hazelcast port", function () {
        assert.strictEqual(one(w.resources, K.pdb).inputs.spec.maxUnavailable, 1);
        const hz = ofType(w.resources, K.svc).find((s) => s.inputs.metadata.name === "wso2is-hazelcast")!
            .inputs.spec;
        assert.deepStrictEqual(
            [hz.clusterIP, hz.publishNotReadyAddresses, hz.ports[0].port],
            ["None", true, 4000],
        );
        const https = ofType(w.resources, K.svc).find((s) => s.inputs.metadata.name === "wso2is")!.inputs;
        assert.strictEqual(
            https.metadata.annotations["traefik.ingress.kubernetes.io/service.sticky.cookie"],
            "true",
        );
        assert.strictEqual(
            https.metadata.annotations["traefik.ingress.kubernetes.io/service.serversscheme"],
            "https",
        );
    });

    it("NetworkPolicy admits 9443 only from the ingress namespace and 4000 only from IS pods", function () {
        const rules = one(w.resources, K.netpol).inputs.spec.ingress;
        assert.deepStrictEqual(rules[0].from, [
            { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "traefik" } } },
        ]);
        assert.deepStrictEqual(rules[0].ports, [{ protocol: "TCP", port: 9443 }]);
        assert.ok(rules[1].from[0].podSelector);
        assert.ok(rules[1].ports.some((p: any) => p.port === 4000));
    });

    it("ingress: TLS on the hostname through Traefik, 80 redirects", function () {
        const ing = one(w.resources, K.ingress).inputs;
        assert.deepStrictEqual(ing.spec.tls, [{ hosts: ["is.example.com"], secretName: "wso2is-tls" }]);
        assert.strictEqual(ing.spec.ingressClassName, "traefik");
        const values = one(w.resources, K.release).inputs.values;
        assert.deepStrictEqual(values.ports.web.redirectTo, { port: "websecure" });
    });

    it("the share is protected in production only", async function () {
        assert.notStrictEqual(w.protects.get(`${K.pvc}::kdev-share`), true);
        const prod = await build("kprod", {
            production: "true",
            certificate: "https://kv-prod.vault.azure.net/secrets/tls",
        });
        assert.strictEqual(prod.protects.get(`${K.pvc}::kprod-share`), true);
    });

    describe("operations: stop, heap, await, probes", function () {
        const isPod = () => one(w.resources, K.deploy).inputs.spec.template.spec;
        const isContainer = () => isPod().containers.find((c: any) => c.name === "wso2is");

        it("preStop drains, then stops IS through wso2server.sh and waits for the JVM, inside the grace period", function () {
            const command = isContainer().lifecycle.preStop.exec.command;
            assert.deepStrictEqual(command, ["sh", "-c", lifecycle.preStopScript()]);
            const script = command[2];
            assert.match(script, /^sleep 15$/m);
            assert.match(script, /sh "\$WSO2_SERVER_HOME\/bin\/wso2server.sh" stop/);
            assert.match(script, /while kill -0 "\$pid"/);
            // The hook (drain + its wait for the JVM) ends before the kubelet's SIGKILL.
            assert.ok(
                isPod().terminationGracePeriodSeconds >= lifecycle.drainSeconds + lifecycle.isStopSeconds + 5,
            );
        });

        it("JVM_MEM_OPTS sized from the memory limit replaces wso2server.sh's 1 GB; JAVA_OPTS keeps the image's flags", function () {
            const env = Object.fromEntries(isContainer().env.map((e: any) => [e.name, e.value]));
            assert.match(
                env.JVM_MEM_OPTS,
                /^-Xms4096m -Xmx4096m -XX:MaxMetaspaceSize=512m -XX:MaxDirectMemorySize=512m/,
            );
            assert.doesNotMatch(env.JAVA_OPTS, /MaxRAMPercentage|-Xmx/);
            for (const flag of [
                "-Djava.util.prefs.systemRoot=/home/wso2carbon/.java",
                "-Djava.util.prefs.userRoot=/home/wso2carbon/.java/.userPrefs",
            ])
                assert.ok(env.JAVA_OPTS.split(" ").includes(flag), flag);
            // Heap + metaspace + direct leave at least 1 GiB of the limit for code cache, stacks, GC.
            const m = lifecycle.jvmMemory();
            const limitMi = Number(/^(\d+)Mi$/.exec(isContainer().resources.limits.memory)![1]);
            assert.ok(m.heapMi + m.metaspaceMi + m.directMi <= limitMi - 1024, JSON.stringify(m));
        });

        it("Pulumi waits for the whole rollout on the Deployment, both Services and the Ingress", function () {
            const expected = String(lifecycle.rolloutTimeoutSeconds(2));
            assert.ok(Number(expected) > 600, "longer than the provider's 10-minute default");
            const annotated = [
                one(w.resources, K.deploy),
                ...ofType(w.resources, K.svc).sort((a, b) => a.name.localeCompare(b.name)),
                one(w.resources, K.ingress),
            ].map((r) => [
                r.inputs.metadata.name,
                r.inputs.metadata.annotations?.["pulumi.com/timeoutSeconds"],
            ]);
            assert.deepStrictEqual(annotated, [
                ["wso2is", expected],
                ["wso2is-hazelcast", expected],
                ["wso2is", expected],
                ["wso2is", expected],
            ]);
            const spec = one(w.resources, K.deploy).inputs.spec;
            // One step (spare node, pull, init, boot, minReady, old pod's exit) fits the progress deadline.
            const step = lifecycle.rolloutStep;
            assert.ok(
                spec.progressDeadlineSeconds >=
                    step.nodeProvisionSeconds + step.imagePullSeconds + step.initSeconds + step.bootSeconds,
            );
            // The rollout budget: a spare node, then each pod's step in turn.
            assert.strictEqual(lifecycle.rolloutTimeoutSeconds(3) - lifecycle.rolloutTimeoutSeconds(2), 1110);
            assert.strictEqual(
                one(w.resources, K.release).inputs.timeout,
                lifecycle.ingressControllerTimeoutSeconds,
            );
        });

        it("readiness survives a GC pause: out of the Service only after 30 s without an answer", function () {
            const r = isContainer().readinessProbe;
            assert.ok(r.periodSeconds * r.failureThreshold >= 30, JSON.stringify(r));
            const l = isContainer().livenessProbe;
            assert.ok(l.periodSeconds * l.failureThreshold >= 60, JSON.stringify(l));
        });

        it("images: the IS image also fetches the driver; without a registry they come from docker.io", function () {
            const images = [...isPod().initContainers, ...isPod().containers].map((c: any) => [
                c.name,
                c.image,
            ]);
            assert.deepStrictEqual(images, [
                ["jdbc-driver", "docker.io/wso2/wso2is:7.1.0"],
                ["dbscripts", "docker.io/wso2/wso2is:7.1.0"],
                ["keystores", "docker.io/wso2/wso2is:7.1.0"],
                ["db-init", "docker.io/library/mysql:8.4"],
                ["first-start-gate", "docker.io/library/mysql:8.4"],
                ["wso2is", "docker.io/wso2/wso2is:7.1.0"],
            ]);
        });

        it("first-start gate: enter after db-init in the init container, hold in a native sidecar beside IS", function () {
            const init = Object.fromEntries(isPod().initContainers.map((c: any) => [c.name, c]));
            assert.match(
                init["db-init"].command[2],
                /^bash \/boot\/db-init.sh\nexec bash \/boot\/first-start-gate.sh enter$/,
            );
            const gate = init["first-start-gate"];
            assert.strictEqual(gate.restartPolicy, "Always", "a native sidecar: runs beside IS");
            assert.match(gate.command[2], /^bash \/boot\/first-start-gate.sh hold/);
            assert.match(
                gate.command[2],
                /trap 'exit 0' TERM/,
                "after the hold it waits, and stops at once on SIGTERM",
            );
            for (const c of [init["db-init"], gate]) {
                const env = Object.fromEntries(c.env.map((e: any) => [e.name, e]));
                assert.strictEqual(env.WSO2IS_NODE_ENV.value, "/boot/db-init.env");
                assert.strictEqual(env.WSO2IS_SECRETS_ENV.value, "/secrets/secrets.env");
                assert.deepStrictEqual(env.FIRST_START_NODE_ID.valueFrom.fieldRef, {
                    fieldPath: "metadata.name",
                });
            }
            const cm = one(w.resources, K.cm).inputs.data;
            assert.strictEqual(cm["first-start-gate.sh"], standaloneScriptText("first-start-gate.sh"));
            assert.match(cm["db-init.env"], /^DB_INIT_PLAN=/m);
            const boot = isPod()
                .volumes.find((v: any) => v.name === "boot")
                .configMap.items.map((i: any) => i.key);
            assert.ok(boot.includes("first-start-gate.sh"));
        });

        it("Traefik: two replicas never on one node, spread over zones, chart 33.x keys", function () {
            const values = one(w.resources, K.release).inputs.values;
            const spread = values.topologySpreadConstraints.map((t: any) => [
                t.topologyKey,
                t.whenUnsatisfiable,
            ]);
            assert.deepStrictEqual(spread, [
                ["kubernetes.io/hostname", "DoNotSchedule"],
                ["topology.kubernetes.io/zone", "ScheduleAnyway"],
            ]);
            assert.strictEqual(values.deployment.replicas, 2);
        });
    });
});
