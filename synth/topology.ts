// topology.dot: the deployed topology as Graphviz. Resources are grouped by what their type
// does (network, load balancer, nodes, database, shared file system, identity and secrets),
// one box per resource type; edges show the traffic with the ports the model names.
// Generic over targets: AWS, Azure and Kubernetes types each fall into the same groups.
import type { RecordedResource } from "./mocks";
import { isPlainObject } from "./redact";

export type Group = "network" | "lb" | "nodes" | "database" | "sharedFs" | "identity" | "other";

export const groupLabels: Record<Group, string> = {
    network: "Network",
    lb: "Load balancer",
    nodes: "IS nodes",
    database: "Database",
    sharedFs: "Shared file system",
    identity: "Identity and secrets",
    other: "Other",
};

const groupOrder: Group[] = ["lb", "nodes", "database", "sharedFs", "identity", "network", "other"];

/** Which group a resource belongs to; undefined for components and providers (not drawn). */
export function classify(r: {
    type: string;
    custom: boolean;
    inputs?: Record<string, any>;
}): Group | undefined {
    const t = r.type;
    if (!r.custom || t.startsWith("pulumi:")) return undefined;
    const rules: [Group, RegExp][] = [
        [
            "identity",
            /^aws:(iam|secretsmanager|kms|ssm)\/|^random:|^azure-native:(keyvault|managedidentity|authorization):|^kubernetes:(core\/v1:(ServiceAccount|Secret)$|rbac\.authorization\.k8s\.io\/)/,
        ],
        [
            "lb",
            /^aws:(lb|alb|elb|acm)\/|^tls:|^azure-native:network:(ApplicationGateway|LoadBalancer|PublicIPAddress|ApplicationGatewayWebApplicationFirewallPolicy)$|^kubernetes:networking\.k8s\.io\/v1:Ingress$|^kubernetes:cert-manager/,
        ],
        ["database", /^aws:rds\/|^azure-native:dbformysql:|^azure-native:dbforpostgresql:/],
        [
            "sharedFs",
            /^aws:efs\/|^azure-native:storage:|^kubernetes:(core\/v1:(PersistentVolumeClaim|PersistentVolume)|storage\.k8s\.io\/v1:StorageClass)$/,
        ],
        [
            "nodes",
            /^aws:(ec2\/(launchTemplate|instance):|autoscaling\/)|^azure-native:compute:|^azure-native:network:NetworkInterface$|^azure-native:containerservice:|^kubernetes:(apps\/v1:|policy\/v1:PodDisruptionBudget|core\/v1:(Pod|ConfigMap)$|autoscaling\/)/,
        ],
        [
            "network",
            /^aws:(ec2|vpc|route53)\/|^azure-native:(network|privatedns|resources):|^kubernetes:(core\/v1:Namespace|networking\.k8s\.io\/v1:NetworkPolicy)$/,
        ],
    ];
    if (t === "kubernetes:core/v1:Service") {
        const type = r.inputs?.spec?.type;
        return type === "LoadBalancer" ? "lb" : "nodes";
    }
    for (const [group, re] of rules) if (re.test(t)) return group;
    return "other";
}

/** The type whose box an edge starts or ends at, per group, most telling first. */
const anchors: Record<Group, RegExp[]> = {
    lb: [
        /:lb\/loadBalancer:|:alb\/loadBalancer:/,
        /network:ApplicationGateway$/,
        /network:LoadBalancer$/,
        /Ingress$/,
        /core\/v1:Service$/,
    ],
    nodes: [
        /autoscaling\/group:Group$/,
        /ec2\/instance:Instance$/,
        /compute:VirtualMachineScaleSet$/,
        /compute:VirtualMachine$/,
        /apps\/v1:StatefulSet$/,
        /apps\/v1:Deployment$/,
        /launchTemplate/,
    ],
    database: [/rds\/(instance|cluster):/, /FlexibleServer$|:Server$/],
    sharedFs: [
        /efs\/fileSystem:FileSystem$/,
        /storage:FileShare$/,
        /PersistentVolumeClaim$/,
        /storage:StorageAccount$/,
    ],
    identity: [
        /secretsmanager\/secret:Secret$/,
        /keyvault:Vault$/,
        /core\/v1:Secret$/,
        /iam\/role:Role$/,
        /managedidentity:/,
    ],
    network: [/ec2\/vpc:Vpc$/, /network:VirtualNetwork$/],
    other: [],
};

interface Box {
    id: string;
    group: Group;
    type: string;
    names: string[];
}

/** Short name of a type token: aws:ec2/subnet:Subnet -> Subnet, kubernetes:apps/v1:StatefulSet -> StatefulSet. */
export function shortType(type: string): string {
    return type.split(":").pop() || type;
}

