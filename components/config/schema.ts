// Config validation: raw stack config strings -> one typed ClusterConfig, or one ConfigError
// that names every bad key, its value and what is allowed. Pure: no Pulumi imports, so tests
// and synth call it directly.
import * as ipaddr from "ipaddr.js";
import { z } from "zod";
import {
    DatabaseLayout,
    MembershipScheme,
    SharedFsKind,
    Target,
    databaseLayouts,
    defaultIsVersion,
    defaultJdbcDriverVersion,
    defaultSecurityCaches,
    knownCaches,
    knownNodeSizes,
    membershipRejections,
    mysqlFlexibleMaxConnections,
    membershipSchemes,
    seedMinimum,
    sharedFsKinds,
    targetDefaults,
    targets,
} from "./defaults";
import { ConfigKeyName, automaticValues, configKeys, configNamespace, defaultUbuntuImageName } from "./keys";
import { stackNameProblems } from "./names";
import { pinnableRepositories, workloadImages } from "../kubernetes/images";
import { maxConnections } from "../shared/database";
import { surgePods } from "../kubernetes/lifecycle";

export interface ClusterConfig {
    cloud: Target;
    production: boolean;
    hostname: string;
    nodes: number;
    membership: MembershipScheme;
    caching: { scenario: 1 | 2 | 3 | 4 | 5; disabledCaches: string[]; cacheTimeoutMinutes?: number };
    /** imageName (cloud aws): Canonical's Ubuntu image by exact name, when imageId is unset. */
    node: { size: string; diskGb: number; imageId?: string; imageName?: string };
    is: {
        version: string;
        distributionUrl: string;
        distributionSha256?: string;
        image: string;
        /** aks: repository -> sha256 digest ("sha256:<hex>") of the images the pods run. */
        imageDigests: Record<string, string>;
        jdbcDriverUrl: string;
        jdbcDriverSha256: string;
    };
    network: { platformStack?: string; cidr: string; allowedCidrs: string[] };
    database: {
        version: string;
        size: string;
        storageGb: number;
        layout: DatabaseLayout;
        backupDays: number;
    };
    sharedFs: { kind: SharedFsKind; address?: string };
    certificate:
        { kind: "self-signed" } | { kind: "acm"; arn: string } | { kind: "key-vault"; secretId: string };
    /** True when adminPassword is set (its value stays a Pulumi secret, read elsewhere). */
    adminPasswordSet: boolean;
}

/** The one error bad config produces: every problem on its own line, no stack trace. */
export class ConfigError extends Error {
    constructor(public readonly problems: string[]) {
        super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
        this.name = "ConfigError";
    }
}

const sha256 = /^[0-9a-f]{64}$/i;
const placeholderSha = /^0{64}$/;
// RFC 1123 host name with at least two labels: what users type into a browser.
const dnsName = /^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$/i;
const stackRef = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+){0,2}$/;

const hex64 = z.string().regex(sha256, "must be 64 hexadecimal characters (a sha256 digest)");
const cidrString = z
    .string()
    .refine((v) => parseCidr(v) !== undefined, "must be an IPv4 CIDR such as 10.40.0.0/16");

// Pulumi hands every config value over as a string; typed keys are parsed first.
const int = (min: number, max: number) =>
    z.preprocess(
        (v) => (typeof v === "string" && /^-?\d+$/.test(v.trim()) ? Number(v) : v),
        z
            .number({ error: "must be a whole number" })
            .int("must be a whole number")
            .min(min, `must be at least ${min}`)
            .max(max, `must be at most ${max}`),
    );
const bool = z.preprocess(
    (v) => (v === "true" ? true : v === "false" ? false : v),
    z.boolean({ error: "must be true or false" }),
);
const list = <T extends z.ZodTypeAny>(item: T) =>
    z.preprocess(
        (v) => {
            if (typeof v !== "string") return v;
            try {
                return JSON.parse(v);
            } catch {
                return v;
            }
        },
        z.array(item, { error: 'must be a list, e.g. ["a", "b"]' }),
    );
