// Cross-cloud policies on the cluster as a whole: enough IS nodes, spread over zones, one
// shared database and one shared file system per cluster, every node rendered with the same
// membership scheme and database endpoints, and no plain secret in any node's user data.
// A "cluster" is the outermost wso2is:* component and everything below it; a stack without
// one is treated as a single cluster.
import type { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { T as AWS } from "./aws";
import { T as AZ } from "./azure";
import { T as ECS, containersOf } from "./ecs";
import { T as K8S, isWorkloads, podSpecOf, replicasOf } from "./kubernetes";
import { configOf } from "./config";
import { findSecrets } from "./secrets";
import {
    NodeConfig,
    Props,
    StackArgs,
    about,
    asArray,
    cloudInitFiles,
    deploymentTomlFromUserData,
    forTypes,
    isObject,
    label,
    matchesName,
    nodeConfig,
    ofType,
    userDataOf,
    userDataPaths,
} from "./util";

// ---------------------------------------------------------------------------------------------
// Clusters and their nodes.

export interface Cluster {
    /** The outermost wso2is component, or undefined for resources outside any. */
    root?: PolicyResource;
    resources: PolicyResource[];
}

const isComponent = (r: PolicyResource) => r.type.startsWith("wso2is:");

/** Resources grouped by their outermost wso2is:* component ancestor. */
export function clustersOf(resources: PolicyResource[]): Cluster[] {
    const byRoot = new Map<PolicyResource | undefined, PolicyResource[]>();
    for (const r of resources) {
        let root: PolicyResource | undefined;
        const seen = new Set<PolicyResource>();
        for (let p: PolicyResource | undefined = r; p && !seen.has(p); p = p.parent) {
            seen.add(p);
            if (isComponent(p)) root = p;
        }
        const list = byRoot.get(root) ?? [];
        list.push(r);
        byRoot.set(root, list);
    }
    return [...byRoot.entries()].map(([root, rs]) => ({ root, resources: rs }));
}

const clusterName = (c: Cluster) => (c.root ? label(c.root) : "the stack");

/** User data of a resource, decoded, and the deployment.toml it writes. */
function bootFiles(r: PolicyResource): { text: string; toml?: string }[] {
    return userDataOf(r.type, r.props).map((u) => ({
        text: u.text,
        toml: deploymentTomlFromUserData(u.text),
    }));
}

const writesToml = (r: PolicyResource) => bootFiles(r).some((b) => b.toml !== undefined);

const tagValues = (r: PolicyResource): string[] => {
    const tags = r.props.tags;
    if (isObject(tags)) return Object.entries(tags).flatMap(([k, v]) => [k, String(v)]);
    return asArray<Props>(tags)
        .filter(isObject)
        .flatMap((t) => [String(t.key), String(t.value)]);
};

/** An IS node VM: user data that writes deployment.toml, or a role tag naming it. */
const isNodeVm = (r: PolicyResource) =>
    writesToml(r) || tagValues(r).some((t) => /^(wso2is-node|is-node)$/i.test(t));

export interface NodeGroup {
    resource: PolicyResource;
    kind: "asg" | "instance" | "vm" | "vmss" | "workload" | "ecs-service";
    count: number;
}

/** The deployment.toml an ECS task definition hands to its config container (DEPLOYMENT_TOML_B64). */
export function tomlOfTaskDefinition(r: PolicyResource): string | undefined {
    for (const c of containersOf(r.props)) {
        for (const e of asArray<Props>(c.environment).filter(isObject)) {
            if (e.name === "DEPLOYMENT_TOML_B64" && typeof e.value === "string")
                return Buffer.from(e.value, "base64").toString("utf8");
        }
    }
    return undefined;
}

/** The IS node groups of a cluster: ASGs, EC2 instances, VMs, scale sets, Kubernetes workloads. */
export function nodeGroupsOf(c: Cluster, all: PolicyResource[]): NodeGroup[] {
    const rs = c.resources;
    const groups: NodeGroup[] = [];
    // ECS: the IS nodes are the service's tasks; its Auto Scaling group is only their capacity.
    const services = ofType(rs, ECS.service);
    for (const svc of services)
        groups.push({ resource: svc, kind: "ecs-service", count: Number(svc.props.desiredCount ?? 0) });
    const templates = ofType(rs, AWS.launchTemplate).filter(writesToml);
    for (const asg of services.length > 0 ? [] : ofType(rs, AWS.asg)) {
        const lt = isObject(asg.props.launchTemplate)
            ? asg.props.launchTemplate
            : isObject(asg.props.mixedInstancesPolicy)
              ? asg.props.mixedInstancesPolicy?.launchTemplate?.launchTemplateSpecification
              : undefined;
        const ref = isObject(lt)
            ? (lt.id ?? lt.launchTemplateId ?? lt.name ?? lt.launchTemplateName)
            : undefined;
        const matched = templates.some(
            (t) => typeof ref === "string" && (ref === t.props.id || matchesName(ref, t, t.props.name)),
        );
        const tagged = asArray<Props>(asg.props.tags).some((t) => isObject(t) && t.key === "wso2is-cluster");
        if (matched || tagged || templates.length > 0) {
            groups.push({
                resource: asg,
                kind: "asg",
                count: Number(asg.props.desiredCapacity ?? asg.props.minSize ?? 0),
            });
        }
    }
    for (const i of ofType(rs, AWS.instance).filter(isNodeVm))
        groups.push({ resource: i, kind: "instance", count: 1 });
    for (const vm of ofType(rs, AZ.vm).filter(isNodeVm)) groups.push({ resource: vm, kind: "vm", count: 1 });
    for (const s of ofType(rs, AZ.vmss).filter(isNodeVm)) {
        groups.push({
            resource: s,
            kind: "vmss",
            count: Number(isObject(s.props.sku) ? (s.props.sku.capacity ?? 0) : 0),
        });
    }
    const workloads = new Set(isWorkloads(all));
    for (const w of rs.filter((r) => workloads.has(r)))
        groups.push({ resource: w, kind: "workload", count: replicasOf(w) });
    return groups;
}

/** Clusters that run IS: a wso2is component, or any group of resources with IS nodes. */
function isClusters(resources: PolicyResource[]): { cluster: Cluster; nodes: NodeGroup[] }[] {
    return clustersOf(resources)
        .map((cluster) => ({ cluster, nodes: nodeGroupsOf(cluster, resources) }))
        .filter(
            (x) =>
                x.nodes.length > 0 ||
                (x.cluster.root !== undefined && /(Cluster|Workload)$/.test(x.cluster.root.type)),
        );
}

/** The IS clusters of a stack; "not applicable" when there are none. */
function requireClusters(args: StackArgs): { cluster: Cluster; nodes: NodeGroup[] }[] {
    const found = isClusters(args.resources);
    if (found.length === 0) return args.notApplicable("no WSO2 IS cluster in the stack");
    return found;
}

// ---------------------------------------------------------------------------------------------

export const minNodes: StackValidationPolicy = {
    ...about("wso2is-min-nodes", "advisory", "high", "availability"),
    description:
        "Each cluster runs at least minNodes IS nodes (default 2): ASG desired capacity, VMs that boot IS, or the IS workload's replicas.",
    configSchema: {
        properties: {
            minNodes: {
                type: "integer",
                minimum: 1,
                default: 2,
                description: "Minimum IS nodes per cluster.",
            },
        },
    },
    validateStack: (args, report) => {
        const { minNodes: min } = configOf(args, { minNodes: 2 });
        for (const { cluster, nodes } of requireClusters(args)) {
            const total = nodes.reduce((n, g) => n + g.count, 0);
            if (total < min) {
                const what =
                    nodes.length === 0
                        ? "no IS nodes were found"
                        : nodes.map((g) => `${label(g.resource)}: ${g.count}`).join(", ");
                report(
                    `${clusterName(cluster)} runs ${total} IS node(s) (${what}): a cluster needs at least ${min}.`,
                    cluster.root?.urn,
                );
            }
        }
    },
};

const zoneKeys = new Set(["topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone"]);

/** Does a pod spec spread its pods over zones (anti-affinity or a topology spread constraint)? */
export function spreadsOverZones(pod: Props): boolean {
    const anti =
        isObject(pod.affinity) && isObject(pod.affinity.podAntiAffinity) ? pod.affinity.podAntiAffinity : {};
    const terms = [
        ...asArray<Props>(anti.requiredDuringSchedulingIgnoredDuringExecution),
        ...asArray<Props>(anti.preferredDuringSchedulingIgnoredDuringExecution).map((p) =>
            isObject(p) ? p.podAffinityTerm : undefined,
        ),
    ].filter(isObject);
    if (terms.some((t) => zoneKeys.has(String(t.topologyKey)))) return true;
    return asArray<Props>(pod.topologySpreadConstraints).some(
        (t) => isObject(t) && zoneKeys.has(String(t.topologyKey)),
    );
}

export const zoneSpread: StackValidationPolicy = {
    ...about("wso2is-zone-spread", "advisory", "high", "availability"),
    description:
        "A cluster's IS nodes are spread over at least 2 availability zones: ASG subnets in 2+ zones, VMs in distinct zones, pods with zone anti-affinity / topology spread, or ECS tasks spread over attribute:ecs.availability-zone on capacity in 2+ zones.",
    configSchema: {
        properties: {
            minZones: {
                type: "integer",
                minimum: 1,
                default: 2,
                description: "Minimum zones the nodes span.",
            },
        },
    },
    validateStack: (args, report) => {
        const { minZones } = configOf(args, { minZones: 2 });
        const subnets = ofType(args.resources, "aws:ec2/subnet:Subnet");
        const zoneOfSubnet = (id: string) => {
            const s = subnets.find((x) => x.props.id === id);
            return s ? String(s.props.availabilityZone ?? s.props.availabilityZoneId ?? id) : id;
        };
        for (const { cluster, nodes } of requireClusters(args)) {
            const vmZones: string[] = [];
            let vmCount = 0;
            for (const g of nodes) {
                const p = g.resource.props;
                switch (g.kind) {
                    case "asg": {
                        const zones = new Set([
                            ...asArray<string>(p.availabilityZones),
                            ...asArray<string>(p.vpcZoneIdentifiers).map(zoneOfSubnet),
                        ]);
                        if (zones.size < minZones)
                            report(
                                `${label(g.resource)} spans ${zones.size} zone(s)/subnet(s): give it subnets in at least ${minZones} zones.`,
                                g.resource.urn,
                            );
                        break;
                    }
                    case "vmss": {
                        const zones = asArray<string>(p.zones);
                        if (zones.length < minZones)
                            report(
                                `${label(g.resource)} is in ${zones.length} zone(s): set zones to at least ${minZones}.`,
                                g.resource.urn,
                            );
                        break;
                    }
                    case "ecs-service": {
                        // Tasks spread over the zones of the capacity they are placed on.
                        const spread = asArray<Props>(p.orderedPlacementStrategies).some(
                            (x) =>
                                isObject(x) &&
                                x.type === "spread" &&
                                String(x.field) === "attribute:ecs.availability-zone",
                        );
                        if (!spread)
                            report(
                                `${label(g.resource)} has no placement strategy spread over attribute:ecs.availability-zone: its tasks may share a zone.`,
                                g.resource.urn,
                            );
                        const zones = new Set(
                            ofType(cluster.resources, AWS.asg).flatMap((a) => [
                                ...asArray<string>(a.props.availabilityZones),
                                ...asArray<string>(a.props.vpcZoneIdentifiers).map(zoneOfSubnet),
                            ]),
                        );
                        if (zones.size < minZones)
                            report(
                                `${label(g.resource)} runs on capacity in ${zones.size} zone(s)/subnet(s): give its Auto Scaling group subnets in at least ${minZones} zones.`,
                                g.resource.urn,
                            );
                        break;
                    }
                    case "instance":
                        vmCount++;
                        vmZones.push(
                            String(
                                p.availabilityZone ?? (p.subnetId ? zoneOfSubnet(String(p.subnetId)) : ""),
                            ),
                        );
                        break;
                    case "vm":
                        vmCount++;
                        vmZones.push(asArray<string>(p.zones)[0] ?? "");
                        break;
                    case "workload": {
                        const pod = podSpecOf(g.resource.type, p);
                        if (!pod || !spreadsOverZones(pod))
                            report(
                                `${label(g.resource)} has no pod anti-affinity or topology spread over topology.kubernetes.io/zone.`,
                                g.resource.urn,
                            );
                        break;
                    }
                }
            }
            if (vmCount > 0) {
                const distinct = new Set(vmZones.filter((z) => z !== ""));
                if (distinct.size < Math.min(minZones, vmCount) || vmZones.includes("")) {
                    report(
                        `${clusterName(cluster)}: its ${vmCount} IS VM(s) are in zones [${vmZones.map((z) => z || "none").join(", ")}]: place them in at least ${minZones} distinct zones.`,
                        cluster.root?.urn,
                    );
                }
            }
        }
    },
};

// ---------------------------------------------------------------------------------------------

const databaseTypes = [AWS.rdsInstance, AWS.rdsCluster, AZ.mysqlServer];

/** A primary database server (not a read replica, not an Aurora cluster member). */
function isPrimaryDatabase(r: PolicyResource): boolean {
    if (r.type === AWS.rdsInstance) return !r.props.replicateSourceDb && !r.props.clusterIdentifier;
    if (r.type === AZ.mysqlServer)
        return (
            !/replica/i.test(String(r.props.createMode ?? "")) &&
            !/replica/i.test(String(r.props.replicationRole ?? ""))
        );
    return true;
}

/** A shared file system: EFS, an Azure file share, or a ReadWriteMany claim. */
function isSharedFs(r: PolicyResource): boolean {
    if (r.type === AWS.efs || r.type === AZ.fileShare) return true;
    if (r.type === "kubernetes:core/v1:PersistentVolumeClaim") {
        return asArray<string>(isObject(r.props.spec) ? r.props.spec.accessModes : undefined).includes(
            "ReadWriteMany",
        );
    }
    return false;
}

export const singleDatabaseAndShare: StackValidationPolicy = {
    ...about("wso2is-single-database-and-share", "mandatory", "high", "availability correctness"),
    description:
        "Each cluster has exactly one shared database server and one shared file system (two would split the cluster's state). allowExternalSharedFs accepts a share the stack does not create (sharedFs: nfs).",
    configSchema: {
        properties: {
            allowExternalSharedFs: {
                type: "boolean",
                default: false,
                description: "The share is an existing NFS server (no file system resource in the stack).",
            },
        },
    },
    validateStack: (args, report) => {
        const { allowExternalSharedFs } = configOf(args, { allowExternalSharedFs: false });
        for (const { cluster } of requireClusters(args)) {
            const dbs = cluster.resources.filter(
                (r) => databaseTypes.includes(r.type as never) && isPrimaryDatabase(r),
            );
            const shares = cluster.resources.filter(isSharedFs);
            if (dbs.length !== 1)
                report(
                    `${clusterName(cluster)} has ${dbs.length} database servers${dbs.length ? ` (${dbs.map(label).join(", ")})` : ""}: every node must share exactly one.`,
                    cluster.root?.urn,
                );
            if (shares.length > 1 || (shares.length === 0 && !allowExternalSharedFs)) {
                report(
                    `${clusterName(cluster)} has ${shares.length} shared file systems${shares.length ? ` (${shares.map(label).join(", ")})` : ""}: every node must mount exactly one.`,
                    cluster.root?.urn,
                );
            }
        }
    },
};

/** Every deployment.toml of a cluster: VM/launch-template user data and ConfigMaps. */
export function clusterTomls(c: Cluster): { resource: PolicyResource; toml: string }[] {
    const out: { resource: PolicyResource; toml: string }[] = [];
    for (const r of c.resources) {
        if (r.type === ECS.taskDefinition) {
            const toml = tomlOfTaskDefinition(r);
            if (toml !== undefined) out.push({ resource: r, toml });
        } else if (userDataPaths[r.type]) {
            for (const b of bootFiles(r)) if (b.toml !== undefined) out.push({ resource: r, toml: b.toml });
        } else if (
            r.type === K8S.configMap &&
            isObject(r.props.data) &&
            typeof r.props.data["deployment.toml"] === "string"
        ) {
            out.push({ resource: r, toml: r.props.data["deployment.toml"] });
        }
    }
    return out;
}

export const consistentNodeConfig: StackValidationPolicy = {
    ...about("wso2is-consistent-node-config", "mandatory", "high", "availability correctness"),
    description:
        "Every node of a cluster is rendered with the same Hazelcast membership scheme, the same database endpoints and (wka) the same member list.",
    validateStack: (args, report) => {
        const clusters = clustersOf(args.resources)
            .map((c) => ({ cluster: c, tomls: clusterTomls(c) }))
            .filter((c) => c.tomls.length > 0);
        if (clusters.length === 0) return args.notApplicable("no node renders a deployment.toml");
        for (const { tomls } of clusters) {
            const nodes: { resource: PolicyResource; config: NodeConfig }[] = [];
            for (const t of tomls) {
                const config = nodeConfig(t.toml);
                if (!config)
                    report(
                        `${label(t.resource)}: its deployment.toml does not parse as TOML.`,
                        t.resource.urn,
                    );
                else nodes.push({ resource: t.resource, config });
            }
            if (nodes.length === 0) continue;
            const [first, ...rest] = nodes;
            const key = (c: NodeConfig) =>
                JSON.stringify(Object.entries(c.databases).sort(([a], [b]) => (a < b ? -1 : 1)));
            for (const n of rest) {
                if (n.config.membershipScheme !== first.config.membershipScheme) {
                    report(
                        `${label(n.resource)} uses membership scheme ${n.config.membershipScheme ?? "(none)"} but ${label(first.resource)} uses ${first.config.membershipScheme ?? "(none)"}.`,
                        n.resource.urn,
                    );
                }
                if (key(n.config) !== key(first.config)) {
                    report(
                        `${label(n.resource)} points at databases ${key(n.config)} but ${label(first.resource)} at ${key(first.config)}.`,
                        n.resource.urn,
                    );
                }
                if (
                    JSON.stringify(n.config.members ?? null) !== JSON.stringify(first.config.members ?? null)
                ) {
                    report(
                        `${label(n.resource)} lists Hazelcast members ${JSON.stringify(n.config.members ?? [])} but ${label(first.resource)} ${JSON.stringify(first.config.members ?? [])}.`,
                        n.resource.urn,
                    );
                }
            }
            for (const n of nodes) {
                if (Object.keys(n.config.databases).length === 0)
                    report(
                        `${label(n.resource)}: its deployment.toml declares no [database.*] url.`,
                        n.resource.urn,
                    );
                if (nodes.length > 1 && !n.config.membershipScheme)
                    report(
                        `${label(n.resource)}: its deployment.toml has no [clustering] membership_scheme, so its node cannot join the others.`,
                        n.resource.urn,
                    );
            }
        }
    },
};

// ---------------------------------------------------------------------------------------------

export const noSecretsInUserData: ResourceValidationPolicy = {
    ...about("wso2is-no-secrets-in-user-data", "mandatory", "critical", "security secrets"),
    description:
        "No plain secret in a node's user data or the files it writes (launch templates, EC2 instances, Azure VMs and scale sets): only $env{...} placeholders, no access/secret keys, no PEM private keys, no storage AccountKey.",
    validateResource: forTypes(Object.keys(userDataPaths), (props, args, report) => {
        for (const u of userDataOf(args.type, props)) {
            const seen = new Set<string>();
            const add = (where: string, f: { what: string; line?: number }) => {
                const m = `${where}${f.line ? ` line ${f.line}` : ""}: ${f.what}`;
                if (!seen.has(m)) {
                    seen.add(m);
                    report(
                        `${m}. Keep secrets in Secrets Manager / Key Vault and fetch them at boot with the node's identity.`,
                    );
                }
            };
            for (const f of findSecrets(u.text)) add(u.at, f);
            for (const file of cloudInitFiles(u.text)) {
                // Files written in plain text were scanned with the document; decode the others.
                if (file.content !== "" && !u.text.includes(file.content.split("\n")[0])) {
                    for (const f of findSecrets(file.content)) add(`${u.at} -> ${file.path}`, f);
                }
            }
        }
    }),
};

export const stackPolicies = [
    minNodes,
    zoneSpread,
    singleDatabaseAndShare,
    consistentNodeConfig,
    noSecretsInUserData,
];
