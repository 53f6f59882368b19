// Config validation: every bad value gives one message naming the key, the value and what is
// allowed; defaults per target; Pulumi.yaml declares exactly the keys the program reads.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import {
    ClusterConfig,
    ConfigError,
    azureNames,
    configKeys,
    configWarnings,
    mysqlFlexibleMaxConnections,
    parseConfig,
    placeholderDigests,
    seedMinimum,
} from "../../components/config";
import { defaultUbuntuImageName } from "../../components/config/keys";
import { sha } from "../fixtures/models";

const base = { cloud: "aws", hostname: "is.example.com", isDistributionSha256: sha, jdbcDriverSha256: sha };

function problemsOf(raw: Record<string, string>): string {
    try {
        parseConfig(raw);
    } catch (e) {
        assert.ok(e instanceof ConfigError, `expected ConfigError, got ${(e as Error).stack}`);
        assert.ok(!e.message.includes("    at "), "no stack trace in the message");
        return e.message;
    }
    return assert.fail("config was accepted");
}

describe("config", function () {
    describe("defaults per target", function () {
        it("aws: 2 nodes, aws membership, scenario 1, EFS, a node size meeting the seed's minimum", function () {
            const c: ClusterConfig = parseConfig(base);
            assert.deepStrictEqual(
                [c.nodes, c.membership, c.caching.scenario, c.sharedFs.kind, c.node.size],
                [2, "aws", 1, "efs", "c6i.xlarge"],
            );
            assert.ok(c.node.diskGb >= seedMinimum.diskGb);
            assert.deepStrictEqual(c.certificate, { kind: "self-signed" });
            assert.strictEqual(c.database.backupDays, 1);
            assert.strictEqual(c.database.layout, "identity-shared");
        });
        it("azure: wka, Azure Files NFS; aks: kubernetes, Azure Files SMB", function () {
            const az = parseConfig({ ...base, cloud: "azure" });
            assert.deepStrictEqual(
                [az.membership, az.sharedFs.kind, az.node.size],
                ["wka", "azure-files-nfs", "Standard_D4s_v5"],
            );
            const aks = parseConfig({ cloud: "aks", hostname: "is.example.com", jdbcDriverSha256: sha });
            assert.deepStrictEqual(
                [aks.membership, aks.sharedFs.kind, aks.is.image],
                ["kubernetes", "azure-files-smb", "wso2/wso2is:7.1.0"],
            );
        });
        it("production defaults to 7 days of backups and a larger database", function () {
            const c = parseConfig({
                ...base,
                production: "true",
                certificate: "arn:aws:acm:eu-west-1:123456789012:certificate/abc-123",
                nodeImageName: "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20250610",
            });
            assert.deepStrictEqual(
                [c.production, c.database.backupDays, c.database.size],
                [true, 7, "db.m6g.large"],
            );
        });
        it("nodeImageName: EC2 only; dev defaults to the pinned name, production must name one", function () {
            assert.strictEqual(parseConfig(base).node.imageName, defaultUbuntuImageName);
            assert.strictEqual(
                parseConfig({ ...base, nodeImageId: "ami-0123456789abcdef0" }).node.imageName,
                undefined,
            );
            assert.throws(
                () => parseConfig({ ...base, cloud: "azure", nodeImageName: defaultUbuntuImageName }),
                /wso2is-cluster:nodeImageName = .* only applies to cloud aws/,
            );
            assert.throws(
                () =>
                    parseConfig({
                        ...base,
                        production: "true",
                        certificate: "arn:aws:acm:eu-west-1:123456789012:certificate/abc-123",
                    }),
                /nodeImageName is required in production on cloud aws \(or nodeImageId\)/,
            );
        });
        it("the automatic values Pulumi.yaml declares mean 'use the default'", function () {
            const c = parseConfig({
                ...base,
                membership: "",
                nodeSize: "",
                dbBackupDays: "0",
                disabledCaches: "[]",
                platformStack: "",
            });
            assert.deepStrictEqual(
                [c.membership, c.node.size, c.database.backupDays, c.network.platformStack],
                ["aws", "c6i.xlarge", 1, undefined],
            );
        });
        it("typed values arrive as strings, as the CLI passes them", function () {
            const c = parseConfig({
                ...base,
                nodes: "3",
                production: "false",
                allowedCidrs: '["10.0.0.0/8","192.168.0.0/16"]',
            });
            assert.deepStrictEqual(
                [c.nodes, c.production, c.network.allowedCidrs],
                [3, false, ["10.0.0.0/8", "192.168.0.0/16"]],
            );
        });
        it("caching scenario 4 disables the security caches by default; 2 shortens the cache timeout", function () {
            assert.ok(
                parseConfig({ ...base, caching: "4" }).caching.disabledCaches.includes(
                    "authentication_context_cache",
                ),
            );
            assert.strictEqual(parseConfig({ ...base, caching: "2" }).caching.cacheTimeoutMinutes, 5);
            assert.strictEqual(
                parseConfig({ ...base, caching: "2", cacheTimeoutMinutes: "3" }).caching.cacheTimeoutMinutes,
                3,
            );
        });
        it("flags all-zero digests as placeholders", function () {
            const c = parseConfig({ ...base, isDistributionSha256: "0".repeat(64) });
            assert.deepStrictEqual(placeholderDigests(c), ["isDistributionSha256"]);
            assert.deepStrictEqual(placeholderDigests(parseConfig(base)), []);
        });
        it("aks: imageDigests pins images by repository; all-zero image digests are placeholders too", function () {
            const aks = { cloud: "aks", hostname: "is.example.com", jdbcDriverSha256: sha };
            const pinned = parseConfig({
                ...aks,
                imageDigests: JSON.stringify([`library/mysql@sha256:${"b".repeat(64)}`]),
            });
            assert.deepStrictEqual(pinned.is.imageDigests, { "library/mysql": `sha256:${"b".repeat(64)}` });
            assert.deepStrictEqual(placeholderDigests(pinned), []);
            const zero = parseConfig({
                ...aks,
                jdbcDriverSha256: "0".repeat(64),
                imageDigests: JSON.stringify([`wso2/wso2is@sha256:${"0".repeat(64)}`]),
            });
            assert.deepStrictEqual(placeholderDigests(zero), ["jdbcDriverSha256", "imageDigests"]);
            assert.throws(
                () =>
                    parseConfig({
                        ...aks,
                        imageDigests: JSON.stringify([`bitnami/mysql@sha256:${"b".repeat(64)}`]),
                    }),
                /imageDigests = .* names bitnami\/mysql; allowed: wso2\/wso2is, library\/mysql, library\/traefik/,
            );
            assert.throws(
                () => parseConfig({ ...aks, imageDigests: JSON.stringify(["library/mysql:8.4"]) }),
                /imageDigests = .*\(item 0\) must be <repository>@sha256:<64 hex>/,
            );
            assert.throws(
                () =>
                    parseConfig({
                        ...base,
                        imageDigests: JSON.stringify([`library/mysql@sha256:${"b".repeat(64)}`]),
                    }),
                /imageDigests = .* only applies to cloud aks/,
            );
        });
    });

    describe("bad values: one message with key, value and what is allowed", function () {
        const cases: [string, Record<string, string>, RegExp][] = [
            ["nodes < 2", { nodes: "1" }, /wso2is-cluster:nodes = "1" must be at least 2/],
            ["nodes not a number", { nodes: "two" }, /wso2is-cluster:nodes = "two" must be a whole number/],
            [
                "unknown cloud",
                { cloud: "gcp" },
                /wso2is-cluster:cloud = "gcp" must be one of aws, azure, aks/,
            ],
            ["missing cloud", { cloud: undefined as unknown as string }, /wso2is-cluster:cloud is required/],
            [
                "multicast on a cloud",
                { membership: "multicast" },
                /membership = "multicast" does not fit cloud aws: AWS VPCs drop multicast traffic/,
            ],
            [
                "multicast on azure",
                { cloud: "azure", membership: "multicast" },
                /Azure virtual networks drop multicast traffic/,
            ],
            [
                "membership not fitting the target",
                { cloud: "azure", membership: "aws" },
                /membership = "aws" does not fit cloud azure/,
            ],
            [
                "unknown membership",
                { membership: "gossip" },
                /membership = "gossip" must be one of wka, aws, aws-ecs, kubernetes, multicast/,
            ],
            ["caching 0", { caching: "0" }, /wso2is-cluster:caching = "0" must be at least 1/],
            ["caching 6", { caching: "6" }, /wso2is-cluster:caching = "6" must be at most 5/],
            [
                "hostname not a DNS name",
                { hostname: "not a host" },
                /wso2is-cluster:hostname = "not a host" must be a DNS name/,
            ],
            [
                "hostname with one label",
                { hostname: "localhost" },
                /hostname = "localhost" must be a DNS name/,
            ],
            [
                "CIDR invalid",
                { networkCidr: "10.0.0.300/16" },
                /networkCidr = "10.0.0.300\/16" must be an IPv4 CIDR/,
            ],
            [
                "CIDR too small",
                { networkCidr: "10.0.0.0/24" },
                /networkCidr = "10.0.0.0\/24" is a \/24; the program needs at least a \/22/,
            ],
            [
                "allowed CIDR invalid",
                { allowedCidrs: '["0.0.0.0/0","nope"]' },
                /allowedCidrs = .* \(item 1\) must be an IPv4 CIDR/,
            ],
            [
                "sha256 not 64 hex",
                { isDistributionSha256: "abc123" },
                /isDistributionSha256 = "abc123" must be 64 hexadecimal characters/,
            ],
            [
                "sha256 missing on a VM target",
                { isDistributionSha256: undefined as unknown as string },
                /isDistributionSha256 is required on cloud aws/,
            ],
            [
                "database layout unknown",
                { dbLayout: "sharded" },
                /dbLayout = "sharded" must be one of identity-shared, separate/,
            ],
            [
                "prod without a real certificate",
                { production: "true" },
                /certificate = "self-signed" \(the default\) is self-signed; production needs a real certificate \(an ACM certificate ARN\)/,
            ],
            [
                "prod with short backups",
                {
                    production: "true",
                    certificate: "arn:aws:acm:eu-west-1:123456789012:certificate/abc",
                    dbBackupDays: "3",
                },
                /dbBackupDays = "3" is below 7/,
            ],
            [
                "unknown key (a typo)",
                { nodeCount: "3" },
                /wso2is-cluster:nodeCount is not a config key of this program/,
            ],
            [
                "old Connector/J",
                {
                    jdbcDriverUrl:
                        "https://repo1.maven.org/maven2/com/mysql/mysql-connector-j/8.0.33/mysql-connector-j-8.0.33.jar",
                },
                /older than 8.2.0/,
            ],
            [
                "http download",
                { isDistributionUrl: "http://example.com/is.zip" },
                /isDistributionUrl = .* must be an https:\/\/ URL/,
            ],
            ["nfs without address", { sharedFs: "nfs" }, /sharedFsAddress is required with sharedFs = "nfs"/],
            ["node too small", { nodeSize: "c5.large" }, /nodeSize = "c5.large" has 2 vCPU \/ 4 GB/],
            ["disk below the seed", { nodeDiskGb: "8" }, /nodeDiskGb = "8" must be at least 10/],
            [
                "cache list outside scenario 4",
                { disabledCaches: '["oauth_cache"]' },
                /disabledCaches = .* only applies to caching scenario 4/,
            ],
            [
                "unknown cache name",
                { caching: "4", disabledCaches: '["my_cache"]' },
                /disabledCaches = .* \(item 0\) must be one of app_info_cache/,
            ],
            [
                "both platform stack and CIDR",
                { platformStack: "acme/net/prod", networkCidr: "10.1.0.0/16" },
                /networkCidr = "10.1.0.0\/16" cannot be set together with platformStack/,
            ],
        ];
        for (const [title, extra, expected] of cases) {
            it(title, function () {
                const raw: Record<string, string> = { ...base, ...extra };
                for (const k of Object.keys(raw)) if (raw[k] === undefined) delete raw[k];
                assert.match(problemsOf(raw), expected);
            });
        }
        it("lists every problem at once, each on its own line", function () {
            const message = problemsOf({ ...base, nodes: "1", caching: "9", hostname: "x" });
            assert.strictEqual(message.split("\n").filter((l) => l.startsWith("  - ")).length, 3);
        });
        it("never echoes a secret value", function () {
            const message = problemsOf({ ...base, adminPassword: "short" });
            assert.match(message, /adminPassword = \[secret\] must be at least 12 characters/);
            assert.ok(!message.includes('short"'));
        });
    });

    describe("Pulumi.yaml", function () {
        const project = YAML.parse(fs.readFileSync(path.join(__dirname, "..", "..", "Pulumi.yaml"), "utf8"));
        it("is project wso2is-cluster on the nodejs runtime with TypeScript", function () {
            assert.strictEqual(project.name, "wso2is-cluster");
            assert.deepStrictEqual(
                [project.runtime.name, project.runtime.options.typescript],
                ["nodejs", true],
            );
        });
        it("declares every non-secret key with its type, description and default", function () {
            const declared = project.config as Record<
                string,
                { type: string; description: string; default?: unknown }
            >;
            const expected = Object.entries(configKeys).filter(([, k]) => !("secret" in k && k.secret));
            assert.deepStrictEqual(Object.keys(declared).sort(), expected.map(([n]) => n).sort());
            for (const [name, key] of expected) {
                assert.strictEqual(declared[name].type, key.kind, name);
                assert.strictEqual(declared[name].description, key.description, name);
                assert.deepStrictEqual(
                    declared[name].default,
                    "projectDefault" in key ? key.projectDefault : undefined,
                    name,
                );
            }
        });
        it("its defaults alone (plus the required keys) form a valid config", function () {
            const raw: Record<string, string> = {};
            for (const [name, entry] of Object.entries(
                project.config as Record<string, { default?: unknown }>,
            )) {
                if (entry.default !== undefined)
                    raw[name] =
                        typeof entry.default === "string" ? entry.default : JSON.stringify(entry.default);
            }
            const c = parseConfig({ ...raw, ...base });
            assert.deepStrictEqual(
                [c.nodes, c.caching.scenario, c.network.allowedCidrs],
                [2, 1, ["0.0.0.0/0"]],
            );
        });
    });
});

