// Helpers shared by the policies: type dispatch by type token (no provider SDK is loaded, so
// the pack starts fast), config with defaults applied in code (the CLI applies configSchema
// defaults, the SDK alone does not), the `production` switch, port and address arithmetic,
// and reading the user data / deployment.toml that the nodes boot from.
import * as TOML from "@iarna/toml";
import { WrittenFile, cloudInitFiles, decodeUserData } from "./userData";

export { WrittenFile, cloudInitFiles, decodeUserData };
import type {
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidation,
    ResourceValidationArgs,
    StackValidationArgs,
} from "@pulumi/policy";

export type Props = Record<string, any>;

// ---------------------------------------------------------------------------------------------
// Config.

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
// Ports and addresses.

export interface PortRange {
    from: number;
    to: number;
}

/** Every port (protocol "-1"/"all"/"*", or a missing range on an all-protocol rule). */
export const allPorts: PortRange = { from: 0, to: 65535 };

export function overlaps(a: PortRange, b: PortRange): boolean {
    return a.from <= b.to && b.from <= a.to;
}

/** Port range of an AWS rule (fromPort/toPort, or every port for protocol -1). */
export function awsRuleRange(rule: Props): PortRange {
    const proto = String(rule.ipProtocol ?? rule.protocol ?? "").toLowerCase();
    if (proto === "-1" || proto === "all") return allPorts;
    const from = Number(rule.fromPort);
    const to = Number(rule.toPort ?? rule.fromPort);
    if (!Number.isFinite(from) || !Number.isFinite(to)) return allPorts;
    // ICMP uses -1 for "any type"; treat as no TCP/UDP port.
    if (from < 0 && to < 0) return { from: -1, to: -1 };
    return { from: Math.max(0, from), to: Math.max(0, to) };
}

/** Port ranges of an Azure NSG rule: "*", "443", "5701-5708", lists of those. */
export function azurePortRanges(rule: Props): PortRange[] {
    const specs = [
        ...asArray<string>(rule.destinationPortRange),
        ...asArray<string>(rule.destinationPortRanges),
    ];
    if (specs.length === 0) return [allPorts];
    return specs.map((s) => {
        const t = String(s).trim();
        if (t === "*" || t === "") return allPorts;
        const m = /^(\d+)\s*-\s*(\d+)$/.exec(t);
        if (m) return { from: Number(m[1]), to: Number(m[2]) };
        const n = Number(t);
        return Number.isFinite(n) ? { from: n, to: n } : allPorts;
    });
}

/** An address prefix that means "anyone": 0.0.0.0/0, ::/0, *, Internet, Any. */
export function isAnywhere(prefix: unknown): boolean {
    if (typeof prefix !== "string") return false;
    const p = prefix.trim().toLowerCase();
    return p === "*" || p === "internet" || p === "any" || /\/0$/.test(p);
}

export function describeRange(r: PortRange): string {
    if (r.from === 0 && r.to === 65535) return "all ports";
    if (r.from < 0) return "ICMP";
    return r.from === r.to ? `port ${r.from}` : `ports ${r.from}-${r.to}`;
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

// ---------------------------------------------------------------------------------------------
// Secrets in text.

// Key names that hold a secret, and identifier-like endings that make a key not one
// (secretArn, passwordLength, disablePasswordAuthentication, WSO2_DB_PASSWORD_FILE...).
const secretKeyWords =
    /(password|passwd|passphrase|secret|token|credential|accesskey|access_key|secretkey|secret_key|accountkey|account_key|apikey|api_key|privatekey|private_key|connectionstring|connection_string|sas)/i;
const notSecretEnding =
    /(id|ids|arn|name|names|ref|path|file|env|url|uri|length|count|enabled|type|source|authentication|auth|policy|policies|ttl|timeout|expiry|expiration|rotation|version|required|header|keyref)$/i;

export function isSecretKeyName(key: string): boolean {
    const k = key.replace(/^["']|["']$/g, "");
    if (/^(httptokens|http_tokens)$/i.test(k)) return false;
    return secretKeyWords.test(k) && !notSecretEnding.test(k);
}

/** A value that is a reference resolved elsewhere, not a secret: $env{X}, ${X}, $X, $(cmd), {{ x }}, empty. */
export function isPlaceholder(value: string): boolean {
    const v = value
        .trim()
        .replace(/^["']|["']$/g, "")
        .trim();
    if (v === "" || v === "-" || /^(true|false|null|none|yes|no|on|off|required|optional)$/i.test(v))
        return true;
    if (v.startsWith("$") || v.startsWith("{{") || v.startsWith("\\(")) return true;
    // A value that only names another variable or file (e.g. a CLI flag) is not a literal secret.
    return false;
}

export interface SecretFinding {
    what: string;
    line?: number;
}

/** Static cloud credential keys: never allowed, whatever the value. */
const staticKeyNames =
    /^(accesskey|secretkey|access_key|secret_key|aws_access_key_id|aws_secret_access_key)$/i;

/**
 * Plain secrets in a text (user data, a file it writes, a ConfigMap value): PEM private keys,
 * storage account keys, AWS access keys, `password = "literal"` (TOML/INI/YAML/env styles) where
 * the value is not a `$env{...}`-style reference. Returns one finding per line.
 */
export function findSecrets(text: string): SecretFinding[] {
    const findings: SecretFinding[] = [];
    const lines = text.split(/\r?\n/);
    lines.forEach((raw, i) => {
        const line = raw.trim();
        const at = i + 1;
        if (line === "" || (line.startsWith("#") && !/-----BEGIN/.test(line))) return;
        if (/-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----/.test(line)) {
            findings.push({ what: "a PEM private key", line: at });
            return;
        }
        if (/AccountKey=(?!\$|;|$)/i.test(line)) {
            findings.push({ what: "a storage AccountKey", line: at });
            return;
        }
        if (/\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/.test(line)) {
            findings.push({ what: "an AWS access key id", line: at });
            return;
        }
        if (/[?&]sig=[A-Za-z0-9%+/=]{16,}/.test(line)) {
            findings.push({ what: "a SAS token", line: at });
            return;
        }
        // key = value | key: value | KEY=value | "key": "value"
        const m =
            /^(?:export\s+|-\s+)?(?:"([^"]+)"|'([^']+)'|([A-Za-z_][A-Za-z0-9_.-]*))\s*(=|:)\s*(.*)$/.exec(
                line,
            );
        if (!m) return;
        const key = m[1] ?? m[2] ?? m[3];
        const sep = m[4];
        const rest = m[5];
        const value = stripValue(rest);
        // Shell: `FOO=bar cmd` or `local x=...` are not config; only whole-line assignments count.
        if (sep === ":" && /^[|>]/.test(value)) return;
        if (staticKeyNames.test(key) && value !== "" && !/^\$env\{/.test(value)) {
            findings.push({ what: `a static cloud key (${key})`, line: at });
            return;
        }
        if (isSecretKeyName(key) && !isPlaceholder(value))
            findings.push({ what: `a literal value for ${key}`, line: at });
    });
    return findings;
}

function stripValue(rest: string): string {
    let v = rest.trim().replace(/,$/, "").trim();
    // Drop a trailing comment after a quoted value.
    const q = /^(["'])(.*?)\1\s*(#.*)?$/.exec(v);
    if (q) return q[2];
    v = v.replace(/\s+#.*$/, "");
    return v;
}
