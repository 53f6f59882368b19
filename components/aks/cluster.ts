// The AKS cluster: a system pool (inline) and an IS pool (its own AgentPool) over three zones, Azure CNI overlay
// with Cilium (which enforces our NetworkPolicies), the Key Vault secrets provider add-on
// (to sync a Key Vault certificate into the ingress TLS secret), patch auto-upgrades.
import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization";
import * as containerservice from "@pulumi/azure-native/containerservice";
import * as k8s from "@pulumi/kubernetes";
import { ClusterConfig } from "../config/schema";
import { roleDefinitionId } from "../azure";
import { surgePods } from "../kubernetes/lifecycle";

/** Built-in role "Network Contributor". */
export const networkContributorRoleId = "4d97b98b-1d4f-4787-a291-c67834d212e7";

export const zones = ["1", "2", "3"];
export const isPoolLabel = { "wso2is-cluster/pool": "is" } as const;

export interface AksKubernetes {
    cluster?: containerservice.ManagedCluster;
    /** Object id of the kubelet identity (what pulls images), when the cluster is created here. */
    kubeletObjectId?: pulumi.Output<string>;
    /** What the cluster's workloads must wait for before they provision storage or load balancers. */
    ready: pulumi.Resource[];
    provider: k8s.Provider;
    /** Client id of the Key Vault secrets provider add-on's identity (grant it on your certificate's vault). */
    secretsProviderClientId?: pulumi.Output<string>;
}

export function createCluster(
    name: string,
    args: {
        config: ClusterConfig;
        resourceGroupName: pulumi.Input<string>;
        location: pulumi.Input<string>;
        nodeSubnetId: pulumi.Input<string>;
        subscriptionId: pulumi.Input<string>;
        tags: Record<string, string>;
    },
    parent: pulumi.Resource,
): AksKubernetes {
    const { config } = args;
    const cluster = new containerservice.ManagedCluster(
        `${name}-aks`,
        {
            resourceGroupName: args.resourceGroupName,
            location: args.location,
            dnsPrefix: name,
            identity: { type: "SystemAssigned" },
            sku: { name: "Base", tier: config.production ? "Standard" : "Free" },
            enableRBAC: true,
            agentPoolProfiles: [
                {
                    name: "system",
                    mode: "System",
                    vmSize: "Standard_D4s_v5",
                    count: 2,
                    availabilityZones: zones,
                    osType: "Linux",
                    osSKU: "Ubuntu",
                    vnetSubnetID: args.nodeSubnetId,
                    nodeTaints: ["CriticalAddonsOnly=true:NoSchedule"],
                },
            ],
            networkProfile: {
                networkPlugin: "azure",
                networkPluginMode: "overlay",
                networkDataplane: "cilium",
                networkPolicy: "cilium",
                loadBalancerSku: "standard",
                podCidr: "192.168.0.0/16",
                serviceCidr: "172.16.0.0/16",
                dnsServiceIP: "172.16.0.10",
            },
            addonProfiles: {
                azureKeyvaultSecretsProvider: { enabled: true, config: { enableSecretRotation: "true" } },
            },
            autoUpgradeProfile: { upgradeChannel: "patch", nodeOSUpgradeChannel: "NodeImage" },
            storageProfile: { fileCSIDriver: { enabled: true } },
            tags: args.tags,
        },
        { parent },
    );

    // `az aks create` grants this on a subnet it did not create; ARM does not. The cluster
    // identity needs it to join load balancers and, for Azure Files NFS, to add the storage
    // service endpoint and network rule on the node subnet.
    const networkAccess = new authorization.RoleAssignment(
        `${name}-aks-network`,
        {
            principalId: cluster.identity.apply((i) => i?.principalId ?? ""),
            principalType: "ServicePrincipal",
            roleDefinitionId: roleDefinitionId(args.subscriptionId, networkContributorRoleId),
            scope: args.nodeSubnetId,
            description: "WSO2 IS AKS cluster identity: manage its node subnet",
        },
        { parent },
    );

    // The IS pool is its own resource: changing it touches only this pool (an inline profile
    // change sets every pool Scaling, pulumi-azure-native #4264), and the autoscaler owns its
    // count: `count` is the first size only, so an up never scales it back mid-rollout.
    const isPool = new containerservice.AgentPool(
        `${name}-is-pool`,
        {
            resourceGroupName: args.resourceGroupName,
            resourceName: cluster.name,
            agentPoolName: "is",
            mode: "User",
            vmSize: config.node.size,
            // One IS pod per node (hard anti-affinity) plus one spare node for the rolling
            // update's surge pod; the autoscaler adds it only while a rollout needs it.
            enableAutoScaling: true,
            minCount: config.nodes,
            maxCount: config.nodes + surgePods,
            count: config.nodes,
            availabilityZones: zones,
            osType: "Linux",
            osSKU: "Ubuntu",
            osDiskSizeGB: Math.max(config.node.diskGb, 64),
            vnetSubnetID: args.nodeSubnetId,
            nodeLabels: { ...isPoolLabel },
        },
        { parent, ignoreChanges: ["count"] },
    );

    const kubeconfig = containerservice
        .listManagedClusterAdminCredentialsOutput(
            { resourceGroupName: args.resourceGroupName, resourceName: cluster.name },
            { parent },
        )
        .kubeconfigs.apply((k) => Buffer.from(k[0].value, "base64").toString("utf8"));
    const provider = new k8s.Provider(
        `${name}-k8s`,
        { kubeconfig: pulumi.secret(kubeconfig), enableServerSideApply: true },
        { parent },
    );
    const secretsProviderClientId = cluster.addonProfiles.apply(
        (a) => a?.azureKeyvaultSecretsProvider?.identity?.clientId ?? "",
    );
    const kubeletObjectId = cluster.identityProfile.apply((p) => p?.kubeletidentity?.objectId ?? "");
    return { cluster, provider, secretsProviderClientId, kubeletObjectId, ready: [networkAccess, isPool] };
}

/** A provider for the platform's cluster, from its kubeconfig output. */
export function providerFromKubeconfig(
    name: string,
    kubeconfig: string,
    parent: pulumi.Resource,
): AksKubernetes {
    return {
        provider: new k8s.Provider(
            `${name}-k8s`,
            { kubeconfig: pulumi.secret(kubeconfig), enableServerSideApply: true },
            { parent },
        ),
        ready: [],
    };
}
