// The cluster secret: one Secrets Manager entry holding the generated DB passwords, the IS
// admin password and the nodes' 9443 certificate and key (components/shared/backendTls.ts).
// Nodes read it at boot through their instance role; it never reaches user-data, stack
// outputs or logs (only its ARN does).
import * as pulumi from "@pulumi/pulumi";
import * as secretsmanager from "@pulumi/aws/secretsmanager";
import { BackendTls } from "../shared/backendTls";
import { dbAdminUser, generatedPassword } from "../shared/passwords";

export interface ClusterSecret {
    secret: secretsmanager.Secret;
    dbAdminPassword: pulumi.Output<string>;
    version: secretsmanager.SecretVersion;
}

export function createClusterSecret(
    name: string,
    args: {
        adminPassword?: pulumi.Output<string>;
        production: boolean;
        /** The nodes' 9443 identity (EC2: IS calls itself through the pinned hostname); none on ECS. */
        backendTls?: BackendTls;
        tags: Record<string, string>;
    },
    parent: pulumi.Resource,
): ClusterSecret {
    const dbAdminPassword = generatedPassword(`${name}-db-admin-password`, parent);
    const dbAppPassword = generatedPassword(`${name}-db-app-password`, parent);
    const adminPassword = args.adminPassword ?? generatedPassword(`${name}-is-admin-password`, parent);
    const secret = new secretsmanager.Secret(
        `${name}-secret`,
        {
            description: "WSO2 IS cluster: database and admin passwords, read by the nodes at boot",
            recoveryWindowInDays: args.production ? 30 : 7,
            tags: args.tags,
        },
        { parent },
    );
    const version = new secretsmanager.SecretVersion(
        `${name}-secret`,
        {
            secretId: secret.id,
            secretString: pulumi.jsonStringify({
                dbAdminUser,
                dbAdminPassword,
                dbAppPassword,
                adminPassword,
                ...(args.backendTls
                    ? {
                          tlsCertificate: args.backendTls.certificatePem,
                          tlsPrivateKey: args.backendTls.privateKeyPem,
                          tlsCaCertificate: args.backendTls.caCertificatePem,
                          tlsKeystorePassword: args.backendTls.keystorePassword,
                      }
                    : {}),
            }),
        },
        { parent },
    );
    return { secret, dbAdminPassword, version };
}
