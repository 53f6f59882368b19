// What both Azure targets keep outside their nodes: the cluster secret in Key Vault
// (secrets.ts) and the MySQL Flexible Server (database.ts) whose admin password that secret
// holds. VmCluster and AksCluster wire it the same way; only the VM nodes' extras differ.
import * as pulumi from "@pulumi/pulumi";
import { ClusterConfig, databaseCount } from "../config/schema";
import { AzureDatabase, createDatabase } from "./database";
import { AzureNames } from "./names";
import { AzureClusterSecret, ClusterSecretInputs, createClusterSecret } from "./secrets";

export interface AzureClusterData {
    secret: AzureClusterSecret;
    database: AzureDatabase;
}

/**
 * `name` is the cluster's name, which also starts its resources' names. `context`: what both
 * targets place every Azure piece with; `options`: what the target adds.
 */
export function createClusterData(
    name: string,
    context: {
        config: ClusterConfig;
        /** The cluster's resource group, location and VNet (its own or the platform's). */
        network: {
            resourceGroupName: pulumi.Input<string>;
            location: pulumi.Input<string>;
            vnetId: pulumi.Input<string>;
            databaseSubnetId: pulumi.Input<string>;
            /** The platform's private DNS zone for MySQL; created here when absent. */
            mysqlDnsZoneId?: pulumi.Input<string>;
        };
        names: Pick<AzureNames, "keyVault" | "mysqlServer">;
        tags: Record<string, string>;
        client: { tenantId: pulumi.Input<string> };
    },
    /** The VM nodes add the SMB share's credentials, the 9443 certificate and the NAT addresses. */
    options: Pick<ClusterSecretInputs, "adminPassword" | "smbCredentials" | "backendTls"> & {
        egressIps?: pulumi.Output<string[]>;
        /** IS processes beside `nodes` during a rollout (AKS surge pod); 0 on VMs. */
        surgeNodes?: number;
    },
    parent: pulumi.Resource,
): AzureClusterData {
    const { config, network, names, tags } = context;
    const where = { resourceGroupName: network.resourceGroupName, location: network.location };
    const secret = createClusterSecret(
        name,
        {
            ...where,
            tags,
            tenantId: context.client.tenantId,
            vaultName: names.keyVault,
            clusterName: name,
            hostname: config.hostname,
            production: config.production,
            adminPassword: options.adminPassword,
            smbCredentials: options.smbCredentials,
            backendTls: options.backendTls,
            egressIps: options.egressIps,
        },
        parent,
    );
    const database = createDatabase(
        name,
        {
            ...where,
            config,
            tags,
            databaseCount: databaseCount(config.database.layout),
            serverName: names.mysqlServer,
            subnetId: network.databaseSubnetId,
            vnetId: network.vnetId,
            dnsZoneId: network.mysqlDnsZoneId,
            adminPassword: secret.dbAdminPassword,
            surgeNodes: options.surgeNodes,
        },
        parent,
    );
    return { secret, database };
}
