// The nodes' instance role. On EC2 (components/ec2): Hazelcast discovery
// (DescribeInstances/AvailabilityZones), this cluster's secret only, and SSM Session Manager
// instead of SSH. On ECS (components/ecs) the container instances get only the ECS agent's
// managed policy: discovery and the secret belong to the task's own roles. No static keys.
import * as pulumi from "@pulumi/pulumi";
import * as iam from "@pulumi/aws/iam";

export interface AwsNodeIdentity {
    role: iam.Role;
    instanceProfile: iam.InstanceProfile;
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

export const ssmManagedInstanceCore = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore";

export function createNodeIdentity(
    name: string,
    args: {
        /** The cluster secret the node reads at boot, with Hazelcast discovery; none: no inline policy. */
        secretArn?: pulumi.Input<string>;
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
    if (args.secretArn !== undefined) {
        new iam.RolePolicy(
            `${name}-node`,
            {
                role: role.id,
                policy: pulumi.jsonStringify({
                    Version: "2012-10-17",
                    Statement: [
                        hazelcastDiscoveryStatement,
                        {
                            Sid: "ClusterSecret",
                            Effect: "Allow",
                            Action: ["secretsmanager:GetSecretValue"],
                            Resource: args.secretArn,
                        },
                    ],
                }),
            },
            { parent },
        );
    }
    for (const [short, policyArn] of Object.entries(
        args.managedPolicies ?? { ssm: ssmManagedInstanceCore },
    )) {
        new iam.RolePolicyAttachment(`${name}-node-${short}`, { role: role.name, policyArn }, { parent });
    }
    const instanceProfile = new iam.InstanceProfile(
        `${name}-node`,
        { role: role.name, tags: args.tags },
        { parent },
    );
    return { role, instanceProfile };
}
