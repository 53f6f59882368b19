// The IS nodes: one VM per node with a NIC holding a static private IP (the WKA members list is
// rendered before any VM exists), spread over zones 1, 2, 3 round robin, each in its zone's
// subnet. Ubuntu 24.04 (or a pre-baked image), Premium SSD OS disk, cloud-init in customData,
// a system-assigned identity that may read the cluster secret.
//
// Rolling changes by `pulumi up` alone, never more than one node down: the VMs form a chain.
// After each VM, a managed Run Command (its "health gate", render/healthGate.ts) waits on the
// node until the gateway's probe passes there; the next VM depends on that gate. A changed node
// file replaces the VM (replaceOnChanges customData; the old one goes first, the new one keeps
// name, NIC and IP); a nodeSize change resizes it in place (a restart). Either way the gate is
// re-created (its script names the VM's id and a digest of the VM's spec) and runs again, and
// the next node is touched only when the gate succeeded. The Pulumi SDK sends a resource's
// registration only once its dependsOn resources are done (runtime/dependsOn.ts: it awaits
// their URNs, which resolve when the engine has finished them), so the order holds in one `up`.
// Why not a Flexible scale set with a rolling upgrade policy: its instances take addresses
// from the subnet through the model's NIC configuration, with no static IP per instance, and
// the WKA members list needs the addresses before the VMs exist.
//
// Break-glass is Run Command only (docs/azure.md "Break-glass access"): no SSH rule, no
// Bastion, no password user (so no serial-console login; boot diagnostics keep the serial log
// readable). Azure wants a key or a password for the admin user: a generated key satisfies it.
//
// Disk encryption: managed disks are always encrypted at rest by Azure Storage service-side
// encryption with platform-managed keys; that is what is used. Encryption at host (also the
// temp disk and caches) needs the EncryptionAtHost feature registered on the subscription, and
// customer-managed keys a disk encryption set: both are left to the subscription's owner.
import * as pulumi from "@pulumi/pulumi";
import * as compute from "@pulumi/azure-native/compute";
import * as network from "@pulumi/azure-native/network";
import * as tls from "@pulumi/tls";
import * as crypto from "crypto";
import { ClusterConfig } from "../config/schema";
import { kebab } from "../azure";
import { renderHealthGate } from "../render/healthGate";
import { nodeReadySeconds } from "../model/boot";
import { hostAddresses } from "../model/network";
import type { NodeSubnet } from "./network";

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
    /** The subnet of the node's zone. */
    subnetId: pulumi.Input<string>;
}

/**
 * The longest a managed Run Command may run: timeoutInSeconds allows 120-5400 s (90 minutes;
 * the Run Command module of Azure's Bicep registry declares @maxValue(5400) after the API's
 * own description).
 */
export const runCommandMaxTimeoutSeconds = 5400;

/**
 * How long a gate waits for its node: a whole boot at worst (components/model/boot.ts
 * nodeReadySeconds: the bootstrap unit's retry budget plus IS's start). A budget beyond Run
 * Command's own limit stops the program here rather than as a timeout in the middle of a rollout.
 */
export const healthGateTimeoutSeconds = nodeReadySeconds;
if (healthGateTimeoutSeconds > runCommandMaxTimeoutSeconds)
    throw new Error(
        `nodeReadySeconds (${nodeReadySeconds}) exceeds Run Command's limit of ${runCommandMaxTimeoutSeconds} s: split the health gate into several Run Commands or shorten the boot budget (components/model/boot.ts)`,
    );
export const healthGateRunCommandName = "wso2is-health-gate";

export interface AzureNodes {
    vms: compute.VirtualMachine[];
    nics: network.NetworkInterface[];
    /** One per node: the Run Command the next node waits for. */
    gates: compute.VirtualMachineRunCommandByVirtualMachine[];
    /** The public half of the generated SSH key (the private half stays in the Pulumi state, encrypted). */
    sshPublicKey: pulumi.Output<string>;
}

/** Node i (0-based) lives in zone 1, 2, 3, 1, ... */
export function zoneOf(index: number): string {
    return zones[index % zones.length];
}

/** The zones the nodes use: 1, 2, 3 round robin, so min(count, 3) of them. */
export function zonesInUse(count: number): string[] {
    return zones.slice(0, Math.min(count, zones.length));
}

/**
 * Node i: zone zoneOf(i) and the next free address of that zone's subnet (Azure keeps the first
 * four and the last address of a subnet). Known before any VM exists: the WKA members list.
 */
