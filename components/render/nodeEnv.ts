// /etc/wso2is/node.env: the non-secret parameters of the boot scripts (scripts/CONTRACT.md).
import { ClusterModel, NodeModel, isHttpsPort } from "../model";
import {
    dbWaitPollSeconds,
    dbWaitSeconds,
    firstStartWaitSeconds,
    jvmHeapPercent,
    secretFetchPollSeconds,
    secretFetchSeconds,
    shareMountPollSeconds,
    shareMountSeconds,
} from "../model/boot";

/**
 * The Ubuntu packages a VM node needs, in one place: bootstrap.sh installs them (apt retries,
 * lock wait) from node.env's NODE_PACKAGES; cloud-init's `packages:` module never retries.
 */
export function nodePackages(model: ClusterModel): string[] {
    return [
        "openjdk-21-jre-headless",
        "unzip",
        "curl",
        "jq",
        "mysql-client",
        // redirect-443.sh: the node's own calls to its public URL.
        "nftables",
        model.sharedFs.protocol === "smb" ? "cifs-utils" : "nfs-common",
    ];
}

/** Single-quoted for both bash `source` and systemd EnvironmentFile. */
function quote(value: string): string {
    if (value.includes("'") || value.includes("\n"))
        throw new Error(`node.env value must not contain quotes or newlines: ${value}`);
    return `'${value}'`;
}

export function nodeEnvEntries(model: ClusterModel, node: NodeModel): [string, string][] {
    const entries: [string, string][] = [
        ["CLUSTER_NAME", model.clusterName],
        ["NODE_NAME", node.name],
        ["IS_VERSION", model.is.version],
        ["IS_HOME", model.is.home],
        ["IS_USER", model.is.user],
        ["IS_UID", String(model.is.uid)],
        ["IS_ZIP_URL", model.is.distributionUrl],
        ["IS_ZIP_SHA256", model.is.distributionSha256 ?? ""],
        ["JDBC_DRIVER_URL", model.is.jdbcDriverUrl],
        ["JDBC_DRIVER_SHA256", model.is.jdbcDriverSha256],
        ["SHARE_MOUNT", model.sharedFs.mountPoint],
        // The share's mount targets / private endpoint may still be coming up at first boot.
        ["SHARE_MOUNT_RETRIES", String(Math.ceil(shareMountSeconds / shareMountPollSeconds))],
        ["SHARE_MOUNT_RETRY_DELAY", String(shareMountPollSeconds)],
        ["DB_HOST", model.database.host],
        ["DB_PORT", String(model.database.port)],
        ["DB_TLS", model.database.tls ? "required" : "disabled"],
        ["DB_APP_USER", model.database.appUser],
        // Nodes boot while the database is still being created: db-init waits dbWaitSeconds.
        ["DB_INIT_RETRIES", String(Math.ceil(dbWaitSeconds / dbWaitPollSeconds))],
        ["DB_INIT_RETRY_DELAY", String(dbWaitPollSeconds)],
        ["DB_INIT_PLAN", model.databases.map((d) => `${d.name}:${d.scripts.join(",")}`).join(" ")],
        ["SECRET_SOURCE", model.secrets.source],
        ["SECRET_ID", "id" in model.secrets ? model.secrets.id : model.secrets.secretName],
        ["NODE_IP_SOURCE", model.nodeIp],
        ["LB_HOSTNAME", model.hostname],
    ];
    if (model.secrets.source === "aws-secrets-manager") entries.push(["AWS_REGION", model.secrets.region]);
    // Key Vault only: a new VM waits for its role to propagate (secretFetchSeconds). Secrets
    // Manager's read retries with aws-api.sh's budget (AWS_API_RETRIES), so it gets none.
    if (model.secrets.source === "azure-key-vault")
        entries.push(
            ["SECRET_FETCH_RETRIES", String(Math.ceil(secretFetchSeconds / secretFetchPollSeconds))],
            ["SECRET_FETCH_RETRY_DELAY", String(secretFetchPollSeconds)],
        );
    // s3 delivery: where fetch-scripts.sh reads the scripts the manifest names (CONTRACT.md).
    const delivery = model.scriptDelivery;
    if (delivery.kind === "s3")
        entries.push(
            ["SCRIPT_BUCKET", delivery.bucket],
            ["SCRIPT_REGION", delivery.region],
            ["SCRIPT_PREFIX", delivery.prefix],
        );
    // Not read by any script: a new secret version changes this file, so the nodes roll.
    if ("version" in model.secrets && model.secrets.version)
        entries.push(["SECRET_VERSION", model.secrets.version]);
    if (model.nodeIp === "static") entries.push(["NODE_IP", node.ip]);
    // The cluster's signing keystore ([keystore.primary]/[keystore.internal]), built by fetch-secrets.sh.
    entries.push(
        [
            "SIGNING_KEYSTORE_FILE",
            `${model.is.home}/repository/resources/security/${model.signingKeystore.keystoreFile}`,
        ],
        ["SIGNING_KEYSTORE_ALIAS", model.signingKeystore.alias],
    );
    // The keystore of 9443 and the alias of the cluster CA in IS's truststore (fetch-secrets.sh).
    if (model.backendTls) {
        entries.push(
            [
                "TLS_KEYSTORE_FILE",
                `${model.is.home}/repository/resources/security/${model.backendTls.keystoreFile}`,
            ],
            ["TLS_KEYSTORE_ALIAS", model.backendTls.alias],
            ["TLS_CA_ALIAS", model.backendTls.caAlias],
        );
    }
    // SMB mounts read their credentials from this file; fetch-secrets.sh writes it (0600).
    if (model.sharedFs.protocol === "smb")
        entries.push(["SMB_CREDENTIALS_FILE", model.sharedFs.credentialsFile]);
    return entries;
}

/** What only a VM node's units read (bootstrap.sh, jvm-heap.sh, redirect-443.sh, the gate). */
export function vmNodeEnvEntries(model: ClusterModel): [string, string][] {
    return [
        ["NODE_PACKAGES", nodePackages(model).join(" ")],
        ["IS_HTTPS_PORT", String(isHttpsPort)],
        ["JVM_HEAP_PERCENT", String(jvmHeapPercent)],
        ["FIRST_START_WAIT", String(firstStartWaitSeconds)],
        ["FIRST_START_HOLD_TIMEOUT", String(firstStartWaitSeconds)],
    ];
}

export function renderNodeEnv(model: ClusterModel, node: NodeModel): string {
    const lines = [...nodeEnvEntries(model, node), ...vmNodeEnvEntries(model)].map(
        ([k, v]) => `${k}=${quote(v)}`,
    );
    return [
        "# Rendered by wso2is-cluster. No secrets here: they arrive in secrets.env at boot.",
        ...lines,
        "",
    ].join("\n");
}

/**
 * The db-init parameters of a container target (db-init.sh's node.env): the DB_* entries and
 * IS_HOME where the image's dbscripts were copied. No secret: those arrive separately.
 */
export function renderDbInitEnv(model: ClusterModel, isHome: string): string {
    return (
        nodeEnvEntries(model, model.nodes[0])
            .filter(([k]) => k.startsWith("DB_"))
            .concat([["IS_HOME", isHome]])
            .map(([k, v]) => `${k}=${quote(v)}`)
            .join("\n") + "\n"
    );
}
