// A node-control STUB for `verify --failover --node-control <this file>` in the integration
// test: a stand-in for a cloud control plane. It asks the test process (an admin server on
// loopback, VERIFY_STANDIN_ADMIN) to kill or restart a stand-in IS backend, and for each
// backend's health as an LB probe sees it (a GET of the health API straight to the backend).
import type { NodeControl, NodeState } from "../../../verify/controls/types";

async function call(method: string, path: string): Promise<unknown> {
    const base = process.env.VERIFY_STANDIN_ADMIN;
    if (!base) throw new Error("VERIFY_STANDIN_ADMIN is not set");
    const r = await fetch(`${base}${path}`, { method });
    if (!r.ok) throw new Error(`${method} ${path}: HTTP ${r.status}`);
    return r.json();
}

export function createNodeControl(): NodeControl {
    return {
        target: "custom",
        source: "stand-in probe",
        lookAt: "the stand-in backends (test process)",
        replaces: false,
        nodes: async () => (await call("GET", "/nodes")) as NodeState[],
        takeOut: async (id) => `killed stand-in ${id} (${JSON.stringify(await call("POST", `/kill/${id}`))})`,
        restore: async (id) =>
            `started stand-in ${id} (${JSON.stringify(await call("POST", `/start/${id}`))})`,
    };
}