const oneOf = <T extends readonly [string, ...string[]]>(values: T) =>
    z.enum(values, { error: `must be one of ${values.join(", ")}` });

const rawSchema = z.strictObject({
    cloud: oneOf(targets),
    production: bool.optional(),
    hostname: z
        .string()
        .regex(dnsName, "must be a DNS name such as is.example.com (letters, digits, hyphens, dots)"),
    nodes: int(2, 50).optional(),
    membership: oneOf(membershipSchemes).optional(),
    caching: int(1, 5).optional(),
    disabledCaches: list(oneOf(knownCaches)).optional(),
    cacheTimeoutMinutes: int(1, 1440).optional(),
    nodeSize: z.string().min(1).optional(),
    nodeDiskGb: int(seedMinimum.diskGb, 4096).optional(),
    nodeImageId: z.string().min(1).optional(),
    nodeImageName: z
        .string()
        .regex(
            /^ubuntu\/images\/hvm-ssd-gp3\/ubuntu-noble-24\.04-amd64-server-\d{8}(\.\d+)?$/,
            "must be the exact name of a Canonical Ubuntu 24.04 amd64 gp3 image, e.g. ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20250610",
        )
        .optional(),
    isVersion: z
        .string()
        .regex(/^\d+\.\d+\.\d+$/, "must be a version such as 7.1.0")
        .optional(),
    isDistributionUrl: z.url({ protocol: /^https$/, error: "must be an https:// URL" }).optional(),
    isDistributionSha256: hex64.optional(),
    isImage: z.string().min(1).optional(),
    imageDigests: list(
        z
            .string()
            .regex(
                /^[a-z0-9][a-z0-9._/-]*@sha256:[0-9a-f]{64}$/,
                "must be <repository>@sha256:<64 hex>, e.g. library/mysql@sha256:…",
            ),
    ).optional(),
    jdbcDriverUrl: z.url({ protocol: /^https$/, error: "must be an https:// URL" }).optional(),
    jdbcDriverSha256: hex64.optional(),
    platformStack: z.string().regex(stackRef, "must be a stack reference: org/project/stack").optional(),
    networkCidr: cidrString.optional(),
    allowedCidrs: list(cidrString).optional(),
    dbVersion: z.string().min(1).optional(),
    dbSize: z.string().min(1).optional(),
    dbStorageGb: int(20, 16384).optional(),
    dbLayout: oneOf(databaseLayouts).optional(),
    dbBackupDays: int(1, 35).optional(),
    sharedFs: oneOf(sharedFsKinds).optional(),
    sharedFsAddress: z
        .string()
        .regex(/^[A-Za-z0-9.-]+:\/[^\s]*$/, "must be host:/export")
        .optional(),
    certificate: z.string().min(1).optional(),
    adminPassword: z.string().min(12, "must be at least 12 characters").optional(),
} satisfies Record<ConfigKeyName, z.ZodTypeAny>);

type Raw = z.infer<typeof rawSchema>;

/**
 * Validates raw config (key without namespace -> string value) into a ClusterConfig.
 * Throws ConfigError listing every problem. `secretKeys` are never echoed in messages.
 */
export function parseConfig(
    given: Record<string, string>,
    secretKeys: string[] = ["adminPassword"],
    /** The Pulumi stack, when known: cloud name limits depend on it (names.ts). */
    stack?: string,
): ClusterConfig {
    const raw = withoutAutomaticValues(given);
    const shown = (key: string, value: unknown) =>
        secretKeys.includes(key)
            ? "[secret]"
            : typeof value === "string"
              ? JSON.stringify(value)
              : JSON.stringify(value);
    const result = rawSchema.safeParse(raw);
    if (!result.success) {
        const problems: string[] = [];
        for (const issue of result.error.issues) {
            if (issue.code === "unrecognized_keys") {
                for (const key of issue.keys) {
                    problems.push(
                        `${configNamespace}:${key} is not a config key of this program (known keys: ${Object.keys(configKeys).join(", ")})`,
                    );
                }
                continue;
            }
            const key = String(issue.path[0] ?? "");
            if (raw[key] === undefined) {
                problems.push(
                    `${configNamespace}:${key} is required: ${configKeys[key as ConfigKeyName]?.description ?? ""}`.trim(),
                );
                continue;
            }
            const where = issue.path.length > 1 ? ` (item ${issue.path.slice(1).join(".")})` : "";
            problems.push(`${configNamespace}:${key} = ${shown(key, raw[key])}${where} ${issue.message}`);
        }
        throw new ConfigError(problems);
    }
    return resolve(result.data, raw, shown, stack);
}

