// The resource group and virtual network the cluster lives in: taken from the platform stack,
// or created here. A created VNet is carved into four /24s (gateway, nodes, database,
// endpoints): Application Gateway v2 needs a subnet of its own, MySQL Flexible Server a subnet
// delegated to it, and the private endpoints sit apart so their NSG can be tight. The node
// subnet reaches the internet only through a NAT gateway (Azure retired default outbound access).
import * as pulumi from "@pulumi/pulumi";
import * as network from "@pulumi/azure-native/network";
import { subnetCidr } from "../model/network";
import { PlatformOutputs, platformString } from "../platform";
import { AzureSecurityGroups } from "./securityGroups";

export interface AzureNetwork {
    resourceGroupName: pulumi.Input<string>;
    location: pulumi.Input<string>;
    vnetId: pulumi.Input<string>;
    gatewaySubnetId: pulumi.Input<string>;
    nodeSubnetId: pulumi.Input<string>;
    /** Plain value: the nodes' static IPs are carved from it before any resource exists. */
    nodeSubnetCidr: string;
    /** When known (created network, or the platform exports it): the only source allowed to 9443. */
    gatewaySubnetCidr?: string;
    /** Delegated to Microsoft.DBforMySQL/flexibleServers. */
    databaseSubnetId: pulumi.Input<string>;
    endpointSubnetId: pulumi.Input<string>;
    /** Private DNS zone of the MySQL server (`<name>.private.mysql.database.azure.com`), if the platform owns it. */
    mysqlDnsZoneId?: pulumi.Input<string>;
    /** privatelink.file.core.windows.net, if the platform owns it. */
    fileDnsZoneId?: pulumi.Input<string>;
    /** The nodes' only egress address (the NAT gateway's), when this program created the network. */
    egressIp?: pulumi.Output<string>;
    /** True when this program created the network (and so attached the subnet NSGs). */
    created: boolean;
}

/** The address plan of a created network: one /24 per role, in this order. */
export const subnetRoles = ["gateway", "nodes", "database", "endpoints"] as const;
export type SubnetRole = (typeof subnetRoles)[number];

export function subnetPlan(cidr: string): Record<SubnetRole, string> {
    return Object.fromEntries(subnetRoles.map((role, i) => [role, subnetCidr(cidr, 24, i)])) as Record<
        SubnetRole,
        string
    >;
}

/**
 * The platform stack contract for cloud azure. privateDnsZoneId is the MySQL private DNS zone;
 * gatewaySubnetCidr narrows the nodes' 9443 rule to the gateway subnet (without it: the VNet);
 * filePrivateDnsZoneId is privatelink.file.core.windows.net when the platform runs one.
 */
export const azurePlatformOutputs = {
    required: [
        "resourceGroupName",
        "location",
        "vnetId",
        "nodeSubnetId",
        "nodeSubnetCidr",
        "gatewaySubnetId",
        "databaseSubnetId",
        "endpointSubnetId",
    ],
    optional: ["privateDnsZoneId", "gatewaySubnetCidr", "filePrivateDnsZoneId"],
};

export function networkFromPlatform(p: PlatformOutputs): AzureNetwork {
    const optional = (key: string) => (p.values[key] === undefined ? undefined : platformString(p, key));
    const nodeSubnetCidr = platformString(p, "nodeSubnetCidr");
    if (!/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(nodeSubnetCidr)) {
        throw new pulumi.RunError(
            `wso2is-cluster:platformStack = "${p.stack}": output nodeSubnetCidr must be an IPv4 CIDR such as 10.50.1.0/24, got ${JSON.stringify(nodeSubnetCidr)}`,
        );
    }
    return {
        resourceGroupName: platformString(p, "resourceGroupName"),
        location: platformString(p, "location"),
        vnetId: platformString(p, "vnetId"),
        gatewaySubnetId: platformString(p, "gatewaySubnetId"),
        nodeSubnetId: platformString(p, "nodeSubnetId"),
        nodeSubnetCidr,
        gatewaySubnetCidr: optional("gatewaySubnetCidr"),
        databaseSubnetId: platformString(p, "databaseSubnetId"),
        endpointSubnetId: platformString(p, "endpointSubnetId"),
        mysqlDnsZoneId: optional("privateDnsZoneId"),
        fileDnsZoneId: optional("filePrivateDnsZoneId"),
        created: false,
    };
}

export function createNetwork(
    name: string,
    args: {
        resourceGroupName: pulumi.Input<string>;
        location: string;
        cidr: string;
        securityGroups: AzureSecurityGroups;
        tags: Record<string, string>;
    },
    parent: pulumi.Resource,
): AzureNetwork {
    const plan = subnetPlan(args.cidr);
    const common = { resourceGroupName: args.resourceGroupName, location: args.location, tags: args.tags };
    const vnet = new network.VirtualNetwork(
        `${name}-vnet`,
        {
            ...common,
            addressSpace: { addressPrefixes: [args.cidr] },
            // Subnets are standalone resources below; inline ones would fight them.
        },
        { parent },
    );

    const natIp = new network.PublicIPAddress(
        `${name}-nat`,
        {
            ...common,
            sku: { name: "Standard", tier: "Regional" },
            publicIPAllocationMethod: "Static",
            publicIPAddressVersion: "IPv4",
        },
        { parent },
    );
    const nat = new network.NatGateway(
        `${name}-nat`,
        {
            ...common,
            sku: { name: "Standard" },
            publicIpAddresses: [{ id: natIp.id }],
            idleTimeoutInMinutes: 10,
        },
        { parent },
    );

    // Azure serialises writes to one VNet; creating its subnets one after the other avoids
    // "AnotherOperationInProgress" on the first `pulumi up`.
    let previous: pulumi.Resource | undefined;
    const subnet = (role: SubnetRole, extra: Partial<network.SubnetArgs>) => {
        const s = new network.Subnet(
            `${name}-${role}`,
            {
                resourceGroupName: args.resourceGroupName,
                virtualNetworkName: vnet.name,
                addressPrefix: plan[role],
                networkSecurityGroup: { id: args.securityGroups[role]!.id },
                ...extra,
            },
            { parent, dependsOn: previous ? [previous] : [] },
        );
        previous = s;
        return s;
    };
    // The database subnet first: MySQL (the longest creation, ~10 min) starts as soon as it
    // exists; the node subnet comes last because it waits for the NAT gateway (~2 min).
    const database = subnet("database", {
        delegations: [{ name: "mysql-flexible", serviceName: "Microsoft.DBforMySQL/flexibleServers" }],
    });
    const gateway = subnet("gateway", {});
    const endpoints = subnet("endpoints", {
        // Without this the subnet's NSG does not apply to private endpoints.
        privateEndpointNetworkPolicies: "Enabled",
    });
    const nodes = subnet("nodes", {
        natGateway: { id: nat.id },
        // Private subnet: no implicit outbound IP; egress is the NAT gateway only.
        defaultOutboundAccess: false,
    });

    return {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        vnetId: vnet.id,
        gatewaySubnetId: gateway.id,
        nodeSubnetId: nodes.id,
        nodeSubnetCidr: plan.nodes,
        gatewaySubnetCidr: plan.gateway,
        databaseSubnetId: database.id,
        endpointSubnetId: endpoints.id,
        egressIp: natIp.ipAddress.apply((ip) => ip ?? ""),
        created: true,
    };
}
