// Kubernetes policies: ConfigMaps hold no secrets; IS workloads run 2+ replicas behind a
// PodDisruptionBudget; every container has probes, requests and limits, no privilege and a
// non-root user. Matched by @pulumi/kubernetes type token; props follow the Kubernetes API.
import type {
    PolicyResource,
    ReportViolation,
    ResourceValidation,
    ResourceValidationPolicy,
    StackValidationPolicy,
} from "@pulumi/policy";
import { configOf } from "./config";
import { findSecrets, isPlaceholder, isSecretKeyName } from "./secrets";
import { Props, about, asArray, forTypes, isObject, label, ofType } from "./util";

export const T = {
    configMap: "kubernetes:core/v1:ConfigMap",
    pod: "kubernetes:core/v1:Pod",
    deployment: "kubernetes:apps/v1:Deployment",
    statefulSet: "kubernetes:apps/v1:StatefulSet",
    daemonSet: "kubernetes:apps/v1:DaemonSet",
    replicaSet: "kubernetes:apps/v1:ReplicaSet",
    job: "kubernetes:batch/v1:Job",
    cronJob: "kubernetes:batch/v1:CronJob",
    pdb: "kubernetes:policy/v1:PodDisruptionBudget",
} as const;

/** Types that carry a pod template, and those that run long (probes, replicas). */
export const podTypes: string[] = [
    T.pod,
    T.deployment,
    T.statefulSet,
    T.daemonSet,
    T.replicaSet,
    T.job,
    T.cronJob,
];
export const serviceTypes: string[] = [T.deployment, T.statefulSet, T.daemonSet, T.replicaSet, T.pod];

/** The pod spec of a workload (Pod, template, or CronJob's job template). */
export function podSpecOf(type: string, props: Props): Props | undefined {
    const spec = isObject(props.spec) ? props.spec : undefined;
    if (!spec) return undefined;
    if (type === T.pod) return spec;
    if (type === T.cronJob) {
        const job =
            isObject(spec.jobTemplate) && isObject(spec.jobTemplate.spec) ? spec.jobTemplate.spec : undefined;
        return job && isObject(job.template) && isObject(job.template.spec) ? job.template.spec : undefined;
    }
    return isObject(spec.template) && isObject(spec.template.spec) ? spec.template.spec : undefined;
}

/** Labels of the pods a workload creates. */
export function podLabelsOf(type: string, props: Props): Record<string, string> {
    const spec = isObject(props.spec) ? props.spec : {};
    const meta =
        type === T.pod ? props.metadata : isObject(spec.template) ? spec.template.metadata : undefined;
    return isObject(meta) && isObject(meta.labels) ? { ...meta.labels } : {};
}

interface Container {
    kind: "container" | "initContainer";
    c: Props;
}

/** A validation of each workload's pod spec and its containers; a workload without one passes. */
function forPods(
    types: string[],
    validate: (pod: Props, containers: Container[], report: ReportViolation) => void,
): ResourceValidation {
    return forTypes(types, (props, args, report) => {
        const pod = podSpecOf(args.type, props);
        if (pod) validate(pod, containersOf(pod), report);
    });
}

function containersOf(pod: Props): Container[] {
    return [
        ...asArray<Props>(pod.initContainers)
            .filter(isObject)
            .map((c) => ({ kind: "initContainer" as const, c })),
        ...asArray<Props>(pod.containers)
            .filter(isObject)
            .map((c) => ({ kind: "container" as const, c })),
    ];
}

const nameOf = (x: Container) => `${x.kind} '${x.c.name ?? "?"}'`;

// ---------------------------------------------------------------------------------------------

export const configMapNoSecrets: ResourceValidationPolicy = {
    ...about("k8s-configmap-no-secrets", "mandatory", "critical", "kubernetes security secrets"),
    description:
        "ConfigMaps hold no secrets: no key named like a password/secret/token with a literal value, and no value that looks like a credential ($env{...} placeholders are fine). Secrets go in a Secret.",
    validateResource: forTypes([T.configMap], (props, _args, report) => {
        for (const field of ["data", "binaryData"]) {
            const data = isObject(props[field]) ? props[field] : {};
            for (const [key, raw] of Object.entries(data)) {
                let value = typeof raw === "string" ? raw : String(raw ?? "");
                if (field === "binaryData") value = Buffer.from(value, "base64").toString("utf8");
                if (isSecretKeyName(key) && !value.includes("\n") && !isPlaceholder(value)) {
                    report(
                        `${field}["${key}"] is named like a secret and holds a literal value: move it to a Secret.`,
                    );
                    continue;
                }
                for (const f of findSecrets(value))
                    report(
                        `${field}["${key}"] line ${f.line}: ${f.what}; use a $env{...} placeholder fed from a Secret.`,
                    );
            }
        }
    }),
};

