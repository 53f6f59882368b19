// A deterministic fake Pulumi engine: every resource gets a stable id and plausible computed
// attributes (ARNs, DNS names, addresses inside their subnets), so the real program runs
// offline. Used by `npm run synth` and by the mocha tests (one shared setMocks).
import * as crypto from "crypto";
import type * as pulumi from "@pulumi/pulumi";

export interface RecordedResource {
    type: string;
    name: string;
    /** The parent's URN ("" for the stack's direct children). */
    parent: string;
    urn: string;
    custom: boolean;
    inputs: Record<string, any>;
    state: Record<string, any>;
    /** The provider reference the engine saw, if any. */
    provider?: string;
}

export interface MockOptions {
    /** Outputs a StackReference returns, by stack name; the default covers every target's contract. */
    platformOutputs?: (stack: string) => Record<string, unknown>;
    region?: string;
    location?: string;
}

export const account = "123456789012";

/** Deterministic hex of a name: the same resource always gets the same id. */
export function stableHex(seed: string, length: number): string {
    return crypto.createHash("sha256").update(seed).digest("hex").slice(0, length);
}

/** Placeholder outputs of a platform stack: clearly marked, never real-looking ids. */
export function platformPlaceholders(stack: string): Record<string, unknown> {
    const p = (key: string) => `<platform:${key}>`;
    const list = (key: string, n: number) => Array.from({ length: n }, (_, i) => `<platform:${key}[${i}]>`);
    return {
        // aws
        vpcId: p("vpcId"),
        privateSubnetIds: list("privateSubnetIds", 2),
        publicSubnetIds: list("publicSubnetIds", 2),
        // azure
        resourceGroupName: p("resourceGroupName"),
        location: p("location"),
        vnetId: p("vnetId"),
        nodeSubnetId: p("nodeSubnetId"),
        nodeSubnetCidr: "10.50.1.0/24",
        gatewaySubnetId: p("gatewaySubnetId"),
        databaseSubnetId: p("databaseSubnetId"),
        endpointSubnetId: p("endpointSubnetId"),
        privateDnsZoneId: p("privateDnsZoneId"),
        // aks
        kubeconfig: `<platform:kubeconfig of ${stack}>`,
    };
}

/** Pulumi-style autoname: logical name plus 7 hex characters. */
function autoname(name: string): string {
    return `${name}-${stableHex(`autoname:${name}`, 7)}`;
}

