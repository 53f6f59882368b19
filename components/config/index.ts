// Reads the stack's config into one validated ClusterConfig before any resource exists.
import * as pulumi from "@pulumi/pulumi";
import { configNamespace } from "./keys";
import { ClusterConfig, ConfigError, configWarnings, parseConfig, placeholderDigests } from "./schema";

export * from "./defaults";
export * from "./keys";
export * from "./schema";

/**
 * All `wso2is-cluster:*` values of the stack, validated. Bad config throws a RunError, which
 * the Pulumi CLI prints as its message alone: no stack trace, nothing registered.
 */
export function readClusterConfig(): { config: ClusterConfig; adminPassword?: pulumi.Output<string> } {
    const prefix = `${configNamespace}:`;
    const raw: Record<string, string> = {};
    for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
        if (key.startsWith(prefix)) raw[key.slice(prefix.length)] = value;
    }
    try {
        // The stack name: Azure's name limits depend on it (schema.ts, azureLimitProblems).
        const config = parseConfig(raw, undefined, pulumi.getStack());
        for (const warning of configWarnings(config)) void pulumi.log.warn(warning);
        for (const key of placeholderDigests(config)) {
            void pulumi.log.warn(
                `${configNamespace}:${key} is the all-zero placeholder: nodes will refuse the download until it holds the real sha256`,
            );
        }
        const adminPassword = config.adminPasswordSet
            ? new pulumi.Config(configNamespace).requireSecret("adminPassword")
            : undefined;
        return { config, adminPassword };
    } catch (e) {
        if (e instanceof ConfigError) throw new pulumi.RunError(e.message);
        throw e;
    }
}