/**
 * Drops the "automatic" values Pulumi.yaml declares for optional keys ("" / 0 / []), so the
 * per-target defaults apply. Only for keys whose declared default is automatic: nodes = 0
 * stays an error.
 */
function withoutAutomaticValues(given: Record<string, string>): Record<string, string> {
    const raw: Record<string, string> = {};
    for (const [key, value] of Object.entries(given)) {
        const declared = (configKeys as Record<string, { projectDefault?: unknown }>)[key]?.projectDefault;
        const automatic =
            declared !== undefined &&
            automaticValues.has(typeof declared === "string" ? declared : JSON.stringify(declared));
        if (automatic && automaticValues.has(value.trim())) continue;
        raw[key] = value;
    }
    return raw;
}

/** Defaults per target and the rules that involve more than one key. */
function resolve(
    r: Raw,
    raw: Record<string, string>,
    shown: (k: string, v: unknown) => string,
    stack?: string,
): ClusterConfig {
    const problems: string[] = [];
    // A key left unset is shown with the default that was applied to it.
    const bad = (key: ConfigKeyName, message: string, effective?: unknown) =>
        problems.push(
            `${configNamespace}:${key} = ${shown(key, raw[key] ?? effective)}${raw[key] === undefined ? " (the default)" : ""} ${message}`,
        );
    const d = targetDefaults[r.cloud];
    const production = r.production ?? false;
    const nodes = r.nodes ?? 2;

    const membership = r.membership ?? d.membership;
    if (!d.membershipAllowed.includes(membership)) {
        bad(
            "membership",
            `does not fit cloud ${r.cloud}: ${membershipRejections[r.cloud][membership] ?? `allowed: ${d.membershipAllowed.join(", ")}`}`,
        );
    }

    const scenario = (r.caching ?? 1) as 1 | 2 | 3 | 4 | 5;
    if (r.disabledCaches && scenario !== 4)
        bad("disabledCaches", `only applies to caching scenario 4 (caching is ${scenario})`);
    if (r.cacheTimeoutMinutes && scenario !== 2)
        bad("cacheTimeoutMinutes", `only applies to caching scenario 2 (caching is ${scenario})`);
    if (scenario === 4 && r.disabledCaches && r.disabledCaches.length === 0)
        bad("disabledCaches", "must name at least one cache in scenario 4");

    const size = r.nodeSize ?? d.nodeSize;
    const known = knownNodeSizes[size];
    const perNode =
        r.cloud === "aks" ? { vcpu: seedMinimum.vcpu * 2, memoryGb: seedMinimum.memoryGb * 2 } : seedMinimum;
    if (known && (known.vcpu < perNode.vcpu || known.memoryGb < perNode.memoryGb)) {
        bad(
            "nodeSize",
            `has ${known.vcpu} vCPU / ${known.memoryGb} GB; ${r.cloud === "aks" ? "an AKS node must hold one IS pod of" : "an IS node needs at least"} ${seedMinimum.vcpu} vCPU / ${seedMinimum.memoryGb} GB${r.cloud === "aks" ? " plus system pods, so at least 8 vCPU / 8 GB" : " (the seed's minimum)"}`,
        );
    }

    // Container targets run the IS image; only VM targets download the IS zip.
    const vmTarget = r.cloud === "aws" || r.cloud === "azure";
    const isVersion = r.isVersion ?? defaultIsVersion;
    if (vmTarget && !r.nodeImageId && !r.isDistributionSha256) {
        problems.push(
            `${configNamespace}:isDistributionSha256 is required on cloud ${r.cloud} (nodes verify the IS zip they download); or set nodeImageId to a pre-baked image`,
        );
    }
    // EC2's image changes only with the config: a pinned name (or nodeImageId), never "the newest".
    if (r.nodeImageName && r.cloud !== "aws") bad("nodeImageName", "only applies to cloud aws");
    else if (r.nodeImageName && r.nodeImageId)
        bad("nodeImageName", "is set together with nodeImageId: set one of them");
    else if (r.cloud === "aws" && production && !r.nodeImageId && !r.nodeImageName)
        problems.push(
            `${configNamespace}:nodeImageName is required in production on cloud aws (or nodeImageId), so the nodes' image changes only with the config: the newest name is \`aws ec2 describe-images --owners 099720109477 --filters 'Name=name,Values=ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*' --query 'sort_by(Images,&CreationDate)[-1].Name' --output text\``,
        );
    if (!r.jdbcDriverSha256) {
        problems.push(
            `${configNamespace}:jdbcDriverSha256 is required: the sha256 of the MySQL Connector/J jar the nodes verify`,
        );
    }
    const imageDigests = Object.fromEntries(
        (r.imageDigests ?? []).map((d) => d.split("@") as [string, string]),
    );
    if (r.imageDigests && r.cloud !== "aks") bad("imageDigests", "only applies to cloud aks");
    const unknownRepos = Object.keys(imageDigests).filter((repo) => !pinnableRepositories.includes(repo));
    if (unknownRepos.length > 0)
        bad("imageDigests", `names ${unknownRepos.join(", ")}; allowed: ${pinnableRepositories.join(", ")}`);
    if (r.cloud === "aks" && production) {
        // Tags move (mysql:8.4 follows 8.4.x; images are rebuilt for base-image fixes): production pins.
        const needed = pinnableRepositories.filter(
            (repo) => !imageDigests[repo] && !(repo === "wso2/wso2is" && r.isImage?.includes("@sha256:")),
        );
        if (needed.length > 0)
            bad(
                "imageDigests",
                `has no digest for ${needed.join(", ")}; production pins every image by digest (<repository>@sha256:<hex>)`,
                "[]",
            );
    }
    const driverVersion = /mysql-connector-j-(\d+)\.(\d+)\.(\d+)\.jar$/.exec(r.jdbcDriverUrl ?? "");
    if (
        driverVersion &&
        (Number(driverVersion[1]) < 8 || (Number(driverVersion[1]) === 8 && Number(driverVersion[2]) < 2))
    ) {
        bad("jdbcDriverUrl", "is Connector/J older than 8.2.0; IS 7 needs mysql-connector-j 8.2.0 or later");
    }

    const cidr = r.networkCidr ?? d.networkCidr;
    if (r.networkCidr && r.platformStack)
        bad(
            "networkCidr",
            "cannot be set together with platformStack (the platform stack supplies the network)",
        );
    const prefix = parseCidr(cidr)![1];
    // Every target carves the address space into four /24s (public/gateway, nodes, database, endpoints).
    if (prefix > 22)
        bad("networkCidr", `is a /${prefix}; the program needs at least a /22 (four /24 subnets)`);
    // A /24 node subnet holds 251 usable addresses on Azure (5 reserved); nodes are capped at 50 anyway.

    const sharedFs = r.sharedFs ?? d.sharedFs;
    if (!d.sharedFsAllowed.includes(sharedFs))
        bad("sharedFs", `is not available on cloud ${r.cloud}; allowed: ${d.sharedFsAllowed.join(", ")}`);
    if (sharedFs === "nfs" && !r.sharedFsAddress)
        problems.push(
            `${configNamespace}:sharedFsAddress is required with sharedFs = "nfs" (host:/export of your NFS server)`,
        );
    if (sharedFs !== "nfs" && r.sharedFsAddress)
        bad("sharedFsAddress", `only applies to sharedFs "nfs" (sharedFs is ${sharedFs})`);

    const backupDays = r.dbBackupDays ?? (production ? 7 : 1);
    if (production && backupDays < 7)
        bad("dbBackupDays", "is below 7; production keeps at least 7 days of database backups", backupDays);

    const certificate = parseCertificate(r.certificate ?? "self-signed", r.cloud);
    if ("error" in certificate) bad("certificate", certificate.error);
    else if (production && certificate.kind === "self-signed") {
        bad(
            "certificate",
            `is self-signed; production needs a real certificate (${isAwsTarget(r.cloud) ? "an ACM certificate ARN" : "a Key Vault secret id"})`,
            "self-signed",
        );
    }

    // Azure limits: a separate block (azureLimitProblems below).
    const azure = {
        cloud: r.cloud,
        nodes,
        nodeDiskGb: r.nodeDiskGb ?? defaultNodeDiskGb,
        nodeImageId: r.nodeImageId,
        dbSize: r.dbSize ?? (production ? d.dbSize.production : d.dbSize.dev),
        databases: databaseCount(r.dbLayout ?? "identity-shared"),
    };
    for (const { key, message } of azureLimitProblems(azure)) bad(key, message, azure[key]);
    // Cloud name limits the stack name reaches (names.ts).
    if (stack !== undefined) problems.push(...stackNameProblems(r.cloud, stack, nodes));

    if (problems.length > 0) throw new ConfigError(problems);
    return {
        cloud: r.cloud,
        production,
        hostname: r.hostname.toLowerCase(),
        nodes,
        membership,
        caching: {
            scenario,
            disabledCaches: scenario === 4 ? [...(r.disabledCaches ?? defaultSecurityCaches)] : [],
            cacheTimeoutMinutes: scenario === 2 ? (r.cacheTimeoutMinutes ?? 5) : undefined,
        },
        node: {
            size,
            diskGb: r.nodeDiskGb ?? defaultNodeDiskGb,
            imageId: r.nodeImageId,
            ...(r.cloud === "aws" && !r.nodeImageId
                ? { imageName: r.nodeImageName ?? defaultUbuntuImageName }
                : {}),
        },
        is: {
            version: isVersion,
            distributionUrl:
                r.isDistributionUrl ??
                `https://github.com/wso2/product-is/releases/download/v${isVersion}/wso2is-${isVersion}.zip`,
            distributionSha256: r.isDistributionSha256?.toLowerCase(),
            // The public Docker Hub image; docker.wso2.com serves subscription (updated) images.
            image: r.isImage ?? `wso2/wso2is:${isVersion}`,
            imageDigests,
            jdbcDriverUrl:
                r.jdbcDriverUrl ??
                `https://repo1.maven.org/maven2/com/mysql/mysql-connector-j/${defaultJdbcDriverVersion}/mysql-connector-j-${defaultJdbcDriverVersion}.jar`,
            jdbcDriverSha256: r.jdbcDriverSha256!.toLowerCase(),
        },
        network: { platformStack: r.platformStack, cidr, allowedCidrs: r.allowedCidrs ?? ["0.0.0.0/0"] },
        database: {
            version: r.dbVersion ?? d.dbVersion,
            size: r.dbSize ?? (production ? d.dbSize.production : d.dbSize.dev),
            storageGb: r.dbStorageGb ?? 50,
            layout: r.dbLayout ?? "identity-shared",
            backupDays,
        },
        sharedFs: { kind: sharedFs, address: r.sharedFsAddress },
        certificate: certificate as ClusterConfig["certificate"],
        adminPasswordSet: r.adminPassword !== undefined,
    };
}

