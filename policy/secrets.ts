// Secrets in text: key names that hold one, $env{...} placeholders, and literal credentials
// (ConfigMaps, ECS environments, user data).
// Key names that hold a secret, and identifier-like endings that make a key not one
// (secretArn, passwordLength, disablePasswordAuthentication, WSO2_DB_PASSWORD_FILE,
// SECRET_FETCH_RETRIES...).
const secretKeyWords =
    /(password|passwd|passphrase|secret|token|credential|accesskey|access_key|secretkey|secret_key|accountkey|account_key|apikey|api_key|privatekey|private_key|connectionstring|connection_string|sas)/i;
const notSecretEnding =
    /(id|ids|arn|name|names|ref|path|file|env|url|uri|length|count|enabled|type|source|authentication|auth|policy|policies|ttl|timeout|retries|delay|expiry|expiration|rotation|version|required|header|keyref)$/i;

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
