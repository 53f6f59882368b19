// wso2is:aws:EcsCluster: IS as an ECS service on EC2 container instances with the kernel's
// `aws-ecs` membership scheme. The AWS building blocks (network or the platform's, security
// groups, cluster secret, RDS MySQL, EFS, ALB) are the EC2 target's, from components/aws; this
// target adds the container instances (capacity.ts) and the task and service (service.ts).
//
// Why host network mode: carbon-kernel v4.10.42 AWSECSBasedMembershipScheme extends the aws
// scheme, so Hazelcast discovers EC2 *instances* (by tag and security group) and probes
// 5701-5708 on their private addresses; it then binds to the interface that matches
// networkInterface and unsets the public address. Only a container that shares the
// instance's network stack has that address on an interface and is reachable at it.
import * as pulumi from "@pulumi/pulumi";
import * as ec2 from "@pulumi/aws/ec2";
import { knownNodeSizes } from "../config/defaults";
import { ClusterModel, buildClusterModel } from "../model";
import { interfacePattern } from "../model/network";
import { dbAdminUser } from "../shared/passwords";
import {
    AwsClusterComponent,
    AwsTargetArgs,
    clusterTags,
    discoveryTagKey,
    createAwsFoundation,
    createNodeIdentity,
    efsMountOptions,
} from "../aws";
import { createCapacity } from "./capacity";
import { taskSize } from "./containers";
import { createService } from "./service";

export { awsPlatformOutputs, discoveryTagKey, networkFromPlatform } from "../aws";

export type EcsClusterArgs = AwsTargetArgs;

/** The ECS-optimised instances' managed policy: what the ECS agent needs, nothing of IS's. */
export const ecsInstancePolicy = "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role";

export class EcsCluster extends AwsClusterComponent {
    public readonly ecsClusterName: pulumi.Output<string>;
    public readonly serviceName: pulumi.Output<string>;
    public readonly execRoleArn: pulumi.Output<string>;
    /** The cluster model the task's files are rendered from (resolved values). */
    public readonly model: pulumi.Output<ClusterModel>;
    /** The task's container definitions (JSON; secrets only as valueFrom ARNs). */
    public readonly containerDefinitions: pulumi.Output<string>;

    constructor(name: string, args: EcsClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("wso2is:aws:EcsCluster", name, {}, opts);
        const { config } = args;
        const clusterName = name;
        const tags = clusterTags(clusterName);

        // Host network mode: the tasks use the instances' group, so "nodes" is the tasks' group
        // (9443 only from the ALB, 5701-5708 only from itself, MySQL and NFS only from it).
        // IS calls itself through the ALB here (no /etc/hosts pin), so 9443 keeps IS's keystore.
        // sharedFs is efs on ECS (config): tasks mount it through access points.
        const foundation = createAwsFoundation(
            name,
            {
                ...args,
                clusterName,
                tags,
            },
            this,
        );
        const { network, groups, secret, kmsKeyArn, database, sharedFs, loadBalancer } = foundation;
        const identity = createNodeIdentity(
            name,
            { region: args.region, tags, managedPolicies: { ecs: ecsInstancePolicy } },
            this,
        );

        // Hazelcast binds to the VPC address: the interface pattern of the VPC's CIDR.
        const vpcCidr: pulumi.Output<string> = args.network
            ? ec2.getVpcOutput({ id: network.vpcId }, { parent: this }).cidrBlock
            : pulumi.output(config.network.cidr);
        this.model = pulumi
            .all([groups.nodes.name, secret.secret.arn, pulumi.output(sharedFs.source), vpcCidr])
            .apply(([securityGroup, secretArn, shareSource, cidr]) =>
                buildClusterModel(config, {
                    clusterName,
                    database: { host: database.host, port: 3306, tls: true, adminUser: dbAdminUser },
                    // The task mounts EFS itself (access points); the model records the source.
                    sharedFs: { protocol: "nfs", source: shareSource, options: efsMountOptions },
                    secrets: { source: "aws-secrets-manager", id: secretArn, region: args.region },
                    // The task's wrapper reads the instance's address from IMDSv2 (host mode).
                    nodeIp: "aws-imds",
                    nodes: [{ name: "task" }],
                    membership: {
                        scheme: "aws-ecs",
                        region: args.region,
                        securityGroup,
                        tagKey: discoveryTagKey,
                        tagValue: clusterName,
                        networkInterface: interfacePattern(cidr),
                    },
                }),
            );

        const capacity = createCapacity(
            name,
            {
                config,
                tags,
                subnetIds: network.privateSubnetIds,
                securityGroupId: groups.nodes.id,
                instanceProfileArn: identity.instanceProfile.arn,
                discoveryTag: { key: discoveryTagKey, value: clusterName },
                kmsKeyArn,
                egress: network.egress,
            },
            this,
        );
        const service = createService(
            name,
            {
                config,
                tags,
                region: args.region,
                model: this.model,
                size: taskSize(knownNodeSizes[config.node.size]),
                dbAdminUser,
                secretArn: secret.secret.arn,
                secretRotation: secret.material.rotationDigest,
                kmsKeyArn,
                fileSystemId: sharedFs.fileSystem!.id,
                fileSystemArn: sharedFs.fileSystem!.arn,
                cluster: capacity.cluster,
                capacityProviderName: capacity.capacityProvider.name,
                targetGroupArn: loadBalancer.targetGroup.arn,
                dependsOn: [capacity.clusterCapacityProviders, secret.version, ...loadBalancer.listeners],
            },
            this,
        );

        this.setSharedOutputs(config, foundation, capacity.group.name);
        this.ecsClusterName = capacity.cluster.name;
        this.serviceName = service.service.name;
        this.execRoleArn = service.execRole.arn;
        this.containerDefinitions = service.containerDefinitions;
        this.registerOutputs(this.outputs());
    }

    /** The stack outputs (the same names as the EC2 target where they apply). */
    public outputs(): Record<string, pulumi.Output<unknown>> {
        return {
            ...this.sharedOutputs(),
            ecsClusterName: this.ecsClusterName,
            serviceName: this.serviceName,
            execRoleArn: this.execRoleArn,
        };
    }
}
