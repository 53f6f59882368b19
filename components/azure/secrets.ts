// The cluster secret: one Key Vault secret holding the JSON document of scripts/CONTRACT.md,
// built by components/shared/clusterSecret.ts (generated DB passwords, the IS admin password,
// the cluster's encryption key and signing key; for SMB the storage account's name and key;
// the nodes' 9443 certificate and key). Nodes read it at boot with their managed identity; it
// never reaches user-data, stack outputs or logs (only its URL does).
//
// The vault uses RBAC (no access policies), soft delete, and purge protection in production.
// Writing the secret needs no data-plane role: azure-native's keyvault.Secret is the ARM
// resource Microsoft.KeyVault/vaults/secrets, written through the control plane with the
// deployer's Contributor/Owner rights. Giving the deployer "Key Vault Secrets Officer" would
// only add a standing right to read the passwords back, so this program does not.
import * as pulumi from "@pulumi/pulumi";
import * as keyvault from "@pulumi/azure-native/keyvault";
import { BackendTls } from "../shared/backendTls";
import { ClusterSecretMaterial, createClusterSecretMaterial } from "../shared/clusterSecret";

export const clusterSecretName = "cluster";

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

export function createClusterSecret(
    name: string,
    args: {
        resourceGroupName: pulumi.Input<string>;
        location: pulumi.Input<string>;
        tenantId: pulumi.Input<string>;
        vaultName: pulumi.Output<string>;
        clusterName: string;
        hostname: string;
        production: boolean;
        adminPassword?: pulumi.Output<string>;
        smbCredentials?: { username: pulumi.Output<string>; password: pulumi.Output<string> };
        /** VM nodes' 9443 certificate (VmCluster); AKS pods keep IS's own. */
        backendTls?: BackendTls;
        /** The nodes' only egress address (the NAT gateway's), when this program owns the network. */
        egressIp?: pulumi.Output<string>;
        tags: Record<string, string>;
    },
    parent: pulumi.Resource,
): AzureClusterSecret {
    const material = createClusterSecretMaterial(
        name,
        {
            clusterName: args.clusterName,
            hostname: args.hostname,
            production: args.production,
            adminPassword: args.adminPassword,
            backendTls: args.backendTls,
            smbCredentials: args.smbCredentials,
        },
        parent,
    );

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
                softDeleteRetentionInDays: args.production ? 90 : 7,
                // Once on it cannot be turned off, so it is only ever set, never set to false.
                ...(args.production ? { enablePurgeProtection: true } : {}),
                enabledForDeployment: false,
                enabledForDiskEncryption: false,
                enabledForTemplateDeployment: false,
                // Data-plane reads only from the nodes' NAT address when the network is ours; ARM
                // (how the secret is written) is not subject to these rules.
                networkAcls: args.egressIp
                    ? { defaultAction: "Deny", bypass: "None", ipRules: [{ value: args.egressIp }] }
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
        { parent },
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
