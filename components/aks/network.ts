// The AKS cluster's network when no platform stack supplies one: a VNet with a node subnet
// (Azure CNI overlay: pods take addresses from an overlay range, not from the subnet) and a
// subnet delegated to MySQL Flexible Server for its private access.
import * as pulumi from "@pulumi/pulumi";
import * as network from "@pulumi/azure-native/network";
import { subnetCidr } from "../model/network";
import { PlatformOutputs, platformString } from "../platform";

export interface AksNetwork {
    resourceGroupName: pulumi.Input<string>;
    location: pulumi.Input<string>;
    vnetId: pulumi.Input<string>;
    nodeSubnetId?: pulumi.Input<string>;
    databaseSubnetId: pulumi.Input<string>;
    /** The platform's private DNS zone for MySQL, if it has one. */
    mysqlDnsZoneId?: pulumi.Input<string>;
}

/** The platform stack contract for cloud aks: a cluster to deploy to and where the database goes. */
export const aksPlatformOutputs = {
    required: ["kubeconfig", "resourceGroupName", "location", "vnetId", "databaseSubnetId"],
    optional: ["mysqlDnsZoneId", "ingressClassName", "ingressControllerNamespace", "imageRegistry"],
};

export function networkFromPlatform(p: PlatformOutputs): AksNetwork {
    return {
        resourceGroupName: platformString(p, "resourceGroupName"),
        location: platformString(p, "location"),
        vnetId: platformString(p, "vnetId"),
        databaseSubnetId: platformString(p, "databaseSubnetId"),
        mysqlDnsZoneId: typeof p.values.mysqlDnsZoneId === "string" ? p.values.mysqlDnsZoneId : undefined,
    };
}

export function createNetwork(
    name: string,
    args: {
        resourceGroupName: pulumi.Input<string>;
        location: pulumi.Input<string>;
        cidr: string;
        tags: Record<string, string>;
    },
    parent: pulumi.Resource,
): AksNetwork {
    const vnet = new network.VirtualNetwork(
        `${name}-vnet`,
        {
            resourceGroupName: args.resourceGroupName,
            location: args.location,
            addressSpace: { addressPrefixes: [args.cidr] },
            tags: args.tags,
        },
        { parent, ignoreChanges: ["subnets"] },
    );
    const vnetName = vnet.name;
    const nodes = new network.Subnet(
        `${name}-nodes`,
        {
            resourceGroupName: args.resourceGroupName,
            virtualNetworkName: vnetName,
            addressPrefix: subnetCidr(args.cidr, 24, 0),
        },
        { parent },
    );
    const database = new network.Subnet(
        `${name}-database`,
        {
            resourceGroupName: args.resourceGroupName,
            virtualNetworkName: vnetName,
            addressPrefix: subnetCidr(args.cidr, 24, 1),
            delegations: [{ name: "mysql-flexible", serviceName: "Microsoft.DBforMySQL/flexibleServers" }],
        },
        { parent, dependsOn: [nodes] },
    );
    return {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        vnetId: vnet.id,
        nodeSubnetId: nodes.id,
        databaseSubnetId: database.id,
    };
}

/** The platform's Traefik controller, if it runs one: its ingress class and namespace (both or neither). */
export function platformIngress(p: PlatformOutputs): { className: string; namespace: string } | undefined {
    const className = p.values.ingressClassName;
    const namespace = p.values.ingressControllerNamespace;
    if (className === undefined && namespace === undefined) return undefined;
    if (typeof className !== "string" || typeof namespace !== "string" || !className || !namespace) {
        throw new pulumi.RunError(
            `wso2is-cluster:platformStack = "${p.stack}": export both ingressClassName and ingressControllerNamespace (a Traefik controller), or neither`,
        );
    }
    return { className, namespace };
}

/**
 * The registry the platform's cluster pulls from (e.g. `acme.azurecr.io`), serving the images'
 * Docker Hub paths (wso2/wso2is, library/mysql). Production refuses to go without one: pods would
 * pull anonymously from Docker Hub (10 pulls/hour per IPv4).
 */
export function platformRegistry(p: PlatformOutputs, production: boolean): string | undefined {
    const v = p.values.imageRegistry;
    if (v === undefined) {
        if (production)
            throw new pulumi.RunError(
                `wso2is-cluster:platformStack = "${p.stack}" does not export imageRegistry; production pulls images from the platform's registry (e.g. acme.azurecr.io mirroring wso2/wso2is and library/mysql), never anonymously from Docker Hub`,
            );
        return undefined;
    }
    if (typeof v !== "string" || !/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d+)?(\/[a-z0-9._-]+)*$/.test(v)) {
        throw new pulumi.RunError(
            `wso2is-cluster:platformStack = "${p.stack}": output imageRegistry must be a registry host such as acme.azurecr.io (optionally with a path), got ${JSON.stringify(v)}`,
        );
    }
    return v;
}