function parseCertificate(value: string, cloud: Target): ClusterConfig["certificate"] | { error: string } {
    if (value === "self-signed") return { kind: "self-signed" };
    if (isAwsTarget(cloud)) {
        return /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]+$/.test(value)
            ? { kind: "acm", arn: value }
            : {
                  error: "must be an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>) or self-signed",
              };
    }
    return /^https:\/\/[a-z0-9-]{3,24}\.vault\.azure\.net\/secrets\/[A-Za-z0-9-]+(\/[0-9a-f]{32})?$/.test(
        value,
    )
        ? { kind: "key-vault", secretId: value }
        : {
              error: "must be a Key Vault secret id (https://<vault>.vault.azure.net/secrets/<name>) or self-signed",
          };
}

// ---------------------------------------------------------------------------------------------
// Azure limits checked before deploy (docs/azure.md "Limits checked before deploy"). Each is a
// limit Azure enforces only when the resource is created, i.e. in the middle of `pulumi up`.

/** OS disk of a node when nodeDiskGb is unset. */
export const defaultNodeDiskGb = 30;
/** Canonical's Ubuntu 24.04 image is a 30 GB disk; Azure refuses a smaller OS disk. */
export const ubuntuImageDiskGb = 30;
/** Databases IS connects to per node: identity + shared, or identity + consent + shared. */
export function databaseCount(layout: DatabaseLayout): number {
    return layout === "separate" ? 3 : 2;
}

