// Database sizing every target shares.

/** maxActive of each IS datasource pool (IS default). */
export const poolMaxActive = 80;

/**
 * Connections IS may open: one pool of maxActive per database per IS process, plus headroom.
 * `surge` counts processes that run beside the `nodes` during a rollout (AKS: maxSurge 1).
 */
export function maxConnections(nodes: number, databases: number, surge = 0): number {
    return (nodes + surge) * databases * poolMaxActive + 50;
}
