// Keeping secrets out of synth's files: values under secret-looking keys become "[secret]",
// Pulumi secret values (the SDK's secret wrapper) become "[secret]", and every secret value
// known to the run (config placeholders, generated passwords, private keys) is scrubbed from
// all text written. Also: canonical JSON (sorted keys, 2-space indent, trailing newline).

export const redacted = "[secret]";

/** The SDK's marker for a serialized secret: { [sig]: secretSig, value }. */
const sigKey = "4dabf18193072939515e22adb298388d";
const secretSig = "1b47061264138c4ac30d75fd1eb44270";

export function isSecretWrapper(v: unknown): v is { value: unknown } {
    return typeof v === "object" && v !== null && (v as Record<string, unknown>)[sigKey] === secretSig;
}

// Words that make a key's value a secret, and identifier-like endings that make it not one
// (secretArn, keyName, kmsKeyId, passwordLength, disablePasswordAuthentication is a boolean).
// `token` only at the end: httpTokens = "required" is a setting, accessToken a secret.
const secretWords =
    /password|passwd|passphrase|secret|privatekey|private_key|token$|credential|kubeconfig|connectionstring|apikey|accesskey|accountkey|sharedkey/i;
const keyEnding = /key(?:pem)?$/i;
const identifierEnding =
    /(?:id|ids|arn|arns|name|names|ref|refs|version|versions|type|path|file|length|count|uri|url|enabled)$/i;
/**
 * Siblings that make an exact `key` a name (tags, selectors, secretKeyRef, volume items, an S3
 * object's key in its bucket), not a key.
 */
const keySiblings = ["value", "values", "operator", "path", "name", "effect", "propagateAtLaunch", "bucket"];

/** True when the value under `key` (in an object with keys `siblings`) must not be shown. */
export function isSecretKey(key: string, siblings: string[] = []): boolean {
    if (/^public/i.test(key)) return false;
    // Names of things, not keys to them (pod anti-affinity, discovery tags, table keys).
    if (/^(topologyKey|tagKey|hashKey|rangeKey|sortKey|partitionKey)$/i.test(key)) return false;
    if (key.toLowerCase() === "key") return !siblings.some((s) => keySiblings.includes(s));
    if (identifierEnding.test(key) && !keyEnding.test(key)) return false;
    return secretWords.test(key) || keyEnding.test(key);
}

/**
 * A deep copy with secrets redacted: secret wrappers, and strings/numbers under secret keys.
 * `{name: "DB_PASSWORD", value: "..."}` pairs (env vars) hide their value too.
 */
export function redactInputs(v: unknown): unknown {
    if (isSecretWrapper(v)) return redacted;
    if (Array.isArray(v)) return v.map(redactInputs);
    if (!isPlainObject(v)) return v;
    const keys = Object.keys(v);
    const out: Record<string, unknown> = {};
    const namedSecret = typeof v.name === "string" && isSecretKey(v.name) && "value" in v;
    for (const k of keys) {
        const x = v[k];
        const hide =
            (isSecretKey(
                k,
                keys.filter((s) => s !== k),
            ) ||
                (namedSecret && k === "value")) &&
            (typeof x === "string" || typeof x === "number" || isSecretWrapper(x));
        out[k] = hide ? redacted : redactInputs(x);
    }
    return out;
}

/**
 * Every string that is a secret value somewhere in `v`: inside secret wrappers, or under a key
 * that names a secret (password, privateKey, token...). A key that merely ends in "key" is
 * redacted when shown but its value is not scrubbed everywhere (it may be a plain word).
 */