export const workloadProbes: ResourceValidationPolicy = {
    ...about("k8s-probes", "advisory", "medium", "kubernetes availability"),
    description:
        "Every long-running container has a startupProbe, a readinessProbe (traffic only to a ready IS) and a livenessProbe.",
    validateResource: forPods(serviceTypes, (pod, containers, report) => {
        for (const x of containers.filter((y) => y.kind === "container")) {
            const missing = ["startupProbe", "readinessProbe", "livenessProbe"].filter(
                (p) => !isObject(x.c[p]),
            );
            if (missing.length > 0) report(`${nameOf(x)} has no ${missing.join(", ")}.`);
        }
    }),
};

export const workloadResources: ResourceValidationPolicy = {
    ...about("k8s-resources", "advisory", "medium", "kubernetes availability cost"),
    description: "Every container (init containers too) sets CPU and memory requests and limits.",
    validateResource: forPods(podTypes, (pod, containers, report) => {
        for (const x of containers) {
            const r = isObject(x.c.resources) ? x.c.resources : {};
            const missing: string[] = [];
            for (const kind of ["requests", "limits"]) {
                const set = isObject(r[kind]) ? r[kind] : {};
                for (const res of ["cpu", "memory"])
                    if (set[res] === undefined || set[res] === null || set[res] === "")
                        missing.push(`${kind}.${res}`);
            }
            if (missing.length > 0) report(`${nameOf(x)} has no resources ${missing.join(", ")}.`);
        }
    }),
};

export const noPrivilegeEscalation: ResourceValidationPolicy = {
    ...about("k8s-no-privilege", "mandatory", "high", "kubernetes security"),
    description:
        "No container is privileged, and every container sets allowPrivilegeEscalation: false (the default is true).",
    validateResource: forPods(podTypes, (pod, containers, report) => {
        if (pod.hostNetwork === true || pod.hostPID === true || pod.hostIPC === true)
            report("the pod shares the node's network, PID or IPC namespace.");
        for (const x of containers) {
            const sc = isObject(x.c.securityContext) ? x.c.securityContext : {};
            if (sc.privileged === true) report(`${nameOf(x)} is privileged.`);
            if (sc.allowPrivilegeEscalation !== false)
                report(`${nameOf(x)} does not set securityContext.allowPrivilegeEscalation: false.`);
        }
    }),
};

export const runAsNonRoot: ResourceValidationPolicy = {
    ...about("k8s-run-as-non-root", "mandatory", "high", "kubernetes security"),
    description:
        "Every container runs as non-root (runAsNonRoot: true on the container or the pod, and no runAsUser 0).",
    validateResource: forPods(podTypes, (pod, containers, report) => {
        const podSc = isObject(pod.securityContext) ? pod.securityContext : {};
        for (const x of containers) {
            const sc = isObject(x.c.securityContext) ? x.c.securityContext : {};
            const nonRoot = sc.runAsNonRoot ?? podSc.runAsNonRoot;
            const user = sc.runAsUser ?? podSc.runAsUser;
            if (nonRoot !== true) report(`${nameOf(x)} does not run with runAsNonRoot: true.`);
            else if (user === 0 || user === "0") report(`${nameOf(x)} sets runAsUser 0 (root).`);
        }
    }),
};

// ---------------------------------------------------------------------------------------------
// IS workloads, replicas and PodDisruptionBudgets (stack).

/** ConfigMap names (namespace/name) that hold a deployment.toml. */
export function deploymentTomlConfigMaps(resources: PolicyResource[]): Set<string> {
    const names = new Set<string>();
    for (const cm of ofType(resources, T.configMap)) {
        const data = isObject(cm.props.data) ? cm.props.data : {};
        if (typeof data["deployment.toml"] !== "string") continue;
        const meta = isObject(cm.props.metadata) ? cm.props.metadata : {};
        names.add(`${meta.namespace ?? "default"}/${meta.name ?? cm.name}`);
    }
    return names;
}

export const isImage = /(^|\/)(wso2is|wso2-is|identity-server)([:@]|$)/i;

