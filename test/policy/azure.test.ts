// Azure policies: a passing and a violating case for each, on props shaped like azure-native v3
// inputs (the flattened ARM properties).
import { strict as assert } from "assert";
import * as az from "../../policy/azure";
import { Props, RunResult, messages, runResource, runStack } from "./harness";

const T = az.T;

function ok(r: RunResult) {
    assert.equal(r.status, "ok", messages(r));
}
function violates(r: RunResult, pattern: RegExp) {
    assert.equal(r.status, "violations", `expected a violation matching ${pattern}, got ${messages(r)}`);
    assert.ok(
        r.violations.some((v) => pattern.test(v.message)),
        messages(r),
    );
}

const subnet =
    "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/db";
const server = (over: Props = {}): Props => ({
    resourceGroupName: "rg",
    serverName: "c1-mysql-abc123",
    version: "8.0.21",
    sku: { name: "Standard_D2ds_v4", tier: "GeneralPurpose" },
    network: {
        delegatedSubnetResourceId: subnet,
        privateDnsZoneResourceId: "/subscriptions/0000/.../privateDnsZones/c1.mysql.database.azure.com",
    },
    highAvailability: { mode: "ZoneRedundant" },
    backup: { backupRetentionDays: 14, geoRedundantBackup: "Disabled" },
    ...over,
});

