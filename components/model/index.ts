// The cloud-neutral cluster model: what every IS node must know, built from the validated
// config plus the facts a target knows once its resources exist (DB endpoint, share address,
// how nodes find their IP and each other). Renderers take only this model. Pure: no Pulumi.
import type { MembershipScheme } from "../config/defaults";
import type { ClusterConfig } from "../config/schema";

export const isUser = "wso2is";
/** Fixed uid/gid of the IS user on every node (WSO2's images use 802), so shared files match. */
export const isUid = 802;
export const shareMountPoint = "/mnt/wso2is-share";
export const healthCheckPath = "/api/health-check/v1.0/health";
/** IS's HTTPS transport port, what every load balancer forwards to. */
export const isHttpsPort = 9443;
/** Env var placeholders IS resolves at start ($env{...}); values come from secrets.env. */
export const secretEnv = {
    dbPassword: "WSO2_DB_PASSWORD",
    adminPassword: "WSO2_ADMIN_PASSWORD",
    tlsKeystorePassword: "WSO2_TLS_KEYSTORE_PASSWORD",
    /** [encryption] key: the cluster's own 128-bit key (hex) for what IS encrypts in its DB. */
    encryptionKey: "WSO2_ENCRYPTION_KEY",
    /** Password of the cluster's signing keystore ([keystore.primary] and [keystore.internal]). */
    signingKeystorePassword: "WSO2_SIGNING_KEYSTORE_PASSWORD",
} as const;
/**
 * The cluster's own primary keystore (token and assertion signing, [keystore.primary] and
 * [keystore.internal]) instead of the wso2carbon.p12 shipped in every IS download: a PKCS#12
 * assembled on the node / in the pod from the cluster secret, in IS_HOME/repository/resources/security/.
 */
export const signingKeystore = {
    file: "wso2is-signing.p12",
    alias: "wso2is-signing",
} as const;
/**
 * The keystore IS serves 9443 from on the VM targets (AWS and Azure: a certificate for the
 * public hostname, issued by the cluster's own CA; Application Gateway v2 verifies it): built at boot by fetch-secrets.sh from the cluster secret, in
 * IS_HOME/repository/resources/security/, and named in deployment.toml's [keystore.tls].
 */
export const backendKeystore = {
    file: "wso2is-backend.p12",
    alias: "wso2is-backend",
    caAlias: "wso2is-cluster-ca",
} as const;
export const nodeIpEnv = "NODE_IP";
/**
 * The database admin pair for db-init.sh only (VM nodes): fetch-secrets.sh writes it on request
 * (WSO2IS_DB_ADMIN_ENV) on tmpfs, db-init reads it (WSO2IS_SECRETS_ENV), the boot removes it.
 * secrets.env, which IS's unit reads, never holds it.
 */
export const dbAdminEnvFile = "/run/wso2is/db-admin.env";

/** Hazelcast member ports: WKA and kubernetes use 4000, the aws schemes 5701 (5701-5708 range). */
export const hazelcastPorts: Record<MembershipScheme, number> = {
    wka: 4000,
    kubernetes: 4000,
    aws: 5701,
    "aws-ecs": 5701,
    multicast: 45564,
};

/**
 * What the kernel's aws-ecs scheme reads (carbon-kernel v4.10.42 AWSECSBasedMembershipScheme
 * extends AWSBasedMembershipScheme): the aws scheme's EC2 discovery of the container instances
 * (region, securityGroup, tagKey, tagValue) plus networkInterface, the Hazelcast interface
 * pattern (e.g. 10.43.*.*) it binds to. No iamRole: inside ECS, Hazelcast takes the task role.
 */
export interface AwsEcsDiscovery {
    region: string;
    securityGroup: string;
    tagKey: string;
    tagValue: string;
    networkInterface: string;
}

/** How nodes find each other. Each variant holds exactly what its deployment.toml needs. */
export type Membership =
    | { scheme: "wka"; port: number; members: string[] }
    | {
          scheme: "aws";
          port: number;
          region: string;
          iamRole: string;
          securityGroup: string;
          tagKey: string;
          tagValue: string;
      }
    | ({ scheme: "aws-ecs"; port: number } & AwsEcsDiscovery)
    | { scheme: "kubernetes"; port: number; namespace: string; services: string }
    | { scheme: "multicast" };

