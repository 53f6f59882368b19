// The cluster's own KMS key (production): one customer-managed key with yearly rotation that
// encrypts RDS storage, EFS, the nodes' EBS volumes and the cluster secret, so the customer
// controls (and can audit, disable or schedule the deletion of) every copy of the data. Dev
// stacks keep the AWS-managed keys.
//
// Key policy: the account root statement delegates to IAM (AWS's default key policy), so the
// node role's inline policy grants its Decrypt. EC2 Auto Scaling launches instances with its
// service-linked role, which needs the key for the encrypted EBS volumes of the launch template
// (AWS: "Required KMS key policy for use with encrypted volumes", EC2 Auto Scaling user guide);
// without that statement instances fail to launch (Client.InternalError).
import * as pulumi from "@pulumi/pulumi";
import { getCallerIdentityOutput } from "@pulumi/aws/getCallerIdentity";
import { getPartitionOutput } from "@pulumi/aws/getPartition";
import * as kms from "@pulumi/aws/kms";

export interface ClusterKey {
    key: kms.Key;
    arn: pulumi.Output<string>;
}

export function createClusterKey(
    name: string,
    args: { clusterName: string; tags: Record<string, string> },
    parent: pulumi.Resource,
): ClusterKey {
    const caller = getCallerIdentityOutput({}, { parent });
    const partition = getPartitionOutput({}, { parent });
    const account = pulumi.interpolate`arn:${partition.partition}:iam::${caller.accountId}`;
    const key = new kms.Key(
        `${name}-key`,
        {
            description: `WSO2 IS cluster ${args.clusterName}: RDS, EFS, EBS and Secrets Manager`,
            enableKeyRotation: true,
            rotationPeriodInDays: 365,
            deletionWindowInDays: 30,
            policy: pulumi.jsonStringify({
                Version: "2012-10-17",
                Statement: [
                    {
                        Sid: "AccountAdministersThroughIam",
                        Effect: "Allow",
                        Principal: { AWS: pulumi.interpolate`${account}:root` },
                        Action: "kms:*",
                        Resource: "*",
                    },
                    {
                        Sid: "AutoScalingUsesKeyForEbs",
                        Effect: "Allow",
                        Principal: {
                            AWS: pulumi.interpolate`${account}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`,
                        },
                        Action: [
                            "kms:Encrypt",
                            "kms:Decrypt",
                            "kms:ReEncrypt*",
                            "kms:GenerateDataKey*",
                            "kms:DescribeKey",
                        ],
                        Resource: "*",
                    },
                    {
                        Sid: "AutoScalingAttachesEbs",
                        Effect: "Allow",
                        Principal: {
                            AWS: pulumi.interpolate`${account}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`,
                        },
                        Action: "kms:CreateGrant",
                        Resource: "*",
                        Condition: { Bool: { "kms:GrantIsForAWSResource": "true" } },
                    },
                ],
            }),
            tags: args.tags,
        },
        // Losing the key loses the data: never replaced or deleted by an innocent change.
        { parent, protect: true, retainOnDelete: true },
    );
    // clusterName is already "wso2is-<stack>" (config/names.ts): alias/wso2is-prod. Renaming
    // the alias replaces only the alias; the key keeps its id.
    new kms.Alias(`${name}-key`, { name: `alias/${args.clusterName}`, targetKeyId: key.keyId }, { parent });
    return { key, arn: key.arn };
}
