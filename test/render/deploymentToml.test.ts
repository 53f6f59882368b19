// deployment.toml: parses back to the intended structure for every membership scheme and
// caching scenario; every key is one the IS config-mapper knows; secrets only as $env{...}.
import * as assert from "assert";
import * as TOML from "@iarna/toml";
import { knownCaches } from "../../components/config/defaults";
import { ClusterModel, Membership, buildClusterModel } from "../../components/model";
import { jdbcUrl, renderDeploymentToml } from "../../components/render/deploymentToml";
import { awsFacts, awsModel, azureModel, configFor, ecsModel } from "../fixtures/models";
import { unknownTomlKeys } from "../fixtures/tomlKeys";

function parsed(model: ClusterModel, index = 0): any {
    return TOML.parse(renderDeploymentToml(model, model.nodes[index]));
}

/** A model with the given membership substituted, for the schemes no target of ours runs. */
function withMembership(m: Membership): ClusterModel {
    return { ...awsModel(), membership: m };
}

const schemes: [string, ClusterModel][] = [
    ["wka", azureModel()],
    ["aws", awsModel()],
    ["aws-ecs", ecsModel()],
    [
        "kubernetes",
        withMembership({
            scheme: "kubernetes",
            port: 4000,
            namespace: "wso2is",
            services: "wso2is-hazelcast",
        }),
    ],
    ["multicast", withMembership({ scheme: "multicast" })],
];

