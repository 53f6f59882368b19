// wso2is:azure:AksCluster: IS on AKS with the `kubernetes` membership scheme. An AKS cluster
// (or the platform's, through its kubeconfig), MySQL Flexible Server and the Key Vault of the
// Azure VM target (the same modules), a Retain storage class on Azure Files for the share,
// and the generic wso2is:kubernetes:Workload on top.
import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization";
import * as storage from "@pulumi/kubernetes/storage/v1";
import { ClusterConfig } from "../config/schema";
import { ClusterModel } from "../model";
import {
    clusterTags,
    createClusterData,
    createMirrorRegistry,
    createNames,
    createResourceGroup,
    registryName,
} from "../azure";
import { Workload } from "../kubernetes";
import { IngressArgs } from "../kubernetes/ingress";
import { imageUser } from "../kubernetes/names";
import { workloadImages } from "../kubernetes/images";
import { surgePods } from "../kubernetes/lifecycle";
import { dbAdminUser } from "../shared/passwords";
import { AksKubernetes, createCluster, isPoolLabel, providerFromKubeconfig } from "./cluster";
import { AksNetwork, createNetwork } from "./network";
import { selfSignedCertificate } from "../shared/selfSigned";

export { clusterTagKey } from "../azure";
export { aksPlatformOutputs, networkFromPlatform, platformIngress, platformRegistry } from "./network";

export interface AksClusterArgs {
    config: ClusterConfig;
    location: string;
    /** From the platform stack: its cluster (kubeconfig) and network; otherwise both are created. */
    /** ingress: a Traefik controller the platform runs (its class and namespace); else Traefik is installed here. */
    platform?: {
        network: AksNetwork;
        kubeconfig: string;
        ingress?: { className: string; namespace: string };
        /** The registry the platform's cluster pulls from (mirroring the images' Docker Hub paths). */
        imageRegistry?: string;
    };
    adminPassword?: pulumi.Output<string>;
}

export const storageClassName = "wso2is-files";

export class AksCluster extends pulumi.ComponentResource {
    public readonly url: pulumi.Output<string>;
    public readonly hostname: pulumi.Output<string>;
    /** The ingress controller's public address: point the hostname's DNS record here. */
    public readonly ingressAddress: pulumi.Output<string>;
    public readonly databaseFqdn: pulumi.Output<string>;
    public readonly keyVaultSecretId: pulumi.Output<string>;
    public readonly clusterName: pulumi.Output<string>;
    public readonly namespace: pulumi.Output<string>;
    public readonly membershipScheme: pulumi.Output<string>;
    public readonly nodeCount: pulumi.Output<number>;
    /** The cluster's token-signing certificate (PEM, public): relying parties may pin it. */
    public readonly signingCertificatePem: pulumi.Output<string>;
    /** With a Key Vault certificate: the add-on identity to grant "Key Vault Secrets User" on that vault. */
    public readonly secretsProviderClientId?: pulumi.Output<string>;
    public readonly model: pulumi.Output<ClusterModel>;

