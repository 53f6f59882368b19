// The nodes' instance role: Hazelcast discovery (DescribeInstances/AvailabilityZones), this
// cluster's secret only, and SSM Session Manager instead of SSH. No static keys anywhere.
import * as pulumi from "@pulumi/pulumi";
import * as iam from "@pulumi/aws/iam";

export interface AwsNodeIdentity {
    role: iam.Role;
    instanceProfile: iam.InstanceProfile;
}

export function createNodeIdentity(
    name: string,
    args: { secretArn: pulumi.Input<string>; tags: Record<string, string> },
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
    new iam.RolePolicy(
        `${name}-node`,
        {
            role: role.id,
            policy: pulumi.jsonStringify({
                Version: "2012-10-17",
                Statement: [
                    // The aws membership scheme lists instances by tag and security group; these
                    // Describe calls do not support resource-level restrictions.
                    {
                        Sid: "HazelcastDiscovery",
                        Effect: "Allow",
                        Action: ["ec2:DescribeInstances", "ec2:DescribeAvailabilityZones"],
                        Resource: "*",
                    },
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
    new iam.RolePolicyAttachment(
        `${name}-node-ssm`,
        { role: role.name, policyArn: "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore" },
        { parent },
    );
    const instanceProfile = new iam.InstanceProfile(
        `${name}-node`,
        { role: role.name, tags: args.tags },
        { parent },
    );
    return { role, instanceProfile };
}