/** Deployments/StatefulSets that run WSO2 IS: an IS image, or a volume from a ConfigMap holding deployment.toml. */
export function isWorkloads(resources: PolicyResource[]): PolicyResource[] {
    const tomlMaps = deploymentTomlConfigMaps(resources);
    return ofType(resources, T.deployment, T.statefulSet).filter((w) => {
        const pod = podSpecOf(w.type, w.props);
        if (!pod) return false;
        const ns = (isObject(w.props.metadata) ? w.props.metadata.namespace : undefined) ?? "default";
        const mountsToml = asArray<Props>(pod.volumes).some(
            (v) => isObject(v) && isObject(v.configMap) && tomlMaps.has(`${ns}/${v.configMap.name}`),
        );
        const runsIs = asArray<Props>(pod.containers).some(
            (c) => isObject(c) && typeof c.image === "string" && isImage.test(c.image.split("/").pop() ?? ""),
        );
        return mountsToml || runsIs;
    });
}

/** Does a label selector (matchLabels + matchExpressions) select these labels? */
export function selects(selector: unknown, labels: Record<string, string>): boolean {
    if (!isObject(selector)) return false;
    const ml = isObject(selector.matchLabels) ? selector.matchLabels : {};
    const exprs = asArray<Props>(selector.matchExpressions).filter(isObject);
    if (Object.keys(ml).length === 0 && exprs.length === 0) return true;
    for (const [k, v] of Object.entries(ml)) if (labels[k] !== v) return false;
    for (const e of exprs) {
        const has = Object.prototype.hasOwnProperty.call(labels, e.key);
        const values = asArray<string>(e.values);
        switch (e.operator) {
            case "In":
                if (!has || !values.includes(labels[e.key])) return false;
                break;
            case "NotIn":
                if (has && values.includes(labels[e.key])) return false;
                break;
            case "Exists":
                if (!has) return false;
                break;
            case "DoesNotExist":
                if (has) return false;
                break;
            default:
                return false;
        }
    }
    return true;
}

export function replicasOf(w: PolicyResource): number {
    const spec = isObject(w.props.spec) ? w.props.spec : {};
    return spec.replicas === undefined || spec.replicas === null ? 1 : Number(spec.replicas);
}

export const replicasAndPdb: StackValidationPolicy = {
    ...about("k8s-replicas-and-pdb", "advisory", "high", "kubernetes availability"),
    description:
        "Each IS Deployment/StatefulSet runs at least minReplicas (default 2) pods and has a PodDisruptionBudget that selects them and lets a drain proceed one pod at a time.",
    configSchema: {
        properties: {
            minReplicas: {
                type: "integer",
                minimum: 1,
                default: 2,
                description: "Minimum replicas of an IS workload.",
            },
        },
    },
    validateStack: (args, report) => {
        const { minReplicas } = configOf(args, { minReplicas: 2 });
        const workloads = isWorkloads(args.resources);
        if (workloads.length === 0) return args.notApplicable("no IS Deployment or StatefulSet in the stack");
        const pdbs = ofType(args.resources, T.pdb);
        for (const w of workloads) {
            const replicas = replicasOf(w);
            if (replicas < minReplicas)
                report(
                    `${label(w)} runs ${replicas} replica(s): IS needs at least ${minReplicas} for HA.`,
                    w.urn,
                );
            const ns = (isObject(w.props.metadata) ? w.props.metadata.namespace : undefined) ?? "default";
            const labels = podLabelsOf(w.type, w.props);
            const mine = pdbs.filter(
                (p) =>
                    ((isObject(p.props.metadata) ? p.props.metadata.namespace : undefined) ?? "default") ===
                        ns &&
                    isObject(p.props.spec) &&
                    selects(p.props.spec.selector, labels),
            );
            if (mine.length === 0) {
                report(
                    `${label(w)} has no PodDisruptionBudget selecting its pods: a node drain may stop every IS pod at once.`,
                    w.urn,
                );
                continue;
            }
            for (const p of mine) {
                const spec = p.props.spec as Props;
                const maxU = spec.maxUnavailable;
                const minA = spec.minAvailable;
                if (maxU === 0 || maxU === "0" || maxU === "0%")
                    report(
                        `${label(p)} has maxUnavailable 0: node drains and upgrades can never proceed.`,
                        p.urn,
                    );
                if (typeof minA === "number" && minA >= replicas)
                    report(
                        `${label(p)} has minAvailable ${minA} with ${replicas} replicas: node drains can never proceed.`,
                        p.urn,
                    );
                if (minA === "100%")
                    report(`${label(p)} has minAvailable 100%: node drains can never proceed.`, p.urn);
            }
        }
    },
};

export const kubernetesPolicies = [
    configMapNoSecrets,
    workloadProbes,
    workloadResources,
    noPrivilegeEscalation,
    runAsNonRoot,
    replicasAndPdb,
];
