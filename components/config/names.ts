// Cloud name limits: one home. Every physical name this program derives from the stack name,
// with the limit the cloud enforces. Clouds check these only when they create the resource,
// i.e. in the middle of `pulumi up`; parseConfig checks them before any resource is registered.
// Pure: no Pulumi imports. (components/azure/names.ts builds the globally unique Azure names,
// which it truncates to fit, so they never overflow.)
import type { Target } from "./defaults";

/** The cluster's logical name: every resource's logical (and so physical) name starts with it. */
export function clusterName(stack: string): string {
    return `wso2is-${stack}`;
}

/**
 * Pulumi's auto-name on AWS: the logical name, "-", 7 random hex characters
 * (pulumi-terraform-bridge pkg/tfbridge/names.go AutoName / AutoNameTransform: Randlen 7,
 * Separator "-"). An auto-name longer than the cloud's limit fails at create.
 */
export const autonameSuffix = "-xxxxxxx";
/**
 * azure-native's auto-name for top-level resources: the logical name and 8 random hex
 * characters, no separator (pulumi-azure-native PR #519, issue #3406: "rg8a43bc22").
 */
export const azureAutonameSuffix = "xxxxxxxx";

/** A name the program derives from the cluster name, and the cloud's limit for it. */
export interface DerivedName {
    cloud: "AWS" | "Azure";
    what: string;
    /** The physical name, with the auto-name suffix as "x" where Pulumi adds one. */
    name: string;
    limit: number;
    /** How the name is built, with `wso2is-<stack>` for the cluster name. */
    how: string;
}

function derived(
    cloud: DerivedName["cloud"],
    what: string,
    cluster: string,
    rest: string,
    suffix: string,
    limit: number,
): DerivedName {
    const how = suffix
        ? `wso2is-<stack>${rest} plus Pulumi's auto-name suffix "${suffix}"`
        : `wso2is-<stack>${rest}`;
    return { cloud, what, name: `${cluster}${rest}${suffix}`, limit, how };
}

/**
 * The auto-named AWS resources whose limit a stack name can reach, by resource type and logical
 * name (components/aws, ec2, ecs build them as `${name}-<role>`; test/config/names.test.ts checks
 * this table against every example stack's synth output). Limits:
 * - ALB and target group: 32, letters, digits, hyphens (AWS ELB API CreateLoadBalancer /
 *   CreateTargetGroup "Name"; @pulumi/aws lb/loadBalancer.d.ts and lb/targetGroup.d.ts:
 *   "can have a maximum of 32 characters, must contain only alphanumeric characters or hyphens").
 * - RDS instance identifier: 63, letters, digits, hyphens, no "--" (RDS CreateDBInstance
 *   DBInstanceIdentifier). pulumi-aws auto-names it with 7 hex characters and no separator
 *   (provider/resources.go aws_db_instance: resource.NewUniqueHex(name, 7, 255)).
 * - IAM role name: 64 (IAM User Guide, "IAM and AWS STS quotas": role name 64 characters).
 * - S3 bucket: 3-63 lowercase letters, digits, hyphens, dots (S3 User Guide "General purpose
 *   bucket naming rules"); pulumi-aws lowercases the auto-name (aws_s3_bucket: AutoNameTransform
 *   ("bucket", 63, strings.ToLower)).
 */
export const awsNameRules = {
    "aws:lb/loadBalancer:LoadBalancer": { what: "ALB name", limit: 32, suffix: autonameSuffix },
    "aws:lb/targetGroup:TargetGroup": { what: "target group name", limit: 32, suffix: autonameSuffix },
    "aws:rds/instance:Instance": { what: "RDS instance identifier", limit: 63, suffix: "xxxxxxx" },
    "aws:iam/role:Role": { what: "IAM role name", limit: 64, suffix: autonameSuffix },
    "aws:s3/bucket:Bucket": { what: "S3 bucket name", limit: 63, suffix: autonameSuffix },
    "aws:s3/bucketV2:BucketV2": { what: "S3 bucket name", limit: 63, suffix: autonameSuffix },
} as const;
export type AwsLimitedType = keyof typeof awsNameRules;

