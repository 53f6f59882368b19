// Application Gateway v2 (Standard_v2, zones 1-3, autoscaling from 2 instances): HTTPS 443
// with a modern TLS policy, 80 only redirects to 443, cookie-based affinity, HTTPS to the nodes'
// static IPs on 9443. Health probe every 5 s, timeout 4 s, 2 failures => a dead node is out of
// rotation in about 10 s (interval x unhealthy threshold).
//
// Listener certificate: a Key Vault secret id (config `certificate`; the gateway reads it with
// a user-assigned identity that the certificate's vault must grant "Key Vault Secrets User",
// see README) or, outside production, a self-signed certificate packed into a PFX here.
// Backend trust: the cluster's own CA (backendTls.ts explains why).
import * as pulumi from "@pulumi/pulumi";
import * as managedidentity from "@pulumi/azure-native/managedidentity";
import * as network from "@pulumi/azure-native/network";
import { ClusterConfig } from "../config/schema";
import { isHttpsPort } from "../model";
import { generatedPassword } from "../shared/passwords";
import { buildPfx } from "./pfx";
import { selfSignedCertificate } from "../shared/selfSigned";

export const healthCheck = { intervalSeconds: 5, timeoutSeconds: 4, unhealthyThreshold: 2 } as const;
export const sslPolicyName = "AppGwSslPolicy20220101S";
export const autoscale = { minCapacity: 2, maxCapacity: 10 } as const;
export const gatewayZones = ["1", "2", "3"];

/** Names of the gateway's sub-resources; their ids derive from the gateway's own id. */
export const parts = {
    gatewayIp: "gateway-ip",
    frontendIp: "public",
    httpsPort: "https-443",
    httpPort: "http-80",
    // Short on purpose: the whole sslCertificates collection is a secret, and synth scrubs its strings everywhere.
    listenerCert: "https",
    backendCa: "backend-ca",
    pool: "is-nodes",
    settings: "is-https-9443",
    probe: "is-health",
    httpsListener: "https",
    httpListener: "http",
    redirect: "http-to-https",
    httpsRule: "https-to-is",
    httpRule: "http-redirect",
} as const;

export interface AzureLoadBalancer {
    gateway: network.ApplicationGateway;
    publicIp: network.PublicIPAddress;
    /** The identity that reads a Key Vault listener certificate (key-vault certificates only). */
    identity?: managedidentity.UserAssignedIdentity;
}

