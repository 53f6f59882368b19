// Azure Files for the runtime artifacts (Userstores, Tenants): a premium FileStorage account
// reachable only through a private endpoint in the endpoint subnet (privatelink.file DNS zone),
// public network access disabled, encrypted at rest (Microsoft-managed keys). NFS 4.1 by
// default; SMB 3.1.1 as an option, whose storage key travels only in the Key Vault secret.
// The account and the share are protected in production, and their inputs hold nothing an IS
// setting could change, so an innocent change never replaces them.
import * as pulumi from "@pulumi/pulumi";
import * as network from "@pulumi/azure-native/network";
import * as storage from "@pulumi/azure-native/storage";
import { isUid } from "../model";
import { linkedPrivateZone } from "../azure";

export const shareName = "is-share";
/** Premium file shares start at 100 GiB. */
export const shareQuotaGb = 100;
export const smbCredentialsFile = "/etc/wso2is/smb-credentials";

/** Microsoft's recommended NFS options for Azure Files, plus nofail so a late share never blocks boot. */
export const nfsMountOptions = "vers=4,minorversion=1,sec=sys,nconnect=4,_netdev,nofail";
/** SMB 3.1.1 (encrypted), files owned by the IS user (fixed uid/gid) on every node. */
export const smbMountOptions = `vers=3.1.1,uid=${isUid},gid=${isUid},dir_mode=0770,file_mode=0660,serverino,nosharesock,actimeo=30,_netdev,nofail`;
/** For sharedFs "nfs" (the user's own server). */
export const ownNfsMountOptions = "nfsvers=4.1,hard,timeo=600,retrans=2,_netdev,nofail";

export type AzureShareFacts =
    | { protocol: "nfs"; source: string; options: string }
    | { protocol: "smb"; source: string; options: string; credentialsFile: string };

export interface AzureSharedFs {
    account?: storage.StorageAccount;
    share?: storage.FileShare;
    id: pulumi.Input<string>;
    /** What the model needs: known from the account's name alone. */
    facts: pulumi.Output<AzureShareFacts>;
    /** SMB only: the storage account name and key (a Pulumi secret), for the Key Vault secret. */
    smbCredentials?: { username: pulumi.Output<string>; password: pulumi.Output<string> };
}

export function shareFacts(protocol: "nfs" | "smb", accountName: string): AzureShareFacts {
    const host = `${accountName}.file.core.windows.net`;
    return protocol === "nfs"
        ? { protocol, source: `${host}:/${accountName}/${shareName}`, options: nfsMountOptions }
        : {
              protocol,
              source: `//${host}/${shareName}`,
              options: smbMountOptions,
              credentialsFile: smbCredentialsFile,
          };
}

export function createSharedFs(
    name: string,
    args: {
        protocol: "nfs" | "smb";
        production: boolean;
        resourceGroupName: pulumi.Input<string>;
        location: pulumi.Input<string>;
        accountName: pulumi.Output<string>;
        endpointSubnetId: pulumi.Input<string>;
        vnetId: pulumi.Input<string>;
        /** privatelink.file.core.windows.net of the platform; created here when absent. */
        dnsZoneId?: pulumi.Input<string>;
        tags: Record<string, string>;
    },
    parent: pulumi.Resource,
): AzureSharedFs {
    const { protocol, production } = args;
    const common = { resourceGroupName: args.resourceGroupName, location: args.location, tags: args.tags };
    const stateful = { parent, protect: production, retainOnDelete: production };

    const account = new storage.StorageAccount(
        `${name}-files`,
        {
            ...common,
            accountName: args.accountName,
            kind: "FileStorage",
            // Zone-redundant in production; a zone outage then keeps the share.
            sku: { name: production ? "Premium_ZRS" : "Premium_LRS" },
            // NFS has no transport encryption of its own and Azure refuses NFS shares on an account
            // that requires HTTPS: it must be off for NFS. The share is reachable only through the
            // private endpoint from the node subnet. SMB keeps it on (SMB 3.1.1 encrypts).
            enableHttpsTrafficOnly: protocol === "smb",
            minimumTlsVersion: "TLS1_2",
            // Only SMB mounts with the account key; NFS authenticates by network.
            allowSharedKeyAccess: protocol === "smb",
            allowBlobPublicAccess: false,
            publicNetworkAccess: "Disabled",
            networkRuleSet: { defaultAction: "Deny", bypass: "None" },
            encryption: {
                keySource: "Microsoft.Storage",
                services: { file: { enabled: true, keyType: "Account" } },
            },
        },
        stateful,
    );

    const fileService = new storage.FileServiceProperties(
        `${name}-files`,
        {
            resourceGroupName: args.resourceGroupName,
            accountName: account.name,
            fileServicesName: "default",
            // A deleted share can be restored for a while.
            shareDeleteRetentionPolicy: { enabled: true, days: production ? 30 : 7 },
            ...(protocol === "smb"
                ? {
                      protocolSettings: {
                          smb: {
                              versions: "SMB3.1.1",
                              channelEncryption: "AES-128-GCM;AES-256-GCM",
                              authenticationMethods: "NTLMv2;Kerberos",
                              kerberosTicketEncryption: "AES-256",
                          },
                      },
                  }
                : {}),
        },
        { parent },
    );

    const share = new storage.FileShare(
        `${name}-share`,
        {
            resourceGroupName: args.resourceGroupName,
            accountName: account.name,
            shareName,
            shareQuota: shareQuotaGb,
            enabledProtocols: protocol === "nfs" ? "NFS" : "SMB",
            // IS runs as its own user, but the boot scripts (root) seed the share: no squash.
            ...(protocol === "nfs" ? { rootSquash: "NoRootSquash" } : {}),
        },
        { ...stateful, dependsOn: [fileService] },
    );

    const endpoint = new network.PrivateEndpoint(
        `${name}-files`,
        {
            ...common,
            subnet: { id: args.endpointSubnetId },
            privateLinkServiceConnections: [
                { name: "file", privateLinkServiceId: account.id, groupIds: ["file"] },
            ],
        },
        { parent },
    );
    let dnsZoneId = args.dnsZoneId;
    if (!dnsZoneId) {
        const { zone } = linkedPrivateZone(
            `${name}-files-dns`,
            {
                resourceGroupName: args.resourceGroupName,
                zoneName: "privatelink.file.core.windows.net",
                vnetId: args.vnetId,
                tags: args.tags,
            },
            parent,
        );
        dnsZoneId = zone.id;
    }
    new network.PrivateDnsZoneGroup(
        `${name}-files`,
        {
            resourceGroupName: args.resourceGroupName,
            privateEndpointName: endpoint.name,
            privateDnsZoneGroupName: "default",
            privateDnsZoneConfigs: [{ name: "file", privateDnsZoneId: dnsZoneId }],
        },
        { parent },
    );

    const smbCredentials =
        protocol === "smb"
            ? {
                  username: account.name,
                  password: pulumi.secret(
                      storage
                          .listStorageAccountKeysOutput(
                              { resourceGroupName: args.resourceGroupName, accountName: account.name },
                              { parent },
                          )
                          .apply((r) => r.keys[0].value),
                  ),
              }
            : undefined;

    return {
        account,
        share,
        id: share.id,
        facts: args.accountName.apply((a) => shareFacts(protocol, a)),
        smbCredentials,
    };
}

/** sharedFs "nfs": the user's own NFS server; nothing is created. */
export function ownNfs(address: string): AzureSharedFs {
    return {
        id: address,
        facts: pulumi.output({ protocol: "nfs" as const, source: address, options: ownNfsMountOptions }),
    };
}
