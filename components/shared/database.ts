// Database sizing every target shares.

/** Connections IS opens: two pools of maxActive 80 per database per node, plus headroom. */
export function maxConnections(nodes: number, databases: number): number {
    return nodes * databases * 80 + 50;
}
