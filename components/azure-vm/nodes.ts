// The IS nodes: one VM per node with a NIC holding a static private IP (the WKA members list is
// rendered before any VM exists), spread over zones 1, 2, 3 round robin. Ubuntu 24.04 (or a
// pre-baked image), Premium SSD OS disk, cloud-init in customData, SSH keys only and no SSH
// rule anywhere, a system-assigned identity that may read the cluster secret.
//
// Disk encryption: managed disks are always encrypted at rest by Azure Storage service-side
// encryption with platform-managed keys; that is what is used. Encryption at host (also the
// temp disk and caches) needs the EncryptionAtHost feature registered on the subscription, and
// customer-managed keys a disk encryption set: both are left to the subscription's owner.
import * as pulumi from "@pulumi/pulumi";
import * as compute from "@pulumi/azure-native/compute";
import * as network from "@pulumi/azure-native/network";
import * as tls from "@pulumi/tls";
import { ClusterConfig } from "../config/schema";
import { kebab } from "../azure";

export const ubuntuImage = {
    publisher: "Canonical",
    offer: "ubuntu-24_04-lts",
    sku: "server",
    version: "latest",
} as const;
export const adminUsername = "wso2ops";
export const zones = ["1", "2", "3"] as const;

export interface NodeSpec {
    name: string;
    ip: string;
    zone: string;
}

export interface AzureNodes {
    vms: compute.VirtualMachine[];
    nics: network.NetworkInterface[];
    /** The public half of the generated SSH key (the private half stays in the Pulumi state, encrypted). */
    sshPublicKey: pulumi.Output<string>;
}

/** Node i (0-based) lives in zone 1, 2, 3, 1, ... */
export function zoneOf(index: number): string {
    return zones[index % zones.length];
}

export function createNodes(
    name: string,
    args: {
        config: ClusterConfig;
        resourceGroupName: pulumi.Input<string>;
        location: pulumi.Input<string>;
        subnetId: pulumi.Input<string>;
        securityGroupId: pulumi.Input<string>;
        nodes: NodeSpec[];
        /** base64 cloud-init per node, in the order of `nodes`. */
        customData: pulumi.Input<string>[];
        tags: Record<string, string>;
    },
    parent: pulumi.Resource,
): AzureNodes {
    const { config } = args;
    // Azure wants a key or a password for the admin user; a generated key satisfies it. There is
    // no SSH rule: operators use Run Command or the serial console (boot diagnostics are on).
    const ssh = new tls.PrivateKey(`${name}-ssh`, { algorithm: "RSA", rsaBits: 4096 }, { parent });
    const prebaked = config.node.imageId !== undefined;

    const nics: network.NetworkInterface[] = [];
    const vms = args.nodes.map((node, i) => {
        const nic = new network.NetworkInterface(
            `${name}-${node.name}`,
            {
                resourceGroupName: args.resourceGroupName,
                location: args.location,
                ipConfigurations: [
                    {
                        name: "primary",
                        primary: true,
                        subnet: { id: args.subnetId },
                        privateIPAllocationMethod: "Static",
                        privateIPAddress: node.ip,
                        privateIPAddressVersion: "IPv4",
                    },
                ],
                networkSecurityGroup: { id: args.securityGroupId },
                tags: args.tags,
            },
            { parent },
        );
        nics.push(nic);

        return new compute.VirtualMachine(
            `${name}-${node.name}`,
            {
                resourceGroupName: args.resourceGroupName,
                location: args.location,
                vmName: `${kebab(name)}-${node.name}`,
                zones: [node.zone],
                hardwareProfile: { vmSize: config.node.size },
                identity: { type: "SystemAssigned" },
                osProfile: {
                    computerName: `${kebab(name)}-${node.name}`.slice(0, 64),
                    adminUsername,
                    customData: args.customData[i],
                    allowExtensionOperations: true,
                    linuxConfiguration: {
                        disablePasswordAuthentication: true,
                        provisionVMAgent: true,
                        ssh: {
                            publicKeys: [
                                {
                                    path: `/home/${adminUsername}/.ssh/authorized_keys`,
                                    keyData: ssh.publicKeyOpenssh,
                                },
                            ],
                        },
                    },
                },
                storageProfile: {
                    imageReference: prebaked ? { id: config.node.imageId } : { ...ubuntuImage },
                    osDisk: {
                        name: `${kebab(name)}-${node.name}-os`,
                        createOption: "FromImage",
                        caching: "ReadWrite",
                        diskSizeGB: config.node.diskGb,
                        managedDisk: { storageAccountType: "Premium_LRS" },
                        // The disk goes with its VM (a replaced node boots from a fresh image).
                        deleteOption: "Delete",
                    },
                },
                networkProfile: {
                    networkInterfaces: [{ id: nic.id, primary: true, deleteOption: "Detach" }],
                },
                // Trusted launch (secure boot, vTPM) for the Marketplace image; a pre-baked image
                // may not be a trusted-launch (gen2) image, so it keeps the standard security type.
                ...(prebaked
                    ? {}
                    : {
                          securityProfile: {
                              securityType: "TrustedLaunch",
                              uefiSettings: { secureBootEnabled: true, vTpmEnabled: true },
                          },
                      }),
                // Managed boot diagnostics: the serial console works without a storage account.
                diagnosticsProfile: { bootDiagnostics: { enabled: true } },
                tags: { ...args.tags, "wso2is-node": node.name },
            },
            {
                parent,
                // customData is read once, at the first boot. Replacing every VM on a config change
                // would take the whole cluster down at once, so a change is not applied here: the
                // operator rolls it node by node with `pulumi up --replace <vm urn>` (README). When a
                // node is replaced, the old one goes first: the new one takes its name, NIC and IP.
                ignoreChanges: ["osProfile.customData"],
                deleteBeforeReplace: true,
            },
        );
    });
    return { vms, nics, sshPublicKey: ssh.publicKeyOpenssh };
}