/** max_connections the cluster asks of MySQL Flexible Server, and what the SKU allows (undefined: unknown SKU). */
export function mysqlConnectionBudget(
    sku: string,
    nodes: number,
    databases: number,
    surge = 0,
): { requested: number; allowed?: number } {
    return { requested: maxConnections(nodes, databases, surge), allowed: mysqlFlexibleMaxConnections[sku] };
}

/** IS processes that run beside `nodes` during a rollout: the AKS surge pod; VMs roll in place. */
function rolloutSurge(cloud: Target): number {
    return cloud === "aks" ? surgePods : 0;
}

export function azureLimitProblems(c: {
    cloud: Target;
    nodes: number;
    nodeDiskGb: number;
    nodeImageId?: string;
    dbSize: string;
    databases: number;
}): { key: "nodeDiskGb" | "dbSize"; message: string }[] {
    const problems: { key: "nodeDiskGb" | "dbSize"; message: string }[] = [];
    if (c.cloud !== "azure" && c.cloud !== "aks") return problems;
    if (c.cloud === "azure" && !c.nodeImageId && c.nodeDiskGb < ubuntuImageDiskGb)
        problems.push({
            key: "nodeDiskGb",
            message: `is below ${ubuntuImageDiskGb}: the Ubuntu 24.04 image is a ${ubuntuImageDiskGb} GB disk and Azure refuses a smaller OS disk (set nodeDiskGb >= ${ubuntuImageDiskGb}, or nodeImageId to a smaller image)`,
        });
    const surge = rolloutSurge(c.cloud);
    const { requested, allowed } = mysqlConnectionBudget(c.dbSize, c.nodes, c.databases, surge);
    if (allowed !== undefined && requested > allowed)
        problems.push({
            key: "dbSize",
            message: `allows max_connections up to ${allowed}; ${surge ? `(${c.nodes} nodes + ${surge} surge pod)` : `${c.nodes} nodes`} x ${c.databases} databases x 80 + 50 needs ${requested}: choose a larger dbSize or fewer nodes`,
        });
    return problems;
}

