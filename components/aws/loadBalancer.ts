// Internet-facing ALB: HTTPS 443 with a modern TLS policy, 80 only redirects, sticky target
// group to the nodes' 9443 over HTTPS. Health check: every 5 s, 2 failures => a dead node is
// out of rotation in about 10 s (interval x unhealthy threshold).
import * as pulumi from "@pulumi/pulumi";
import * as acm from "@pulumi/aws/acm";
import * as lb from "@pulumi/aws/lb";
import { ClusterConfig } from "../config/schema";
import { isHttpsPort } from "../model";
import { selfSignedCertificate } from "../shared/selfSigned";

export const healthCheck = {
    intervalSeconds: 5,
    timeoutSeconds: 4,
    healthyThreshold: 2,
    unhealthyThreshold: 2,
} as const;
export const tlsPolicy = "ELBSecurityPolicy-TLS13-1-2-2021-06";

export interface AwsLoadBalancer {
    alb: lb.LoadBalancer;
    targetGroup: lb.TargetGroup;
    /** HTTPS and HTTP: an ECS service may register targets only once its group has a listener. */
    listeners: lb.Listener[];
}

export function createLoadBalancer(
    name: string,
    args: {
        config: ClusterConfig;
        vpcId: pulumi.Input<string>;
        subnetIds: pulumi.Input<string>[];
        securityGroupId: pulumi.Input<string>;
        healthCheckPath: string;
        tags: Record<string, string>;
    },
    parent: pulumi.Resource,
): AwsLoadBalancer {
    const { config } = args;
    const alb = new lb.LoadBalancer(
        `${name}-alb`,
        {
            loadBalancerType: "application",
            internal: false,
            subnets: args.subnetIds,
            securityGroups: [args.securityGroupId],
            // IS holds long requests (bulk SCIM, reports); matches the nginx proxy_read_timeout.
            idleTimeout: 300,
            dropInvalidHeaderFields: true,
            enableDeletionProtection: config.production,
            tags: args.tags,
        },
        { parent },
    );

    const targetGroup = new lb.TargetGroup(
        `${name}-is`,
        {
            vpcId: args.vpcId,
            port: isHttpsPort,
            protocol: "HTTPS",
            targetType: "instance",
            deregistrationDelay: 30,
            // IS keeps login and OIDC state per node: a session must stay on its node.
            stickiness: { type: "lb_cookie", enabled: true, cookieDuration: 86400 },
            healthCheck: {
                enabled: true,
                protocol: "HTTPS",
                port: "traffic-port",
                path: args.healthCheckPath,
                matcher: "200",
                interval: healthCheck.intervalSeconds,
                timeout: healthCheck.timeoutSeconds,
                healthyThreshold: healthCheck.healthyThreshold,
                unhealthyThreshold: healthCheck.unhealthyThreshold,
            },
            tags: args.tags,
        },
        { parent },
    );

    const https = new lb.Listener(
        `${name}-https`,
        {
            loadBalancerArn: alb.arn,
            port: 443,
            protocol: "HTTPS",
            sslPolicy: tlsPolicy,
            certificateArn: certificateArn(name, config, parent),
            defaultActions: [{ type: "forward", targetGroupArn: targetGroup.arn }],
            tags: args.tags,
        },
        { parent },
    );
    const http = new lb.Listener(
        `${name}-http`,
        {
            loadBalancerArn: alb.arn,
            port: 80,
            protocol: "HTTP",
            defaultActions: [
                { type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } },
            ],
            tags: args.tags,
        },
        { parent },
    );
    return { alb, targetGroup, listeners: [https, http] };
}

/** The configured ACM certificate, or (outside production only) a self-signed one imported into ACM. */
function certificateArn(name: string, config: ClusterConfig, parent: pulumi.Resource): pulumi.Input<string> {
    if (config.certificate.kind === "acm") return config.certificate.arn;
    const { key, cert } = selfSignedCertificate(name, config.hostname, parent);
    return new acm.Certificate(
        `${name}-self-signed`,
        { privateKey: key.privateKeyPem, certificateBody: cert.certPem },
        { parent },
    ).arn;
}
