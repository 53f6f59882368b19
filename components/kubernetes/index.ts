// wso2is:kubernetes:Workload: the IS cluster on any Kubernetes cluster, through an explicit
// provider. A Deployment (pods are interchangeable: state lives in MySQL and on the RWX share,
// and a Deployment can surge a new pod before an old one leaves, which a StatefulSet cannot),
// Hazelcast `kubernetes` membership through a headless Service, the rendered deployment.toml
// in a ConfigMap with secrets only as $env{...} fed from a Secret.
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as apps from "@pulumi/kubernetes/apps/v1";
import * as core from "@pulumi/kubernetes/core/v1";
import * as policy from "@pulumi/kubernetes/policy/v1";
import { ClusterConfig } from "../config/schema";
import { ClusterModel, buildClusterModel } from "../model";
import { renderDbInitEnv } from "../render/nodeEnv";
import { isEnvValue, renderDeploymentToml } from "../render/deploymentToml";
import { keystoreProgramText, standaloneScriptText } from "../render/scripts";
import { secretEnv as isEnv, signingKeystore } from "../model";
import { IngressArgs, createIngress } from "./ingress";
import { createNetworkPolicies, createServices } from "./network";
import { rotationDigest } from "../shared/clusterSecret";
import { createRbac } from "./rbac";
import { healthPath, imageHome, imageUser, labels, livenessPath, ports, selector } from "./names";
import { resolvedImages } from "./images";
import * as lifecycle from "./lifecycle";

export interface WorkloadArgs {
    config: ClusterConfig;
    /** The cluster to deploy to; every object uses it. */
    provider: k8s.Provider;
    /** Namespace to create (default "wso2is"). */
    namespace?: string;
    database: { host: pulumi.Input<string>; port: number; adminUser: string; tls: boolean };
    passwords: { dbAdmin: pulumi.Output<string>; dbApp: pulumi.Output<string>; admin: pulumi.Output<string> };
    /** The cluster's encryption key and signing key pair (components/shared/clusterSecret.ts). */
    keys: {
        encryptionKey: pulumi.Output<string>;
        signing: {
            certificatePem: pulumi.Output<string>;
            privateKeyPem: pulumi.Output<string>;
            keystorePassword: pulumi.Output<string>;
        };
    };
    /** A ReadWriteMany storage class (azurefile-csi for SMB, azurefile-csi-nfs for NFS on AKS). */
    storageClassName: pulumi.Input<string>;
    ingress: IngressArgs;
    /** Where IS pods may run (e.g. a dedicated node pool's label). */
    nodeSelector?: Record<string, string>;
    /**
     * The registry the cluster pulls from (an ACR login server): the images' Docker Hub paths
     * under it. Unset: straight from Docker Hub (rate-limited; only for trials).
     */
    imageRegistry?: pulumi.Input<string>;
    /** What IS pods must wait for (node pool, registry grant, database parameters). */
    ready?: pulumi.Input<pulumi.Resource>[];
    /** What the ingress controller must wait for (its LoadBalancer needs the cluster identity's subnet role). */
    controllerReady?: pulumi.Input<pulumi.Resource>[];
}

export class Workload extends pulumi.ComponentResource {
    public readonly namespace: pulumi.Output<string>;
    public readonly model: pulumi.Output<ClusterModel>;
    public readonly deploymentToml: pulumi.Output<string>;
    public readonly serviceName: pulumi.Output<string>;
    public readonly ingressAddress: pulumi.Output<string>;

