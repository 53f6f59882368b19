// AWS policies: a passing and a violating case for each, on hand-built props shaped like the
// resources components/aws creates (type tokens of @pulumi/aws 7).
import { strict as assert } from "assert";
import * as aws from "../../policy/aws";
import { Props, RunResult, messages, runResource, runStack, unknown } from "./harness";

const T = aws.T;

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

const rds = (over: Props = {}): Props => ({
    engine: "mysql",
    engineVersion: "8.0",
    storageEncrypted: true,
    publiclyAccessible: false,
    parameterGroupName: "c1-db-af71d67",
    backupRetentionPeriod: 14,
    multiAz: true,
    deletionProtection: true,
    ...over,
});
const paramGroup = (value = "1"): Props => ({
    family: "mysql8.0",
    parameters: [
        { name: "require_secure_transport", value },
        { name: "character_set_server", value: "utf8mb4" },
    ],
});

describe("policy: aws", function () {
    describe("aws-rds-not-public", function () {
        it("passes a private instance", async function () {
            ok(await runResource(aws.rdsNotPublic, { type: T.rdsInstance, props: rds() }));
        });
        it("flags publiclyAccessible", async function () {
            violates(
                await runResource(aws.rdsNotPublic, {
                    type: T.rdsInstance,
                    props: rds({ publiclyAccessible: true }),
                }),
                /publiclyAccessible/,
            );
        });
        it("is not applicable to other types", async function () {
            assert.equal((await runResource(aws.rdsNotPublic, { type: T.efs, props: {} })).status, "n/a");
        });
        it("cannot run on a preview-unknown value (the runtime's proxy)", async function () {
            assert.equal(
                (
                    await runResource(aws.rdsNotPublic, {
                        type: T.rdsInstance,
                        props: rds({ publiclyAccessible: unknown }),
                    })
                ).status,
                "unknown",
            );
        });
    });

    describe("aws-rds-storage-encrypted", function () {
        it("passes encrypted storage", async function () {
            ok(await runResource(aws.rdsStorageEncrypted, { type: T.rdsInstance, props: rds() }));
        });
        it("flags unencrypted and unset storage", async function () {
            violates(
                await runResource(aws.rdsStorageEncrypted, {
                    type: T.rdsInstance,
                    props: rds({ storageEncrypted: false }),
                }),
                /storageEncrypted/,
            );
            violates(
                await runResource(aws.rdsStorageEncrypted, {
                    type: T.rdsInstance,
                    props: rds({ storageEncrypted: undefined }),
                }),
                /storageEncrypted/,
            );
        });
    });

    describe("aws-rds-tls-required (stack)", function () {
        const stack = (pg: Props | undefined, instance: Props = rds()) => [
            { type: T.rdsInstance, name: "c1-db", props: instance },
            ...(pg ? [{ type: T.rdsParameterGroup, name: "c1-db", props: pg }] : []),
        ];
        it("passes an instance whose (autonamed) parameter group sets require_secure_transport=1", async function () {
            ok(await runStack(aws.rdsTlsRequired, stack(paramGroup("1"))));
        });
        it("passes when the group's physical name is known (outputs)", async function () {
            ok(
                await runStack(
                    aws.rdsTlsRequired,
                    stack({ ...paramGroup("1"), name: "tls-only" }, rds({ parameterGroupName: "tls-only" })),
                ),
            );
        });
        it("flags require_secure_transport=0, a missing setting, the default group and an unknown group", async function () {
            violates(
                await runStack(aws.rdsTlsRequired, stack(paramGroup("0"))),
                /require_secure_transport=0/,
            );
            violates(
                await runStack(aws.rdsTlsRequired, stack({ family: "mysql8.0", parameters: [] })),
                /does not set require_secure_transport/,
            );
            violates(
                await runStack(
                    aws.rdsTlsRequired,
                    stack(paramGroup("1"), rds({ parameterGroupName: undefined })),
                ),
                /default parameter group/,
            );
            violates(await runStack(aws.rdsTlsRequired, stack(undefined)), /does not define/);
        });
    });

    describe("aws-rds-production-resilience", function () {
        const prod = { production: true };
        it("is not applicable outside production (default false, applied in code)", async function () {
            assert.equal(
                (
                    await runResource(aws.rdsProductionResilience, {
                        type: T.rdsInstance,
                        props: rds({ multiAz: false }),
                    })
                ).status,
                "n/a",
            );
        });
        it("passes a Multi-AZ, deletion-protected instance with 14 days of backups in production", async function () {
            ok(
                await runResource(
                    aws.rdsProductionResilience,
                    { type: T.rdsInstance, props: rds() },
                    { config: prod },
                ),
            );
        });
        it("flags single-AZ, no deletion protection and short backups in production", async function () {
            const r = await runResource(
                aws.rdsProductionResilience,
                {
                    type: T.rdsInstance,
                    props: rds({ multiAz: false, deletionProtection: false, backupRetentionPeriod: 1 }),
                },
                { config: prod },
            );
            violates(r, /multiAz/);
            violates(r, /deletionProtection/);
            violates(r, /at least 7 days/);
        });
        it("reads minBackupDays from config", async function () {
            violates(
                await runResource(
                    aws.rdsProductionResilience,
                    { type: T.rdsInstance, props: rds() },
                    { config: { production: true, minBackupDays: 30 } },
                ),
                /at least 30 days/,
            );
        });
    });

    const template = (over: Props = {}): Props => ({
        metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
        blockDeviceMappings: [
            { deviceName: "/dev/sda1", ebs: { volumeSize: 30, volumeType: "gp3", encrypted: "true" } },
        ],
        ...over,
    });

    describe("aws-production-customer-managed-keys", function () {
        const prod = { production: true };
        const key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        const cases = (kmsKeyId?: string) => [
            { type: T.rdsInstance, props: rds(kmsKeyId ? { kmsKeyId } : {}) },
            { type: T.efs, props: { encrypted: true, ...(kmsKeyId ? { kmsKeyId } : {}) } },
            { type: T.secret, props: { name: "s", ...(kmsKeyId ? { kmsKeyId } : {}) } },
            {
                type: T.launchTemplate,
                props: template({
                    blockDeviceMappings: [
                        {
                            deviceName: "/dev/sda1",
                            ebs: { encrypted: "true", ...(kmsKeyId ? { kmsKeyId } : {}) },
                        },
                    ],
                }),
            },
        ];
        it("is not applicable outside production", async function () {
            for (const c of cases())
                assert.equal((await runResource(aws.productionCustomerManagedKeys, c)).status, "n/a");
        });
        it("passes RDS, EFS, the secret and EBS with the cluster's key in production", async function () {
            for (const c of cases(key))
                ok(await runResource(aws.productionCustomerManagedKeys, c, { config: prod }));
        });
        it("flags each of them with AWS-managed keys in production", async function () {
            for (const c of cases())
                violates(
                    await runResource(aws.productionCustomerManagedKeys, c, { config: prod }),
                    /kmsKeyId/,
                );
        });
    });

    describe("aws-kms-key-rotation", function () {
        it("passes a rotating symmetric key and ignores asymmetric ones", async function () {
            ok(await runResource(aws.kmsKeyRotation, { type: T.kmsKey, props: { enableKeyRotation: true } }));
            ok(
                await runResource(aws.kmsKeyRotation, {
                    type: T.kmsKey,
                    props: { customerMasterKeySpec: "RSA_2048" },
                }),
            );
        });
        it("flags a symmetric key without rotation", async function () {
            violates(
                await runResource(aws.kmsKeyRotation, { type: T.kmsKey, props: {} }),
                /enableKeyRotation/,
            );
        });
    });

    describe("aws-lb-production-deletion-protection", function () {
        it("passes a protected load balancer in production, is n/a outside", async function () {
            ok(
                await runResource(
                    aws.lbProductionDeletionProtection,
                    { type: T.lb, props: { enableDeletionProtection: true } },
                    { config: { production: true } },
                ),
            );
            assert.equal(
                (await runResource(aws.lbProductionDeletionProtection, { type: T.lb, props: {} })).status,
                "n/a",
            );
        });
        it("flags an unprotected one in production", async function () {
            violates(
                await runResource(
                    aws.lbProductionDeletionProtection,
                    { type: T.lb, props: { enableDeletionProtection: false } },
                    { config: { production: true } },
                ),
                /enableDeletionProtection/,
            );
        });
    });

    describe("aws-efs-encrypted", function () {
        it("passes an encrypted file system", async function () {
            ok(await runResource(aws.efsEncrypted, { type: T.efs, props: { encrypted: true } }));
        });
        it("flags an unencrypted one", async function () {
            violates(await runResource(aws.efsEncrypted, { type: T.efs, props: {} }), /encrypted/);
        });
    });

    describe("aws-ec2-imdsv2-required", function () {
        it("passes httpTokens required", async function () {
            ok(await runResource(aws.ec2Imdsv2, { type: T.launchTemplate, props: template() }));
        });
        it("flags optional and unset httpTokens", async function () {
            violates(
                await runResource(aws.ec2Imdsv2, {
                    type: T.launchTemplate,
                    props: template({ metadataOptions: { httpTokens: "optional" } }),
                }),
                /"optional"/,
            );
            violates(await runResource(aws.ec2Imdsv2, { type: T.instance, props: {} }), /IMDSv1/);
        });
    });

    describe("aws-ebs-encrypted", function () {
        it('passes an encrypted root volume (string "true" as the provider takes it)', async function () {
            ok(await runResource(aws.ebsEncrypted, { type: T.launchTemplate, props: template() }));
        });
        it("flags an unencrypted volume and a template without mappings", async function () {
            violates(
                await runResource(aws.ebsEncrypted, {
                    type: T.launchTemplate,
                    props: template({
                        blockDeviceMappings: [{ deviceName: "/dev/sda1", ebs: { volumeSize: 30 } }],
                    }),
                }),
                /not encrypted/,
            );
            violates(
                await runResource(aws.ebsEncrypted, {
                    type: T.launchTemplate,
                    props: template({ blockDeviceMappings: undefined }),
                }),
                /no blockDeviceMappings/,
            );
        });
        it("checks an instance's root block device", async function () {
            ok(
                await runResource(aws.ebsEncrypted, {
                    type: T.instance,
                    props: { rootBlockDevice: { encrypted: true } },
                }),
            );
            violates(
                await runResource(aws.ebsEncrypted, { type: T.instance, props: { rootBlockDevice: {} } }),
                /rootBlockDevice/,
            );
        });
    });

    const rule = (over: Props): Props => ({ securityGroupId: "sg-alb", ipProtocol: "tcp", ...over });

    describe("aws-sg-no-public-ingress", function () {
        it("passes 443 and 80 from anywhere, and 9443/Hazelcast from a security group", async function () {
            ok(
                await runResource(aws.sgNoPublicIngress, {
                    type: T.ingressRule,
                    props: rule({ fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0" }),
                }),
            );
            ok(
                await runResource(aws.sgNoPublicIngress, {
                    type: T.ingressRule,
                    props: rule({ fromPort: 80, toPort: 80, cidrIpv6: "::/0" }),
                }),
            );
            ok(
                await runResource(aws.sgNoPublicIngress, {
                    type: T.ingressRule,
                    props: rule({ fromPort: 9443, toPort: 9443, referencedSecurityGroupId: "sg-alb" }),
                }),
            );
            ok(
                await runResource(aws.sgNoPublicIngress, {
                    type: T.ingressRule,
                    props: rule({ fromPort: 5701, toPort: 5708, referencedSecurityGroupId: "sg-nodes" }),
                }),
            );
        });
        it("flags SSH from anywhere, all traffic from ::/0, and an ICMP rule from anywhere", async function () {
            violates(
                await runResource(aws.sgNoPublicIngress, {
                    type: T.ingressRule,
                    props: rule({ fromPort: 22, toPort: 22, cidrIpv4: "0.0.0.0/0" }),
                }),
                /port 22 open to 0.0.0.0\/0/,
            );
            violates(
                await runResource(aws.sgNoPublicIngress, {
                    type: T.ingressRule,
                    props: rule({ ipProtocol: "-1", cidrIpv6: "::/0" }),
                }),
                /all ports open/,
            );
            violates(
                await runResource(aws.sgNoPublicIngress, {
                    type: T.ingressRule,
                    props: rule({ ipProtocol: "icmp", fromPort: -1, toPort: -1, cidrIpv4: "0.0.0.0/0" }),
                }),
                /ICMP open/,
            );
        });
        it("flags 9443 and Hazelcast from any CIDR, even a private one", async function () {
            violates(
                await runResource(aws.sgNoPublicIngress, {
                    type: T.ingressRule,
                    props: rule({ fromPort: 9443, toPort: 9443, cidrIpv4: "10.0.0.0/16" }),
                }),
                /9443/,
            );
            violates(
                await runResource(aws.sgNoPublicIngress, {
                    type: T.ingressRule,
                    props: rule({ fromPort: 5700, toPort: 5710, cidrIpv4: "10.0.1.0/24" }),
                }),
                /Hazelcast 5701-5708/,
            );
            violates(
                await runResource(aws.sgNoPublicIngress, {
                    type: T.securityGroupRule,
                    props: {
                        type: "ingress",
                        protocol: "tcp",
                        fromPort: 4000,
                        toPort: 4000,
                        cidrBlocks: ["10.0.1.0/24"],
                    },
                }),
                /Hazelcast 4000/,
            );
        });
        it("checks inline ingress on a SecurityGroup", async function () {
            ok(
                await runResource(aws.sgNoPublicIngress, {
                    type: T.securityGroup,
                    props: {
                        ingress: [{ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] }],
                    },
                }),
            );
            violates(
                await runResource(aws.sgNoPublicIngress, {
                    type: T.securityGroup,
                    props: {
                        ingress: [
                            { protocol: "tcp", fromPort: 3306, toPort: 3306, cidrBlocks: ["0.0.0.0/0"] },
                        ],
                    },
                }),
                /ingress\[0\]: port 3306/,
            );
        });
        it("ignores egress rules", async function () {
            ok(
                await runResource(aws.sgNoPublicIngress, {
                    type: T.securityGroupRule,
                    props: {
                        type: "egress",
                        protocol: "-1",
                        fromPort: 0,
                        toPort: 0,
                        cidrBlocks: ["0.0.0.0/0"],
                    },
                }),
            );
        });
    });

    describe("aws-sg-public-only-on-load-balancer (stack)", function () {
        const lb = {
            type: T.lb,
            name: "c1-alb",
            props: { loadBalancerType: "application", securityGroups: ["sg-alb"] },
        };
        it("passes world-open 443 on the ALB's group", async function () {
            ok(
                await runStack(aws.sgPublicOnlyOnLoadBalancer, [
                    lb,
                    {
                        type: T.ingressRule,
                        name: "c1-alb-in-443",
                        props: rule({ fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0" }),
                    },
                ]),
            );
        });
        it("passes inline ingress on a group the ALB depends on (propertyDependencies)", async function () {
            ok(
                await runStack(aws.sgPublicOnlyOnLoadBalancer, [
                    {
                        type: T.securityGroup,
                        name: "c1-alb",
                        props: {
                            ingress: [
                                { protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] },
                            ],
                        },
                    },
                    { ...lb, propertyDependencies: { securityGroups: [`${T.securityGroup}::c1-alb`] } },
                ]),
            );
        });
        it("flags world-open 443 on the nodes' group", async function () {
            violates(
                await runStack(aws.sgPublicOnlyOnLoadBalancer, [
                    lb,
                    {
                        type: T.ingressRule,
                        name: "c1-nodes-in-443",
                        props: rule({
                            securityGroupId: "sg-nodes",
                            fromPort: 443,
                            toPort: 443,
                            cidrIpv4: "0.0.0.0/0",
                        }),
                    },
                ]),
                /no load balancer uses/,
            );
        });
    });

    describe("aws-lb-listener-https", function () {
        it("passes HTTPS with a TLS 1.2+ policy and HTTP that redirects", async function () {
            ok(
                await runResource(aws.albHttps, {
                    type: T.listener,
                    props: { port: 443, protocol: "HTTPS", sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06" },
                }),
            );
            ok(
                await runResource(aws.albHttps, {
                    type: T.listener,
                    props: {
                        port: 443,
                        protocol: "HTTPS",
                        sslPolicy: "ELBSecurityPolicy-TLS-1-2-Ext-2018-06",
                    },
                }),
            );
            ok(
                await runResource(aws.albHttps, {
                    type: T.listener,
                    props: {
                        port: 80,
                        protocol: "HTTP",
                        defaultActions: [
                            {
                                type: "redirect",
                                redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" },
                            },
                        ],
                    },
                }),
            );
        });
        it("flags a TLS 1.0 policy, a missing policy and an HTTP listener that forwards", async function () {
            violates(
                await runResource(aws.albHttps, {
                    type: T.listener,
                    props: { protocol: "HTTPS", sslPolicy: "ELBSecurityPolicy-TLS13-1-0-2021-06" },
                }),
                /TLS13-1-0/,
            );
            violates(
                await runResource(aws.albHttps, { type: T.listener, props: { protocol: "HTTPS" } }),
                /unset/,
            );
            violates(
                await runResource(aws.albHttps, {
                    type: T.listener,
                    props: {
                        port: 80,
                        protocol: "HTTP",
                        defaultActions: [{ type: "forward", targetGroupArn: "arn:tg" }],
                    },
                }),
                /only redirect/,
            );
        });
    });

    describe("aws-target-group-stickiness", function () {
        it("passes lb_cookie stickiness", async function () {
            ok(
                await runResource(aws.targetGroupStickiness, {
                    type: T.targetGroup,
                    props: {
                        protocol: "HTTPS",
                        port: 9443,
                        stickiness: { type: "lb_cookie", enabled: true },
                    },
                }),
            );
        });
        it("flags no or disabled stickiness", async function () {
            violates(
                await runResource(aws.targetGroupStickiness, {
                    type: T.targetGroup,
                    props: { protocol: "HTTPS", port: 9443 },
                }),
                /stickiness/,
            );
            violates(
                await runResource(aws.targetGroupStickiness, {
                    type: T.targetGroup,
                    props: { protocol: "HTTP", stickiness: { type: "lb_cookie", enabled: false } },
                }),
                /stickiness/,
            );
        });
    });
});