/** Computed attributes per resource type, on top of the inputs. */
function computed(type: string, name: string, inputs: Record<string, any>, o: Required<Omit<MockOptions, "platformOutputs">>): { id: string; state: Record<string, any> } {
    const h = (n: number) => stableHex(`${type}::${name}`, n);
    const region = o.region;
    const arn = (service: string, resource: string) => `arn:aws:${service}:${region}:${account}:${resource}`;
    switch (type) {
        case "aws:ec2/vpc:Vpc": return { id: `vpc-${h(17)}`, state: { arn: arn("ec2", `vpc/vpc-${h(17)}`) } };
        case "aws:ec2/subnet:Subnet": return { id: `subnet-${h(17)}`, state: {} };
        case "aws:ec2/internetGateway:InternetGateway": return { id: `igw-${h(17)}`, state: {} };
        case "aws:ec2/natGateway:NatGateway": return { id: `nat-${h(17)}`, state: {} };
        case "aws:ec2/eip:Eip": return { id: `eipalloc-${h(17)}`, state: { publicIp: `203.0.113.${parseInt(h(2), 16) % 250 + 1}` } };
        case "aws:ec2/routeTable:RouteTable": return { id: `rtb-${h(17)}`, state: {} };
        case "aws:ec2/securityGroup:SecurityGroup": {
            const id = `sg-${h(17)}`;
            return { id, state: { name: inputs.name ?? autoname(name), arn: arn("ec2", `security-group/${id}`) } };
        }
        case "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule":
        case "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": return { id: `sgr-${h(17)}`, state: {} };
        case "aws:iam/role:Role": {
            const roleName = inputs.name ?? autoname(name);
            return { id: roleName, state: { name: roleName, arn: `arn:aws:iam::${account}:role/${roleName}` } };
        }
        case "aws:iam/instanceProfile:InstanceProfile": {
            const n = inputs.name ?? autoname(name);
            return { id: n, state: { name: n, arn: `arn:aws:iam::${account}:instance-profile/${n}` } };
        }
        case "aws:secretsmanager/secret:Secret": {
            const secretArn = arn("secretsmanager", `secret:${autoname(name)}-${h(6)}`);
            return { id: secretArn, state: { arn: secretArn, name: autoname(name) } };
        }
        case "aws:rds/instance:Instance": {
            const identifier = inputs.identifier ?? autoname(name);
            const address = `${identifier}.c${h(11)}.${region}.rds.amazonaws.com`;
            return { id: identifier, state: { identifier, address, endpoint: `${address}:3306`, port: 3306, arn: arn("rds", `db:${identifier}`) } };
        }
        case "aws:rds/subnetGroup:SubnetGroup":
        case "aws:rds/parameterGroup:ParameterGroup": {
            const n = inputs.name ?? autoname(name);
            return { id: n, state: { name: n } };
        }
        case "aws:efs/fileSystem:FileSystem": {
            const id = `fs-${h(17)}`;
            return { id, state: { dnsName: `${id}.efs.${region}.amazonaws.com`, arn: arn("elasticfilesystem", `file-system/${id}`) } };
        }
        case "aws:efs/mountTarget:MountTarget": return { id: `fsmt-${h(17)}`, state: {} };
        case "aws:route53/zone:Zone": return { id: `Z${h(20).toUpperCase()}`, state: { zoneId: `Z${h(20).toUpperCase()}` } };
        case "aws:lb/loadBalancer:LoadBalancer": {
            const n = inputs.name ?? autoname(name).slice(0, 32);
            const lbArn = arn("elasticloadbalancing", `loadbalancer/app/${n}/${h(16)}`);
            return { id: lbArn, state: { arn: lbArn, name: n, dnsName: `${n}-${parseInt(h(8), 16)}.${region}.elb.amazonaws.com`, zoneId: "Z32O12XQLNTSW2" } };
        }
        case "aws:lb/targetGroup:TargetGroup": {
            const n = inputs.name ?? autoname(name).slice(0, 32);
            const tgArn = arn("elasticloadbalancing", `targetgroup/${n}/${h(16)}`);
            return { id: tgArn, state: { arn: tgArn, name: n } };
        }
        case "aws:lb/listener:Listener": {
            const lArn = arn("elasticloadbalancing", `listener/app/${h(16)}`);
            return { id: lArn, state: { arn: lArn } };
        }
        case "aws:acm/certificate:Certificate": {
            const cArn = arn("acm", `certificate/${h(8)}-${h(12).slice(8)}`);
            return { id: cArn, state: { arn: cArn } };
        }
        case "aws:ec2/launchTemplate:LaunchTemplate": return { id: `lt-${h(17)}`, state: { latestVersion: 1, defaultVersion: 1 } };
        case "aws:autoscaling/group:Group": {
            const n = inputs.name ?? autoname(name);
            return { id: n, state: { name: n, arn: arn("autoscaling", `autoScalingGroup:${h(8)}:autoScalingGroupName/${n}`) } };
        }
        case "random:index/randomPassword:RandomPassword": return { id: "none", state: { result: `mock-secret-${h(24)}` } };
        case "tls:index/privateKey:PrivateKey": return { id: h(40), state: { privateKeyPem: `-----BEGIN PRIVATE KEY-----\nmock-secret-${h(24)}\n-----END PRIVATE KEY-----\n`, publicKeyOpenssh: `ssh-rsa AAAAmock${h(16)} generated` } };
        case "tls:index/selfSignedCert:SelfSignedCert": return { id: h(32), state: { certPem: `-----BEGIN CERTIFICATE-----\nmock-self-signed-${h(16)}\n-----END CERTIFICATE-----\n` } };
        default: return { id: `${name}-${h(8)}`, state: {} };
    }
}

/**
 * Mocks for pulumi.runtime.setMocks that record every registration. `records` is the shared
 * list; callers filter it by name (tests) or take it whole (synth).
 */
export function createMocks(options: MockOptions = {}): { mocks: pulumi.runtime.Mocks; records: RecordedResource[] } {
    const records: RecordedResource[] = [];
    const o = { region: options.region ?? "eu-west-1", location: options.location ?? "westeurope" };
    const platform = options.platformOutputs ?? platformPlaceholders;
    const mocks: pulumi.runtime.Mocks = {
        newResource(args) {
            let result: { id: string; state: Record<string, any> };
            if (args.type === "pulumi:pulumi:StackReference") {
                const stack = String(args.inputs.name ?? args.name);
                result = { id: stack, state: { name: stack, outputs: platform(stack), secretOutputNames: [] } };
            } else {
                const c = computed(args.type, args.name, args.inputs, o);
                result = { id: c.id, state: { ...args.inputs, ...c.state } };
            }
            records.push({
                type: args.type,
                name: args.name,
                parent: "",
                urn: (args as { urn?: string }).urn ?? "",
                custom: args.custom ?? true,
                inputs: args.inputs,
                state: result.state,
                provider: args.provider,
            });
            return result;
        },
        call(args) {
            switch (args.token) {
                case "aws:ec2/getAmi:getAmi":
                    return { id: `ami-${stableHex(JSON.stringify(args.inputs), 17)}`, name: "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-<mock>", architecture: "x86_64" };
                default:
                    return args.inputs;
            }
        },
    };
    return { mocks, records };
}

/** Waits until every registration the program started has reached the mocks. */
export async function settle(): Promise<void> {
    // waitForRPCs is internal to the SDK but exported; it drains the pending RPC queue.
    const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs?: () => Promise<void> };
    for (let i = 0; i < 3; i++) {
        if (settings.waitForRPCs) await settings.waitForRPCs();
        await new Promise((r) => setImmediate(r));
    }
}
