// wso2is:azure:VmCluster under the mock engine: resources, their security-relevant inputs, the
// rendered customData, protection of stateful resources, the platform stack path and SMB.
import * as assert from "assert";
import * as zlib from "zlib";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as keyvault from "@pulumi/azure-native/keyvault";
import * as ipaddr from "ipaddr.js";
import * as YAML from "yaml";
import { AzureVmCluster, azurePlatformOutputs, networkFromPlatform } from "../../components/azure-vm";
import { pemToBase64Der } from "../../components/shared/backendTls";
import { keyVaultSecretsUserRoleId } from "../../components/azure";
import { buildPfx } from "../../components/azure-vm/pfx";
import { ConfigError } from "../../components/config/schema";
import { readPlatformStack } from "../../components/platform";
import { nodeReadySeconds } from "../../components/model/boot";
import { configFor } from "../fixtures/models";
import { isKnownTomlKey } from "../fixtures/tomlKeys";
import { RecordedResource, azureSubscription, mockId } from "../../synth/mocks";
import { isSecretWrapper } from "../../synth/redact";
import {
    engine,
    ofType,
    one,
    optionsRecorder,
    promiseOf,
    resourcesNamed,
    setPlatformOutputs,
} from "../harness";

const T = {
    rg: "azure-native:resources:ResourceGroup",
    vnet: "azure-native:network:VirtualNetwork",
    subnet: "azure-native:network:Subnet",
    nsg: "azure-native:network:NetworkSecurityGroup",
    nat: "azure-native:network:NatGateway",
    pip: "azure-native:network:PublicIPAddress",
    nic: "azure-native:network:NetworkInterface",
    vm: "azure-native:compute:VirtualMachine",
    appgw: "azure-native:network:ApplicationGateway",
    pe: "azure-native:network:PrivateEndpoint",
    zoneGroup: "azure-native:network:PrivateDnsZoneGroup",
    zone: "azure-native:privatedns:PrivateZone",
    link: "azure-native:privatedns:VirtualNetworkLink",
    mysql: "azure-native:dbformysql:Server",
    mysqlConfig: "azure-native:dbformysql:Configuration",
    vault: "azure-native:keyvault:Vault",
    secret: "azure-native:keyvault:Secret",
    account: "azure-native:storage:StorageAccount",
    fileService: "azure-native:storage:FileServiceProperties",
    share: "azure-native:storage:FileShare",
    role: "azure-native:authorization:RoleAssignment",
    uai: "azure-native:managedidentity:UserAssignedIdentity",
    password: "random:index/randomPassword:RandomPassword",
    selfSigned: "tls:index/selfSignedCert:SelfSignedCert",
    randomId: "random:index/randomId:RandomId",
    gate: "azure-native:compute:VirtualMachineRunCommandByVirtualMachine",
};

const kvCertificate = "https://acme-certs.vault.azure.net/secrets/login-example-com";

async function build(
    name: string,
    extra: Record<string, string> = {},
    more: { network?: ReturnType<typeof networkFromPlatform>; adminPassword?: pulumi.Output<string> } = {},
) {
    const options = optionsRecorder();
    const cluster = new AzureVmCluster(
        name,
        { config: configFor("azure", extra), location: "westeurope", ...more },
        { transformations: [options.transformation] },
    );
    const cloudInit = await promiseOf(cluster.cloudInit);
    const outputs = await Promise.all(
        Object.entries(cluster.outputs()).map(async ([k, v]) => [k, await promiseOf(v)] as const),
    );
    const nginxConf = await promiseOf(cluster.nginxConf);
    const resources = await resourcesNamed(name);
    return {
        cluster,
        cloudInit,
        nginxConf,
        outputs: Object.fromEntries(outputs) as Record<string, any>,
        resources,
        options: options.seen,
    };
}
type Built = Awaited<ReturnType<typeof build>>;

/** A recorded input with every Pulumi secret wrapper replaced by its value. */
function plain(v: any): any {
    if (isSecretWrapper(v)) return plain(v.value);
    if (Array.isArray(v)) return v.map(plain);
    if (v && typeof v === "object")
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
    return v;
}

function customData(vm: RecordedResource): string {
    return zlib.gunzipSync(Buffer.from(vm.inputs.osProfile.customData, "base64")).toString("utf8");
}

function writeFile(userData: string, file: string): string {
    const f = (YAML.parse(userData).write_files as { path: string; content: string }[]).find(
        (x) => x.path === file,
    );
    assert.ok(f, `${file} in user-data`);
    return f.content;
}

/** The share's fstab line (appended through write_files), split into its fields. */
function fstabOf(userData: string): string[] {
    return writeFile(userData, "/etc/fstab").trim().split(/\s+/);
}

function nodeEnv(userData: string): Record<string, string> {
    return Object.fromEntries(
        writeFile(userData, "/etc/wso2is/node.env")
            .split("\n")
            .filter((l) => /^[A-Z_]+=/.test(l))
            .map((l) => {
                const i = l.indexOf("=");
                return [l.slice(0, i), l.slice(i + 2, -1)];
            }),
    );
}

/** Inbound rules of one NSG by role name (`<cluster>-<role>`). */
function rulesOf(r: Built, role: string): any[] {
    return one(r.resources, T.nsg, `${nameOf(r)}-${role}`).inputs.securityRules;
}
function nameOf(r: Built): string {
    return one(r.resources, "wso2is:azure:VmCluster").name;
}

function clusterSecret(r: Built): Record<string, string> {
    return JSON.parse(plain(one(r.resources, T.secret).inputs.properties).value);
}

