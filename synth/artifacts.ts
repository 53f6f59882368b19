// What `synth` writes for a stack, as a map of relative path -> file text. Pure: it takes the
// recorded registrations, the resolved model and outputs, and knows nothing of Pulumi's
// runtime, so the same records always give the same bytes.
import * as zlib from "zlib";
import * as YAML from "yaml";
import type { RecordedResource } from "./mocks";
import {
    Scrubber,
    canonical,
    canonicalJson,
    isPlainObject,
    isSecretWrapper,
    redactInputs,
    redacted,
} from "./redact";
import { renderTopology } from "./topology";
import { cloudInitFiles, decodeUserData } from "../policy/userData";

export interface SynthInput {
    stack: string;
    records: RecordedResource[];
    /** The resolved cluster model (model.json). */
    model: unknown;
    /** Stack outputs, resolved; secret outputs already replaced. */
    outputs: Record<string, unknown>;
    /** Number of IS nodes the config asks for (the picture's node box). */
    nodeCount?: number;
    /** nginx.conf of the target, when it has one. */
    nginxConf?: string;
    scrubber: Scrubber;
}

/** Relative path -> content; paths use "/" and are sorted when written. */
export type FileTree = Map<string, string>;

export interface UserData {
    /** Dotted path of the input that holds it (userData, osProfile.customData, ...). */
    at: string[];
    text: string;
    base64: boolean;
}

export interface NodeArtifact {
    node: string;
    resource: RecordedResource;
    userData: UserData;
    files: { name: string; path: string; content: string }[];
}

/** Keys that carry VM user data (cloud-init), base64 or plain. */
const userDataKeys = new Set(["userData", "userDataBase64", "customData", "user_data"]);

export function buildArtifacts(input: SynthInput): FileTree {
    const { scrubber } = input;
    const files: FileTree = new Map();
    const records = sortRecords(input.records);

    // Nodes first: resources.json points at them.
    const nodes = nodeArtifacts(records);
    const marker = new Map<RecordedResource, Map<string, string>>();
    for (const n of nodes) {
        const dir = `nodes/${n.node}`;
        files.set(`${dir}/cloud-init.yaml`, scrubber.text(n.userData.text));
        for (const f of n.files) files.set(`${dir}/${f.name}`, scrubber.text(f.content));
        const m = marker.get(n.resource) ?? new Map<string, string>();
        m.set(
            n.userData.at.join("."),
            `[${n.userData.base64 ? "base64 " : ""}cloud-init, see ${dir}/cloud-init.yaml]`,
        );
        marker.set(n.resource, m);
    }

    // ECS task definitions: the containers, and the files their environment carries.
    for (const t of ecsTaskArtifacts(records)) {
        for (const [path, content] of t.files) files.set(path, scrubber.text(content));
        const m = marker.get(t.resource) ?? new Map<string, string>();
        m.set("containerDefinitions", `[container definitions, see ${t.definitionPath}]`);
        marker.set(t.resource, m);
    }

    const resources = records.map((r) => ({
        type: r.type,
        name: r.name,
        parent: parentRef(r, records),
        custom: r.custom,
        inputs: scrubber.value(redactInputs(replacePaths(r.inputs, marker.get(r)))),
    }));
    files.set("resources.json", canonicalJson(resources));
    files.set("model.json", canonicalJson(scrubber.value(canonical(input.model))));
    files.set("outputs.json", canonicalJson(scrubber.value(canonical(input.outputs))));

    if (input.nginxConf !== undefined) files.set("lb/nginx.conf", scrubber.text(input.nginxConf));
    const alb = albSummary(records);
    if (alb) files.set("lb/alb.json", canonicalJson(scrubber.value(redactInputs(alb))));
    for (const [name, value] of otherLoadBalancers(records))
        files.set(`lb/${name}.json`, canonicalJson(scrubber.value(redactInputs(value))));

    for (const [name, manifest] of kubernetesManifests(records))
        files.set(`k8s/${name}.yaml`, scrubber.text(manifest));

    files.set(
        "topology.dot",
        scrubber.text(renderTopology(input.stack, records, input.model, input.nodeCount)),
    );
    return files;
}

