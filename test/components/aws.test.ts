// wso2is:aws:Cluster under the mock engine: resources, their security-relevant inputs, the
// rendered user-data, protection of stateful resources and the platform stack path.
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import * as zlib from "zlib";
import * as YAML from "yaml";
import { AwsCluster, discoveryTagKey } from "../../components/ec2";
import { networkFromPlatform } from "../../components/aws";
import { fetchedScripts, scriptSha256 } from "../../components/render";
import {
    bootWorkSeconds,
    dbWaitSeconds,
    isStartSeconds,
    nodeReadySeconds,
} from "../../components/model/boot";
import { scriptText } from "../../components/render/scripts";
import { ConfigError } from "../../components/config/schema";
import { readPlatformStack } from "../../components/platform";
import { configFor } from "../fixtures/models";
import { RecordedResource } from "../../synth/mocks";
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
    vpc: "aws:ec2/vpc:Vpc",
    subnet: "aws:ec2/subnet:Subnet",
    nat: "aws:ec2/natGateway:NatGateway",
    sg: "aws:ec2/securityGroup:SecurityGroup",
    ingress: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    egress: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    rds: "aws:rds/instance:Instance",
    params: "aws:rds/parameterGroup:ParameterGroup",
    subnetGroup: "aws:rds/subnetGroup:SubnetGroup",
    efs: "aws:efs/fileSystem:FileSystem",
    mountTarget: "aws:efs/mountTarget:MountTarget",
    efsBackup: "aws:efs/backupPolicy:BackupPolicy",
    lt: "aws:ec2/launchTemplate:LaunchTemplate",
    asg: "aws:autoscaling/group:Group",
    alb: "aws:lb/loadBalancer:LoadBalancer",
    tg: "aws:lb/targetGroup:TargetGroup",
    listener: "aws:lb/listener:Listener",
    cert: "aws:acm/certificate:Certificate",
    secret: "aws:secretsmanager/secret:Secret",
    role: "aws:iam/role:Role",
    rolePolicy: "aws:iam/rolePolicy:RolePolicy",
    attachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    kms: "aws:kms/key:Key",
    randomId: "random:index/randomId:RandomId",
    tlsKey: "tls:index/privateKey:PrivateKey",
    version: "aws:secretsmanager/secretVersion:SecretVersion",
    record: "aws:route53/record:Record",
    bucket: "aws:s3/bucket:Bucket",
    object: "aws:s3/bucketObjectv2:BucketObjectv2",
    publicAccess: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    ownership: "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    sse: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    routeTable: "aws:ec2/routeTable:RouteTable",
    association: "aws:ec2/routeTableAssociation:RouteTableAssociation",
};

/** `type::name` of each resource an options record depends on. */
const dependsOnNames = (opts: { dependsOn?: unknown } | undefined): string[] =>
    ((opts?.dependsOn as { __name?: string; __pulumiType?: string }[] | undefined) ?? []).map(
        (d) => `${d.__pulumiType}::${d.__name}`,
    );

async function build(
    name: string,
    extra: Record<string, string> = {},
    more: { network?: ReturnType<typeof networkFromPlatform> } = {},
) {
    const options = optionsRecorder();
    const cluster = new AwsCluster(
        name,
        { config: configFor("aws", extra), region: "eu-west-1", network: more.network },
        { transformations: [options.transformation] },
    );
    const cloudInit = await promiseOf(cluster.cloudInit);
    const outputs = await Promise.all(
        Object.entries(cluster.outputs()).map(async ([k, v]) => [k, await promiseOf(v)] as const),
    );
    const resources = await resourcesNamed(name);
    return { cluster, cloudInit, outputs: Object.fromEntries(outputs), resources, options: options.seen };
}

function userDataOf(resources: RecordedResource[]): string {
    return zlib.gunzipSync(Buffer.from(one(resources, T.lt).inputs.userData, "base64")).toString("utf8");
}

