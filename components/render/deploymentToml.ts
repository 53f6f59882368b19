// deployment.toml for one IS node, from the cluster model. Every key used here is one the
// IS config-mapper knows (see test/render/deploymentToml.test.ts against the reference list).
// Secrets appear only as $env{...} placeholders that IS resolves at start.
import * as TOML from "@iarna/toml";
import { knownCaches } from "../config/defaults";
import { ClusterModel, DatabaseModel, Membership, NodeModel, secretEnv } from "../model";

type Table = Record<string, unknown>;

export function deploymentTomlObject(model: ClusterModel, node: NodeModel): Table {
    const server: Table = {
        hostname: model.hostname,
        node_ip: node.ip,
        force_local_cache: model.caching.forceLocalCache,
    };
    if (model.caching.cacheTimeoutMinutes !== undefined)
        server.default_cache_timeout = model.caching.cacheTimeoutMinutes;

    const database: Table = {};
    for (const db of model.databases) database[db.key] = databaseTable(model, db);

    const doc: Table = {
        server,
        super_admin: {
            username: "admin",
            password: `$env{${secretEnv.adminPassword}}`,
            create_admin_account: true,
        },
        user_store: {
            type: "database_unique_id",
            // WSO2's MySQL guidance: MySQL compares case-insensitively, so IS must not.
            properties: { CaseInsensitiveUsername: false, UseCaseSensitiveUsernameForCacheKeys: false },
        },
        database,
        ...(model.databases.some((d) => d.key === "user")
            ? { realm_manager: { data_source: "WSO2USER_DB" } }
            : {}),
        transport: {
            // The load balancer's ports, so IS builds its public URLs with them.
            https: { properties: { proxyPort: 443 } },
            http: { properties: { proxyPort: 80 } },
        },
        // The load balancer probes /api/health-check/v1.0/health; it answers only when enabled.
        carbon_health_check: { enable: true },
    };
    // The cluster's own key material, never what every IS download ships (product-is v7.1.0
    // default.json: encryption.key 03BAFEB2..., keystore.primary.file_name wso2carbon.p12).
    // [encryption] key feeds the SymmetricKeyInternalCryptoProvider product-is selects
    // (carbon-kernel v4.10.42 carbon.xml.j2: <Secret>{{encryption.key}}</Secret>). The primary
    // keystore signs tokens and assertions; [keystore.internal] defaults to the primary through
    // $ref{} in the kernel's default.json and is set here too so that the file says it.
    const signingPassword = `$env{${secretEnv.signingKeystorePassword}}`;
    const signing: Table = {
        file_name: model.signingKeystore.keystoreFile,
        type: "PKCS12",
        password: signingPassword,
        alias: model.signingKeystore.alias,
        key_password: signingPassword,
    };
    doc.encryption = { key: `$env{${secretEnv.encryptionKey}}` };
    doc.keystore = { primary: signing, internal: { ...signing } };
    if (model.backendTls) {
        // 9443 serves the cluster's certificate, which the load balancer verifies. Built at boot
        // by fetch-secrets.sh. Without it [keystore.tls] defaults to the primary keystore.
        const password = `$env{${secretEnv.tlsKeystorePassword}}`;
        (doc.keystore as Table).tls = {
            file_name: model.backendTls.keystoreFile,
            type: "PKCS12",
            password,
            alias: model.backendTls.alias,
            key_password: password,
        };
    }
    if (model.membership) {
        doc.clustering = clusteringTable(model, node, model.membership);
        doc.hazelcast = { "hazelcast.shutdownhook.enabled": "false", "hazelcast.logging.type": "log4j2" };
    }
    const disabled = model.caching.scenario === 3 ? [...knownCaches] : model.caching.disabledCaches;
    if (disabled.length > 0) {
        doc.cache = Object.fromEntries(disabled.map((name) => [name, { enable: false }]));
    }
    return doc;
}

/** Where the $env{} values come from on this target (the header says so to whoever reads the file). */
function secretSourceOf(model: ClusterModel): string {
    if (model.secrets.source === "kubernetes") return `the Secret ${model.secrets.secretName}`;
    if (model.membership?.scheme === "aws-ecs") return "the task definition's secrets (Secrets Manager)";
    return "/etc/wso2is/secrets.env (fetch-secrets.sh)";
}

