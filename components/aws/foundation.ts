// What every AWS target (EC2 in components/ec2, ECS in components/ecs) stands on: the network
// (or the platform stack's), the security groups, the cluster secret, RDS MySQL, the shared
// file system and the ALB. One function, so both targets create them with the same names,
// parents and settings; each target adds its own compute and identity.
import * as pulumi from "@pulumi/pulumi";
import { ClusterConfig } from "../config/schema";
import { healthCheckPath } from "../model";
import { BackendTls } from "../shared/backendTls";
import { AwsDatabase, createDatabase } from "./database";
import { AwsLoadBalancer, createLoadBalancer } from "./loadBalancer";
import { AwsNetwork, createNetwork } from "./network";
import { createClusterKey } from "./kms";
import { ClusterSecret, createClusterSecret } from "./secrets";
import { AwsSecurityGroups, createSecurityGroups } from "./securityGroups";
import { AwsSharedFs, createSharedFs } from "./sharedFs";

export interface AwsFoundationArgs {
    config: ClusterConfig;
    region: string;
    /** Subnets from a platform stack; absent: a VPC is created here. */
    network?: AwsNetwork;
    adminPassword?: pulumi.Output<string>;
    /** The nodes' 9443 identity, kept in the cluster secret (EC2); absent on ECS. */
    backendTls?: BackendTls;
    /** The logical cluster name (tags, RDS parameter names). */
    clusterName: string;
    tags: Record<string, string>;
}

export interface AwsFoundation {
    network: AwsNetwork;
    groups: AwsSecurityGroups;
    secret: ClusterSecret;
    /** Production: the cluster's own KMS key (RDS, EFS, EBS, the secret); dev: none (AWS-managed keys). */
    kmsKeyArn?: pulumi.Output<string>;
    database: AwsDatabase;
    sharedFs: AwsSharedFs;
    loadBalancer: AwsLoadBalancer;
}

export function createAwsFoundation(
    name: string,
    args: AwsFoundationArgs,
    parent: pulumi.Resource,
): AwsFoundation {
    const { config, tags } = args;
    const network =
        args.network ??
        createNetwork(
            name,
            { cidr: config.network.cidr, region: args.region, production: config.production, tags },
            parent,
        );
    const groups = createSecurityGroups(
        name,
        { vpcId: network.vpcId, allowedCidrs: config.network.allowedCidrs, tags },
        parent,
    );
    // Production: the customer's own KMS key for RDS, EFS, EBS and the secret (AWS-managed in dev).
    const kmsKeyArn = config.production
        ? createClusterKey(name, { clusterName: args.clusterName, tags }, parent).arn
        : undefined;
    const secret = createClusterSecret(
        name,
        {
            clusterName: args.clusterName,
            hostname: config.hostname,
            adminPassword: args.adminPassword,
            production: config.production,
            ...(args.backendTls ? { backendTls: args.backendTls } : {}),
            kmsKeyArn,
            tags,
        },
        parent,
    );
    const database = createDatabase(
        name,
        {
            config,
            databaseCount: config.database.layout === "separate" ? 3 : 2,
            clusterName: args.clusterName,
            tags,
            subnetIds: network.privateSubnetIds,
            securityGroupId: groups.database.id,
            vpcId: network.vpcId,
            adminPassword: secret.dbAdminPassword,
            kmsKeyArn,
        },
        parent,
    );
    const sharedFs: AwsSharedFs =
        config.sharedFs.kind === "efs"
            ? createSharedFs(
                  name,
                  {
                      production: config.production,
                      subnetIds: network.privateSubnetIds,
                      securityGroupId: groups.sharedFs.id,
                      kmsKeyArn,
                      tags,
                  },
                  parent,
              )
            : { id: config.sharedFs.address!, source: config.sharedFs.address! };
    const loadBalancer = createLoadBalancer(
        name,
        {
            config,
            tags,
            healthCheckPath,
            vpcId: network.vpcId,
            subnetIds: network.publicSubnetIds,
            securityGroupId: groups.alb.id,
        },
        parent,
    );
    return { network, groups, secret, kmsKeyArn, database, sharedFs, loadBalancer };
}
