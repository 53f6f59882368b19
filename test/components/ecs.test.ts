// wso2is:aws:EcsCluster under the mock engine: the ECS resources and what they carry (task
// definition, service rollout, capacity, roles), the shared AWS building blocks and their
// security rules, secrets only by reference, production protection, the platform network.
import * as assert from "assert";
import * as TOML from "@iarna/toml";
import * as pulumi from "@pulumi/pulumi";
import { EcsCluster, discoveryTagKey, ecsInstancePolicy } from "../../components/ecs";
import { ecsAmiParameter } from "../../components/ecs/capacity";
import { isPorts, stopTimeoutSeconds } from "../../components/ecs/containers";
import { networkFromPlatform } from "../../components/aws";
import { ConfigError, parseConfig } from "../../components/config/schema";
import { renderDeploymentToml } from "../../components/render/deploymentToml";
import { renderEcsInstanceCloudInit } from "../../components/render/ecsInstance";
import { keystoreProgramText, standaloneScriptText } from "../../components/render/scripts";
import { readPlatformStack } from "../../components/platform";
import { configFor } from "../fixtures/models";
import { RecordedResource, stableHex } from "../../synth/mocks";
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
    sg: "aws:ec2/securityGroup:SecurityGroup",
    ingress: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    egress: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    rds: "aws:rds/instance:Instance",
    efs: "aws:efs/fileSystem:FileSystem",
    mountTarget: "aws:efs/mountTarget:MountTarget",
    accessPoint: "aws:efs/accessPoint:AccessPoint",
    lt: "aws:ec2/launchTemplate:LaunchTemplate",
    asg: "aws:autoscaling/group:Group",
    alb: "aws:lb/loadBalancer:LoadBalancer",
    tg: "aws:lb/targetGroup:TargetGroup",
    listener: "aws:lb/listener:Listener",
    secret: "aws:secretsmanager/secret:Secret",
    secretVersion: "aws:secretsmanager/secretVersion:SecretVersion",
    role: "aws:iam/role:Role",
    rolePolicy: "aws:iam/rolePolicy:RolePolicy",
    attachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    profile: "aws:iam/instanceProfile:InstanceProfile",
    cluster: "aws:ecs/cluster:Cluster",
    capacityProvider: "aws:ecs/capacityProvider:CapacityProvider",
    clusterCapacity: "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders",
    taskDefinition: "aws:ecs/taskDefinition:TaskDefinition",
    service: "aws:ecs/service:Service",
    logGroup: "aws:cloudwatch/logGroup:LogGroup",
    cert: "aws:acm/certificate:Certificate",
};

async function build(
    name: string,
    extra: Record<string, string> = {},
    more: { network?: ReturnType<typeof networkFromPlatform>; adminPassword?: string } = {},
) {
    const options = optionsRecorder();
    const cluster = new EcsCluster(
        name,
        {
            config: configFor("ecs", extra),
            region: "eu-west-1",
            network: more.network,
            adminPassword: more.adminPassword === undefined ? undefined : pulumi.secret(more.adminPassword),
        },
        { transformations: [options.transformation] },
    );
    const containers = JSON.parse(await promiseOf(cluster.containerDefinitions)) as any[];
    const model = await promiseOf(cluster.model);
    const outputs = await Promise.all(
        Object.entries(cluster.outputs()).map(async ([k, v]) => [k, await promiseOf(v)] as const),
    );
    const resources = await resourcesNamed(name);
    return {
        cluster,
        containers,
        model,
        outputs: Object.fromEntries(outputs),
        resources,
        options: options.seen,
    };
}

const sgId = (r: RecordedResource) => `sg-${stableHex(`${r.type}::${r.name}`, 17)}`;
const policyOf = (r: RecordedResource) => JSON.parse(r.inputs.policy);
const container = (cs: any[], name: string) => cs.find((c) => c.name === name);

