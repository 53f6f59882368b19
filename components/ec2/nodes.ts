// The IS nodes: one launch template (Ubuntu 24.04 pinned by name, IMDSv2 only, encrypted gp3
// root, the rendered cloud-init) and an Auto Scaling group across the private subnets. ELB health
// checks replace a dead node; instance refresh rolls a new template one node at a time while
// the group keeps every healthy node serving (launch before terminate).
import * as pulumi from "@pulumi/pulumi";
import * as autoscaling from "@pulumi/aws/autoscaling";
import * as ec2 from "@pulumi/aws/ec2";
import { bootWorkSeconds, isStartSeconds, nodeReadySeconds } from "../model/boot";
import { NodeGroupArgs, createNodeLaunchTemplate, propagatedTags } from "../aws";

/** Canonical's AWS account, the owner of the Ubuntu images. */
export const ubuntuOwner = "099720109477";

/**
 * Seconds from launch to a healthy IS at worst (components/model/boot.ts: the bootstrap unit's
 * retry budget, which outlasts the database wait, plus IS's start): the ELB health checks of a
 * new instance count only after this, so a first boot waiting for a Multi-AZ RDS is not killed.
 */
export const bootGraceSeconds = nodeReadySeconds;

/**
 * A replacement node's launch to healthy on day 2 (the database exists: one bootstrap pass and
 * IS's start): an instance refresh waits this long before it counts the new node and moves on,
 * so no old node leaves before its replacement serves.
 */
export const refreshWarmupSeconds = bootWorkSeconds + isStartSeconds;

export interface AwsNodes {
    launchTemplate: ec2.LaunchTemplate;
    group: autoscaling.Group;
}

export function createNodes(
    name: string,
    args: NodeGroupArgs & {
        targetGroupArn: pulumi.Input<string>;
        userData: pulumi.Input<string>;
        /** Resources the first instances must not launch before (egress, scripts, role policy). */
        dependsOn: pulumi.Resource[];
    },
    parent: pulumi.Resource,
): AwsNodes {
    const { config } = args;
    // The image never changes without a config change: nodeImageId, or Canonical's image of
    // the exact name nodeImageName (one AMI per region; deprecated images still resolve).
    const imageId =
        config.node.imageId ??
        ec2.getAmiOutput(
            {
                owners: [ubuntuOwner],
                includeDeprecated: true,
                filters: [{ name: "name", values: [config.node.imageName!] }],
            },
            { parent },
        ).id;

    const { launchTemplate, instanceTags, groupLaunchTemplate } = createNodeLaunchTemplate(
        name,
        // The node's profile, group, key, tags and user-data as given; Ubuntu's root device.
        { ...args, description: "WSO2 IS node", imageId, rootDevice: "/dev/sda1" },
        parent,
    );

    const group = new autoscaling.Group(
        `${name}-nodes`,
        {
            vpcZoneIdentifiers: args.subnetIds,
            desiredCapacity: config.nodes,
            minSize: config.nodes,
            // Room to launch the replacement before the old node leaves during a refresh.
            maxSize: config.nodes * 2,
            launchTemplate: groupLaunchTemplate,
            targetGroupArns: [args.targetGroupArn],
            healthCheckType: "ELB",
            healthCheckGracePeriod: bootGraceSeconds,
            defaultInstanceWarmup: refreshWarmupSeconds,
            capacityRebalance: false,
            instanceRefresh: {
                strategy: "Rolling",
                preferences: {
                    minHealthyPercentage: 100,
                    maxHealthyPercentage: 200,
                    instanceWarmup: String(refreshWarmupSeconds),
                    autoRollback: true,
                },
            },
            // Don't hold `pulumi up` until instances pass ELB checks: the first boot waits for RDS.
            waitForCapacityTimeout: "0",
            tags: propagatedTags(instanceTags),
        },
        // The first instances boot only once the private subnets route out (NAT) and what
        // they fetch at boot exists; with a platform network its egress predates this stack.
        { parent, dependsOn: args.dependsOn },
    );
    return { launchTemplate, group };
}