/** Config warnings (not errors): shown by `pulumi up` and synth, nothing stops. */
export function configWarnings(config: ClusterConfig): string[] {
    const warnings: string[] = [];
    if (config.cloud === "azure" || config.cloud === "aks") {
        const { requested, allowed } = mysqlConnectionBudget(
            config.database.size,
            config.nodes,
            databaseCount(config.database.layout),
            rolloutSurge(config.cloud),
        );
        if (allowed === undefined)
            warnings.push(
                `${configNamespace}:dbSize = ${JSON.stringify(config.database.size)} is not in this program's MySQL Flexible Server table: make sure it allows max_connections = ${requested}`,
            );
    }
    return warnings;
}

/** The targets on AWS (an ACM certificate, RDS, EFS): EC2 and ECS. */
export function isAwsTarget(cloud: Target): boolean {
    return cloud === "aws" || cloud === "ecs";
}

/** Digest keys still holding the all-zero placeholder (nodes will refuse the download). */
export function placeholderDigests(config: ClusterConfig): string[] {
    return placeholderDigestProblems(config).map((p) => p.key);
}

/**
 * Each digest key holding the all-zero placeholder, its value and how to get the real digest.
 * `pulumi up` stops on them (index.ts): nodes verify the download against the digest and
 * would refuse it, so the first up would build a cluster whose nodes never start.
 */