describe("ecs target (wso2is:aws:EcsCluster)", function () {
    let dev: Awaited<ReturnType<typeof build>>;
    let prod: Awaited<ReturnType<typeof build>>;

    before(async function () {
        dev = await build("ecsdev");
        prod = await build("ecsprod", {
            production: "true",
            nodes: "3",
            nodeSize: "m6i.xlarge",
            certificate:
                "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789",
            dbBackupDays: "14",
            nodeImageId: "ami-0123456789abcdef0",
            isImage: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/wso2/wso2is:7.1.0",
        });
    });

    it("creates the dev stack's resources, each once where one is expected", function () {
        const count = (t: string) => ofType(dev.resources, t).length;
        assert.deepStrictEqual(Object.fromEntries(Object.entries(T).map(([k, t]) => [k, count(t)])), {
            vpc: 1,
            subnet: 4,
            sg: 4,
            ingress: 6,
            egress: 2,
            rds: 1,
            efs: 1,
            mountTarget: 2,
            accessPoint: 2,
            lt: 1,
            asg: 1,
            alb: 1,
            tg: 1,
            listener: 2,
            secret: 1,
            secretVersion: 1,
            // instance, task execution, task, break-glass exec
            role: 4,
            rolePolicy: 3,
            attachment: 2,
            profile: 1,
            cluster: 1,
            capacityProvider: 1,
            clusterCapacity: 1,
            taskDefinition: 1,
            service: 1,
            logGroup: 1,
            cert: 1,
        });
        assert.strictEqual(ofType(dev.resources, "wso2is:aws:EcsCluster").length, 1);
    });

    it("security groups: 9443 only from the ALB, 5701-5708 only from the tasks' group, MySQL/NFS only from it", function () {
        const groups = ofType(dev.resources, T.sg);
        const nameOf = (id: string) => groups.find((g) => sgId(g) === id)?.name;
        const ingress = ofType(dev.resources, T.ingress);
        const byPort = (port: number) => ingress.filter((r) => r.inputs.fromPort === port);
        const rule = (port: number) => {
            assert.strictEqual(byPort(port).length, 1, `one rule for ${port}`);
            const r = byPort(port)[0];
            return [
                nameOf(r.inputs.securityGroupId),
                nameOf(r.inputs.referencedSecurityGroupId),
                r.inputs.toPort,
            ];
        };
        assert.deepStrictEqual(rule(isPorts.https), ["ecsdev-nodes", "ecsdev-alb", 9443]);
        assert.deepStrictEqual(rule(5701), ["ecsdev-nodes", "ecsdev-nodes", 5708]);
        assert.deepStrictEqual(rule(3306), ["ecsdev-db", "ecsdev-nodes", 3306]);
        assert.deepStrictEqual(rule(2049), ["ecsdev-efs", "ecsdev-nodes", 2049]);
        for (const r of ingress.filter((x) => x.inputs.cidrIpv4 !== undefined))
            assert.ok(
                [80, 443].includes(r.inputs.fromPort) && nameOf(r.inputs.securityGroupId) === "ecsdev-alb",
            );
        assert.ok(!ingress.some((r) => r.inputs.fromPort === 22), "no SSH");
        // Host network mode: the container instances carry the tasks' group.
        const lt = one(dev.resources, T.lt);
        const nodes = groups.find((g) => g.name === "ecsdev-nodes")!;
        assert.deepStrictEqual(lt.inputs.vpcSecurityGroupIds, [sgId(nodes)]);
    });

    it("capacity: ECS-optimised AL2023 via SSM (or the pinned AMI), IMDSv2, no SSH key, encrypted root, the ECS agent's settings", function () {
        const lt = one(dev.resources, T.lt);
        assert.strictEqual(lt.inputs.imageId, `resolve:ssm:${ecsAmiParameter}`);
        assert.strictEqual(one(prod.resources, T.lt).inputs.imageId, "ami-0123456789abcdef0");
        assert.deepStrictEqual(
            [lt.inputs.metadataOptions.httpTokens, lt.inputs.metadataOptions.httpPutResponseHopLimit],
            ["required", 1],
        );
        assert.strictEqual(lt.inputs.keyName, undefined);
        assert.strictEqual(lt.inputs.blockDeviceMappings[0].ebs.encrypted, "true");
        const cluster = one(dev.resources, T.cluster);
        const userData = Buffer.from(lt.inputs.userData, "base64").toString("utf8");
        assert.strictEqual(
            userData,
            renderEcsInstanceCloudInit({ clusterName: cluster.state.name, stopTimeoutSeconds }),
        );
        assert.match(userData, /ECS_ENABLE_TASK_IAM_ROLE_NETWORK_HOST=true/);
        const instanceTags = lt.inputs.tagSpecifications.find((t: any) => t.resourceType === "instance").tags;
        assert.strictEqual(instanceTags[discoveryTagKey], "ecsdev");
    });

    it("capacity: an ASG over both private subnets as a managed-scaling capacity provider, protected from scale-in", function () {
        const asg = one(dev.resources, T.asg);
        assert.strictEqual(asg.inputs.vpcZoneIdentifiers.length, 2);
        assert.deepStrictEqual([asg.inputs.minSize, asg.inputs.maxSize], [2, 4]);
        assert.strictEqual(asg.inputs.protectFromScaleIn, true);
        assert.ok(asg.inputs.tags.some((t: any) => t.key === "AmazonECSManaged" && t.propagateAtLaunch));
        assert.ok(
            asg.inputs.tags.some(
                (t: any) => t.key === discoveryTagKey && t.value === "ecsdev" && t.propagateAtLaunch,
            ),
        );
        assert.deepStrictEqual(dev.options.get(`${T.asg}::ecsdev-nodes`)?.ignoreChanges, ["desiredCapacity"]);
        // Instances register with ECS through the NAT: they launch only once the route exists.
        const deps = ((dev.options.get(`${T.asg}::ecsdev-nodes`)?.dependsOn as any[]) ?? []).map(
            (d) => `${d.__pulumiType}::${d.__name}`,
        );
        for (const n of [
            "aws:ec2/natGateway:NatGateway::ecsdev-nat-1",
            "aws:ec2/routeTableAssociation:RouteTableAssociation::ecsdev-private-1",
            "aws:ec2/routeTableAssociation:RouteTableAssociation::ecsdev-private-2",
        ])
            assert.ok(deps.includes(n), `the group does not wait for ${n}: ${deps.join(", ")}`);
        const cp = one(dev.resources, T.capacityProvider).inputs.autoScalingGroupProvider;
        assert.deepStrictEqual(
            [
                cp.managedTerminationProtection,
                cp.managedDraining,
                cp.managedScaling.status,
                cp.managedScaling.targetCapacity,
            ],
            ["ENABLED", "ENABLED", "ENABLED", 100],
        );
    });

    it("the instance role has only the ECS agent's managed policy; discovery and secrets are the tasks'", function () {
        const roles = ofType(dev.resources, T.role);
        const trust = (r: RecordedResource) => JSON.parse(r.inputs.assumeRolePolicy).Statement[0];
        const node = roles.find((r) => r.name === "ecsdev-node")!;
        assert.deepStrictEqual(trust(node).Principal, { Service: "ec2.amazonaws.com" });
        const attached = ofType(dev.resources, T.attachment).map((a) => [a.name, a.inputs.policyArn]);
        assert.deepStrictEqual(attached.sort(), [
            ["ecsdev-node-ecs", ecsInstancePolicy],
            ["ecsdev-task-exec", "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"],
        ]);
        assert.ok(!ofType(dev.resources, T.rolePolicy).some((p) => p.name === "ecsdev-node"));
        for (const n of ["ecsdev-task", "ecsdev-task-exec"])
            assert.deepStrictEqual(trust(roles.find((r) => r.name === n)!).Principal, {
                Service: "ecs-tasks.amazonaws.com",
            });
    });

    it("the execution role reads this secret only; the task role discovers, mounts EFS through the access points, opens the exec channel", function () {
        const policies = ofType(dev.resources, T.rolePolicy);
        const secretArn = dev.outputs.databaseSecretArn as string;
        const exec = policyOf(policies.find((p) => p.name === "ecsdev-task-exec")!);
        assert.deepStrictEqual(exec.Statement, [
            {
                Sid: "ClusterSecret",
                Effect: "Allow",
                Action: ["secretsmanager:GetSecretValue"],
                Resource: secretArn,
            },
        ]);
        const task = policyOf(policies.find((p) => p.name === "ecsdev-task")!);
        const sid = (s: string) => task.Statement.find((x: any) => x.Sid === s);
        assert.deepStrictEqual(sid("HazelcastDiscovery").Action, [
            "ec2:DescribeInstances",
            "ec2:DescribeAvailabilityZones",
        ]);
        const efs = one(dev.resources, T.efs);
        assert.strictEqual(sid("SharedFs").Resource, efs.state.arn);
        assert.strictEqual(
            sid("SharedFs").Condition.StringEquals["elasticfilesystem:AccessPointArn"].length,
            2,
        );
        assert.ok(sid("EcsExecChannel").Action.every((a: string) => a.startsWith("ssmmessages:")));
        assert.ok(!JSON.stringify(task).includes("secretsmanager"), "the task role reads no secret");
    });

    it("the break-glass role: ECS Exec into this cluster's IS containers only, assumed with MFA", function () {
        const role = ofType(dev.resources, T.role).find((r) => r.name === "ecsdev-exec")!;
        const trust = JSON.parse(role.inputs.assumeRolePolicy).Statement[0];
        assert.strictEqual(trust.Principal.AWS, "arn:aws:iam::123456789012:root");
        assert.deepStrictEqual(trust.Condition, { Bool: { "aws:MultiFactorAuthPresent": "true" } });
        const policy = policyOf(ofType(dev.resources, T.rolePolicy).find((p) => p.name === "ecsdev-exec")!);
        const exec = policy.Statement.find((s: any) => s.Sid === "ExecIntoIs");
        const cluster = one(dev.resources, T.cluster);
        assert.deepStrictEqual(exec.Action, ["ecs:ExecuteCommand"]);
        assert.deepStrictEqual(exec.Resource, [
            cluster.state.arn,
            `arn:aws:ecs:eu-west-1:123456789012:task/${cluster.state.name}/*`,
        ]);
        assert.deepStrictEqual(exec.Condition, { StringEquals: { "ecs:container-name": "wso2is" } });
        assert.strictEqual(dev.outputs.execRoleArn, role.state.arn);
    });

    it("task definition: host network mode on EC2, the seed's 4 vCPU, secrets only via valueFrom, EFS through access points", function () {
        const td = one(dev.resources, T.taskDefinition);
        assert.deepStrictEqual(
            [td.inputs.networkMode, td.inputs.requiresCompatibilities, td.inputs.cpu, td.inputs.memory],
            ["host", ["EC2"], "4096", "7168"],
        );
        assert.deepStrictEqual(JSON.parse(td.inputs.containerDefinitions), dev.containers);
        const secretArn = dev.outputs.databaseSecretArn as string;
        for (const c of dev.containers) {
            assert.notStrictEqual(c.privileged, true, c.name);
            for (const e of c.environment ?? [])
                assert.doesNotMatch(e.name, /PASSWORD|SECRET|TOKEN/, `${c.name} ${e.name}`);
            for (const s of c.secrets ?? []) assert.ok(s.valueFrom.startsWith(`${secretArn}:`), s.valueFrom);
        }
        assert.deepStrictEqual(
            container(dev.containers, "wso2is").secrets.map((s: any) => [
                s.name,
                s.valueFrom.slice(secretArn.length),
            ]),
            [
                ["WSO2_DB_PASSWORD", ":dbAppPassword::"],
                ["WSO2_ADMIN_PASSWORD", ":adminPassword::"],
                ["WSO2_ENCRYPTION_KEY", ":encryptionKey::"],
                ["WSO2_SIGNING_KEYSTORE_PASSWORD", ":signingKeystorePassword::"],
            ],
        );
        // The signing key pair reaches only the keystores container, which builds the PKCS#12.
        assert.deepStrictEqual(
            container(dev.containers, "keystores").secrets.map((s: any) => [
                s.name,
                s.valueFrom.slice(secretArn.length),
            ]),
            [
                ["WSO2_SIGNING_KEY", ":signingPrivateKey::"],
                ["WSO2_SIGNING_CERT", ":signingCertificate::"],
                ["WSO2_SIGNING_KEYSTORE_PASSWORD", ":signingKeystorePassword::"],
            ],
        );
        const efsVolumes = td.inputs.volumes.filter((v: any) => v.efsVolumeConfiguration);
        assert.deepStrictEqual(
            efsVolumes.map((v: any) => [
                v.name,
                v.efsVolumeConfiguration.transitEncryption,
                v.efsVolumeConfiguration.authorizationConfig.iam,
            ]),
            [
                ["userstores", "ENABLED", "ENABLED"],
                ["tenants", "ENABLED", "ENABLED"],
            ],
        );
        const aps = ofType(dev.resources, T.accessPoint).map((a) => [
            a.inputs.rootDirectory.path,
            a.inputs.posixUser.uid,
            a.inputs.rootDirectory.creationInfo.ownerUid,
        ]);
        assert.deepStrictEqual(aps.sort(), [
            ["/Tenants", 802, 802],
            ["/Userstores", 802, 802],
        ]);
        const mounts = container(dev.containers, "wso2is").mountPoints.map((m: any) => [
            m.sourceVolume,
            m.containerPath,
        ]);
        assert.deepStrictEqual(mounts.slice(2), [
            ["userstores", "/home/wso2carbon/wso2is-7.1.0/repository/deployment/server/userstores"],
            ["tenants", "/home/wso2carbon/wso2is-7.1.0/repository/tenants"],
        ]);
    });

    it("the containers run in order: config -> dbscripts -> db-init (the locked script), config -> keystores; IS waits for all", function () {
        const cs = dev.containers;
        assert.deepStrictEqual(
            cs.map((c) => [
                c.name,
                c.essential,
                (c.dependsOn ?? []).map((d: any) => `${d.containerName}:${d.condition}`),
            ]),
            [
                ["config", false, []],
                ["dbscripts", false, ["config:SUCCESS"]],
                ["db-init", false, ["dbscripts:SUCCESS"]],
                ["keystores", false, ["config:SUCCESS"]],
                ["wso2is", true, ["config:SUCCESS", "db-init:SUCCESS", "keystores:SUCCESS"]],
            ],
        );
        const env = (c: any, n: string) => c.environment.find((e: any) => e.name === n)?.value;
        const config = container(cs, "config");
        const decoded = (n: string) => Buffer.from(env(config, n), "base64").toString("utf8");
        assert.strictEqual(
            decoded("DEPLOYMENT_TOML_B64"),
            renderDeploymentToml(dev.model, dev.model.nodes[0]),
        );
        assert.strictEqual(decoded("DB_INIT_SH_B64"), standaloneScriptText("db-init.sh"));
        assert.strictEqual(decoded("BUILD_KEYSTORES_JAVA_B64"), keystoreProgramText());
        const keystores = container(cs, "keystores");
        assert.strictEqual(keystores.image, container(cs, "wso2is").image);
        assert.match(keystores.command[0], /java \/boot\/BuildKeystores\.java/);
        assert.strictEqual(
            env(keystores, "SIGNING_KEYSTORE"),
            "/out/config/repository/resources/security/wso2is-signing.p12",
        );
        assert.match(config.command[0], /sha256sum -c -/);
        assert.strictEqual(env(config, "JDBC_DRIVER_SHA256"), "a".repeat(64));
        assert.match(container(cs, "db-init").command[0], /bash \/boot\/db-init\.sh/);
        assert.strictEqual(container(cs, "db-init").image, "mysql:8.4");
    });

    it("the IS container: health check on the health API, heap from the task memory, a stop timeout for a clean Hazelcast leave", function () {
        const is = container(dev.containers, "wso2is");
        assert.match(is.healthCheck.command[1], /https:\/\/localhost:9443\/api\/health-check\/v1\.0\/health/);
        assert.strictEqual(
            is.environment.find((e: any) => e.name === "JVM_MEM_OPTS").value,
            "-Xms4288m -Xmx4288m",
        );
        assert.strictEqual(is.stopTimeout, 120);
        assert.match(is.command[0], /trap 'sh "\$WSO2_SERVER_HOME\/bin\/wso2server.sh" stop' TERM/);
        assert.strictEqual(is.linuxParameters.initProcessEnabled, true);
        assert.deepStrictEqual(
            is.portMappings.map((p: any) => [p.containerPort, p.hostPort]),
            [
                [9443, 9443],
                [5701, 5701],
            ],
        );
        // m6i.xlarge: 16 GiB -> 15 GiB task, 9 GiB heap.
        const prodIs = container(prod.containers, "wso2is");
        assert.strictEqual(prodIs.image, "123456789012.dkr.ecr.eu-west-1.amazonaws.com/wso2/wso2is:7.1.0");
        assert.strictEqual(prodIs.environment[0].value, "-Xms9216m -Xmx9216m");
        assert.strictEqual(container(dev.containers, "dbscripts").image, "wso2/wso2is:7.1.0");
    });

    it("deployment.toml: aws-ecs with the keys the kernel reads, networkInterface from the VPC's CIDR", function () {
        const toml = TOML.parse(renderDeploymentToml(dev.model, dev.model.nodes[0])) as any;
        const nodesSg = ofType(dev.resources, T.sg).find((g) => g.name === "ecsdev-nodes")!;
        assert.deepStrictEqual(toml.clustering.properties, {
            region: "eu-west-1",
            hostHeader: "ec2",
            securityGroup: nodesSg.state.name,
            tagKey: discoveryTagKey,
            tagValue: "ecsdev",
            networkInterface: "10.43.*.*",
        });
        assert.strictEqual(toml.clustering.membership_scheme, "aws-ecs");
        assert.strictEqual(toml.server.node_ip, "$env{NODE_IP}");
    });

    it("the service: behind the ALB on 9443, 100/200 rolling with the circuit breaker, spread over zones, one task per instance, ECS Exec", function () {
        const svc = one(dev.resources, T.service);
        const tg = one(dev.resources, T.tg);
        assert.deepStrictEqual(svc.inputs.loadBalancers, [
            { targetGroupArn: tg.state.arn, containerName: "wso2is", containerPort: 9443 },
        ]);
        assert.deepStrictEqual(
            [
                svc.inputs.desiredCount,
                svc.inputs.deploymentMinimumHealthyPercent,
                svc.inputs.deploymentMaximumPercent,
            ],
            [2, 100, 200],
        );
        assert.deepStrictEqual(svc.inputs.deploymentCircuitBreaker, { enable: true, rollback: true });
        assert.deepStrictEqual(svc.inputs.orderedPlacementStrategies[0], {
            type: "spread",
            field: "attribute:ecs.availability-zone",
        });
        assert.deepStrictEqual(svc.inputs.placementConstraints, [{ type: "distinctInstance" }]);
        assert.strictEqual(svc.inputs.enableExecuteCommand, true);
        assert.strictEqual(svc.inputs.launchType, undefined);
        assert.strictEqual(
            svc.inputs.capacityProviderStrategies[0].capacityProvider,
            one(dev.resources, T.capacityProvider).state.name,
        );
        // Sticky HTTPS 9443 targets registered by instance (host mode).
        assert.deepStrictEqual(
            [tg.inputs.port, tg.inputs.protocol, tg.inputs.targetType, tg.inputs.stickiness.enabled],
            [9443, "HTTPS", "instance", true],
        );
        assert.strictEqual(one(prod.resources, T.service).inputs.desiredCount, 3);
    });

    it("no secret in the task definition's plain fields, the user data or the outputs; the secret has no TLS material", function () {
        const text = JSON.stringify([
            one(dev.resources, T.taskDefinition).inputs,
            one(dev.resources, T.lt).inputs,
            dev.outputs,
        ]);
        assert.ok(!text.includes("mock-secret-"), "a generated password leaked");
        assert.deepStrictEqual(Object.keys(dev.outputs).sort(), [
            "autoScalingGroupName",
            "databaseEndpoint",
            "databaseSecretArn",
            "ecsClusterName",
            "execRoleArn",
            "hostname",
            "loadBalancerDnsName",
            "membershipScheme",
            "nodeCount",
            "nodeSecurityGroupId",
            "serviceName",
            "sharedFsId",
            "signingCertificatePem",
            "url",
        ]);
        assert.strictEqual(dev.outputs.membershipScheme, "aws-ecs");
        // The task reads exactly these JSON keys; 9443 is served from the signing keystore (no
        // [keystore.tls]: IS calls itself via the ALB).
        const version = one(dev.resources, T.secretVersion).inputs.secretString;
        const doc = JSON.parse(typeof version === "string" ? version : version.value);
        assert.deepStrictEqual(Object.keys(doc).sort(), [
            "adminPassword",
            "dbAdminPassword",
            "dbAdminUser",
            "dbAppPassword",
            "encryptionKey",
            "signingCertificate",
            "signingKeystorePassword",
            "signingPrivateKey",
        ]);
        assert.strictEqual(ofType(dev.resources, "tls:index/locallySignedCert:LocallySignedCert").length, 0);
    });

    it("protects the database and the file share in production, not in dev; production has no self-signed certificate", function () {
        const opts = (r: { seen: Map<string, any> }, type: string, name: string) =>
            r.seen.get(`${type}::${name}`);
        for (const [type, suffix] of [
            [T.rds, "db"],
            [T.efs, "efs"],
        ]) {
            assert.deepStrictEqual(
                [
                    opts({ seen: prod.options }, type, `ecsprod-${suffix}`)?.protect,
                    opts({ seen: prod.options }, type, `ecsprod-${suffix}`)?.retainOnDelete,
                ],
                [true, true],
            );
            assert.ok(!opts({ seen: dev.options }, type, `ecsdev-${suffix}`)?.protect);
        }
        const rds = one(prod.resources, T.rds);
        assert.deepStrictEqual(
            [rds.inputs.multiAz, rds.inputs.deletionProtection, rds.inputs.backupRetentionPeriod],
            [true, true, 14],
        );
        assert.strictEqual(ofType(prod.resources, T.cert).length, 0);
        assert.strictEqual(one(prod.resources, T.alb).inputs.enableDeletionProtection, true);
        assert.strictEqual(one(prod.resources, T.logGroup).inputs.retentionInDays, 90);
    });

    it("a changed IS setting changes no input of the database, the file system or its access points; the task changes", async function () {
        const stateful = [
            T.rds,
            T.efs,
            T.mountTarget,
            T.accessPoint,
            "aws:rds/parameterGroup:ParameterGroup",
        ];
        const snapshot = async (extra: Record<string, string>) => {
            const before = engine.records.length;
            await build("ecssame", extra);
            const mine = engine.records.slice(before);
            return {
                stateful: mine
                    .filter((r) => stateful.includes(r.type))
                    .map((r) => ({ type: r.type, name: r.name, inputs: r.inputs })),
                task: mine.find((r) => r.type === T.taskDefinition)!.inputs.containerDefinitions,
            };
        };
        const a = await snapshot({});
        const b = await snapshot({
            isImage: "wso2/wso2is:7.1.0-alpine",
            caching: "4",
            nodeSize: "m6i.xlarge",
        });
        assert.ok(a.stateful.length >= 6, `saw ${a.stateful.length} stateful resources`);
        assert.deepStrictEqual(b.stateful, a.stateful);
        assert.notStrictEqual(b.task, a.task);
    });

    it("a rotated secret makes a new task definition (a keyed digest in the IS container's environment)", async function () {
        const rotation = (cs: any[]) =>
            container(cs, "wso2is").environment.find((e: any) => e.name === "WSO2IS_ROTATION_DIGEST").value;
        const a = await build("ecsrot", {}, { adminPassword: "first-admin-pw" });
        const b = await build("ecsrot", {}, { adminPassword: "rotated-admin-pw" });
        const c = await build("ecsrot", { caching: "4" }, { adminPassword: "first-admin-pw" });
        assert.match(rotation(a.containers), /^[0-9a-f]{64}$/);
        assert.notStrictEqual(rotation(b.containers), rotation(a.containers));
        assert.strictEqual(
            rotation(c.containers),
            rotation(a.containers),
            "a config change is not a rotation",
        );
        assert.ok(!JSON.stringify(b.containers).includes("rotated-admin-pw"));
    });

    it("uses the platform stack's network, and derives the Hazelcast interface from its VPC's CIDR", async function () {
        setPlatformOutputs("acme/ecs-network/prod", {
            vpcId: "vpc-platform",
            privateSubnetIds: ["subnet-priv-a", "subnet-priv-b"],
            publicSubnetIds: ["subnet-pub-a", "subnet-pub-b"],
        });
        const platform = await readPlatformStack("acme/ecs-network/prod", [
            "vpcId",
            "privateSubnetIds",
            "publicSubnetIds",
        ]);
        const r = await build("ecsplat", {}, { network: networkFromPlatform(platform) });
        assert.strictEqual(ofType(r.resources, T.vpc).length, 0);
        assert.deepStrictEqual(one(r.resources, T.asg).inputs.vpcZoneIdentifiers, [
            "subnet-priv-a",
            "subnet-priv-b",
        ]);
        // The mock engine's getVpc answers 10.60.0.0/16 for a platform VPC.
        const toml = TOML.parse(renderDeploymentToml(r.model, r.model.nodes[0])) as any;
        assert.strictEqual(toml.clustering.properties.networkInterface, "10.60.*.*");
    });

    it("bad ECS config is rejected with the key, the value and the reason", function () {
        const problems = (extra: Record<string, string>) => {
            try {
                configFor("ecs", extra);
            } catch (e) {
                if (e instanceof ConfigError) return e.message;
                throw e;
            }
            return "";
        };
        assert.match(
            problems({ membership: "wka" }),
            /wso2is-cluster:membership = "wka" does not fit cloud ecs: ECS replaces tasks and container instances with new private IPs/,
        );
        assert.match(
            problems({ membership: "aws" }),
            /does not fit cloud ecs: the ECS target renders the kernel's aws-ecs scheme/,
        );
        assert.match(problems({ membership: "multicast" }), /AWS VPCs drop multicast/);
        assert.match(
            problems({ sharedFs: "nfs", sharedFsAddress: "nfs.example.com:/export" }),
            /sharedFs = "nfs" is not available on cloud ecs; allowed: efs/,
        );
        assert.match(problems({ nodeSize: "c6i.large" }), /nodeSize = "c6i.large" has 2 vCPU/);
        assert.match(
            problems({ certificate: "https://kv.vault.azure.net/secrets/tls" }),
            /must be an ACM certificate ARN/,
        );
        assert.match(
            problems({ production: "true" }),
            /certificate = "self-signed" \(the default\) is self-signed; production needs a real certificate \(an ACM certificate ARN\)/,
        );
        // aws-ecs is the default; the IS zip digest is not needed (the image carries IS).
        const c = parseConfig({ cloud: "ecs", hostname: "is.example.com", jdbcDriverSha256: "a".repeat(64) });
        assert.deepStrictEqual(
            [c.membership, c.sharedFs.kind, c.is.image],
            ["aws-ecs", "efs", "wso2/wso2is:7.1.0"],
        );
    });
});
