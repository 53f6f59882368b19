// The stack's outputs, read with `pulumi stack output --json` (no secrets needed: none of the
// names read here is a secret), and what they say about the cluster: which target, its URL,
// the load balancer's address, and the names the per-node controls need.
import { execFileSync } from "child_process";

export type Target = "aws" | "azure" | "aks" | "ecs";
export const targets: readonly Target[] = ["aws", "azure", "aks", "ecs"];

/** A usage or environment problem (exit 2): not a finding about the cluster. */
export class UsageError extends Error {}

export type Outputs = Record<string, unknown>;

/** Runs `pulumi stack output --json --stack <stack>`; `run` is replaceable in tests. */
export function readStackOutputs(
    stack: string,
    run: (cmd: string, args: string[]) => string = (cmd, args) =>
        execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }),
): Outputs {
    let text: string;
    try {
        text = run("pulumi", ["stack", "output", "--json", "--stack", stack]);
    } catch (e) {
        const err = e as NodeJS.ErrnoException & { stderr?: string | Buffer };
        if (err.code === "ENOENT") {
            throw new UsageError(
                "the Pulumi CLI (`pulumi`) is not on PATH: install it (https://www.pulumi.com/docs/install/) " +
                    "and log in to the stack's backend, or check a URL directly with --url https://<hostname>",
            );
        }
        const stderr = String(err.stderr ?? "").trim();
        throw new UsageError(
            `\`pulumi stack output --json --stack ${stack}\` failed: ${stderr || err.message}` +
                " (is the stack name right, and are you logged in to its backend?)",
        );
    }
    let parsed: unknown;
    try {
        parsed = JSON.parse(text);
    } catch {
        throw new UsageError(`\`pulumi stack output --json --stack ${stack}\` did not print JSON`);
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
        throw new UsageError(`\`pulumi stack output --json --stack ${stack}\` printed no object of outputs`);
    }
    return parsed as Outputs;
}

/** What verify knows about the cluster before it sends a request. */
export interface ClusterInfo {
    target?: Target;
    url: string;
    hostname: string;
    /** The load balancer's DNS name (AWS) or address (Azure gateway, AKS ingress). */
    lbDnsName?: string;
    lbAddress?: string;
    nodeCount?: number;
    outputs: Outputs;
}

const str = (o: Outputs, k: string): string | undefined =>
    typeof o[k] === "string" && o[k] !== "" ? (o[k] as string) : undefined;

/**
 * The target from the output names each component exports (components/{ec2,azure-vm,aks}/index.ts
 * `outputs()`). ECS (issue 18) is recognised by `ecsClusterName` + `ecsServiceName`.
 */
export function targetOf(o: Outputs): Target | undefined {
    if (str(o, "ecsClusterName") && str(o, "ecsServiceName")) return "ecs";
    if (str(o, "autoScalingGroupName") && str(o, "loadBalancerDnsName")) return "aws";
    if (str(o, "gatewayAddress") && Array.isArray(o.nodeIps)) return "azure";
    if (str(o, "clusterName") && str(o, "namespace")) return "aks";
    return undefined;
}

export function clusterFromOutputs(o: Outputs): ClusterInfo {
    const url = str(o, "url") ?? (str(o, "hostname") ? `https://${str(o, "hostname")}` : undefined);
    if (!url) {
        throw new UsageError(
            `the stack has no \`url\` or \`hostname\` output (outputs: ${Object.keys(o).join(", ") || "none"}); ` +
                "is it a wso2is-cluster stack after a successful `pulumi up`? Or pass --url",
        );
    }
    return {
        target: targetOf(o),
        url,
        hostname: str(o, "hostname") ?? new URL(url).hostname,
        lbDnsName: str(o, "loadBalancerDnsName"),
        lbAddress: str(o, "gatewayAddress") ?? str(o, "ingressAddress"),
        nodeCount: typeof o.nodeCount === "number" ? o.nodeCount : undefined,
        outputs: o,
    };
}

/** The cluster's name as components/program.ts gives it: `wso2is-<stack>` (the stack's short name). */
export function clusterNameOf(stack: string): string {
    return `wso2is-${stack.split("/").pop()}`;
}
