// The cluster secret: one Key Vault secret holding the JSON document of scripts/CONTRACT.md,
// built by components/shared/clusterSecret.ts (generated DB passwords, the IS admin password,
// the cluster's encryption key and signing key; for SMB the storage account's name and key;
// the nodes' 9443 certificate and key). Nodes read it at boot with their managed identity; it
// never reaches user-data, stack outputs or logs (only its URL does).
//
// The vault uses RBAC (no access policies), soft delete (90 days in every mode: the retention
// cannot change after creation, so a dev stack can turn `production` on later), and purge
// protection in production.
//
// The deployer has no data-plane role on the vault. azure-native's keyvault.Secret is a hybrid:
// create, update and read go through ARM (Microsoft.KeyVault/vaults/secrets, covered by
// Contributor), but DELETE goes through the Key Vault data plane, "because it isn't available
// via ARM" (pulumi-azure-native provider/pkg/resources/customresources/custom_keyvault.go,
// keyVaultSecret: azsecrets DeleteSecret against https://<vault>.vault.azure.net). This vault's
// firewall (nodes' NAT addresses only) and RBAC refuse the deployer there, so the secret is
// `deletedWith` its vault: `pulumi destroy` deletes the vault through ARM, which takes the
// secret with it, and never calls the data plane. Giving the deployer "Key Vault Secrets
// Officer" instead would add a standing right to read the passwords back.
import * as pulumi from "@pulumi/pulumi";
import * as keyvault from "@pulumi/azure-native/keyvault";
import { ClusterSecretMaterial, createClusterSecretMaterial } from "../shared/clusterSecret";

export const clusterSecretName = "cluster";
/** Soft-delete retention of the vault, in every mode: Azure refuses to change it after creation. */
export const vaultRetentionDays = 90;

export interface AzureClusterSecret {
    vault: keyvault.Vault;
    secret: keyvault.Secret;
    /** https://<vault>.vault.azure.net/secrets/<name>: what the nodes read, known from the names alone. */
    secretUrl: pulumi.Output<string>;
    material: ClusterSecretMaterial;
    dbAdminPassword: pulumi.Output<string>;
    dbAppPassword: pulumi.Output<string>;
    adminPassword: pulumi.Output<string>;
}

export function keyVaultSecretUrl(vaultName: string, secretName: string): string {
    return `https://${vaultName}.vault.azure.net/secrets/${secretName}`;
}

/** What the cluster secret's document is built from (components/shared/clusterSecret.ts). */
export type ClusterSecretInputs = Parameters<typeof createClusterSecretMaterial>[1];

export function createClusterSecret(
    name: string,
    args: ClusterSecretInputs & {
        resourceGroupName: pulumi.Input<string>;
        location: pulumi.Input<string>;
        tenantId: pulumi.Input<string>;
        vaultName: pulumi.Output<string>;
        /** The nodes' egress addresses (one NAT gateway per zone), when this program owns the network. */
        egressIps?: pulumi.Output<string[]>;
        tags: Record<string, string>;
    },
    parent: pulumi.Resource,
): AzureClusterSecret {
    const material = createClusterSecretMaterial(name, args, parent);

    const vault = new keyvault.Vault(
        `${name}-kv`,
        {
            resourceGroupName: args.resourceGroupName,
            location: args.location,
            vaultName: args.vaultName,
            properties: {
                tenantId: args.tenantId,
                sku: { family: "A", name: "standard" },
                enableRbacAuthorization: true,
                enableSoftDelete: true,
                softDeleteRetentionInDays: vaultRetentionDays,
                // Once on it cannot be turned off, so it is only ever set, never set to false.
                ...(args.production ? { enablePurgeProtection: true } : {}),
                enabledForDeployment: false,
                enabledForDiskEncryption: false,
                enabledForTemplateDeployment: false,
                // Data-plane reads only from the nodes' NAT addresses when the network is ours; ARM
                // (how the secret is written, and the vault deleted) is not subject to these rules.
                networkAcls: args.egressIps
                    ? {
                          defaultAction: "Deny",
                          bypass: "None",
                          ipRules: args.egressIps.apply((ips) => ips.map((value) => ({ value }))),
                      }
                    : { defaultAction: "Allow", bypass: "None" },
            },
            tags: args.tags,
        },
        { parent },
    );

    const secret = new keyvault.Secret(
        `${name}-secret`,
        {
            resourceGroupName: args.resourceGroupName,
            vaultName: vault.name,
            secretName: clusterSecretName,
            properties: { value: material.document, contentType: "application/json" },
            tags: args.tags,
        },
        // Deleted through ARM with its vault, never through the data plane (see the top).
        { parent, deletedWith: vault },
    );

    return {
        vault,
        secret,
        secretUrl: args.vaultName.apply((v) => keyVaultSecretUrl(v, clusterSecretName)),
        material,
        dbAdminPassword: material.dbAdminPassword,
        dbAppPassword: material.dbAppPassword,
        adminPassword: material.adminPassword,
    };
}
