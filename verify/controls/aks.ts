// AKS target: per-node health is pod readiness (a pod that is not Ready, or is terminating,
// is out of the Service's ready endpoints and so out of Traefik's rotation), and "shut down
// node 1" is deleting one IS pod: the Deployment replaces it, so "back" means as many Ready
// pods as before. The pods carry components/kubernetes/names.ts `selector`.
import { selector } from "../../components/kubernetes/names";
import { loadOptional } from "./load";
import type { NodeControl, NodeState } from "./types";

/** V1Pod, the fields verify reads. */
export interface Pod {
    metadata?: { name?: string; deletionTimestamp?: string | Date };
    spec?: { nodeName?: string };
    status?: { phase?: string; conditions?: { type?: string; status?: string }[] };
}

export interface KubeApi {
    /** The kubeconfig context in use (to say which cluster verify talks to). */
    context: string;
    listPods(namespace: string, labelSelector: string): Promise<{ items?: Pod[] }>;
    deletePod(namespace: string, name: string): Promise<unknown>;
}

// 2.x pulls undici 8, which needs Node >= 22.19 (it fails to load on Node 20); 1.x has the same
// object-parameter API (listNamespacedPod({ namespace, labelSelector })).
export const aksPackages = [
    Number(process.versions.node.split(".")[0]) >= 22
        ? "@kubernetes/client-node"
        : "@kubernetes/client-node@1",
];

/** The real client (>= 1.0: object parameters) with the default kubeconfig (az aks get-credentials). */
export async function kubeApi(): Promise<KubeApi> {
    const [k8s] = await loadOptional(aksPackages, "per-node health on aks");
    const kc = new k8s.KubeConfig();
    kc.loadFromDefault();
    const core = kc.makeApiClient(k8s.CoreV1Api);
    return {
        context: kc.getCurrentContext(),
        listPods: (namespace, labelSelector) => core.listNamespacedPod({ namespace, labelSelector }),
        deletePod: (namespace, name) => core.deleteNamespacedPod({ name, namespace }),
    };
}

export const labelSelector = Object.entries(selector)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");

export class AksNodeControl implements NodeControl {
    readonly target = "aks";
    readonly source: string;
    readonly replaces = true;
    readonly lookAt: string;

    constructor(
        private readonly api: KubeApi,
        private readonly namespace: string,
    ) {
        this.source = `pod readiness (context ${api.context})`;
        this.lookAt = `kubectl -n ${namespace} get pods -l ${labelSelector}; kubectl -n ${namespace} describe pod <pod>; kubectl -n ${namespace} logs <pod>`;
    }

    async nodes(): Promise<NodeState[]> {
        const r = await this.api.listPods(this.namespace, labelSelector);
        return (r.items ?? []).map((p) => {
            const ready = p.status?.conditions?.find((c) => c.type === "Ready")?.status === "True";
            const terminating = !!p.metadata?.deletionTimestamp;
            return {
                id: p.metadata?.name ?? "?",
                healthy: ready && !terminating,
                state: terminating ? "Terminating" : ready ? "Ready" : `NotReady (${p.status?.phase ?? "?"})`,
            };
        });
    }

    async takeOut(id: string): Promise<string> {
        await this.api.deletePod(this.namespace, id);
        return `deleted pod ${this.namespace}/${id} (its grace period applies; the Deployment starts a new one)`;
    }

    async restore(_id: string): Promise<string> {
        return "nothing to restore: the Deployment replaces the deleted pod";
    }
}