function escape(s: string): string {
    return s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function quote(s: string): string {
    return `"${escape(s)}"`;
}

function get(obj: unknown, ...path: string[]): unknown {
    let v: unknown = obj;
    for (const p of path) v = isPlainObject(v) ? v[p] : undefined;
    return v;
}

export function renderTopology(
    stack: string,
    records: RecordedResource[],
    model: unknown,
    nodeCount?: number,
): string {
    const boxes = new Map<string, Box>();
    for (const r of records) {
        const group = classify(r);
        if (!group) continue;
        const key = `${group}|${r.type}`;
        const box = boxes.get(key) ?? { id: "", group, type: r.type, names: [] };
        box.names.push(r.name);
        boxes.set(key, box);
    }
    const sorted = [...boxes.values()].sort(
        (a, b) =>
            groupOrder.indexOf(a.group) - groupOrder.indexOf(b.group) ||
            (a.type < b.type ? -1 : a.type > b.type ? 1 : 0),
    );
    sorted.forEach((b, i) => {
        b.id = `r${i + 1}`;
        b.names.sort();
    });

    const anchor = (g: Group): Box | undefined => {
        const inGroup = sorted.filter((b) => b.group === g);
        for (const re of anchors[g]) {
            const hit = inGroup.find((b) => re.test(b.type));
            if (hit) return hit;
        }
        return inGroup[0];
    };

    const lines: string[] = [];
    lines.push(`digraph ${quote(`wso2is-cluster ${stack}`)} {`);
    lines.push(
        `  graph [rankdir=LR, fontname="Helvetica", fontsize=12, label=${quote(`wso2is-cluster / ${stack}: ${String(get(model, "hostname") ?? "")}`)}, labelloc=t, nodesep=0.3, ranksep=0.9];`,
    );
    lines.push(
        `  node [shape=box, style="rounded,filled", fillcolor="#ffffff", fontname="Helvetica", fontsize=10];`,
    );
    lines.push(`  edge [fontname="Helvetica", fontsize=9];`);
    lines.push(`  clients [label="Clients\\n(internet)", shape=ellipse, fillcolor="#eeeeee"];`);
    const colours: Record<Group, string> = {
        lb: "#e8f1fb",
        nodes: "#eaf7ea",
        database: "#fdf2e4",
        sharedFs: "#f3ecfa",
        identity: "#fbeaea",
        network: "#f4f4f4",
        other: "#ffffff",
    };
    const describe = (b: Box) =>
        `${shortType(b.type)} ${b.names.length === 1 ? b.names[0] : `×${b.names.length}`}`;
    // Per group: the anchor resource as a box (edges attach to it), the rest listed beside it.
    const anchorIds = new Map<Group, string>();
    for (const g of groupOrder) {
        const inGroup = sorted.filter((b) => b.group === g);
        if (inGroup.length === 0) continue;
        const main = anchor(g)!;
        const rest = inGroup.filter((b) => b !== main);
        anchorIds.set(g, g);
        lines.push(`  subgraph cluster_${g} {`);
        lines.push(
            `    label=${quote(groupLabels[g])}; style="rounded,filled"; fillcolor=${quote(colours[g])}; color="#999999";`,
        );
        const count =
            g === "nodes" && nodeCount !== undefined
                ? `\n${nodeCount} IS node${nodeCount === 1 ? "" : "s"}`
                : "";
        lines.push(
            `    ${g} [label=${quote(`${shortType(main.type)}\n${main.names.length === 1 ? main.names[0] : `×${main.names.length}`}${count}`)}, penwidth=1.5, tooltip=${quote(main.type)}];`,
        );
        if (rest.length > 0) {
            // Left-justified lines: each ends in \l (escaped here by hand, not by quote()).
            const text = rest.map((b) => `${escape(describe(b))}\\l`).join("");
            lines.push(`    ${g}_more [label="${text}", shape=plaintext, style=solid, fontsize=9];`);
        }
        lines.push("  }");
    }

    // Traffic. Ports come from the model where it names them.
    const edges: string[] = [];
    const edge = (from: string | undefined, to: string | undefined, label: string, extra = "") => {
        if (from && to) edges.push(`  ${from} -> ${to} [label=${quote(label)}${extra}];`);
    };
    const lb = anchorIds.get("lb");
    const nodes = anchorIds.get("nodes");
    const database = anchorIds.get("database");
    const share = anchorIds.get("sharedFs");
    const secrets = anchor("identity");
    edge("clients", lb, "HTTPS :443", ", penwidth=2");
    edge(lb, nodes, "HTTPS :9443", ", penwidth=2");
    const dbPort = get(model, "database", "port") ?? 3306;
    edge(
        nodes,
        database,
        `MySQL :${String(dbPort)}${get(model, "database", "tls") === true ? " (TLS)" : ""}`,
    );
    const protocol = get(model, "sharedFs", "protocol");
    edge(nodes, share, protocol === "smb" ? "SMB :445" : protocol === "csi" ? "CSI mount" : "NFS :2049");
    const membership = get(model, "membership");
    if (isPlainObject(membership)) {
        const port = membership.port !== undefined ? ` :${String(membership.port)}` : "";
        edge(nodes, nodes, `Hazelcast${port} (${String(membership.scheme)})`, ", style=dashed, dir=both");
    }
    if (secrets && !/iam\/role|managedidentity/.test(secrets.type))
        edge(nodes, "identity", "secret fetch (HTTPS)", ", style=dotted");
    lines.push(...edges);
    lines.push("}");
    return `${lines.join("\n")}\n`;
}