/**
 * Where a VM node's boot scripts come from. `inline`: in the user-data (Azure customData holds
 * 64 KB). `s3`: EC2 user-data holds 16 KB, so the user-data carries only the fetcher and each
 * script's sha256; the node reads `s3://<bucket>/<prefix>/<sha256>` with its instance role and
 * refuses a script whose digest differs.
 */
export type ScriptDelivery =
    { kind: "inline" } | { kind: "s3"; bucket: string; region: string; prefix: string };

/** Facts the target supplies. Strings are final values (targets resolve Outputs first). */
export interface TargetFacts {
    /** Logical cluster name: used in tags, lock names and the Hazelcast domain. */
    clusterName: string;
    database: { host: string; port: number; tls: boolean; adminUser: string };
    sharedFs:
        | { protocol: "nfs"; source: string; options: string }
        | { protocol: "smb"; source: string; options: string; credentialsFile: string }
        | { protocol: "csi" };
    /**
     * `version`: the secret's current version (Secrets Manager VersionId, Key Vault secret
     * version). It goes into node.env as SECRET_VERSION, so a rotation changes the nodes' files
     * and the normal rolling replacement brings it to every node (docs/vm-nodes.md).
     */
    secrets:
        | {
              source: "aws-secrets-manager";
              id: string;
              region: string;
              /**
               * The secret version the nodes are built for (Secrets Manager VersionId): part of
               * what the launch template carries, so a rotated secret rolls the nodes.
               */
              version?: string;
          }
        | { source: "azure-key-vault"; id: string; version?: string }
        | { source: "kubernetes"; secretName: string };
    /**
     * True when 9443 must present the cluster's own certificate (the load balancer verifies it):
     * the secret then carries it, and IS uses it instead of its default keystore for TLS.
     */
    backendTls?: boolean;
    /** How a VM node gets its boot scripts; absent: inline in its user-data. */
    scriptDelivery?: ScriptDelivery;
    /** How a node learns its own IP: looked up at boot, fixed, or the pod IP. */
    nodeIp: "aws-imds" | "azure-imds" | "static" | "pod";
    /** Node names and, for static targets, their addresses. ASG/pod targets give one template node. */
    nodes: { name: string; ip?: string; zone?: string }[];
    /** Membership details the target knows (the scheme itself comes from config). */
    membership:
        | { scheme: "wka" }
        | {
              scheme: "aws";
              region: string;
              iamRole: string;
              securityGroup: string;
              tagKey: string;
              tagValue: string;
          }
        | ({ scheme: "aws-ecs" } & AwsEcsDiscovery)
        | { scheme: "kubernetes"; namespace: string; services: string }
        | { scheme: "multicast" };
}

export interface DatabaseModel {
    /** deployment.toml table: [database.<key>] */
    key: "identity_db" | "shared_db" | "user";
    name: string;
    /** WSO2 dbscripts applied to it, relative to IS_HOME, in order. */
    scripts: string[];
}

export interface NodeModel {
    name: string;
    /** A literal IP, or "$env{NODE_IP}" when the node learns it at boot. */
    ip: string;
    zone?: string;
}

export interface ClusterModel {
    clusterName: string;
    production: boolean;
    hostname: string;
    is: {
        version: string;
        home: string;
        user: string;
        uid: number;
        distributionUrl: string;
        distributionSha256?: string;
        jdbcDriverUrl: string;
        jdbcDriverSha256: string;
        prebaked: boolean;
    };
    caching: ClusterConfig["caching"] & { forceLocalCache: boolean; clustering: boolean };
    /** Undefined when the caching scenario turns Hazelcast clustering off (2 and 3). */
    membership?: Membership;
    database: TargetFacts["database"] & {
        appUser: string;
        jdbcParams: string[];
        layout: ClusterConfig["database"]["layout"];
    };
    databases: DatabaseModel[];
    sharedFs: TargetFacts["sharedFs"] & { mountPoint: string };
    secrets: TargetFacts["secrets"];
    nodeIp: TargetFacts["nodeIp"];
    scriptDelivery: ScriptDelivery;
    nodes: NodeModel[];
    healthCheckPath: string;
    /** The keystore of 9443 (TargetFacts.backendTls); absent: 9443 serves the signing keystore. */
    backendTls?: { keystoreFile: string; alias: string; caAlias: string };
    /** The cluster's signing keystore, on every target (never IS's shipped wso2carbon.p12). */
    signingKeystore: { keystoreFile: string; alias: string };
}

