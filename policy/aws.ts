// AWS policies: RDS, EFS, launch templates, security groups, ALB listeners and target groups.
// Resources are matched by type token (no @pulumi/aws import); props are the resource's inputs
// (resource policies) or its outputs (stack policies).
import type { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { configOf, isProduction, productionBackupSchema, productionSchema } from "./config";
import { PortRange, awsRuleRange, describeRange, isAnywhere, overlaps } from "./ports";
import { Props, about, asArray, forTypes, isObject, isTrue, label, matchesName, ofType } from "./util";

export const T = {
    rdsInstance: "aws:rds/instance:Instance",
    rdsCluster: "aws:rds/cluster:Cluster",
    rdsParameterGroup: "aws:rds/parameterGroup:ParameterGroup",
    rdsClusterParameterGroup: "aws:rds/clusterParameterGroup:ClusterParameterGroup",
    efs: "aws:efs/fileSystem:FileSystem",
    launchTemplate: "aws:ec2/launchTemplate:LaunchTemplate",
    instance: "aws:ec2/instance:Instance",
    securityGroup: "aws:ec2/securityGroup:SecurityGroup",
    securityGroupRule: "aws:ec2/securityGroupRule:SecurityGroupRule",
    ingressRule: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    lb: "aws:lb/loadBalancer:LoadBalancer",
    albLegacy: "aws:alb/loadBalancer:LoadBalancer",
    listener: "aws:lb/listener:Listener",
    listenerLegacy: "aws:alb/listener:Listener",
    targetGroup: "aws:lb/targetGroup:TargetGroup",
    targetGroupLegacy: "aws:alb/targetGroup:TargetGroup",
    asg: "aws:autoscaling/group:Group",
    kmsKey: "aws:kms/key:Key",
    secret: "aws:secretsmanager/secret:Secret",
} as const;

const mysqlEngines = new Set(["mysql", "mariadb", "aurora-mysql"]);

export const rdsNotPublic: ResourceValidationPolicy = {
    ...about("aws-rds-not-public", "mandatory", "critical", "aws security database"),
    description: "RDS instances are not publicly accessible: only the IS nodes reach MySQL, inside the VPC.",
    validateResource: forTypes([T.rdsInstance], (props, _args, report) => {
        if (isTrue(props.publiclyAccessible))
            report("publiclyAccessible is true: set it to false and reach the database from the nodes only.");
    }),
};

export const rdsStorageEncrypted: ResourceValidationPolicy = {
    ...about("aws-rds-storage-encrypted", "mandatory", "high", "aws security database"),
    description: "RDS storage is encrypted at rest.",
    validateResource: forTypes([T.rdsInstance, T.rdsCluster], (props, args, report) => {
        // An instance of an Aurora cluster inherits the cluster's encryption.
        if (
            args.type === T.rdsInstance &&
            typeof props.engine === "string" &&
            props.engine.startsWith("aurora")
        )
            return;
        if (!isTrue(props.storageEncrypted))
            report("storageEncrypted is not true: set storageEncrypted: true (optionally with kmsKeyId).");
    }),
};

/** A parameter group's require_secure_transport setting, if it sets it. */
function secureTransport(pg: Props): string | undefined {
    const p = asArray<Props>(pg.parameters).find(
        (x) => isObject(x) && String(x.name).toLowerCase() === "require_secure_transport",
    );
    return p === undefined ? undefined : String(p.value).toUpperCase();
}

export const rdsTlsRequired: StackValidationPolicy = {
    ...about("aws-rds-tls-required", "mandatory", "high", "aws security database"),
    description:
        "Every RDS MySQL instance uses a parameter group with require_secure_transport=1, so no client connects without TLS.",
    validateStack: (args, report) => {
        const instances = ofType(args.resources, T.rdsInstance).filter(
            (r) =>
                mysqlEngines.has(String(r.props.engine ?? "").toLowerCase()) &&
                !String(r.props.engine).startsWith("aurora"),
        );
        const auroraClusters = ofType(args.resources, T.rdsCluster).filter(
            (r) => String(r.props.engine ?? "").toLowerCase() === "aurora-mysql",
        );
        if (instances.length === 0 && auroraClusters.length === 0)
            return args.notApplicable("no RDS MySQL in the stack");
        const groups = ofType(args.resources, T.rdsParameterGroup);
        for (const db of instances) {
            const name = db.props.parameterGroupName;
            if (typeof name !== "string" || name === "" || name.startsWith("default.")) {
                report(
                    `${label(db)} uses the default parameter group, which allows plain-text connections: give it a parameter group with require_secure_transport=1.`,
                    db.urn,
                );
                continue;
            }
            const group = groups.find((g) => matchesName(name, g, g.props.name));
            if (!group) {
                report(
                    `${label(db)} uses parameter group '${name}', which this stack does not define: require_secure_transport=1 cannot be verified.`,
                    db.urn,
                );
                continue;
            }
            const v = secureTransport(group.props);
            if (v !== "1" && v !== "ON" && v !== "TRUE") {
                report(
                    `${label(db)} uses ${label(group)}, which ${v === undefined ? "does not set require_secure_transport" : `sets require_secure_transport=${v}`}: set it to 1.`,
                    db.urn,
                );
            }
        }
        // Aurora MySQL: the cluster parameter group carries the setting.
        const clusterGroups = ofType(args.resources, T.rdsClusterParameterGroup);
        for (const c of auroraClusters) {
            const name = c.props.dbClusterParameterGroupName;
            const group =
                typeof name === "string"
                    ? clusterGroups.find((g) => matchesName(name, g, g.props.name))
                    : undefined;
            const v = group ? secureTransport(group.props) : undefined;
            if (v !== "1" && v !== "ON" && v !== "TRUE")
                report(`${label(c)} has no cluster parameter group with require_secure_transport=1.`, c.urn);
        }
    },
};

export const rdsProductionResilience: ResourceValidationPolicy = {
    ...about("aws-rds-production-resilience", "advisory", "high", "aws availability database production"),
    description:
        "In production, RDS is Multi-AZ, deletion-protected and keeps backups for at least minBackupDays (default 7).",
    configSchema: { properties: productionBackupSchema },
    validateResource: forTypes([T.rdsInstance, T.rdsCluster], (props, args, report) => {
        if (!isProduction(args))
            return args.notApplicable("production is false: the production-only checks do not run");
        const { minBackupDays } = configOf(args, { minBackupDays: 7 });
        const aurora = typeof props.engine === "string" && props.engine.startsWith("aurora");
        if (args.type === T.rdsInstance && aurora) return;
        const days = Number(props.backupRetentionPeriod ?? 1);
        if (!(days >= minBackupDays))
            report(
                `backupRetentionPeriod is ${props.backupRetentionPeriod ?? "unset (1 day)"}: production keeps at least ${minBackupDays} days.`,
            );
        if (!isTrue(props.deletionProtection))
            report(
                "deletionProtection is not true: a production database must not be deletable by accident.",
            );
        if (args.type === T.rdsInstance && !isTrue(props.multiAz))
            report("multiAz is not true: a production database needs a standby in a second zone.");
    }),
};

export const efsEncrypted: ResourceValidationPolicy = {
    ...about("aws-efs-encrypted", "mandatory", "high", "aws security storage"),
    description: "EFS file systems are encrypted at rest.",
    validateResource: forTypes([T.efs], (props, _args, report) => {
        if (!isTrue(props.encrypted))
            report("encrypted is not true: set encrypted: true (optionally with kmsKeyId).");
    }),
};

export const ec2Imdsv2: ResourceValidationPolicy = {
    ...about("aws-ec2-imdsv2-required", "mandatory", "high", "aws security compute"),
    description:
        "Launch templates and instances require IMDSv2 (metadataOptions.httpTokens = required), so a forged request cannot read the node role's credentials.",
    validateResource: forTypes([T.launchTemplate, T.instance], (props, _args, report) => {
        const m = isObject(props.metadataOptions) ? props.metadataOptions : {};
        if (String(m.httpEndpoint ?? "enabled") === "disabled") return;
        if (m.httpTokens !== "required")
            report(
                `metadataOptions.httpTokens is ${m.httpTokens === undefined ? "unset (IMDSv1 allowed)" : `"${m.httpTokens}"`}: set it to "required".`,
            );
    }),
};

export const ebsEncrypted: ResourceValidationPolicy = {
    ...about("aws-ebs-encrypted", "mandatory", "high", "aws security compute storage"),
    description: "Every EBS volume of a launch template or instance, the root volume included, is encrypted.",
    validateResource: forTypes([T.launchTemplate, T.instance], (props, args, report) => {
        if (args.type === T.launchTemplate) {
            const mappings = asArray<Props>(props.blockDeviceMappings).filter(
                (b) => isObject(b) && isObject(b.ebs),
            );
            if (mappings.length === 0) {
                report(
                    "no blockDeviceMappings: the root volume takes the image's (unencrypted) default; declare it with ebs.encrypted = true.",
                );
                return;
            }
            for (const b of mappings) {
                if (b.ebs.snapshotId && b.ebs.encrypted === undefined) continue;
                if (!isTrue(b.ebs.encrypted))
                    report(`volume ${b.deviceName ?? "?"} is not encrypted: set ebs.encrypted = true.`);
            }
            return;
        }
        const root = isObject(props.rootBlockDevice) ? props.rootBlockDevice : undefined;
        if (!root || !isTrue(root.encrypted)) report("rootBlockDevice.encrypted is not true.");
        for (const b of asArray<Props>(props.ebsBlockDevices)) {
            if (isObject(b) && !isTrue(b.encrypted))
                report(`volume ${b.deviceName ?? "?"} is not encrypted.`);
        }
    }),
};

// ---------------------------------------------------------------------------------------------
// Security groups.

/** Ports that only other security groups may reach: IS HTTPS (from the LB) and Hazelcast (node to node). */
export const groupOnlyPorts: { range: PortRange; what: string }[] = [
    { range: { from: 9443, to: 9443 }, what: "IS HTTPS 9443 (only from the load balancer's group)" },
    { range: { from: 5701, to: 5708 }, what: "Hazelcast 5701-5708 (only between the nodes' group)" },
    { range: { from: 4000, to: 4000 }, what: "Hazelcast 4000 (only between the nodes' group)" },
];

/** The ports a public load balancer may expose to anyone. */
export const publicPorts = new Set([80, 443]);

interface IngressView {
    /** The group the rule belongs to (id as the program passes it), if known. */
    groupId?: unknown;
    range: PortRange;
    cidrs: string[];
    where: string;
}

/** Ingress of a SecurityGroup (inline), SecurityGroupIngressRule or SecurityGroupRule (type ingress). */
export function ingressOf(type: string, props: Props): IngressView[] {
    const cidrsOf = (r: Props) =>
        [
            ...asArray<string>(r.cidrBlocks),
            ...asArray<string>(r.ipv6CidrBlocks),
            ...asArray<string>(r.cidrIpv4),
            ...asArray<string>(r.cidrIpv6),
            ...asArray<string>(r.prefixListIds),
            ...asArray<string>(r.prefixListId),
        ].filter((c) => typeof c === "string");
    switch (type) {
        case T.securityGroup:
            return asArray<Props>(props.ingress)
                .filter(isObject)
                .map((r, i) => ({ range: awsRuleRange(r), cidrs: cidrsOf(r), where: `ingress[${i}]` }));
        case T.ingressRule:
            return [
                {
                    groupId: props.securityGroupId,
                    range: awsRuleRange(props),
                    cidrs: cidrsOf(props),
                    where: "rule",
                },
            ];
        case T.securityGroupRule:
            return props.type === "ingress"
                ? [
                      {
                          groupId: props.securityGroupId,
                          range: awsRuleRange(props),
                          cidrs: cidrsOf(props),
                          where: "rule",
                      },
                  ]
                : [];
        default:
            return [];
    }
}

const withinPublicPorts = (r: PortRange) => (r.from === r.to ? publicPorts.has(r.from) : false);

export const sgNoPublicIngress: ResourceValidationPolicy = {
    ...about("aws-sg-no-public-ingress", "mandatory", "critical", "aws security network"),
    description:
        "No ingress from 0.0.0.0/0 or ::/0 except 80/443 (for the load balancer); 9443 and Hazelcast (5701-5708, 4000) never from a CIDR, only from security groups.",
    validateResource: forTypes(
        [T.securityGroup, T.ingressRule, T.securityGroupRule],
        (props, args, report) => {
            for (const rule of ingressOf(args.type, props)) {
                if (rule.cidrs.length === 0) continue;
                const world = rule.cidrs.filter(isAnywhere);
                if (world.length > 0 && !withinPublicPorts(rule.range)) {
                    report(
                        `${rule.where}: ${describeRange(rule.range)} open to ${world.join(", ")}; only 80 and 443 on the load balancer may be public.`,
                    );
                }
                for (const p of groupOnlyPorts) {
                    if (overlaps(rule.range, p.range))
                        report(
                            `${rule.where}: ${describeRange(rule.range)} from CIDR ${rule.cidrs.join(", ")} includes ${p.what}; reference the security group instead.`,
                        );
                }
            }
        },
    ),
};

/** Every security group id attached to a load balancer, and the URNs of groups it depends on. */
function loadBalancerGroups(resources: PolicyResource[]): Set<string> {
    const keys = new Set<string>();
    for (const lb of ofType(resources, T.lb, T.albLegacy)) {
        for (const id of asArray(lb.props.securityGroups)) if (typeof id === "string") keys.add(id);
        for (const dep of lb.propertyDependencies?.securityGroups ?? []) keys.add(dep.urn);
    }
    return keys;
}

export const sgPublicOnlyOnLoadBalancer: StackValidationPolicy = {
    ...about("aws-sg-public-only-on-load-balancer", "mandatory", "critical", "aws security network"),
    description:
        "Ingress from 0.0.0.0/0 or ::/0 (80/443) exists only on a security group attached to a load balancer.",
    validateStack: (args, report) => {
        const rules = ofType(args.resources, T.securityGroup, T.ingressRule, T.securityGroupRule);
        if (rules.length === 0) return args.notApplicable("no security groups in the stack");
        const lbGroups = loadBalancerGroups(args.resources);
        for (const r of rules) {
            const world = ingressOf(r.type, r.props).filter((x) => x.cidrs.some(isAnywhere));
            if (world.length === 0) continue;
            const groupKeys =
                r.type === T.securityGroup
                    ? [r.props.id, r.urn]
                    : [
                          r.props.securityGroupId,
                          ...(r.propertyDependencies?.securityGroupId ?? []).map((d) => d.urn),
                      ];
            if (!groupKeys.some((k) => typeof k === "string" && lbGroups.has(k))) {
                report(
                    `${label(r)} opens ${world.map((w) => describeRange(w.range)).join(", ")} to the internet on a group that no load balancer uses.`,
                    r.urn,
                );
            }
        }
    },
};

// ---------------------------------------------------------------------------------------------
// Load balancer.

/** ALB/NLB TLS policies that allow nothing older than TLS 1.2. */
export const modernTlsPolicy = /^ELBSecurityPolicy-(TLS13-1-[23]-|TLS-1-2-|FS-1-2-)/;

export const albHttps: ResourceValidationPolicy = {
    ...about("aws-lb-listener-https", "mandatory", "high", "aws security load-balancer"),
    description:
        "Load balancer listeners are HTTPS (or TLS) with a TLS 1.2+ policy (ELBSecurityPolicy-TLS13-1-2-*, -TLS13-1-3-*, -TLS-1-2-*, -FS-1-2-*); an HTTP listener only redirects to HTTPS.",
    validateResource: forTypes([T.listener, T.listenerLegacy], (props, _args, report) => {
        const protocol = String(props.protocol ?? "HTTP").toUpperCase();
        if (protocol === "HTTPS" || protocol === "TLS") {
            const policy = props.sslPolicy;
            if (typeof policy !== "string" || !modernTlsPolicy.test(policy)) {
                report(
                    `sslPolicy is ${policy === undefined ? "unset (AWS default ELBSecurityPolicy-2016-08 allows TLS 1.0)" : `"${policy}"`}: use ELBSecurityPolicy-TLS13-1-2-2021-06 or another TLS 1.2+ policy.`,
                );
            }
            return;
        }
        if (protocol === "HTTP") {
            const actions = asArray<Props>(props.defaultActions);
            const redirectsToHttps = (a: Props) =>
                isObject(a) &&
                a.type === "redirect" &&
                isObject(a.redirect) &&
                String(a.redirect.protocol ?? "").toUpperCase() === "HTTPS";
            if (actions.length === 0 || !actions.every(redirectsToHttps))
                report(
                    `HTTP listener on port ${props.port ?? 80} must only redirect to HTTPS (defaultActions: one redirect with protocol HTTPS).`,
                );
            return;
        }
        // TCP/UDP listeners (NLB) carry no HTTP; nothing to check here.
    }),
};

export const targetGroupStickiness: ResourceValidationPolicy = {
    ...about("aws-target-group-stickiness", "mandatory", "medium", "aws availability load-balancer"),
    description: "HTTP(S) target groups keep sessions sticky (IS keeps login and OIDC state per node).",
    validateResource: forTypes([T.targetGroup, T.targetGroupLegacy], (props, _args, report) => {
        const protocol = String(props.protocol ?? "HTTP").toUpperCase();
        if (props.targetType === "lambda" || (protocol !== "HTTP" && protocol !== "HTTPS")) return;
        const s = isObject(props.stickiness) ? props.stickiness : undefined;
        if (!s || s.enabled === false || String(s.enabled).toLowerCase() === "false")
            report(
                'stickiness is not enabled: set stickiness { type: "lb_cookie" (or app_cookie), enabled: true }.',
            );
    }),
};

// AWSGuard (npm @pulumi/awsguard) equivalents for what it checks on this program's resources;
// its own elb-* policies match only the old aws:elasticloadbalancingv2/applicationloadbalancing
// type tokens, never aws:lb, so the load balancer's are here too.

export const productionCustomerManagedKeys: ResourceValidationPolicy = {
    ...about("aws-production-customer-managed-keys", "advisory", "high", "aws encryption production"),
    description:
        "In production, RDS storage, EFS, the nodes' EBS volumes and Secrets Manager secrets are encrypted with a customer-managed KMS key (kmsKeyId), not an AWS-managed one (AWSGuard efs-encrypted, and its kmsKeyId options of rds-storage-encrypted and encrypted-volumes).",
    configSchema: { properties: { ...productionSchema } },
    validateResource: forTypes(
        [T.rdsInstance, T.rdsCluster, T.efs, T.launchTemplate, T.secret],
        (props, args, report) => {
            if (!isProduction(args))
                return args.notApplicable("production is false: the production-only checks do not run");
            const aurora = typeof props.engine === "string" && props.engine.startsWith("aurora");
            if (args.type === T.rdsInstance && aurora) return;
            if (args.type === T.launchTemplate) {
                for (const b of asArray<Props>(props.blockDeviceMappings))
                    if (isObject(b) && isObject(b.ebs) && !b.ebs.kmsKeyId)
                        report(
                            `volume ${b.deviceName ?? "?"} has no ebs.kmsKeyId: use the cluster's KMS key.`,
                        );
                return;
            }
            if (!props.kmsKeyId) report("kmsKeyId is not set: use the cluster's customer-managed KMS key.");
        },
    ),
};

export const kmsKeyRotation: ResourceValidationPolicy = {
    ...about("aws-kms-key-rotation", "mandatory", "medium", "aws security encryption"),
    description:
        "Symmetric customer-managed KMS keys rotate their key material (AWSGuard cmk-backing-key-rotation-enabled).",
    validateResource: forTypes([T.kmsKey], (props, _args, report) => {
        const spec = String(props.customerMasterKeySpec ?? props.keySpec ?? "SYMMETRIC_DEFAULT");
        if (spec !== "SYMMETRIC_DEFAULT") return;
        if (!isTrue(props.enableKeyRotation))
            report("enableKeyRotation is not true: turn on automatic rotation.");
    }),
};

export const lbProductionDeletionProtection: ResourceValidationPolicy = {
    ...about(
        "aws-lb-production-deletion-protection",
        "advisory",
        "medium",
        "aws availability load-balancer production",
    ),
    description:
        "In production, the load balancer is deletion-protected (AWSGuard elb-deletion-protection-enabled, which does not match aws:lb resources).",
    configSchema: { properties: { ...productionSchema } },
    validateResource: forTypes([T.lb, T.albLegacy], (props, args, report) => {
        if (!isProduction(args))
            return args.notApplicable("production is false: the production-only checks do not run");
        if (!isTrue(props.enableDeletionProtection))
            report(
                "enableDeletionProtection is not true: a production load balancer must not be deletable by accident.",
            );
    }),
};

export const awsPolicies = [
    rdsNotPublic,
    rdsStorageEncrypted,
    rdsTlsRequired,
    rdsProductionResilience,
    efsEncrypted,
    ec2Imdsv2,
    ebsEncrypted,
    sgNoPublicIngress,
    sgPublicOnlyOnLoadBalancer,
    albHttps,
    targetGroupStickiness,
    productionCustomerManagedKeys,
    kmsKeyRotation,
    lbProductionDeletionProtection,
];
