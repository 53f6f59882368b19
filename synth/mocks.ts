// A deterministic fake Pulumi engine: every resource gets a stable id and plausible computed
// attributes (ARNs, DNS names, addresses inside their subnets), so the real program runs
// offline. Used by `npm run synth` and by the mocha tests (one shared setMocks).
import * as crypto from "crypto";
import type * as pulumi from "@pulumi/pulumi";

export interface RecordedResource {
    type: string;
    name: string;
    /** Left "" by the mocks (the SDK does not pass them); synth/cli.ts fills them in. */
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
        gatewaySubnetCidr: "10.50.0.0/24",
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
function computed(
    type: string,
    name: string,
    inputs: Record<string, any>,
    o: Required<Omit<MockOptions, "platformOutputs">>,
): { id: string; state: Record<string, any> } {
    const h = (n: number) => stableHex(`${type}::${name}`, n);
    const region = o.region;
    const arn = (service: string, resource: string) => `arn:aws:${service}:${region}:${account}:${resource}`;
    switch (type) {
        case "aws:ec2/vpc:Vpc":
            return { id: `vpc-${h(17)}`, state: { arn: arn("ec2", `vpc/vpc-${h(17)}`) } };
        case "aws:ec2/subnet:Subnet":
            return { id: `subnet-${h(17)}`, state: {} };
        case "aws:ec2/internetGateway:InternetGateway":
            return { id: `igw-${h(17)}`, state: {} };
        case "aws:ec2/natGateway:NatGateway":
            return { id: `nat-${h(17)}`, state: {} };
        case "aws:ec2/eip:Eip":
            return {
                id: `eipalloc-${h(17)}`,
                state: { publicIp: `203.0.113.${(parseInt(h(2), 16) % 250) + 1}` },
            };
        case "aws:ec2/routeTable:RouteTable":
            return { id: `rtb-${h(17)}`, state: {} };
        case "aws:ec2/securityGroup:SecurityGroup": {
            const id = `sg-${h(17)}`;
            return {
                id,
                state: { name: inputs.name ?? autoname(name), arn: arn("ec2", `security-group/${id}`) },
            };
        }
        case "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule":
        case "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule":
            return { id: `sgr-${h(17)}`, state: {} };
        case "aws:iam/role:Role": {
            const roleName = inputs.name ?? autoname(name);
            return {
                id: roleName,
                state: { name: roleName, arn: `arn:aws:iam::${account}:role/${roleName}` },
            };
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
            return {
                id: identifier,
                state: {
                    identifier,
                    address,
                    endpoint: `${address}:3306`,
                    port: 3306,
                    arn: arn("rds", `db:${identifier}`),
                },
            };
        }
        case "aws:rds/subnetGroup:SubnetGroup":
        case "aws:rds/parameterGroup:ParameterGroup": {
            const n = inputs.name ?? autoname(name);
            return { id: n, state: { name: n } };
        }
        case "aws:efs/fileSystem:FileSystem": {
            const id = `fs-${h(17)}`;
            return {
                id,
                state: {
                    dnsName: `${id}.efs.${region}.amazonaws.com`,
                    arn: arn("elasticfilesystem", `file-system/${id}`),
                },
            };
        }
        case "aws:efs/mountTarget:MountTarget":
            return { id: `fsmt-${h(17)}`, state: {} };
        case "aws:route53/zone:Zone":
            return { id: `Z${h(20).toUpperCase()}`, state: { zoneId: `Z${h(20).toUpperCase()}` } };
        case "aws:lb/loadBalancer:LoadBalancer": {
            const n = inputs.name ?? autoname(name).slice(0, 32);
            const lbArn = arn("elasticloadbalancing", `loadbalancer/app/${n}/${h(16)}`);
            return {
                id: lbArn,
                state: {
                    arn: lbArn,
                    name: n,
                    dnsName: `${n}-${parseInt(h(8), 16)}.${region}.elb.amazonaws.com`,
                    zoneId: "Z32O12XQLNTSW2",
                },
            };
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
            const u = h(32);
            const cArn = arn(
                "acm",
                `certificate/${u.slice(0, 8)}-${u.slice(8, 12)}-${u.slice(12, 16)}-${u.slice(16, 20)}-${u.slice(20)}`,
            );
            return { id: cArn, state: { arn: cArn } };
        }
        case "aws:ec2/launchTemplate:LaunchTemplate":
            return { id: `lt-${h(17)}`, state: { latestVersion: 1, defaultVersion: 1 } };
        case "aws:autoscaling/group:Group": {
            const n = inputs.name ?? autoname(name);
            return {
                id: n,
                state: {
                    name: n,
                    arn: arn("autoscaling", `autoScalingGroup:${h(8)}:autoScalingGroupName/${n}`),
                },
            };
        }
        case "aws:ecs/cluster:Cluster": {
            const n = inputs.name ?? autoname(name);
            return { id: arn("ecs", `cluster/${n}`), state: { name: n, arn: arn("ecs", `cluster/${n}`) } };
        }
        case "aws:ecs/capacityProvider:CapacityProvider": {
            const n = inputs.name ?? autoname(name);
            return {
                id: arn("ecs", `capacity-provider/${n}`),
                state: { name: n, arn: arn("ecs", `capacity-provider/${n}`) },
            };
        }
        case "aws:ecs/taskDefinition:TaskDefinition": {
            const family = String(inputs.family ?? name);
            return {
                id: family,
                state: {
                    arn: arn("ecs", `task-definition/${family}:1`),
                    arnWithoutRevision: arn("ecs", `task-definition/${family}`),
                    revision: 1,
                },
            };
        }
        case "aws:ecs/service:Service": {
            const n = inputs.name ?? autoname(name);
            return { id: arn("ecs", `service/${n}`), state: { name: n, arn: arn("ecs", `service/${n}`) } };
        }
        case "aws:cloudwatch/logGroup:LogGroup": {
            const n = inputs.name ?? autoname(name);
            return { id: n, state: { name: n, arn: arn("logs", `log-group:${n}`) } };
        }
        case "aws:efs/accessPoint:AccessPoint": {
            const id = `fsap-${h(17)}`;
            return { id, state: { arn: arn("elasticfilesystem", `access-point/${id}`) } };
        }
        case "random:index/randomPassword:RandomPassword":
            // Like the provider: special = false gives letters and digits only.
            return {
                id: "none",
                state: { result: inputs.special === false ? `mockSecret${h(24)}` : `mock-secret-${h(24)}` },
            };
        case "tls:index/privateKey:PrivateKey":
            return {
                id: h(40),
                state: {
                    privateKeyPem: `-----BEGIN PRIVATE KEY-----\nmock-secret-${h(24)}\n-----END PRIVATE KEY-----\n`,
                    privateKeyPemPkcs8: `-----BEGIN PRIVATE KEY-----\nmock-secret-${h(24)}\n-----END PRIVATE KEY-----\n`,
                    publicKeyOpenssh: `ssh-rsa AAAAmock${h(16)} generated`,
                },
            };
        case "tls:index/selfSignedCert:SelfSignedCert":
            return {
                id: h(32),
                state: {
                    certPem: `-----BEGIN CERTIFICATE-----\nmock-self-signed-${h(16)}\n-----END CERTIFICATE-----\n`,
                },
            };
        case "random:index/randomId:RandomId":
            return { id: h(22), state: { hex: h(2 * Number(inputs.byteLength ?? 8)), b64Std: h(22) } };
        case "aws:s3/bucket:Bucket": {
            // Autonamed buckets are lowercase (S3's naming rules).
            const bucket = (inputs.bucket ?? autoname(name)).toLowerCase();
            return { id: bucket, state: { bucket, arn: `arn:aws:s3:::${bucket}` } };
        }
        case "aws:secretsmanager/secretVersion:SecretVersion": {
            // A new value is a new version (PutSecretValue): the id follows the content (the
            // input may arrive as the SDK's secret wrapper, hence JSON).
            const versionId = stableGuid(`secret-version:${JSON.stringify(inputs.secretString)}`);
            return { id: `${inputs.secretId}|${versionId}`, state: { versionId, arn: inputs.secretId } };
        }
        case "aws:kms/key:Key": {
            const keyId = `${h(8)}-${h(4)}-4${h(3)}-8${h(3)}-${h(12)}`;
            return { id: keyId, state: { keyId, arn: arn("kms", `key/${keyId}`) } };
        }
        case "random:index/randomString:RandomString":
            return { id: "none", state: { result: h(Number(inputs.length ?? 8)) } };
        case "tls:index/certRequest:CertRequest":
            return {
                id: h(32),
                state: {
                    certRequestPem: `-----BEGIN CERTIFICATE REQUEST-----\nmock-csr-${h(16)}\n-----END CERTIFICATE REQUEST-----\n`,
                },
            };
        case "tls:index/locallySignedCert:LocallySignedCert":
            return {
                id: h(32),
                state: {
                    certPem: `-----BEGIN CERTIFICATE-----\nmock-signed-${h(16)}\n-----END CERTIFICATE-----\n`,
                },
            };
        default:
            return azureComputed(type, name, inputs, o.location) ?? { id: `${name}-${h(8)}`, state: {} };
    }
}

/** The id the mocks give a resource (deterministic): lets tests match references to it. */
export function mockId(
    type: string,
    name: string,
    inputs: Record<string, any>,
    options: Omit<MockOptions, "platformOutputs"> = {},
): string {
    return computed(type, name, inputs, {
        region: options.region ?? "eu-west-1",
        location: options.location ?? "westeurope",
    }).id;
}

/** The mock Azure subscription and tenant. */
export const azureSubscription = "00000000-0000-0000-0000-000000000000";
export const azureTenant = "11111111-1111-4111-8111-111111111111";

/** A deterministic GUID (v4 layout) of a seed: principal ids, client ids, role assignment names. */
export function stableGuid(seed: string): string {
    const x = stableHex(seed, 32);
    return `${x.slice(0, 8)}-${x.slice(8, 12)}-4${x.slice(13, 16)}-8${x.slice(17, 20)}-${x.slice(20, 32)}`;
}

/** azure-native resources: ARM ids, names, FQDNs, addresses, identities. Undefined for other providers. */
function azureComputed(
    type: string,
    name: string,
    inputs: Record<string, any>,
    location: string,
): { id: string; state: Record<string, any> } | undefined {
    if (!type.startsWith("azure-native:")) return undefined;
    const h = (n: number) => stableHex(`${type}::${name}`, n);
    const rg = String(inputs.resourceGroupName ?? "");
    const arm = (path: string) =>
        `/subscriptions/${azureSubscription}/resourceGroups/${rg}/providers/${path}`;
    const named = (key: string) => String(inputs[key] ?? autoname(name));
    const simple = (key: string, path: (n: string) => string, extra: Record<string, any> = {}) => {
        const n = named(key);
        return { id: arm(path(n)), state: { name: n, ...extra } };
    };
    switch (type) {
        case "azure-native:resources:ResourceGroup": {
            const n = named("resourceGroupName");
            return {
                id: `/subscriptions/${azureSubscription}/resourceGroups/${n}`,
                state: { name: n, location: inputs.location ?? location },
            };
        }
        case "azure-native:network:VirtualNetwork":
            return simple("virtualNetworkName", (n) => `Microsoft.Network/virtualNetworks/${n}`);
        case "azure-native:network:Subnet":
            return simple(
                "subnetName",
                (n) => `Microsoft.Network/virtualNetworks/${inputs.virtualNetworkName}/subnets/${n}`,
            );
        case "azure-native:network:NetworkSecurityGroup":
            return simple("networkSecurityGroupName", (n) => `Microsoft.Network/networkSecurityGroups/${n}`);
        case "azure-native:network:NatGateway":
            return simple("natGatewayName", (n) => `Microsoft.Network/natGateways/${n}`);
        case "azure-native:network:PublicIPAddress":
            return simple("publicIpAddressName", (n) => `Microsoft.Network/publicIPAddresses/${n}`, {
                ipAddress: `203.0.113.${(parseInt(h(2), 16) % 250) + 1}`,
            });
        case "azure-native:network:NetworkInterface":
            return simple("networkInterfaceName", (n) => `Microsoft.Network/networkInterfaces/${n}`);
        case "azure-native:network:ApplicationGateway":
            return simple("applicationGatewayName", (n) => `Microsoft.Network/applicationGateways/${n}`);
        case "azure-native:network:PrivateEndpoint":
            return simple("privateEndpointName", (n) => `Microsoft.Network/privateEndpoints/${n}`);
        case "azure-native:network:PrivateDnsZoneGroup":
            return simple(
                "privateDnsZoneGroupName",
                (n) =>
                    `Microsoft.Network/privateEndpoints/${inputs.privateEndpointName}/privateDnsZoneGroups/${n}`,
            );
        case "azure-native:privatedns:PrivateZone":
            return simple("privateZoneName", (n) => `Microsoft.Network/privateDnsZones/${n}`);
        case "azure-native:privatedns:VirtualNetworkLink":
            return simple(
                "virtualNetworkLinkName",
                (n) => `Microsoft.Network/privateDnsZones/${inputs.privateZoneName}/virtualNetworkLinks/${n}`,
            );
        case "azure-native:compute:VirtualMachine":
            return simple("vmName", (n) => `Microsoft.Compute/virtualMachines/${n}`, {
                vmId: stableGuid(`vmId:${type}::${name}`),
                ...(inputs.identity
                    ? {
                          identity: {
                              ...inputs.identity,
                              principalId: stableGuid(`principal:${type}::${name}`),
                              tenantId: azureTenant,
                          },
                      }
                    : {}),
            });
        case "azure-native:dbformysql:Server": {
            const n = named("serverName");
            return {
                id: arm(`Microsoft.DBforMySQL/flexibleServers/${n}`),
                state: { name: n, fullyQualifiedDomainName: `${n}.mysql.database.azure.com`, state: "Ready" },
            };
        }
        case "azure-native:dbformysql:Configuration":
            return simple(
                "configurationName",
                (n) => `Microsoft.DBforMySQL/flexibleServers/${inputs.serverName}/configurations/${n}`,
            );
        case "azure-native:keyvault:Vault": {
            const n = named("vaultName");
            return {
                id: arm(`Microsoft.KeyVault/vaults/${n}`),
                state: {
                    name: n,
                    properties: { ...inputs.properties, vaultUri: `https://${n}.vault.azure.net/` },
                },
            };
        }
        case "azure-native:keyvault:Secret": {
            const n = named("secretName");
            const uri = `https://${inputs.vaultName}.vault.azure.net/secrets/${n}`;
            // Like ARM: the value is never returned.
            return {
                id: arm(`Microsoft.KeyVault/vaults/${inputs.vaultName}/secrets/${n}`),
                state: {
                    name: n,
                    properties: {
                        contentType: inputs.properties?.contentType,
                        secretUri: uri,
                        secretUriWithVersion: `${uri}/${h(32)}`,
                    },
                },
            };
        }
        case "azure-native:storage:StorageAccount":
            return simple("accountName", (n) => `Microsoft.Storage/storageAccounts/${n}`, {
                primaryEndpoints: { file: `https://${named("accountName")}.file.core.windows.net/` },
            });
        case "azure-native:storage:FileServiceProperties":
            return simple(
                "fileServicesName",
                () => `Microsoft.Storage/storageAccounts/${inputs.accountName}/fileServices/default`,
            );
        case "azure-native:storage:FileShare":
            return simple(
                "shareName",
                (n) =>
                    `Microsoft.Storage/storageAccounts/${inputs.accountName}/fileServices/default/shares/${n}`,
            );
        case "azure-native:authorization:RoleAssignment": {
            const n = String(inputs.roleAssignmentName ?? stableGuid(`${type}::${name}`));
            return {
                id: `${inputs.scope}/providers/Microsoft.Authorization/roleAssignments/${n}`,
                state: { name: n },
            };
        }
        case "azure-native:containerservice:ManagedCluster": {
            const n = named("resourceName");
            const addon = (key: string) => ({
                clientId: stableGuid(`client:${key}:${name}`),
                objectId: stableGuid(`object:${key}:${name}`),
                resourceId: arm(`Microsoft.ManagedIdentity/userAssignedIdentities/${key}-${n}`),
            });
            return {
                id: arm(`Microsoft.ContainerService/managedClusters/${n}`),
                state: {
                    name: n,
                    fqdn: `${inputs.dnsPrefix ?? n}-${h(8)}.hcp.${location}.azmk8s.io`,
                    identity: {
                        ...inputs.identity,
                        principalId: stableGuid(`principal:${type}::${name}`),
                        tenantId: azureTenant,
                    },
                    addonProfiles: Object.fromEntries(
                        Object.entries(inputs.addonProfiles ?? {}).map(([k, v]) => [
                            k,
                            { ...(v as object), identity: addon(k) },
                        ]),
                    ),
                    // AKS creates the kubelet's identity in the node resource group.
                    identityProfile: { kubeletidentity: addon("kubeletidentity") },
                },
            };
        }
        case "azure-native:containerregistry:Registry":
            return simple("registryName", (n) => `Microsoft.ContainerRegistry/registries/${n}`, {
                loginServer: `${named("registryName")}.azurecr.io`,
            });
        case "azure-native:containerregistry:CacheRule":
            return simple(
                "cacheRuleName",
                (n) => `Microsoft.ContainerRegistry/registries/${inputs.registryName}/cacheRules/${n}`,
            );
        case "azure-native:managedidentity:UserAssignedIdentity":
            return simple("resourceName", (n) => `Microsoft.ManagedIdentity/userAssignedIdentities/${n}`, {
                principalId: stableGuid(`principal:${type}::${name}`),
                clientId: stableGuid(`client:${type}::${name}`),
                tenantId: azureTenant,
            });
        default:
            return { id: arm(`${type.split(":")[1]}/${name}`), state: { name: autoname(name) } };
    }
}

/**
 * Mocks for pulumi.runtime.setMocks that record every registration. `records` is the shared
 * list; callers filter it by name (tests) or take it whole (synth).
 */
export function createMocks(options: MockOptions = {}): {
    mocks: pulumi.runtime.Mocks;
    records: RecordedResource[];
} {
    const records: RecordedResource[] = [];
    const o = { region: options.region ?? "eu-west-1", location: options.location ?? "westeurope" };
    const platform = options.platformOutputs ?? platformPlaceholders;
    const mocks: pulumi.runtime.Mocks = {
        newResource(args) {
            let result: { id: string; state: Record<string, any> };
            if (args.type === "pulumi:pulumi:StackReference") {
                const stack = String(args.inputs.name ?? args.name);
                result = {
                    id: stack,
                    state: { name: stack, outputs: platform(stack), secretOutputNames: [] },
                };
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
                case "azure-native:authorization:getClientConfig":
                    return {
                        subscriptionId: azureSubscription,
                        tenantId: azureTenant,
                        objectId: stableGuid("deployer:object"),
                        clientId: stableGuid("deployer:client"),
                    };
                case "azure-native:storage:listStorageAccountKeys": {
                    const account = String(args.inputs.accountName ?? "");
                    return {
                        keys: ["key1", "key2"].map((keyName) => ({
                            keyName,
                            permissions: "FULL",
                            value: `mock-secret-${stableHex(`${account}:${keyName}`, 24)}`,
                        })),
                    };
                }
                case "azure-native:containerservice:listManagedClusterAdminCredentials": {
                    const cluster = String(args.inputs.resourceName ?? "");
                    const kubeconfig = `apiVersion: v1\nkind: Config\nclusters:\n- name: ${cluster}\n  cluster:\n    server: https://${cluster}.hcp.mock.azmk8s.io:443\nusers:\n- name: clusterAdmin\n  user:\n    token: mock-secret-${stableHex(cluster, 24)}\n`;
                    return {
                        kubeconfigs: [
                            { name: "clusterAdmin", value: Buffer.from(kubeconfig).toString("base64") },
                        ],
                    };
                }
                case "aws:index/getAvailabilityZones:getAvailabilityZones":
                    return {
                        names: ["a", "b", "c"].map((z) => `${o.region}${z}`),
                        zoneIds: ["1", "2", "3"].map((z) => `euw1-az${z}`),
                        id: o.region,
                    };
                case "aws:index/getCallerIdentity:getCallerIdentity":
                    return {
                        accountId: account,
                        arn: `arn:aws:iam::${account}:user/deployer`,
                        userId: "AIDAMOCKDEPLOYER",
                        id: account,
                    };
                case "aws:index/getPartition:getPartition":
                    return { partition: "aws", dnsSuffix: "amazonaws.com", id: "aws" };
                // A platform VPC: its CIDR (the ECS target derives Hazelcast's interface from it).
                case "aws:ec2/getVpc:getVpc":
                    return {
                        id: args.inputs.id,
                        cidrBlock: "10.60.0.0/16",
                        arn: `arn:aws:ec2:${o.region}:${account}:vpc/${args.inputs.id}`,
                    };
                case "aws:ec2/getAmi:getAmi":
                    return {
                        id: `ami-${stableHex(JSON.stringify(args.inputs), 17)}`,
                        name: "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-<mock>",
                        architecture: "x86_64",
                    };
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