export function renderDeploymentToml(model: ClusterModel, node: NodeModel): string {
    const header = [
        `# deployment.toml of ${node.name} in cluster ${model.clusterName}, rendered by wso2is-cluster.`,
        `# Caching scenario ${model.caching.scenario}; membership ${model.membership?.scheme ?? "none (clustering off)"}.`,
        `# Secrets are $env{...} placeholders, filled at start from ${secretSourceOf(model)}.`,
        "",
    ].join("\n");
    const body = TOML.stringify(deploymentTomlObject(model, node) as TOML.JsonMap);
    // @iarna/toml writes 60000 as 60_000 (TOML 1.0); IS's older TOML parser may not read that.
    return (
        header +
        body.replace(
            /^(\s*[A-Za-z_]+ = )(\d{1,3}(?:_\d{3})+)$/gm,
            (_m, key: string, n: string) => key + n.replace(/_/g, ""),
        )
    );
}

/** JDBC URL as IS wants it in deployment.toml: it lands in XML verbatim, so '&' is written '&amp;'. */
export function jdbcUrl(model: ClusterModel, db: DatabaseModel): string {
    const { host, port, jdbcParams } = model.database;
    return `jdbc:mysql://${host}:${port}/${db.name}?${jdbcParams.join("&amp;")}`;
}

function databaseTable(model: ClusterModel, db: DatabaseModel): Table {
    return {
        // `type` is read for identity_db and shared_db (infer.json); [database.user] takes url + driver.
        ...(db.key === "user" ? {} : { type: "mysql" }),
        url: jdbcUrl(model, db),
        username: model.database.appUser,
        password: `$env{${secretEnv.dbPassword}}`,
        driver: "com.mysql.cj.jdbc.Driver",
        pool_options: {
            validationQuery: "SELECT 1",
            testOnBorrow: true,
            validationInterval: 30000,
            maxActive: 80,
            maxWait: 60000,
        },
    };
}

function clusteringTable(model: ClusterModel, node: NodeModel, m: Membership): Table {
    const base: Table = { membership_scheme: m.scheme, domain: `wso2.is.${model.clusterName}` };
    switch (m.scheme) {
        case "wka":
            return {
                ...base,
                local_member_host: node.ip,
                local_member_port: String(m.port),
                members: m.members,
            };
        case "aws":
            return {
                ...base,
                local_member_host: node.ip,
                local_member_port: String(m.port),
                // Exactly the keys the kernel's AWS scheme accepts; iamRole, never access keys.
                properties: {
                    iamRole: m.iamRole,
                    region: m.region,
                    securityGroup: m.securityGroup,
                    tagKey: m.tagKey,
                    tagValue: m.tagValue,
                },
            };
        case "aws-ecs":
            // carbon-kernel v4.10.42 AWSECSBasedMembershipScheme: the aws scheme's keys plus the
            // required networkInterface (the kernel then drops local_member_host, so none is
            // written). hostHeader "ec2" makes Hazelcast list EC2 container instances even though
            // it runs inside ECS (AwsClientConfigurator.explicitlyEc2Configured). tagKey/tagValue
            // are explicit, so infer.json's clusterName-based defaults never apply.
            return {
                ...base,
                local_member_port: String(m.port),
                properties: {
                    region: m.region,
                    hostHeader: "ec2",
                    securityGroup: m.securityGroup,
                    tagKey: m.tagKey,
                    tagValue: m.tagValue,
                    networkInterface: m.networkInterface,
                },
            };
        case "kubernetes":
            return {
                ...base,
                local_member_port: String(m.port),
                properties: { KUBERNETES_NAMESPACE: m.namespace, KUBERNETES_SERVICES: m.services },
            };
        case "multicast":
            return base;
    }
}

/**
 * A value IS reads through $env{...}, in the form that reaches IS intact. IS's config tool
 * (config-mapper 1.0.22 ReferenceResolver) substitutes it with String.replaceAll (`$` and `\`
 * are special there), then resolves $ref{...} in the result, and Jinjava writes it into the XML
 * files unescaped (user-mgt.xml <Password>, carbon.xml, catalina-server.xml attributes). As XML
 * character references these characters pass every step, and the XML parser restores them.
 * fetch-secrets.sh does the same in jq (is_value); test/integration/is-values.test.ts runs both
 * through that path.
 */
export function isEnvValue(value: string): string {
    // Non-ASCII too: the JVM decodes the environment with the locale's charset (POSIX: ASCII).
    return value.replace(/[&<>"'$\\{}]|[^ -~]/gu, (c) => `&#${c.codePointAt(0)};`);
}
