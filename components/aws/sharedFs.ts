// EFS for the runtime artifacts (Userstores, Tenants): encrypted, one mount target per
// private subnet, mounted over NFS 4.1 at the file system root. Protected in production.
import * as pulumi from "@pulumi/pulumi";
import * as efs from "@pulumi/aws/efs";

/** AWS's recommended NFS options for EFS, plus nofail so a late share never blocks boot. */
export const efsMountOptions =
    "nfsvers=4.1,rsize=1048576,wsize=1048576,hard,timeo=600,retrans=2,noresvport,_netdev,nofail";

export interface AwsSharedFs {
    fileSystem?: efs.FileSystem;
    id: pulumi.Output<string> | string;
    /** NFS source for fstab, host:/path. */
    source: pulumi.Output<string> | string;
}

export function createSharedFs(
    name: string,
    args: {
        production: boolean;
        subnetIds: pulumi.Input<string>[];
        securityGroupId: pulumi.Input<string>;
        /** The cluster's KMS key (production); absent: the AWS-managed aws/elasticfilesystem key. */
        kmsKeyArn?: pulumi.Input<string>;
        tags: Record<string, string>;
    },
    parent: pulumi.Resource,
): AwsSharedFs {
    const fileSystem = new efs.FileSystem(
        `${name}-efs`,
        {
            encrypted: true,
            // Production: the cluster's KMS key (set at creation; changing it replaces the file system).
            ...(args.kmsKeyArn ? { kmsKeyId: args.kmsKeyArn } : {}),
            performanceMode: "generalPurpose",
            throughputMode: "elastic",
            tags: { ...args.tags, Name: `${name}-efs` },
        },
        { parent, protect: args.production, retainOnDelete: args.production },
    );
    args.subnetIds.forEach((subnetId, i) => {
        new efs.MountTarget(
            `${name}-efs-${i + 1}`,
            { fileSystemId: fileSystem.id, subnetId, securityGroups: [args.securityGroupId] },
            { parent },
        );
    });
    if (args.production) {
        new efs.BackupPolicy(
            `${name}-efs`,
            { fileSystemId: fileSystem.id, backupPolicy: { status: "ENABLED" } },
            { parent },
        );
    }
    return { fileSystem, id: fileSystem.id, source: pulumi.interpolate`${fileSystem.dnsName}:/` };
}
