// The nodes' instance role. On EC2 (components/ec2): Hazelcast discovery
// (DescribeInstances/AvailabilityZones), this cluster's secret only (and, in production, Decrypt
// with the cluster's KMS key through Secrets Manager only), the boot scripts in the cluster's
// bucket (components/aws/scriptBundle.ts), and SSM Session Manager instead of
// SSH. On ECS (components/ecs) the container instances get only the ECS agent's managed policy:
// discovery and the secret belong to the task's own roles. No static keys anywhere.
//
// Session Manager needs exactly the five actions of AWS's own AWSCloud9SSMInstanceProfile
// managed policy (AWS Systems Manager user guide, "custom instance profile for Session Manager").
// AmazonSSMManagedInstanceCore would also grant ssm:GetParameter(s) on every parameter of the
// account, plus the Run Command, inventory and patching channels (ec2messages:*), none of which
// this cluster uses.
import * as pulumi from "@pulumi/pulumi";
import * as iam from "@pulumi/aws/iam";

export interface AwsNodeIdentity {
    role: iam.Role;
    instanceProfile: iam.InstanceProfile;
    /** The inline policy (EC2): nodes should launch only once it exists. */
    policy?: iam.RolePolicy;
}

/**
 * The aws membership schemes list instances by tag and security group (Hazelcast's EC2
 * discovery); these Describe calls do not support resource-level restrictions.
 */
export const hazelcastDiscoveryStatement = {
    Sid: "HazelcastDiscovery",
    Effect: "Allow",
    Action: ["ec2:DescribeInstances", "ec2:DescribeAvailabilityZones"],
    Resource: "*",
} as const;

/** Session Manager's channel, nothing else of SSM (see the header). */
export const sessionManagerStatement = {
    Sid: "SessionManager",
    Effect: "Allow",
    Action: [
        "ssm:UpdateInstanceInformation",
        "ssmmessages:CreateControlChannel",
        "ssmmessages:CreateDataChannel",
        "ssmmessages:OpenControlChannel",
        "ssmmessages:OpenDataChannel",
    ],
    Resource: "*",
} as const;

/**
 * Read the cluster secret and, in production, Decrypt with the cluster's KMS key only through
 * Secrets Manager: the EC2 nodes' role and the ECS task execution role grant exactly this.
 */
export function clusterSecretStatements(
    secretArn: pulumi.Input<string>,
    kmsKeyArn: pulumi.Input<string> | undefined,
    region: string,
): Record<string, unknown>[] {
    return [
        {
            Sid: "ClusterSecret",
            Effect: "Allow",
            Action: ["secretsmanager:GetSecretValue"],
            Resource: secretArn,
        },
        ...(kmsKeyArn ? [kmsDecryptVia("ClusterSecretKey", kmsKeyArn, "secretsmanager", region)] : []),
    ];
}

/** Decrypt with the cluster's KMS key, only when `service` in `region` asks on the role's behalf. */
export function kmsDecryptVia(
    sid: string,
    kmsKeyArn: pulumi.Input<string>,
    service: string,
    region: string,
): Record<string, unknown> {
    return {
        Sid: sid,
        Effect: "Allow",
        Action: ["kms:Decrypt"],
        Resource: kmsKeyArn,
        Condition: { StringEquals: { "kms:ViaService": `${service}.${region}.amazonaws.com` } },
    };
}

export function createNodeIdentity(
    name: string,
    args: {
        /**
         * The cluster secret the node reads at boot (EC2): one inline policy with discovery, the
         * secret, the KMS key and Session Manager. None (ECS): no inline policy.
         */
        secretArn?: pulumi.Input<string>;
        /** The cluster's KMS key (production): the cluster secret is encrypted with it. */
        kmsKeyArn?: pulumi.Input<string>;
        /** More statements of the inline policy (EC2: the script bundle's read). */
        statements?: Record<string, unknown>[];
        region: string;
        /** AWS managed policies to attach, by a short name that ends the attachment's name. */
        managedPolicies?: Record<string, string>;
        tags: Record<string, string>;
    },
    parent: pulumi.Resource,
): AwsNodeIdentity {
    const role = new iam.Role(
        `${name}-node`,
        {
            description: "WSO2 IS cluster node",
            assumeRolePolicy: JSON.stringify({
                Version: "2012-10-17",
                Statement: [
                    {
                        Effect: "Allow",
                        Principal: { Service: "ec2.amazonaws.com" },
                        Action: "sts:AssumeRole",
                    },
                ],
            }),
            tags: args.tags,
        },
        { parent },
    );
    let policy: iam.RolePolicy | undefined;
    if (args.secretArn !== undefined) {
        policy = new iam.RolePolicy(
            `${name}-node`,
            {
                role: role.id,
                policy: pulumi.jsonStringify({
                    Version: "2012-10-17",
                    Statement: [
                        hazelcastDiscoveryStatement,
                        ...clusterSecretStatements(args.secretArn, args.kmsKeyArn, args.region),
                        ...(args.statements ?? []),
                        sessionManagerStatement,
                    ],
                }),
            },
            { parent },
        );
    }
    for (const [short, policyArn] of Object.entries(args.managedPolicies ?? {})) {
        new iam.RolePolicyAttachment(`${name}-node-${short}`, { role: role.name, policyArn }, { parent });
    }
    const instanceProfile = new iam.InstanceProfile(
        `${name}-node`,
        { role: role.name, tags: args.tags },
        { parent },
    );
    return { role, instanceProfile, policy };
}
