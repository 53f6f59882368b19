// Per-target defaults. The node sizes meet the seed's minimum per IS node (4 vCPU, 4 GB RAM,
// 10 GB disk); the known-size tables let validation reject a size that is too small.

export const targets = ["aws", "azure", "aks", "ecs"] as const;
export type Target = (typeof targets)[number];

export const membershipSchemes = ["wka", "aws", "aws-ecs", "kubernetes", "multicast"] as const;
export type MembershipScheme = (typeof membershipSchemes)[number];

export const sharedFsKinds = ["efs", "azure-files-nfs", "azure-files-smb", "nfs"] as const;
export type SharedFsKind = (typeof sharedFsKinds)[number];

export const databaseLayouts = ["identity-shared", "separate"] as const;
export type DatabaseLayout = (typeof databaseLayouts)[number];

/** The seed's system requirements for one IS node. */
export const seedMinimum = { vcpu: 4, memoryGb: 4, diskGb: 10 } as const;

export interface TargetDefaults {
    membership: MembershipScheme;
    /** Membership schemes this target can run, with the reason the others cannot. */
    membershipAllowed: MembershipScheme[];
    nodeSize: string;
    sharedFs: SharedFsKind;
    sharedFsAllowed: SharedFsKind[];
    networkCidr: string;
    dbVersion: string;
    dbSize: { dev: string; production: string };
}

export const targetDefaults: Record<Target, TargetDefaults> = {
    aws: {
        membership: "aws",
        membershipAllowed: ["aws"],
        nodeSize: "c6i.xlarge",
        sharedFs: "efs",
        sharedFsAllowed: ["efs", "nfs"],
        networkCidr: "10.40.0.0/16",
        dbVersion: "8.0",
        dbSize: { dev: "db.t4g.medium", production: "db.m6g.large" },
    },
    azure: {
        membership: "wka",
        membershipAllowed: ["wka"],
        nodeSize: "Standard_D4s_v5",
        sharedFs: "azure-files-nfs",
        sharedFsAllowed: ["azure-files-nfs", "azure-files-smb", "nfs"],
        networkCidr: "10.41.0.0/16",
        dbVersion: "8.0.21",
        dbSize: { dev: "Standard_B2ms", production: "Standard_D2ds_v4" },
    },
    aks: {
        membership: "kubernetes",
        membershipAllowed: ["kubernetes"],
        // AKS node pool VM size: one IS pod asks for the seed's 4 vCPU, so a node needs 8.
        nodeSize: "Standard_D8s_v5",
        sharedFs: "azure-files-smb",
        sharedFsAllowed: ["azure-files-smb", "azure-files-nfs"],
        networkCidr: "10.42.0.0/16",
        dbVersion: "8.0.21",
        dbSize: { dev: "Standard_B2ms", production: "Standard_D2ds_v4" },
    },
    ecs: {
        membership: "aws-ecs",
        membershipAllowed: ["aws-ecs"],
        // One IS task per container instance; the task takes the seed's 4 vCPU (docs/ecs.md).
        nodeSize: "c6i.xlarge",
        // ECS mounts EFS natively (task volumes with access points); no other NFS server.
        sharedFs: "efs",
        sharedFsAllowed: ["efs"],
        networkCidr: "10.43.0.0/16",
        dbVersion: "8.0",
        dbSize: { dev: "db.t4g.medium", production: "db.m6g.large" },
    },
};

/** Why a scheme cannot run on a target: shown verbatim in the config error. */
export const membershipRejections: Record<Target, Partial<Record<MembershipScheme, string>>> = {
    aws: {
        wka: 'EC2 Auto Scaling instances get new private IPs whenever they are replaced, so a fixed members list goes stale; use "aws" (tag-based discovery through the instance role)',
        "aws-ecs":
            'this target runs IS on plain EC2 instances, not ECS tasks; use "aws", or cloud "ecs" for ECS',
        kubernetes: 'there is no Kubernetes API on EC2 nodes; use "aws"',
        multicast: 'AWS VPCs drop multicast traffic, so nodes would never find each other; use "aws"',
    },
    azure: {
        aws: 'the aws scheme discovers EC2 instances through the AWS API; Azure VMs use "wka" with their static private IPs',
        "aws-ecs": 'aws-ecs discovers ECS container instances through the AWS API; Azure VMs use "wka"',
        kubernetes: 'there is no Kubernetes API on Azure VMs; use "wka"',
        multicast:
            'Azure virtual networks drop multicast traffic, so nodes would never find each other; use "wka"',
    },
    aks: {
        wka: 'pod IPs change on every restart, so a fixed members list goes stale; use "kubernetes"',
        aws: 'the aws scheme discovers EC2 instances through the AWS API; use "kubernetes" on AKS',
        "aws-ecs": 'aws-ecs discovers ECS container instances through the AWS API; use "kubernetes" on AKS',
        multicast:
            'Azure virtual networks (and so AKS pod networks) drop multicast traffic; use "kubernetes"',
    },
    ecs: {
        wka: 'ECS replaces tasks and container instances with new private IPs, so a fixed members list goes stale; use "aws-ecs" (discovery of the container instances through the task role)',
        aws: 'the ECS target renders the kernel\'s aws-ecs scheme (the aws scheme plus networkInterface, which picks the VPC address inside the container); use "aws-ecs"',
        kubernetes: 'there is no Kubernetes API on ECS; use "aws-ecs"',
        multicast: 'AWS VPCs drop multicast traffic, so tasks would never find each other; use "aws-ecs"',
    },
};

