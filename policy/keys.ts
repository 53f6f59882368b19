// IS key material: every IS config of the stack (a node's user data or a ConfigMap's
// deployment.toml) sets its own [encryption] key and [keystore.primary] through $env{}
// placeholders, never what every IS download ships. product-is v7.1.0 default.json:
// `encryption.key = 03BAFEB27A8E871CAD83C5CD4E771DAB`, `keystore.primary.file_name =
// wso2carbon.p12`; carbon-kernel v4.10.42 default.json: password/alias `wso2carbon`,
// [keystore.internal] and [keystore.tls] default to the primary keystore. With those, anyone can
// forge the cluster's tokens and decrypt what it stores.
import * as TOML from "@iarna/toml";
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { T as K8S } from "./kubernetes";
import {
    Props,
    about,
    deploymentTomlFromUserData,
    forTypes,
    isObject,
    userDataOf,
    userDataPaths,
} from "./util";

/** IS 7.1.0's shipped encryption key (product-is v7.1.0 default.json). */
export const shippedEncryptionKey = "03BAFEB27A8E871CAD83C5CD4E771DAB";
/** The keystore files in every IS download (7.x: .p12; before: .jks). */
const shippedKeystore = /^wso2carbon\.(p12|jks)$/i;

/** Exactly one $env{NAME} placeholder: IS resolves it at start from the node's secrets. */
const isEnvPlaceholder = (v: unknown) => typeof v === "string" && /^\$env\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(v);

/** What is wrong with one deployment.toml's key material (empty: nothing). */
export function keyMaterialProblems(toml: string): string[] {
    let doc: Props;
    try {
        doc = TOML.parse(toml) as Props;
    } catch {
        return ["it does not parse as TOML"];
    }
    const problems: string[] = [];
    const encryption = isObject(doc.encryption) ? doc.encryption : {};
    const key = encryption.key;
    if (key === undefined)
        problems.push(
            `[encryption] key is not set: IS uses the key shipped in every download (${shippedEncryptionKey})`,
        );
    else if (String(key).toUpperCase() === shippedEncryptionKey)
        problems.push("[encryption] key is the key shipped in every IS download");
    else if (!isEnvPlaceholder(key))
        problems.push("[encryption] key is a literal value: feed it from a secret through $env{...}");
    const keystore = isObject(doc.keystore) ? doc.keystore : {};
    const primary = isObject(keystore.primary) ? keystore.primary : undefined;
    if (!primary || primary.file_name === undefined)
        problems.push("[keystore.primary] file_name is not set: IS signs with the shipped wso2carbon.p12");
    for (const name of ["primary", "internal", "tls"]) {
        const ks = isObject(keystore[name]) ? keystore[name] : undefined;
        if (!ks) continue;
        if (typeof ks.file_name === "string" && shippedKeystore.test(ks.file_name))
            problems.push(
                `[keystore.${name}] file_name is ${ks.file_name}, the keystore shipped in every IS download`,
            );
        for (const field of ["password", "key_password"]) {
            const v = ks[field];
            if (v !== undefined && !isEnvPlaceholder(v))
                problems.push(
                    `[keystore.${name}] ${field} is a literal value: feed it from a secret through $env{...}`,
                );
        }
    }
    return problems;
}

export const ownKeyMaterial: ResourceValidationPolicy = {
    ...about("wso2is-own-key-material", "mandatory", "critical", "security secrets wso2is"),
    description:
        "Every IS config (node user data, ConfigMap deployment.toml) sets its own [encryption] key and [keystore.primary] through $env{...}, never the encryption key or wso2carbon keystore shipped in every IS download.",
    validateResource: forTypes([...Object.keys(userDataPaths), K8S.configMap], (props, args, report) => {
        const tomls: { at: string; toml: string }[] = [];
        if (args.type === K8S.configMap) {
            const data = isObject(props.data) ? props.data : {};
            if (typeof data["deployment.toml"] === "string")
                tomls.push({ at: 'data["deployment.toml"]', toml: data["deployment.toml"] });
        } else {
            for (const u of userDataOf(args.type, props)) {
                const toml = deploymentTomlFromUserData(u.text);
                if (toml !== undefined) tomls.push({ at: `${u.at} -> deployment.toml`, toml });
            }
        }
        if (tomls.length === 0) return args.notApplicable("no deployment.toml here");
        for (const t of tomls) for (const p of keyMaterialProblems(t.toml)) report(`${t.at}: ${p}.`);
    }),
};

export const keyPolicies = [ownKeyMaterial];
