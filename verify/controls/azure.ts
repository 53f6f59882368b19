// Azure VM target: per-node health from the Application Gateway's backend health (the probe's
// view of each node IP), and "shut down node 1" as a stop of IS through Run Command
// (RunShellScript), the break-glass path the VMs are built for (no SSH anywhere).
//
// The stack's outputs name the node IPs but not the resource group or the gateway; both carry
// the cluster's tag (components/azure-vm/index.ts clusterTagKey = cluster name `wso2is-<stack>`),
// so verify finds the VMs by that tag and the gateway in the same group. VM names end in
// `-node-<n>` in the order of `nodeIps` (components/azure-vm/nodes.ts).
import { unitPath } from "../../components/render/systemdUnit";
import { loadOptional, scriptState, serviceScript } from "./load";
import type { NodeControl, NodeState } from "./types";

/** What a VM or gateway listing returns (the fields verify reads). */
export interface AzureResource {
    id?: string;
    name?: string;
    tags?: Record<string, string>;
}

/** ApplicationGatewayBackendHealth (network API), the fields verify reads. */
export interface AzureBackendHealth {
    backendAddressPools?: {
        backendAddressPool?: { id?: string };
        backendHttpSettingsCollection?: {
            backendHttpSettings?: { id?: string };
            servers?: { address?: string; health?: string; healthProbeLog?: string }[];
        }[];
    }[];
}

export interface AzureApi {
    /** Every VM in the subscription (VirtualMachines.listAll). */
    listVirtualMachines(): Promise<AzureResource[]>;
    /** Application gateways in a resource group. */
    listApplicationGateways(resourceGroup: string): Promise<AzureResource[]>;
    /** ApplicationGateways.beginBackendHealthAndWait. */
    backendHealth(resourceGroup: string, gateway: string): Promise<AzureBackendHealth>;
    /** VirtualMachines.beginRunCommandAndWait with RunShellScript; RunCommandResult. */
    runShellScript(
        resourceGroup: string,
        vm: string,
        script: string[],
    ): Promise<{ value?: { code?: string; message?: string }[] }>;
}

export const azurePackages = ["@azure/identity", "@azure/arm-compute", "@azure/arm-network"];

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
    const out: T[] = [];
    for await (const x of it) out.push(x);
    return out;
}

/** The real clients behind AzureApi (DefaultAzureCredential: az login, managed identity, env). */
export async function azureApi(subscriptionId: string): Promise<AzureApi> {
    const [identity, compute, network] = await loadOptional(azurePackages, "per-node health on azure");
    const credential = new identity.DefaultAzureCredential();
    const cc = new compute.ComputeManagementClient(credential, subscriptionId);
    const nc = new network.NetworkManagementClient(credential, subscriptionId);
    return {
        listVirtualMachines: () => collect(cc.virtualMachines.listAll()),
        listApplicationGateways: (rg) => collect(nc.applicationGateways.list(rg)),
        backendHealth: (rg, gw) => nc.applicationGateways.beginBackendHealthAndWait(rg, gw),
        runShellScript: (rg, vm, script) =>
            cc.virtualMachines.beginRunCommandAndWait(rg, vm, { commandId: "RunShellScript", script }),
    };
}

export const clusterTagKey = "wso2is-cluster";
const unit = unitPath.split("/").pop()!;

export function resourceGroupOf(id: string | undefined): string | undefined {
    return /\/resourceGroups\/([^/]+)\//i.exec(id ?? "")?.[1];
}

export class AzureNodeControl implements NodeControl {
    readonly target = "azure";
    readonly source = "Application Gateway backend health";
    readonly replaces = false;
    readonly lookAt: string;
    private found?: { resourceGroup: string; gateway: string; vms: { name: string; ip: string }[] };

    constructor(
        private readonly api: AzureApi,
        private readonly clusterName: string,
        private readonly nodeIps: string[],
    ) {
        this.lookAt =
            "the gateway's backend health (az network application-gateway show-backend-health) and on the node, " +
            `through Run Command: systemctl status ${unit}; journalctl -u ${unit}; IS's wso2carbon.log`;
    }

    private async locate() {
        if (this.found) return this.found;
        const all = await this.api.listVirtualMachines();
        const mine = all.filter((v) => v.tags?.[clusterTagKey] === this.clusterName);
        if (!mine.length) {
            throw new Error(
                `no VM tagged ${clusterTagKey}=${this.clusterName} in the subscription (wrong subscription, or pass --cluster-name)`,
            );
        }
        const vms = this.nodeIps.map((ip, i) => {
            const vm = mine.find((v) => v.name?.endsWith(`-node-${i + 1}`));
            if (!vm?.name)
                throw new Error(`no VM named *-node-${i + 1} (node IP ${ip}) tagged ${this.clusterName}`);
            return { name: vm.name, ip, resourceGroup: resourceGroupOf(vm.id) };
        });
        const resourceGroup = vms[0].resourceGroup;
        if (!resourceGroup) throw new Error(`cannot read the resource group from VM ${vms[0].name}'s id`);
        const gateways = await this.api.listApplicationGateways(resourceGroup);
        const gw =
            gateways.find(
                (g) => g.tags?.[clusterTagKey] === this.clusterName && g.name?.endsWith("-appgw"),
            ) ?? gateways.find((g) => g.tags?.[clusterTagKey] === this.clusterName);
        if (!gw?.name)
            throw new Error(`no Application Gateway tagged ${this.clusterName} in ${resourceGroup}`);
        this.found = { resourceGroup, gateway: gw.name, vms: vms.map(({ name, ip }) => ({ name, ip })) };
        return this.found;
    }

    async nodes(): Promise<NodeState[]> {
        const f = await this.locate();
        const health = await this.api.backendHealth(f.resourceGroup, f.gateway);
        const byIp = new Map<string, string[]>();
        for (const pool of health.backendAddressPools ?? [])
            for (const s of pool.backendHttpSettingsCollection ?? [])
                for (const srv of s.servers ?? [])
                    if (srv.address)
                        byIp.set(srv.address, [...(byIp.get(srv.address) ?? []), srv.health ?? "Unknown"]);
        return f.vms.map((vm) => {
            const states = byIp.get(vm.ip);
            return {
                id: vm.name,
                healthy: !!states && states.every((s) => s === "Up"),
                state: states ? `${vm.ip} ${states.join(", ")}` : `${vm.ip} not in the backend pool`,
            };
        });
    }

    takeOut(id: string): Promise<string> {
        return this.run(id, "stop", ["inactive", "failed"]);
    }

    restore(id: string): Promise<string> {
        return this.run(id, "start", ["active", "activating"]);
    }

    private async run(id: string, action: "stop" | "start", want: string[]): Promise<string> {
        const f = await this.locate();
        const r = await this.api.runShellScript(f.resourceGroup, id, serviceScript(unit, action));
        const message = (r.value ?? []).map((v) => v.message ?? "").join("\n");
        const state = scriptState(message);
        if (!want.includes(state ?? "")) {
            throw new Error(
                `Run Command on ${id} (systemctl ${action} ${unit}): IS ${state ?? "state unknown"}; output: ${message.trim().slice(0, 300)}`,
            );
        }
        return `systemctl ${action} ${unit} on ${id} through Run Command: IS ${state}`;
    }
}
