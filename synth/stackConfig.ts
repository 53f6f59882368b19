// Stack config the way the Pulumi CLI hands it to a program: the project's declared defaults
// (Pulumi.yaml `config:`), overridden by the stack file (Pulumi.<stack>.yaml), every value a
// string. Secure values cannot be decrypted offline: they become the placeholder
// `[secret:<key>]` and are passed on as secret keys. Pure file reading, no Pulumi imports.
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";

/** A problem with the project or stack files: printed alone, exit 1. */
export class StackFileError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "StackFileError";
    }
}

export interface StackConfig {
    project: string;
    stack: string;
    /** Full key (`namespace:name`) -> the string the program sees. */
    config: Record<string, string>;
    /** Keys whose value was `secure` (or held a secure value) in the stack file. */
    secretKeys: string[];
    /** The placeholders standing in for secure values; none may reach a written file. */
    placeholders: string[];
    /** Things the offline run cannot reproduce (ESC environments), for stderr. */
    notes: string[];
}

export const secretPlaceholder = (key: string) => `[secret:${key}]`;

/** The stack names the project dir has files for (Pulumi.<stack>.yaml). */
export function listStacks(projectDir: string): string[] {
    const dir = stackConfigDir(projectDir, readProject(projectDir).doc);
    if (!fs.existsSync(dir)) return [];
    return fs
        .readdirSync(dir)
        .map((f) => /^Pulumi\.(.+)\.ya?ml$/.exec(f)?.[1])
        .filter((s): s is string => s !== undefined)
        .sort();
}

export function loadStackConfig(projectDir: string, stack: string): StackConfig {
    const { doc, project } = readProject(projectDir);
    const dir = stackConfigDir(projectDir, doc);
    const file = ["yaml", "yml"]
        .map((ext) => path.join(dir, `Pulumi.${stack}.${ext}`))
        .find((f) => fs.existsSync(f));
    if (!file) {
        const known = listStacks(projectDir);
        throw new StackFileError(
            `no stack file Pulumi.${stack}.yaml in ${dir === projectDir ? "the project directory" : path.relative(projectDir, dir) || "."}` +
                ` (stacks with a file: ${known.length > 0 ? known.join(", ") : "none"})`,
        );
    }

    const config: Record<string, string> = {};
    const secretKeys = new Set<string>();
    const placeholders: string[] = [];
    const notes: string[] = [];
    const fullKey = (key: string) => (key.includes(":") ? key : `${project}:${key}`);

    // 1. Project defaults (or `value:` for structured project values).
    const declared = doc.get("config", true);
    if (YAML.isMap(declared)) {
        for (const pair of declared.items) {
            const key = fullKey(String(YAML.isScalar(pair.key) ? pair.key.value : pair.key));
            const spec = pair.value;
            if (YAML.isMap(spec)) {
                for (const field of ["value", "default"]) {
                    if (spec.has(field)) {
                        config[key] = configString(spec.get(field, true) as YAML.Node | null);
                        break;
                    }
                }
            } else {
                config[key] = configString(spec as YAML.Node | null);
            }
        }
    }

    // 2. The stack's values override them.
    const stackDoc = parseYaml(file, `Pulumi.${stack}.yaml`);
    const values = stackDoc.get("config", true);
    if (values !== undefined && values !== null && !YAML.isMap(values)) {
        throw new StackFileError(`Pulumi.${stack}.yaml: config must be a map of key: value`);
    }
    if (YAML.isMap(values)) {
        for (const pair of values.items) {
            const key = fullKey(String(YAML.isScalar(pair.key) ? pair.key.value : pair.key));
            const node = pair.value as YAML.Node | null;
            const js = node === null ? null : node.toJSON();
            if (isSecure(js)) {
                config[key] = secretPlaceholder(key);
                placeholders.push(config[key]);
                secretKeys.add(key);
            } else if (containsSecure(js)) {
                // A structured value with secure leaves: each leaf gets its own placeholder.
                const replaced = replaceSecure(js, key, placeholders);
                config[key] = JSON.stringify(replaced);
                secretKeys.add(key);
            } else {
                config[key] = configString(node);
            }
        }
    }

    const environment = stackDoc.get("environment");
    if (environment !== undefined && environment !== null) {
        notes.push(
            `Pulumi.${stack}.yaml imports ESC environments (${JSON.stringify(stackDoc.toJSON().environment)}); they are not resolved offline`,
        );
    }
    return { project, stack, config, secretKeys: [...secretKeys].sort(), placeholders, notes };
}

function readProject(projectDir: string): { doc: YAML.Document; project: string } {
    const file = ["Pulumi.yaml", "Pulumi.yml"]
        .map((f) => path.join(projectDir, f))
        .find((f) => fs.existsSync(f));
    if (!file) throw new StackFileError(`no Pulumi.yaml in the project directory ${projectDir}`);
    const doc = parseYaml(file, "Pulumi.yaml");
    const project = doc.get("name");
    if (typeof project !== "string" || project.length === 0)
        throw new StackFileError("Pulumi.yaml has no project name (name:)");
    return { doc, project };
}

function stackConfigDir(projectDir: string, doc: YAML.Document): string {
    const dir = doc.get("stackConfigDir");
    return typeof dir === "string" && dir.length > 0 ? path.resolve(projectDir, dir) : projectDir;
}

function parseYaml(file: string, label: string): YAML.Document {
    const doc = YAML.parseDocument(fs.readFileSync(file, "utf8"));
    if (doc.errors.length > 0) throw new StackFileError(`${label}: ${doc.errors[0].message}`);
    return doc;
}

/**
 * The string a config value reaches the program as. Plain scalars keep their source text
 * (the CLI reads `isVersion: 7.10` as "7.10", not 7.1); quoted ones their value; lists and
 * maps become JSON.
 */
function configString(node: YAML.Node | null): string {
    if (node === null || node === undefined) return "";
    if (YAML.isScalar(node)) {
        if (node.value === null) return "";
        if (node.type === YAML.Scalar.PLAIN && typeof node.source === "string") return node.source;
        return String(node.value);
    }
    return JSON.stringify(node.toJSON());
}

function isSecure(v: unknown): boolean {
    return (
        typeof v === "object" &&
        v !== null &&
        !Array.isArray(v) &&
        Object.keys(v).length === 1 &&
        "secure" in v
    );
}

function containsSecure(v: unknown): boolean {
    if (isSecure(v)) return true;
    if (Array.isArray(v)) return v.some(containsSecure);
    if (typeof v === "object" && v !== null) return Object.values(v).some(containsSecure);
    return false;
}

function replaceSecure(v: unknown, at: string, placeholders: string[]): unknown {
    if (isSecure(v)) {
        const p = secretPlaceholder(at);
        placeholders.push(p);
        return p;
    }
    if (Array.isArray(v)) return v.map((x, i) => replaceSecure(x, `${at}[${i}]`, placeholders));
    if (typeof v === "object" && v !== null) {
        return Object.fromEntries(
            Object.entries(v).map(([k, x]) => [k, replaceSecure(x, `${at}.${k}`, placeholders)]),
        );
    }
    return v;
}
