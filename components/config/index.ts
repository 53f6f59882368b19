// Reads the stack's config into one validated ClusterConfig before any resource exists.
import * as pulumi from "@pulumi/pulumi";
import { configNamespace } from "./keys";
import { ClusterConfig, ConfigError, configWarnings, parseConfig, placeholderDigestMessages } from "./schema";

export * from "./defaults";
export * from "./keys";
export * from "./names";
export * from "./schema";

export interface ReadOptions {
    /**
     * Whether this run deploys: placeholder digests stop a deployment and only warn otherwise.
     * Default: not a preview (`pulumi.runtime.isDryRun()` is false in `pulumi up`, true in
     * `pulumi preview`; under `setMocks` it is the `preview` argument). `npm run synth` runs
     * under mocks with preview = false (in preview, outputs a mock leaves out turn unknown and the
     * rendered files would change), so it says `deploying: false` itself.
     */
    deploying?: boolean;
}

/**
 * All `wso2is-cluster:*` values of the stack, validated. Bad config throws a RunError, which
 * the Pulumi CLI prints as its message alone: no stack trace, nothing registered.
 */
export function readClusterConfig(options: ReadOptions = {}): {
    config: ClusterConfig;
    adminPassword?: pulumi.Output<string>;
} {
    const prefix = `${configNamespace}:`;
    const raw: Record<string, string> = {};
    for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
        if (key.startsWith(prefix)) raw[key.slice(prefix.length)] = value;
    }
    let config: ClusterConfig;
    try {
        // The stack name: cloud name limits depend on it (names.ts).
        config = parseConfig(raw, undefined, pulumi.getStack());
    } catch (e) {
        if (e instanceof ConfigError) throw new pulumi.RunError(e.message);
        throw e;
    }
    const deploying = options.deploying ?? !pulumi.runtime.isDryRun();
    const placeholders = placeholderDigestMessages(config);
    if (placeholders.error && deploying) throw new pulumi.RunError(placeholders.error);
    for (const warning of [...configWarnings(config), ...placeholders.warnings])
        void pulumi.log.warn(warning);
    const adminPassword = config.adminPasswordSet
        ? new pulumi.Config(configNamespace).requireSecret("adminPassword")
        : undefined;
    return { config, adminPassword };
}
