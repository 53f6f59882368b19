// What `verify` needs from a target's control plane: per-node health as the load balancer (or
// the platform) sees it, and a way to take one node out and bring it back.

export interface NodeState {
    /** Instance id, VM name, pod name or task id. */
    id: string;
    /** In rotation: the load balancer (or the platform's readiness) reports it healthy. */
    healthy: boolean;
    /** The raw state the API reported, e.g. "healthy", "Up", "Ready", "unhealthy (Target.Timeout)". */
    state: string;
}

export interface NodeControl {
    /** "aws", "azure", "aks", "ecs" or "custom". */
    readonly target: string;
    /** Where `nodes()` gets its answer, e.g. "target group health". */
    readonly source: string;
    /** What to look at when a node is unhealthy. */
    readonly lookAt: string;
    /**
     * false: restore() brings the same node back (VMs). true: the platform replaces a node taken
     * out with a new one (pods, tasks); restore() only waits, and "back" means as many healthy
     * nodes as before.
     */
    readonly replaces: boolean;
    nodes(): Promise<NodeState[]>;
    /** Takes `id` out (stops IS / deletes the pod / stops the task); returns what it did. */
    takeOut(id: string): Promise<string>;
    /** Brings `id` back (starts IS); for replacing targets, a no-op description. */
    restore(id: string): Promise<string>;
    /** Before the drill (e.g. suspend the ASG's health replacement) and after it, always. */
    prepare?(): Promise<string | void>;
    cleanup?(): Promise<string | void>;
}

/** Raised when an optional SDK is not installed: says which npm packages to install. */
export class MissingDependency extends Error {}
