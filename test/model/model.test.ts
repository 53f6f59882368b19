// The cluster model and the address arithmetic the targets rely on.
import * as assert from "assert";
import { buildClusterModel, databasesFor } from "../../components/model";
import { cidrContains, hostAddresses, interfacePattern, subnetCidr } from "../../components/model/network";
import { awsFacts, azureFacts, configFor, ecsModel } from "../fixtures/models";

describe("model", function () {
    it("interfacePattern: a CIDR as Hazelcast's interface wildcard/range (aws-ecs networkInterface)", function () {
        assert.deepStrictEqual(
            [
                "10.43.0.0/16",
                "10.40.0.0/22",
                "10.0.0.0/8",
                "172.31.16.0/20",
                "192.168.7.0/24",
                "10.1.2.3/32",
            ].map(interfacePattern),
            ["10.43.*.*", "10.40.0-3.*", "10.*.*.*", "172.31.16-31.*", "192.168.7.*", "10.1.2.3"],
        );
    });

    it("aws-ecs: the ECS facts become a membership on port 5701 with the target's discovery", function () {
        const m = ecsModel();
        assert.deepStrictEqual(m.membership, {
            scheme: "aws-ecs",
            port: 5701,
            region: "eu-west-1",
            securityGroup: "wso2is-ecs-dev-nodes",
            tagKey: "wso2is-cluster",
            tagValue: "wso2is-ecs-dev",
            networkInterface: "10.43.*.*",
        });
        assert.strictEqual(ecsModel({ caching: "2" }).membership, undefined);
    });

    it("wka members are every node's static IP on port 4000", function () {
        const m = buildClusterModel(configFor("azure"), azureFacts);
        assert.deepStrictEqual(m.membership, {
            scheme: "wka",
            port: 4000,
            members: ["10.41.1.4:4000", "10.41.1.5:4000"],
        });
        assert.deepStrictEqual(
            m.nodes.map((n) => n.ip),
            ["10.41.1.4", "10.41.1.5"],
        );
    });
    it("aws nodes learn their IP at boot; the aws scheme uses port 5701", function () {
        const m = buildClusterModel(configFor("aws"), awsFacts);
        assert.strictEqual(m.nodes[0].ip, "$env{NODE_IP}");
        assert.strictEqual(m.membership?.scheme, "aws");
        assert.strictEqual((m.membership as { port: number }).port, 5701);
    });
    it("caching scenarios 2 and 3 switch Hazelcast clustering off; 5 switches force_local_cache off", function () {
        const scenario = (n: string) => buildClusterModel(configFor("aws", { caching: n }), awsFacts);
        assert.deepStrictEqual(
            [1, 2, 3, 4, 5].map((n) => [
                scenario(String(n)).caching.clustering,
                scenario(String(n)).membership !== undefined,
            ]),
            [
                [true, true],
                [false, false],
                [false, false],
                [true, true],
                [true, true],
            ],
        );
        assert.strictEqual(scenario("5").caching.forceLocalCache, false);
    });
    it("refuses facts for another membership scheme than the config's", function () {
        assert.throws(
            () =>
                buildClusterModel(configFor("aws"), {
                    ...awsFacts,
                    membership: { scheme: "kubernetes", namespace: "x", services: "y" },
                }),
            /kubernetes membership facts for a aws cluster/,
        );
    });
    it("database layouts: identity + shared, or separate with a user-store DB", function () {
        assert.deepStrictEqual(
            databasesFor("identity-shared").map((d) => d.name),
            ["WSO2IS_IDENTITY_DB", "WSO2IS_SHARED_DB"],
        );
        assert.deepStrictEqual(
            databasesFor("separate").map((d) => [d.key, d.scripts]),
            [
                ["identity_db", ["dbscripts/identity/mysql.sql", "dbscripts/consent/mysql.sql"]],
                ["shared_db", ["dbscripts/mysql.sql"]],
                ["user", ["dbscripts/mysql.sql"]],
            ],
        );
    });
    it("subnet and host address arithmetic", function () {
        assert.strictEqual(subnetCidr("10.40.0.0/16", 24, 0), "10.40.0.0/24");
        assert.strictEqual(subnetCidr("10.40.0.0/16", 24, 3), "10.40.3.0/24");
        assert.strictEqual(subnetCidr("10.40.0.0/22", 24, 3), "10.40.3.0/24");
        assert.throws(() => subnetCidr("10.40.0.0/22", 24, 4), /holds 4 \/24 subnets/);
        assert.deepStrictEqual(hostAddresses("10.41.1.0/24", 3), ["10.41.1.4", "10.41.1.5", "10.41.1.6"]);
        assert.throws(() => hostAddresses("10.41.1.0/29", 4), /has 3 usable addresses/);
        assert.ok(cidrContains("10.41.1.0/24", "10.41.1.250"));
        assert.ok(!cidrContains("10.41.1.0/24", "10.41.2.1"));
    });
});