export function collectSecretValues(v: unknown, into: Set<string>, underSecret = false): void {
    if (isSecretWrapper(v)) return collectSecretValues(v.value, into, true);
    if (typeof v === "string") {
        if (underSecret) into.add(v);
        return;
    }
    if (Array.isArray(v)) return v.forEach((x) => collectSecretValues(x, into, underSecret));
    if (!isPlainObject(v)) return;
    const keys = Object.keys(v);
    for (const k of keys) {
        // Only a scalar under a secret-sounding key is a secret; an object there (a Kubernetes
        // volume's `secret: {secretName, items}`) is described, not hidden.
        const scalar = typeof v[k] === "string" || typeof v[k] === "number";
        const named =
            scalar &&
            isSecretKey(
                k,
                keys.filter((s) => s !== k),
            ) &&
            secretWords.test(k);
        collectSecretValues(v[k], into, underSecret || named);
    }
}

/** Replaces every known secret value in text, also in its JSON-escaped form. */
export class Scrubber {
    private readonly needles: string[] = [];

    /** Values shorter than this are not scrubbed (they would match everywhere). */
    static readonly minLength = 8;

    constructor(secrets: Iterable<string>) {
        const set = new Set<string>();
        for (const s of secrets) {
            if (typeof s !== "string" || s.length < Scrubber.minLength || s === redacted) continue;
            set.add(s);
            set.add(JSON.stringify(s).slice(1, -1));
            // A multi-line secret (a PEM key) is also caught line by line.
            for (const line of s.split(/\r?\n/)) {
                if (line.length >= 16 && !/^-----(BEGIN|END) /.test(line)) set.add(line);
            }
            // And as the base64 that user-data and Kubernetes data carry.
            set.add(Buffer.from(s, "utf8").toString("base64").replace(/=+$/, ""));
        }
        // Longest first, so a secret containing another is replaced whole.
        this.needles = [...set]
            .filter((s) => s.length >= Scrubber.minLength)
            .sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
    }

    text(s: string): string {
        let out = s;
        for (const n of this.needles) if (out.includes(n)) out = out.split(n).join(redacted);
        return out;
    }

    /** A deep copy with every string scrubbed. */
    value<T>(v: T): T {
        if (typeof v === "string") return this.text(v) as unknown as T;
        if (Array.isArray(v)) return v.map((x) => this.value(x)) as unknown as T;
        if (isPlainObject(v))
            return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, this.value(x)])) as T;
        return v;
    }

    get size(): number {
        return this.needles.length;
    }
}

export function isPlainObject(v: unknown): v is Record<string, any> {
    if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
    const proto = Object.getPrototypeOf(v);
    return proto === Object.prototype || proto === null;
}

/**
 * JSON with sorted keys, 2-space indent and a trailing newline. Undefined object members are
 * dropped (as JSON does), undefined array items become null, Pulumi resources and other class
 * instances become a short marker, so output never depends on object identity.
 */
export function canonicalJson(v: unknown): string {
    return `${JSON.stringify(canonical(v, new Set()), null, 2)}\n`;
}

export function canonical(v: unknown, seen: Set<unknown> = new Set()): unknown {
    if (v === undefined) return undefined;
    if (v === null || typeof v === "string" || typeof v === "boolean") return v;
    if (typeof v === "number") return Number.isFinite(v) ? v : String(v);
    if (typeof v === "bigint") return v.toString();
    if (typeof v === "function" || typeof v === "symbol") return undefined;
    if (seen.has(v)) return "[circular]";
    seen.add(v);
    try {
        if (Array.isArray(v)) return v.map((x) => canonical(x, seen) ?? null);
        if (!isPlainObject(v)) {
            const r = v as Record<string, unknown>;
            if (r.__pulumiResource || r.__pulumiType)
                return `[resource ${String(r.__pulumiType ?? "")}::${String(r.__name ?? "")}]`;
            if (r.__pulumiOutput) return "[output]";
            if (Buffer.isBuffer(v)) return `[${v.length} bytes]`;
        }
        const out: Record<string, unknown> = {};
        for (const k of Object.keys(v as object).sort()) {
            const x = canonical((v as Record<string, unknown>)[k], seen);
            if (x !== undefined) out[k] = x;
        }
        return out;
    } finally {
        seen.delete(v);
    }
}
