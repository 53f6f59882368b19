// Least-privilege security groups: only the ALB is reachable from clients (443, 80 for the
// redirect); 9443 only from the ALB; Hazelcast only node to node; MySQL and NFS only from
// nodes. No SSH anywhere: operators use SSM Session Manager.
import * as pulumi from "@pulumi/pulumi";
import * as ec2 from "@pulumi/aws/ec2";
import * as vpc from "@pulumi/aws/vpc";
import { hazelcastPorts, isHttpsPort } from "../model";

export const ports = {
    https: 443,
    http: 80,
    isHttps: isHttpsPort,
    hazelcastFrom: hazelcastPorts.aws,
    hazelcastTo: 5708,
    mysql: 3306,
    nfs: 2049,
} as const;

export interface AwsSecurityGroups {
    alb: ec2.SecurityGroup;
    nodes: ec2.SecurityGroup;
    database: ec2.SecurityGroup;
    sharedFs: ec2.SecurityGroup;
}

export function createSecurityGroups(
    name: string,
    args: { vpcId: pulumi.Input<string>; allowedCidrs: string[]; tags: Record<string, string> },
    parent: pulumi.Resource,
): AwsSecurityGroups {
    const opts = { parent };
    const group = (role: string, description: string) =>
        new ec2.SecurityGroup(
            `${name}-${role}`,
            { vpcId: args.vpcId, description, tags: { ...args.tags, Name: `${name}-${role}` } },
            opts,
        );
    const alb = group("alb", "WSO2 IS load balancer: HTTPS from clients");
    const nodes = group("nodes", "WSO2 IS nodes: 9443 from the ALB, Hazelcast between nodes");
    const database = group("db", "WSO2 IS MySQL: 3306 from the nodes");
    const sharedFs = group("efs", "WSO2 IS shared file system: NFS from the nodes");

    const ingress = (rule: string, args: vpc.SecurityGroupIngressRuleArgs) =>
        new vpc.SecurityGroupIngressRule(`${name}-${rule}`, args, opts);
    const egress = (rule: string, args: vpc.SecurityGroupEgressRuleArgs) =>
        new vpc.SecurityGroupEgressRule(`${name}-${rule}`, args, opts);

    args.allowedCidrs.forEach((cidr, i) => {
        for (const port of [ports.https, ports.http]) {
            ingress(`alb-in-${port}-${i + 1}`, {
                securityGroupId: alb.id,
                ipProtocol: "tcp",
                fromPort: port,
                toPort: port,
                cidrIpv4: cidr,
                description: `clients ${cidr} to ${port}`,
            });
        }
    });
    egress("alb-out-9443", {
        securityGroupId: alb.id,
        ipProtocol: "tcp",
        fromPort: ports.isHttps,
        toPort: ports.isHttps,
        referencedSecurityGroupId: nodes.id,
        description: "ALB to IS nodes",
    });

    ingress("nodes-in-9443", {
        securityGroupId: nodes.id,
        ipProtocol: "tcp",
        fromPort: ports.isHttps,
        toPort: ports.isHttps,
        referencedSecurityGroupId: alb.id,
        description: "ALB to IS HTTPS",
    });
    ingress("nodes-in-hazelcast", {
        securityGroupId: nodes.id,
        ipProtocol: "tcp",
        fromPort: ports.hazelcastFrom,
        toPort: ports.hazelcastTo,
        referencedSecurityGroupId: nodes.id,
        description: "Hazelcast between IS nodes",
    });
    // Nodes reach package mirrors, the IS download, Secrets Manager, EC2 and SSM APIs through NAT.
    egress("nodes-out-all", {
        securityGroupId: nodes.id,
        ipProtocol: "-1",
        cidrIpv4: "0.0.0.0/0",
        description: "node egress (NAT)",
    });

    ingress("db-in-3306", {
        securityGroupId: database.id,
        ipProtocol: "tcp",
        fromPort: ports.mysql,
        toPort: ports.mysql,
        referencedSecurityGroupId: nodes.id,
        description: "IS nodes to MySQL",
    });
    ingress("efs-in-2049", {
        securityGroupId: sharedFs.id,
        ipProtocol: "tcp",
        fromPort: ports.nfs,
        toPort: ports.nfs,
        referencedSecurityGroupId: nodes.id,
        description: "IS nodes to NFS",
    });

    return { alb, nodes, database, sharedFs };
}
