// The resource group and virtual network the cluster lives in: taken from the platform stack,
// or created here. A created VNet is carved into four /24s (gateway, nodes, database,
// endpoints): Application Gateway v2 needs a subnet of its own, MySQL Flexible Server a subnet
// delegated to it, and the private endpoints sit apart so their NSG can be tight.
//
// Node egress is zonal: the nodes' /24 is split into one /26 per availability zone in use, each
// with its own zonal NAT gateway and public IP (Azure retired default outbound access). A NAT
// gateway lives in one zone (a regional one is placed in a zone Azure picks, not shown to us), so
// with one gateway for all nodes an outage of that hidden zone would stop every node's downloads
// and Key Vault reads, and new nodes' boots. Per zone, a zone's outage takes only its own nodes'
// egress. Cost: one NAT gateway and one Standard public IP per zone in use (2 with 2 nodes, 3
// from 3 nodes) instead of one each; see docs/azure.md "Node egress".
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
    /**
     * The subnet of the nodes in each zone ("1", "2", "3"). A created network has one per zone
     * in use; a platform network's single dedicated node subnet serves every zone.
     */
    nodeSubnets: Record<string, NodeSubnet>;
    /** All node addresses (the created /24, or the platform's node subnet): NSG sources. */
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
    /** The nodes' egress addresses (one zonal NAT gateway per zone), when this program created the network. */
    egressIps?: pulumi.Output<string[]>;
    /** True when this program created the network (and so attached the subnet NSGs). */
    created: boolean;
}

export interface NodeSubnet {
    id: pulumi.Input<string>;
    /** Plain value: the nodes' static IPs are carved from it before any resource exists. */
    cidr: string;
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

/** The /26 of the nodes in a zone ("1" -> the first /26 of the nodes' /24, ...). */
export function zoneNodeCidr(nodesCidr: string, zone: string): string {
    return subnetCidr(nodesCidr, 26, Number(zone) - 1);
}

/**
 * The platform stack contract for cloud azure. nodeSubnetId/nodeSubnetCidr: a subnet dedicated
 * to this cluster's nodes (the program gives the nodes its first usable addresses as static
 * IPs, so nothing else may take addresses there), with egress to the internet that the
 * platform provides (zonal NAT recommended). privateDnsZoneId is the MySQL private DNS zone;
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
        nodeSubnets: Object.fromEntries(
            ["1", "2", "3"].map((zone) => [
                zone,
                { id: platformString(p, "nodeSubnetId"), cidr: nodeSubnetCidr },
            ]),
        ),
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
        /** Availability zones the nodes use: one node subnet and NAT gateway each. */
        zones: string[];
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

    // One zonal NAT gateway (with a zonal public IP) per zone in use.
    const nats = args.zones.map((zone) => {
        const ip = new network.PublicIPAddress(
            `${name}-nat-${zone}`,
            {
                ...common,
                sku: { name: "Standard", tier: "Regional" },
                publicIPAllocationMethod: "Static",
                publicIPAddressVersion: "IPv4",
                zones: [zone],
            },
            { parent },
        );
        const gateway = new network.NatGateway(
            `${name}-nat-${zone}`,
            {
                ...common,
                sku: { name: "Standard" },
                zones: [zone],
                publicIpAddresses: [{ id: ip.id }],
                idleTimeoutInMinutes: 10,
            },
            { parent },
        );
        return { zone, ip, gateway };
    });

    // Azure serialises writes to one VNet; creating its subnets one after the other avoids
    // "AnotherOperationInProgress" on the first `pulumi up`.
    let previous: pulumi.Resource | undefined;
    const subnet = (
        role: SubnetRole,
        extra: Partial<network.SubnetArgs>,
        zone?: { name: string; cidr: string },
    ) => {
        const s = new network.Subnet(
            zone ? `${name}-${role}-${zone.name}` : `${name}-${role}`,
            {
                resourceGroupName: args.resourceGroupName,
                virtualNetworkName: vnet.name,
                addressPrefix: zone ? zone.cidr : plan[role],
                networkSecurityGroup: { id: args.securityGroups[role]!.id },
                ...extra,
            },
            { parent, dependsOn: previous ? [previous] : [] },
        );
        previous = s;
        return s;
    };
    // The database subnet first: MySQL (the longest creation, ~10 min) starts as soon as it
    // exists; the node subnets come last because they wait for the NAT gateways (~2 min).
    const database = subnet("database", {
        delegations: [{ name: "mysql-flexible", serviceName: "Microsoft.DBforMySQL/flexibleServers" }],
    });
    const gateway = subnet("gateway", {});
    const endpoints = subnet("endpoints", {
        // Without this the subnet's NSG does not apply to private endpoints.
        privateEndpointNetworkPolicies: "Enabled",
    });
    const nodeSubnets: Record<string, NodeSubnet> = {};
    for (const nat of nats) {
        const cidr = zoneNodeCidr(plan.nodes, nat.zone);
        const s = subnet(
            "nodes",
            {
                natGateway: { id: nat.gateway.id },
                // Private subnet: no implicit outbound IP; egress is the zone's NAT gateway only.
                defaultOutboundAccess: false,
            },
            { name: nat.zone, cidr },
        );
        nodeSubnets[nat.zone] = { id: s.id, cidr };
    }

    return {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        vnetId: vnet.id,
        gatewaySubnetId: gateway.id,
        nodeSubnets,
        nodeSubnetCidr: plan.nodes,
        gatewaySubnetCidr: plan.gateway,
        databaseSubnetId: database.id,
        endpointSubnetId: endpoints.id,
        egressIps: pulumi.all(nats.map((n) => n.ip.ipAddress.apply((ip) => ip ?? ""))),
        created: true,
    };
}