    constructor(name: string, args: AksClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("wso2is:azure:AksCluster", name, {}, opts);
        const { config } = args;
        const tags = clusterTags(name);
        const client = authorization.getClientConfigOutput({ parent: this });

        let network: AksNetwork;
        let kube: AksKubernetes;
        const names = createNames(name, this);
        let imageRegistry: pulumi.Input<string> | undefined;
        const imagesReady: pulumi.Resource[] = [];
        if (args.platform) {
            network = args.platform.network;
            kube = providerFromKubeconfig(name, args.platform.kubeconfig, this);
            imageRegistry = args.platform.imageRegistry;
            if (!imageRegistry)
                void pulumi.log.warn(
                    `platform stack exports no imageRegistry: the pods pull anonymously from Docker Hub (10 pulls/hour per IPv4); fine for a trial only`,
                    this,
                );
        } else {
            const group = createResourceGroup(name, { location: args.location, tags }, this);
            network = createNetwork(
                name,
                { resourceGroupName: group.name, location: args.location, cidr: config.network.cidr, tags },
                this,
            );
            kube = createCluster(
                name,
                {
                    config,
                    resourceGroupName: group.name,
                    location: args.location,
                    nodeSubnetId: network.nodeSubnetId!,
                    subscriptionId: client.subscriptionId,
                    tags,
                },
                this,
            );
            // Every image through a registry of this stack's, never anonymously from Docker Hub per node.
            const mirror = createMirrorRegistry(
                name,
                {
                    resourceGroupName: group.name,
                    location: args.location,
                    registryName: names.suffix.apply((s) => registryName(name, s)),
                    subscriptionId: client.subscriptionId,
                    repositories: Object.values(workloadImages(config.is.version)).map((i) => i.repository),
                    pullPrincipalId: kube.kubeletObjectId!,
                    tags,
                },
                this,
            );
            imageRegistry = mirror.loginServer;
            imagesReady.push(...mirror.ready);
        }

        // The same vault and database as the VM target. Pods get the passwords from a
        // Kubernetes Secret; the vault keeps the cluster secret for operators and recovery.
        const { secret, database } = createClusterData(
            name,
            { config, network, names, tags, client },
            { adminPassword: args.adminPassword, surgeNodes: surgePods },
            this,
        );

        // Azure Files through the CSI driver; Retain, so deleting the claim never deletes the share.
        const nfs = config.sharedFs.kind === "azure-files-nfs";
        const storageClass = new storage.StorageClass(
            `${name}-files`,
            {
                metadata: { name: storageClassName },
                provisioner: "file.csi.azure.com",
                reclaimPolicy: "Retain",
                allowVolumeExpansion: true,
                volumeBindingMode: "Immediate",
                parameters: nfs
                    ? { skuName: "Premium_LRS", protocol: "nfs" }
                    : { skuName: config.production ? "Premium_ZRS" : "Standard_LRS" },
                // SMB: files owned by the image's user (802) like on the VM targets' shares.
                mountOptions: nfs
                    ? ["nconnect=4"]
                    : [
                          `uid=${imageUser}`,
                          `gid=${imageUser}`,
                          "dir_mode=0770",
                          "file_mode=0660",
                          "mfsymlinks",
                          "cache=strict",
                          "actimeo=30",
                          "nosharesock",
                      ],
            },
            { parent: this, provider: kube.provider, dependsOn: kube.ready },
        );

        const workload = new Workload(
            name,
            {
                config,
                provider: kube.provider,
                database: { host: database.host, port: 3306, adminUser: dbAdminUser, tls: true },
                passwords: {
                    dbAdmin: secret.dbAdminPassword,
                    dbApp: secret.dbAppPassword,
                    admin: secret.adminPassword,
                },
                keys: { encryptionKey: secret.material.encryptionKey, signing: secret.material.signing },
                storageClassName: storageClass.metadata.name,
                ingress: ingressFor(
                    name,
                    config,
                    args.platform?.ingress,
                    client.tenantId,
                    kube.secretsProviderClientId,
                    this,
                ),
                nodeSelector: args.platform ? undefined : { ...isPoolLabel },
                imageRegistry,
                // Pods start once their node pool, images and database parameters exist; the
                // controller's LoadBalancer once the cluster identity holds its subnet role.
                ready: [...kube.ready, ...imagesReady, database.parameters],
                controllerReady: [...kube.ready, ...imagesReady],
            },
            { parent: this },
        );

        this.hostname = pulumi.output(config.hostname);
        this.url = pulumi.output(`https://${config.hostname}`);
        this.ingressAddress = workload.ingressAddress;
        this.databaseFqdn = database.host;
        this.keyVaultSecretId = secret.secretUrl;
        this.clusterName = kube.cluster ? kube.cluster.name : pulumi.output("<platform cluster>");
        this.namespace = workload.namespace;
        this.membershipScheme = pulumi.output(config.membership);
        this.nodeCount = pulumi.output(config.nodes);
        this.signingCertificatePem = secret.material.signing.certificatePem;
        this.secretsProviderClientId = kube.secretsProviderClientId;
        this.model = workload.model;
        this.registerOutputs(this.outputs());
    }

    public outputs(): Record<string, pulumi.Output<unknown>> {
        return {
            url: this.url,
            hostname: this.hostname,
            ingressAddress: this.ingressAddress,
            databaseFqdn: this.databaseFqdn,
            keyVaultSecretId: this.keyVaultSecretId,
            clusterName: this.clusterName,
            namespace: this.namespace,
            membershipScheme: this.membershipScheme,
            nodeCount: this.nodeCount,
            signingCertificatePem: this.signingCertificatePem,
            ...(this.secretsProviderClientId
                ? { secretsProviderClientId: this.secretsProviderClientId }
                : {}),
        };
    }
}

/**
 * TLS and the controller: Traefik installed here unless the platform runs one (the workload's
 * Service annotations and ServersTransport are Traefik's, so the platform's must be Traefik);
 * the certificate self-signed (not in production) or synced from Key Vault by the CSI add-on.
 */
function ingressFor(
    name: string,
    config: ClusterConfig,
    platformIngress: { className: string; namespace: string } | undefined,
    tenantId: pulumi.Output<string>,
    secretsProviderClientId: pulumi.Output<string> | undefined,
    parent: pulumi.Resource,
): IngressArgs {
    const controller = platformIngress
        ? {
              installController: false,
              controllerNamespace: platformIngress.namespace,
              ingressClassName: platformIngress.className,
          }
        : { installController: true, controllerNamespace: "traefik", ingressClassName: "traefik" };
    if (config.certificate.kind === "key-vault") {
        const m = /^https:\/\/([a-z0-9-]+)\.vault\.azure\.net\/secrets\/([A-Za-z0-9-]+)/.exec(
            config.certificate.secretId,
        )!;
        return {
            ...controller,
            tls: {
                source: "secret-provider-class",
                secretName: "wso2is-tls",
                providerSpec: pulumi
                    .all([tenantId, secretsProviderClientId ?? pulumi.output("")])
                    .apply(([tenant, clientId]) => ({
                        provider: "azure",
                        parameters: {
                            usePodIdentity: "false",
                            useVMManagedIdentity: "true",
                            userAssignedIdentityID: clientId,
                            keyvaultName: m[1],
                            tenantId: tenant,
                            // A Key Vault certificate read as a secret is its PEM bundle (key + chain).
                            objects: `array:\n  - |\n    objectName: ${m[2]}\n    objectType: secret\n`,
                        },
                        secretObjects: [
                            {
                                secretName: "wso2is-tls",
                                type: "kubernetes.io/tls",
                                data: [
                                    { objectName: m[2], key: "tls.key" },
                                    { objectName: m[2], key: "tls.crt" },
                                ],
                            },
                        ],
                    })),
            },
        };
    }
    const { key, cert } = selfSignedCertificate(name, config.hostname, parent);
    return { ...controller, tls: { source: "pem", certPem: cert.certPem, keyPem: key.privateKeyPem } };
}