// Issue 16: limits Azure enforces only when a resource is created, checked before any exists.
describe("config: Azure limits checked before deploy", function () {
    const azure = { ...base, cloud: "azure" };
    const problemsWith = (raw: Record<string, string>, stack?: string) => {
        try {
            parseConfig(raw, undefined, stack);
        } catch (e) {
            assert.ok(e instanceof ConfigError);
            return e.message;
        }
        return assert.fail("config was accepted");
    };

    it("nodeDiskGb below the Ubuntu image's 30 GB is refused on azure, naming key, value and limit; a pre-baked image may be smaller", function () {
        assert.match(
            problemsWith({ ...azure, nodeDiskGb: "29" }),
            /wso2is-cluster:nodeDiskGb = "29" is below 30: the Ubuntu 24.04 image is a 30 GB disk/,
        );
        assert.strictEqual(parseConfig({ ...azure, nodeDiskGb: "30" }).node.diskGb, 30);
        assert.strictEqual(
            parseConfig({ ...azure, nodeDiskGb: "16", nodeImageId: "/subscriptions/s/images/small" }).node
                .diskGb,
            16,
        );
        // AWS's Ubuntu AMI is an 8 GB volume: the seed's 10 GB still holds there.
        assert.strictEqual(parseConfig({ ...base, nodeDiskGb: "12" }).node.diskGb, 12);
    });

    it("max_connections beyond the MySQL Flexible SKU is refused (20 nodes on the dev SKU ask 3250 of 1365)", function () {
        assert.match(
            problemsWith({ ...azure, nodes: "20" }),
            /wso2is-cluster:dbSize = "Standard_B2ms" \(the default\) allows max_connections up to 1365; 20 nodes x 2 databases x 80 \+ 50 needs 3250/,
        );
        assert.match(
            problemsWith({ ...azure, nodes: "9", dbLayout: "separate", dbSize: "Standard_B2ms" }),
            /dbSize = "Standard_B2ms" allows max_connections up to 1365; 9 nodes x 3 databases x 80 \+ 50 needs 2210/,
        );
        // The same check serves AKS (it shares the database module).
        assert.match(problemsWith({ ...base, cloud: "aks", nodes: "20" }), /dbSize = "Standard_B2ms"/);
        // 8 nodes fit the dev SKU (1330), 20 fit a D8ds_v4 (5461).
        assert.strictEqual(parseConfig({ ...azure, nodes: "8" }).nodes, 8);
        assert.strictEqual(parseConfig({ ...azure, nodes: "20", dbSize: "Standard_D8ds_v4" }).nodes, 20);
        assert.strictEqual(mysqlFlexibleMaxConnections.Standard_D2ds_v4, 1365);
        assert.strictEqual(mysqlFlexibleMaxConnections.Standard_E64ds_v4, 86016);
    });

    it("an unknown SKU is accepted with a warning naming the key and the need", function () {
        const c = parseConfig({ ...azure, dbSize: "Standard_X9_future" });
        assert.deepStrictEqual(configWarnings(c), [
            'wso2is-cluster:dbSize = "Standard_X9_future" is not in this program\'s MySQL Flexible Server table: make sure it allows max_connections = 370',
        ]);
        assert.deepStrictEqual(configWarnings(parseConfig(azure)), []);
        assert.deepStrictEqual(configWarnings(parseConfig(base)), [], "not on aws");
    });

    it("a stack name that would overflow an Azure name limit is refused with the limit and the longest stack that fits", function () {
        // wso2is-<stack>-files + 8 (auto-naming) must fit 64 (private endpoint): the tightest limit.
        const long = "s".repeat(44);
        const message = problemsWith(azure, long);
        assert.ok(
            message.includes(
                `the stack name "${long}" makes the Azure private endpoint name "wso2is-${long}-filesxxxxxxxx" 65 characters; Azure allows 64 (wso2is-<stack>-files plus Pulumi's auto-name suffix "xxxxxxxx"): use a stack name of at most 43 characters`,
            ),
            message,
        );
        assert.strictEqual(parseConfig(azure, undefined, "s".repeat(43)).cloud, "azure");
        // Every name the program derives stays within its limit at the longest stack accepted.
        for (const n of azureNames(`wso2is-${"s".repeat(43)}`, 50))
            assert.ok(n.name.length <= n.limit, `${n.what}: ${n.name.length} > ${n.limit}`);
        // Other clouds have their own limits (test/config/names.test.ts): AKS derives none here.
        assert.strictEqual(
            parseConfig({ cloud: "aks", hostname: "is.example.com", jdbcDriverSha256: sha }, undefined, long)
                .cloud,
            "aks",
        );
    });
});
