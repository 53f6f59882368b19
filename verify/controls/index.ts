// Picks the node control for the stack's target (loading only that target's SDK), or a
// module of your own with --node-control (any load balancer: a function that lists nodes with
// their health and takes one out / brings it back).
import * as path from "path";
import type { Outputs, Target } from "../outputs";
import { UsageError, clusterNameOf } from "../outputs";
import type { NodeControl } from "./types";

export interface ControlOptions {
    target?: Target;
    outputs: Outputs;
    stack?: string;
    region?: string;
    subscription?: string;
    clusterName?: string;
    /** A module exporting createNodeControl(): NodeControl | Promise<NodeControl>. */
    nodeControl?: string;
}

const s = (o: Outputs, k: string) => (typeof o[k] === "string" && o[k] !== "" ? (o[k] as string) : undefined);

function need(value: string | undefined, what: string): string {
    if (!value) throw new UsageError(what);
    return value;
}

export async function createNodeControl(o: ControlOptions): Promise<NodeControl> {
    if (o.nodeControl) {
        const file = path.resolve(o.nodeControl);
        const mod = require(file);
        const factory = mod.createNodeControl ?? mod.default?.createNodeControl ?? mod.default;
        if (typeof factory !== "function")
            throw new UsageError(
                `--node-control ${o.nodeControl}: the module exports no createNodeControl()`,
            );
        return await factory();
    }
    const out = o.outputs;
    switch (o.target) {
        case "aws": {
            const { AwsNodeControl, awsApi, regionOfAlb } = await import("./aws");
            const region = need(
                o.region ?? process.env.AWS_REGION ?? regionOfAlb(s(out, "loadBalancerDnsName")),
                "aws: no region (pass --region or set AWS_REGION)",
            );
            const asg = need(
                s(out, "autoScalingGroupName"),
                "aws: the stack has no autoScalingGroupName output",
            );
            return new AwsNodeControl(await awsApi(region), asg);
        }
        case "ecs": {
            const { EcsNodeControl, ecsApi } = await import("./ecs");
            const { regionOfAlb } = await import("./aws");
            const region = need(
                o.region ?? process.env.AWS_REGION ?? regionOfAlb(s(out, "loadBalancerDnsName")),
                "ecs: no region (pass --region or set AWS_REGION)",
            );
            return new EcsNodeControl(
                await ecsApi(region),
                need(s(out, "ecsClusterName"), "ecs: the stack has no ecsClusterName output"),
                need(s(out, "ecsServiceName"), "ecs: the stack has no ecsServiceName output"),
            );
        }
        case "azure": {
            const { AzureNodeControl, azureApi } = await import("./azure");
            const subscription = need(
                o.subscription ?? process.env.AZURE_SUBSCRIPTION_ID,
                "azure: no subscription (pass --subscription or set AZURE_SUBSCRIPTION_ID)",
            );
            const clusterName = need(
                o.clusterName ?? (o.stack ? clusterNameOf(o.stack) : undefined),
                "azure: no cluster name (pass --cluster-name wso2is-<stack>)",
            );
            const nodeIps = Array.isArray(out.nodeIps) ? out.nodeIps.map(String) : [];
            if (!nodeIps.length) throw new UsageError("azure: the stack has no nodeIps output");
            return new AzureNodeControl(await azureApi(subscription), clusterName, nodeIps);
        }
        case "aks": {
            const { AksNodeControl, kubeApi } = await import("./aks");
            return new AksNodeControl(
                await kubeApi(),
                need(s(out, "namespace"), "aks: the stack has no namespace output"),
            );
        }
        default:
            throw new UsageError(
                "per-node control needs a target: --stack (aws, azure, aks, ecs), --target with the stack's outputs, or --node-control MODULE",
            );
    }
}
