// RDS MySQL 8: private, encrypted, TLS enforced by the parameter group. Multi-AZ, deletion
// protection, 7+ days of backups and `protect` in production. The databases and the app user
// are created by the nodes' locked db-init on first boot, not here.
import * as pulumi from "@pulumi/pulumi";
import * as rds from "@pulumi/aws/rds";
import * as route53 from "@pulumi/aws/route53";
import { ClusterConfig } from "../config/schema";
import { maxConnections } from "../shared/database";
import { dbAdminUser } from "../shared/passwords";

export { maxConnections };

export interface AwsDatabase {
    instance: rds.Instance;
    /** Stable private DNS name the nodes use; a CNAME to the RDS endpoint. */
    host: string;
}

export function parameterGroupFamily(version: string): string {
    const m = /^(\d+)\.(\d+)/.exec(version);
    if (!m)
        throw new pulumi.RunError(
            `wso2is-cluster:dbVersion = "${version}" must start with major.minor, e.g. 8.0`,
        );
    return `mysql${m[1]}.${m[2]}`;
}

export function createDatabase(
    name: string,
    args: {
        config: ClusterConfig;
        databaseCount: number;
        subnetIds: pulumi.Input<string>[];
        securityGroupId: pulumi.Input<string>;
        vpcId: pulumi.Input<string>;
        adminPassword: pulumi.Output<string>;
        clusterName: string;
        /** The cluster's KMS key (production); absent: the AWS-managed key. */
        kmsKeyArn?: pulumi.Input<string>;
        tags: Record<string, string>;
    },
    parent: pulumi.Resource,
): AwsDatabase {
    const { config } = args;
    const db = config.database;
    const production = config.production;
    const subnetGroup = new rds.SubnetGroup(
        `${name}-db`,
        { subnetIds: args.subnetIds, tags: args.tags },
        { parent },
    );
    const parameters = new rds.ParameterGroup(
        `${name}-db`,
        {
            family: parameterGroupFamily(db.version),
            description: "WSO2 IS: TLS only, utf8mb4, connections sized for the nodes",
            parameters: [
                { name: "require_secure_transport", value: "1" },
                { name: "character_set_server", value: "utf8mb4" },
                { name: "collation_server", value: "utf8mb4_unicode_ci" },
                {
                    name: "max_connections",
                    value: String(maxConnections(config.nodes, args.databaseCount)),
                    applyMethod: "pending-reboot",
                },
            ],
            tags: args.tags,
        },
        { parent },
    );

    // Stateful: never replaced or dropped by an innocent change; protected in production.
    const instance = new rds.Instance(
        `${name}-db`,
        {
            engine: "mysql",
            engineVersion: db.version,
            instanceClass: db.size,
            allocatedStorage: db.storageGb,
            maxAllocatedStorage: db.storageGb * 4,
            storageType: "gp3",
            storageEncrypted: true,
            // Production: the cluster's KMS key (set at creation; changing it replaces the instance).
            ...(args.kmsKeyArn ? { kmsKeyId: args.kmsKeyArn } : {}),
            username: dbAdminUser,
            password: args.adminPassword,
            dbSubnetGroupName: subnetGroup.name,
            vpcSecurityGroupIds: [args.securityGroupId],
            parameterGroupName: parameters.name,
            publiclyAccessible: false,
            multiAz: production,
            backupRetentionPeriod: db.backupDays,
            deletionProtection: production,
            skipFinalSnapshot: !production,
            finalSnapshotIdentifier: production ? `${args.clusterName}-db-final` : undefined,
            copyTagsToSnapshot: true,
            autoMinorVersionUpgrade: true,
            caCertIdentifier: "rds-ca-rsa2048-g1",
            tags: args.tags,
        },
        { parent, protect: production, retainOnDelete: production },
    );

    // Nodes know the database by this name before RDS exists, so they boot in parallel with it.
    const zone = new route53.Zone(
        `${name}-internal`,
        {
            name: `${args.clusterName}.wso2is.internal`,
            comment: "WSO2 IS cluster private names",
            vpcs: [{ vpcId: args.vpcId }],
            tags: args.tags,
        },
        { parent },
    );
    const host = `db.${args.clusterName}.wso2is.internal`;
    new route53.Record(
        `${name}-db`,
        { zoneId: zone.zoneId, name: host, type: "CNAME", ttl: 60, records: [instance.address] },
        { parent },
    );
    return { instance, host };
}
