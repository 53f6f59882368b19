// wso2is:azure:AksCluster under the mock engine: the AKS cluster (or the platform's), the Azure
// database and vault modules reused, the Retain storage class, and the workload nested inside.
import * as assert from "assert";
import * as TOML from "@iarna/toml";
import { AksCluster, storageClassName } from "../../components/aks";
import { networkFromPlatform, platformIngress, platformRegistry } from "../../components/aks/network";
import { readPlatformStack } from "../../components/platform";
import { maxConnections } from "../../components/shared/database";
import { configFor } from "../fixtures/models";
import { unwrapSecrets, validateObject } from "../k8sModels";
import { ofType, one, optionsRecorder, promiseOf, resourcesNamed, setPlatformOutputs } from "../harness";

const A = {
    aks: "azure-native:containerservice:ManagedCluster",
    mysql: "azure-native:dbformysql:Server",
    mysqlConfig: "azure-native:dbformysql:Configuration",
    vault: "azure-native:keyvault:Vault",
    kvSecret: "azure-native:keyvault:Secret",
    vnet: "azure-native:network:VirtualNetwork",
    subnet: "azure-native:network:Subnet",
    provider: "pulumi:providers:kubernetes",
    storageClass: "kubernetes:storage.k8s.io/v1:StorageClass",
    deploy: "kubernetes:apps/v1:Deployment",
    cm: "kubernetes:core/v1:ConfigMap",
    spc: "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass",
    release: "kubernetes:helm.sh/v3:Release",
    tlsSecret: "kubernetes:core/v1:Secret",
    pool: "azure-native:containerservice:AgentPool",
    acr: "azure-native:containerregistry:Registry",
    cacheRule: "azure-native:containerregistry:CacheRule",
    roleAssignment: "azure-native:authorization:RoleAssignment",
};

async function build(
    name: string,
    extra: Record<string, string> = {},
    platform?: ConstructorParameters<typeof AksCluster>[1]["platform"],
) {
    const parents = new Map<string, string>();
    const options = optionsRecorder();
    const cluster = new AksCluster(
        name,
        { config: configFor("aks", extra), location: "westeurope", platform },
        {
            transformations: [
                options.transformation,
                (a) => {
                    parents.set(
                        `${a.type}::${a.name}`,
                        (a.opts.parent as unknown as { __name?: string })?.__name ?? "",
                    );
                    return undefined;
                },
            ],
        },
    );
    const outputs = Object.fromEntries(
        await Promise.all(
            Object.entries(cluster.outputs()).map(async ([k, v]) => [k, await promiseOf(v)] as const),
        ),
    );
    const model = await promiseOf(cluster.model);
    const resources = await resourcesNamed(name);
    return { cluster, outputs, model, resources, parents, options: options.seen };
}

