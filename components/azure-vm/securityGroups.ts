// Least-privilege NSGs, the same rules as the AWS security groups: only the gateway is reachable
// from clients (443, and 80 for the redirect); 9443 only from the gateway subnet; Hazelcast
// (WKA, 4000) only node to node; MySQL only from the nodes; the file share's endpoint only from
// the nodes. Every NSG ends with an explicit deny, so Azure's default AllowVnetInBound never
// applies. No SSH anywhere: break-glass is Run Command only (docs/azure.md "Break-glass access").
import * as pulumi from "@pulumi/pulumi";
import * as network from "@pulumi/azure-native/network";
import { hazelcastPorts, isHttpsPort } from "../model";

export const ports = {
    https: 443,
    http: 80,
    isHttps: isHttpsPort,
    hazelcast: hazelcastPorts.wka,
    mysql: 3306,
    nfs: 2049,
    smb: 445,
} as const;

/** Application Gateway v2's control plane (health of the gateway's own instances). */
export const gatewayManagerPorts = "65200-65535";

export interface AzureSecurityGroups {
    nodes: network.NetworkSecurityGroup;
    /** Only when this program creates the network: the platform's subnets carry the platform's NSGs. */
    gateway?: network.NetworkSecurityGroup;
    database?: network.NetworkSecurityGroup;
    endpoints?: network.NetworkSecurityGroup;
}

type Rule =
    network.NetworkSecurityGroupArgs["securityRules"] extends pulumi.Input<(infer R)[] | undefined>
        ? pulumi.Unwrap<R>
        : never;

const allow = (
    name: string,
    priority: number,
    source: string | string[],
    port: number | string,
    description: string,
): Rule => ({
    name,
    priority,
    direction: "Inbound",
    access: "Allow",
    protocol: "Tcp",
    ...(Array.isArray(source) ? { sourceAddressPrefixes: source } : { sourceAddressPrefix: source }),
    sourcePortRange: "*",
    destinationAddressPrefix: "*",
    destinationPortRange: String(port),
    description,
});

const denyAllInbound = (what: string): Rule => ({
    name: "deny-all-inbound",
    priority: 4096,
    direction: "Inbound",
    access: "Deny",
    protocol: "*",
    sourceAddressPrefix: "*",
    sourcePortRange: "*",
    destinationAddressPrefix: "*",
    destinationPortRange: "*",
    description: `nothing else reaches ${what}`,
});

/** Inbound rules of the nodes (NIC and, when created here, subnet). */
export function nodeRules(args: { nodeSubnetCidr: string; gatewaySubnetCidr?: string }): Rule[] {
    return [
        // Without the gateway subnet's CIDR (a platform network that does not export it) the
        // narrowest source left is the VNet.
        allow(
            "gateway-to-is-https",
            100,
            args.gatewaySubnetCidr ?? "VirtualNetwork",
            ports.isHttps,
            "Application Gateway to IS HTTPS",
        ),
        allow("hazelcast-wka", 110, args.nodeSubnetCidr, ports.hazelcast, "Hazelcast WKA between IS nodes"),
        denyAllInbound("the IS nodes"),
    ];
}

/** Inbound rules of the Application Gateway v2 subnet (clients plus what the v2 SKU requires). */
export function gatewayRules(args: { allowedCidrs: string[] }): Rule[] {
    return [
        allow("clients-https", 100, args.allowedCidrs, ports.https, "clients to the HTTPS listener"),
        allow(
            "clients-http",
            110,
            args.allowedCidrs,
            ports.http,
            "clients to the HTTP listener (redirects to HTTPS)",
        ),
        // Required by Application Gateway v2: its management traffic and Azure's health probes.
        allow(
            "gateway-manager",
            120,
            "GatewayManager",
            gatewayManagerPorts,
            "Application Gateway v2 infrastructure (required)",
        ),
        {
            ...allow(
                "azure-load-balancer",
                130,
                "AzureLoadBalancer",
                "*",
                "Azure Load Balancer health probes (required)",
            ),
            protocol: "*",
        },
        denyAllInbound("the gateway subnet"),
    ];
}

export function databaseRules(args: { nodeSubnetCidr: string; databaseSubnetCidr: string }): Rule[] {
    return [
        allow("nodes-to-mysql", 100, args.nodeSubnetCidr, ports.mysql, "IS nodes to MySQL"),
        // Zone-redundant HA replicates between the primary and the standby inside this subnet.
        {
            ...allow(
                "mysql-within-subnet",
                110,
                args.databaseSubnetCidr,
                "*",
                "MySQL Flexible Server HA replication inside the delegated subnet",
            ),
            protocol: "*",
        },
        denyAllInbound("the database subnet"),
    ];
}

export function endpointRules(args: { nodeSubnetCidr: string; sharePorts: number[] }): Rule[] {
    return [
        ...args.sharePorts.map((port, i) =>
            allow(
                `nodes-to-share-${port}`,
                100 + i * 10,
                args.nodeSubnetCidr,
                port,
                `IS nodes to the file share (${port === ports.nfs ? "NFS" : "SMB"})`,
            ),
        ),
        denyAllInbound("the private endpoints"),
    ];
}

export function createSecurityGroups(
    name: string,
    args: {
        resourceGroupName: pulumi.Input<string>;
        location: pulumi.Input<string>;
        nodeSubnetCidr: string;
        /** Subnet CIDRs of a network created here; absent with a platform network. */
        created?: { gateway: string; database: string; endpoints: string };
        gatewaySubnetCidr?: string;
        allowedCidrs: string[];
        sharePorts: number[];
        tags: Record<string, string>;
    },
    parent: pulumi.Resource,
): AzureSecurityGroups {
    const nsg = (role: string, securityRules: Rule[]) =>
        new network.NetworkSecurityGroup(
            `${name}-${role}`,
            {
                resourceGroupName: args.resourceGroupName,
                location: args.location,
                securityRules,
                tags: args.tags,
            },
            { parent },
        );
    const nodes = nsg(
        "nodes",
        nodeRules({
            nodeSubnetCidr: args.nodeSubnetCidr,
            gatewaySubnetCidr: args.created?.gateway ?? args.gatewaySubnetCidr,
        }),
    );
    if (!args.created) return { nodes };
    return {
        nodes,
        gateway: nsg("gateway", gatewayRules({ allowedCidrs: args.allowedCidrs })),
        database: nsg(
            "database",
            databaseRules({ nodeSubnetCidr: args.nodeSubnetCidr, databaseSubnetCidr: args.created.database }),
        ),
        endpoints: nsg(
            "endpoints",
            endpointRules({ nodeSubnetCidr: args.nodeSubnetCidr, sharePorts: args.sharePorts }),
        ),
    };
}
