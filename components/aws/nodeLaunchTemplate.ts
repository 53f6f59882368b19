// What every AWS node's launch template and Auto Scaling group share (EC2 IS nodes in
// components/ec2, ECS container instances in components/ecs): IMDSv2 only, an encrypted gp3
// root volume (the cluster's KMS key in production), tags on the instance and its volume.
import * as pulumi from "@pulumi/pulumi";
import type * as autoscaling from "@pulumi/aws/autoscaling";
import * as ec2 from "@pulumi/aws/ec2";
import type { ClusterConfig } from "../config/schema";

/** What an AWS node group (EC2 IS nodes, ECS container instances) is built from. */
export interface NodeGroupArgs {
    config: ClusterConfig;
    /** The private subnets the group spans. */
    subnetIds: pulumi.Input<string>[];
    securityGroupId: pulumi.Input<string>;
    instanceProfileArn: pulumi.Input<string>;
    /** The tag Hazelcast's EC2 discovery lists the instances by (aws and aws-ecs schemes). */
    discoveryTag: { key: string; value: string };
    /** The cluster's KMS key for the root volume (production; EC2 Auto Scaling may use it,
     * components/aws/kms.ts); absent: the AWS-managed EBS key. */
    kmsKeyArn?: pulumi.Input<string>;
    tags: Record<string, string>;
}

export interface NodeLaunchTemplate {
    launchTemplate: ec2.LaunchTemplate;
    /** The instances' tags (the group propagates them): Name and the discovery tag added. */
    instanceTags: Record<string, string>;
    /** The group's launchTemplate input: always the latest version. */
    groupLaunchTemplate: autoscaling.GroupArgs["launchTemplate"];
}

export function createNodeLaunchTemplate(
    /** The resource name: the template and the instances and volumes are named `<name>-node`. */
    name: string,
    args: {
        /** Instance type and root volume size come from config.node. */
        config: ClusterConfig;
        description: string;
        imageId: pulumi.Input<string>;
        instanceProfileArn: pulumi.Input<string>;
        securityGroupId: pulumi.Input<string>;
        /** The image's root device (/dev/sda1 on Ubuntu, /dev/xvda on Amazon Linux). */
        rootDevice: string;
        /** The cluster's KMS key (production); absent: the AWS-managed EBS key. */
        kmsKeyArn?: pulumi.Input<string>;
        userData: pulumi.Input<string>;
        tags: Record<string, string>;
        /** The tag Hazelcast's EC2 discovery lists the instances by (aws and aws-ecs schemes). */
        discoveryTag: { key: string; value: string };
    },
    parent: pulumi.Resource,
): NodeLaunchTemplate {
    const instanceTags = {
        ...args.tags,
        Name: `${name}-node`,
        [args.discoveryTag.key]: args.discoveryTag.value,
    };
    const launchTemplate = new ec2.LaunchTemplate(
        `${name}-node`,
        {
            description: args.description,
            imageId: args.imageId,
            instanceType: args.config.node.size,
            iamInstanceProfile: { arn: args.instanceProfileArn },
            vpcSecurityGroupIds: [args.securityGroupId],
            // IMDSv2 only, and one hop: containers on the node cannot borrow the role (ECS:
            // bridge-mode containers cannot reach it; host-mode IS reads only its address there).
            metadataOptions: {
                httpEndpoint: "enabled",
                httpTokens: "required",
                httpPutResponseHopLimit: 1,
                instanceMetadataTags: "disabled",
            },
            blockDeviceMappings: [
                {
                    deviceName: args.rootDevice,
                    ebs: {
                        volumeSize: args.config.node.diskGb,
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
    return {
        launchTemplate,
        instanceTags,
        groupLaunchTemplate: {
            id: launchTemplate.id,
            version: pulumi.interpolate`${launchTemplate.latestVersion}`,
        },
    };
}

/** An Auto Scaling group's tags, each propagated to the instances it launches. */
export function propagatedTags(tags: Record<string, string>): autoscaling.GroupArgs["tags"] {
    return Object.entries(tags).map(([key, value]) => ({ key, value, propagateAtLaunch: true }));
}
