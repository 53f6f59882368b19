// The IS nodes: one launch template (Ubuntu 24.04, IMDSv2 only, encrypted gp3 root, the
// rendered cloud-init) and an Auto Scaling group across the private subnets. ELB health
// checks replace a dead node; instance refresh rolls a new template one node at a time while
// the group keeps every healthy node serving (launch before terminate).
import * as pulumi from "@pulumi/pulumi";
import * as autoscaling from "@pulumi/aws/autoscaling";
import * as ec2 from "@pulumi/aws/ec2";
import { ClusterConfig } from "../config/schema";

/** Canonical's account; the name filter picks the newest Ubuntu 24.04 amd64 server image. */
export const ubuntuOwner = "099720109477";
export const ubuntuNameFilter = "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*";

/** Seconds a node may take from launch to a healthy IS (download, DB wait on first deploy, start). */
export const bootGraceSeconds = 1200;

export interface AwsNodes {
    launchTemplate: ec2.LaunchTemplate;
    group: autoscaling.Group;
}

export function createNodes(
    name: string,
    args: {
        config: ClusterConfig;
        subnetIds: pulumi.Input<string>[];
        securityGroupId: pulumi.Input<string>;
        instanceProfileArn: pulumi.Input<string>;
        targetGroupArn: pulumi.Input<string>;
        userData: pulumi.Input<string>;
        discoveryTag: { key: string; value: string };
        /** The cluster's KMS key (production); absent: the AWS-managed key. */
        kmsKeyArn?: pulumi.Input<string>;
        tags: Record<string, string>;
    },
    parent: pulumi.Resource,
): AwsNodes {
    const { config } = args;
    const imageId =
        config.node.imageId ??
        ec2.getAmiOutput(
            {
                mostRecent: true,
                owners: [ubuntuOwner],
                filters: [
                    { name: "name", values: [ubuntuNameFilter] },
                    { name: "virtualization-type", values: ["hvm"] },
                ],
            },
            { parent },
        ).id;

    const instanceTags = {
        ...args.tags,
        Name: `${name}-node`,
        [args.discoveryTag.key]: args.discoveryTag.value,
    };
    const launchTemplate = new ec2.LaunchTemplate(
        `${name}-node`,
        {
            description: "WSO2 IS node",
            imageId,
            instanceType: config.node.size,
            iamInstanceProfile: { arn: args.instanceProfileArn },
            vpcSecurityGroupIds: [args.securityGroupId],
            // IMDSv2 only, and one hop: containers on the node cannot borrow the role.
            metadataOptions: {
                httpEndpoint: "enabled",
                httpTokens: "required",
                httpPutResponseHopLimit: 1,
                instanceMetadataTags: "disabled",
            },
            blockDeviceMappings: [
                {
                    deviceName: "/dev/sda1",
                    ebs: {
                        volumeSize: config.node.diskGb,
                        volumeType: "gp3",
                        encrypted: "true",
                        // Production: the cluster's KMS key (its policy lets EC2 Auto Scaling use it).
                        ...(args.kmsKeyArn ? { kmsKeyId: args.kmsKeyArn } : {}),
                        deleteOnTermination: "true",
                    },
                },
            ],
            userData: args.userData,
            updateDefaultVersion: true,
            tagSpecifications: [
                { resourceType: "instance", tags: instanceTags },
                { resourceType: "volume", tags: { ...args.tags, Name: `${name}-node` } },
            ],
            tags: args.tags,
        },
        { parent },
    );

    const group = new autoscaling.Group(
        `${name}-nodes`,
        {
            vpcZoneIdentifiers: args.subnetIds,
            desiredCapacity: config.nodes,
            minSize: config.nodes,
            // Room to launch the replacement before the old node leaves during a refresh.
            maxSize: config.nodes * 2,
            launchTemplate: {
                id: launchTemplate.id,
                version: pulumi.interpolate`${launchTemplate.latestVersion}`,
            },
            targetGroupArns: [args.targetGroupArn],
            healthCheckType: "ELB",
            healthCheckGracePeriod: bootGraceSeconds,
            defaultInstanceWarmup: 300,
            capacityRebalance: false,
            instanceRefresh: {
                strategy: "Rolling",
                preferences: {
                    minHealthyPercentage: 100,
                    maxHealthyPercentage: 200,
                    instanceWarmup: "600",
                    autoRollback: true,
                },
            },
            // Don't hold `pulumi up` until instances pass ELB checks: the first boot waits for RDS.
            waitForCapacityTimeout: "0",
            tags: Object.entries(instanceTags).map(([key, value]) => ({
                key,
                value,
                propagateAtLaunch: true,
            })),
        },
        { parent },
    );
    return { launchTemplate, group };
}
