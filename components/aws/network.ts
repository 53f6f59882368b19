// The VPC the cluster lives in: taken from the platform stack, or created here with public
// subnets (ALB, NAT) and private subnets (nodes, RDS, EFS) in two availability zones.
import * as pulumi from "@pulumi/pulumi";
import * as ec2 from "@pulumi/aws/ec2";
import { getAvailabilityZonesOutput } from "@pulumi/aws/getAvailabilityZones";
import { subnetCidr } from "../model/network";
import { z } from "zod";
import { PlatformOutputs, parsePlatform, platformContract, platformField } from "../platform";

export interface AwsNetwork {
    vpcId: pulumi.Input<string>;
    publicSubnetIds: pulumi.Input<string>[];
    privateSubnetIds: pulumi.Input<string>[];
    /**
     * What gives the private subnets their way out (NAT gateways, private route tables and their
     * associations) when this stack creates them: nodes launch only after these exist. Empty with
     * a platform network (its egress exists before this stack runs).
     */
    egress?: pulumi.Resource[];
}

/** The platform stack contract for cloud aws. */
export const awsPlatformOutputs = platformContract(
    z.object({
        vpcId: platformField.string(),
        privateSubnetIds: platformField.ids(2),
        publicSubnetIds: platformField.ids(2),
    }),
);

export function networkFromPlatform(p: PlatformOutputs): AwsNetwork {
    const v = parsePlatform(p, awsPlatformOutputs);
    return {
        vpcId: v.vpcId,
        publicSubnetIds: v.publicSubnetIds,
        privateSubnetIds: v.privateSubnetIds,
        egress: [],
    };
}

export const availabilityZoneCount = 2;

export function createNetwork(
    name: string,
    args: { cidr: string; region: string; production: boolean; tags: Record<string, string> },
    parent: pulumi.Resource,
): AwsNetwork {
    const opts = { parent };
    // The account's zone names (not every region has an "a" and a "b"): the first two available.
    const available = getAvailabilityZonesOutput({ state: "available" }, { parent }).names;
    const zones = Array.from({ length: availabilityZoneCount }, (_, i) =>
        available.apply((names) => {
            if (names.length < availabilityZoneCount)
                throw new pulumi.RunError(
                    `${args.region} has ${names.length} available zone(s); the cluster needs ${availabilityZoneCount}`,
                );
            return names[i];
        }),
    );
    const vpc = new ec2.Vpc(
        `${name}-vpc`,
        {
            cidrBlock: args.cidr,
            enableDnsHostnames: true,
            enableDnsSupport: true,
            tags: { ...args.tags, Name: `${name}-vpc` },
        },
        opts,
    );
    const igw = new ec2.InternetGateway(
        `${name}-igw`,
        { vpcId: vpc.id, tags: { ...args.tags, Name: `${name}-igw` } },
        opts,
    );
    const publicRoutes = new ec2.RouteTable(
        `${name}-public`,
        {
            vpcId: vpc.id,
            routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }],
            tags: { ...args.tags, Name: `${name}-public` },
        },
        opts,
    );

    const publicSubnets = zones.map((az, i) => {
        const subnet = new ec2.Subnet(
            `${name}-public-${i + 1}`,
            {
                vpcId: vpc.id,
                availabilityZone: az,
                cidrBlock: subnetCidr(args.cidr, 24, i),
                mapPublicIpOnLaunch: false,
                tags: { ...args.tags, Name: `${name}-public-${i + 1}`, tier: "public" },
            },
            opts,
        );
        new ec2.RouteTableAssociation(
            `${name}-public-${i + 1}`,
            { subnetId: subnet.id, routeTableId: publicRoutes.id },
            opts,
        );
        return subnet;
    });

    // One NAT per zone in production (a zone outage keeps egress); one shared NAT otherwise.
    const natCount = args.production ? zones.length : 1;
    const nats = Array.from({ length: natCount }, (_, i) => {
        const eip = new ec2.Eip(
            `${name}-nat-${i + 1}`,
            { domain: "vpc", tags: { ...args.tags, Name: `${name}-nat-${i + 1}` } },
            opts,
        );
        return new ec2.NatGateway(
            `${name}-nat-${i + 1}`,
            {
                allocationId: eip.id,
                subnetId: publicSubnets[i].id,
                tags: { ...args.tags, Name: `${name}-nat-${i + 1}` },
            },
            { parent, dependsOn: [igw] },
        );
    });

    const egress: pulumi.Resource[] = [...nats];
    const privateSubnets = zones.map((az, i) => {
        const subnet = new ec2.Subnet(
            `${name}-private-${i + 1}`,
            {
                vpcId: vpc.id,
                availabilityZone: az,
                cidrBlock: subnetCidr(args.cidr, 24, zones.length + i),
                tags: { ...args.tags, Name: `${name}-private-${i + 1}`, tier: "private" },
            },
            opts,
        );
        const routes = new ec2.RouteTable(
            `${name}-private-${i + 1}`,
            {
                vpcId: vpc.id,
                routes: [{ cidrBlock: "0.0.0.0/0", natGatewayId: nats[Math.min(i, natCount - 1)].id }],
                tags: { ...args.tags, Name: `${name}-private-${i + 1}` },
            },
            opts,
        );
        const association = new ec2.RouteTableAssociation(
            `${name}-private-${i + 1}`,
            { subnetId: subnet.id, routeTableId: routes.id },
            opts,
        );
        egress.push(routes, association);
        return subnet;
    });

    return {
        vpcId: vpc.id,
        publicSubnetIds: publicSubnets.map((s) => s.id),
        privateSubnetIds: privateSubnets.map((s) => s.id),
        egress,
    };
}
