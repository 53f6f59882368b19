// wso2is-cluster: a highly available WSO2 Identity Server cluster on the target the stack's
// `cloud` names. config -> (platform stack) -> target component -> stack outputs.
// Only the chosen target's modules (and so its provider SDK) are loaded.
import * as pulumi from "@pulumi/pulumi";
import { readClusterConfig } from "./components/config";
import { readPlatformStack } from "./components/platform";

async function main(): Promise<Record<string, pulumi.Output<unknown>>> {
    // Validation first: bad config stops here, before any resource is registered.
    const { config, adminPassword } = readClusterConfig();
    const name = `wso2is-${pulumi.getStack()}`;

    switch (config.cloud) {
        case "aws": {
            const aws: typeof import("./components/aws") = require("./components/aws");
            const region = new pulumi.Config("aws").get("region");
            if (!region) throw new pulumi.RunError("aws:region is required for cloud aws (pulumi config set aws:region eu-west-1)");
            const platform = config.network.platformStack
                ? await readPlatformStack(config.network.platformStack, aws.awsPlatformOutputs.required, aws.awsPlatformOutputs.optional)
                : undefined;
            const cluster = new aws.AwsCluster(name, { config, region, adminPassword, network: platform && aws.networkFromPlatform(platform) });
            return cluster.outputs();
        }
        default:
            throw new pulumi.RunError(`wso2is-cluster:cloud = "${config.cloud}" is not built yet in this version (available: aws)`);
    }
}

export = main();
