// wso2is:azure:VmCluster: a 2+ node WSO2 IS cluster on Azure VMs with static private IPs and
// the `wka` membership scheme, MySQL Flexible Server, Azure Files (NFS or SMB), an Application
// Gateway v2 and Key Vault. Each concern lives in its own file; this class wires them and
// renders the nodes' cloud-init from the cluster model.
import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization";
import { ClusterConfig } from "../config/schema";
import { ClusterModel, buildClusterModel, healthCheckPath } from "../model";
import { renderCloudInit } from "../render/cloudInit";
import { gzipStable } from "../render/gzip";
import { renderNginxConf } from "../render/nginx";
import { dbAdminUser } from "../shared/passwords";
import { createBackendTls } from "../shared/backendTls";
import { clusterTags, createClusterData, createNames, createResourceGroup, grantSecretRead } from "../azure";
import { createLoadBalancer, healthCheck } from "./loadBalancer";
import { AzureNetwork, createNetwork, subnetPlan } from "./network";
import { NodeSpec, createNodes, planNodes, zonesInUse } from "./nodes";
import { AzureSecurityGroups, createSecurityGroups, ports } from "./securityGroups";
import { AzureSharedFs, createSharedFs, ownNfs } from "./sharedFs";

export { clusterTagKey } from "../azure";
export { azurePlatformOutputs, networkFromPlatform } from "./network";

export interface AzureVmClusterArgs {
    config: ClusterConfig;
    /** Azure region (the azure-native:location of the stack); a platform network brings its own. */
    location: string;
    /** From the platform stack; when absent the component creates the resource group and VNet. */
    network?: AzureNetwork;
    /** IS super admin password from config; generated when absent. */
    adminPassword?: pulumi.Output<string>;
}

/**
 * Azure takes at most 65535 bytes of customData after base64 decoding (Compute API OSProfile:
 * "The maximum length of the binary array is 65535 bytes"; azure-sdk-for-go armcompute
 * models.go OSProfile.CustomData).
 */
export const customDataLimitBytes = 65535;

/** customData: gzip (cloud-init unpacks it, render/gzip.ts) with a fixed header, base64. */
export function customDataBase64(cloudInit: string): string {
    const packed = gzipStable(cloudInit);
    if (packed.length > customDataLimitBytes) {
        throw new pulumi.RunError(
            `the nodes' cloud-init is ${packed.length} bytes gzipped; Azure accepts ${customDataLimitBytes} bytes of customData`,
        );
    }
    return packed.toString("base64");
}

