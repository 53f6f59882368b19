// The program: config -> (platform stack) -> the chosen target's component -> outputs.
// index.ts exports its outputs; synth also reads the component's rendered model and files.
// Only the chosen target's modules (and so its provider SDK) are loaded.
import * as pulumi from "@pulumi/pulumi";
import { ReadOptions, clusterName, readClusterConfig } from "./config";
import type { ClusterConfig } from "./config/schema";
import type { ClusterModel } from "./model";
import { readPlatformStack } from "./platform";

/** What every target component offers besides its cloud resources. */
export interface ClusterComponent extends pulumi.ComponentResource {
    /** The cluster model the nodes' files are rendered from. */
    readonly model: pulumi.Output<ClusterModel>;
    /** Stack outputs, by name. */
    outputs(): Record<string, pulumi.Output<unknown>>;
}

export interface Program {
    config: ClusterConfig;
    cluster: ClusterComponent;
    outputs: Record<string, pulumi.Output<unknown>>;
}

/** `deploying: false`: an offline render (synth, bench), where placeholder digests only warn. */
export type ProgramOptions = ReadOptions;

export async function program(options: ProgramOptions = {}): Promise<Program> {
    // Validation first: bad config (and, in `pulumi up`, placeholder digests) stops here,
    // before any resource is registered.
    const { config, adminPassword } = readClusterConfig(options);
    const name = clusterName(pulumi.getStack());
    const platform = async (required: string[], optional: string[]) =>
        config.network.platformStack
            ? readPlatformStack(config.network.platformStack, required, optional)
            : undefined;

    let cluster: ClusterComponent;
    switch (config.cloud) {
        case "aws": {
            const aws: typeof import("./ec2") = require("./ec2");
            const region = new pulumi.Config("aws").get("region");
            if (!region)
                throw new pulumi.RunError(
                    "aws:region is required for cloud aws (pulumi config set aws:region eu-west-1)",
                );
            const p = await platform(aws.awsPlatformOutputs.required, aws.awsPlatformOutputs.optional);
            cluster = new aws.AwsCluster(name, {
                config,
                region,
                adminPassword,
                network: p && aws.networkFromPlatform(p),
            });
            break;
        }
        case "ecs": {
            const ecs: typeof import("./ecs") = require("./ecs");
            const region = new pulumi.Config("aws").get("region");
            if (!region)
                throw new pulumi.RunError(
                    "aws:region is required for cloud ecs (pulumi config set aws:region eu-west-1)",
                );
            const p = await platform(ecs.awsPlatformOutputs.required, ecs.awsPlatformOutputs.optional);
            cluster = new ecs.EcsCluster(name, {
                config,
                region,
                adminPassword,
                network: p && ecs.networkFromPlatform(p),
            });
            break;
        }
        case "azure": {
            const azure: typeof import("./azure-vm") = require("./azure-vm");
            const location = new pulumi.Config("azure-native").get("location");
            if (!location)
                throw new pulumi.RunError(
                    "azure-native:location is required for cloud azure (pulumi config set azure-native:location westeurope)",
                );
            const p = await platform(
                azure.azurePlatformOutputs.required,
                azure.azurePlatformOutputs.optional,
            );
            cluster = new azure.AzureVmCluster(name, {
                config,
                location,
                adminPassword,
                network: p && azure.networkFromPlatform(p),
            });
            break;
        }
        case "aks": {
            const aks: typeof import("./aks") = require("./aks");
            const location = new pulumi.Config("azure-native").get("location");
            if (!location)
                throw new pulumi.RunError(
                    "azure-native:location is required for cloud aks (pulumi config set azure-native:location westeurope)",
                );
            const p = await platform(aks.aksPlatformOutputs.required, aks.aksPlatformOutputs.optional);
            cluster = new aks.AksCluster(name, {
                config,
                location,
                adminPassword,
                platform: p && {
                    network: aks.networkFromPlatform(p),
                    kubeconfig: String(p.values.kubeconfig),
                    ingress: aks.platformIngress(p),
                    imageRegistry: aks.platformRegistry(p, config.production),
                },
            });
            break;
        }
    }
    return { config, cluster, outputs: cluster.outputs() };
}
