// The IS task and its service. Roles, each with only what it needs: the execution role
// (pull images, write logs, read this cluster's secret for `valueFrom`), the task role
// (Hazelcast's EC2 discovery, EFS through the access points, the ECS Exec channel) and the
// break-glass role (ECS Exec into this cluster's IS containers, with MFA). The EFS access
// points create Userstores/ and Tenants/ owned by the image's user on first use, so no task
// seeds them.
import * as pulumi from "@pulumi/pulumi";
import { getCallerIdentityOutput } from "@pulumi/aws/getCallerIdentity";
import * as cloudwatch from "@pulumi/aws/cloudwatch";
import * as ecs from "@pulumi/aws/ecs";
import * as efs from "@pulumi/aws/efs";
import * as iam from "@pulumi/aws/iam";
import { ClusterConfig } from "../config/schema";
import { ClusterModel } from "../model";
import { clusterSecretStatements, hazelcastDiscoveryStatement } from "../aws";
import { imageUser } from "../kubernetes/names";
import { TaskSize, containerDefinitions, containerNames, isPorts, volumeNames } from "./containers";

export interface EcsService {
    taskDefinition: ecs.TaskDefinition;
    service: ecs.Service;
    execRole: iam.Role;
    logGroup: cloudwatch.LogGroup;
    /** The container definitions the task carries (JSON). */
    containerDefinitions: pulumi.Output<string>;
}

/**
 * Seconds ECS ignores the ALB's verdict on a new task: db-init waits up to 30 minutes for a
 * database still being created (the first deployment), then IS's first start seeds it.
 */
export const healthCheckGraceSeconds = 2400;

const ecsTasksTrust = JSON.stringify({
    Version: "2012-10-17",
    Statement: [
        { Effect: "Allow", Principal: { Service: "ecs-tasks.amazonaws.com" }, Action: "sts:AssumeRole" },
    ],
});

/** A family / name ECS accepts: letters, digits, hyphens and underscores. */
export function ecsName(name: string): string {
    return name.replace(/[^A-Za-z0-9_-]/g, "-").slice(0, 255);
}

