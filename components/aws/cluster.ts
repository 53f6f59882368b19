// The stack outputs both AWS targets share (EC2 in components/ec2, ECS in components/ecs), from
// the foundation they share: one list, so the two cannot drift apart.
import * as pulumi from "@pulumi/pulumi";
import { ClusterConfig } from "../config/schema";
import { AwsFoundation } from "./foundation";
import { AwsNetwork } from "./network";

/** What either AWS target (wso2is:aws:Cluster, wso2is:aws:EcsCluster) is built from. */
export interface AwsTargetArgs {
    config: ClusterConfig;
    /** AWS region (the aws:region of the stack). */
    region: string;
    /** From the platform stack; when absent the component creates the VPC. */
    network?: AwsNetwork;
    /** IS super admin password from config; generated when absent. */
    adminPassword?: pulumi.Output<string>;
}

/** The tag every AWS resource of a cluster carries; the instances' is what Hazelcast's EC2 discovery filters by. */
export const discoveryTagKey = "wso2is-cluster";

/** The tags of every resource of cluster `clusterName`. */
export function clusterTags(clusterName: string): Record<string, string> {
    return { [discoveryTagKey]: clusterName, "managed-by": "pulumi" };
}

export abstract class AwsClusterComponent extends pulumi.ComponentResource {
    public readonly url!: pulumi.Output<string>;
    public readonly hostname!: pulumi.Output<string>;
    public readonly loadBalancerDnsName!: pulumi.Output<string>;
    public readonly databaseEndpoint!: pulumi.Output<string>;
    public readonly databaseSecretArn!: pulumi.Output<string>;
    public readonly sharedFsId!: pulumi.Output<string>;
    public readonly nodeSecurityGroupId!: pulumi.Output<string>;
    public readonly autoScalingGroupName!: pulumi.Output<string>;
    public readonly membershipScheme!: pulumi.Output<string>;
    public readonly nodeCount!: pulumi.Output<number>;
    /** The cluster's token-signing certificate (PEM, public): relying parties may pin it. */
    public readonly signingCertificatePem!: pulumi.Output<string>;

    /** Sets the shared outputs, once the foundation and the nodes' group exist. */
    protected setSharedOutputs(
        config: ClusterConfig,
        f: AwsFoundation,
        autoScalingGroupName: pulumi.Output<string>,
    ): void {
        const shared: Pick<AwsClusterComponent, SharedOutput> = {
            url: pulumi.output(`https://${config.hostname}`),
            hostname: pulumi.output(config.hostname),
            loadBalancerDnsName: f.loadBalancer.alb.dnsName,
            databaseEndpoint: f.database.instance.address,
            databaseSecretArn: f.secret.secret.arn,
            sharedFsId: pulumi.output(f.sharedFs.id),
            nodeSecurityGroupId: f.groups.nodes.id,
            autoScalingGroupName,
            membershipScheme: pulumi.output(config.membership),
            nodeCount: pulumi.output(config.nodes),
            signingCertificatePem: f.secret.material.signing.certificatePem,
        };
        Object.assign(this, shared);
    }

    /** The shared stack outputs (the same names on every target where they apply). */
    protected sharedOutputs(): Record<SharedOutput, pulumi.Output<unknown>> {
        return Object.fromEntries(sharedOutputNames.map((k) => [k, this[k]])) as Record<
            SharedOutput,
            pulumi.Output<unknown>
        >;
    }
}

const sharedOutputNames = [
    "url",
    "hostname",
    "loadBalancerDnsName",
    "databaseEndpoint",
    "databaseSecretArn",
    "sharedFsId",
    "nodeSecurityGroupId",
    "autoScalingGroupName",
    "membershipScheme",
    "nodeCount",
    "signingCertificatePem",
] as const;
type SharedOutput = (typeof sharedOutputNames)[number];
