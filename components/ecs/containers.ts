// The IS task's containers, as ECS container definitions: a pure function of the resolved
// cluster model (no Pulumi, no SDK), so tests read exactly what the task definition carries.
//
// Order (dependsOn): `config` writes deployment.toml, db-init.sh and its settings from this
// task definition and fetches Connector/J (sha256-checked) -> `dbscripts` copies the image's
// dbscripts -> `db-init` runs the locked db-init.sh (the VM targets' script); `keystores` builds
// the cluster's signing keystore and truststore (the AKS pod's BuildKeystores.java on the IS
// image's JDK) into the config volume the image's entrypoint copies over the pack -> `wso2is`.
// Secrets reach containers only through `secrets`/`valueFrom` (Secrets Manager JSON keys),
// never `environment`. No container is privileged.
import {
    ClusterModel,
    hazelcastPorts,
    healthCheckPath,
    isHttpsPort,
    secretEnv,
    signingKeystore,
} from "../model";
import { renderDeploymentToml } from "../render/deploymentToml";
import { renderDbInitEnv } from "../render/nodeEnv";
import { keystoreProgramText, standaloneScriptText } from "../render/scripts";
import { imageHome, imageUser } from "../kubernetes/names";

/** Client image for the locked schema init (bash + the MySQL 8 client). */
const mysqlClientImage = "mysql:8.4";
/** Small image with curl and sha256sum for the verified driver download. */
const curlImage = "curlimages/curl:8.11.1";

export const containerNames = {
    config: "config",
    dbscripts: "dbscripts",
    dbInit: "db-init",
    keystores: "keystores",
    is: "wso2is",
} as const;

/** Task volumes: task-scoped Docker volumes for the hand-over, EFS access points for the share. */
export const volumeNames = {
    config: "config",
    artifacts: "artifacts",
    boot: "boot",
    userstores: "userstores",
    tenants: "tenants",
} as const;

/** Host network mode: the instance's ports (the model's one home for them). */
export const isPorts = { https: isHttpsPort, hazelcast: hazelcastPorts["aws-ecs"] } as const;

/** ECS stops a container with SIGTERM, then SIGKILL after this (120 s is ECS's maximum). */
export const stopTimeoutSeconds = 120;

/** The env vars the config container decodes into files (base64: no quoting or newline issues). */
export const configFileEnv = {
    deploymentToml: "DEPLOYMENT_TOML_B64",
    dbInitScript: "DB_INIT_SH_B64",
    dbInitEnv: "DB_INIT_ENV_B64",
    keystoreProgram: "BUILD_KEYSTORES_JAVA_B64",
} as const;

/** Where the keystores land in the config volume (the pack's repository/resources/security). */
const securityDir = "repository/resources/security";

/** Where the image's entrypoint (docker-is 7.1.x docker-entrypoint.sh) copies files from. */
const imageConfigVolume = "/home/wso2carbon/wso2-config-volume";
const imageArtifactVolume = "/home/wso2carbon/wso2-artifact-volume";

export interface TaskSize {
    /** CPU units (1024 per vCPU) and MiB for the whole task. */
    cpu: number;
    memoryMiB: number;
    /** -Xms/-Xmx in MiB: the rest is metaspace, threads, direct buffers and the init containers. */
    heapMiB: number;
}

/**
 * One IS task fills one container instance: all its vCPUs, and its memory less 1 GiB for the
 * OS, the ECS agent and ECS Exec. Unknown sizes get the seed's shape on an 8 GiB instance.
 */
export function taskSize(known: { vcpu: number; memoryGb: number } | undefined): TaskSize {
    const vcpu = known?.vcpu ?? 4;
    const memoryMiB = (known?.memoryGb ?? 8) * 1024 - 1024;
    // wso2server.sh sets -Xmx1024m when JVM_MEM_OPTS is unset; 60 % leaves room off-heap.
    const heapMiB = Math.floor((memoryMiB * 0.6) / 64) * 64;
    return { cpu: vcpu * 1024, memoryMiB, heapMiB };
}

