// Every config key the program reads (namespace `wso2is-cluster:`), with its Pulumi.yaml type
// and a one-line description. Pulumi.yaml, the README table and the unknown-key check all
// follow this list; a test keeps Pulumi.yaml in step with it.

export const configNamespace = "wso2is-cluster";

/**
 * The EC2 nodes' image in dev stacks (nodeImageName): one of Canonical's release images, seen in
 * use in June 2025; whether it is still listed in every region is not checked offline (deprecated
 * images still resolve: nodes.ts asks with includeDeprecated).
 */
export const defaultUbuntuImageName = "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20250610";

export type ConfigKind = "string" | "boolean" | "integer" | "array";

export interface ConfigKey {
    kind: ConfigKind;
    description: string;
    /** How the default is chosen, for the README (applied in schema.ts). */
    defaultText: string;
    /**
     * The default declared in Pulumi.yaml. The CLI demands a value for every declared key
     * without one, so optional keys declare either their real default or an "automatic"
     * value ("" / 0 / []) that schema.ts reads as unset. Undefined = required.
     */
    projectDefault?: string | number | boolean | string[];
    /** Secrets are not declared in Pulumi.yaml (project config is clear text only). */
    secret?: boolean;
}

/** The raw strings that mean "not set, use the automatic default". */
export const automaticValues = new Set(["", "0", "[]"]);