describe("render/deploymentToml", function () {
    it("server, proxy ports, health check and MySQL user-store settings", function () {
        const doc = parsed(awsModel());
        assert.deepStrictEqual(doc.server, {
            hostname: "is.example.com",
            node_ip: "$env{NODE_IP}",
            force_local_cache: true,
        });
        assert.strictEqual(doc.transport.https.properties.proxyPort, 443);
        assert.strictEqual(doc.transport.http.properties.proxyPort, 80);
        assert.strictEqual(doc.carbon_health_check.enable, true);
        assert.deepStrictEqual(doc.user_store.properties, {
            CaseInsensitiveUsername: false,
            UseCaseSensitiveUsernameForCacheKeys: false,
        });
    });

    it("both databases with driver, pool options and &amp;-joined JDBC parameters", function () {
        const model = awsModel();
        const doc = parsed(model);
        for (const [key, name] of [
            ["identity_db", "WSO2IS_IDENTITY_DB"],
            ["shared_db", "WSO2IS_SHARED_DB"],
        ]) {
            const db = doc.database[key];
            assert.strictEqual(db.type, "mysql");
            assert.strictEqual(db.driver, "com.mysql.cj.jdbc.Driver");
            assert.strictEqual(db.username, "wso2is");
            assert.strictEqual(db.password, "$env{WSO2_DB_PASSWORD}");
            assert.strictEqual(
                db.url,
                `jdbc:mysql://${awsFacts.database.host}:3306/${name}?sslMode=REQUIRED&amp;characterEncoding=UTF-8&amp;connectTimeout=10000&amp;socketTimeout=60000&amp;tcpKeepAlive=true`,
            );
            assert.strictEqual(db.pool_options.validationQuery, "SELECT 1");
            assert.strictEqual(db.pool_options.testOnBorrow, true);
        }
        assert.ok(!/[^;]&(?!amp;)/.test(jdbcUrl(model, model.databases[0])), "every & is written &amp;");
        assert.strictEqual(doc.realm_manager, undefined);
    });

    it("separate layout adds the user-store database and points the realm at it", function () {
        const doc = parsed(awsModel({ dbLayout: "separate" }));
        assert.match(doc.database.user.url, /\/WSO2IS_USER_DB\?/);
        assert.deepStrictEqual(doc.realm_manager, { data_source: "WSO2USER_DB" });
    });

    it("wka: the node's own IP, port 4000 and every member", function () {
        const model = azureModel();
        const [a, b] = [parsed(model, 0), parsed(model, 1)];
        assert.deepStrictEqual(a.clustering, {
            membership_scheme: "wka",
            domain: "wso2.is.wso2is-azdev",
            local_member_host: "10.41.1.4",
            local_member_port: "4000",
            members: ["10.41.1.4:4000", "10.41.1.5:4000"],
        });
        assert.strictEqual(b.clustering.local_member_host, "10.41.1.5");
        assert.strictEqual(b.server.node_ip, "10.41.1.5");
        assert.deepStrictEqual(b.clustering.members, a.clustering.members);
    });

    it("aws: exactly the properties the kernel's AWS scheme accepts, iamRole and no keys", function () {
        const c = parsed(awsModel()).clustering;
        assert.strictEqual(c.membership_scheme, "aws");
        assert.strictEqual(c.local_member_host, "$env{NODE_IP}");
        assert.strictEqual(c.local_member_port, "5701");
        const allowed = [
            "accessKey",
            "secretKey",
            "iamRole",
            "securityGroup",
            "connTimeout",
            "hostHeader",
            "region",
            "tagKey",
            "tagValue",
        ];
        assert.ok(Object.keys(c.properties).every((k) => allowed.includes(k)));
        assert.deepStrictEqual(c.properties, {
            iamRole: "wso2is-dev-node",
            region: "eu-west-1",
            securityGroup: "wso2is-dev-nodes",
            tagKey: "wso2is-cluster",
            tagValue: "wso2is-dev",
        });
    });

    it("aws-ecs, kubernetes and multicast render their documented keys", function () {
        // carbon-kernel v4.10.42: AWSECSBasedMembershipScheme.init() reads the aws scheme's
        // parameters (AWSConstants *_LOCAL_PARAM) and fails without networkInterface.
        const ecs = parsed(schemes[2][1]).clustering;
        const kernelReads = [
            "accessKey",
            "secretKey",
            "iamRole",
            "securityGroup",
            "connTimeout",
            "hostHeader",
            "region",
            "tagKey",
            "tagValue",
            "networkInterface",
        ];
        assert.ok(Object.keys(ecs.properties).every((k) => kernelReads.includes(k)));
        assert.deepStrictEqual(ecs.properties, {
            region: "eu-west-1",
            hostHeader: "ec2",
            securityGroup: "wso2is-ecs-dev-nodes",
            tagKey: "wso2is-cluster",
            tagValue: "wso2is-ecs-dev",
            networkInterface: "10.43.*.*",
        });
        assert.deepStrictEqual(
            [ecs.membership_scheme, ecs.local_member_port, ecs.local_member_host],
            ["aws-ecs", "5701", undefined],
        );
        // Never static keys, never the iamRole of the instance: Hazelcast uses the task role.
        for (const absent of ["accessKey", "secretKey", "iamRole"]) assert.ok(!(absent in ecs.properties));
        const k8s = parsed(schemes[3][1]).clustering;
        assert.deepStrictEqual(
            [k8s.membership_scheme, k8s.local_member_port, k8s.properties],
            [
                "kubernetes",
                "4000",
                { KUBERNETES_NAMESPACE: "wso2is", KUBERNETES_SERVICES: "wso2is-hazelcast" },
            ],
        );
        for (const dead of [
            "membershipSchemeClassName",
            "USE_DNS",
            "KUBERNETES_MASTER_SKIP_SSL_VERIFICATION",
        ])
            assert.ok(!(dead in k8s.properties));
        assert.deepStrictEqual(parsed(schemes[4][1]).clustering, {
            membership_scheme: "multicast",
            domain: "wso2.is.wso2is-dev",
        });
    });

    describe("caching scenarios of the seed", function () {
        it("1: local caches + Hazelcast invalidation (default)", function () {
            const doc = parsed(awsModel());
            assert.strictEqual(doc.server.force_local_cache, true);
            assert.ok(doc.clustering);
            assert.strictEqual(doc.cache, undefined);
        });
        it("2: local caches, no clustering, shorter cache timeout", function () {
            const doc = parsed(awsModel({ caching: "2" }));
            assert.strictEqual(doc.server.force_local_cache, true);
            assert.strictEqual(doc.clustering, undefined);
            assert.strictEqual(doc.server.default_cache_timeout, 5);
        });
        it("3: no caching at all, no clustering", function () {
            const doc = parsed(awsModel({ caching: "3" }));
            assert.strictEqual(doc.clustering, undefined);
            assert.deepStrictEqual(Object.keys(doc.cache).sort(), [...knownCaches].sort());
            assert.ok(Object.values(doc.cache).every((c: any) => c.enable === false));
        });
        it("4: chosen caches disabled, the rest local with invalidation", function () {
            const doc = parsed(awsModel({ caching: "4", disabledCaches: '["oauth_cache","jwks_cache"]' }));
            assert.deepStrictEqual(doc.cache, {
                oauth_cache: { enable: false },
                jwks_cache: { enable: false },
            });
            assert.ok(doc.clustering);
        });
        it("5: distributed caching (force_local_cache = false) with clustering", function () {
            const doc = parsed(awsModel({ caching: "5" }));
            assert.strictEqual(doc.server.force_local_cache, false);
            assert.ok(doc.clustering);
        });
    });

    it("secrets appear only as $env{...} placeholders", function () {
        for (const [, model] of schemes) {
            const text = renderDeploymentToml(model, model.nodes[0]);
            const passwords = [...text.matchAll(/^\s*password = "(.*)"$/gm)].map((m) => m[1]);
            assert.ok(passwords.length >= 3);
            assert.ok(
                passwords.every((p) => /^\$env\{[A-Z0-9_]+\}$/.test(p)),
                passwords.join(","),
            );
            assert.doesNotMatch(text, /accessKey|secretKey/);
        }
    });

    it("writes integers without TOML 1.0 digit separators", function () {
        const text = renderDeploymentToml(awsModel(), awsModel().nodes[0]);
        assert.match(text, /maxWait = 60000$/m);
        assert.doesNotMatch(text, /\d_\d/);
    });

    it("every rendered key is one the IS config-mapper knows", function () {
        const models = [
            ...schemes.map(([, m]) => m),
            awsModel({ dbLayout: "separate" }),
            awsModel({ caching: "2" }),
            awsModel({ caching: "3" }),
            awsModel({ caching: "4" }),
        ];
        const unknown = new Set<string>();
        for (const model of models) {
            for (const key of unknownTomlKeys(parsed(model))) unknown.add(key);
        }
        assert.deepStrictEqual([...unknown], []);
    });

    it("the model rejects WKA on nodes without static IPs", function () {
        assert.throws(
            () => buildClusterModel(configFor("azure"), { ...awsFacts, membership: { scheme: "wka" } }),
            /wka membership needs nodes with static IPs/,
        );
    });
});