export function planNodes(nodeSubnets: Record<string, NodeSubnet>, count: number): NodeSpec[] {
    const used = new Map<string, number>();
    return Array.from({ length: count }, (_, i) => {
        const zone = zoneOf(i);
        const subnet = nodeSubnets[zone];
        const k = used.get(subnet.cidr) ?? 0;
        used.set(subnet.cidr, k + 1);
        return { name: `node-${i + 1}`, ip: hostAddresses(subnet.cidr, k + 1)[k], zone, subnetId: subnet.id };
    });
}

export function createNodes(
    name: string,
    args: {
        config: ClusterConfig;
        resourceGroupName: pulumi.Input<string>;
        location: pulumi.Input<string>;
        securityGroupId: pulumi.Input<string>;
        nodes: NodeSpec[];
        /** base64 cloud-init per node, in the order of `nodes`. */
        customData: pulumi.Input<string>[];
        /** What the gate checks: the gateway's probe. */
        probe: {
            hostname: string;
            port: number;
            path: string;
            caPem: pulumi.Input<string>;
            settleSeconds: number;
        };
        /** Resources a node needs before its gate can pass (its secret grant), per VM. */
        needs?: (vm: compute.VirtualMachine, node: NodeSpec) => pulumi.Resource[];
        tags: Record<string, string>;
    },
    parent: pulumi.Resource,
): AzureNodes {
    const { config } = args;
    // The admin user's key: Azure wants a key or a password; no rule lets SSH in (see the top).
    const ssh = new tls.PrivateKey(`${name}-ssh`, { algorithm: "RSA", rsaBits: 4096 }, { parent });
    const prebaked = config.node.imageId !== undefined;

    const nics: network.NetworkInterface[] = [];
    const gates: compute.VirtualMachineRunCommandByVirtualMachine[] = [];
    let previousGate: pulumi.Resource | undefined;
    const imageReference = prebaked ? { id: config.node.imageId } : { ...ubuntuImage };
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
                        subnet: { id: node.subnetId },
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

        const vm = new compute.VirtualMachine(
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
                    imageReference,
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
                // Managed boot diagnostics: the serial log (`az vm boot-diagnostics get-boot-log`).
                diagnosticsProfile: { bootDiagnostics: { enabled: true } },
                tags: { ...args.tags, "wso2is-node": node.name },
            },
            {
                parent,
                // customData is read at the first boot only: a changed node file replaces the VM.
                // The old one goes first; the new one takes its name, NIC and IP. The chain
                // (dependsOn the previous node's gate) keeps it to one node at a time.
                replaceOnChanges: ["osProfile.customData"],
                deleteBeforeReplace: true,
                dependsOn: previousGate ? [previousGate] : [],
            },
        );

        // Everything that, changed, restarts or replaces this VM: the gate runs again after it.
        const spec = pulumi.output(args.customData[i]).apply((customData) =>
            crypto
                .createHash("sha256")
                .update(
                    JSON.stringify({
                        customData,
                        size: config.node.size,
                        diskGb: config.node.diskGb,
                        image: imageReference,
                    }),
                )
                .digest("hex"),
        );
        const script = pulumi.all([vm.vmId, spec, args.probe.caPem]).apply(([vmId, digest, caPem]) =>
            renderHealthGate({
                node: node.name,
                ip: node.ip,
                hostname: args.probe.hostname,
                port: args.probe.port,
                path: args.probe.path,
                caPem,
                timeoutSeconds: healthGateTimeoutSeconds,
                settleSeconds: args.probe.settleSeconds,
                marker: `vm=${vmId}/spec=${digest}`,
            }),
        );
        const gate = new compute.VirtualMachineRunCommandByVirtualMachine(
            `${name}-${node.name}-health`,
            {
                resourceGroupName: args.resourceGroupName,
                location: args.location,
                vmName: vm.name,
                runCommandName: healthGateRunCommandName,
                source: { script },
                // The PUT returns when the script has finished; a non-zero exit fails it.
                asyncExecution: false,
                treatFailureAsDeploymentFailure: true,
                timeoutInSeconds: healthGateTimeoutSeconds,
                tags: args.tags,
            },
            {
                parent,
                dependsOn: [vm, ...(args.needs?.(vm, node) ?? [])],
                // A new script is a new run: create, never update in place.
                replaceOnChanges: ["*"],
                deleteBeforeReplace: true,
                customTimeouts: { create: `${healthGateTimeoutSeconds / 60 + 10}m` },
            },
        );
        gates.push(gate);
        previousGate = gate;
        return vm;
    });
    return { vms, nics, gates, sshPublicKey: ssh.publicKeyOpenssh };
}
