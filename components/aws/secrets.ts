// The cluster secret on AWS: one Secrets Manager entry holding the document of
// components/shared/clusterSecret.ts (passwords, the cluster's encryption key and signing key,
// the nodes' 9443 certificate). Nodes read it at boot through their instance role; it never
// reaches user-data, stack outputs or logs (only its ARN does). In production it is encrypted
// with the cluster's own KMS key (components/aws/kms.ts).
import * as pulumi from "@pulumi/pulumi";
import * as secretsmanager from "@pulumi/aws/secretsmanager";
import { BackendTls } from "../shared/backendTls";
import { ClusterSecretMaterial, createClusterSecretMaterial } from "../shared/clusterSecret";

export interface ClusterSecret {
    secret: secretsmanager.Secret;
    material: ClusterSecretMaterial;
    dbAdminPassword: pulumi.Output<string>;
    version: secretsmanager.SecretVersion;
}

export function createClusterSecret(
    name: string,
    args: {
        clusterName: string;
        hostname: string;
        adminPassword?: pulumi.Output<string>;
        production: boolean;
        /** The nodes' 9443 identity (EC2: IS calls itself through the pinned hostname); none on ECS. */
        backendTls?: BackendTls;
        /** The cluster's KMS key (production); absent: Secrets Manager's AWS-managed key. */
        kmsKeyArn?: pulumi.Input<string>;
        tags: Record<string, string>;
    },
    parent: pulumi.Resource,
): ClusterSecret {
    const material = createClusterSecretMaterial(
        name,
        {
            clusterName: args.clusterName,
            hostname: args.hostname,
            production: args.production,
            adminPassword: args.adminPassword,
            backendTls: args.backendTls,
        },
        parent,
    );
    const secret = new secretsmanager.Secret(
        `${name}-secret`,
        {
            description: "WSO2 IS cluster: passwords and key material, read by the nodes at boot",
            recoveryWindowInDays: args.production ? 30 : 7,
            ...(args.kmsKeyArn ? { kmsKeyId: args.kmsKeyArn } : {}),
            tags: args.tags,
        },
        { parent },
    );
    const version = new secretsmanager.SecretVersion(
        `${name}-secret`,
        { secretId: secret.id, secretString: material.document },
        { parent },
    );
    return { secret, material, dbAdminPassword: material.dbAdminPassword, version };
}