/** By type, then name, then parent URN: the order never depends on registration timing. */
export function sortRecords(records: RecordedResource[]): RecordedResource[] {
    const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
    return [...records].sort((a, b) => cmp(a.type, b.type) || cmp(a.name, b.name) || cmp(a.parent, b.parent));
}

/** The type part of a URN: `parentType$...$type`. */
function urnTypeChain(urn: string): string[] {
    const parts = urn.split("::");
    return parts.length >= 4 ? parts[2].split("$") : [];
}

function urnName(urn: string): string {
    return urn.split("::").slice(3).join("::");
}

/**
 * `<parentType>::<parentName>`, or "" for the stack's direct children. From the parent URN
 * when the engine recorded it; otherwise from the resource's own URN, whose type chain names
 * the parent's type (the parent is then the one component of that type).
 */
export function parentRef(r: RecordedResource, records: RecordedResource[]): string {
    if (r.parent) {
        const chain = urnTypeChain(r.parent);
        return chain.length > 0 ? `${chain[chain.length - 1]}::${urnName(r.parent)}` : "";
    }
    const chain = urnTypeChain(r.urn);
    if (chain.length < 2) return "";
    const parentType = chain[chain.length - 2];
    const candidates = records.filter((c) => c.type === parentType && c !== r);
    return candidates.length === 1 ? `${parentType}::${candidates[0].name}` : `${parentType}::?`;
}

// ---------------------------------------------------------------------------------------------
// Nodes: cloud-init user data of VM-ish resources, and the files it writes.

/** Every user-data value in a resource's inputs (any depth). */
export function findUserData(inputs: unknown, at: string[] = []): UserData[] {
    if (isSecretWrapper(inputs)) return findUserData(inputs.value, at);
    if (Array.isArray(inputs)) return inputs.flatMap((x, i) => findUserData(x, [...at, String(i)]));
    if (!isPlainObject(inputs)) return [];
    const found: UserData[] = [];
    for (const [k, v0] of Object.entries(inputs)) {
        const v = isSecretWrapper(v0) ? v0.value : v0;
        if (userDataKeys.has(k) && typeof v === "string") {
            const decoded = decodeUserData(v);
            if (decoded) found.push({ at: [...at, k], ...decoded });
        } else {
            found.push(...findUserData(v, [...at, k]));
        }
    }
    return found;
}