export interface ContainerInputs {
    model: ClusterModel;
    image: string;
    /** The cluster secret (JSON document) in Secrets Manager. */
    secretArn: string;
    region: string;
    logGroup: string;
    size: TaskSize;
    dbAdminUser: string;
    /** Changes when the cluster secret does (rotationDigest): a new task definition rolls the tasks. */
    secretRotation: string;
}

const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

/** A Secrets Manager JSON key as ECS reads it: `<secret-arn>:<json-key>::` (AWSCURRENT). */
export function secretRef(secretArn: string, jsonKey: string): string {
    return `${secretArn}:${jsonKey}::`;
}

/** The config container's script: files from the task definition, the verified driver. */
export const configScript = [
    "set -eu",
    "umask 022",
    `mkdir -p /out/config/repository/conf /out/config/${securityDir} /out/artifacts/repository/components/lib /out/boot/is`,
    `printf %s "$${configFileEnv.deploymentToml}" | base64 -d > /out/config/repository/conf/deployment.toml`,
    `printf %s "$${configFileEnv.dbInitScript}" | base64 -d > /out/boot/db-init.sh`,
    `printf %s "$${configFileEnv.dbInitEnv}" | base64 -d > /out/boot/db-init.env`,
    `printf %s "$${configFileEnv.keystoreProgram}" | base64 -d > /out/boot/BuildKeystores.java`,
    'curl -fsSL --retry 5 -o /out/artifacts/driver.jar "$JDBC_DRIVER_URL"',
    'echo "$JDBC_DRIVER_SHA256  /out/artifacts/driver.jar" | sha256sum -c -',
    "mv /out/artifacts/driver.jar /out/artifacts/repository/components/lib/mysql-connector-j.jar",
    // The dbscripts and keystores containers run as the image's user and write here.
    `chown ${imageUser}:${imageUser} /out/boot/is /out/config/${securityDir}`,
].join("\n");

/**
 * db-init's secrets file is a process substitution: the passwords ECS injected go from this
 * shell's environment to db-init.sh through a pipe, never onto a disk.
 */
export const dbInitScript = [
    "set -euo pipefail",
    "WSO2IS_NODE_ENV=/boot/db-init.env \\",
    '  WSO2IS_SECRETS_ENV=<(printf "WSO2_DB_ADMIN_USER=%q\\nWSO2_DB_ADMIN_PASSWORD=%q\\nWSO2_DB_PASSWORD=%q\\n" \\',
    '    "$WSO2_DB_ADMIN_USER" "$WSO2_DB_ADMIN_PASSWORD" "$WSO2_DB_PASSWORD") \\',
    "  bash /boot/db-init.sh",
].join("\n");

/**
 * The keystores container's script: the signing key, certificate and keystore password ECS
 * injected reach BuildKeystores.java through pipes (process substitution), never a file; only
 * the PKCS#12 it writes (password-protected, like the VM nodes' and the AKS pod's) lands in the
 * task's config volume.
 */
export const keystoresScript = [
    "set -euo pipefail",
    "umask 077",
    'SIGNING_KEY_FILE=<(printf %s "$WSO2_SIGNING_KEY") \\',
    '  SIGNING_CERT_FILE=<(printf %s "$WSO2_SIGNING_CERT") \\',
    `  SIGNING_PASSWORD_FILE=<(printf %s "$${secretEnv.signingKeystorePassword}") \\`,
    "  java /boot/BuildKeystores.java",
].join("\n");

/**
 * The IS container's entrypoint wrapper. NODE_IP is the instance's address (host network
 * mode) from IMDSv2. The image's entrypoint starts wso2server.sh without exec, so SIGTERM
 * would stop at a shell: the trap asks IS to shut down itself (wso2server.sh stop = SIGTERM to
 * the JVM), whose shutdown hooks leave the Hazelcast cluster cleanly, then waits for it.
 */