describe("policy: azure", function () {
    describe("azure-mysql-private", function () {
        it("passes VNet integration and publicNetworkAccess Disabled", async function () {
            ok(await runResource(az.mysqlPrivate, { type: T.mysqlServer, props: server() }));
            ok(
                await runResource(az.mysqlPrivate, {
                    type: T.mysqlServer,
                    props: server({ network: { publicNetworkAccess: "Disabled" } }),
                }),
            );
        });
        it("flags a server with a public endpoint (explicit or by default)", async function () {
            violates(
                await runResource(az.mysqlPrivate, {
                    type: T.mysqlServer,
                    props: server({ network: { publicNetworkAccess: "Enabled" } }),
                }),
                /Enabled/,
            );
            violates(
                await runResource(az.mysqlPrivate, {
                    type: T.mysqlServer,
                    props: server({ network: undefined }),
                }),
                /neither a delegated subnet/,
            );
        });
        it("flags firewall rules open to everyone or to all of Azure", async function () {
            ok(
                await runResource(az.mysqlPrivate, {
                    type: T.mysqlFirewallRule,
                    props: { startIpAddress: "10.0.1.4", endIpAddress: "10.0.1.4" },
                }),
            );
            violates(
                await runResource(az.mysqlPrivate, {
                    type: T.mysqlFirewallRule,
                    props: { startIpAddress: "0.0.0.0", endIpAddress: "255.255.255.255" },
                }),
                /every IPv4/,
            );
            violates(
                await runResource(az.mysqlPrivate, {
                    type: T.mysqlFirewallRule,
                    props: { startIpAddress: "0.0.0.0", endIpAddress: "0.0.0.0" },
                }),
                /every Azure service/,
            );
        });
    });

    describe("azure-mysql-tls-required (stack)", function () {
        const srv = { type: T.mysqlServer, name: "c1-mysql", props: server() };
        const conf = (value: string, serverName = "c1-mysql-abc123") => ({
            type: T.mysqlConfiguration,
            name: "c1-tls",
            props: {
                resourceGroupName: "rg",
                serverName,
                configurationName: "require_secure_transport",
                value,
                source: "user-override",
            },
        });
        it("passes require_secure_transport ON for the server", async function () {
            ok(await runStack(az.mysqlTlsRequired, [srv, conf("ON")]));
        });
        it("flags OFF, and a server without the Configuration", async function () {
            violates(await runStack(az.mysqlTlsRequired, [srv, conf("OFF")]), /must be ON/);
            violates(await runStack(az.mysqlTlsRequired, [srv]), /no dbformysql Configuration/);
            violates(
                await runStack(az.mysqlTlsRequired, [srv, conf("ON", "another-server")]),
                /no dbformysql Configuration/,
            );
        });
    });

    describe("azure-mysql-production-ha", function () {
        it("is not applicable outside production", async function () {
            assert.equal(
                (
                    await runResource(az.mysqlProductionHa, {
                        type: T.mysqlServer,
                        props: server({ highAvailability: undefined }),
                    })
                ).status,
                "n/a",
            );
        });
        it("passes zone-redundant HA with 14 days of backups in production", async function () {
            ok(
                await runResource(
                    az.mysqlProductionHa,
                    { type: T.mysqlServer, props: server() },
                    { config: { production: true } },
                ),
            );
        });
        it("flags SameZone/Disabled HA and short backups in production", async function () {
            violates(
                await runResource(
                    az.mysqlProductionHa,
                    { type: T.mysqlServer, props: server({ highAvailability: { mode: "SameZone" } }) },
                    { config: { production: true } },
                ),
                /ZoneRedundant/,
            );
            violates(
                await runResource(
                    az.mysqlProductionHa,
                    { type: T.mysqlServer, props: server({ backup: { backupRetentionDays: 3 } }) },
                    { config: { production: true } },
                ),
                /at least 7 days/,
            );
        });
    });

    const account = (over: Props = {}): Props => ({
        resourceGroupName: "rg",
        accountName: "c1files1a2b3c",
        kind: "StorageV2",
        sku: { name: "Standard_ZRS" },
        enableHttpsTrafficOnly: true,
        allowBlobPublicAccess: false,
        minimumTlsVersion: "TLS1_2",
        ...over,
    });
    const nfsAccount = (over: Props = {}) =>
        account({
            kind: "FileStorage",
            sku: { name: "Premium_ZRS" },
            enableHttpsTrafficOnly: false,
            publicNetworkAccess: "Disabled",
            ...over,
        });

    describe("azure-storage-secure-transfer", function () {
        it("passes an HTTPS-only account and the NFS-only FileStorage exception", async function () {
            ok(await runResource(az.storageSecureTransfer, { type: T.storageAccount, props: account() }));
            ok(await runResource(az.storageSecureTransfer, { type: T.storageAccount, props: nfsAccount() }));
        });
        it("flags HTTP on a general account, the NFS exception with a public endpoint, public blobs and TLS 1.0", async function () {
            violates(
                await runResource(az.storageSecureTransfer, {
                    type: T.storageAccount,
                    props: account({ enableHttpsTrafficOnly: false }),
                }),
                /only an NFS-only FileStorage/,
            );
            violates(
                await runResource(az.storageSecureTransfer, {
                    type: T.storageAccount,
                    props: nfsAccount({ publicNetworkAccess: "Enabled" }),
                }),
                /requires publicNetworkAccess Disabled/,
            );
            violates(
                await runResource(az.storageSecureTransfer, {
                    type: T.storageAccount,
                    props: account({ allowBlobPublicAccess: true }),
                }),
                /allowBlobPublicAccess/,
            );
            violates(
                await runResource(az.storageSecureTransfer, {
                    type: T.storageAccount,
                    props: account({ minimumTlsVersion: "TLS1_0" }),
                }),
                /TLS1_0/,
            );
        });
    });

    describe("azure-storage-https-exception-nfs-only (stack)", function () {
        const share = (enabledProtocols?: string) => ({
            type: T.fileShare,
            name: "c1-share",
            props: {
                resourceGroupName: "rg",
                accountName: "c1files1a2b3c",
                shareName: "wso2is",
                enabledProtocols,
            },
        });
        it("passes an NFS share on the secure-transfer-off account", async function () {
            ok(
                await runStack(az.storageNfsExceptionNfsOnly, [
                    { type: T.storageAccount, name: "c1-files", props: nfsAccount() },
                    share("NFS"),
                ]),
            );
        });
        it("flags an SMB share (explicit or default) there", async function () {
            violates(
                await runStack(az.storageNfsExceptionNfsOnly, [
                    { type: T.storageAccount, name: "c1-files", props: nfsAccount() },
                    share("SMB"),
                ]),
                /uses SMB/,
            );
            violates(
                await runStack(az.storageNfsExceptionNfsOnly, [
                    { type: T.storageAccount, name: "c1-files", props: nfsAccount() },
                    share(undefined),
                ]),
                /SMB \(the default\)/,
            );
        });
    });

    const nsgRule = (over: Props): Props => ({
        name: "r",
        priority: 100,
        direction: "Inbound",
        access: "Allow",
        protocol: "Tcp",
        sourcePortRange: "*",
        destinationAddressPrefix: "*",
        ...over,
    });

    describe("azure-nsg-no-public-sensitive-ports", function () {
        it("passes clients to 443/80, the gateway to 9443, GatewayManager, and a deny-all from *", async function () {
            ok(
                await runResource(az.nsgNoPublicAdminPorts, {
                    type: T.nsg,
                    props: {
                        securityRules: [
                            nsgRule({ sourceAddressPrefixes: ["0.0.0.0/0"], destinationPortRange: "443" }),
                            nsgRule({ sourceAddressPrefix: "Internet", destinationPortRange: "80" }),
                            nsgRule({ sourceAddressPrefix: "10.41.2.0/24", destinationPortRange: "9443" }),
                            nsgRule({
                                sourceAddressPrefix: "GatewayManager",
                                destinationPortRange: "65200-65535",
                            }),
                            nsgRule({
                                access: "Deny",
                                protocol: "*",
                                sourceAddressPrefix: "*",
                                destinationPortRange: "*",
                                priority: 4096,
                            }),
                        ],
                    },
                }),
            );
        });
        it("flags SSH from Internet, a range over 4000 from *, MySQL from 0.0.0.0/0 and all ports from *", async function () {
            violates(
                await runResource(az.nsgNoPublicAdminPorts, {
                    type: T.securityRule,
                    props: nsgRule({ sourceAddressPrefix: "Internet", destinationPortRange: "22" }),
                }),
                /opens 22/,
            );
            violates(
                await runResource(az.nsgNoPublicAdminPorts, {
                    type: T.nsg,
                    props: {
                        securityRules: [
                            nsgRule({
                                name: "wide",
                                sourceAddressPrefix: "*",
                                destinationPortRange: "3000-5000",
                            }),
                        ],
                    },
                }),
                /securityRules\[0\] wide: ports 3000-5000 from \* opens 3389, 4000, 3306/,
            );
            violates(
                await runResource(az.nsgNoPublicAdminPorts, {
                    type: T.securityRule,
                    props: nsgRule({
                        sourceAddressPrefixes: ["10.0.0.0/8", "0.0.0.0/0"],
                        destinationPortRanges: ["3306", "445"],
                    }),
                }),
                /opens 3306, 445/,
            );
            violates(
                await runResource(az.nsgNoPublicAdminPorts, {
                    type: T.securityRule,
                    props: nsgRule({ sourceAddressPrefix: "*", destinationPortRange: "*" }),
                }),
                /opens 22, 3389, 9443, 4000, 3306, 445, 2049/,
            );
        });
    });

    const vm = (over: Props = {}): Props => ({
        resourceGroupName: "rg",
        identity: { type: "SystemAssigned" },
        osProfile: {
            computerName: "is-1",
            adminUsername: "azureuser",
            linuxConfiguration: { disablePasswordAuthentication: true, ssh: { publicKeys: [] } },
            customData: "I2Nsb3VkLWNvbmZpZwo=",
        },
        zones: ["1"],
        ...over,
    });

    describe("azure-vm-managed-identity", function () {
        it("passes system- and user-assigned identities", async function () {
            ok(await runResource(az.vmManagedIdentity, { type: T.vm, props: vm() }));
            ok(
                await runResource(az.vmManagedIdentity, {
                    type: T.vm,
                    props: vm({ identity: { type: "UserAssigned", userAssignedIdentities: ["/id"] } }),
                }),
            );
        });
        it("flags no identity and type None", async function () {
            violates(
                await runResource(az.vmManagedIdentity, { type: T.vm, props: vm({ identity: undefined }) }),
                /unset/,
            );
            violates(
                await runResource(az.vmManagedIdentity, {
                    type: T.vm,
                    props: vm({ identity: { type: "None" } }),
                }),
                /None/,
            );
        });
    });

    describe("azure-vm-ssh-keys-only", function () {
        it("passes password authentication disabled", async function () {
            ok(await runResource(az.vmSshKeysOnly, { type: T.vm, props: vm() }));
        });
        it("flags password authentication and an admin password", async function () {
            violates(
                await runResource(az.vmSshKeysOnly, {
                    type: T.vm,
                    props: vm({ osProfile: { adminUsername: "a", linuxConfiguration: {} } }),
                }),
                /disablePasswordAuthentication/,
            );
            violates(
                await runResource(az.vmSshKeysOnly, {
                    type: T.vm,
                    props: vm({
                        osProfile: {
                            adminUsername: "a",
                            adminPassword: "S3cret!",
                            linuxConfiguration: { disablePasswordAuthentication: true },
                        },
                    }),
                }),
                /adminPassword/,
            );
        });
    });

    const gwId =
        "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Network/applicationGateways/c1-appgw";
    const ref = (kind: string, name: string) => ({ id: `${gwId}/${kind}/${name}` });
    const gateway = (over: Props = {}): Props => ({
        resourceGroupName: "rg",
        applicationGatewayName: "c1-appgw",
        sku: { name: "Standard_v2", tier: "Standard_v2" },
        sslPolicy: { policyType: "Predefined", policyName: "AppGwSslPolicy20220101" },
        httpListeners: [
            {
                name: "https",
                protocol: "Https",
                frontendPort: ref("frontendPorts", "p443"),
                sslCertificate: ref("sslCertificates", "cert"),
            },
            { name: "http", protocol: "Http", frontendPort: ref("frontendPorts", "p80") },
        ],
        redirectConfigurations: [
            {
                name: "to-https",
                redirectType: "Permanent",
                targetListener: ref("httpListeners", "https"),
                includePath: true,
                includeQueryString: true,
            },
        ],
        backendHttpSettingsCollection: [
            {
                name: "is",
                port: 9443,
                protocol: "Https",
                cookieBasedAffinity: "Enabled",
                affinityCookieName: "WSO2IS_LB",
            },
        ],
        requestRoutingRules: [
            {
                name: "https",
                priority: 100,
                ruleType: "Basic",
                httpListener: ref("httpListeners", "https"),
                backendAddressPool: ref("backendAddressPools", "is"),
                backendHttpSettings: ref("backendHttpSettingsCollection", "is"),
            },
            {
                name: "http",
                priority: 110,
                ruleType: "Basic",
                httpListener: ref("httpListeners", "http"),
                redirectConfiguration: ref("redirectConfigurations", "to-https"),
            },
        ],
        ...over,
    });

    describe("azure-appgw-https", function () {
        it("passes an HTTPS listener with a TLS 1.2 policy and an HTTP listener that redirects to it", async function () {
            ok(await runResource(az.appGatewayHttps, { type: T.appGateway, props: gateway() }));
        });
        it("flags no HTTPS listener, HTTP routed to the backend, a redirect to HTTP, and an old TLS policy", async function () {
            const g = gateway();
            violates(
                await runResource(az.appGatewayHttps, {
                    type: T.appGateway,
                    props: { ...g, httpListeners: [g.httpListeners[1]], requestRoutingRules: [] },
                }),
                /no HTTPS listener/,
            );
            violates(
                await runResource(az.appGatewayHttps, {
                    type: T.appGateway,
                    props: {
                        ...g,
                        requestRoutingRules: [
                            g.requestRoutingRules[0],
                            {
                                ...g.requestRoutingRules[0],
                                name: "http",
                                httpListener: ref("httpListeners", "http"),
                            },
                        ],
                    },
                }),
                /HTTP listener 'http' is routed by rule 'http'/,
            );
            violates(
                await runResource(az.appGatewayHttps, {
                    type: T.appGateway,
                    props: {
                        ...g,
                        redirectConfigurations: [{ name: "to-https", targetUrl: "http://login.example.com" }],
                    },
                }),
                /HTTP listener 'http'/,
            );
            violates(
                await runResource(az.appGatewayHttps, {
                    type: T.appGateway,
                    props: {
                        ...g,
                        sslPolicy: { policyType: "Predefined", policyName: "AppGwSslPolicy20150501" },
                    },
                }),
                /AppGwSslPolicy20150501/,
            );
            violates(
                await runResource(az.appGatewayHttps, {
                    type: T.appGateway,
                    props: { ...g, sslPolicy: { policyType: "CustomV2", minProtocolVersion: "TLSv1_1" } },
                }),
                /minProtocolVersion is TLSv1_1/,
            );
        });
    });

    describe("azure-appgw-cookie-affinity", function () {
        it("passes cookie-based affinity Enabled", async function () {
            ok(await runResource(az.appGatewayCookieAffinity, { type: T.appGateway, props: gateway() }));
        });
        it("flags Disabled or missing affinity", async function () {
            violates(
                await runResource(az.appGatewayCookieAffinity, {
                    type: T.appGateway,
                    props: gateway({
                        backendHttpSettingsCollection: [{ name: "is", port: 9443, protocol: "Https" }],
                    }),
                }),
                /unset \(Disabled\)/,
            );
            violates(
                await runResource(az.appGatewayCookieAffinity, {
                    type: T.appGateway,
                    props: gateway({ backendHttpSettingsCollection: [] }),
                }),
                /no backendHttpSettingsCollection/,
            );
        });
    });

    describe("azure-keyvault-purge-protection", function () {
        const vault = (enablePurgeProtection?: boolean) => ({
            type: T.keyVault,
            props: {
                resourceGroupName: "rg",
                properties: {
                    tenantId: "t",
                    sku: { family: "A", name: "standard" },
                    enableRbacAuthorization: true,
                    enablePurgeProtection,
                },
            },
        });
        it("is not applicable outside production", async function () {
            assert.equal((await runResource(az.keyVaultPurgeProtection, vault(undefined))).status, "n/a");
        });
        it("passes purge protection in production", async function () {
            ok(await runResource(az.keyVaultPurgeProtection, vault(true), { config: { production: true } }));
        });
        it("flags a production vault without it", async function () {
            violates(
                await runResource(az.keyVaultPurgeProtection, vault(undefined), {
                    config: { production: true },
                }),
                /enablePurgeProtection/,
            );
        });
    });

    describe("azure-keyvault-soft-delete-retention", function () {
        const vault = (softDeleteRetentionInDays?: number) => ({
            type: T.keyVault,
            props: { resourceGroupName: "rg", properties: { tenantId: "t", softDeleteRetentionInDays } },
        });
        it("passes 90 days (and Azure's default when unset), in any mode", async function () {
            ok(await runResource(az.keyVaultRetention, vault(90)));
            ok(await runResource(az.keyVaultRetention, vault(undefined)));
            ok(await runResource(az.keyVaultRetention, vault(90), { config: { retentionDays: 90 } }));
        });
        it("flags 7 days (what dev used to get), which could never become production's 90", async function () {
            violates(
                await runResource(az.keyVaultRetention, vault(7)),
                /softDeleteRetentionInDays is 7: use 90/,
            );
        });
    });

    describe("azure-keyvault-item-deletion-path (stack)", function () {
        const vault = {
            type: T.keyVault,
            name: "c1-kv",
            props: { vaultName: "c1-kv-1a2b3c", properties: {} },
        };
        const secret = (vaultName: string) => ({
            type: T.keyVaultSecret,
            name: "c1-secret",
            props: { vaultName, secretName: "cluster" },
        });
        it("passes a secret in a vault of the same stack", async function () {
            ok(await runStack(az.keyVaultItemDeletionPath, [vault, secret("c1-kv-1a2b3c")]));
        });
        it("flags a secret in a vault the stack does not declare (deleted through the data plane)", async function () {
            violates(
                await runStack(az.keyVaultItemDeletionPath, [vault, secret("someone-elses-vault")]),
                /which this stack does not declare: azure-native deletes it through the Key Vault data plane/,
            );
        });
    });
});