describe("aks target (wso2is:azure:AksCluster)", function () {
    let dev: Awaited<ReturnType<typeof build>>;
    before(async function () {
        dev = await build("aksdev");
    });

    it("creates the AKS cluster, MySQL Flexible Server, Key Vault and the workload on the cluster's provider", function () {
        const count = (t: string) => ofType(dev.resources, t).length;
        assert.deepStrictEqual(
            [
                count(A.aks),
                count(A.mysql),
                count(A.vault),
                count(A.kvSecret),
                count(A.provider),
                count(A.deploy),
                count(A.storageClass),
                count(A.release),
            ],
            [1, 1, 1, 1, 1, 1, 1, 1],
        );
        const providerUrnPrefix =
            "urn:pulumi:test::wso2is-cluster::wso2is:azure:AksCluster$pulumi:providers:kubernetes::aksdev-k8s::";
        for (const r of dev.resources.filter((x) => x.type.startsWith("kubernetes:"))) {
            assert.ok(r.provider?.startsWith(providerUrnPrefix), `${r.type} ${r.name} uses ${r.provider}`);
        }
    });

    it("the workload is a child of the AKS cluster component (one cluster: one database, one share)", function () {
        assert.strictEqual(dev.parents.get("wso2is:kubernetes:Workload::aksdev"), "aksdev");
        assert.strictEqual(dev.parents.get(`${A.mysql}::aksdev-db`), "aksdev");
    });

    it("node pools: a system pool and an IS pool over three zones, one spare node for rolling updates", function () {
        const aks = one(dev.resources, A.aks).inputs;
        assert.strictEqual(aks.agentPoolProfiles.length, 1, "only the system pool is inline");
        const [system] = aks.agentPoolProfiles;
        assert.deepStrictEqual([system.mode, system.availabilityZones], ["System", ["1", "2", "3"]]);
        // The IS pool is its own AgentPool: the autoscaler owns its count, pulumi never resets it.
        const is = one(dev.resources, A.pool).inputs;
        assert.deepStrictEqual(
            [is.agentPoolName, is.mode, is.vmSize, is.minCount, is.maxCount, is.enableAutoScaling],
            ["is", "User", "Standard_D8s_v5", 2, 3, true],
        );
        assert.strictEqual(is.resourceName, aks.resourceName ?? one(dev.resources, A.aks).state.name);
        assert.deepStrictEqual(is.availabilityZones, ["1", "2", "3"]);
        assert.deepStrictEqual(dev.options.get(`${A.pool}::aksdev-is-pool`)?.ignoreChanges, ["count"]);
        assert.deepStrictEqual(
            [aks.networkProfile.networkPolicy, aks.networkProfile.networkDataplane],
            ["cilium", "cilium"],
            "NetworkPolicies are enforced",
        );
        assert.strictEqual(aks.addonProfiles.azureKeyvaultSecretsProvider.enabled, true);
        // The cluster identity may manage its node subnet (Azure Files NFS, load balancers).
        const grant = ofType(dev.resources, A.roleAssignment).find(
            (r) => r.name === "aksdev-aks-network",
        )!.inputs;
        assert.match(grant.roleDefinitionId, /roleDefinitions\/4d97b98b-1d4f-4787-a291-c67834d212e7$/);
        assert.match(grant.scope, /\/subnets\//);
        const pod = one(dev.resources, A.deploy).inputs.spec.template.spec;
        assert.deepStrictEqual(pod.nodeSelector, { "wso2is-cluster/pool": "is" });
    });

    it("the database is the Azure module's private, TLS-only Flexible Server; the pods use its FQDN", function () {
        const server = one(dev.resources, A.mysql).inputs;
        assert.strictEqual(server.network.publicNetworkAccess, "Disabled");
        const tlsOn = ofType(dev.resources, A.mysqlConfig).find(
            (c) => c.inputs.configurationName === "require_secure_transport",
        );
        assert.strictEqual(tlsOn?.inputs.value, "ON");
        const toml = TOML.parse(one(dev.resources, A.cm).inputs.data["deployment.toml"]) as any;
        assert.ok(
            toml.database.identity_db.url.startsWith(
                `jdbc:mysql://${server.serverName}.mysql.database.azure.com:3306/WSO2IS_IDENTITY_DB?sslMode=REQUIRED`,
            ),
        );
        assert.strictEqual(dev.model.membership?.scheme, "kubernetes");
    });

    it("the share's storage class keeps the Azure file share when the claim goes (Retain)", function () {
        const sc = one(dev.resources, A.storageClass).inputs;
        assert.deepStrictEqual(
            [sc.metadata.name, sc.provisioner, sc.reclaimPolicy],
            [storageClassName, "file.csi.azure.com", "Retain"],
        );
        assert.ok(sc.mountOptions.includes("uid=802"));
        const pvc = one(dev.resources, "kubernetes:core/v1:PersistentVolumeClaim").inputs.spec;
        assert.deepStrictEqual(
            [pvc.storageClassName, pvc.accessModes],
            [storageClassName, ["ReadWriteMany"]],
        );
    });

    it("outputs: url, ingress address, database FQDN, vault secret id; no secret", function () {
        assert.strictEqual(dev.outputs.url, "https://is.example.com");
        assert.strictEqual(dev.outputs.membershipScheme, "kubernetes");
        assert.match(
            String(dev.outputs.keyVaultSecretId),
            /^https:\/\/.*\.vault\.azure\.net\/secrets\/cluster$/,
        );
        assert.match(String(dev.outputs.databaseFqdn), /\.mysql\.database\.azure\.com$/);
        assert.ok(!JSON.stringify(dev.outputs).includes("mock-secret-"));
    });

    it("production with a Key Vault certificate syncs it through the CSI driver, mounted by a sync pod, never by IS", async function () {
        const prod = await build("aksprod", {
            production: "true",
            certificate: "https://certs-vault.vault.azure.net/secrets/is-tls",
            dbSize: "Standard_D2ds_v4",
        });
        const spc = one(prod.resources, A.spc).inputs;
        assert.strictEqual(spc.spec.parameters.keyvaultName, "certs-vault");
        assert.match(spc.spec.parameters.objects, /objectName: is-tls/);
        assert.deepStrictEqual(spc.spec.secretObjects[0].type, "kubernetes.io/tls");
        assert.ok(
            !prod.resources.some((r) => r.type === A.tlsSecret && r.inputs.metadata.name === "wso2is-tls"),
            "no self-signed TLS secret",
        );
        const mounts = (d: any) =>
            d.inputs.spec.template.spec.volumes.some(
                (v: any) => v.csi?.volumeAttributes?.secretProviderClass === "wso2is-tls",
            );
        const deployments = ofType(prod.resources, A.deploy);
        const is = deployments.find((d) => d.inputs.metadata.name === "wso2is")!;
        const sync = deployments.find((d) => d.inputs.metadata.name === "wso2is-tls-sync")!;
        assert.ok(!mounts(is), "the IS pods do not mount the provider class (a missing grant is no outage)");
        assert.ok(mounts(sync), "the sync pods hold the mount, so the Secret exists while IS is at 0");
        assert.strictEqual(sync.inputs.spec.replicas, 2);
        assert.strictEqual(sync.inputs.spec.template.spec.containers[0].image, "registry.k8s.io/pause:3.10");
        // The Ingress waits for the sync (pulumi up stops there on a missing grant), the IS pods do not.
        const ingressDeps = prod.options.get("kubernetes:networking.k8s.io/v1:Ingress::aksprod-ingress")
            ?.dependsOn as any[];
        assert.ok(ingressDeps.some((d) => d.__name === "aksprod-tls-sync"));
        const isDeps = prod.options.get(`${A.deploy}::aksprod-is`)?.dependsOn as any[];
        assert.ok(!isDeps.some((d) => d.__name === "aksprod-tls-sync"));
        assert.strictEqual(one(prod.resources, A.mysql).inputs.highAvailability.mode, "ZoneRedundant");
        assert.strictEqual(one(prod.resources, A.vault).inputs.properties.enablePurgeProtection, true);
        assert.strictEqual(one(prod.resources, A.aks).inputs.sku.tier, "Standard");
    });

    it("on the platform's cluster: no AKS cluster or network is created, the provider uses its kubeconfig", async function () {
        setPlatformOutputs("acme/aks/prod", {
            kubeconfig: "apiVersion: v1\nkind: Config\n# platform cluster\n",
            resourceGroupName: "rg-platform",
            location: "northeurope",
            vnetId: "/subscriptions/s/resourceGroups/rg-platform/providers/Microsoft.Network/virtualNetworks/vnet",
            databaseSubnetId:
                "/subscriptions/s/resourceGroups/rg-platform/providers/Microsoft.Network/virtualNetworks/vnet/subnets/db",
            ingressClassName: "platform-traefik",
            ingressControllerNamespace: "edge",
            imageRegistry: "platformacr.azurecr.io",
        });
        const p = await readPlatformStack(
            "acme/aks/prod",
            ["kubeconfig", "resourceGroupName", "location", "vnetId", "databaseSubnetId"],
            ["mysqlDnsZoneId", "ingressClassName", "ingressControllerNamespace", "imageRegistry"],
        );
        const r = await build(
            "aksplat",
            {},
            {
                network: networkFromPlatform(p),
                kubeconfig: String(p.values.kubeconfig),
                ingress: platformIngress(p),
                imageRegistry: platformRegistry(p, true),
            },
        );
        // The platform's registry serves the images; this stack creates none.
        assert.strictEqual(ofType(r.resources, A.acr).length, 0);
        const pod = one(r.resources, A.deploy).inputs.spec.template.spec;
        for (const c of [...pod.initContainers, ...pod.containers])
            assert.ok(c.image.startsWith("platformacr.azurecr.io/"), c.image);
        assert.strictEqual(ofType(r.resources, A.aks).length, 0);
        assert.strictEqual(ofType(r.resources, A.vnet).length, 0);
        assert.strictEqual(
            ofType(r.resources, A.release).length,
            0,
            "the platform runs the ingress controller",
        );
        const provider = one(r.resources, A.provider).inputs;
        assert.match(JSON.stringify(provider.kubeconfig), /platform cluster/);
        assert.strictEqual(
            one(r.resources, A.mysql).inputs.network.delegatedSubnetResourceId,
            "/subscriptions/s/resourceGroups/rg-platform/providers/Microsoft.Network/virtualNetworks/vnet/subnets/db",
        );
        assert.strictEqual(
            one(r.resources, "kubernetes:networking.k8s.io/v1:Ingress").inputs.spec.ingressClassName,
            "platform-traefik",
        );
        // 9443 admitted from the platform controller's namespace, not a hard-coded one.
        const rules = one(r.resources, "kubernetes:networking.k8s.io/v1:NetworkPolicy").inputs.spec.ingress;
        assert.deepStrictEqual(rules[0].from, [
            { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "edge" } } },
        ]);
        assert.strictEqual(
            ofType(r.resources, "azure-native:authorization:RoleAssignment").length,
            0,
            "no grant on a cluster we did not create",
        );
        setPlatformOutputs("acme/aks/half", { ingressClassName: "x" });
        const half = await readPlatformStack(
            "acme/aks/half",
            [],
            ["ingressClassName", "ingressControllerNamespace"],
        );
        assert.throws(
            () => platformIngress(half),
            /export both ingressClassName and ingressControllerNamespace/,
        );
        // Production on a platform without a registry would pull anonymously from Docker Hub.
        assert.throws(() => platformRegistry(half, true), /does not export imageRegistry; production pulls/);
        assert.strictEqual(platformRegistry(half, false), undefined);
    });

    it("images come from the stack's ACR (cache rules for each Docker Hub repository), pulled by the kubelet identity", function () {
        const acr = one(dev.resources, A.acr);
        assert.deepStrictEqual(
            [acr.inputs.sku.name, acr.inputs.adminUserEnabled, acr.inputs.anonymousPullEnabled],
            ["Standard", false, false],
        );
        const rules = ofType(dev.resources, A.cacheRule).map((r) => [
            r.inputs.sourceRepository,
            r.inputs.targetRepository,
        ]);
        assert.deepStrictEqual(rules, [
            ["docker.io/wso2/wso2is", "wso2/wso2is"],
            ["docker.io/library/mysql", "library/mysql"],
            ["docker.io/library/traefik", "library/traefik"],
        ]);
        const pull = ofType(dev.resources, A.roleAssignment).find(
            (r) => r.name === "aksdev-acr-pull",
        )!.inputs;
        assert.match(pull.roleDefinitionId, /roleDefinitions\/7f951dda-4ed3-4680-a7ca-43fe172d538d$/);
        assert.strictEqual(pull.scope, acr.state.id ?? pull.scope);
        const kubelet = one(dev.resources, A.aks).state.identityProfile.kubeletidentity.objectId;
        assert.strictEqual(pull.principalId, kubelet);
        const login = `${acr.inputs.registryName}.azurecr.io`;
        const pod = one(dev.resources, A.deploy, "aksdev-is").inputs.spec.template.spec;
        const images = [...pod.initContainers, ...pod.containers].map((c: any) => c.image);
        assert.deepStrictEqual([...new Set(images)].sort(), [
            `${login}/library/mysql:8.4`,
            `${login}/wso2/wso2is:7.1.0`,
        ]);
        const traefik = one(dev.resources, A.release).inputs.values.image;
        assert.deepStrictEqual(traefik, { registry: login, repository: "library/traefik", tag: "v3.2.2" });
        // Pods wait for the pull grant, the cache rules, the IS pool and the database parameters.
        const deps = (dev.options.get(`${A.deploy}::aksdev-is`)?.dependsOn as any[]).map((d) => d.__name);
        for (const n of ["aksdev-acr-pull", "aksdev-is-pool", "aksdev-db-max-connections"])
            assert.ok(deps.includes(n), `${n} in ${deps}`);
        assert.ok(deps.some((n: string) => n.startsWith("aksdev-cache-")));
        // The controller's LoadBalancer waits for the cluster identity's subnet role.
        const releaseDeps = (dev.options.get(`${A.release}::aksdev-traefik`)?.dependsOn as any[]).map(
            (d) => d.__name,
        );
        assert.ok(releaseDeps.includes("aksdev-aks-network"), `${releaseDeps}`);
    });

    it("production pins every image by digest", async function () {
        const prod = await build("aksdig", {
            production: "true",
            certificate: "https://certs-vault.vault.azure.net/secrets/is-tls",
            dbSize: "Standard_D2ds_v4",
        });
        const pod = one(prod.resources, A.deploy, "aksdig-is").inputs.spec.template.spec;
        for (const c of [...pod.initContainers, ...pod.containers])
            assert.match(c.image, /\.azurecr\.io\/.+:[^@]+@sha256:[0-9a-f]{64}$/, c.name);
        assert.match(one(prod.resources, A.release).inputs.values.image.tag, /^v3\.2\.2@sha256:3{64}$/);
        assert.throws(
            () => configFor("aks", { production: "true", imageDigests: "[]" }),
            /imageDigests = "\[\]" \(the default\) has no digest for wso2\/wso2is, library\/mysql, library\/traefik; production pins every image/,
        );
    });

    it("every Kubernetes object (dev, and production with the Key Vault sync) is valid against its schema", async function () {
        const prod = await build("aksval", {
            production: "true",
            certificate: "https://certs-vault.vault.azure.net/secrets/is-tls",
            dbSize: "Standard_D2ds_v4",
        });
        const objects = [...dev.resources, ...prod.resources].filter(
            (r) => r.type.startsWith("kubernetes:") && r.type !== A.release,
        );
        const kinds = new Set(objects.map((r) => r.type.split(":")[2]));
        for (const k of ["Deployment", "SecretProviderClass", "ServersTransport", "Ingress", "Service"])
            assert.ok(kinds.has(k), `${k} among ${[...kinds]}`);
        for (const r of objects) {
            const obj = unwrapSecrets(r.inputs) as Record<string, any>;
            assert.doesNotThrow(() => validateObject(obj), `${r.type} ${r.name}`);
        }
        // The validator has teeth: a wrong type is refused.
        const deploy = unwrapSecrets(one(dev.resources, A.deploy, "aksdev-is").inputs) as any;
        deploy.spec.template.spec.terminationGracePeriodSeconds = "120";
        assert.throws(() => validateObject(deploy), /terminationGracePeriodSeconds must be integer/);
    });

    it("max_connections covers every pod plus the rollout's surge pod on both pools", function () {
        const param = ofType(dev.resources, A.mysqlConfig).find(
            (c) => c.inputs.configurationName === "max_connections",
        )!;
        // (replicas + 1) x pools x maxActive = 3 x 2 x 80, plus headroom.
        assert.ok(Number(param.inputs.value) >= 3 * 2 * 80, param.inputs.value);
        assert.strictEqual(param.inputs.value, String(maxConnections(2, 2, 1)));
    });

    it("bad AKS config is rejected: multicast, wka, a node pool VM too small for one IS pod", function () {
        assert.throws(
            () => configFor("aks", { membership: "wka" }),
            /membership = "wka" does not fit cloud aks: pod IPs change on every restart/,
        );
        assert.throws(() => configFor("aks", { membership: "multicast" }), /drop multicast/);
        assert.throws(
            () => configFor("aks", { nodeSize: "Standard_D4s_v5" }),
            /nodeSize = "Standard_D4s_v5" has 4 vCPU \/ 16 GB; an AKS node must hold one IS pod/,
        );
    });
});
