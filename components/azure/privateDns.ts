// A private DNS zone linked to the cluster's VNet: how MySQL Flexible Server and the storage
// account's private endpoint get names that resolve to private addresses inside the VNet.
import * as pulumi from "@pulumi/pulumi";
import * as privatedns from "@pulumi/azure-native/privatedns";

export function linkedPrivateZone(
    name: string,
    args: {
        resourceGroupName: pulumi.Input<string>;
        zoneName: pulumi.Input<string>;
        vnetId: pulumi.Input<string>;
        tags: Record<string, string>;
    },
    parent: pulumi.Resource,
): { zone: privatedns.PrivateZone; link: privatedns.VirtualNetworkLink } {
    const zone = new privatedns.PrivateZone(
        name,
        {
            resourceGroupName: args.resourceGroupName,
            privateZoneName: args.zoneName,
            location: "global",
            tags: args.tags,
        },
        { parent },
    );
    const link = new privatedns.VirtualNetworkLink(
        name,
        {
            resourceGroupName: args.resourceGroupName,
            privateZoneName: zone.name,
            location: "global",
            virtualNetwork: { id: args.vnetId },
            registrationEnabled: false,
            tags: args.tags,
        },
        { parent },
    );
    return { zone, link };
}