/** The cluster's S3 bucket (logical name): VM nodes fetch their scripts from it. */
export function awsBucketName(cluster: string): string {
    return `${cluster}-scripts`;
}

/** Logical names of the AWS resources awsNameRules limits, per target. */
export function awsLimitedResources(
    cluster: string,
    cloud: "aws" | "ecs",
): { type: AwsLimitedType; logical: string }[] {
    const r = (type: AwsLimitedType, logical: string) => ({ type, logical });
    const common = [
        r("aws:lb/loadBalancer:LoadBalancer", `${cluster}-alb`),
        r("aws:lb/targetGroup:TargetGroup", `${cluster}-is`),
        r("aws:rds/instance:Instance", `${cluster}-db`),
        r("aws:iam/role:Role", `${cluster}-node`),
    ];
    if (cloud === "aws") return [...common, r("aws:s3/bucket:Bucket", awsBucketName(cluster))];
    return [
        ...common,
        r("aws:iam/role:Role", `${cluster}-exec`),
        r("aws:iam/role:Role", `${cluster}-task`),
        r("aws:iam/role:Role", `${cluster}-task-exec`),
    ];
}

export function awsNames(cluster: string, cloud: "aws" | "ecs"): DerivedName[] {
    return awsLimitedResources(cluster, cloud).map(({ type, logical }) => {
        const rule = awsNameRules[type];
        return derived("AWS", rule.what, cluster, logical.slice(cluster.length), rule.suffix, rule.limit);
    });
}

/**
 * Azure names this program derives from the cluster name (components/azure-vm), and Azure's
 * limit for each (Microsoft Learn, "Naming rules and restrictions for Azure resources"):
 * virtual machine 1-64 (Linux), Linux computer name 1-64, disk 1-80, virtual network 2-64,
 * private endpoint 2-64, Application Gateway 1-80. The last node has the longest name.
 */
export function azureNames(cluster: string, nodes: number): DerivedName[] {
    const node = `-node-${nodes}`;
    return [
        derived("Azure", "VM name (Linux)", cluster, node, "", 64),
        derived("Azure", "Linux computer name", cluster, node, "", 64),
        derived("Azure", "OS disk name", cluster, `${node}-os`, "", 80),
        derived("Azure", "virtual network name", cluster, "-vnet", azureAutonameSuffix, 64),
        derived("Azure", "private endpoint name", cluster, "-files", azureAutonameSuffix, 64),
        derived("Azure", "Application Gateway name", cluster, "-appgw", "", 80),
    ];
}

/** What an AWS stack name may hold: every derived name above takes it (S3: lowercase only). */
const awsStackName = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/**
 * Problems with the stack name on `cloud`, one sentence each (ConfigError lines): characters
 * the cloud's names refuse, and every derived name over its limit with the longest stack name
 * that fits it.
 */
export function stackNameProblems(cloud: Target, stack: string, nodes: number): string[] {
    const problems: string[] = [];
    const cluster = clusterName(stack);
    let names: DerivedName[] = [];
    if (cloud === "aws" || cloud === "ecs") {
        if (!awsStackName.test(stack)) {
            const suggestion = stack
                .toLowerCase()
                .replace(/[^a-z0-9]+/g, "-")
                .replace(/^-+|-+$/g, "");
            problems.push(
                `the stack name ${JSON.stringify(stack)} cannot be part of AWS names: S3 bucket names take only lowercase letters, digits and hyphens (no "_", no uppercase), ALB and target group names only letters, digits and hyphens, RDS identifiers no two hyphens in a row: use lowercase letters, digits and single hyphens${suggestion ? ` (e.g. ${JSON.stringify(suggestion)})` : ""}`,
            );
        }
        names = awsNames(cluster, cloud);
    } else if (cloud === "azure") {
        names = azureNames(cluster, nodes);
    }
    for (const n of names.filter((x) => x.name.length > x.limit)) {
        const fits = stack.length - (n.name.length - n.limit);
        problems.push(
            `the stack name ${JSON.stringify(stack)} makes the ${n.cloud} ${n.what} ${JSON.stringify(n.name)} ${n.name.length} characters; ${n.cloud} allows ${n.limit} (${n.how}): use a stack name of at most ${fits} characters`,
        );
    }
    return problems;
}
