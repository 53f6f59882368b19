// Runs CrossGuard policies without the Pulumi CLI, the way the analyzer server does
// (@pulumi/policy server.js): props wrapped in the SDK's unknownCheckingProxy, notApplicable()
// throwing (mapped to "n/a"), isType/asType by type token, getConfig returning only what the
// test configured (the CLI, not the SDK, applies configSchema defaults), stackTags, and async
// validations awaited. Stack resources get parent, dependencies and propertyDependencies
// resolved to the other resources, as the server does. Tests import policy/policies.ts or the
// policy modules, never policy/index.ts (`new PolicyPack` starts a gRPC server).
import * as fs from "fs";
import * as path from "path";
import type {
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";

// Re-exported by @pulumi/policy 1.21 for test helpers; typed as `any` (its .d.ts is empty).
const sdk = require("@pulumi/policy") as {
    unknownCheckingProxy?: (o: unknown) => any;
    UnknownValueError?: new (...a: any[]) => Error;
};
const proxy: (o: unknown) => any = sdk.unknownCheckingProxy ?? ((o) => o);
/** The SDK's marker for a value unknown during preview (a string sentinel). */
export const unknown: string = require("@pulumi/policy/proxy").unknownStringValue;

export type Policy = ResourceValidationPolicy | StackValidationPolicy;
export type Props = Record<string, any>;

export class NotApplicable extends Error {
    constructor(public readonly reason?: string) {
        super(reason ?? "not applicable");
    }
}

export interface Violation {
    message: string;
    urn?: string;
}

export interface RunResult {
    /** "ok": ran, no violation; "violations": ran and reported; "n/a": notApplicable(); "unknown": read a preview-unknown value. */
    status: "ok" | "violations" | "n/a" | "unknown";
    violations: Violation[];
    reason?: string;
}

export interface ResourceInput {
    type: string;
    props: Props;
    name?: string;
    urn?: string;
}

export interface RunOptions {
    /** The policy's config, as `--policy-pack-config` would give it (no schema defaults). */
    config?: Record<string, unknown>;
    stackTags?: Record<string, string>;
}

const defaultOpts: PolicyResourceOptions = {
    protect: false,
    ignoreChanges: [],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
};

export function urnOf(type: string, name: string): string {
    return `urn:pulumi:test::wso2is-cluster::${type}::${name}`;
}

const typeOfClass = (cls: unknown) => (cls as { __pulumiType?: string }).__pulumiType;

export function isResourcePolicy(p: Policy): p is ResourceValidationPolicy {
    return (p as ResourceValidationPolicy).validateResource !== undefined;
}

export function isStackPolicy(p: Policy): p is StackValidationPolicy {
    return (p as StackValidationPolicy).validateStack !== undefined;
}

async function capture(
    run: (report: (message: string, urn?: string) => void) => unknown,
): Promise<RunResult> {
    const violations: Violation[] = [];
    try {
        await Promise.resolve(run((message, urn) => violations.push({ message, urn })));
    } catch (e) {
        if (e instanceof NotApplicable) return { status: "n/a", violations, reason: e.reason };
        if (sdk.UnknownValueError && e instanceof sdk.UnknownValueError)
            return { status: "unknown", violations, reason: e.message };
        throw e;
    }
    return { status: violations.length > 0 ? "violations" : "ok", violations };
}

const notApplicable = (reason?: string): never => {
    throw new NotApplicable(reason);
};

/** Runs a resource policy on one resource. */
export async function runResource(
    policy: ResourceValidationPolicy,
    r: ResourceInput,
    o: RunOptions = {},
): Promise<RunResult> {
    if (!policy.validateResource) throw new Error(`${policy.name} has no validateResource`);
    const validations = Array.isArray(policy.validateResource)
        ? policy.validateResource
        : [policy.validateResource];
    const name = r.name ?? "test";
    const results: RunResult[] = [];
    for (const validate of validations) {
        const props = proxy(r.props);
        const args: ResourceValidationArgs = {
            type: r.type,
            props,
            urn: r.urn ?? urnOf(r.type, name),
            name,
            opts: defaultOpts,
            stackTags: new Map(Object.entries(o.stackTags ?? {})),
            isType: (cls) => typeOfClass(cls) === r.type,
            asType: ((cls: unknown) =>
                typeOfClass(cls) === r.type ? props : undefined) as ResourceValidationArgs["asType"],
            getConfig: <T extends object>() => ({ ...(o.config ?? {}) }) as T,
            notApplicable,
        };
        results.push(await capture((report) => validate(args, report)));
    }
    const violations = results.flatMap((x) => x.violations);
    const status =
        violations.length > 0
            ? "violations"
            : results.every((x) => x.status === "n/a")
              ? "n/a"
              : (results.find((x) => x.status === "unknown")?.status ?? "ok");
    return { status, violations, reason: results.find((x) => x.reason)?.reason };
}

export interface StackResourceInput extends ResourceInput {
    /** URN, or `type::name`, of the parent. */
    parent?: string;
    dependencies?: string[];
    propertyDependencies?: Record<string, string[]>;
}

/** PolicyResources as the server builds them: proxied props, links resolved to resources. */
export function stackResources(inputs: StackResourceInput[]): PolicyResource[] {
    const byKey = new Map<string, PolicyResource>();
    const built = inputs.map((r) => {
        const name = r.name ?? "test";
        const props = proxy(r.props);
        const resource: PolicyResource = {
            type: r.type,
            props,
            urn: r.urn ?? urnOf(r.type, name),
            name,
            opts: defaultOpts,
            dependencies: [],
            propertyDependencies: {},
            isType: (cls) => typeOfClass(cls) === r.type,
            asType: ((cls: unknown) =>
                typeOfClass(cls) === r.type ? props : undefined) as PolicyResource["asType"],
        };
        byKey.set(resource.urn, resource);
        byKey.set(`${r.type}::${name}`, resource);
        return { input: r, resource };
    });
    const find = (k: string) => byKey.get(k);
    for (const { input, resource } of built) {
        if (input.parent) resource.parent = find(input.parent);
        resource.dependencies = (input.dependencies ?? [])
            .map(find)
            .filter((x): x is PolicyResource => x !== undefined);
        for (const [k, v] of Object.entries(input.propertyDependencies ?? {})) {
            resource.propertyDependencies[k] = v
                .map(find)
                .filter((x): x is PolicyResource => x !== undefined);
        }
    }
    return built.map((b) => b.resource);
}

/** Runs a stack policy over a set of resources. */
export async function runStack(
    policy: StackValidationPolicy,
    resources: StackResourceInput[] | PolicyResource[],
    o: RunOptions = {},
): Promise<RunResult> {
    const list =
        resources.length > 0 && typeof (resources[0] as PolicyResource).isType === "function"
            ? (resources as PolicyResource[])
            : stackResources(resources as StackResourceInput[]);
    const args: StackValidationArgs = {
        resources: list,
        stackTags: new Map(Object.entries(o.stackTags ?? {})),
        getConfig: <T extends object>() => ({ ...(o.config ?? {}) }) as T,
        notApplicable,
    };
    return capture((report) => policy.validateStack(args, report));
}

/** Runs any policy: a resource policy on every resource (violations merged), a stack policy once. */
export async function runPolicy(
    policy: Policy,
    resources: StackResourceInput[],
    o: RunOptions = {},
): Promise<RunResult> {
    if (isStackPolicy(policy)) return runStack(policy, resources, o);
    const all: Violation[] = [];
    let ran = false;
    for (const r of resources) {
        const res = await runResource(policy, r, o);
        if (res.status !== "n/a") ran = true;
        all.push(
            ...res.violations.map((v) => ({
                message: `${r.type}::${r.name}: ${v.message}`,
                urn: v.urn ?? r.urn,
            })),
        );
    }
    return { status: all.length > 0 ? "violations" : ran ? "ok" : "n/a", violations: all };
}

/** Messages of a result, for assertion messages. */
export function messages(r: RunResult): string {
    return r.violations.map((v) => v.message).join("\n") || `(${r.status}${r.reason ? `: ${r.reason}` : ""})`;
}

// ---------------------------------------------------------------------------------------------
// The production profile (policy/config.production.json), as `--policy-pack-config` applies it.

const productionProfile: Record<string, { enforcementLevel?: string; production?: boolean }> = JSON.parse(
    fs.readFileSync(path.resolve(__dirname, "..", "..", "policy", "config.production.json"), "utf8"),
);

export interface Effective {
    level: string;
    config: Record<string, unknown>;
}

/** The enforcement level and config a policy runs with on a production or other stack. */
export function effective(p: Policy, production: boolean): Effective {
    const c = production ? productionProfile[p.name] : undefined;
    const config: Record<string, unknown> = {};
    if (c?.production !== undefined) config.production = c.production;
    return { level: c?.enforcementLevel ?? p.enforcementLevel ?? "advisory", config };
}
