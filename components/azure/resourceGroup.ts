// The resource group a cluster's Azure resources live in (both Azure targets).
import * as pulumi from "@pulumi/pulumi";
import * as resources from "@pulumi/azure-native/resources";

export function createResourceGroup(
    name: string,
    args: { location: string; tags: Record<string, string> },
    parent: pulumi.Resource,
): resources.ResourceGroup {
    return new resources.ResourceGroup(
        `${name}-rg`,
        { location: args.location, tags: args.tags },
        { parent },
    );
}
