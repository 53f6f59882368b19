// Azure policies (azure-native v3 type tokens): MySQL Flexible Server, storage accounts and
// shares, NSGs, VMs, Application Gateway and Key Vault. Property names are the azure-native
// SDK's (the flattened ARM `properties`), the same for inputs and outputs.
import type { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { configOf, isProduction, productionBackupSchema, productionSchema } from "./config";
import { azurePortRanges, describeRange, isAnywhere, overlaps } from "./ports";
import { Props, about, asArray, forTypes, isObject, label, lastSegment, matchesName, ofType } from "./util";

export const T = {
    mysqlServer: "azure-native:dbformysql:Server",
    mysqlConfiguration: "azure-native:dbformysql:Configuration",
    mysqlFirewallRule: "azure-native:dbformysql:FirewallRule",
    storageAccount: "azure-native:storage:StorageAccount",
    fileShare: "azure-native:storage:FileShare",
    nsg: "azure-native:network:NetworkSecurityGroup",
    securityRule: "azure-native:network:SecurityRule",
    vm: "azure-native:compute:VirtualMachine",
    vmss: "azure-native:compute:VirtualMachineScaleSet",
    appGateway: "azure-native:network:ApplicationGateway",
    keyVault: "azure-native:keyvault:Vault",
    keyVaultSecret: "azure-native:keyvault:Secret",
    keyVaultKey: "azure-native:keyvault:Key",
} as const;

const eq = (a: unknown, b: string) => typeof a === "string" && a.toLowerCase() === b.toLowerCase();

// ---------------------------------------------------------------------------------------------
// MySQL Flexible Server.

export const mysqlPrivate: ResourceValidationPolicy = {
    ...about("azure-mysql-private", "mandatory", "critical", "azure security database"),
    description:
        "MySQL Flexible Server has no public endpoint (VNet integration through a delegated subnet, or publicNetworkAccess Disabled) and no firewall rule open to everyone or to all of Azure.",
    validateResource: forTypes([T.mysqlServer, T.mysqlFirewallRule], (props, args, report) => {
        if (args.type === T.mysqlFirewallRule) {
            const start = String(props.startIpAddress ?? "");
            const end = String(props.endIpAddress ?? "");
            if (start === "0.0.0.0" && end === "255.255.255.255")
                report("firewall rule admits every IPv4 address.");
            else if (start === "0.0.0.0" && end === "0.0.0.0")
                report("firewall rule 0.0.0.0 admits every Azure service of every tenant.");
            return;
        }
        const net = isObject(props.network) ? props.network : {};
        const delegated =
            typeof net.delegatedSubnetResourceId === "string" && net.delegatedSubnetResourceId !== "";
        if (eq(net.publicNetworkAccess, "Enabled"))
            report(
                "network.publicNetworkAccess is Enabled: use VNet integration (network.delegatedSubnetResourceId) or set it to Disabled.",
            );
        else if (!delegated && !eq(net.publicNetworkAccess, "Disabled"))
            report(
                "the server has neither a delegated subnet (network.delegatedSubnetResourceId) nor publicNetworkAccess Disabled: it would get a public endpoint.",
            );
    }),
};

/** Is this Configuration (by its configurationName or output name) the given parameter? */
const configurationNamed = (c: Props, parameter: string) => eq(c.configurationName ?? c.name, parameter);

/** Does a server-name reference point at this server resource? */
function refersToServer(ref: unknown, server: PolicyResource): boolean {
    return (
        matchesName(ref, server, server.props.serverName ?? server.props.name) ||
        (typeof ref === "string" && typeof server.props.id === "string" && ref === server.props.id)
    );
}

export const mysqlTlsRequired: StackValidationPolicy = {
    ...about("azure-mysql-tls-required", "mandatory", "high", "azure security database"),
    description:
        "Every MySQL Flexible Server has a Configuration require_secure_transport = ON in this stack (declared, not left to the server default).",
    validateStack: (args, report) => {
        const servers = ofType(args.resources, T.mysqlServer);
        if (servers.length === 0) return args.notApplicable("no MySQL Flexible Server in the stack");
        const configs = ofType(args.resources, T.mysqlConfiguration).filter((c) =>
            configurationNamed(c.props, "require_secure_transport"),
        );
        for (const server of servers) {
            const mine = configs.filter((c) => refersToServer(c.props.serverName, server));
            if (mine.length === 0) {
                report(
                    `${label(server)} has no dbformysql Configuration require_secure_transport = ON: declare it so plain-text connections stay refused.`,
                    server.urn,
                );
                continue;
            }
            for (const c of mine) {
                if (!eq(c.props.value, "ON"))
                    report(
                        `${label(c)} sets require_secure_transport = ${c.props.value ?? "(unset)"} on ${label(server)}: it must be ON.`,
                        c.urn,
                    );
            }
        }
    },
};

export const mysqlProductionHa: ResourceValidationPolicy = {
    ...about("azure-mysql-production-ha", "advisory", "high", "azure availability database production"),
    description:
        "In production, MySQL Flexible Server runs zone-redundant HA and keeps backups for at least minBackupDays (default 7).",
    configSchema: { properties: productionBackupSchema },
    validateResource: forTypes([T.mysqlServer], (props, args, report) => {
        if (!isProduction(args))
            return args.notApplicable("production is false: the production-only checks do not run");
        const { minBackupDays } = configOf(args, { minBackupDays: 7 });
        const ha = isObject(props.highAvailability) ? props.highAvailability : {};
        if (!eq(ha.mode, "ZoneRedundant"))
            report(
                `highAvailability.mode is ${ha.mode ?? "unset (Disabled)"}: production uses ZoneRedundant (a standby in another zone).`,
            );
        const backup = isObject(props.backup) ? props.backup : {};
        const days = Number(backup.backupRetentionDays ?? 7);
        if (!(days >= minBackupDays))
            report(`backup.backupRetentionDays is ${days}: production keeps at least ${minBackupDays} days.`);
    }),
};

// ---------------------------------------------------------------------------------------------
// Storage.

/**
 * The one account allowed to turn secure transfer off: Azure Files NFS needs
 * enableHttpsTrafficOnly = false, and NFS shares live only on FileStorage (premium) accounts.
 * Such an account must also have no public endpoint (the share is reached through a private
 * endpoint from the nodes' subnet); azure-storage-https-exception-nfs-only checks it holds
 * nothing but NFS shares.
 */
export function isNfsException(props: Props): boolean {
    return eq(props.kind, "FileStorage") && eq(props.publicNetworkAccess, "Disabled");
}

const httpsOff = (props: Props) =>
    props.enableHttpsTrafficOnly === false || eq(props.enableHttpsTrafficOnly, "false");

export const storageSecureTransfer: ResourceValidationPolicy = {
    ...about("azure-storage-secure-transfer", "mandatory", "high", "azure security storage"),
    description:
        "Storage accounts accept HTTPS only (except an NFS-only FileStorage account with public network access Disabled: NFS needs secure transfer off), no TLS older than 1.2, and no anonymous blob access.",
    validateResource: forTypes([T.storageAccount], (props, _args, report) => {
        if (httpsOff(props) && !isNfsException(props)) {
            report(
                eq(props.kind, "FileStorage")
                    ? "enableHttpsTrafficOnly is false on a FileStorage account with a public endpoint: the NFS exception requires publicNetworkAccess Disabled."
                    : "enableHttpsTrafficOnly is false: only an NFS-only FileStorage account without a public endpoint may turn secure transfer off.",
            );
        }
        if (props.allowBlobPublicAccess === true) report("allowBlobPublicAccess is true: set it to false.");
        const tls = props.minimumTlsVersion;
        if (tls !== undefined && !["TLS1_2", "TLS1_3"].includes(String(tls)))
            report(`minimumTlsVersion is ${tls}: use TLS1_2.`);
    }),
};

/** Does a share's accountName point at this storage account? */
function refersToAccount(ref: unknown, account: PolicyResource): boolean {
    return matchesName(ref, account, account.props.accountName ?? account.props.name);
}

export const storageNfsExceptionNfsOnly: StackValidationPolicy = {
    ...about("azure-storage-https-exception-nfs-only", "mandatory", "high", "azure security storage"),
    description:
        "A storage account with secure transfer off holds only NFS file shares (an SMB share there would accept unencrypted connections).",
    validateStack: (args, report) => {
        const accounts = ofType(args.resources, T.storageAccount);
        if (accounts.length === 0) return args.notApplicable("no storage accounts in the stack");
        const shares = ofType(args.resources, T.fileShare);
        for (const account of accounts.filter((a) => httpsOff(a.props))) {
            for (const share of shares.filter((s) => refersToAccount(s.props.accountName, account))) {
                if (!eq(share.props.enabledProtocols, "NFS")) {
                    report(
                        `${label(share)} on ${label(account)} (secure transfer off) uses ${share.props.enabledProtocols ?? "SMB (the default)"}: only NFS shares may live on that account.`,
                        share.urn,
                    );
                }
            }
        }
    },
};

// ---------------------------------------------------------------------------------------------
// Network security groups.

/** Ports never open to the internet: SSH, RDP, IS HTTPS, Hazelcast WKA, MySQL, SMB, NFS. */
export const closedPorts = [22, 3389, 9443, 4000, 3306, 445, 2049];

function sources(rule: Props): string[] {
    return [
        ...asArray<string>(rule.sourceAddressPrefix),
        ...asArray<string>(rule.sourceAddressPrefixes),
    ].filter((s) => typeof s === "string");
}

/** Violations of one NSG rule, as messages. */
export function nsgRuleViolations(rule: Props, where: string): string[] {
    if (!eq(rule.direction ?? "Inbound", "Inbound") || !eq(rule.access ?? "Allow", "Allow")) return [];
    const open = sources(rule).filter(isAnywhere);
    if (open.length === 0) return [];
    const ranges = azurePortRanges(rule);
    const hit = closedPorts.filter((p) => ranges.some((r) => overlaps(r, { from: p, to: p })));
    if (hit.length === 0) return [];
    return [
        `${where}: ${ranges.map(describeRange).join(", ")} from ${open.join(", ")} opens ${hit.join(", ")} to the internet.`,
    ];
}

export const nsgNoPublicAdminPorts: ResourceValidationPolicy = {
    ...about("azure-nsg-no-public-sensitive-ports", "mandatory", "critical", "azure security network"),
    description: `NSG rules admit no Internet, * or 0.0.0.0/0 source to ${closedPorts.join(", ")} (SSH, RDP, IS 9443, Hazelcast, MySQL, SMB, NFS).`,
    validateResource: forTypes([T.nsg, T.securityRule], (props, args, report) => {
        const rules = args.type === T.nsg ? asArray<Props>(props.securityRules).filter(isObject) : [props];
        rules.forEach((r, i) => {
            const where =
                args.type === T.nsg
                    ? `securityRules[${i}] ${r.name ?? ""}`.trim()
                    : `rule ${props.securityRuleName ?? props.name ?? args.name}`;
            for (const m of nsgRuleViolations(r, where)) report(m);
        });
    }),
};

// ---------------------------------------------------------------------------------------------
// Virtual machines.

export const vmManagedIdentity: ResourceValidationPolicy = {
    ...about("azure-vm-managed-identity", "mandatory", "high", "azure security compute"),
    description:
        "VMs have a managed identity (the node reads its secrets from Key Vault with it; no keys in user data).",
    validateResource: forTypes([T.vm, T.vmss], (props, _args, report) => {
        const type = isObject(props.identity) ? String(props.identity.type ?? "") : "";
        if (!/SystemAssigned|UserAssigned/i.test(type))
            report(
                `identity.type is ${type || "unset"}: give the VM a system- or user-assigned managed identity.`,
            );
    }),
};

export const vmSshKeysOnly: ResourceValidationPolicy = {
    ...about("azure-vm-ssh-keys-only", "mandatory", "high", "azure security compute"),
    description:
        "Linux VMs disable password authentication (osProfile.linuxConfiguration.disablePasswordAuthentication = true) and carry no admin password.",
    validateResource: forTypes([T.vm, T.vmss], (props, args, report) => {
        const os =
            args.type === T.vmss
                ? isObject(props.virtualMachineProfile)
                    ? props.virtualMachineProfile.osProfile
                    : undefined
                : props.osProfile;
        // A VM attached to an existing (specialized) OS disk has no osProfile.
        if (!isObject(os)) return;
        if (isObject(os.windowsConfiguration) && !isObject(os.linuxConfiguration)) return;
        const linux = isObject(os.linuxConfiguration) ? os.linuxConfiguration : {};
        if (linux.disablePasswordAuthentication !== true)
            report(
                "osProfile.linuxConfiguration.disablePasswordAuthentication is not true: use SSH keys (or none) only.",
            );
        if (typeof os.adminPassword === "string" && os.adminPassword !== "")
            report("osProfile.adminPassword is set: remove it.");
    }),
};

// ---------------------------------------------------------------------------------------------
// Application Gateway.

/** TLS policies with nothing below TLS 1.2. */
const modernAppGwPolicies = new Set([
    "AppGwSslPolicy20170401S",
    "AppGwSslPolicy20220101",
    "AppGwSslPolicy20220101S",
]);

export const appGatewayHttps: ResourceValidationPolicy = {
    ...about("azure-appgw-https", "mandatory", "high", "azure security load-balancer"),
    description:
        "Application Gateway has an HTTPS listener with a TLS 1.2+ policy, and its HTTP listeners only redirect to HTTPS.",
    validateResource: forTypes([T.appGateway], (props, _args, report) => {
        const listeners = asArray<Props>(props.httpListeners).filter(isObject);
        const protocolOf = (ref: unknown) =>
            listeners.find((l) => l.name === lastSegment(isObject(ref) ? ref.id : undefined))?.protocol;
        if (!listeners.some((l) => eq(l.protocol, "Https")))
            report("no HTTPS listener: clients must reach IS over HTTPS on 443.");

        const redirects = asArray<Props>(props.redirectConfigurations).filter(isObject);
        const rules = asArray<Props>(props.requestRoutingRules).filter(isObject);
        for (const l of listeners.filter((x) => eq(x.protocol ?? "Http", "Http"))) {
            for (const rule of rules.filter(
                (r) => isObject(r.httpListener) && lastSegment(r.httpListener.id) === l.name,
            )) {
                const redirect = isObject(rule.redirectConfiguration)
                    ? redirects.find((x) => x.name === lastSegment(rule.redirectConfiguration.id))
                    : undefined;
                const toHttps =
                    redirect !== undefined &&
                    ((isObject(redirect.targetListener) &&
                        eq(protocolOf(redirect.targetListener), "Https")) ||
                        (typeof redirect.targetUrl === "string" && /^https:\/\//i.test(redirect.targetUrl)));
                if (!toHttps || rule.backendAddressPool !== undefined || rule.urlPathMap !== undefined) {
                    report(
                        `HTTP listener '${l.name}' is routed by rule '${rule.name}' to something other than a redirect to an HTTPS listener.`,
                    );
                }
            }
        }

        const ssl = isObject(props.sslPolicy) ? props.sslPolicy : undefined;
        if (ssl) {
            const type = String(ssl.policyType ?? (ssl.policyName ? "Predefined" : ""));
            if (eq(type, "Predefined")) {
                if (!modernAppGwPolicies.has(String(ssl.policyName)))
                    report(
                        `sslPolicy ${ssl.policyName} allows TLS older than 1.2: use AppGwSslPolicy20220101 (or 20220101S).`,
                    );
            } else if (eq(type, "Custom") || eq(type, "CustomV2")) {
                if (!["TLSv1_2", "TLSv1_3"].includes(String(ssl.minProtocolVersion)))
                    report(
                        `sslPolicy.minProtocolVersion is ${ssl.minProtocolVersion ?? "unset"}: use TLSv1_2 or later.`,
                    );
            } else if (asArray<string>(ssl.disabledSslProtocols).length > 0) {
                const disabled = new Set(asArray<string>(ssl.disabledSslProtocols));
                if (!disabled.has("TLSv1_0") || !disabled.has("TLSv1_1"))
                    report(
                        "sslPolicy.disabledSslProtocols leaves TLS 1.0 or 1.1 on: use a predefined AppGwSslPolicy20220101 policy.",
                    );
            }
        }
    }),
};

export const appGatewayCookieAffinity: ResourceValidationPolicy = {
    ...about("azure-appgw-cookie-affinity", "mandatory", "medium", "azure availability load-balancer"),
    description:
        "Application Gateway backend HTTP settings use cookie-based affinity (IS keeps login and OIDC state per node).",
    validateResource: forTypes([T.appGateway], (props, _args, report) => {
        const settings = asArray<Props>(props.backendHttpSettingsCollection).filter(isObject);
        if (settings.length === 0)
            report(
                "no backendHttpSettingsCollection: IS needs HTTP settings with cookieBasedAffinity Enabled.",
            );
        for (const s of settings) {
            if (!eq(s.cookieBasedAffinity, "Enabled"))
                report(
                    `backend HTTP settings '${s.name ?? "?"}' have cookieBasedAffinity ${s.cookieBasedAffinity ?? "unset (Disabled)"}: set it to Enabled.`,
                );
        }
    }),
};

// ---------------------------------------------------------------------------------------------
// Key Vault.

export const keyVaultPurgeProtection: ResourceValidationPolicy = {
    ...about(
        "azure-keyvault-purge-protection",
        "advisory",
        "medium",
        "azure availability secrets production",
    ),
    description:
        "In production, Key Vaults have purge protection (a deleted vault and its secrets can be recovered).",
    configSchema: { properties: { ...productionSchema } },
    validateResource: forTypes([T.keyVault], (props, args, report) => {
        if (!isProduction(args))
            return args.notApplicable("production is false: the production-only checks do not run");
        const p = isObject(props.properties) ? props.properties : {};
        if (p.enablePurgeProtection !== true)
            report(
                "properties.enablePurgeProtection is not true: production vaults keep purge protection on.",
            );
    }),
};

export const keyVaultRetention: ResourceValidationPolicy = {
    ...about("azure-keyvault-soft-delete-retention", "advisory", "medium", "azure availability secrets"),
    description:
        "Key Vaults keep soft-deleted items retentionDays (default 90) in every mode: Azure refuses to change the retention after creation, so a shorter dev value would block turning production on later.",
    configSchema: {
        properties: {
            retentionDays: {
                type: "integer",
                minimum: 7,
                maximum: 90,
                default: 90,
                description: "The soft-delete retention every vault must have.",
            },
        },
    },
    validateResource: forTypes([T.keyVault], (props, args, report) => {
        const { retentionDays } = configOf(args, { retentionDays: 90 });
        const p = isObject(props.properties) ? props.properties : {};
        // Unset: Azure's default, 90 days.
        const days = Number(p.softDeleteRetentionInDays ?? 90);
        if (days !== retentionDays)
            report(
                `properties.softDeleteRetentionInDays is ${days}: use ${retentionDays} in every mode (it cannot change once the vault exists).`,
            );
    }),
};

/**
 * azure-native deletes a keyvault Secret or Key through the Key Vault data plane (ARM has no
 * DELETE for them: pulumi-azure-native customresources/custom_keyvault.go), so `pulumi destroy`
 * needs data-plane rights and network access to the vault unless the item goes with its vault
 * (`deletedWith`) or is retained. Resource options such as deletedWith and retainOnDelete are not
 * sent to policy packs (pulumi proto/pulumi/analyzer.proto, AnalyzerResourceOptions), so this
 * checks the precondition a policy can see: the vault is in the same stack.
 */
export const keyVaultItemDeletionPath: StackValidationPolicy = {
    ...about("azure-keyvault-item-deletion-path", "advisory", "medium", "azure operations secrets"),
    description:
        "Every Key Vault Secret and Key lives in a vault declared in the same stack, so it can be deleted with that vault (deletedWith) through ARM; azure-native would otherwise delete it through the Key Vault data plane on `pulumi destroy`.",
    validateStack: (args, report) => {
        const items = [...ofType(args.resources, T.keyVaultSecret), ...ofType(args.resources, T.keyVaultKey)];
        if (items.length === 0) return args.notApplicable("no Key Vault secrets or keys in the stack");
        const vaults = ofType(args.resources, T.keyVault);
        for (const item of items) {
            const ref = item.props.vaultName;
            if (vaults.some((v) => matchesName(ref, v, v.props.vaultName ?? v.props.name))) continue;
            report(
                `${label(item)} is in vault ${JSON.stringify(ref ?? "(unset)")}, which this stack does not declare: azure-native deletes it through the Key Vault data plane, so \`pulumi destroy\` needs the deployer's data-plane delete right and network access there. Declare the vault here and give the item deletedWith: vault, or retainOnDelete.`,
                item.urn,
            );
        }
    },
};

export const azurePolicies = [
    mysqlPrivate,
    mysqlTlsRequired,
    mysqlProductionHa,
    storageSecureTransfer,
    storageNfsExceptionNfsOnly,
    nsgNoPublicAdminPorts,
    vmManagedIdentity,
    vmSshKeysOnly,
    appGatewayHttps,
    appGatewayCookieAffinity,
    keyVaultPurgeProtection,
    keyVaultRetention,
    keyVaultItemDeletionPath,
];
