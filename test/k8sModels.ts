// Schema validation of rendered Kubernetes objects: kubernetes-models (the API's OpenAPI
// schemas) for built-in kinds, @kubernetes-models/traefik for Traefik's CRDs, and the Secrets
// Store CSI driver's own CRD schema (v1.6.0, test/fixtures) for the SecretProviderClass.
import Ajv from "ajv";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";

const spcCrd = YAML.parse(
    fs.readFileSync(
        path.resolve(__dirname, "fixtures/secrets-store-csi-v1.6.0-secretproviderclasses.yaml"),
        "utf8",
    ),
);
const spcSchema = spcCrd.spec.versions.find((v: { name: string }) => v.name === "v1").schema.openAPIV3Schema;
const validateSpc = new Ajv({ strict: false, allErrors: true }).compile(spcSchema);

type Model = new (data: unknown) => { validate(): void };

function modelFor(apiVersion: string, kind: string): Model {
    const group = apiVersion.split("/")[0];
    const pkg = group.startsWith("traefik.io")
        ? `@kubernetes-models/traefik/${apiVersion}`
        : `kubernetes-models/${apiVersion}`;
    const model = (require(pkg) as Record<string, Model>)[kind];
    if (!model) throw new Error(`no model for ${apiVersion} ${kind}`);
    return model;
}

/**
 * Throws when `obj` is not a valid object of its kind. Secret values shown as "[secret]" by the
 * synth are validated as empty maps (their keys are Pulumi secrets).
 */
export function validateObject(obj: Record<string, any>): void {
    const o = { ...obj };
    if (o.kind === "Secret") for (const f of ["data", "stringData"]) if (o[f] === "[secret]") o[f] = {};
    if (o.apiVersion === "secrets-store.csi.x-k8s.io/v1" && o.kind === "SecretProviderClass") {
        if (!validateSpc(o)) throw new Error(`SecretProviderClass: ${JSON.stringify(validateSpc.errors)}`);
        return;
    }
    new (modelFor(String(o.apiVersion), String(o.kind)))(o).validate();
}

/** Pulumi's secret wrapper (as the mock engine records inputs) replaced by the value. */
export function unwrapSecrets(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(unwrapSecrets);
    if (typeof v !== "object" || v === null) return v;
    const o = v as Record<string, unknown>;
    if (o["4dabf18193072939515e22adb298388d"] === "1b47061264138c4ac30d75fd1eb44270")
        return unwrapSecrets(o.value);
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, unwrapSecrets(x)]));
}
