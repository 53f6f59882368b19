// The container instances: an ECS cluster, a launch template of the ECS-optimised Amazon
// Linux 2023 AMI (IMDSv2 only, encrypted gp3 root, no SSH key), an Auto Scaling group across
// the private subnets and a capacity provider with managed scaling, termination protection
// and managed draining, so ECS places one IS task per instance and never terminates an
// instance that still runs one.
import * as pulumi from "@pulumi/pulumi";
import * as autoscaling from "@pulumi/aws/autoscaling";
import * as ec2 from "@pulumi/aws/ec2";
import * as ecs from "@pulumi/aws/ecs";
import { NodeGroupArgs, createNodeLaunchTemplate, propagatedTags } from "../aws";
import { renderEcsInstanceCloudInit } from "../render/ecsInstance";
import { stopTimeoutSeconds } from "./containers";

/**
 * AWS's public SSM parameter of the current ECS-optimised AL2023 AMI. The launch template
 * names the parameter, and EC2 resolves it at each launch: `pulumi up` never rolls instances
 * because AWS published an AMI, and new instances get the patched one. `nodeImageId` pins an
 * exact AMI instead (docs/ecs.md).
 */
export const ecsAmiParameter = "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id";

export interface EcsCapacity {
    cluster: ecs.Cluster;
    launchTemplate: ec2.LaunchTemplate;
    group: autoscaling.Group;
    capacityProvider: ecs.CapacityProvider;
    clusterCapacityProviders: ecs.ClusterCapacityProviders;
}

export function createCapacity(
    name: string,
    args: NodeGroupArgs & {
        /** The private subnets' egress when this stack creates it (components/aws/network.ts). */
        egress?: pulumi.Resource[];
    },
    parent: pulumi.Resource,
): EcsCapacity {
    const { config } = args;
    const cluster = new ecs.Cluster(
        name,
        {
            settings: [{ name: "containerInsights", value: "enabled" }],
            // ECS Exec sessions are logged by the default (CloudWatch) configuration.
            configuration: { executeCommandConfiguration: { logging: "DEFAULT" } },
            tags: args.tags,
        },
        { parent },
    );

    const userData = cluster.name.apply((clusterName) =>
        Buffer.from(renderEcsInstanceCloudInit({ clusterName, stopTimeoutSeconds }), "utf8").toString(
            "base64",
        ),
    );
    // Hazelcast's EC2 discovery (aws-ecs scheme) lists the instances by args.discoveryTag.
    const { launchTemplate, instanceTags, groupLaunchTemplate } = createNodeLaunchTemplate(
        name,
        {
            ...args,
            description: "WSO2 IS ECS container instance",
            imageId: config.node.imageId ?? `resolve:ssm:${ecsAmiParameter}`,
            // The root device of the ECS-optimised AL2023 AMI.
            rootDevice: "/dev/xvda",
            userData,
        },
        parent,
    );

    const group = new autoscaling.Group(
        `${name}-nodes`,
        {
            vpcZoneIdentifiers: args.subnetIds,
            minSize: config.nodes,
            // Room for a rolling deployment (maximum 200 %): one new instance per new task.
            maxSize: config.nodes * 2,
            launchTemplate: groupLaunchTemplate,
            // ECS replaces failed tasks and the ALB judges IS; the group only replaces dead EC2s.
            healthCheckType: "EC2",
            healthCheckGracePeriod: 300,
            // Managed termination protection: ECS decides which instance may go.
            protectFromScaleIn: true,
            // On delete (after the service is gone) don't wait for protected instances to scale in.
            forceDelete: true,
            instanceRefresh: {
                strategy: "Rolling",
                preferences: {
                    minHealthyPercentage: 100,
                    maxHealthyPercentage: 200,
                    instanceWarmup: "300",
                    // Replace protected instances too; managed draining moves their task first.
                    scaleInProtectedInstances: "Refresh",
                },
            },
            tags: propagatedTags({ ...instanceTags, AmazonECSManaged: "true" }),
        },
        // The capacity provider's managed scaling owns the desired capacity. The instances
        // register with ECS and pull the image through the private subnets' NAT: not before it.
        { parent, ignoreChanges: ["desiredCapacity"], dependsOn: args.egress ?? [] },
    );

    const capacityProvider = new ecs.CapacityProvider(
        `${name}-nodes`,
        {
            autoScalingGroupProvider: {
                autoScalingGroupArn: group.arn,
                managedTerminationProtection: "ENABLED",
                managedDraining: "ENABLED",
                managedScaling: {
                    status: "ENABLED",
                    targetCapacity: 100,
                    minimumScalingStepSize: 1,
                    maximumScalingStepSize: config.nodes,
                    instanceWarmupPeriod: 300,
                },
            },
            tags: args.tags,
        },
        { parent },
    );
    const clusterCapacityProviders = new ecs.ClusterCapacityProviders(
        name,
        {
            clusterName: cluster.name,
            capacityProviders: [capacityProvider.name],
            defaultCapacityProviderStrategies: [{ capacityProvider: capacityProvider.name, weight: 1 }],
        },
        { parent },
    );
    return { cluster, launchTemplate, group, capacityProvider, clusterCapacityProviders };
}