/** The version of a Key Vault secret: the last segment of its secretUriWithVersion. */
export function keyVaultSecretVersion(uriWithVersion: string | undefined): string | undefined {
    const m = /\/secrets\/[^/]+\/([^/?#]+)$/.exec(uriWithVersion ?? "");
    return m?.[1];
}

export class AzureVmCluster extends pulumi.ComponentResource {
    public readonly url: pulumi.Output<string>;
    public readonly hostname: pulumi.Output<string>;
    /** The Application Gateway's public IP: point the hostname's DNS record here. */
    public readonly gatewayAddress: pulumi.Output<string>;
    public readonly databaseFqdn: pulumi.Output<string>;
    /** URL of the cluster secret in Key Vault (an id; the value never leaves the vault). */
    public readonly keyVaultSecretId: pulumi.Output<string>;
    public readonly sharedFsId: pulumi.Output<string>;
    public readonly nodeIps: pulumi.Output<string[]>;
    public readonly membershipScheme: pulumi.Output<string>;
    public readonly nodeCount: pulumi.Output<number>;
    /** The cluster's token-signing certificate (PEM, public): relying parties may pin it. */
    public readonly signingCertificatePem: pulumi.Output<string>;
    /** Public half of the nodes' admin key (Azure requires one; no rule lets SSH in: break-glass is Run Command). */
    public readonly sshPublicKey: pulumi.Output<string>;
    /** With a Key Vault listener certificate: the identity the certificate's vault must trust. */
    public readonly gatewayIdentityPrincipalId?: pulumi.Output<string>;
    /** The cluster model the nodes' files are rendered from (resolved values). */
    public readonly model: pulumi.Output<ClusterModel>;
    /** cloud-init user-data per node name (plain text; holds no secret). */
    public readonly cloudInit: pulumi.Output<Record<string, string>>;
    /** nginx.conf for fronting the nodes with your own nginx instead of the gateway. */
    public readonly nginxConf: pulumi.Output<string>;

    constructor(name: string, args: AzureVmClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("wso2is:azure:VmCluster", name, {}, opts);
        const { config } = args;
        const clusterName = name;
        const tags = clusterTags(clusterName);
        const client = authorization.getClientConfigOutput({ parent: this });
        const sharePorts =
            config.sharedFs.kind === "azure-files-nfs"
                ? [ports.nfs]
                : config.sharedFs.kind === "azure-files-smb"
                  ? [ports.smb]
                  : [];

        let network: AzureNetwork;
        let groups: AzureSecurityGroups;
        if (args.network) {
            network = args.network;
            if (!network.gatewaySubnetCidr) {
                void pulumi.log.warn(
                    "the platform stack exports no gatewaySubnetCidr: the nodes accept 9443 from the whole VNet instead of the gateway subnet only",
                    this,
                );
            }
            groups = createSecurityGroups(
                name,
                {
                    resourceGroupName: network.resourceGroupName,
                    location: network.location,
                    nodeSubnetCidr: network.nodeSubnetCidr,
                    gatewaySubnetCidr: network.gatewaySubnetCidr,
                    allowedCidrs: config.network.allowedCidrs,
                    sharePorts,
                    tags,
                },
                this,
            );
        } else {
            const group = createResourceGroup(name, { location: args.location, tags }, this);
            const plan = subnetPlan(config.network.cidr);
            groups = createSecurityGroups(
                name,
                {
                    resourceGroupName: group.name,
                    location: args.location,
                    nodeSubnetCidr: plan.nodes,
                    created: { gateway: plan.gateway, database: plan.database, endpoints: plan.endpoints },
                    allowedCidrs: config.network.allowedCidrs,
                    sharePorts,
                    tags,
                },
                this,
            );
            network = createNetwork(
                name,
                {
                    resourceGroupName: group.name,
                    location: args.location,
                    cidr: config.network.cidr,
                    zones: zonesInUse(config.nodes),
                    securityGroups: groups,
                    tags,
                },
                this,
            );
        }
        const where = { resourceGroupName: network.resourceGroupName, location: network.location };

        // Static IPs: the WKA members list is complete before any VM exists.
        let nodes: NodeSpec[];
        try {
            nodes = planNodes(network.nodeSubnets, config.nodes);
        } catch (e) {
            throw new pulumi.RunError(
                `wso2is-cluster:nodes = ${config.nodes} does not fit the node subnet ${network.nodeSubnetCidr}${args.network ? " of the platform stack (output nodeSubnetCidr)" : ""}: ${(e as Error).message}`,
            );
        }
        const nodeIps = nodes.map((n) => n.ip);
        const names = createNames(name, this);
        const backendTls = createBackendTls(name, { hostname: config.hostname, nodeIps, clusterName }, this);

        const sharedFs: AzureSharedFs =
            config.sharedFs.kind === "nfs"
                ? ownNfs(config.sharedFs.address!)
                : createSharedFs(
                      name,
                      {
                          ...where,
                          tags,
                          protocol: config.sharedFs.kind === "azure-files-smb" ? "smb" : "nfs",
                          production: config.production,
                          accountName: names.storageAccount,
                          endpointSubnetId: network.endpointSubnetId,
                          vnetId: network.vnetId,
                          dnsZoneId: network.fileDnsZoneId,
                      },
                      this,
                  );

        const { secret, database } = createClusterData(
            name,
            { config, network, names, tags, client },
            {
                adminPassword: args.adminPassword,
                smbCredentials: sharedFs.smbCredentials,
                backendTls,
                egressIps: network.egressIps,
            },
            this,
        );

        // Everything a node needs, resolved from names alone: none of it waits for the
        // database, the storage account or the vault to exist.
        this.model = pulumi
            .all([
                database.host,
                sharedFs.facts,
                secret.secretUrl,
                // A new version of the cluster secret changes every node's files, so the nodes
                // roll one by one and read it (docs/vm-nodes.md, "Rotation").
                secret.secret.properties.apply((p) => keyVaultSecretVersion(p.secretUriWithVersion)),
            ])
            .apply(([dbHost, share, secretUrl, version]) =>
                buildClusterModel(config, {
                    clusterName,
                    database: { host: dbHost, port: 3306, tls: true, adminUser: dbAdminUser },
                    sharedFs: share,
                    secrets: { source: "azure-key-vault", id: secretUrl, version },
                    nodeIp: "static",
                    nodes,
                    membership: { scheme: "wka" },
                    // The gateway verifies 9443 against the cluster CA (backendTls.ts).
                    backendTls: true,
                }),
            );
        this.cloudInit = this.model.apply((m) =>
            Object.fromEntries(m.nodes.map((n) => [n.name, renderCloudInit(m, n)])),
        );

        const loadBalancer = createLoadBalancer(
            name,
            {
                ...where,
                config,
                tags,
                subscriptionId: client.subscriptionId,
                gatewayName: names.applicationGateway,
                gatewaySubnetId: network.gatewaySubnetId,
                nodeIps,
                backendCaData: backendTls.caCertData,
                healthCheckPath,
            },
            this,
        );

        const vms = createNodes(
            name,
            {
                ...where,
                config,
                tags,
                nodes,
                securityGroupId: groups.nodes.id,
                customData: nodes.map((n) =>
                    this.cloudInit.apply((byNode) => customDataBase64(byNode[n.name])),
                ),
                // The gate makes the gateway's probe from the node (render/healthGate.ts).
                probe: {
                    hostname: config.hostname,
                    port: ports.isHttps,
                    path: healthCheckPath,
                    caPem: backendTls.caCertificatePem,
                    // A few probe intervals past the node's first 200: the gateway has seen it too.
                    settleSeconds: healthCheck.intervalSeconds * (healthCheck.unhealthyThreshold + 1),
                },
                // A node reads the cluster secret at boot: its grant comes before its gate, and
                // so does the gateway whose probe the gate stands in for.
                needs: (vm, node) => [
                    loadBalancer.gateway,
                    grantSecretRead(
                        `${name}-${node.name}-secret-read`,
                        {
                            principalId: vm.identity.apply((identity) => identity?.principalId ?? ""),
                            secretResourceId: secret.secret.id,
                            subscriptionId: client.subscriptionId,
                        },
                        this,
                    ),
                ],
            },
            this,
        );
        this.hostname = pulumi.output(config.hostname);
        this.url = pulumi.output(`https://${config.hostname}`);
        this.gatewayAddress = loadBalancer.publicIp.ipAddress.apply((ip) => ip ?? "");
        this.databaseFqdn = database.server.fullyQualifiedDomainName;
        this.keyVaultSecretId = secret.secretUrl;
        this.sharedFsId = pulumi.output(sharedFs.id);
        this.nodeIps = pulumi.output(nodeIps);
        this.membershipScheme = pulumi.output(config.membership);
        this.nodeCount = pulumi.output(config.nodes);
        this.signingCertificatePem = secret.material.signing.certificatePem;
        this.sshPublicKey = vms.sshPublicKey;
        this.gatewayIdentityPrincipalId = loadBalancer.identity?.principalId;
        this.nginxConf = pulumi.output(
            renderNginxConf({
                hostname: config.hostname,
                backends: nodeIps.map((address) => ({ address, port: ports.isHttps })),
                tlsCertificatePath: `/etc/nginx/tls/${config.hostname}.crt`,
                tlsKeyPath: `/etc/nginx/tls/${config.hostname}.key`,
                healthPath: healthCheckPath,
            }),
        );
        this.registerOutputs(this.outputs());
    }

    /** The stack outputs (the same names on every target where they apply). */
    public outputs(): Record<string, pulumi.Output<unknown>> {
        return {
            url: this.url,
            hostname: this.hostname,
            gatewayAddress: this.gatewayAddress,
            databaseFqdn: this.databaseFqdn,
            keyVaultSecretId: this.keyVaultSecretId,
            sharedFsId: this.sharedFsId,
            nodeIps: this.nodeIps,
            membershipScheme: this.membershipScheme,
            nodeCount: this.nodeCount,
            signingCertificatePem: this.signingCertificatePem,
            sshPublicKey: this.sshPublicKey,
            ...(this.gatewayIdentityPrincipalId
                ? { gatewayIdentityPrincipalId: this.gatewayIdentityPrincipalId }
                : {}),
        };
    }
}