export function placeholderDigestProblems(
    config: ClusterConfig,
): { key: string; value: string; get: string; set: string }[] {
    const found: { key: string; value: string; get: string; set: string }[] = [];
    const setKey = (key: string) => `pulumi config set ${configNamespace}:${key} <hex>`;
    if (config.is.distributionSha256 && placeholderSha.test(config.is.distributionSha256))
        found.push({
            key: "isDistributionSha256",
            value: config.is.distributionSha256,
            get: `curl -fsSL ${config.is.distributionUrl} | sha256sum`,
            set: setKey("isDistributionSha256"),
        });
    if (placeholderSha.test(config.is.jdbcDriverSha256))
        found.push({
            key: "jdbcDriverSha256",
            value: config.is.jdbcDriverSha256,
            get: `curl -fsSL ${config.is.jdbcDriverUrl} | sha256sum`,
            set: setKey("jdbcDriverSha256"),
        });
    const images = Object.values(workloadImages(config.is.version));
    const zero = Object.entries(config.is.imageDigests)
        .filter(([, digest]) => placeholderSha.test(digest.replace(/^sha256:/, "")))
        .map(([repo]) => `${repo}:${images.find((i) => i.repository === repo)?.tag ?? "<tag>"}`);
    if (zero.length > 0) {
        const image = `docker.io/${zero[0]}`;
        found.push({
            key: "imageDigests",
            value: JSON.stringify(
                Object.entries(config.is.imageDigests).map(([repo, digest]) => `${repo}@${digest}`),
            ),
            get: `the manifest digest of ${zero.join(", ")}: crane digest ${image}, or docker buildx imagetools inspect ${image}, or for the copy in your ACR az acr repository show --name <registry> --image ${zero[0]} --query digest`,
            set: `put <repository>@sha256:<hex> in ${configNamespace}:imageDigests`,
        });
    }
    return found;
}

/** The `pulumi up` error (one for every placeholder key), and the preview / synth warnings. */
export function placeholderDigestMessages(config: ClusterConfig): { error?: string; warnings: string[] } {
    const found = placeholderDigestProblems(config);
    if (found.length === 0) return { warnings: [] };
    const line = (p: (typeof found)[number]) =>
        `${configNamespace}:${p.key} = ${p.value.startsWith("[") ? p.value : JSON.stringify(p.value)} is the all-zero placeholder, which the nodes' download check refuses: get ${p.key === "imageDigests" ? p.get : `the real sha256 with \`${p.get}\``}, then ${p.set}`;
    return {
        error: [
            "placeholder digests: `pulumi up` stops before creating anything (`pulumi preview` and `npm run synth` only warn):",
            ...found.map((p) => `  - ${line(p)}`),
        ].join("\n"),
        warnings: found.map((p) => `${line(p)} (\`pulumi up\` refuses to deploy until then)`),
    };
}

/** [address, prefix] of an IPv4 CIDR, or undefined. */
export function parseCidr(value: string): [ipaddr.IPv4, number] | undefined {
    try {
        const [address, prefix] = ipaddr.IPv4.parseCIDR(value);
        return [address, prefix];
    } catch {
        return undefined;
    }
}