export function createService(
    name: string,
    args: {
        config: ClusterConfig;
        region: string;
        model: pulumi.Output<ClusterModel>;
        size: TaskSize;
        dbAdminUser: string;
        secretArn: pulumi.Output<string>;
        /** ClusterSecretMaterial.rotationDigest. */
        secretRotation: pulumi.Output<string>;
        /** Production: the cluster's KMS key, which encrypts the secret `valueFrom` reads. */
        kmsKeyArn?: pulumi.Output<string>;
        fileSystemId: pulumi.Input<string>;
        fileSystemArn: pulumi.Input<string>;
        cluster: ecs.Cluster;
        capacityProviderName: pulumi.Input<string>;
        targetGroupArn: pulumi.Input<string>;
        /** Resources the service must wait for: the listener (target group in use), the capacity. */
        dependsOn: pulumi.Resource[];
        tags: Record<string, string>;
    },
    parent: pulumi.Resource,
): EcsService {
    const { config } = args;
    const opts = { parent };

    const logGroup = new cloudwatch.LogGroup(
        `${name}-is`,
        { retentionInDays: config.production ? 90 : 14, tags: args.tags },
        opts,
    );

    const accessPoint = (dir: "Userstores" | "Tenants") =>
        new efs.AccessPoint(
            `${name}-${dir.toLowerCase()}`,
            {
                fileSystemId: args.fileSystemId,
                posixUser: { uid: imageUser, gid: imageUser },
                rootDirectory: {
                    path: `/${dir}`,
                    creationInfo: { ownerUid: imageUser, ownerGid: imageUser, permissions: "0750" },
                },
                tags: { ...args.tags, Name: `${name}-${dir.toLowerCase()}` },
            },
            opts,
        );
    const userstores = accessPoint("Userstores");
    const tenants = accessPoint("Tenants");

    const executionRole = new iam.Role(
        `${name}-task-exec`,
        { description: "WSO2 IS ECS task execution", assumeRolePolicy: ecsTasksTrust, tags: args.tags },
        opts,
    );
    new iam.RolePolicyAttachment(
        `${name}-task-exec`,
        {
            role: executionRole.name,
            policyArn: "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
        },
        opts,
    );
    new iam.RolePolicy(
        `${name}-task-exec`,
        {
            role: executionRole.id,
            policy: pulumi.jsonStringify({
                Version: "2012-10-17",
                Statement: [
                    // As the EC2 nodes' role: Decrypt only through Secrets Manager.
                    ...clusterSecretStatements(args.secretArn, args.kmsKeyArn, args.region),
                ],
            }),
        },
        opts,
    );

    const taskRole = new iam.Role(
        `${name}-task`,
        { description: "WSO2 IS ECS task", assumeRolePolicy: ecsTasksTrust, tags: args.tags },
        opts,
    );
    new iam.RolePolicy(
        `${name}-task`,
        {
            role: taskRole.id,
            policy: pulumi.jsonStringify({
                Version: "2012-10-17",
                Statement: [
                    hazelcastDiscoveryStatement,
                    {
                        Sid: "SharedFs",
                        Effect: "Allow",
                        Action: ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
                        Resource: args.fileSystemArn,
                        Condition: {
                            StringEquals: {
                                "elasticfilesystem:AccessPointArn": [userstores.arn, tenants.arn],
                            },
                        },
                    },
                    {
                        // The ECS Exec channel (the SSM agent ECS injects into the container).
                        Sid: "EcsExecChannel",
                        Effect: "Allow",
                        Action: [
                            "ssmmessages:CreateControlChannel",
                            "ssmmessages:CreateDataChannel",
                            "ssmmessages:OpenControlChannel",
                            "ssmmessages:OpenDataChannel",
                        ],
                        Resource: "*",
                    },
                ],
            }),
        },
        opts,
    );

    const containers = pulumi
        .all([args.model, args.secretArn, logGroup.name, args.secretRotation])
        .apply(([model, secretArn, logGroupName, secretRotation]) =>
            JSON.stringify(
                containerDefinitions({
                    model,
                    image: config.is.image,
                    secretArn,
                    region: args.region,
                    logGroup: logGroupName,
                    size: args.size,
                    dbAdminUser: args.dbAdminUser,
                    secretRotation,
                }),
            ),
        );
    const taskVolume = (volume: string) => ({
        name: volume,
        dockerVolumeConfiguration: { scope: "task", driver: "local" },
    });
    const efsVolume = (volume: string, accessPointId: pulumi.Input<string>) => ({
        name: volume,
        efsVolumeConfiguration: {
            fileSystemId: args.fileSystemId,
            transitEncryption: "ENABLED",
            authorizationConfig: { accessPointId, iam: "ENABLED" },
        },
    });
    const taskDefinition = new ecs.TaskDefinition(
        `${name}-is`,
        {
            family: ecsName(`${name}-is`),
            // Hazelcast's EC2 discovery finds instances, so IS must listen on the instance's
            // own address: host network mode (docs/ecs.md).
            networkMode: "host",
            requiresCompatibilities: ["EC2"],
            cpu: String(args.size.cpu),
            memory: String(args.size.memoryMiB),
            executionRoleArn: executionRole.arn,
            taskRoleArn: taskRole.arn,
            containerDefinitions: containers,
            volumes: [
                taskVolume(volumeNames.config),
                taskVolume(volumeNames.artifacts),
                taskVolume(volumeNames.boot),
                efsVolume(volumeNames.userstores, userstores.id),
                efsVolume(volumeNames.tenants, tenants.id),
            ],
            tags: args.tags,
        },
        opts,
    );

    const service = new ecs.Service(
        `${name}-is`,
        {
            cluster: args.cluster.arn,
            taskDefinition: taskDefinition.arn,
            desiredCount: config.nodes,
            capacityProviderStrategies: [{ capacityProvider: args.capacityProviderName, weight: 1 }],
            // Rolling: a new task is healthy behind the ALB before an old one stops.
            deploymentMinimumHealthyPercent: 100,
            deploymentMaximumPercent: 200,
            deploymentCircuitBreaker: { enable: true, rollback: true },
            // One IS task per instance (host ports), spread over the zones first.
            orderedPlacementStrategies: [
                { type: "spread", field: "attribute:ecs.availability-zone" },
                { type: "spread", field: "instanceId" },
            ],
            placementConstraints: [{ type: "distinctInstance" }],
            availabilityZoneRebalancing: "ENABLED",
            loadBalancers: [
                {
                    targetGroupArn: args.targetGroupArn,
                    containerName: containerNames.is,
                    containerPort: isPorts.https,
                },
            ],
            // IS's first start waits for the database and seeds it: the ALB judges it after this.
            healthCheckGracePeriodSeconds: healthCheckGraceSeconds,
            enableExecuteCommand: true,
            propagateTags: "SERVICE",
            enableEcsManagedTags: true,
            // The first deployment waits for RDS (about 10 minutes): don't hold `pulumi up`.
            waitForSteadyState: false,
            tags: args.tags,
        },
        { parent, dependsOn: args.dependsOn },
    );

    // Break-glass: `aws ecs execute-command` into this cluster's IS containers only, for
    // principals of this account who pass MFA and are allowed to assume it.
    const account = getCallerIdentityOutput({}, { parent }).accountId;
    const execRole = new iam.Role(
        `${name}-exec`,
        {
            description: "WSO2 IS break-glass: ECS Exec into the IS containers",
            assumeRolePolicy: pulumi.jsonStringify({
                Version: "2012-10-17",
                Statement: [
                    {
                        Effect: "Allow",
                        Principal: { AWS: pulumi.interpolate`arn:aws:iam::${account}:root` },
                        Action: "sts:AssumeRole",
                        Condition: { Bool: { "aws:MultiFactorAuthPresent": "true" } },
                    },
                ],
            }),
            maxSessionDuration: 3600,
            tags: args.tags,
        },
        opts,
    );
    const taskArns = pulumi.interpolate`arn:aws:ecs:${args.region}:${account}:task/${args.cluster.name}/*`;
    new iam.RolePolicy(
        `${name}-exec`,
        {
            role: execRole.id,
            policy: pulumi.jsonStringify({
                Version: "2012-10-17",
                Statement: [
                    {
                        Sid: "ExecIntoIs",
                        Effect: "Allow",
                        Action: ["ecs:ExecuteCommand"],
                        Resource: [args.cluster.arn, taskArns],
                        Condition: { StringEquals: { "ecs:container-name": containerNames.is } },
                    },
                    {
                        Sid: "FindTasks",
                        Effect: "Allow",
                        Action: ["ecs:DescribeTasks", "ecs:ListTasks"],
                        Resource: "*",
                        Condition: { ArnEquals: { "ecs:cluster": args.cluster.arn } },
                    },
                ],
            }),
        },
        opts,
    );

    return { taskDefinition, service, execRole, logGroup, containerDefinitions: containers };
}