/** Known instance sizes: vCPU and GiB of memory. Unknown sizes are accepted as given. */
export const knownNodeSizes: Record<string, { vcpu: number; memoryGb: number }> = {
    "t3.medium": { vcpu: 2, memoryGb: 4 },
    "t3.large": { vcpu: 2, memoryGb: 8 },
    "t3.xlarge": { vcpu: 4, memoryGb: 16 },
    "c5.large": { vcpu: 2, memoryGb: 4 },
    "c5.xlarge": { vcpu: 4, memoryGb: 8 },
    "c6i.large": { vcpu: 2, memoryGb: 4 },
    "c6i.xlarge": { vcpu: 4, memoryGb: 8 },
    "c6i.2xlarge": { vcpu: 8, memoryGb: 16 },
    "m5.large": { vcpu: 2, memoryGb: 8 },
    "m6i.large": { vcpu: 2, memoryGb: 8 },
    "m6i.xlarge": { vcpu: 4, memoryGb: 16 },
    "m6i.2xlarge": { vcpu: 8, memoryGb: 32 },
    "m7i.xlarge": { vcpu: 4, memoryGb: 16 },
    Standard_B2s: { vcpu: 2, memoryGb: 4 },
    Standard_B2ms: { vcpu: 2, memoryGb: 8 },
    Standard_B4ms: { vcpu: 4, memoryGb: 16 },
    Standard_D2s_v5: { vcpu: 2, memoryGb: 8 },
    Standard_D4s_v5: { vcpu: 4, memoryGb: 16 },
    Standard_D8s_v5: { vcpu: 8, memoryGb: 32 },
    Standard_F2s_v2: { vcpu: 2, memoryGb: 4 },
    Standard_F4s_v2: { vcpu: 4, memoryGb: 8 },
    Standard_F8s_v2: { vcpu: 8, memoryGb: 16 },
};

/**
 * Azure Database for MySQL Flexible Server: the highest `max_connections` each SKU allows (the
 * "Max value" column of Microsoft's table, which goes by tier and vCores: MicrosoftDocs
 * azure-databases-docs articles/mysql/flexible-server/concepts-server-parameters.md,
 * "max_connections"). Used by the Azure VM and AKS targets (both size max_connections with
 * shared/database.ts); a SKU not listed here is accepted with a warning.
 */
export const mysqlFlexibleMaxConnections: Record<string, number> = (() => {
    const byVcores = {
        burstable: { 1: 341, 2: 1365, 4: 2731, 8: 5461, 12: 8193, 16: 10923, 20: 13653 },
        generalPurpose: { 2: 1365, 4: 2731, 8: 5461, 16: 10923, 32: 21845, 48: 32768, 64: 43691 },
        businessCritical: {
            2: 2731,
            4: 5461,
            8: 10923,
            16: 21845,
            20: 27306,
            32: 43691,
            48: 65536,
            64: 86016,
        },
    } as const;
    const table: Record<string, number> = {
        // B1s (1 GB) and B2s (4 GB) are the small-memory rows of their vCore count.
        Standard_B1s: 171,
        Standard_B1ms: byVcores.burstable[1],
        Standard_B2s: 683,
        Standard_B2ms: byVcores.burstable[2],
    };
    for (const v of [4, 8, 12, 16, 20] as const) table[`Standard_B${v}ms`] = byVcores.burstable[v];
    for (const [v, max] of Object.entries(byVcores.generalPurpose)) {
        for (const series of ["ds_v4", "ads_v5"]) table[`Standard_D${v}${series}`] = max;
    }
    for (const [v, max] of Object.entries(byVcores.businessCritical)) {
        for (const series of ["ds_v4", "ds_v5", "ads_v5"]) table[`Standard_E${v}${series}`] = max;
    }
    return table;
})();

/** Cache names IS knows (`[cache.<name>]` in deployment.toml), for caching scenario 4. */
export const knownCaches = [
    "app_info_cache",
    "authentication_context_cache",
    "authentication_error_cache",
    "authentication_request_cache",
    "authentication_result_cache",
    "authorization_grant_cache",
    "framework_session_context_cache",
    "idp_cache_by_auth_property",
    "idp_cache_by_hri",
    "idp_cache_by_name",
    "jwks_cache",
    "oauth_cache",
    "oauth_scope_cache",
    "oauth_session_data_cache",
    "org_details_cache_by_orgid",
    "private_key_jwt",
    "provisioning_connector_cache",
    "provisioning_entity_cache",
    "saml_sso_participant_cache",
    "saml_sso_session_data_cache",
    "saml_sso_session_index_cache",
    "service_provider_cache",
    "service_provider_cache_id",
    "service_provider_cache_inbound_auth",
    "service_provider_provisioning_connector_cache",
    "tenant_domain_cache_by_orgid",
] as const;

/**
 * Scenario 4 default: the caches whose staleness is a security risk (sessions, tokens, grants)
 * are disabled; the rest stay local with Hazelcast invalidation.
 */
export const defaultSecurityCaches = [
    "authentication_context_cache",
    "authentication_result_cache",
    "authorization_grant_cache",
    "oauth_cache",
    "oauth_session_data_cache",
    "saml_sso_session_data_cache",
];

export const defaultIsVersion = "7.1.0";
export const defaultJdbcDriverVersion = "9.1.0";