/** WSO2's MySQL guidance: driver timeouts + keepalive; TLS on when the server enforces it. */
function jdbcParams(tls: boolean): string[] {
    return [
        tls ? "sslMode=REQUIRED" : "sslMode=DISABLED",
        "characterEncoding=UTF-8",
        "connectTimeout=10000",
        "socketTimeout=60000",
        "tcpKeepAlive=true",
    ];
}

export function databasesFor(layout: ClusterConfig["database"]["layout"]): DatabaseModel[] {
    const identity: DatabaseModel = {
        key: "identity_db",
        name: "WSO2IS_IDENTITY_DB",
        scripts: ["dbscripts/identity/mysql.sql", "dbscripts/consent/mysql.sql"],
    };
    const shared: DatabaseModel = {
        key: "shared_db",
        name: "WSO2IS_SHARED_DB",
        scripts: ["dbscripts/mysql.sql"],
    };
    if (layout === "identity-shared") return [identity, shared];
    // WSO2 "separate databases for clustering": the user store (UM_* tables) gets its own DB.
    return [identity, shared, { key: "user", name: "WSO2IS_USER_DB", scripts: ["dbscripts/mysql.sql"] }];
}

export function buildClusterModel(config: ClusterConfig, facts: TargetFacts): ClusterModel {
    if (facts.membership.scheme !== config.membership) {
        throw new Error(
            `target supplied ${facts.membership.scheme} membership facts for a ${config.membership} cluster`,
        );
    }
    if (config.membership === "wka" && facts.nodeIp !== "static") {
        throw new Error(
            "wka membership needs nodes with static IPs (the members list is rendered before boot)",
        );
    }
    const { scenario } = config.caching;
    const clustering = scenario !== 2 && scenario !== 3;
    const nodes: NodeModel[] = facts.nodes.map((n) => {
        if (facts.nodeIp === "static" && !n.ip) throw new Error(`node ${n.name} has no static IP`);
        return { name: n.name, ip: facts.nodeIp === "static" ? n.ip! : `$env{${nodeIpEnv}}`, zone: n.zone };
    });
    return {
        clusterName: facts.clusterName,
        production: config.production,
        hostname: config.hostname,
        is: {
            version: config.is.version,
            home: `/opt/wso2is/wso2is-${config.is.version}`,
            user: isUser,
            uid: isUid,
            distributionUrl: config.is.distributionUrl,
            distributionSha256: config.is.distributionSha256,
            jdbcDriverUrl: config.is.jdbcDriverUrl,
            jdbcDriverSha256: config.is.jdbcDriverSha256,
            prebaked: config.node.imageId !== undefined,
        },
        caching: { ...config.caching, forceLocalCache: scenario !== 5, clustering },
        membership: clustering ? membershipFor(facts, nodes) : undefined,
        database: {
            ...facts.database,
            appUser: "wso2is",
            jdbcParams: jdbcParams(facts.database.tls),
            layout: config.database.layout,
        },
        databases: databasesFor(config.database.layout),
        sharedFs: { ...facts.sharedFs, mountPoint: shareMountPoint },
        secrets: facts.secrets,
        nodeIp: facts.nodeIp,
        scriptDelivery: facts.scriptDelivery ?? { kind: "inline" },
        nodes,
        healthCheckPath,
        signingKeystore: { keystoreFile: signingKeystore.file, alias: signingKeystore.alias },
        ...(facts.backendTls
            ? {
                  backendTls: {
                      keystoreFile: backendKeystore.file,
                      alias: backendKeystore.alias,
                      caAlias: backendKeystore.caAlias,
                  },
              }
            : {}),
    };
}

function membershipFor(facts: TargetFacts, nodes: NodeModel[]): Membership {
    const m = facts.membership;
    switch (m.scheme) {
        case "wka": {
            const port = hazelcastPorts.wka;
            return { scheme: "wka", port, members: nodes.map((n) => `${n.ip}:${port}`) };
        }
        case "aws":
            return { ...m, port: hazelcastPorts.aws };
        case "aws-ecs":
            return { ...m, port: hazelcastPorts["aws-ecs"] };
        case "kubernetes":
            return { ...m, port: hazelcastPorts.kubernetes };
        case "multicast":
            return { scheme: "multicast" };
    }
}
