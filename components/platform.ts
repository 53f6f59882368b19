// Reads a platform stack's outputs (network, cluster) as plain values before any of our
// resources exist, so a target can size itself (one mount target per subnet) without
// creating resources inside apply. The contract per target is in the README.
import * as pulumi from "@pulumi/pulumi";

export interface PlatformOutputs {
    stack: string;
    values: Record<string, unknown>;
}

export async function readPlatformStack(
    stack: string,
    required: string[],
    optional: string[] = [],
): Promise<PlatformOutputs> {
    const ref = new pulumi.StackReference(`platform-${stack.replace(/[^A-Za-z0-9-]/g, "-")}`, {
        name: stack,
    });
    const values: Record<string, unknown> = {};
    const missing: string[] = [];
    for (const key of [...required, ...optional]) {
        const details = await ref.getOutputDetails(key);
        const value = details.value ?? details.secretValue;
        if (value === undefined) {
            if (required.includes(key)) missing.push(key);
            continue;
        }
        values[key] = value;
    }
    if (missing.length > 0) {
        throw new pulumi.RunError(
            `wso2is-cluster:platformStack = "${stack}" does not export ${missing.join(", ")}; ` +
                `this target needs the outputs ${required.join(", ")} (see the README's platform stack contract)`,
        );
    }
    return { stack, values };
}

/** A string output of the platform stack, checked. */
export function platformString(p: PlatformOutputs, key: string): string {
    const v = p.values[key];
    if (typeof v !== "string" || v.length === 0) {
        throw new pulumi.RunError(
            `wso2is-cluster:platformStack = "${p.stack}": output ${key} must be a non-empty string, got ${JSON.stringify(v)}`,
        );
    }
    return v;
}

/** A list-of-strings output of the platform stack with at least `min` entries, checked. */
export function platformList(p: PlatformOutputs, key: string, min: number): string[] {
    const v = p.values[key];
    if (!Array.isArray(v) || v.length < min || v.some((s) => typeof s !== "string" || s.length === 0)) {
        throw new pulumi.RunError(
            `wso2is-cluster:platformStack = "${p.stack}": output ${key} must be a list of at least ${min} ids (one per availability zone), got ${JSON.stringify(v)}`,
        );
    }
    return v as string[];
}
