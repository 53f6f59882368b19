// wso2is:aws:Cluster: a 2+ node WSO2 IS cluster on EC2 with the `aws` membership scheme,
// RDS MySQL, EFS, an ALB and Secrets Manager. Each concern lives in its own file; this class
// wires them and renders the nodes' cloud-init from the cluster model.
import * as pulumi from "@pulumi/pulumi";
import { ClusterModel, buildClusterModel } from "../model";
import { renderCloudInit } from "../render/cloudInit";
import { gzipStable } from "../render/gzip";
import { dbAdminUser } from "../shared/passwords";
import { createBackendTls } from "../shared/backendTls";
import {
    AwsClusterComponent,
    AwsTargetArgs,
    clusterTags,
    discoveryTagKey,
    createAwsFoundation,
    createNodeIdentity,
    createScriptBundle,
    efsMountOptions,
    scriptBundleStatements,
    scriptPrefix,
} from "../aws";
import { createNodes } from "./nodes";

export { awsPlatformOutputs, discoveryTagKey, networkFromPlatform } from "../aws";

export type AwsClusterArgs = AwsTargetArgs;

/** EC2 accepts at most 16 KB of user-data (before base64). */
export const userDataLimitBytes = 16384;

/** gzip (cloud-init unpacks it) keeps the user-data under EC2's limit; a fixed header keeps it stable. */
export function userDataBase64(cloudInit: string): string {
    const packed = gzipStable(cloudInit);
    if (packed.length > userDataLimitBytes) {
        throw new pulumi.RunError(
            `the nodes' cloud-init is ${packed.length} bytes gzipped; EC2 accepts ${userDataLimitBytes}`,
        );
    }
    return packed.toString("base64");
}

export class AwsCluster extends AwsClusterComponent {
    /** The cluster model the nodes' files are rendered from (resolved values). */
    public readonly model: pulumi.Output<ClusterModel>;
    /** cloud-init user-data of the launch template (plain text; holds no secret). */
    public readonly cloudInit: pulumi.Output<string>;

    constructor(name: string, args: AwsClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("wso2is:aws:Cluster", name, {}, opts);
        const { config } = args;
        const clusterName = name;
        const tags = clusterTags(clusterName);

        // IS calls itself by the public hostname (pinned to the node), so 9443 serves a
        // certificate for that name from the cluster's own CA instead of IS's CN=localhost one.
        const backendTls = createBackendTls(
            name,
            { hostname: config.hostname, nodeIps: [], clusterName },
            this,
        );
        const foundation = createAwsFoundation(
            name,
            {
                ...args,
                backendTls,
                clusterName,
                tags,
            },
            this,
        );
        const { network, groups, secret, kmsKeyArn, database, sharedFs, loadBalancer } = foundation;

        // EC2 user-data holds 16 KB: the nodes fetch their scripts from the cluster's bucket.
        const scripts = createScriptBundle(name, { production: config.production, kmsKeyArn, tags }, this);
        const identity = createNodeIdentity(
            name,
            {
                secretArn: secret.secret.arn,
                kmsKeyArn,
                statements: scriptBundleStatements(scripts.bucket.arn, kmsKeyArn, args.region),
                region: args.region,
                tags,
            },
            this,
        );

        // Everything a node needs, resolved; none of it waits for RDS or the ALB to exist.
        this.model = pulumi
            .all([
                groups.nodes.name,
                identity.role.name,
                secret.secret.arn,
                secret.version.versionId,
                pulumi.output(sharedFs.source),
                scripts.bucket.bucket,
            ])
            .apply(([securityGroup, iamRole, secretArn, secretVersion, shareSource, bucket]) =>
                buildClusterModel(config, {
                    clusterName,
                    database: { host: database.host, port: 3306, tls: true, adminUser: dbAdminUser },
                    sharedFs: { protocol: "nfs", source: shareSource, options: efsMountOptions },
                    secrets: {
                        source: "aws-secrets-manager",
                        id: secretArn,
                        region: args.region,
                        version: secretVersion,
                    },
                    scriptDelivery: { kind: "s3", bucket, region: args.region, prefix: scriptPrefix },
                    nodeIp: "aws-imds",
                    // One launch template serves every instance; each learns its IP at boot.
                    nodes: [{ name: "asg-node" }],
                    membership: {
                        scheme: "aws",
                        region: args.region,
                        iamRole,
                        securityGroup,
                        tagKey: discoveryTagKey,
                        tagValue: clusterName,
                    },
                    backendTls: true,
                }),
            );
        this.cloudInit = this.model.apply((m) => renderCloudInit(m, m.nodes[0]));

        const nodes = createNodes(
            name,
            {
                config,
                tags,
                subnetIds: network.privateSubnetIds,
                securityGroupId: groups.nodes.id,
                instanceProfileArn: identity.instanceProfile.arn,
                targetGroupArn: loadBalancer.targetGroup.arn,
                userData: this.cloudInit.apply(userDataBase64),
                discoveryTag: { key: discoveryTagKey, value: clusterName },
                kmsKeyArn,
                dependsOn: [
                    ...(network.egress ?? []),
                    ...scripts.ready,
                    ...(identity.policy ? [identity.policy] : []),
                ],
            },
            this,
        );

        this.setSharedOutputs(config, foundation, nodes.group.name);
        this.registerOutputs(this.outputs());
    }

    /** The stack outputs (the same names on every target where they apply). */
    public outputs(): Record<string, pulumi.Output<unknown>> {
        return this.sharedOutputs();
    }
}