/** What the clouds accept as user data: bytes after base64 decoding (gzip counts compressed). */
const userDataLimits: [RegExp, number, string][] = [
    [/^aws:ec2\//, 16384, "EC2 accepts at most 16384 bytes of user data (raw, before base64)"],
    [/^azure-native:compute:/, 65535, "Azure accepts at most 65535 bytes of customData (decoded)"],
];

/** Warnings for user data the target cloud would refuse (too large). */
export function userDataWarnings(nodes: NodeArtifact[]): string[] {
    const warnings: string[] = [];
    for (const n of nodes) {
        const limit = userDataLimits.find(([re]) => re.test(n.resource.type));
        if (!limit) continue;
        const raw = findRawUserData(n.resource.inputs, n.userData.at);
        const size =
            raw === undefined
                ? Buffer.byteLength(n.userData.text)
                : n.userData.base64
                  ? Buffer.from(raw.replace(/\s+/g, ""), "base64").length
                  : Buffer.byteLength(raw);
        if (size > limit[1]) {
            const gz = zlib.gzipSync(Buffer.from(n.userData.text, "utf8"), { level: 9 }).length;
            warnings.push(
                `nodes/${n.node}: the user data of ${n.resource.type} ${n.resource.name} is ${size} bytes; ${limit[2]} (gzip -9 would make it ${gz})`,
            );
        }
    }
    return warnings;
}

function findRawUserData(inputs: unknown, at: string[]): string | undefined {
    let v: unknown = inputs;
    for (const k of at) {
        if (isSecretWrapper(v)) v = v.value;
        v = Array.isArray(v) ? v[Number(k)] : isPlainObject(v) ? v[k] : undefined;
    }
    if (isSecretWrapper(v)) v = v.value;
    return typeof v === "string" ? v : undefined;
}

export function nodeArtifacts(records: RecordedResource[]): NodeArtifact[] {
    const result: NodeArtifact[] = [];
    const used = new Set<string>();
    for (const r of sortRecords(records)) {
        for (const userData of findUserData(r.inputs)) {
            const writeFiles = cloudInitFiles(userData.text);
            const declared = nodeNameOf(writeFiles) ?? r.name;
            let node = safeName(declared);
            if (used.has(node)) node = safeName(`${declared}-${r.name}`);
            for (let i = 2; used.has(node); i++) node = safeName(`${declared}-${r.name}-${i}`);
            used.add(node);
            const names = new Set<string>(["cloud-init.yaml"]);
            const files = writeFiles.map((f) => {
                let name = safeName(f.path.split("/").pop() || "file");
                if (names.has(name)) name = safeName(f.path.replace(/^\/+/, "").replace(/\//g, "_"));
                names.add(name);
                return { name, path: f.path, content: f.content };
            });
            result.push({ node, resource: r, userData, files });
        }
    }
    return result;
}

/** NODE_NAME of the node's /etc/wso2is/node.env, if cloud-init writes one. */
function nodeNameOf(files: { path: string; content: string }[]): string | undefined {
    const env = files.find((f) => f.path === "/etc/wso2is/node.env");
    const m = env && /^NODE_NAME=(['"]?)([^'"\n]*)\1\s*$/m.exec(env.content);
    return m && m[2] ? m[2] : undefined;
}

function safeName(s: string): string {
    return s.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^[.-]+/, "") || "node";
}

/** A copy of `inputs` with the values at the given dotted paths replaced. */
function replacePaths(
    inputs: unknown,
    replacements: Map<string, string> | undefined,
    at: string[] = [],
): unknown {
    if (!replacements || replacements.size === 0) return inputs;
    const here = replacements.get(at.join("."));
    if (here !== undefined && at.length > 0) return here;
    // A secret stays wrapped (redaction hides it whole).
    if (isSecretWrapper(inputs)) return inputs;
    if (Array.isArray(inputs)) return inputs.map((x, i) => replacePaths(x, replacements, [...at, String(i)]));
    if (!isPlainObject(inputs)) return inputs;
    return Object.fromEntries(
        Object.entries(inputs).map(([k, v]) => [k, replacePaths(v, replacements, [...at, k])]),
    );
}

// ---------------------------------------------------------------------------------------------
// ECS task definitions.

export interface EcsTaskArtifact {
    resource: RecordedResource;
    definitionPath: string;
    /** Path -> content: the task definition (JSON) and each decoded `<NAME>_<EXT>_B64` file. */
    files: [string, string][];
}

/**
 * `DEPLOYMENT_TOML_B64` -> `deployment.toml`; `DB_INIT_SH_GZ_B64` -> `db-init.sh`, gzipped
 * (shown unpacked, so a script change is a readable diff).
 */
export function b64EnvFile(envName: string): { name: string; gzip: boolean } | undefined {
    const m = /^([A-Z0-9]+(?:_[A-Z0-9]+)*?)_([A-Z0-9]+)(_GZ)?_B64$/.exec(envName);
    return m
        ? { name: `${m[1].toLowerCase().replace(/_/g, "-")}.${m[2].toLowerCase()}`, gzip: !!m[3] }
        : undefined;
}

export function ecsTaskArtifacts(records: RecordedResource[]): EcsTaskArtifact[] {
    const out: EcsTaskArtifact[] = [];
    for (const r of sortRecords(records)) {
        if (r.type !== "aws:ecs/taskDefinition:TaskDefinition") continue;
        const raw = isSecretWrapper(r.inputs.containerDefinitions)
            ? r.inputs.containerDefinitions.value
            : r.inputs.containerDefinitions;
        if (typeof raw !== "string") continue;
        let containers: unknown;
        try {
            containers = JSON.parse(raw);
        } catch {
            continue;
        }
        if (!Array.isArray(containers)) continue;
        const dir = `ecs/${safeName(String(r.inputs.family ?? r.name))}`;
        const files: [string, string][] = [];
        const shown = containers.map((c: unknown) => {
            if (!isPlainObject(c) || !Array.isArray(c.environment)) return c;
            const environment = c.environment.map((e: unknown) => {
                if (!isPlainObject(e) || typeof e.name !== "string" || typeof e.value !== "string") return e;
                const file = b64EnvFile(e.name);
                if (!file) return e;
                const path = `${dir}/${safeName(String(c.name ?? "container"))}/${file.name}`;
                const bytes = Buffer.from(e.value, "base64");
                files.push([path, (file.gzip ? zlib.gunzipSync(bytes) : bytes).toString("utf8")]);
                return { ...e, value: `[${file.gzip ? "gzip, " : ""}base64, see ${path}]` };
            });
            return { ...c, environment };
        });
        const definition = {
            family: r.inputs.family,
            networkMode: r.inputs.networkMode,
            requiresCompatibilities: r.inputs.requiresCompatibilities,
            cpu: r.inputs.cpu,
            memory: r.inputs.memory,
            executionRoleArn: r.inputs.executionRoleArn,
            taskRoleArn: r.inputs.taskRoleArn,
            volumes: r.inputs.volumes,
            containerDefinitions: shown,
        };
        const definitionPath = `${dir}/task-definition.json`;
        files.push([definitionPath, canonicalJson(redactInputs(definition))]);
        out.push({ resource: r, definitionPath, files });
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Load balancers.

const T = {
    alb: "aws:lb/loadBalancer:LoadBalancer",
    listener: "aws:lb/listener:Listener",
    targetGroup: "aws:lb/targetGroup:TargetGroup",
} as const;

/** The AWS ALB(s), their listeners and target groups, from the recorded inputs. */
export function albSummary(records: RecordedResource[]): Record<string, unknown> | undefined {
    const albs = records.filter((r) => r.type === T.alb || r.type === "aws:alb/loadBalancer:LoadBalancer");
    if (albs.length === 0) return undefined;
    const listeners = records.filter((r) => r.type === T.listener || r.type === "aws:alb/listener:Listener");
    const groups = records.filter(
        (r) => r.type === T.targetGroup || r.type === "aws:alb/targetGroup:TargetGroup",
    );
    const groupName = (arn: unknown) => groups.find((g) => g.state.arn === arn)?.name ?? arn;
    const action = (a: Record<string, any>) => ({
        type: a.type,
        targetGroup: a.targetGroupArn !== undefined ? groupName(a.targetGroupArn) : undefined,
        forward: a.forward,
        redirect: a.redirect,
        fixedResponse: a.fixedResponse,
        order: a.order,
    });
    return {
        loadBalancers: albs.map((lb) => ({
            name: lb.name,
            type: lb.inputs.loadBalancerType ?? "application",
            internal: lb.inputs.internal ?? false,
            dnsName: lb.state.dnsName,
            subnets: lb.inputs.subnets,
            securityGroups: lb.inputs.securityGroups,
            idleTimeout: lb.inputs.idleTimeout,
            dropInvalidHeaderFields: lb.inputs.dropInvalidHeaderFields,
            deletionProtection: lb.inputs.enableDeletionProtection ?? false,
            accessLogs: lb.inputs.accessLogs,
            listeners: listeners
                .filter((l) => l.inputs.loadBalancerArn === lb.state.arn)
                .sort((a, b) => Number(a.inputs.port) - Number(b.inputs.port) || (a.name < b.name ? -1 : 1))
                .map((l) => ({
                    name: l.name,
                    port: l.inputs.port,
                    protocol: l.inputs.protocol,
                    sslPolicy: l.inputs.sslPolicy,
                    certificateArn: l.inputs.certificateArn,
                    actions: (Array.isArray(l.inputs.defaultActions) ? l.inputs.defaultActions : []).map(
                        action,
                    ),
                })),
        })),
        targetGroups: groups.map((g) => ({
            name: g.name,
            port: g.inputs.port,
            protocol: g.inputs.protocol,
            targetType: g.inputs.targetType,
            deregistrationDelay: g.inputs.deregistrationDelay,
            stickiness: g.inputs.stickiness,
            healthCheck: g.inputs.healthCheck,
        })),
    };
}

/** Other clouds' load balancers (Application Gateway, Azure LB): their inputs, one file each. */
export function otherLoadBalancers(records: RecordedResource[]): [string, unknown][] {
    const kinds: Record<string, string> = {
        "azure-native:network:ApplicationGateway": "application-gateway",
        "azure-native:network:LoadBalancer": "azure-lb",
    };
    return records
        .filter((r) => kinds[r.type] !== undefined)
        .map(
            (r) =>
                [
                    `${kinds[r.type]}-${safeName(r.name)}`,
                    { type: r.type, name: r.name, inputs: r.inputs },
                ] as [string, unknown],
        );
}

// ---------------------------------------------------------------------------------------------
// Kubernetes manifests.

/** `kubernetes:<group>/<version>:<Kind>` -> {apiVersion, kind, file prefix}; undefined for components. */
export function kubernetesKind(
    type: string,
): { apiVersion: string; kind: string; prefix: string } | undefined {
    const m = /^kubernetes:([^:]+)\/([^:/]+):([A-Za-z0-9]+)$/.exec(type);
    if (!m || /^(yaml|helm\.sh|kustomize)/.test(m[1])) return undefined;
    const [, group, version, kind] = m;
    return {
        apiVersion: group === "core" ? version : `${group}/${version}`,
        kind,
        prefix: `${group}-${version}-${kind}`,
    };
}

export function kubernetesManifests(records: RecordedResource[]): [string, string][] {
    const out: [string, string][] = [];
    const used = new Set<string>();
    for (const r of sortRecords(records)) {
        const k = kubernetesKind(r.type);
        if (!k || !r.custom) continue;
        const inputs = (redactInputs(r.inputs) ?? {}) as Record<string, unknown>;
        const metadata = isPlainObject(inputs.metadata) ? { ...inputs.metadata } : {};
        if (metadata.name === undefined) metadata.name = r.name;
        const kind = typeof inputs.kind === "string" ? inputs.kind : k.kind;
        const manifest: Record<string, unknown> = {
            apiVersion: typeof inputs.apiVersion === "string" ? inputs.apiVersion : k.apiVersion,
            kind,
            metadata: canonical(metadata),
        };
        for (const key of Object.keys(inputs).sort()) {
            if (key === "apiVersion" || key === "kind" || key === "metadata") continue;
            let value = inputs[key];
            // A Secret's values never leave the program, whatever their keys are called.
            if (kind === "Secret" && (key === "data" || key === "stringData") && isPlainObject(value)) {
                value = Object.fromEntries(Object.keys(value).map((x) => [x, redacted]));
            }
            manifest[key] = canonical(value);
        }
        let file = safeName(`${k.prefix}-${String(metadata.name)}`);
        if (used.has(file) && typeof metadata.namespace === "string")
            file = safeName(`${k.prefix}-${metadata.namespace}-${String(metadata.name)}`);
        for (let i = 2; used.has(file); i++) file = safeName(`${k.prefix}-${String(metadata.name)}-${i}`);
        used.add(file);
        out.push([file, YAML.stringify(manifest, { lineWidth: 0 })]);
    }
    return out;
}
