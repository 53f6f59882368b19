// Reads a platform stack's outputs (network, cluster) as plain values before any of our
// resources exist, so a target can size itself (one mount target per subnet) without
// creating resources inside apply. Each target states its contract as one zod schema
// (platformContract): the outputs it reads, which are optional, and what each must look like.
// The contract per target is in docs/<target>.md.
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";

export interface PlatformOutputs {
    stack: string;
    values: Record<string, unknown>;
}

/** A platform contract: the schema, and the output names it requires or accepts. */
export interface PlatformContract<S extends z.ZodObject> {
    schema: S;
    required: string[];
    optional: string[];
}

/** The contract of a schema; optional fields are the optional outputs. */
export function platformContract<S extends z.ZodObject>(schema: S): PlatformContract<S> {
    const keys = Object.keys(schema.shape);
    const optional = keys.filter((k) => (schema.shape[k] as z.ZodType).safeParse(undefined).success);
    return { schema, required: keys.filter((k) => !optional.includes(k)), optional };
}

/** Field types the contracts share, each with the message a wrong value gets. */
export const platformField = {
    string: () => z.string({ error: "must be a non-empty string" }).min(1, "must be a non-empty string"),
    /** A list of ids, one per availability zone. */
    ids: (min: number) =>
        z
            .array(z.string().min(1), {
                error: `must be a list of at least ${min} ids (one per availability zone)`,
            })
            .min(min, `must be a list of at least ${min} ids (one per availability zone)`),
    cidr: () =>
        z
            .string({ error: "must be an IPv4 CIDR such as 10.50.1.0/24" })
            .regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, "must be an IPv4 CIDR such as 10.50.1.0/24"),
};

/** The platform outputs checked against a contract: typed values, or one error naming each problem. */
export function parsePlatform<S extends z.ZodObject>(
    p: PlatformOutputs,
    contract: PlatformContract<S>,
): z.infer<S> {
    const result = contract.schema.safeParse(p.values);
    if (result.success) return result.data;
    const problems = result.error.issues.map((issue) => {
        const key = String(issue.path[0] ?? "");
        return `output ${key} ${issue.message}, got ${JSON.stringify(p.values[key])}`;
    });
    throw new pulumi.RunError(`wso2is-cluster:platformStack = "${p.stack}": ${problems.join("; ")}`);
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
                `this target needs the outputs ${required.join(", ")} (see the target's page in docs/)`,
        );
    }
    return { stack, values };
}