export function createLoadBalancer(
    name: string,
    args: {
        config: ClusterConfig;
        resourceGroupName: pulumi.Input<string>;
        location: pulumi.Input<string>;
        subscriptionId: pulumi.Input<string>;
        gatewayName: string;
        gatewaySubnetId: pulumi.Input<string>;
        nodeIps: string[];
        /** Base64 DER of the CA that signed the nodes' 9443 certificate. */
        backendCaData: pulumi.Input<string>;
        healthCheckPath: string;
        tags: Record<string, string>;
    },
    parent: pulumi.Resource,
): AzureLoadBalancer {
    const { config } = args;
    const common = { resourceGroupName: args.resourceGroupName, location: args.location, tags: args.tags };
    const publicIp = new network.PublicIPAddress(
        `${name}-gateway`,
        {
            ...common,
            sku: { name: "Standard", tier: "Regional" },
            publicIPAllocationMethod: "Static",
            publicIPAddressVersion: "IPv4",
            // Zone-redundant, like the gateway.
            zones: gatewayZones,
        },
        { parent },
    );

    const id = (collection: string, item: string) =>
        pulumi.interpolate`/subscriptions/${args.subscriptionId}/resourceGroups/${args.resourceGroupName}/providers/Microsoft.Network/applicationGateways/${args.gatewayName}/${collection}/${item}`;
    const ref = (collection: string, item: string) => ({ id: id(collection, item) });

    const listener = listenerCertificate(name, config, common, parent);

    const gateway = new network.ApplicationGateway(
        `${name}-gateway`,
        {
            ...common,
            applicationGatewayName: args.gatewayName,
            sku: { name: "Standard_v2", tier: "Standard_v2" },
            autoscaleConfiguration: {
                minCapacity: autoscale.minCapacity,
                maxCapacity: autoscale.maxCapacity,
            },
            zones: gatewayZones,
            enableHttp2: true,
            identity: listener.identity
                ? { type: "UserAssigned", userAssignedIdentities: [listener.identity.id] }
                : undefined,
            sslPolicy: { policyType: "Predefined", policyName: sslPolicyName },
            gatewayIPConfigurations: [{ name: parts.gatewayIp, subnet: { id: args.gatewaySubnetId } }],
            frontendIPConfigurations: [{ name: parts.frontendIp, publicIPAddress: { id: publicIp.id } }],
            frontendPorts: [
                { name: parts.httpsPort, port: 443 },
                { name: parts.httpPort, port: 80 },
            ],
            sslCertificates: [{ name: parts.listenerCert, ...listener.certificate }],
            trustedRootCertificates: [{ name: parts.backendCa, data: args.backendCaData }],
            backendAddressPools: [
                { name: parts.pool, backendAddresses: args.nodeIps.map((ipAddress) => ({ ipAddress })) },
            ],
            probes: [
                {
                    name: parts.probe,
                    protocol: "Https",
                    path: args.healthCheckPath,
                    interval: healthCheck.intervalSeconds,
                    timeout: healthCheck.timeoutSeconds,
                    unhealthyThreshold: healthCheck.unhealthyThreshold,
                    // SNI and Host of the probe: the settings' hostName (the name on the nodes' certificate).
                    pickHostNameFromBackendHttpSettings: true,
                    match: { statusCodes: ["200"] },
                },
            ],
            backendHttpSettingsCollection: [
                {
                    name: parts.settings,
                    port: isHttpsPort,
                    protocol: "Https",
                    // IS keeps login and OIDC state per node: a session must stay on its node.
                    cookieBasedAffinity: "Enabled",
                    // IS holds long requests (bulk SCIM, reports); matches the nginx proxy_read_timeout.
                    requestTimeout: 300,
                    // Host header and SNI: the public hostname, which IS expects and the nodes' certificate names.
                    hostName: config.hostname,
                    pickHostNameFromBackendAddress: false,
                    trustedRootCertificates: [ref("trustedRootCertificates", parts.backendCa)],
                    probe: ref("probes", parts.probe),
                    connectionDraining: { enabled: true, drainTimeoutInSec: 30 },
                },
            ],
            httpListeners: [
                {
                    name: parts.httpsListener,
                    protocol: "Https",
                    frontendIPConfiguration: ref("frontendIPConfigurations", parts.frontendIp),
                    frontendPort: ref("frontendPorts", parts.httpsPort),
                    sslCertificate: ref("sslCertificates", parts.listenerCert),
                },
                {
                    name: parts.httpListener,
                    protocol: "Http",
                    frontendIPConfiguration: ref("frontendIPConfigurations", parts.frontendIp),
                    frontendPort: ref("frontendPorts", parts.httpPort),
                },
            ],
            redirectConfigurations: [
                {
                    name: parts.redirect,
                    redirectType: "Permanent",
                    targetListener: ref("httpListeners", parts.httpsListener),
                    includePath: true,
                    includeQueryString: true,
                },
            ],
            requestRoutingRules: [
                {
                    name: parts.httpsRule,
                    ruleType: "Basic",
                    priority: 100,
                    httpListener: ref("httpListeners", parts.httpsListener),
                    backendAddressPool: ref("backendAddressPools", parts.pool),
                    backendHttpSettings: ref("backendHttpSettingsCollection", parts.settings),
                },
                {
                    name: parts.httpRule,
                    ruleType: "Basic",
                    priority: 200,
                    httpListener: ref("httpListeners", parts.httpListener),
                    redirectConfiguration: ref("redirectConfigurations", parts.redirect),
                },
            ],
        },
        {
            parent,
            // An explicit name: a replacement must go before its successor takes the name.
            deleteBeforeReplace: true,
        },
    );
    return { gateway, publicIp, identity: listener.identity };
}

/** The listener's certificate: a Key Vault reference, or (outside production) a self-signed PFX. */
function listenerCertificate(
    name: string,
    config: ClusterConfig,
    common: {
        resourceGroupName: pulumi.Input<string>;
        location: pulumi.Input<string>;
        tags: Record<string, string>;
    },
    parent: pulumi.Resource,
): {
    certificate:
        { keyVaultSecretId: string } | { data: pulumi.Output<string>; password: pulumi.Output<string> };
    identity?: managedidentity.UserAssignedIdentity;
} {
    if (config.certificate.kind === "key-vault") {
        // The vault holding the certificate belongs to the user: grant this identity
        // "Key Vault Secrets User" on it (README: Azure, listener certificate).
        const identity = new managedidentity.UserAssignedIdentity(`${name}-gateway`, common, { parent });
        return { certificate: { keyVaultSecretId: config.certificate.secretId }, identity };
    }
    if (config.certificate.kind !== "self-signed") {
        throw new pulumi.RunError(
            `wso2is-cluster:certificate: an ACM certificate cannot serve an Azure Application Gateway; use a Key Vault secret id or self-signed`,
        );
    }
    const { key, cert } = selfSignedCertificate(name, config.hostname, parent);
    // Letters and digits only: the legacy PFX form Azure's upload paths accept (pfx.ts).
    const password = generatedPassword(`${name}-listener-pfx-password`, parent, { alphanumeric: true });
    const data = pulumi
        .all([key.privateKeyPemPkcs8, cert.certPem, password])
        .apply(([k, c, p]) => buildPfx(k, c, p, { friendlyName: config.hostname }).toString("base64"));
    return { certificate: { data: pulumi.secret(data), password: pulumi.secret(password) } };
}