describe("azure target (wso2is:azure:VmCluster)", function () {
    let dev: Built;
    let prod: Built;

    before(async function () {
        dev = await build("azdev");
        prod = await build("azprod", {
            production: "true",
            nodes: "3",
            certificate: kvCertificate,
            dbBackupDays: "14",
            allowedCidrs: JSON.stringify(["198.51.100.0/24", "192.0.2.0/24"]),
        });
    });

    it("creates the dev stack's resources, each once where one is expected", function () {
        const count = (t: string) => ofType(dev.resources, t).length;
        assert.deepStrictEqual(Object.fromEntries(Object.entries(T).map(([k, t]) => [k, count(t)])), {
            rg: 1,
            vnet: 1,
            // gateway, database, endpoints, and one node subnet per zone in use (2 nodes: zones 1, 2)
            subnet: 5,
            nsg: 4,
            // one zonal NAT gateway (and public IP) per zone in use
            nat: 2,
            pip: 3,
            nic: 2,
            vm: 2,
            appgw: 1,
            pe: 1,
            zoneGroup: 1,
            zone: 2,
            link: 2,
            mysql: 1,
            mysqlConfig: 2,
            vault: 1,
            secret: 1,
            account: 1,
            fileService: 1,
            share: 1,
            role: 2,
            gate: 2,
            uai: 0,
            // db admin, db app, IS admin, backend keystore, signing keystore, listener PFX
            password: 6,
            // the listener's self-signed certificate, the backend CA and the signing certificate
            selfSigned: 3,
            // the cluster's [encryption] key
            randomId: 1,
        });
        assert.strictEqual(one(dev.resources, "wso2is:azure:VmCluster").custom, false);
    });

    it("carves the VNet into gateway, nodes, database and endpoint /24s; the nodes' /24 into one /26 per zone, each with its zonal NAT gateway", function () {
        assert.deepStrictEqual(one(dev.resources, T.vnet).inputs.addressSpace.addressPrefixes, [
            "10.41.0.0/16",
        ]);
        const subnet = (role: string) => one(dev.resources, T.subnet, `azdev-${role}`).inputs;
        assert.deepStrictEqual(
            ["gateway", "nodes-1", "nodes-2", "database", "endpoints"].map((r) => subnet(r).addressPrefix),
            ["10.41.0.0/24", "10.41.1.0/26", "10.41.1.64/26", "10.41.2.0/24", "10.41.3.0/24"],
        );
        const nsgId = (role: string) => engineId(dev, T.nsg, `azdev-${role}`);
        for (const role of ["gateway", "database", "endpoints"])
            assert.strictEqual(subnet(role).networkSecurityGroup.id, nsgId(role), `${role} NSG`);
        for (const zone of ["1", "2"]) {
            const nodes = subnet(`nodes-${zone}`);
            assert.strictEqual(nodes.networkSecurityGroup.id, nsgId("nodes"), `nodes-${zone} NSG`);
            // Each zone's nodes leave through their own zone's NAT gateway: no hidden shared zone.
            assert.strictEqual(nodes.natGateway.id, engineId(dev, T.nat, `azdev-nat-${zone}`));
            assert.strictEqual(nodes.defaultOutboundAccess, false);
            const nat = one(dev.resources, T.nat, `azdev-nat-${zone}`).inputs;
            assert.deepStrictEqual(nat.zones, [zone]);
            assert.deepStrictEqual(nat.publicIpAddresses, [
                { id: engineId(dev, T.pip, `azdev-nat-${zone}`) },
            ]);
            assert.deepStrictEqual(one(dev.resources, T.pip, `azdev-nat-${zone}`).inputs.zones, [zone]);
        }
        // Three nodes use three zones: a third subnet and NAT gateway.
        assert.deepStrictEqual(
            ofType(prod.resources, T.nat).map((n) => n.inputs.zones),
            [["1"], ["2"], ["3"]],
        );
        assert.strictEqual(
            one(prod.resources, T.subnet, "azprod-nodes-3").inputs.addressPrefix,
            "10.41.1.128/26",
        );
        for (const role of ["gateway", "database", "endpoints"])
            assert.strictEqual(subnet(role).natGateway, undefined);
        assert.deepStrictEqual(subnet("database").delegations, [
            { name: "mysql-flexible", serviceName: "Microsoft.DBforMySQL/flexibleServers" },
        ]);
        assert.strictEqual(subnet("endpoints").privateEndpointNetworkPolicies, "Enabled");
        const natIp = one(dev.resources, T.pip, "azdev-nat-1").inputs;
        assert.deepStrictEqual([natIp.sku.name, natIp.publicIPAllocationMethod], ["Standard", "Static"]);
    });

    it("NSGs: clients reach only the gateway's 443/80; 9443 only from the gateway subnet, 4000 only node to node, 3306 and the share only from nodes; no SSH", function () {
        const all = ofType(dev.resources, T.nsg).flatMap((g) =>
            g.inputs.securityRules.map((rule: any) => ({ nsg: g.name, ...rule })),
        );
        const publicSource = (rule: any) =>
            [rule.sourceAddressPrefix, ...(rule.sourceAddressPrefixes ?? [])].some(
                (s: string) => s === "*" || s === "Internet" || s === "0.0.0.0/0",
            );
        for (const rule of all.filter((r) => r.access === "Allow")) {
            assert.strictEqual(rule.direction, "Inbound");
            assert.ok(
                rule.destinationPortRange !== "22" && !(rule.destinationPortRanges ?? []).includes("22"),
                `SSH rule ${rule.name}`,
            );
            if (publicSource(rule)) {
                assert.strictEqual(rule.nsg, "azdev-gateway", `public source on ${rule.nsg}/${rule.name}`);
                assert.ok(
                    ["443", "80"].includes(rule.destinationPortRange),
                    `public source to ${rule.destinationPortRange}`,
                );
            }
            if (["GatewayManager", "AzureLoadBalancer"].includes(rule.sourceAddressPrefix))
                assert.strictEqual(rule.nsg, "azdev-gateway");
        }
        // Every NSG ends with an explicit deny of everything else.
        for (const g of ofType(dev.resources, T.nsg)) {
            const last = g.inputs.securityRules.reduce((a: any, b: any) => (a.priority > b.priority ? a : b));
            assert.deepStrictEqual(
                [
                    last.access,
                    last.direction,
                    last.sourceAddressPrefix,
                    last.destinationPortRange,
                    last.protocol,
                ],
                ["Deny", "Inbound", "*", "*", "*"],
                g.name,
            );
        }
        const gw = rulesOf(dev, "gateway");
        assert.deepStrictEqual(
            gw
                .filter((r) => r.access === "Allow")
                .map((r) => [r.destinationPortRange, r.sourceAddressPrefix ?? r.sourceAddressPrefixes]),
            [
                ["443", ["0.0.0.0/0"]],
                ["80", ["0.0.0.0/0"]],
                ["65200-65535", "GatewayManager"],
                ["*", "AzureLoadBalancer"],
            ],
        );
        const allowed = (role: string) =>
            rulesOf(dev, role)
                .filter((r) => r.access === "Allow")
                .map((r) => [r.destinationPortRange, r.sourceAddressPrefix]);
        assert.deepStrictEqual(allowed("nodes"), [
            ["9443", "10.41.0.0/24"],
            ["4000", "10.41.1.0/24"],
        ]);
        assert.deepStrictEqual(allowed("database"), [
            ["3306", "10.41.1.0/24"],
            ["*", "10.41.2.0/24"],
        ]);
        assert.deepStrictEqual(allowed("endpoints"), [["2049", "10.41.1.0/24"]]);
        // Production: the configured client CIDRs only.
        const prodGw = rulesOf(prod, "gateway").filter((r) => ["443", "80"].includes(r.destinationPortRange));
        for (const rule of prodGw)
            assert.deepStrictEqual(rule.sourceAddressPrefixes, ["198.51.100.0/24", "192.0.2.0/24"]);
    });

    it("nodes: static NIC addresses from their zone's subnet (Azure's first four reserved), zones round robin, the node NSG on every NIC", function () {
        const nics = ofType(prod.resources, T.nic);
        assert.deepStrictEqual(
            nics.map((n) => n.inputs.ipConfigurations[0].privateIPAddress),
            ["10.41.1.4", "10.41.1.68", "10.41.1.132"],
        );
        assert.deepStrictEqual(
            nics.map((n) => n.inputs.ipConfigurations[0].subnet.id),
            ["1", "2", "3"].map((z) => engineId(prod, T.subnet, `azprod-nodes-${z}`)),
        );
        for (const nic of nics) {
            assert.strictEqual(nic.inputs.ipConfigurations[0].privateIPAllocationMethod, "Static");
            assert.ok(
                ipaddr.IPv4.parse(nic.inputs.ipConfigurations[0].privateIPAddress).match(
                    ipaddr.IPv4.parseCIDR("10.41.1.0/24"),
                ),
            );
            assert.strictEqual(nic.inputs.networkSecurityGroup.id, engineId(prod, T.nsg, "azprod-nodes"));
        }
        assert.deepStrictEqual(
            ofType(prod.resources, T.vm).map((vm) => vm.inputs.zones),
            [["1"], ["2"], ["3"]],
        );
        assert.deepStrictEqual(prod.outputs.nodeIps, ["10.41.1.4", "10.41.1.68", "10.41.1.132"]);
    });

    it("VMs: Ubuntu 24.04, sized from config, encrypted Premium OS disk, SSH key only, a system-assigned identity, trusted launch", function () {
        for (const vm of ofType(dev.resources, T.vm)) {
            const i = vm.inputs;
            assert.deepStrictEqual(i.storageProfile.imageReference, {
                publisher: "Canonical",
                offer: "ubuntu-24_04-lts",
                sku: "server",
                version: "latest",
            });
            assert.strictEqual(i.hardwareProfile.vmSize, "Standard_D4s_v5");
            assert.deepStrictEqual(
                [
                    i.storageProfile.osDisk.managedDisk.storageAccountType,
                    i.storageProfile.osDisk.diskSizeGB,
                    i.storageProfile.osDisk.createOption,
                ],
                ["Premium_LRS", 30, "FromImage"],
            );
            assert.strictEqual(i.osProfile.adminPassword, undefined);
            assert.strictEqual(i.osProfile.linuxConfiguration.disablePasswordAuthentication, true);
            assert.match(i.osProfile.linuxConfiguration.ssh.publicKeys[0].keyData, /^ssh-rsa /);
            assert.deepStrictEqual(i.identity, { type: "SystemAssigned" });
            assert.strictEqual(i.securityProfile.securityType, "TrustedLaunch");
            assert.strictEqual(i.diagnosticsProfile.bootDiagnostics.enabled, true);
        }
        assert.match(dev.outputs.sshPublicKey, /^ssh-rsa /);
        const opt = dev.options.get(`${T.vm}::azdev-node-1`)!;
        // A changed node file replaces the VM (the old one first); the gates roll it one node at a time.
        assert.deepStrictEqual(
            [opt.deleteBeforeReplace, opt.ignoreChanges, opt.replaceOnChanges],
            [true, undefined, ["osProfile.customData"]],
        );
    });

    it("rolling changes: each VM waits for the previous node's health gate, a Run Command that runs the gateway's probe on the node", async function () {
        const gates = ofType(prod.resources, T.gate);
        assert.deepStrictEqual(
            gates.map((g) => g.name),
            ["azprod-node-1-health", "azprod-node-2-health", "azprod-node-3-health"],
        );
        const ca = engine.records.find((r) => r.type === T.selfSigned && r.name === "azprod-backend-ca")!;
        for (const [i, g] of gates.entries()) {
            const vm = ofType(prod.resources, T.vm)[i];
            assert.strictEqual(g.inputs.vmName, vm.state.name ?? vm.inputs.vmName);
            assert.deepStrictEqual(
                [
                    g.inputs.asyncExecution,
                    g.inputs.treatFailureAsDeploymentFailure,
                    g.inputs.timeoutInSeconds,
                ],
                // The gate allows a node's whole boot: the bootstrap budget plus IS start.
                [false, true, nodeReadySeconds],
            );
            const script: string = g.inputs.source.script;
            const ip = prod.outputs.nodeIps[i];
            assert.match(script, new RegExp(`^ip=${ip.replace(/\./g, "\\.")}$`, "m"));
            assert.match(script, /^host=is\.example\.com$/m);
            assert.match(script, /^path=\/api\/health-check\/v1\.0\/health$/m);
            assert.ok(script.includes(ca.state.certPem.trim()), "verifies against the cluster CA");
            assert.match(script, /^# vm=.*\/spec=[0-9a-f]{64}$/m);
            const opts = prod.options.get(`${T.gate}::${g.name}`)!;
            assert.deepStrictEqual([opts.replaceOnChanges, opts.deleteBeforeReplace], [["*"], true]);
            // The gate starts after its VM, the node's secret grant and the gateway.
            const after = await Promise.all(
                (opts.dependsOn as pulumi.Resource[]).map((d) => promiseOf(d.urn)),
            );
            assert.ok(after.some((u) => u.endsWith(`compute:VirtualMachine::azprod-node-${i + 1}`)));
            assert.ok(after.some((u) => u.endsWith(`RoleAssignment::azprod-node-${i + 1}-secret-read`)));
            assert.ok(after.some((u) => u.endsWith("network:ApplicationGateway::azprod-gateway")));
        }
        // The chain: node-1 waits for nothing; node-n waits for node-(n-1)'s gate.
        for (const i of [1, 2, 3]) {
            const opts = prod.options.get(`${T.vm}::azprod-node-${i}`)!;
            const after = await Promise.all(
                ((opts.dependsOn as pulumi.Resource[]) ?? []).map((d) => promiseOf(d.urn)),
            );
            assert.deepStrictEqual(
                after.map((u) => u.split("::").pop()),
                i === 1 ? [] : [`azprod-node-${i - 1}-health`],
            );
        }
        // A different spec (nodeSize) gives a different gate script, so the gate runs again.
        const resized = await build("azgate-resized", { nodeSize: "Standard_D8s_v5" });
        const dig = (r: Built) =>
            /spec=([0-9a-f]{64})/.exec(
                one(r.resources, T.gate, `${nameOf(r)}-node-1-health`).inputs.source.script,
            )![1];
        const same = await build("azgate-same", {});
        assert.notStrictEqual(dig(resized), dig(same));
    });

    it("at the longest stack name config accepts, every Azure name the program derives is within Azure's limit", async function () {
        const r = await build(`wso2is-${"s".repeat(43)}`, { nodes: "3" });
        const named = (type: string) =>
            ofType(r.resources, type).map((x) => String(x.state.name ?? x.inputs.name ?? x.name));
        const check = (what: string, names: string[], limit: number) => {
            assert.ok(names.length > 0, what);
            for (const n of names) assert.ok(n.length <= limit, `${what} ${n}: ${n.length} > ${limit}`);
        };
        const vms = ofType(r.resources, T.vm).map((v) => v.inputs);
        check(
            "VM name",
            vms.map((v) => v.vmName),
            64,
        );
        check(
            "computer name",
            vms.map((v) => v.osProfile.computerName),
            64,
        );
        check(
            "OS disk",
            vms.map((v) => v.storageProfile.osDisk.name),
            80,
        );
        check("VNet", named(T.vnet), 64);
        check("private endpoint", named(T.pe), 64);
        check(
            "Application Gateway",
            ofType(r.resources, T.appgw).map((g) => g.inputs.applicationGatewayName),
            80,
        );
    });

    it("the listener PFX password is letters and digits only (the legacy form)", function () {
        const pw = one(dev.resources, T.password, "azdev-listener-pfx-password").inputs;
        assert.deepStrictEqual([pw.special, pw.length], [false, 32]);
    });

    it("a pre-baked image replaces the Marketplace image (and its trusted-launch settings)", async function () {
        const imageId =
            "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/images/providers/Microsoft.Compute/images/wso2is-7.1.0";
        const r = await build("azbaked", {
            nodeImageId: imageId,
            nodeSize: "Standard_D8s_v5",
            nodeDiskGb: "64",
        });
        for (const vm of ofType(r.resources, T.vm)) {
            assert.deepStrictEqual(vm.inputs.storageProfile.imageReference, { id: imageId });
            assert.strictEqual(vm.inputs.securityProfile, undefined);
            assert.deepStrictEqual(
                [vm.inputs.hardwareProfile.vmSize, vm.inputs.storageProfile.osDisk.diskSizeGB],
                ["Standard_D8s_v5", 64],
            );
        }
        assert.match(writeFile(r.cloudInit["node-1"], "/etc/wso2is/node.env"), /IS_ZIP_URL=/);
    });

    it("every node's customData is its rendered cloud-init: WKA members = the NICs' static IPs, local_member_host = its own", function () {
        const nicIps = ofType(prod.resources, T.nic).map(
            (n) => n.inputs.ipConfigurations[0].privateIPAddress,
        );
        const vms = ofType(prod.resources, T.vm);
        assert.strictEqual(vms.length, 3);
        vms.forEach((vm, i) => {
            const userData = customData(vm);
            assert.strictEqual(userData, prod.cloudInit[`node-${i + 1}`]);
            assert.ok(userData.startsWith("#cloud-config\n"));
            const toml = writeFile(userData, "/etc/wso2is/deployment.toml");
            assert.match(toml, /membership_scheme = "wka"/);
            const members = /members = \[ (.*) \]/
                .exec(toml)![1]
                .split(", ")
                .map((m) => JSON.parse(m));
            assert.deepStrictEqual(
                members,
                nicIps.map((ip) => `${ip}:4000`),
            );
            assert.match(toml, new RegExp(`local_member_host = "${nicIps[i].replace(/\./g, "\\.")}"`));
            const env = nodeEnv(userData);
            assert.deepStrictEqual(
                [env.NODE_IP_SOURCE, env.NODE_IP, env.NODE_NAME],
                ["static", nicIps[i], `node-${i + 1}`],
            );
        });
    });

    it("9443 serves the cluster's certificate: [keystore.tls] with $env passwords, node.env names the keystore, the secret carries the PEMs", function () {
        const userData = dev.cloudInit["node-1"];
        const toml = writeFile(userData, "/etc/wso2is/deployment.toml");
        const tlsTable = /\[keystore\.tls\]\n((?:[a-z_]+ = .*\n)+)/.exec(toml);
        assert.ok(tlsTable, "a [keystore.tls] table");
        const entries = Object.fromEntries(
            tlsTable[1]
                .trim()
                .split("\n")
                .map((l) => l.split(" = "))
                .map(([k, v]) => [k, JSON.parse(v)]),
        );
        assert.deepStrictEqual(entries, {
            file_name: "wso2is-backend.p12",
            type: "PKCS12",
            alias: "wso2is-backend",
            password: "$env{WSO2_TLS_KEYSTORE_PASSWORD}",
            key_password: "$env{WSO2_TLS_KEYSTORE_PASSWORD}",
        });
        for (const k of Object.keys(entries))
            assert.ok(isKnownTomlKey(["keystore", "tls", k]), `keystore.tls.${k} is a key IS knows`);
        const env = nodeEnv(userData);
        assert.deepStrictEqual(
            [env.TLS_KEYSTORE_FILE, env.TLS_KEYSTORE_ALIAS, env.TLS_CA_ALIAS],
            [
                "/opt/wso2is/wso2is-7.1.0/repository/resources/security/wso2is-backend.p12",
                "wso2is-backend",
                "wso2is-cluster-ca",
            ],
        );
        const secret = clusterSecret(dev);
        const ca = engine.records.find((r) => r.type === T.selfSigned && r.name === "azdev-backend-ca")!;
        assert.strictEqual(secret.tlsCaCertificate, ca.state.certPem);
        assert.match(secret.tlsPrivateKey, /^-----BEGIN PRIVATE KEY-----/);
        assert.match(secret.tlsKeystorePassword, /^mock-secret-/);
        const request = engine.records.find(
            (r) => r.type === "tls:index/certRequest:CertRequest" && r.name === "azdev-backend",
        )!;
        assert.deepStrictEqual(
            [request.inputs.subject.commonName, request.inputs.dnsNames, request.inputs.ipAddresses],
            ["is.example.com", ["is.example.com", "localhost"], ["10.41.1.4", "10.41.1.68", "127.0.0.1"]],
        );
    });

    it("customData holds no secret: no generated password, no storage key, no private key, no mock secret", async function () {
        const secrets = engine.records
            .filter((r) => r.type === T.password && r.name.startsWith("azdev-"))
            .map((r) => r.state.result as string);
        assert.strictEqual(secrets.length, 6);
        const key = one(dev.resources, T.randomId).state.hex as string;
        for (const vm of ofType(dev.resources, T.vm)) {
            assert.ok(
                !customData(vm).toLowerCase().includes(key),
                "the encryption key leaked into customData",
            );
            const userData = customData(vm);
            for (const s of secrets)
                assert.ok(!userData.includes(s), "a generated password leaked into customData");
            assert.doesNotMatch(userData, /mock-secret-|BEGIN .*PRIVATE KEY|ssh-rsa /);
        }
        assert.ok(!JSON.stringify(dev.outputs).includes("mock-secret-"), "no secret value in the outputs");
        assert.match(String(dev.outputs.signingCertificatePem), /^-----BEGIN CERTIFICATE-----/);
        assert.ok(!JSON.stringify(dev.outputs).includes(key), "no encryption key in the outputs");
    });

    it("nodes boot without waiting for the database, the share or the vault: every name in their files is known up front", async function () {
        const env = nodeEnv(dev.cloudInit["node-1"]);
        const server = one(dev.resources, T.mysql).inputs.serverName;
        assert.match(server, /^azdev-[0-9a-f]{6}$/);
        assert.strictEqual(env.DB_HOST, `${server}.mysql.database.azure.com`);
        assert.strictEqual(env.DB_HOST, dev.outputs.databaseFqdn);
        const vaultName = one(dev.resources, T.vault).inputs.vaultName;
        assert.strictEqual(env.SECRET_ID, `https://${vaultName}.vault.azure.net/secrets/cluster`);
        assert.deepStrictEqual(
            [env.SECRET_SOURCE, dev.outputs.keyVaultSecretId],
            ["azure-key-vault", env.SECRET_ID],
        );
        const account = one(dev.resources, T.account).inputs.accountName;
        assert.match(account, /^[a-z0-9]{3,24}$/);
        const fstab = fstabOf(dev.cloudInit["node-1"]);
        assert.deepStrictEqual(fstab.slice(0, 3), [
            `${account}.file.core.windows.net:/${account}/is-share`,
            "/mnt/wso2is-share",
            "nfs4",
        ]);
        assert.match(fstab[3], /vers=4,minorversion=1,sec=sys/);
    });

    it("MySQL Flexible Server: private access in the delegated subnet with its DNS zone, TLS enforced, sized connections; HA in production", function () {
        const d = one(dev.resources, T.mysql).inputs;
        const p = one(prod.resources, T.mysql).inputs;
        assert.deepStrictEqual(
            [d.version, d.sku, d.administratorLogin],
            ["8.0.21", { name: "Standard_B2ms", tier: "Burstable" }, "wso2admin"],
        );
        assert.strictEqual(d.network.publicNetworkAccess, "Disabled");
        assert.strictEqual(d.network.delegatedSubnetResourceId, engineId(dev, T.subnet, "azdev-database"));
        const zone = one(dev.resources, T.zone, "azdev-mysql-dns");
        assert.strictEqual(zone.inputs.privateZoneName, "azdev.private.mysql.database.azure.com");
        assert.strictEqual(d.network.privateDnsZoneResourceId, engineId(dev, T.zone, "azdev-mysql-dns"));
        assert.strictEqual(
            one(dev.resources, T.link, "azdev-mysql-dns").inputs.virtualNetwork.id,
            engineId(dev, T.vnet, "azdev-vnet"),
        );
        assert.deepStrictEqual([d.highAvailability.mode, d.backup.backupRetentionDays], ["Disabled", 1]);
        assert.deepStrictEqual(
            [p.highAvailability, p.availabilityZone, p.backup.backupRetentionDays, p.sku.tier],
            [{ mode: "ZoneRedundant", standbyAvailabilityZone: "2" }, "1", 14, "GeneralPurpose"],
        );
        const params = Object.fromEntries(
            ofType(prod.resources, T.mysqlConfig).map((c) => [c.inputs.configurationName, c.inputs.value]),
        );
        assert.deepStrictEqual(params, {
            require_secure_transport: "ON",
            max_connections: String(3 * 2 * 80 + 50),
        });
        assert.strictEqual(plain(d.administratorLoginPassword), clusterSecret(dev).dbAdminPassword);
    });

    it("production refuses a Burstable database SKU (zone-redundant HA needs General Purpose)", function () {
        assert.throws(
            () =>
                new AzureVmCluster("azburst", {
                    config: configFor("azure", {
                        production: "true",
                        certificate: kvCertificate,
                        dbSize: "Standard_B2ms",
                    }),
                    location: "westeurope",
                }),
            /dbSize = "Standard_B2ms" is a Burstable SKU; production needs zone-redundant HA/,
        );
    });

    it("Azure Files NFS: premium FileStorage, NFS 4.1 without root squash, HTTPS-only off (NFS needs it), private endpoint only", function () {
        const a = one(dev.resources, T.account).inputs;
        assert.deepStrictEqual(
            [
                a.kind,
                a.sku.name,
                a.enableHttpsTrafficOnly,
                a.publicNetworkAccess,
                a.allowSharedKeyAccess,
                a.networkRuleSet.defaultAction,
            ],
            ["FileStorage", "Premium_LRS", false, "Disabled", false, "Deny"],
        );
        assert.strictEqual(one(prod.resources, T.account).inputs.sku.name, "Premium_ZRS");
        const s = one(dev.resources, T.share).inputs;
        assert.deepStrictEqual(
            [s.enabledProtocols, s.rootSquash, s.shareName, s.shareQuota],
            ["NFS", "NoRootSquash", "is-share", 100],
        );
        const pe = one(dev.resources, T.pe).inputs;
        assert.strictEqual(pe.subnet.id, engineId(dev, T.subnet, "azdev-endpoints"));
        assert.deepStrictEqual(pe.privateLinkServiceConnections[0].groupIds, ["file"]);
        assert.strictEqual(
            one(dev.resources, T.zone, "azdev-files-dns").inputs.privateZoneName,
            "privatelink.file.core.windows.net",
        );
        assert.strictEqual(
            one(dev.resources, T.zoneGroup).inputs.privateDnsZoneConfigs[0].privateDnsZoneId,
            engineId(dev, T.zone, "azdev-files-dns"),
        );
        assert.match(String(dev.outputs.sharedFsId), /\/fileServices\/default\/shares\/is-share$/);
    });

    it("protects the database, the storage account and the share in production, not in dev", function () {
        const opt = (r: Built, type: string, name: string) => r.options.get(`${type}::${name}`) ?? {};
        for (const [type, role] of [
            [T.mysql, "db"],
            [T.account, "files"],
            [T.share, "share"],
        ]) {
            assert.deepStrictEqual(
                [opt(prod, type, `azprod-${role}`).protect, opt(prod, type, `azprod-${role}`).retainOnDelete],
                [true, true],
                `${type} in production`,
            );
            assert.notStrictEqual(opt(dev, type, `azdev-${role}`).protect, true, `${type} in dev`);
            assert.notStrictEqual(opt(dev, type, `azdev-${role}`).retainOnDelete, true, `${type} in dev`);
        }
    });

    it("Key Vault: RBAC, soft delete, purge protection in production; one secret with the contract's JSON; reads only from the NAT addresses", async function () {
        const d = one(dev.resources, T.vault).inputs.properties;
        const p = one(prod.resources, T.vault).inputs.properties;
        assert.deepStrictEqual(
            [d.enableRbacAuthorization, d.enableSoftDelete, d.enablePurgeProtection, d.tenantId],
            [true, true, undefined, "11111111-1111-4111-8111-111111111111"],
        );
        assert.deepStrictEqual([p.enablePurgeProtection, p.softDeleteRetentionInDays], [true, 90]);
        // The same retention in every mode: Azure cannot change it later, and production may be turned on.
        assert.strictEqual(d.softDeleteRetentionInDays, p.softDeleteRetentionInDays);
        assert.strictEqual(d.networkAcls.defaultAction, "Deny");
        assert.deepStrictEqual(
            d.networkAcls.ipRules,
            ["1", "2"].map((z) => ({ value: one(dev.resources, T.pip, `azdev-nat-${z}`).state.ipAddress })),
        );
        // The secret is deleted with its vault (ARM), never through the data plane that refuses the deployer.
        for (const r of [dev, prod]) {
            const opts = r.options.get(`${T.secret}::${nameOf(r)}-secret`)!;
            assert.ok(opts.deletedWith, `${nameOf(r)}: the secret has deletedWith`);
            assert.ok(keyvault.Vault.isInstance(opts.deletedWith), "deletedWith is a Key Vault");
            assert.match(
                await promiseOf(opts.deletedWith.urn),
                new RegExp(`keyvault:Vault::${nameOf(r)}-kv$`),
            );
        }
        const secret = clusterSecret(dev);
        assert.deepStrictEqual(Object.keys(secret).sort(), [
            "adminPassword",
            "dbAdminPassword",
            "dbAdminUser",
            "dbAppPassword",
            "encryptionKey",
            "signingCertificate",
            "signingKeystorePassword",
            "signingPrivateKey",
            "tlsCaCertificate",
            "tlsCertificate",
            "tlsKeystorePassword",
            "tlsPrivateKey",
        ]);
        assert.match(secret.encryptionKey, /^[0-9a-f]{32}$/);
        assert.match(secret.signingPrivateKey, /PRIVATE KEY/);
        assert.strictEqual(secret.dbAdminUser, "wso2admin");
        for (const k of ["dbAdminPassword", "dbAppPassword", "adminPassword"])
            assert.match(secret[k], /^mock-secret-/);
        assert.strictEqual(one(dev.resources, T.secret).inputs.secretName, "cluster");
        assert.ok(
            isSecretWrapper(one(dev.resources, T.secret).inputs.properties) ||
                isSecretWrapper(one(dev.resources, T.secret).inputs.properties.value),
            "the secret's value is a Pulumi secret",
        );
    });

    it("the configured admin password goes into the secret instead of a generated one", async function () {
        const r = await build("azpw", {}, { adminPassword: pulumi.secret("Configured-Admin-Pw-1") });
        assert.strictEqual(clusterSecret(r).adminPassword, "Configured-Admin-Pw-1");
        assert.strictEqual(
            ofType(r.resources, T.password).filter((x) => x.name === "azpw-is-admin-password").length,
            0,
        );
    });

    it("each node's identity may read this cluster's secret only (Key Vault Secrets User on the secret)", function () {
        const secretId = engineId(dev, T.secret, "azdev-secret");
        const roles = ofType(dev.resources, T.role);
        const principals = ofType(dev.resources, T.vm).map((vm) => vm.state.identity.principalId);
        assert.deepStrictEqual(roles.map((r) => r.inputs.principalId).sort(), [...principals].sort());
        for (const r of roles) {
            assert.strictEqual(r.inputs.scope, secretId);
            assert.strictEqual(
                r.inputs.roleDefinitionId,
                `/subscriptions/${azureSubscription}/providers/Microsoft.Authorization/roleDefinitions/${keyVaultSecretsUserRoleId}`,
            );
            assert.strictEqual(r.inputs.principalType, "ServicePrincipal");
        }
        assert.strictEqual(keyVaultSecretsUserRoleId, "4633458b-17de-408a-b874-0445c86b69e6");
    });

    it("Application Gateway v2: zones 1-3, autoscale from 2, TLS policy, 80 redirects to 443, cookie affinity, HTTPS 9443 to the nodes, a <= 15 s probe", function () {
        const g = plain(one(dev.resources, T.appgw).inputs);
        assert.deepStrictEqual(
            [g.sku, g.autoscaleConfiguration.minCapacity, g.zones],
            [{ name: "Standard_v2", tier: "Standard_v2" }, 2, ["1", "2", "3"]],
        );
        assert.deepStrictEqual(g.sslPolicy, {
            policyType: "Predefined",
            policyName: "AppGwSslPolicy20220101S",
        });
        assert.strictEqual(g.gatewayIPConfigurations[0].subnet.id, engineId(dev, T.subnet, "azdev-gateway"));
        const pip = one(dev.resources, T.pip, "azdev-gateway").inputs;
        assert.deepStrictEqual([pip.sku.name, pip.zones], ["Standard", ["1", "2", "3"]]);
        const prefix = `/subscriptions/${azureSubscription}/resourceGroups/${one(dev.resources, T.rg).state.name}/providers/Microsoft.Network/applicationGateways/${g.applicationGatewayName}/`;
        const byName = (collection: string, name: string) => g[collection].find((x: any) => x.name === name);
        const resolve = (ref: { id: string }) => {
            assert.ok(ref.id.startsWith(prefix), `${ref.id} is not inside the gateway`);
            const [collection, name] = ref.id.slice(prefix.length).split("/");
            const found = byName(collection, name);
            assert.ok(found, `${ref.id} names nothing`);
            return found;
        };
        const httpsRule = g.requestRoutingRules.find((r: any) => r.backendAddressPool);
        const httpRule = g.requestRoutingRules.find((r: any) => r.redirectConfiguration);
        const httpsListener = resolve(httpsRule.httpListener);
        assert.deepStrictEqual(
            [httpsListener.protocol, resolve(httpsListener.frontendPort).port],
            ["Https", 443],
        );
        assert.ok(resolve(httpsListener.sslCertificate).data, "a PFX for the self-signed listener");
        const httpListener = resolve(httpRule.httpListener);
        assert.deepStrictEqual(
            [httpListener.protocol, resolve(httpListener.frontendPort).port],
            ["Http", 80],
        );
        const redirect = resolve(httpRule.redirectConfiguration);
        assert.deepStrictEqual(
            [
                redirect.redirectType,
                resolve(redirect.targetListener).name,
                redirect.includePath,
                redirect.includeQueryString,
            ],
            ["Permanent", httpsListener.name, true, true],
        );
        const pool = resolve(httpsRule.backendAddressPool);
        assert.deepStrictEqual(pool.backendAddresses, [
            { ipAddress: "10.41.1.4" },
            { ipAddress: "10.41.1.68" },
        ]);
        const settings = resolve(httpsRule.backendHttpSettings);
        assert.deepStrictEqual(
            [settings.port, settings.protocol, settings.cookieBasedAffinity, settings.hostName],
            [9443, "Https", "Enabled", "is.example.com"],
        );
        const probe = resolve(settings.probe);
        assert.deepStrictEqual(
            [
                probe.protocol,
                probe.path,
                probe.interval,
                probe.timeout,
                probe.unhealthyThreshold,
                probe.pickHostNameFromBackendHttpSettings,
            ],
            ["Https", "/api/health-check/v1.0/health", 5, 4, 2, true],
        );
        assert.ok(probe.interval * probe.unhealthyThreshold <= 15, "dead node out within 15 s");
        // Backend trust: the cluster's CA, whose server certificate the nodes get from the secret.
        const root = resolve(settings.trustedRootCertificates[0]);
        const ca = engine.records.find((r) => r.type === T.selfSigned && r.name === "azdev-backend-ca")!;
        assert.strictEqual(root.data, pemToBase64Der(ca.state.certPem));
        assert.ok(
            clusterSecret(dev).tlsCertificate.includes(ca.state.certPem.trim()),
            "the nodes' chain ends in the trusted CA",
        );
        assert.strictEqual(g.identity, undefined);
    });

    it("production: the listener certificate comes from Key Vault through a user-assigned identity; no self-signed certificate", function () {
        const g = one(prod.resources, T.appgw).inputs;
        const uai = one(prod.resources, T.uai);
        assert.deepStrictEqual(plain(g.sslCertificates), [
            { name: "https", keyVaultSecretId: kvCertificate },
        ]);
        assert.deepStrictEqual(g.identity, {
            type: "UserAssigned",
            userAssignedIdentities: [engineId(prod, T.uai, uai.name)],
        });
        assert.strictEqual(prod.outputs.gatewayIdentityPrincipalId, uai.state.principalId);
        assert.strictEqual(
            ofType(prod.resources, T.selfSigned).filter((r) => r.name === "azprod-self-signed").length,
            0,
        );
    });

    it("outputs: url, hostname, gateway address, database FQDN, the secret only as its id, node IPs; and an nginx.conf for the static IPs", function () {
        const o = dev.outputs;
        assert.deepStrictEqual(
            [o.url, o.hostname, o.membershipScheme, o.nodeCount],
            ["https://is.example.com", "is.example.com", "wka", 2],
        );
        assert.match(o.gatewayAddress, /^203\.0\.113\.\d+$/);
        assert.match(o.databaseFqdn, /\.mysql\.database\.azure\.com$/);
        assert.match(o.keyVaultSecretId, /^https:\/\/[a-z0-9-]+\.vault\.azure\.net\/secrets\/cluster$/);
        assert.deepStrictEqual(o.nodeIps, ["10.41.1.4", "10.41.1.68"]);
        assert.match(dev.nginxConf, /server 10\.41\.1\.4:9443/);
        assert.match(dev.nginxConf, /server 10\.41\.1\.68:9443/);
        assert.match(dev.nginxConf, /ssl_certificate\s+\/etc\/nginx\/tls\/is\.example\.com\.crt;/);
        assert.match(dev.nginxConf, /ssl_certificate_key\s+\/etc\/nginx\/tls\/is\.example\.com\.key;/);
    });

    it("a changed IS setting changes no input of the database, the storage account or the share", async function () {
        const stateful = [
            T.mysql,
            T.mysqlConfig,
            T.account,
            T.share,
            T.fileService,
            T.vault,
            T.zone,
            T.link,
            T.pe,
        ];
        const snapshot = async (extra: Record<string, string>) => {
            const before = engine.records.length;
            await build("azsame", extra);
            const mine = engine.records.slice(before).filter((r) => stateful.includes(r.type));
            return mine.map((r) => ({ type: r.type, name: r.name, inputs: plain(r.inputs) }));
        };
        const a = await snapshot({});
        const b = await snapshot({
            isVersion: "7.2.0",
            caching: "4",
            nodeSize: "Standard_D8s_v5",
            isDistributionSha256: "b".repeat(64),
        });
        assert.ok(a.length >= 9, `saw ${a.length} stateful resources`);
        assert.deepStrictEqual(b, a);
        // ...while the nodes did change (the test can fail).
        const vms = engine.records.filter((r) => r.name === "azsame-node-1" && r.type === T.vm);
        assert.strictEqual(vms.length, 2);
        assert.notStrictEqual(vms[0].inputs.osProfile.customData, vms[1].inputs.osProfile.customData);
    });

    it("uses the platform stack's resource group and network instead of creating them", async function () {
        setPlatformOutputs("acme/azure-network/prod", {
            resourceGroupName: "rg-platform",
            location: "northeurope",
            vnetId: "/subscriptions/s/resourceGroups/rg-platform/providers/Microsoft.Network/virtualNetworks/hub",
            nodeSubnetId: "/subscriptions/s/.../subnets/is-nodes",
            nodeSubnetCidr: "10.60.8.0/24",
            gatewaySubnetId: "/subscriptions/s/.../subnets/appgw",
            gatewaySubnetCidr: "10.60.9.0/24",
            databaseSubnetId: "/subscriptions/s/.../subnets/mysql",
            endpointSubnetId: "/subscriptions/s/.../subnets/endpoints",
            privateDnsZoneId:
                "/subscriptions/s/.../privateDnsZones/platform.private.mysql.database.azure.com",
        });
        const platform = await readPlatformStack(
            "acme/azure-network/prod",
            azurePlatformOutputs.required,
            azurePlatformOutputs.optional,
        );
        const r = await build("azplat", {}, { network: networkFromPlatform(platform) });
        for (const t of [T.rg, T.vnet, T.subnet, T.nat])
            assert.strictEqual(ofType(r.resources, t).length, 0, t);
        // Only the nodes' NSG, on their NICs: the platform's subnets carry the platform's NSGs.
        assert.deepStrictEqual(
            ofType(r.resources, T.nsg).map((g) => g.name),
            ["azplat-nodes"],
        );
        assert.deepStrictEqual(
            rulesOf(r, "nodes")
                .filter((x) => x.access === "Allow")
                .map((x) => [x.destinationPortRange, x.sourceAddressPrefix]),
            [
                ["9443", "10.60.9.0/24"],
                ["4000", "10.60.8.0/24"],
            ],
        );
        assert.deepStrictEqual(
            ofType(r.resources, T.nic).map((n) => n.inputs.ipConfigurations[0].privateIPAddress),
            ["10.60.8.4", "10.60.8.5"],
        );
        for (const n of ofType(r.resources, T.nic))
            assert.strictEqual(
                n.inputs.ipConfigurations[0].subnet.id,
                "/subscriptions/s/.../subnets/is-nodes",
            );
        const db = one(r.resources, T.mysql).inputs;
        assert.deepStrictEqual(
            [
                db.network.delegatedSubnetResourceId,
                db.network.privateDnsZoneResourceId,
                db.resourceGroupName,
                db.location,
            ],
            [
                "/subscriptions/s/.../subnets/mysql",
                "/subscriptions/s/.../privateDnsZones/platform.private.mysql.database.azure.com",
                "rg-platform",
                "northeurope",
            ],
        );
        assert.strictEqual(
            ofType(r.resources, T.zone).filter((z) => z.name === "azplat-mysql-dns").length,
            0,
            "the platform's MySQL zone is used",
        );
        assert.strictEqual(
            one(r.resources, T.appgw).inputs.gatewayIPConfigurations[0].subnet.id,
            "/subscriptions/s/.../subnets/appgw",
        );
        assert.strictEqual(one(r.resources, T.pe).inputs.subnet.id, "/subscriptions/s/.../subnets/endpoints");
        assert.strictEqual(
            one(r.resources, T.link, "azplat-files-dns").inputs.virtualNetwork.id,
            "/subscriptions/s/resourceGroups/rg-platform/providers/Microsoft.Network/virtualNetworks/hub",
        );
        // No NAT of ours: the vault cannot pin the nodes' egress address.
        assert.strictEqual(one(r.resources, T.vault).inputs.properties.networkAcls.defaultAction, "Allow");
        const members = /members = \[ (.*) \]/.exec(
            writeFile(r.cloudInit["node-2"], "/etc/wso2is/deployment.toml"),
        )![1];
        assert.strictEqual(members, '"10.60.8.4:4000", "10.60.8.5:4000"');
        assert.ok(
            engine.records.some(
                (x) =>
                    x.type === "pulumi:pulumi:StackReference" && x.inputs.name === "acme/azure-network/prod",
            ),
        );
    });

    it("a platform stack without the contract's outputs fails with a clear message", async function () {
        setPlatformOutputs("acme/azure-empty/prod", { resourceGroupName: "rg", location: "westeurope" });
        await assert.rejects(
            readPlatformStack(
                "acme/azure-empty/prod",
                azurePlatformOutputs.required,
                azurePlatformOutputs.optional,
            ),
            (e: Error) =>
                /does not export vnetId, nodeSubnetId, nodeSubnetCidr, gatewaySubnetId, databaseSubnetId, endpointSubnetId/.test(
                    e.message,
                ),
        );
        setPlatformOutputs("acme/azure-bad/prod", {
            resourceGroupName: "rg",
            location: "westeurope",
            vnetId: "v",
            nodeSubnetId: "n",
            nodeSubnetCidr: "not-a-cidr",
            gatewaySubnetId: "g",
            databaseSubnetId: "d",
            endpointSubnetId: "e",
        });
        const p = await readPlatformStack(
            "acme/azure-bad/prod",
            azurePlatformOutputs.required,
            azurePlatformOutputs.optional,
        );
        assert.throws(() => networkFromPlatform(p), /output nodeSubnetCidr must be an IPv4 CIDR/);
    });

    it("SMB variant: SMB 3.1.1 share, HTTPS-only on; the storage key only in the Key Vault secret, the nodes get a credentials file path", async function () {
        const r = await build("azsmb", { sharedFs: "azure-files-smb" });
        const a = one(r.resources, T.account).inputs;
        assert.deepStrictEqual(
            [a.enableHttpsTrafficOnly, a.allowSharedKeyAccess, a.publicNetworkAccess, a.minimumTlsVersion],
            [true, true, "Disabled", "TLS1_2"],
        );
        assert.strictEqual(one(r.resources, T.share).inputs.enabledProtocols, "SMB");
        assert.strictEqual(one(r.resources, T.share).inputs.rootSquash, undefined);
        assert.strictEqual(one(r.resources, T.fileService).inputs.protocolSettings.smb.versions, "SMB3.1.1");
        assert.deepStrictEqual(
            rulesOf(r, "endpoints")
                .filter((x) => x.access === "Allow")
                .map((x) => [x.destinationPortRange, x.sourceAddressPrefix]),
            [["445", "10.41.1.0/24"]],
        );

        const secret = clusterSecret(r);
        const account = a.accountName as string;
        assert.strictEqual(secret.smbUsername, account);
        assert.match(secret.smbPassword, /^mock-secret-/);
        for (const vm of ofType(r.resources, T.vm)) {
            const userData = customData(vm);
            assert.ok(!userData.includes(secret.smbPassword), "the storage key leaked into customData");
            assert.doesNotMatch(userData, /mock-secret-/);
            assert.strictEqual(nodeEnv(userData).SMB_CREDENTIALS_FILE, "/etc/wso2is/smb-credentials");
            const [source, mountPoint, type, options] = fstabOf(userData);
            assert.deepStrictEqual(
                [source, mountPoint, type],
                [`//${account}.file.core.windows.net/is-share`, "/mnt/wso2is-share", "cifs"],
            );
            assert.match(
                options,
                /^vers=3\.1\.1,uid=802,gid=802,dir_mode=0770,file_mode=0660,serverino,nosharesock,actimeo=30,_netdev,nofail,credentials=\/etc\/wso2is\/smb-credentials$/,
            );
            assert.ok(nodeEnv(userData).NODE_PACKAGES.split(" ").includes("cifs-utils"));
        }
        assert.ok(!JSON.stringify(r.outputs).includes(secret.smbPassword));
    });

    it("sharedFs nfs (your own server): no storage account, the given export, the endpoint NSG open to nothing", async function () {
        const r = await build("azownnfs", {
            sharedFs: "nfs",
            sharedFsAddress: "nfs.internal.example.com:/exports/wso2is",
        });
        assert.strictEqual(ofType(r.resources, T.account).length, 0);
        assert.strictEqual(ofType(r.resources, T.pe).length, 0);
        assert.strictEqual(r.outputs.sharedFsId, "nfs.internal.example.com:/exports/wso2is");
        assert.deepStrictEqual(fstabOf(r.cloudInit["node-1"]).slice(0, 3), [
            "nfs.internal.example.com:/exports/wso2is",
            "/mnt/wso2is-share",
            "nfs4",
        ]);
        assert.deepStrictEqual(
            rulesOf(r, "endpoints").filter((x) => x.access === "Allow"),
            [],
        );
        assert.ok(!("smbUsername" in clusterSecret(r)));
    });

    it("the program builds it for cloud azure, and stops with a clear message without azure-native:location", async function () {
        const { program } = await import("../../components/program");
        const saved = pulumi.runtime.allConfig();
        const base = {
            "wso2is-cluster:cloud": "azure",
            "wso2is-cluster:hostname": "is.example.com",
            "wso2is-cluster:isDistributionSha256": "a".repeat(64),
            "wso2is-cluster:jdbcDriverSha256": "a".repeat(64),
        };
        try {
            pulumi.runtime.setAllConfig(base);
            await assert.rejects(
                program(),
                (e: Error) =>
                    e instanceof pulumi.RunError &&
                    /azure-native:location is required for cloud azure/.test(e.message),
            );
            pulumi.runtime.setAllConfig({ ...base, "azure-native:location": "westeurope" });
            const p = await program();
            assert.ok(p.cluster instanceof AzureVmCluster);
            assert.strictEqual(await promiseOf(p.outputs.membershipScheme as pulumi.Output<string>), "wka");
            await resourcesNamed("wso2is-test");
        } finally {
            pulumi.runtime.setAllConfig(saved);
        }
    });

    it("bad Azure-specific config is rejected with the key, the value and what is allowed", function () {
        const problems = (extra: Record<string, string>) => {
            try {
                configFor("azure", extra);
            } catch (e) {
                if (e instanceof ConfigError) return e.message;
                throw e;
            }
            return "";
        };
        assert.match(
            problems({ membership: "kubernetes" }),
            /membership = "kubernetes" does not fit cloud azure/,
        );
        assert.match(
            problems({ certificate: "arn:aws:acm:eu-west-1:123456789012:certificate/abc" }),
            /must be a Key Vault secret id/,
        );
        assert.match(problems({ sharedFs: "efs" }), /sharedFs = "efs" is not available on cloud azure/);
        assert.match(
            problems({ production: "true" }),
            /certificate = "self-signed" \(the default\) is self-signed; production needs a real certificate/,
        );
    });
});

describe("PFX for the Application Gateway listener (components/azure-vm/pfx.ts)", function () {
    let dir: string;
    before(function () {
        // openssl is on every machine .ci/run prepares; without it this fails rather than skips.
        execFileSync("openssl", ["version"], { stdio: "ignore" });
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "pfx-"));
        execFileSync(
            "openssl",
            [
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                path.join(dir, "key.pem"),
                "-out",
                path.join(dir, "cert.pem"),
                "-subj",
                "/CN=is.example.com",
                "-days",
                "2",
            ],
            { stdio: "ignore" },
        );
        execFileSync("openssl", [
            "pkey",
            "-in",
            path.join(dir, "key.pem"),
            "-out",
            path.join(dir, "key8.pem"),
        ]);
    });
    after(function () {
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });
    const writeTemp = (file: string, data: Buffer) => {
        fs.writeFileSync(path.join(dir, file), data);
        return path.join(dir, file);
    };

    it("OpenSSL reads it back with the password (MAC verified): the same key and certificate; the same bytes every time", function () {
        const key = fs.readFileSync(path.join(dir, "key8.pem"), "utf8");
        const cert = fs.readFileSync(path.join(dir, "cert.pem"), "utf8");
        const password = "Ab3xYz09QrstUvw7";
        const pfx = buildPfx(key, cert, password, { friendlyName: "is.example.com" });
        assert.ok(
            pfx.equals(buildPfx(key, cert, password, { friendlyName: "is.example.com" })),
            "deterministic",
        );
        assert.ok(!pfx.equals(buildPfx(key, cert, "anotherPassword1")), "depends on the password");
        const file = path.join(dir, "out.pfx");
        fs.writeFileSync(file, pfx);
        const dump = execFileSync(
            "openssl",
            ["pkcs12", "-in", file, "-nodes", "-passin", `pass:${password}`],
            { encoding: "utf8" },
        );
        const pub = (pem: string) =>
            execFileSync("openssl", ["pkey", "-pubout"], { input: pem, encoding: "utf8" });
        assert.strictEqual(pub(dump), pub(key));
        const der = (pem: string) =>
            execFileSync("openssl", ["x509", "-outform", "DER"], { input: pem }).toString("hex");
        assert.strictEqual(der(dump), der(cert));
        assert.throws(() =>
            execFileSync("openssl", ["pkcs12", "-in", file, "-noout", "-passin", "pass:wrong"], {
                stdio: "ignore",
            }),
        );
    });

    it("is the legacy form (openssl pkcs12 -info -legacy): TripleDES key bag and certificates, SHA-1 MAC, 2048 iterations", function () {
        const key = fs.readFileSync(path.join(dir, "key8.pem"), "utf8");
        const cert = fs.readFileSync(path.join(dir, "cert.pem"), "utf8");
        const password = "Legacy0Form0Password";
        const file = path.join(dir, "legacy.pfx");
        fs.writeFileSync(file, buildPfx(key, cert, password, { friendlyName: "is.example.com" }));
        // -info prints the algorithms on stderr; -nokeys/-nocerts keep the contents out of the log.
        const r = spawnSync(
            "openssl",
            ["pkcs12", "-info", "-legacy", "-in", file, "-noout", "-passin", `pass:${password}`],
            { encoding: "utf8" },
        );
        assert.strictEqual(r.status, 0, r.stderr);
        const info = r.stdout + r.stderr;
        assert.match(info, /^MAC: sha1, Iteration 2048$/m);
        assert.match(info, /^PKCS7 Encrypted data: pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2048$/m);
        assert.match(info, /^Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2048$/m);
        assert.doesNotMatch(info, /PBES2|AES|sha256/i, "nothing of the OpenSSL 3 default form");
        // A chain (leaf, then CA) keeps both certificates.
        const chain = execFileSync(
            "openssl",
            [
                "pkcs12",
                "-in",
                writeTemp("chain.pfx", buildPfx(key, cert + cert, password)),
                "-nokeys",
                "-passin",
                `pass:${password}`,
            ],
            { encoding: "utf8" },
        );
        assert.strictEqual(chain.match(/BEGIN CERTIFICATE/g)?.length, 2);
    });

    it("refuses a password with anything but letters and digits", function () {
        const key = fs.readFileSync(path.join(dir, "key8.pem"), "utf8");
        const cert = fs.readFileSync(path.join(dir, "cert.pem"), "utf8");
        assert.throws(() => buildPfx(key, cert, "Ab3-_=+.#%xyz"), /letters and digits only/);
    });

    it("refuses input without a PKCS#8 key or a certificate", function () {
        assert.throws(
            () =>
                buildPfx("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n", "x", "p"),
            /PKCS#8/,
        );
        assert.throws(
            () => buildPfx("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "nothing", "p"),
            /CERTIFICATE/,
        );
    });
});

/** The id the mock engine gave a recorded resource. */
function engineId(r: Built, type: string, name: string): string {
    const found = r.resources.find((x) => x.type === type && x.name === name);
    assert.ok(found, `no ${type} named ${name}`);
    return mockId(found.type, found.name, found.inputs);
}
