// Azure Database for MySQL Flexible Server: private access only (a subnet delegated to it and a
// private DNS zone linked to the VNet), TLS enforced (require_secure_transport), backups kept
// `dbBackupDays`. Production adds zone-redundant HA, `protect` and `retainOnDelete`. The
// databases and the app user are created by the nodes' locked db-init on first boot, not here.
//
// The server's name is fixed up front (names.ts), so its FQDN <server>.mysql.database.azure.com
// is in the nodes' files before the server exists: the nodes boot while it is being created
// (about 10 minutes) and db-init waits for it.
import * as pulumi from "@pulumi/pulumi";
import * as dbformysql from "@pulumi/azure-native/dbformysql";
import { ClusterConfig } from "../config/schema";
import { maxConnections } from "../shared/database";
import { dbAdminUser } from "../shared/passwords";
import { kebab } from "./names";
import { linkedPrivateZone } from "./privateDns";

export interface AzureDatabase {
    server: dbformysql.Server;
    /** What the nodes connect to, known from the server's name alone. */
    host: pulumi.Output<string>;
    /** The last server parameter applied (parameters are chained): the server is ready for IS. */
    parameters: pulumi.Resource;
}

export const primaryZone = "1";
export const standbyZone = "2";

export function mysqlHost(serverName: string): string {
    return `${serverName}.mysql.database.azure.com`;
}

/** Flexible Server's tier from its SKU name: B = Burstable, E = MemoryOptimized, else GeneralPurpose. */
export function skuTier(size: string): "Burstable" | "GeneralPurpose" | "MemoryOptimized" {
    const family = /^Standard_([A-Z])/.exec(size)?.[1];
    if (family === "B") return "Burstable";
    if (family === "E") return "MemoryOptimized";
    return "GeneralPurpose";
}

export function createDatabase(
    name: string,
    args: {
        config: ClusterConfig;
        databaseCount: number;
        resourceGroupName: pulumi.Input<string>;
        location: pulumi.Input<string>;
        serverName: pulumi.Output<string>;
        subnetId: pulumi.Input<string>;
        vnetId: pulumi.Input<string>;
        /** The platform's private DNS zone for MySQL; created here when absent. */
        dnsZoneId?: pulumi.Input<string>;
        adminPassword: pulumi.Output<string>;
        tags: Record<string, string>;
        /** IS processes beside `nodes` during a rollout (AKS surge pod); 0 on VMs. */
        surgeNodes?: number;
    },
    parent: pulumi.Resource,
): AzureDatabase {
    const { config } = args;
    const db = config.database;
    const production = config.production;
    const tier = skuTier(db.size);
    if (production && tier === "Burstable") {
        throw new pulumi.RunError(
            `wso2is-cluster:dbSize = "${db.size}" is a Burstable SKU; production needs zone-redundant HA, which needs GeneralPurpose or MemoryOptimized (e.g. Standard_D2ds_v4)`,
        );
    }

    let dnsZoneId = args.dnsZoneId;
    const dependsOn: pulumi.Resource[] = [];
    if (!dnsZoneId) {
        const { zone, link } = linkedPrivateZone(
            `${name}-mysql-dns`,
            {
                resourceGroupName: args.resourceGroupName,
                zoneName: `${kebab(name)}.private.mysql.database.azure.com`,
                vnetId: args.vnetId,
                tags: args.tags,
            },
            parent,
        );
        // The server's creation checks that the zone resolves in its VNet.
        dependsOn.push(link);
        dnsZoneId = zone.id;
    }

    // Stateful: never replaced or dropped by an innocent change; protected in production.
    const server = new dbformysql.Server(
        `${name}-db`,
        {
            resourceGroupName: args.resourceGroupName,
            location: args.location,
            serverName: args.serverName,
            version: db.version,
            sku: { name: db.size, tier },
            administratorLogin: dbAdminUser,
            administratorLoginPassword: args.adminPassword,
            storage: { storageSizeGB: db.storageGb, autoGrow: "Enabled" },
            backup: { backupRetentionDays: db.backupDays, geoRedundantBackup: "Disabled" },
            network: {
                delegatedSubnetResourceId: args.subnetId,
                privateDnsZoneResourceId: dnsZoneId,
                publicNetworkAccess: "Disabled",
            },
            ...(production
                ? {
                      availabilityZone: primaryZone,
                      highAvailability: { mode: "ZoneRedundant", standbyAvailabilityZone: standbyZone },
                  }
                : { highAvailability: { mode: "Disabled" } }),
            tags: args.tags,
        },
        { parent, dependsOn, protect: production, retainOnDelete: production },
    );

    // Flexible Server applies one parameter change at a time: chain them.
    const parameters: [string, string][] = [
        ["require_secure_transport", "ON"],
        ["max_connections", String(maxConnections(config.nodes, args.databaseCount, args.surgeNodes ?? 0))],
    ];
    let previous: pulumi.Resource = server;
    for (const [parameter, value] of parameters) {
        previous = new dbformysql.Configuration(
            `${name}-db-${parameter.replace(/_/g, "-")}`,
            {
                resourceGroupName: args.resourceGroupName,
                serverName: server.name,
                configurationName: parameter,
                value,
                source: "user-override",
            },
            { parent, dependsOn: [previous] },
        );
    }

    return { server, host: args.serverName.apply(mysqlHost), parameters: previous };
}