export const isEntrypointScript = [
    "set -eu",
    "imds=http://169.254.169.254/latest",
    'token=$(curl -fsS -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 300" "$imds/api/token")',
    'NODE_IP=$(curl -fsS -H "X-aws-ec2-metadata-token: $token" "$imds/meta-data/local-ipv4")',
    "export NODE_IP",
    `trap 'sh "$WSO2_SERVER_HOME/bin/wso2server.sh" stop' TERM INT`,
    "/home/wso2carbon/docker-entrypoint.sh &",
    "child=$!",
    "status=0",
    'wait "$child" || status=$?',
    'if kill -0 "$child" 2>/dev/null; then status=0; wait "$child" || status=$?; fi',
    'exit "$status"',
].join("\n");

export function containerDefinitions(i: ContainerInputs): Record<string, unknown>[] {
    const { model } = i;
    const home = imageHome(model.is.version);
    const node = model.nodes[0];
    const logs = (stream: string) => ({
        logDriver: "awslogs",
        options: {
            "awslogs-group": i.logGroup,
            "awslogs-region": i.region,
            "awslogs-stream-prefix": stream,
        },
    });
    const mount = (volume: string, path: string, readOnly = false) => ({
        sourceVolume: volume,
        containerPath: path,
        readOnly,
    });
    const secret = (name: string, jsonKey: string) => ({
        name,
        valueFrom: secretRef(i.secretArn, jsonKey),
    });
    const initContainer = { essential: false, privileged: false, readonlyRootFilesystem: false };

    return [
        {
            ...initContainer,
            name: containerNames.config,
            image: curlImage,
            // Root inside its own volumes (they are created root-owned), no other capability
            // than handing the dbscripts directory to the image's user.
            user: "0:0",
            linuxParameters: { capabilities: { drop: ["ALL"], add: ["CHOWN"] } },
            entryPoint: ["sh", "-c"],
            command: [configScript],
            environment: [
                { name: configFileEnv.deploymentToml, value: b64(renderDeploymentToml(model, node)) },
                { name: configFileEnv.dbInitScript, value: b64(standaloneScriptText("db-init.sh")) },
                { name: configFileEnv.dbInitEnv, value: b64(renderDbInitEnv(model, "/boot/is")) },
                { name: configFileEnv.keystoreProgram, value: b64(keystoreProgramText()) },
                { name: "JDBC_DRIVER_URL", value: model.is.jdbcDriverUrl },
                { name: "JDBC_DRIVER_SHA256", value: model.is.jdbcDriverSha256 },
            ],
            mountPoints: [
                mount(volumeNames.config, "/out/config"),
                mount(volumeNames.artifacts, "/out/artifacts"),
                mount(volumeNames.boot, "/out/boot"),
            ],
            logConfiguration: logs(containerNames.config),
        },
        {
            ...initContainer,
            name: containerNames.dbscripts,
            image: i.image,
            user: `${imageUser}:${imageUser}`,
            linuxParameters: { capabilities: { drop: ["ALL"] } },
            entryPoint: ["sh", "-c"],
            command: [`cp -R ${home}/dbscripts /boot/is/`],
            mountPoints: [mount(volumeNames.boot, "/boot")],
            dependsOn: [{ containerName: containerNames.config, condition: "SUCCESS" }],
            logConfiguration: logs(containerNames.dbscripts),
        },
        {
            ...initContainer,
            name: containerNames.dbInit,
            image: mysqlClientImage,
            linuxParameters: { capabilities: { drop: ["ALL"] } },
            entryPoint: ["bash", "-c"],
            command: [dbInitScript],
            environment: [{ name: "WSO2_DB_ADMIN_USER", value: i.dbAdminUser }],
            secrets: [
                secret("WSO2_DB_ADMIN_PASSWORD", "dbAdminPassword"),
                secret(secretEnv.dbPassword, "dbAppPassword"),
            ],
            mountPoints: [mount(volumeNames.boot, "/boot", true)],
            dependsOn: [{ containerName: containerNames.dbscripts, condition: "SUCCESS" }],
            logConfiguration: logs(containerNames.dbInit),
        },
        {
            ...initContainer,
            name: containerNames.keystores,
            image: i.image,
            user: `${imageUser}:${imageUser}`,
            linuxParameters: { capabilities: { drop: ["ALL"] } },
            entryPoint: ["bash", "-c"],
            command: [keystoresScript],
            environment: [
                { name: "SIGNING_ALIAS", value: signingKeystore.alias },
                { name: "SIGNING_KEYSTORE", value: `/out/config/${securityDir}/${signingKeystore.file}` },
                { name: "TRUSTSTORE_IN", value: `${home}/${securityDir}/client-truststore.p12` },
                { name: "TRUSTSTORE_OUT", value: `/out/config/${securityDir}/client-truststore.p12` },
                { name: "JAVA_TOOL_OPTIONS", value: "-Xmx128m" },
            ],
            secrets: [
                secret("WSO2_SIGNING_KEY", "signingPrivateKey"),
                secret("WSO2_SIGNING_CERT", "signingCertificate"),
                secret(secretEnv.signingKeystorePassword, "signingKeystorePassword"),
            ],
            mountPoints: [mount(volumeNames.boot, "/boot", true), mount(volumeNames.config, "/out/config")],
            dependsOn: [{ containerName: containerNames.config, condition: "SUCCESS" }],
            logConfiguration: logs(containerNames.keystores),
        },
        {
            name: containerNames.is,
            image: i.image,
            essential: true,
            privileged: false,
            readonlyRootFilesystem: false,
            user: `${imageUser}:${imageUser}`,
            // tini as PID 1: reaps ECS Exec's processes and hands SIGTERM to the wrapper.
            linuxParameters: { initProcessEnabled: true },
            entryPoint: ["sh", "-c"],
            command: [isEntrypointScript],
            // Host network mode: the container's ports are the instance's.
            portMappings: [
                { containerPort: isPorts.https, hostPort: isPorts.https, protocol: "tcp" },
                { containerPort: isPorts.hazelcast, hostPort: isPorts.hazelcast, protocol: "tcp" },
            ],
            environment: [
                { name: "JVM_MEM_OPTS", value: `-Xms${i.size.heapMiB}m -Xmx${i.size.heapMiB}m` },
                // ECS resolves `secrets` only when a task starts: a rotation must make a new
                // task definition revision, which the service rolls like any other change.
                { name: "WSO2IS_ROTATION_DIGEST", value: i.secretRotation },
            ],
            secrets: [
                secret(secretEnv.dbPassword, "dbAppPassword"),
                secret(secretEnv.adminPassword, "adminPassword"),
                secret(secretEnv.encryptionKey, "encryptionKey"),
                secret(secretEnv.signingKeystorePassword, "signingKeystorePassword"),
            ],
            mountPoints: [
                mount(volumeNames.config, imageConfigVolume, true),
                mount(volumeNames.artifacts, imageArtifactVolume, true),
                // The seed's layout: userstores and tenants live on the shared file system.
                mount(volumeNames.userstores, `${home}/repository/deployment/server/userstores`),
                mount(volumeNames.tenants, `${home}/repository/tenants`),
            ],
            dependsOn: [
                { containerName: containerNames.config, condition: "SUCCESS" },
                { containerName: containerNames.dbInit, condition: "SUCCESS" },
                { containerName: containerNames.keystores, condition: "SUCCESS" },
            ],
            healthCheck: {
                command: [
                    "CMD-SHELL",
                    `curl -fsk --max-time 4 https://localhost:${isPorts.https}${healthCheckPath} > /dev/null || exit 1`,
                ],
                interval: 30,
                timeout: 5,
                retries: 5,
                // ECS's maximum; IS's first start (seeding an empty database) takes minutes.
                startPeriod: 300,
            },
            stopTimeout: stopTimeoutSeconds,
            logConfiguration: logs(containerNames.is),
        },
    ];
}
