// Policy config: the CLI applies configSchema defaults, the SDK alone does not, so they are
// applied in code too; and the `production` switch the production-only checks read.
import type { PolicyConfigSchema } from "@pulumi/policy";

/** `production` knob: production-only checks read it; default false. */
export const productionSchema: PolicyConfigSchema["properties"] = {
    production: {
        type: "boolean",
        default: false,
        description:
            "The stack is a production stack (the program's wso2is-cluster:production); turns on the production-only checks.",
    },
};

/** `production` plus `minBackupDays`: the database backup retention a production stack keeps. */
export const productionBackupSchema: PolicyConfigSchema["properties"] = {
    ...productionSchema,
    minBackupDays: {
        type: "integer",
        minimum: 1,
        maximum: 35,
        default: 7,
        description: "Minimum backup retention in days (production).",
    },
};

/** The policy's config with the schema's defaults filled in (the SDK does not apply them). */
export function configOf<T extends object>(args: { getConfig<C extends object>(): C }, defaults: T): T {
    const given = (args.getConfig<Partial<T>>() ?? {}) as Partial<T>;
    const out = { ...defaults } as T;
    for (const [k, v] of Object.entries(given))
        if (v !== undefined && v !== null) (out as Record<string, unknown>)[k] = v;
    return out;
}

export function isProduction(args: { getConfig<C extends object>(): C }): boolean {
    return configOf(args, { production: false }).production === true;
}
