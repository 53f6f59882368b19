// An Azure Container Registry that mirrors the Docker Hub images a cluster runs. Each
// repository gets an artifact-cache rule (docker.io/<repo> -> <repo>): the registry fetches an
// image from Docker Hub once and serves every node after that, so node count and restarts never
// reach Docker Hub's anonymous limit (10 pulls/hour per IPv4 since April 2025). Artifact cache
// works on every ACR tier (learn.microsoft.com/azure/container-registry/artifact-cache-overview).
// Microsoft recommends a credential set for the upstream; without one the registry's single
// fetch per image is anonymous (docs/aks.md, "Images and registries").
import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization";
import * as containerregistry from "@pulumi/azure-native/containerregistry";
import { roleDefinitionId } from "./identity";

/** Built-in role "AcrPull". */
export const acrPullRoleId = "7f951dda-4ed3-4680-a7ca-43fe172d538d";

/** Registry names: 5-50 letters and digits, globally unique (the cluster's random suffix). */
export function registryName(prefix: string, suffix: string): string {
    const base = prefix.toLowerCase().replace(/[^a-z0-9]/g, "") || "wso2is";
    return `${base.slice(0, 50 - suffix.length - 3)}acr${suffix}`;
}

/** Cache rule names: 5-50 letters, digits, hyphens. */
export function cacheRuleName(repository: string): string {
    return repository.replace(/[^A-Za-z0-9]+/g, "-").slice(0, 50);
}

export interface MirrorRegistry {
    registry: containerregistry.Registry;
    loginServer: pulumi.Output<string>;
    /** The cache rules and the pull grant: pods may pull once these exist. */
    ready: pulumi.Resource[];
}

export function createMirrorRegistry(
    name: string,
    args: {
        resourceGroupName: pulumi.Input<string>;
        location: pulumi.Input<string>;
        registryName: pulumi.Input<string>;
        subscriptionId: pulumi.Input<string>;
        /** Docker Hub repository paths to mirror ("library/" for official images). */
        repositories: string[];
        /** Object id of the identity that pulls (an AKS cluster's kubelet identity). */
        pullPrincipalId: pulumi.Input<string>;
        tags: Record<string, string>;
    },
    parent: pulumi.Resource,
): MirrorRegistry {
    const registry = new containerregistry.Registry(
        `${name}-acr`,
        {
            resourceGroupName: args.resourceGroupName,
            location: args.location,
            registryName: args.registryName,
            sku: { name: "Standard" },
            // Entra ID only: no admin password to leak, no anonymous pulls.
            adminUserEnabled: false,
            anonymousPullEnabled: false,
            tags: args.tags,
        },
        { parent },
    );
    const rules = args.repositories.map(
        (repository) =>
            new containerregistry.CacheRule(
                `${name}-cache-${cacheRuleName(repository)}`,
                {
                    resourceGroupName: args.resourceGroupName,
                    registryName: registry.name,
                    cacheRuleName: cacheRuleName(repository),
                    sourceRepository: `docker.io/${repository}`,
                    targetRepository: repository,
                },
                { parent },
            ),
    );
    const pull = new authorization.RoleAssignment(
        `${name}-acr-pull`,
        {
            principalId: args.pullPrincipalId,
            principalType: "ServicePrincipal",
            roleDefinitionId: roleDefinitionId(args.subscriptionId, acrPullRoleId),
            scope: registry.id,
            description: "WSO2 IS AKS kubelet: pull the mirrored images",
        },
        { parent },
    );
    return { registry, loginServer: registry.loginServer, ready: [...rules, pull] };
}