describe("aws target (wso2is:aws:Cluster)", function () {
    let dev: Awaited<ReturnType<typeof build>>;
    let prod: Awaited<ReturnType<typeof build>>;

    before(async function () {
        dev = await build("awsdev");
        prod = await build("awsprod", {
            production: "true",
            nodes: "3",
            certificate:
                "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789",
            dbBackupDays: "14",
        });
    });

    it("creates the dev stack's resources, each once where one is expected", function () {
        const count = (t: string) => ofType(dev.resources, t).length;
        assert.deepStrictEqual(
            {
                vpc: count(T.vpc),
                subnets: count(T.subnet),
                nat: count(T.nat),
                sgs: count(T.sg),
                rds: count(T.rds),
                efs: count(T.efs),
                mountTargets: count(T.mountTarget),
                lt: count(T.lt),
                asg: count(T.asg),
                alb: count(T.alb),
                tg: count(T.tg),
                listeners: count(T.listener),
                secrets: count(T.secret),
                roles: count(T.role),
                selfSignedCerts: count(T.cert),
            },
            {
                vpc: 1,
                subnets: 4,
                nat: 1,
                sgs: 4,
                rds: 1,
                efs: 1,
                mountTargets: 2,
                lt: 1,
                asg: 1,
                alb: 1,
                tg: 1,
                listeners: 2,
                secrets: 1,
                roles: 1,
                selfSignedCerts: 1,
            },
        );
        assert.strictEqual(one(dev.resources, "wso2is:aws:Cluster").custom, false);
    });

    it("production has one NAT per zone, no self-signed certificate and EFS backups", function () {
        assert.strictEqual(ofType(prod.resources, T.nat).length, 2);
        assert.strictEqual(ofType(prod.resources, T.cert).length, 0);
        assert.strictEqual(ofType(prod.resources, T.efsBackup).length, 1);
        assert.strictEqual(ofType(dev.resources, T.efsBackup).length, 0);
        const https = ofType(prod.resources, T.listener).find((l) => l.inputs.port === 443)!;
        assert.strictEqual(
            https.inputs.certificateArn,
            "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789",
        );
    });

    it("RDS is private, encrypted, TLS-only, and HA + protected in production only", function () {
        const d = one(dev.resources, T.rds).inputs;
        const p = one(prod.resources, T.rds).inputs;
        for (const db of [d, p]) {
            assert.strictEqual(db.publiclyAccessible, false);
            assert.strictEqual(db.storageEncrypted, true);
            assert.strictEqual(db.engine, "mysql");
        }
        assert.deepStrictEqual([d.multiAz, d.deletionProtection, d.skipFinalSnapshot], [false, false, true]);
        assert.deepStrictEqual(
            [p.multiAz, p.deletionProtection, p.skipFinalSnapshot, p.backupRetentionPeriod],
            [true, true, false, 14],
        );
        const params = Object.fromEntries(
            one(prod.resources, T.params).inputs.parameters.map((x: { name: string; value: string }) => [
                x.name,
                x.value,
            ]),
        );
        assert.strictEqual(params.require_secure_transport, "1");
        assert.strictEqual(params.character_set_server, "utf8mb4");
        assert.strictEqual(params.max_connections, String(3 * 2 * 80 + 50));
    });

    it("protects the database and the file share in production, not in dev", function () {
        const opt = (r: typeof dev, type: string, name: string) => r.options.get(`${type}::${name}`) ?? {};
        assert.strictEqual(opt(prod, T.rds, "awsprod-db").protect, true);
        assert.strictEqual(opt(prod, T.rds, "awsprod-db").retainOnDelete, true);
        assert.strictEqual(opt(prod, T.efs, "awsprod-efs").protect, true);
        assert.notStrictEqual(opt(dev, T.rds, "awsdev-db").protect, true);
        assert.notStrictEqual(opt(dev, T.efs, "awsdev-efs").protect, true);
    });

    it("opens 0.0.0.0/0 only on the ALB's 443 and 80; 9443, Hazelcast, MySQL and NFS only from groups", function () {
        const groupName = (id: string) =>
            ofType(dev.resources, T.sg).find((g) => g.state && engineId(g) === id)?.name;
        const ingress = ofType(dev.resources, T.ingress);
        assert.strictEqual(ingress.length, 6);
        for (const rule of ingress) {
            const target = groupName(rule.inputs.securityGroupId);
            if (rule.inputs.cidrIpv4 !== undefined) {
                assert.strictEqual(target, "awsdev-alb", `CIDR rule on ${target}`);
                assert.ok(
                    [80, 443].includes(rule.inputs.fromPort) && rule.inputs.toPort === rule.inputs.fromPort,
                    `ALB port ${rule.inputs.fromPort}`,
                );
            } else {
                assert.ok(
                    rule.inputs.referencedSecurityGroupId,
                    `rule ${rule.name} has neither CIDR nor group`,
                );
            }
        }
        const byPort = (port: number) => ingress.filter((r) => r.inputs.fromPort === port);
        assert.strictEqual(groupName(byPort(9443)[0].inputs.referencedSecurityGroupId), "awsdev-alb");
        const hz = byPort(5701)[0];
        assert.deepStrictEqual(
            [
                hz.inputs.toPort,
                groupName(hz.inputs.securityGroupId),
                groupName(hz.inputs.referencedSecurityGroupId),
            ],
            [5708, "awsdev-nodes", "awsdev-nodes"],
        );
        assert.strictEqual(groupName(byPort(3306)[0].inputs.referencedSecurityGroupId), "awsdev-nodes");
        assert.strictEqual(groupName(byPort(2049)[0].inputs.referencedSecurityGroupId), "awsdev-nodes");
        assert.ok(
            !ingress.some((r) => r.inputs.fromPort === 22 || r.inputs.ipProtocol === "-1"),
            "no SSH, no all-ports ingress",
        );
    });

    it("ALB: TLS 1.3 policy on 443, 80 only redirects, sticky HTTPS target group with a <= 15 s health check", function () {
        const listeners = ofType(dev.resources, T.listener);
        const https = listeners.find((l) => l.inputs.port === 443)!;
        const http = listeners.find((l) => l.inputs.port === 80)!;
        assert.strictEqual(https.inputs.protocol, "HTTPS");
        assert.match(https.inputs.sslPolicy, /TLS13/);
        assert.deepStrictEqual(
            http.inputs.defaultActions.map((a: { type: string }) => a.type),
            ["redirect"],
        );
        assert.strictEqual(http.inputs.defaultActions[0].redirect.protocol, "HTTPS");
        const tg = one(dev.resources, T.tg).inputs;
        assert.deepStrictEqual(
            [tg.port, tg.protocol, tg.stickiness.type, tg.stickiness.enabled],
            [9443, "HTTPS", "lb_cookie", true],
        );
        assert.strictEqual(tg.healthCheck.path, "/api/health-check/v1.0/health");
        assert.ok(
            tg.healthCheck.interval * tg.healthCheck.unhealthyThreshold <= 15,
            "dead node detected within 15 s",
        );
    });

    it("nodes: IMDSv2, encrypted gp3 root >= 10 GB, ELB health checks, rolling refresh keeping all nodes", function () {
        const lt = one(dev.resources, T.lt).inputs;
        assert.strictEqual(lt.metadataOptions.httpTokens, "required");
        const root = lt.blockDeviceMappings[0].ebs;
        assert.deepStrictEqual([root.encrypted, root.volumeType], ["true", "gp3"]);
        assert.ok(root.volumeSize >= 10);
        assert.match(lt.imageId, /^ami-/);
        const asg = one(dev.resources, T.asg).inputs;
        assert.deepStrictEqual([asg.desiredCapacity, asg.minSize, asg.healthCheckType], [2, 2, "ELB"]);
        assert.strictEqual(asg.vpcZoneIdentifiers.length, 2);
        assert.strictEqual(asg.instanceRefresh.preferences.minHealthyPercentage, 100);
        const tag = asg.tags.find((t: { key: string }) => t.key === discoveryTagKey);
        assert.deepStrictEqual([tag.value, tag.propagateAtLaunch], ["awsdev", true]);
        assert.strictEqual(one(prod.resources, T.asg).inputs.desiredCapacity, 3);
    });

    it("the instance role reads only this cluster's secret and may describe instances", async function () {
        const policy = JSON.parse(one(dev.resources, T.rolePolicy).inputs.policy);
        const secretArn = await promiseOf(dev.cluster.databaseSecretArn);
        const bySid = Object.fromEntries(policy.Statement.map((s: { Sid: string }) => [s.Sid, s]));
        assert.strictEqual(bySid.ClusterSecret.Resource, secretArn);
        assert.deepStrictEqual(bySid.ClusterSecret.Action, ["secretsmanager:GetSecretValue"]);
        assert.deepStrictEqual(bySid.HazelcastDiscovery.Action, [
            "ec2:DescribeInstances",
            "ec2:DescribeAvailabilityZones",
        ]);
    });

    it("the launch template's user-data is the rendered cloud-init with the aws membership, and holds no secret", function () {
        const userData = userDataOf(dev.resources);
        assert.strictEqual(userData, dev.cloudInit);
        // gzipped under EC2's 16 KB user-data limit (the plain text is well over it).
        const raw = Buffer.from(one(dev.resources, T.lt).inputs.userData, "base64");
        assert.ok(raw.length <= 16384, `user-data is ${raw.length} bytes`);
        assert.deepStrictEqual([raw[0], raw[1]], [0x1f, 0x8b], "gzip magic");
        assert.ok(userData.startsWith("#cloud-config\n"));
        const files = YAML.parse(userData).write_files as { path: string; content: string }[];
        const toml = files.find((f) => f.path === "/etc/wso2is/deployment.toml")!.content;
        assert.match(toml, /membership_scheme = "aws"/);
        assert.match(toml, /iamRole = "awsdev-node-[0-9a-f]{7}"/);
        assert.match(toml, /securityGroup = "awsdev-nodes-[0-9a-f]{7}"/);
        assert.match(toml, /tagValue = "awsdev"/);
        assert.match(
            toml,
            /url = "jdbc:mysql:\/\/db\.awsdev\.wso2is\.internal:3306\/WSO2IS_IDENTITY_DB\?sslMode=REQUIRED&amp;/,
        );
        // Every generated secret value the engine saw must be absent from user-data.
        const secrets = engine.records
            .filter(
                (r) =>
                    r.type === "random:index/randomPassword:RandomPassword" && r.name.startsWith("awsdev-"),
            )
            .map((r) => r.state.result as string);
        // DB admin, DB app, IS admin, the 9443 keystore's and the signing keystore's passwords.
        assert.strictEqual(secrets.length, 5);
        for (const s of secrets)
            assert.ok(!userData.includes(s), "a generated password leaked into user-data");
        // Nor the encryption key (hex) or its upper-case form.
        const key = one(
            engine.records.filter((r) => r.name === "awsdev-encryption-key"),
            T.randomId,
        ).state.hex as string;
        assert.ok(!userData.toLowerCase().includes(key), "the encryption key leaked into user-data");
        // deployment.toml names the cluster's own key material, only through $env{}.
        assert.match(toml, /\[encryption\]\nkey = "\$env\{WSO2_ENCRYPTION_KEY\}"/);
        assert.match(toml, /\[keystore\.primary\]\nfile_name = "wso2is-signing\.p12"/);
        assert.match(toml, /\[keystore\.internal\]\nfile_name = "wso2is-signing\.p12"/);
        assert.doesNotMatch(userData, /accessKey|secretKey|BEGIN .*PRIVATE KEY/);
        // 9443 serves the cluster CA's certificate for the hostname; its key comes from the secret at boot.
        assert.match(toml, /\[keystore\.tls\]/);
        assert.match(files.find((f) => f.path === "/etc/wso2is/node.env")!.content, /^TLS_KEYSTORE_FILE=/m);
    });

    it("the cluster secret carries the passwords, the cluster's own keys and the 9443 certificate and key", function () {
        const version = one(dev.resources, T.version).inputs.secretString;
        const text = typeof version === "string" ? version : version.value;
        const doc = JSON.parse(text);
        assert.deepStrictEqual(Object.keys(doc).sort(), [
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
        assert.match(doc.tlsPrivateKey, /PRIVATE KEY/);
        assert.match(doc.signingPrivateKey, /PRIVATE KEY/);
        assert.match(doc.signingCertificate, /BEGIN CERTIFICATE/);
        // 128 bits, hex: never IS's shipped 03BAFEB27A8E871CAD83C5CD4E771DAB.
        assert.match(doc.encryptionKey, /^[0-9a-f]{32}$/);
        assert.notStrictEqual(doc.encryptionKey.toUpperCase(), "03BAFEB27A8E871CAD83C5CD4E771DAB");
        assert.strictEqual(one(dev.resources, T.randomId).inputs.byteLength, 16);
    });

    it("the encryption key and the signing key never change by accident; protected in production", function () {
        const opt = (r: typeof dev, type: string, name: string) => r.options.get(`${type}::${name}`) ?? {};
        for (const [r, protect] of [
            [prod, true],
            [dev, undefined],
        ] as const) {
            const n = r === prod ? "awsprod" : "awsdev";
            const key = opt(r, T.randomId, `${n}-encryption-key`);
            assert.strictEqual(key.protect || undefined, protect, `${n} encryption key protect`);
            assert.deepStrictEqual(key.ignoreChanges, ["byteLength", "keepers", "prefix"]);
            const signing = opt(r, T.tlsKey, `${n}-signing`);
            assert.strictEqual(signing.protect || undefined, protect, `${n} signing key protect`);
            assert.deepStrictEqual(signing.ignoreChanges, ["algorithm", "rsaBits", "ecdsaCurve"]);
        }
        const signingKey = ofType(dev.resources, T.tlsKey).find((k) => k.name === "awsdev-signing")!;
        assert.deepStrictEqual(
            { algorithm: signingKey.inputs.algorithm, rsaBits: signingKey.inputs.rsaBits },
            { algorithm: "RSA", rsaBits: 3072 },
        );
    });

    it("production: one rotating KMS key for RDS, EFS, EBS and the secret; dev keeps AWS-managed keys", function () {
        assert.strictEqual(ofType(dev.resources, T.kms).length, 0);
        const key = one(prod.resources, T.kms);
        assert.strictEqual(key.inputs.enableKeyRotation, true);
        const arn = String(key.state?.arn);
        assert.match(arn, /^arn:aws:kms:eu-west-1:123456789012:key\//);
        assert.strictEqual(one(prod.resources, T.rds).inputs.kmsKeyId, arn);
        assert.strictEqual(one(prod.resources, T.efs).inputs.kmsKeyId, arn);
        assert.strictEqual(one(prod.resources, T.secret).inputs.kmsKeyId, arn);
        for (const b of one(prod.resources, T.lt).inputs.blockDeviceMappings)
            assert.strictEqual(b.ebs.kmsKeyId, arn);
        // EC2 Auto Scaling's service-linked role may use the key for the launch template's volumes.
        const policy = JSON.parse(key.inputs.policy);
        assert.ok(
            policy.Statement.some(
                (s: any) =>
                    String(s.Principal?.AWS).endsWith("/AWSServiceRoleForAutoScaling") &&
                    s.Action === "kms:CreateGrant",
            ),
        );
        // The nodes decrypt the secret with it, through Secrets Manager only.
        const nodePolicy = JSON.parse(one(prod.resources, T.rolePolicy).inputs.policy);
        const decrypt = nodePolicy.Statement.find((s: any) => s.Sid === "ClusterSecretKey");
        assert.deepStrictEqual(decrypt, {
            Sid: "ClusterSecretKey",
            Effect: "Allow",
            Action: ["kms:Decrypt"],
            Resource: arn,
            Condition: { StringEquals: { "kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com" } },
        });
        for (const t of [T.rds, T.efs, T.secret])
            assert.strictEqual(one(dev.resources, t).inputs.kmsKeyId, undefined);
        assert.strictEqual(
            prod.options.get(`${T.kms}::awsprod-key`)?.protect,
            true,
            "losing the key loses the data: protected",
        );
    });

    it("nodes get Session Manager's five actions, not AmazonSSMManagedInstanceCore (every SSM parameter)", function () {
        assert.strictEqual(ofType(dev.resources, T.attachment).length, 0);
        const policy = JSON.parse(one(dev.resources, T.rolePolicy).inputs.policy);
        const ssm = policy.Statement.find((s: any) => s.Sid === "SessionManager");
        assert.deepStrictEqual(ssm.Action, [
            "ssm:UpdateInstanceInformation",
            "ssmmessages:CreateControlChannel",
            "ssmmessages:CreateDataChannel",
            "ssmmessages:OpenControlChannel",
            "ssmmessages:OpenDataChannel",
        ]);
        const actions = policy.Statement.flatMap((s: any) => [].concat(s.Action));
        assert.ok(
            !actions.some((a: string) => /^ssm:GetParameter|^ec2messages:|\*$/.test(a)),
            actions.join(","),
        );
    });

    it("outputs: url, hostname, endpoints and ids, the secret only as an ARN", function () {
        const o = dev.outputs;
        assert.strictEqual(o.url, "https://is.example.com");
        assert.strictEqual(o.membershipScheme, "aws");
        assert.strictEqual(o.nodeCount, 2);
        assert.match(String(o.databaseSecretArn), /^arn:aws:secretsmanager:/);
        assert.match(String(o.loadBalancerDnsName), /elb\.amazonaws\.com$/);
        assert.match(String(o.sharedFsId), /^fs-/);
        assert.ok(!JSON.stringify(o).includes("mock-secret-"), "no secret value in the outputs");
        // The signing certificate (public) for relying parties; never its key.
        assert.match(String(o.signingCertificatePem), /^-----BEGIN CERTIFICATE-----/);
        assert.ok(!/PRIVATE KEY/.test(JSON.stringify(o)));
    });

    it("a changed IS setting changes no input of the database or the file system", async function () {
        const stateful = [T.rds, T.params, T.subnetGroup, T.efs, T.mountTarget, T.record];
        const snapshot = async (extra: Record<string, string>) => {
            const before = engine.records.length;
            await build("samename", extra);
            const mine = engine.records.slice(before).filter((r) => stateful.includes(r.type));
            return mine.map((r) => ({ type: r.type, name: r.name, inputs: r.inputs }));
        };
        const a = await snapshot({});
        const b = await snapshot({
            isVersion: "7.2.0",
            caching: "4",
            nodeSize: "m6i.xlarge",
            isDistributionSha256: "b".repeat(64),
        });
        assert.ok(a.length >= 5, `saw ${a.length} stateful resources`);
        assert.deepStrictEqual(b, a);
        // ...while the nodes did change (the test can fail).
        const lts = engine.records.filter((r) => r.name === "samename-node" && r.type === T.lt);
        assert.notStrictEqual(lts[0].inputs.userData, lts[1].inputs.userData);
    });

    it("nodes launch only after the private subnets' egress, the script bundle and the role policy exist", function () {
        const deps = dependsOnNames(dev.options.get(`${T.asg}::awsdev-nodes`));
        const names = (t: string, prefix: string) =>
            ofType(dev.resources, t)
                .filter((r) => r.name.startsWith(prefix))
                .map((r) => `${t}::${r.name}`);
        const nats = names(T.nat, "awsdev-nat-");
        const privateRoutes = names(T.routeTable, "awsdev-private-");
        const privateAssociations = names(T.association, "awsdev-private-");
        assert.strictEqual(nats.length, 1);
        assert.strictEqual(privateAssociations.length, 2);
        for (const n of [...nats, ...privateRoutes, ...privateAssociations])
            assert.ok(deps.includes(n), `the group does not wait for ${n}: ${deps.join(", ")}`);
        assert.strictEqual(privateRoutes.length, 2);
        assert.ok(
            !deps.includes(`${T.association}::awsdev-public-1`),
            "the public route association is not egress",
        );
        for (const o of ofType(dev.resources, T.object))
            assert.ok(deps.includes(`${T.object}::${o.name}`), o.name);
        assert.ok(deps.includes(`${T.rolePolicy}::awsdev-node`), "the role policy");
        // Production: one NAT per zone, both waited for.
        const prodDeps = dependsOnNames(prod.options.get(`${T.asg}::awsprod-nodes`));
        assert.ok(
            ["awsprod-nat-1", "awsprod-nat-2"].every((n) => prodDeps.includes(`${T.nat}::${n}`)),
            prodDeps.join(", "),
        );
    });

    it("the scripts live in a private, encrypted bucket at scripts/<sha256> of the shipped text, kept when replaced", async function () {
        for (const [stack, production] of [
            [dev, false],
            [prod, true],
        ] as const) {
            const bucket = one(stack.resources, T.bucket);
            assert.strictEqual(bucket.inputs.forceDestroy, !production, "forceDestroy in dev only");
            const block = one(stack.resources, T.publicAccess).inputs;
            assert.deepStrictEqual(
                [
                    block.blockPublicAcls,
                    block.blockPublicPolicy,
                    block.ignorePublicAcls,
                    block.restrictPublicBuckets,
                ],
                [true, true, true, true],
            );
            assert.strictEqual(
                one(stack.resources, T.ownership).inputs.rule.objectOwnership,
                "BucketOwnerEnforced",
            );
            const rule = one(stack.resources, T.sse).inputs.rules[0];
            const kms = ofType(stack.resources, T.kms)[0]?.state?.arn;
            assert.deepStrictEqual(
                rule.applyServerSideEncryptionByDefault,
                production ? { sseAlgorithm: "aws:kms", kmsMasterKeyId: kms } : { sseAlgorithm: "AES256" },
            );
            const objects = ofType(stack.resources, T.object);
            assert.strictEqual(objects.length, fetchedScripts().length);
            // What the launch template's manifest names is exactly what the bucket holds.
            const manifest = (
                YAML.parse(userDataOf(stack.resources)).write_files as { path: string; content: string }[]
            )
                .find((f) => f.path === "/etc/wso2is/scripts.sha256")!
                .content.trim()
                .split("\n")
                .map((line) => `scripts/${line.split("  ")[0]}`);
            assert.deepStrictEqual(manifest.sort(), objects.map((o) => o.inputs.key).sort());
            for (const script of fetchedScripts()) {
                const o = objects.find((x) => x.inputs.key === `scripts/${scriptSha256(script)}`);
                assert.ok(o, `no object for ${script}`);
                assert.strictEqual(o.inputs.content, scriptText(script));
                assert.strictEqual(o.inputs.bucket, bucket.state.bucket);
                assert.strictEqual(stack.options.get(`${T.object}::${o.name}`)?.retainOnDelete, true);
            }
            // The node role: GetObject under scripts/ only; production decrypts through S3 only.
            const policy = JSON.parse(one(stack.resources, T.rolePolicy).inputs.policy);
            const bySid = Object.fromEntries(policy.Statement.map((x: { Sid: string }) => [x.Sid, x]));
            assert.deepStrictEqual(bySid.ScriptBundle, {
                Sid: "ScriptBundle",
                Effect: "Allow",
                Action: ["s3:GetObject"],
                Resource: `${bucket.state.arn}/scripts/*`,
            });
            assert.deepStrictEqual(
                bySid.ScriptBundleKey,
                production
                    ? {
                          Sid: "ScriptBundleKey",
                          Effect: "Allow",
                          Action: ["kms:Decrypt"],
                          Resource: kms,
                          Condition: { StringEquals: { "kms:ViaService": "s3.eu-west-1.amazonaws.com" } },
                      }
                    : undefined,
            );
            // The model tells the renderers where the scripts are.
            const model = await promiseOf(stack.cluster.model);
            assert.deepStrictEqual(model.scriptDelivery, {
                kind: "s3",
                bucket: bucket.state.bucket,
                region: "eu-west-1",
                prefix: "scripts",
            });
        }
    });

    it("the model carries the secret's version, so a rotated secret changes what the nodes are built from", async function () {
        const model = await promiseOf(dev.cluster.model);
        const version = one(dev.resources, T.version).state.versionId;
        assert.match(String(version), /^[0-9a-f-]{36}$/);
        assert.strictEqual(model.secrets.source === "aws-secrets-manager" && model.secrets.version, version);
        // The version follows the secret's content: the same document keeps it, a new admin
        // password (a rotation) brings a new one, and so a new model for the nodes.
        const versionFor = async (adminPassword: string) => {
            const c = new AwsCluster("rotation", {
                config: configFor("aws"),
                region: "eu-west-1",
                adminPassword: pulumi.secret(adminPassword),
            });
            const m = await promiseOf(c.model);
            return m.secrets.source === "aws-secrets-manager" ? m.secrets.version : undefined;
        };
        const first = await versionFor("first-Passw0rd!");
        assert.strictEqual(await versionFor("first-Passw0rd!"), first);
        assert.notStrictEqual(await versionFor("second-Passw0rd!"), first);
    });

    it("ELB grace covers the database wait plus a boot (model/boot.ts); a refresh waits a day-2 boot", function () {
        const asg = one(dev.resources, T.asg).inputs;
        assert.strictEqual(asg.healthCheckGracePeriod, nodeReadySeconds);
        assert.ok(asg.healthCheckGracePeriod > dbWaitSeconds + bootWorkSeconds + isStartSeconds);
        assert.strictEqual(
            asg.instanceRefresh.preferences.instanceWarmup,
            String(bootWorkSeconds + isStartSeconds),
        );
        assert.strictEqual(asg.defaultInstanceWarmup, bootWorkSeconds + isStartSeconds);
    });

    it("the launch template changes only with the nodes' own inputs: not with allowedCidrs or backups; the image only with nodeImageName", async function () {
        const template = async (extra: Record<string, string>) => {
            const before = engine.records.length;
            await build("ltstable", extra);
            return one(engine.records.slice(before), T.lt).inputs;
        };
        const a = await template({});
        const b = await template({ allowedCidrs: '["203.0.113.0/24"]', dbBackupDays: "3" });
        assert.deepStrictEqual(b, a);
        const c = await template({
            nodeImageName: "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20990101",
        });
        assert.notStrictEqual(
            c.imageId,
            a.imageId,
            "a new image name must roll the nodes (the test can fail)",
        );
        assert.deepStrictEqual({ ...c, imageId: a.imageId }, a);
    });

    it("uses the platform stack's network instead of creating one", async function () {
        setPlatformOutputs("acme/network/prod", {
            vpcId: "vpc-platform",
            privateSubnetIds: ["subnet-priv-a", "subnet-priv-b", "subnet-priv-c"],
            publicSubnetIds: ["subnet-pub-a", "subnet-pub-b"],
        });
        const platform = await readPlatformStack("acme/network/prod", [
            "vpcId",
            "privateSubnetIds",
            "publicSubnetIds",
        ]);
        const r = await build("awsplat", {}, { network: networkFromPlatform(platform) });
        assert.strictEqual(ofType(r.resources, T.vpc).length, 0);
        assert.strictEqual(ofType(r.resources, T.subnet).length, 0);
        assert.deepStrictEqual(one(r.resources, T.subnetGroup).inputs.subnetIds, [
            "subnet-priv-a",
            "subnet-priv-b",
            "subnet-priv-c",
        ]);
        assert.deepStrictEqual(one(r.resources, T.alb).inputs.subnets, ["subnet-pub-a", "subnet-pub-b"]);
        assert.strictEqual(ofType(r.resources, T.mountTarget).length, 3);
        // The platform's egress predates this stack: the group waits only for its own inputs.
        const deps = dependsOnNames(r.options.get(`${T.asg}::awsplat-nodes`));
        assert.ok(
            !deps.some((d) => /(natGateway|routeTable|routeTableAssociation):/.test(d)),
            deps.join(", "),
        );
        assert.ok(deps.length > 0);
        for (const sg of ofType(r.resources, T.sg)) assert.strictEqual(sg.inputs.vpcId, "vpc-platform");
        assert.ok(
            engine.records.some(
                (x) => x.type === "pulumi:pulumi:StackReference" && x.inputs.name === "acme/network/prod",
            ),
        );
    });

    it("a platform stack without the contract's outputs fails with a clear message", async function () {
        setPlatformOutputs("acme/empty/prod", { vpcId: "vpc-1" });
        await assert.rejects(
            readPlatformStack("acme/empty/prod", ["vpcId", "privateSubnetIds", "publicSubnetIds"]),
            (e: Error) => /does not export privateSubnetIds, publicSubnetIds/.test(e.message),
        );
        setPlatformOutputs("acme/short/prod", {
            vpcId: "vpc-1",
            privateSubnetIds: ["subnet-1"],
            publicSubnetIds: ["subnet-2", "subnet-3"],
        });
        const p = await readPlatformStack("acme/short/prod", [
            "vpcId",
            "privateSubnetIds",
            "publicSubnetIds",
        ]);
        assert.throws(() => networkFromPlatform(p), /privateSubnetIds must be a list of at least 2 ids/);
    });

    it("bad AWS-specific config is rejected with the key, the value and what is allowed", function () {
        const problems = (extra: Record<string, string>) => {
            try {
                configFor("aws", extra);
            } catch (e) {
                if (e instanceof ConfigError) return e.message;
                throw e;
            }
            return "";
        };
        assert.match(
            problems({ membership: "wka" }),
            /wso2is-cluster:membership = "wka" does not fit cloud aws: EC2 Auto Scaling instances get new private IPs/,
        );
        assert.match(problems({ membership: "multicast" }), /AWS VPCs drop multicast/);
        assert.match(
            problems({ certificate: "https://kv.vault.azure.net/secrets/tls" }),
            /certificate = .* must be an ACM certificate ARN/,
        );
        assert.match(
            problems({ sharedFs: "azure-files-nfs" }),
            /sharedFs = "azure-files-nfs" is not available on cloud aws; allowed: efs, nfs/,
        );
        assert.match(
            problems({ production: "true", nodeImageName: "" }),
            /nodeImageName is required in production on cloud aws \(or nodeImageId\)/,
        );
        assert.match(
            problems({ nodeImageName: "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*" }),
            /nodeImageName = "ubuntu\/images\/hvm-ssd-gp3\/ubuntu-noble-24.04-amd64-server-\*" must be the exact name/,
        );
        assert.match(
            problems({
                nodeImageName: "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20250610",
                nodeImageId: "ami-0123456789abcdef0",
            }),
            /nodeImageName = .* is set together with nodeImageId: set one of them/,
        );
        assert.match(
            problems({ nodeSize: "t3.medium" }),
            /nodeSize = "t3.medium" has 2 vCPU \/ 4 GB; an IS node needs at least 4 vCPU/,
        );
    });
});

/** The id the mock engine gave a recorded resource. */
function engineId(r: RecordedResource): string {
    return `sg-${require("../../synth/mocks").stableHex(`${r.type}::${r.name}`, 17)}`;
}