    constructor(name: string, args: WorkloadArgs, opts?: pulumi.ComponentResourceOptions) {
        super("wso2is:kubernetes:Workload", name, {}, opts);
        const { config } = args;
        const o = { parent: this, provider: args.provider };
        const nsName = args.namespace ?? "wso2is";
        const home = imageHome(config.is.version);
        const ready = args.ready ?? [];
        const images = pulumi
            .output(args.imageRegistry)
            .apply((registry) => resolvedImages(config, registry || undefined));
        // Pulumi waits this long for the pods behind the Deployment, Services and Ingress (default 10 min).
        const awaitTimeout = {
            [lifecycle.timeoutAnnotation]: String(lifecycle.rolloutTimeoutSeconds(config.nodes)),
        };

        const ns = new core.Namespace(`${name}-ns`, { metadata: { name: nsName, labels } }, o);
        const namespace = ns.metadata.name;
        const serviceAccount = createRbac(name, namespace, o);
        const services = createServices(name, namespace, awaitTimeout, o);

        this.model = pulumi.output(args.database.host).apply((host) =>
            buildClusterModel(config, {
                clusterName: name,
                database: {
                    host,
                    port: args.database.port,
                    tls: args.database.tls,
                    adminUser: args.database.adminUser,
                },
                sharedFs: { protocol: "csi" },
                secrets: { source: "kubernetes", secretName: "wso2is-secrets" },
                nodeIp: "pod",
                nodes: [{ name: "pod" }],
                membership: { scheme: "kubernetes", namespace: nsName, services: services.hazelcastName },
            }),
        );
        this.deploymentToml = this.model.apply((m) => renderDeploymentToml(m, m.nodes[0]));

        // db-init runs in every pod's init containers: GET_LOCK makes the first one apply the
        // schema and the others wait for it, so no pod starts against an empty database.
        const dbInitEnv = this.model.apply((m) => renderDbInitEnv(m, "/is"));
        const configData: Record<string, pulumi.Input<string>> = {
            "deployment.toml": this.deploymentToml,
            "db-init.env": dbInitEnv,
            "db-init.sh": standaloneScriptText("db-init.sh"),
            "BuildKeystores.java": keystoreProgramText(),
            "first-start-gate.sh": standaloneScriptText("first-start-gate.sh"),
        };
        const configMap = new core.ConfigMap(
            `${name}-config`,
            { metadata: { name: "wso2is-config", namespace, labels }, data: configData },
            o,
        );

        const quoted = (v: pulumi.Output<string>) => v.apply((s) => `'${s.replace(/'/g, `'"'"'`)}'`);
        const secretName = "wso2is-secrets";
        const secretData: Record<string, pulumi.Output<string>> = {
            // What IS reads through $env{}, in the form that reaches it intact (isEnvValue).
            [isEnv.dbPassword]: args.passwords.dbApp.apply(isEnvValue),
            [isEnv.adminPassword]: args.passwords.admin.apply(isEnvValue),
            [isEnv.encryptionKey]: args.keys.encryptionKey,
            [isEnv.signingKeystorePassword]: args.keys.signing.keystorePassword.apply(isEnvValue),
            // The keystores init container's inputs, as they are.
            "signing.crt": args.keys.signing.certificatePem,
            "signing.key": args.keys.signing.privateKeyPem,
            "signing.password": args.keys.signing.keystorePassword,
            "secrets.env": pulumi.interpolate`WSO2_DB_ADMIN_USER='${args.database.adminUser}'\nWSO2_DB_ADMIN_PASSWORD=${quoted(args.passwords.dbAdmin)}\nWSO2_DB_PASSWORD=${quoted(args.passwords.dbApp)}\n`,
        };
        const secret = new core.Secret(
            `${name}-secrets`,
            { metadata: { name: secretName, namespace, labels }, type: "Opaque", stringData: secretData },
            { ...o, additionalSecretOutputs: ["stringData", "data"] },
        );
        // Pods read the Secret only when they start: a changed value rolls them (rotationDigest).
        const secretDigest = rotationDigest(args.keys.encryptionKey, secretData);

        // Stateful: the share survives pod and workload changes; protected in production.
        const share = new core.PersistentVolumeClaim(
            `${name}-share`,
            {
                metadata: { name: "wso2is-share", namespace, labels },
                spec: {
                    accessModes: ["ReadWriteMany"],
                    storageClassName: args.storageClassName,
                    resources: { requests: { storage: "100Gi" } },
                },
            },
            { ...o, protect: config.production, retainOnDelete: config.production },
        );

        // Pods read the ConfigMap only when they start: any changed file, a script included,
        // rolls them. Each entry is hashed with its name and length, in name order.
        const checksum = pulumi.output(configData).apply((data) => {
            const hash = crypto.createHash("sha256");
            for (const key of Object.keys(data).sort())
                hash.update(`${key}\0${Buffer.byteLength(data[key])}\0`).update(data[key]);
            return hash.digest("hex");
        });
        // db-init and the first-start gate read the same files (scripts/CONTRACT.md); the gate
        // tells pods apart by name.
        const gateEnv = [
            { name: "WSO2IS_NODE_ENV", value: "/boot/db-init.env" },
            { name: "WSO2IS_SECRETS_ENV", value: "/secrets/secrets.env" },
            { name: "FIRST_START_NODE_ID", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
        ];
        const secretEnv = (envName: string) => ({
            name: envName,
            valueFrom: { secretKeyRef: { name: secretName, key: envName } },
        });

        new apps.Deployment(
            `${name}-is`,
            {
                metadata: { name: "wso2is", namespace, labels, annotations: awaitTimeout },
                spec: {
                    replicas: config.nodes,
                    selector: { matchLabels: selector },
                    // A new pod joins before an old one leaves: the cluster never drops below `nodes`.
                    strategy: {
                        type: "RollingUpdate",
                        rollingUpdate: { maxSurge: lifecycle.surgePods, maxUnavailable: 0 },
                    },
                    minReadySeconds: lifecycle.minReadySeconds,
                    progressDeadlineSeconds: lifecycle.progressDeadlineSeconds(),
                    template: {
                        metadata: {
                            labels: { ...labels, ...selector },
                            annotations: {
                                "wso2is-cluster/config-sha256": checksum,
                                "wso2is-cluster/rotation-hmac-sha256": secretDigest,
                            },
                        },
                        spec: {
                            serviceAccountName: serviceAccount.metadata.name,
                            ...(args.nodeSelector ? { nodeSelector: args.nodeSelector } : {}),
                            terminationGracePeriodSeconds: lifecycle.terminationGracePeriodSeconds,
                            securityContext: {
                                runAsNonRoot: true,
                                runAsUser: imageUser,
                                runAsGroup: imageUser,
                                fsGroup: imageUser,
                                seccompProfile: { type: "RuntimeDefault" },
                            },
                            affinity: {
                                podAntiAffinity: {
                                    // Never two IS pods on one node; spread over zones when possible.
                                    requiredDuringSchedulingIgnoredDuringExecution: [
                                        {
                                            labelSelector: { matchLabels: selector },
                                            topologyKey: "kubernetes.io/hostname",
                                        },
                                    ],
                                    preferredDuringSchedulingIgnoredDuringExecution: [
                                        {
                                            weight: 100,
                                            podAffinityTerm: {
                                                labelSelector: { matchLabels: selector },
                                                topologyKey: "topology.kubernetes.io/zone",
                                            },
                                        },
                                    ],
                                },
                            },
                            topologySpreadConstraints: [
                                {
                                    maxSkew: 1,
                                    topologyKey: "topology.kubernetes.io/zone",
                                    whenUnsatisfiable: "ScheduleAnyway",
                                    labelSelector: { matchLabels: selector },
                                },
                            ],
                            initContainers: [
                                {
                                    name: "jdbc-driver",
                                    // The IS image has curl and sha256sum (wso2/docker-is 7.1.x Dockerfile).
                                    image: images.is,
                                    // Connector/J, refused unless its sha256 matches the configured one.
                                    command: [
                                        "sh",
                                        "-ec",
                                        'curl -fsSL --retry 5 -o /artifacts/lib.jar "$JDBC_DRIVER_URL"; echo "$JDBC_DRIVER_SHA256  /artifacts/lib.jar" | sha256sum -c -; mkdir -p /artifacts/repository/components/lib; mv /artifacts/lib.jar /artifacts/repository/components/lib/mysql-connector-j.jar',
                                    ],
                                    env: [
                                        { name: "JDBC_DRIVER_URL", value: config.is.jdbcDriverUrl },
                                        { name: "JDBC_DRIVER_SHA256", value: config.is.jdbcDriverSha256 },
                                    ],
                                    volumeMounts: [{ name: "artifacts", mountPath: "/artifacts" }],
                                    ...initRuntime(["50m", "32Mi"], ["500m", "128Mi"]),
                                },
                                {
                                    name: "dbscripts",
                                    image: images.is,
                                    command: ["sh", "-ec", `cp -R ${home}/dbscripts /is/`],
                                    volumeMounts: [{ name: "dbscripts", mountPath: "/is" }],
                                    ...initRuntime(["50m", "32Mi"], ["500m", "128Mi"]),
                                },
                                {
                                    // The cluster's signing keystore and a truststore that trusts it,
                                    // copied over the pack by the image's entrypoint (config volume).
                                    name: "keystores",
                                    image: images.is,
                                    command: ["java", "/boot/BuildKeystores.java"],
                                    env: [
                                        { name: "SIGNING_KEY_FILE", value: "/signing/signing.key" },
                                        { name: "SIGNING_CERT_FILE", value: "/signing/signing.crt" },
                                        { name: "SIGNING_PASSWORD_FILE", value: "/signing/signing.password" },
                                        { name: "SIGNING_ALIAS", value: signingKeystore.alias },
                                        {
                                            name: "SIGNING_KEYSTORE",
                                            value: `/keystores/${signingKeystore.file}`,
                                        },
                                        {
                                            name: "TRUSTSTORE_IN",
                                            value: `${home}/repository/resources/security/client-truststore.p12`,
                                        },
                                        { name: "TRUSTSTORE_OUT", value: "/keystores/client-truststore.p12" },
                                        { name: "JAVA_TOOL_OPTIONS", value: "-Xmx128m" },
                                    ],
                                    volumeMounts: [
                                        { name: "boot", mountPath: "/boot" },
                                        { name: "signing", mountPath: "/signing", readOnly: true },
                                        { name: "keystores", mountPath: "/keystores" },
                                    ],
                                    ...initRuntime(["100m", "256Mi"], ["1", "512Mi"]),
                                },
                                {
                                    name: "db-init",
                                    image: images.mysql,
                                    // Schema, then the first-start gate: one pod at a time through IS's first start.
                                    command: [
                                        "bash",
                                        "-ec",
                                        "bash /boot/db-init.sh\nexec bash /boot/first-start-gate.sh enter",
                                    ],
                                    env: gateEnv,
                                    volumeMounts: [
                                        { name: "dbscripts", mountPath: "/is" },
                                        { name: "boot", mountPath: "/boot" },
                                        { name: "secrets", mountPath: "/secrets", readOnly: true },
                                    ],
                                    ...initRuntime(["100m", "128Mi"], ["1", "512Mi"]),
                                },
                                {
                                    // Native sidecar (runs beside IS): the gate's holder heartbeats until IS
                                    // answers its health API once, then releases; then it only waits.
                                    name: "first-start-gate",
                                    image: images.mysql,
                                    restartPolicy: "Always",
                                    command: [
                                        "bash",
                                        "-c",
                                        "bash /boot/first-start-gate.sh hold || echo \"first-start-gate hold exited $?\"\ntrap 'exit 0' TERM\nwhile :; do sleep 3600 & wait $!; done",
                                    ],
                                    env: gateEnv,
                                    volumeMounts: [
                                        { name: "boot", mountPath: "/boot" },
                                        { name: "secrets", mountPath: "/secrets", readOnly: true },
                                    ],
                                    ...initRuntime(["10m", "32Mi"], ["200m", "128Mi"]),
                                },
                            ],
                            containers: [
                                {
                                    name: "wso2is",
                                    image: images.is,
                                    ports: [
                                        { name: "https", containerPort: ports.https },
                                        { name: "hazelcast", containerPort: ports.hazelcast },
                                    ],
                                    env: [
                                        {
                                            name: "NODE_IP",
                                            valueFrom: { fieldRef: { fieldPath: "status.podIP" } },
                                        },
                                        secretEnv(isEnv.dbPassword),
                                        secretEnv(isEnv.adminPassword),
                                        secretEnv(isEnv.encryptionKey),
                                        secretEnv(isEnv.signingKeystorePassword),
                                        // Heap etc. sized from the memory limit (lifecycle.jvmMemory).
                                        { name: "JVM_MEM_OPTS", value: lifecycle.jvmMemory().opts },
                                        { name: "JAVA_OPTS", value: lifecycle.imageJavaOpts.join(" ") },
                                    ],
                                    // The seed's minimum per node is 4 vCPU, 4 GB; memory request = limit.
                                    resources: {
                                        requests: { cpu: "4", memory: `${lifecycle.isMemoryMi}Mi` },
                                        limits: { cpu: "4", memory: `${lifecycle.isMemoryMi}Mi` },
                                    },
                                    volumeMounts: [
                                        // WSO2's entrypoint copies these volumes over the pack before it starts IS.
                                        {
                                            name: "config",
                                            mountPath:
                                                "/home/wso2carbon/wso2-config-volume/repository/conf/deployment.toml",
                                            subPath: "deployment.toml",
                                            readOnly: true,
                                        },
                                        {
                                            name: "artifacts",
                                            mountPath: "/home/wso2carbon/wso2-artifact-volume",
                                        },
                                        {
                                            name: "keystores",
                                            mountPath:
                                                "/home/wso2carbon/wso2-config-volume/repository/resources/security",
                                            readOnly: true,
                                        },
                                        {
                                            name: "share",
                                            mountPath: `${home}/repository/deployment/server/userstores`,
                                            subPath: "Userstores",
                                        },
                                        {
                                            name: "share",
                                            mountPath: `${home}/repository/tenants`,
                                            subPath: "Tenants",
                                        },
                                    ],
                                    startupProbe: {
                                        tcpSocket: { port: ports.https },
                                        ...lifecycle.startupProbe,
                                    },
                                    readinessProbe: {
                                        httpGet: { path: healthPath, port: ports.https, scheme: "HTTPS" },
                                        ...lifecycle.readinessProbe,
                                    },
                                    livenessProbe: {
                                        httpGet: { path: livenessPath, port: ports.https, scheme: "HTTPS" },
                                        ...lifecycle.livenessProbe,
                                    },
                                    // Drain, then stop IS and wait for the JVM to exit (PID 1 ignores SIGTERM).
                                    lifecycle: {
                                        preStop: {
                                            exec: { command: ["sh", "-c", lifecycle.preStopScript()] },
                                        },
                                    },
                                    securityContext: restricted(),
                                },
                            ],
                            volumes: [
                                {
                                    name: "config",
                                    configMap: {
                                        name: configMap.metadata.name,
                                        items: [{ key: "deployment.toml", path: "deployment.toml" }],
                                    },
                                },
                                {
                                    name: "boot",
                                    configMap: {
                                        name: configMap.metadata.name,
                                        items: [
                                            { key: "db-init.sh", path: "db-init.sh" },
                                            { key: "first-start-gate.sh", path: "first-start-gate.sh" },
                                            { key: "db-init.env", path: "db-init.env" },
                                            { key: "BuildKeystores.java", path: "BuildKeystores.java" },
                                        ],
                                    },
                                },
                                {
                                    name: "secrets",
                                    secret: {
                                        secretName,
                                        items: [{ key: "secrets.env", path: "secrets.env" }],
                                        defaultMode: 0o400,
                                    },
                                },
                                {
                                    name: "signing",
                                    secret: {
                                        secretName,
                                        items: ["signing.crt", "signing.key", "signing.password"].map(
                                            (key) => ({
                                                key,
                                                path: key,
                                            }),
                                        ),
                                        defaultMode: 0o400,
                                    },
                                },
                                // In memory: the assembled private key never touches the node's disk.
                                { name: "keystores", emptyDir: { medium: "Memory", sizeLimit: "1Mi" } },
                                { name: "share", persistentVolumeClaim: { claimName: share.metadata.name } },
                                { name: "artifacts", emptyDir: {} },
                                { name: "dbscripts", emptyDir: {} },
                            ],
                        },
                    },
                },
                // The pods read the Secret by name (its metadata output is marked secret under some engines).
            },
            { ...o, dependsOn: [secret, ...ready] },
        );

        new policy.PodDisruptionBudget(
            `${name}-pdb`,
            {
                metadata: { name: "wso2is", namespace, labels },
                // Voluntary disruptions (node drains, upgrades) take one pod at a time.
                spec: { maxUnavailable: 1, selector: { matchLabels: selector } },
            },
            o,
        );

        createNetworkPolicies(name, namespace, args.ingress, o);
        const ingress = createIngress(
            name,
            {
                namespace,
                hostname: config.hostname,
                serviceName: services.httpsName,
                args: args.ingress,
                production: config.production,
                traefikImage: images.traefik,
                ready: args.controllerReady ?? [],
                awaitTimeout,
            },
            o,
        );

        this.namespace = namespace;
        this.serviceName = pulumi.output(services.httpsName);
        this.ingressAddress = ingress.address;
        this.registerOutputs({
            namespace: this.namespace,
            serviceName: this.serviceName,
            ingressAddress: this.ingressAddress,
        });
    }
}

/** An init container's last fields: the restricted context, requests and limits as [cpu, memory]. */
function initRuntime(request: [string, string], limit: [string, string]) {
    return {
        securityContext: restricted(),
        resources: {
            requests: { cpu: request[0], memory: request[1] },
            limits: { cpu: limit[0], memory: limit[1] },
        },
    };
}

/** The container security context every container gets: no root, no escalation, no caps. */
function restricted() {
    return {
        runAsNonRoot: true,
        allowPrivilegeEscalation: false,
        privileged: false,
        readOnlyRootFilesystem: false,
        capabilities: { drop: ["ALL"] },
    };
}

export type { IngressArgs } from "./ingress";