export const configKeys = {
    cloud: {
        kind: "string",
        description:
            "Target: aws (EC2), azure (VMs), aks (Kubernetes on AKS) or ecs (ECS on EC2 container instances).",
        defaultText: "required",
    },
    production: {
        kind: "boolean",
        description:
            "Production mode: HA database, deletion protection, backups >= 7 days, protected database and share, real certificate required.",
        defaultText: "false",
        projectDefault: false,
    },
    hostname: {
        kind: "string",
        description: "DNS name users reach the load balancer at ([server] hostname).",
        defaultText: "required",
    },
    nodes: {
        kind: "integer",
        description: "Number of IS nodes (2 or more).",
        defaultText: "2",
        projectDefault: 2,
    },
    membership: {
        kind: "string",
        description: "Hazelcast membership scheme: wka, aws, aws-ecs, kubernetes or multicast.",
        defaultText: "aws / wka / kubernetes / aws-ecs per target",
        projectDefault: "",
    },
    caching: {
        kind: "integer",
        description:
            "Caching scenario of the WSO2 deployment pattern, 1 to 5 (1 = local caches + Hazelcast invalidation).",
        defaultText: "1",
        projectDefault: 1,
    },
    disabledCaches: {
        kind: "array",
        description: "Scenario 4: caches to disable ([cache.<name>] enable = false).",
        defaultText: "the session/token caches",
        projectDefault: [],
    },
    cacheTimeoutMinutes: {
        kind: "integer",
        description:
            "Scenario 2: default cache timeout in minutes (shorter = less staleness without invalidation).",
        defaultText: "5 in scenario 2, else IS default",
        projectDefault: 0,
    },
    nodeSize: {
        kind: "string",
        description:
            "Instance type (aws, ecs: the container instances), VM size (azure) or node pool VM size (aks).",
        defaultText: "c6i.xlarge (aws, ecs) / Standard_D4s_v5 / Standard_D8s_v5",
        projectDefault: "",
    },
    nodeDiskGb: {
        kind: "integer",
        description: "OS disk size per node in GB (>= 10).",
        defaultText: "30",
        projectDefault: 30,
    },
    nodeImageId: {
        kind: "string",
        description:
            "Pre-baked machine image with IS installed (AMI id or Azure image id); skips the download. On ecs: the ECS-optimised AMI id of the container instances.",
        defaultText: "Ubuntu 24.04; ecs: the current ECS-optimised Amazon Linux 2023 AMI",
        projectDefault: "",
    },
    nodeImageName: {
        kind: "string",
        description:
            "cloud aws: the exact name of Canonical's Ubuntu 24.04 amd64 AMI the nodes boot (ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-<date>), resolved by name in the stack's region, never 'the newest': the image changes only when this does (docs/aws.md has the bump command). Not with nodeImageId.",
        defaultText: `dev: ${defaultUbuntuImageName}; production: required (or nodeImageId)`,
        projectDefault: "",
    },
    isVersion: {
        kind: "string",
        description: "WSO2 Identity Server version.",
        defaultText: "7.1.0",
        projectDefault: "7.1.0",
    },
    isDistributionUrl: {
        kind: "string",
        description: "URL of the IS zip the VM nodes download.",
        defaultText: "GitHub release of isVersion",
        projectDefault: "",
    },
    isDistributionSha256: {
        kind: "string",
        description:
            "sha256 of the IS zip (64 hex characters); nodes refuse a mismatch. All zeros is a placeholder: `pulumi up` stops on it, preview and synth warn.",
        defaultText: "required on VM targets",
        projectDefault: "",
    },
    isImage: {
        kind: "string",
        description: "IS container image (aks, ecs).",
        defaultText: "wso2/wso2is:<isVersion> (Docker Hub)",
        projectDefault: "",
    },
    imageDigests: {
        kind: "array",
        description:
            "aks: image digests, <repository>@sha256:<hex> (wso2/wso2is, library/mysql, library/traefik); required in production. An all-zero digest is a placeholder: `pulumi up` stops on it.",
        defaultText: "[] (tags only)",
        projectDefault: [],
    },
    jdbcDriverUrl: {
        kind: "string",
        description: "URL of MySQL Connector/J (>= 8.2.0).",
        defaultText: "Maven Central mysql-connector-j 9.1.0",
        projectDefault: "",
    },
    jdbcDriverSha256: {
        kind: "string",
        description:
            "sha256 of the Connector/J jar (64 hex characters). All zeros is a placeholder: `pulumi up` stops on it, preview and synth warn.",
        defaultText: "required",
        projectDefault: "",
    },
    platformStack: {
        kind: "string",
        description:
            "Stack reference (org/project/stack) whose outputs supply the network (or the AKS cluster).",
        defaultText: "none: the program creates the network",
        projectDefault: "",
    },
    networkCidr: {
        kind: "string",
        description: "Address space of the network the program creates (at least a /22).",
        defaultText: "10.40.0.0/16 / 10.41.0.0/16 / 10.42.0.0/16 / 10.43.0.0/16",
        projectDefault: "",
    },
    allowedCidrs: {
        kind: "array",
        description: "Client CIDRs allowed to reach the load balancer on 443 and 80.",
        defaultText: '["0.0.0.0/0"]',
        projectDefault: ["0.0.0.0/0"],
    },
    dbVersion: {
        kind: "string",
        description: "MySQL version.",
        defaultText: "8.0 (RDS) / 8.0.21 (Flexible Server)",
        projectDefault: "",
    },
    dbSize: {
        kind: "string",
        description: "Database instance class (RDS) or Flexible Server SKU.",
        defaultText: "per target, larger in production",
        projectDefault: "",
    },
    dbStorageGb: {
        kind: "integer",
        description: "Database storage in GB (>= 20).",
        defaultText: "50",
        projectDefault: 50,
    },
    dbLayout: {
        kind: "string",
        description: "identity-shared (IDENTITY_DB + SHARED_DB) or separate (adds a user-store DB).",
        defaultText: "identity-shared",
        projectDefault: "identity-shared",
    },
    dbBackupDays: {
        kind: "integer",
        description: "Database backup retention in days (>= 7 in production).",
        defaultText: "7 in production, 1 otherwise",
        projectDefault: 0,
    },
    sharedFs: {
        kind: "string",
        description: "Shared file system: efs, azure-files-nfs, azure-files-smb or nfs (your own server).",
        defaultText: "efs / azure-files-nfs / azure-files-smb",
        projectDefault: "",
    },
    sharedFsAddress: {
        kind: "string",
        description: "With sharedFs nfs: the export, host:/path.",
        defaultText: "none",
        projectDefault: "",
    },
    certificate: {
        kind: "string",
        description:
            "TLS certificate of the load balancer: an ACM ARN (aws), a Key Vault secret id (azure, aks) or self-signed (not in production).",
        defaultText: "self-signed",
        projectDefault: "self-signed",
    },
    adminPassword: {
        kind: "string",
        description: "IS super admin password (secret); generated when unset.",
        defaultText: "generated",
        secret: true,
    },
} satisfies Record<string, ConfigKey>;

export type ConfigKeyName = keyof typeof configKeys;
