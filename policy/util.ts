// Helpers shared by the policies: type dispatch by type token (no provider SDK is loaded, so
// the pack starts fast), reading props, and the user data / deployment.toml that the nodes
// boot from. Config and the `production` switch are in config.ts, port and address
// arithmetic in ports.ts, secrets in text in secrets.ts.
import * as TOML from "@iarna/toml";
import { WrittenFile, cloudInitFiles, decodeUserData } from "./userData";

export { WrittenFile, cloudInitFiles, decodeUserData };
import type {
    PolicyResource,
    ReportViolation,
    ResourceValidation,
    ResourceValidationArgs,
    Severity,
    StackValidationArgs,
} from "@pulumi/policy";

export type Props = Record<string, any>;

/**
 * A policy's name, enforcement level, severity and tags (space-separated) in one line, spread
 * into its declaration: the declarations then differ where the policies do.
 */
export function about(
    name: string,
    enforcementLevel: "mandatory" | "advisory",
    severity: Severity,
    tags: string,
): { name: string; enforcementLevel: "mandatory" | "advisory"; severity: Severity; tags: string[] } {
    return { name, enforcementLevel, severity, tags: tags.split(" ") };
}

// ---------------------------------------------------------------------------------------------
// Type dispatch.

/**
 * A resource validation that only runs on the given type tokens (e.g. "aws:rds/instance:Instance");
 * other types are reported "not applicable", as validateResourceOfType does, without importing
 * the provider's SDK.
 */
export function forTypes(
    types: string[],
    validate: (props: Props, args: ResourceValidationArgs, report: ReportViolation) => void | Promise<void>,
): ResourceValidation {
    const set = new Set(types);
    return (args, report) => {
        if (!set.has(args.type)) return args.notApplicable(`Policy only applies to ${types.join(", ")}`);
        return validate(args.props, args, report);
    };
}

export function ofType(resources: PolicyResource[], ...types: string[]): PolicyResource[] {
    const set = new Set(types);
    return resources.filter((r) => set.has(r.type));
}

/** "<type> <name>", for messages. */
export function label(r: { type: string; name: string }): string {
    return `${r.type.split(":").pop()} '${r.name}'`;
}

export type StackArgs = StackValidationArgs;

// ---------------------------------------------------------------------------------------------
// Values.

export function asArray<T = any>(v: unknown): T[] {
    if (v === undefined || v === null) return [];
    return Array.isArray(v) ? (v as T[]) : [v as T];
}

export function isObject(v: unknown): v is Props {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** true for true and "true" (the AWS provider takes some booleans as strings). */
export function isTrue(v: unknown): boolean {
    return v === true || (typeof v === "string" && v.toLowerCase() === "true");
}

/** An autonamed resource's physical name is `<logical name>-<7 hex>`. */
export function matchesName(physical: unknown, r: PolicyResource, explicit?: unknown): boolean {
    if (typeof physical !== "string" || physical === "") return false;
    if (typeof explicit === "string" && explicit !== "") return physical === explicit;
    if (physical === r.name) return true;
    return physical.startsWith(`${r.name}-`) && /^[0-9a-f]{7}$/.test(physical.slice(r.name.length + 1));
}

/** The last path segment of an Azure resource id, or the string itself. */
export function lastSegment(id: unknown): string {
    return typeof id === "string"
        ? (id
              .split("/")
              .filter((s) => s !== "")
              .pop() ?? "")
        : "";
}

// ---------------------------------------------------------------------------------------------
// User data and deployment.toml.

/** Where VM user data lives, per type token: dotted paths into the props. */
export const userDataPaths: Record<string, string[][]> = {
    "aws:ec2/launchTemplate:LaunchTemplate": [["userData"]],
    "aws:ec2/instance:Instance": [["userData"], ["userDataBase64"]],
    "aws:ec2/launchConfiguration:LaunchConfiguration": [["userData"], ["userDataBase64"]],
    "azure-native:compute:VirtualMachine": [["osProfile", "customData"], ["userData"]],
    "azure-native:compute:VirtualMachineScaleSet": [
        ["virtualMachineProfile", "osProfile", "customData"],
        ["virtualMachineProfile", "userData"],
    ],
};

export function getPath(props: Props, path: string[]): unknown {
    let v: unknown = props;
    for (const k of path) {
        if (!isObject(v)) return undefined;
        v = v[k];
    }
    return v;
}

/** Every user-data text of a resource (decoded), by dotted path. */
export function userDataOf(type: string, props: Props): { at: string; text: string }[] {
    const out: { at: string; text: string }[] = [];
    for (const path of userDataPaths[type] ?? []) {
        // A string that is not recognisable user data is still checked as text.
        const value = getPath(props, path);
        const text =
            decodeUserData(value)?.text ?? (typeof value === "string" && value !== "" ? value : undefined);
        if (text !== undefined) out.push({ at: path.join("."), text });
    }
    return out;
}

export const deploymentTomlPath = /(^|\/)deployment\.toml$/;

/** The deployment.toml a user-data text writes, if any. */
export function deploymentTomlFromUserData(text: string): string | undefined {
    return cloudInitFiles(text).find((f) => deploymentTomlPath.test(f.path))?.content;
}

export interface NodeConfig {
    membershipScheme?: string;
    /** [database.<key>] -> url without its query string (host, port, database). */
    databases: Record<string, string>;
    members?: string[];
}

/** What must agree across nodes, from a deployment.toml text. Undefined if it does not parse. */
export function nodeConfig(toml: string): NodeConfig | undefined {
    let doc: Props;
    try {
        doc = TOML.parse(toml) as Props;
    } catch {
        return undefined;
    }
    const clustering = isObject(doc.clustering) ? doc.clustering : {};
    const databases: Record<string, string> = {};
    if (isObject(doc.database)) {
        for (const [key, db] of Object.entries(doc.database)) {
            if (isObject(db) && typeof db.url === "string") databases[key] = db.url.split("?")[0];
        }
    }
    return {
        membershipScheme:
            typeof clustering.membership_scheme === "string" ? clustering.membership_scheme : undefined,
        databases,
        members: Array.isArray(clustering.members) ? clustering.members.map(String).sort() : undefined,
    };
}
