// The per-target node controls against fake clients. The fakes are STAND-INS for the cloud
// APIs: they answer with the response shapes the APIs document (field names and enum values
// from the AWS API reference / SDK v3 output types, the Azure network & compute REST models,
// the Kubernetes V1Pod), recorded below, and log every call so the tests can check what a
// drill would do to a real cluster.
import * as assert from "assert";
import { AksNodeControl, KubeApi, Pod, labelSelector } from "../../verify/controls/aks";
import { AwsApi, AwsNodeControl, regionOfAlb } from "../../verify/controls/aws";
import {
    AzureApi,
    AzureBackendHealth,
    AzureNodeControl,
    AzureResource,
    clusterTagKey,
    resourceGroupOf,
} from "../../verify/controls/azure";
import { EcsApi, EcsNodeControl } from "../../verify/controls/ecs";
import { loadOptional, scriptState, serviceScript } from "../../verify/controls/load";
import { MissingDependency } from "../../verify/controls/types";

const tgArn =
    "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/wso2is-dev-tg/73e2d6bc24d8a067";

/** DescribeAutoScalingGroups output (SDK v3), two InService instances. */
function asgOutput(suspendedProcesses: string[] = []) {
    return {
        AutoScalingGroups: [
            {
                AutoScalingGroupName: "wso2is-dev-nodes-4f2a",
                MinSize: 2,
                MaxSize: 4,
                DesiredCapacity: 2,
                Instances: [
                    {
                        InstanceId: "i-0a1b2c3d4e5f60001",
                        AvailabilityZone: "eu-west-1a",
                        LifecycleState: "InService",
                        HealthStatus: "Healthy",
                        ProtectedFromScaleIn: false,
                    },
                    {
                        InstanceId: "i-0a1b2c3d4e5f60002",
                        AvailabilityZone: "eu-west-1b",
                        LifecycleState: "InService",
                        HealthStatus: "Healthy",
                        ProtectedFromScaleIn: false,
                    },
                ],
                TargetGroupARNs: [tgArn],
                HealthCheckType: "ELB",
                SuspendedProcesses: suspendedProcesses.map((p) => ({
                    ProcessName: p,
                    SuspensionReason: "User suspended at 2026-12-02T03:00:00Z",
                })),
            },
        ],
    };
}

/** DescribeTargetHealth output: states and reasons as the ELBv2 API reference lists them. */
function targetHealth(second: { State: string; Reason?: string; Description?: string }) {
    return {
        TargetHealthDescriptions: [
            {
                Target: { Id: "i-0a1b2c3d4e5f60001", Port: 9443 },
                HealthCheckPort: "9443",
                TargetHealth: { State: "healthy" },
            },
            {
                Target: { Id: "i-0a1b2c3d4e5f60002", Port: 9443 },
                HealthCheckPort: "9443",
                TargetHealth: second,
            },
        ],
    };
}

function fakeAws(
    opts: {
        suspended?: string[];
        second?: { State: string; Reason?: string };
        ssmStatus?: string;
        ssmOut?: string;
    } = {},
) {
    const calls: string[] = [];
    let invocations = 0;
    const api: AwsApi = {
        describeAutoScalingGroups: async (i) => (
            calls.push(`describeAutoScalingGroups ${i.AutoScalingGroupNames}`),
            asgOutput(opts.suspended)
        ),
        describeTargetHealth: async (i) => (
            calls.push(`describeTargetHealth ${i.TargetGroupArn}`),
            targetHealth(opts.second ?? { State: "healthy" })
        ),
        suspendProcesses: async (i) => calls.push(`suspendProcesses ${i.ScalingProcesses.join(",")}`),
        resumeProcesses: async (i) => calls.push(`resumeProcesses ${i.ScalingProcesses.join(",")}`),
        sendCommand: async (i) => {
            calls.push(
                `sendCommand ${i.DocumentName} ${i.InstanceIds} ${JSON.stringify(i.Parameters.commands)}`,
            );
            return {
                Command: {
                    CommandId: "d8d190fc-32c1-4d65-a0df-ff5ff3965524",
                    DocumentName: i.DocumentName,
                    Status: "Pending",
                },
            };
        },
        getCommandInvocation: async (i) => {
            calls.push(`getCommandInvocation ${i.CommandId} ${i.InstanceId}`);
            invocations++;
            // Real SSM: right after SendCommand the invocation may not exist yet.
            if (invocations === 1)
                throw Object.assign(new Error("InvocationDoesNotExist"), { name: "InvocationDoesNotExist" });
            if (invocations === 2) return { Status: "InProgress", StatusDetails: "InProgress" };
            return {
                Status: opts.ssmStatus ?? "Success",
                ResponseCode: 0,
                StandardOutputContent: opts.ssmOut ?? "wso2is-state=inactive\n",
                StandardErrorContent: "",
            };
        },
    };
    return { api, calls };
}

const noSleep = async () => {};

describe("verify/controls: aws (ASG + ALB target health + SSM)", () => {
    it("reads per-node health from the target group of the ASG", async () => {
        const { api } = fakeAws({ second: { State: "unhealthy", Reason: "Target.Timeout" } });
        const c = new AwsNodeControl(api, "wso2is-dev-nodes-4f2a");
        assert.deepStrictEqual(await c.nodes(), [
            { id: "i-0a1b2c3d4e5f60001", healthy: true, state: "healthy" },
            { id: "i-0a1b2c3d4e5f60002", healthy: false, state: "unhealthy (Target.Timeout)" },
        ]);
        assert.strictEqual(c.replaces, false);
    });

    it("counts draining and unused targets as out of rotation", async () => {
        for (const s of [
            { State: "draining", Reason: "Target.DeregistrationInProgress" },
            { State: "unused", Reason: "Target.NotInUse" },
            { State: "initial", Reason: "Elb.RegistrationInProgress" },
        ]) {
            const { api } = fakeAws({ second: s });
            const nodes = await new AwsNodeControl(api, "g").nodes();
            assert.strictEqual(nodes[1].healthy, false, s.State);
        }
    });

    it("stops IS through SSM AWS-RunShellScript and waits for the invocation, retrying InvocationDoesNotExist", async () => {
        const { api, calls } = fakeAws();
        const c = new AwsNodeControl(api, "g", { pollMs: 1, sleep: noSleep });
        const did = await c.takeOut("i-0a1b2c3d4e5f60002");
        assert.match(
            did,
            /systemctl stop wso2is\.service on i-0a1b2c3d4e5f60002 through SSM \(command d8d190fc-.*\): IS inactive/,
        );
        assert.deepStrictEqual(calls, [
            `sendCommand AWS-RunShellScript i-0a1b2c3d4e5f60002 ${JSON.stringify(serviceScript("wso2is.service", "stop"))}`,
            "getCommandInvocation d8d190fc-32c1-4d65-a0df-ff5ff3965524 i-0a1b2c3d4e5f60002",
            "getCommandInvocation d8d190fc-32c1-4d65-a0df-ff5ff3965524 i-0a1b2c3d4e5f60002",
            "getCommandInvocation d8d190fc-32c1-4d65-a0df-ff5ff3965524 i-0a1b2c3d4e5f60002",
        ]);
    });

    it("fails clearly when the SSM command fails or IS is in the wrong state", async () => {
        const failed = fakeAws({ ssmStatus: "Failed", ssmOut: "" });
        await assert.rejects(
            new AwsNodeControl(failed.api, "g", { pollMs: 1, sleep: noSleep }).takeOut("i-1"),
            /SSM command d8d190fc-.* \(systemctl stop wso2is\.service on i-1\) ended Failed/,
        );
        const stillUp = fakeAws({ ssmOut: "wso2is-state=active\n" });
        await assert.rejects(
            new AwsNodeControl(stillUp.api, "g", { pollMs: 1, sleep: noSleep }).takeOut("i-1"),
            /ended Success, IS active/,
        );
        const started = fakeAws({ ssmOut: "wso2is-state=active\n" });
        assert.match(
            await new AwsNodeControl(started.api, "g", { pollMs: 1, sleep: noSleep }).restore("i-1"),
            /systemctl start .*IS active/,
        );
    });

    it("suspends HealthCheck and ReplaceUnhealthy for the drill and resumes only what it suspended", async () => {
        const { api, calls } = fakeAws({ suspended: ["HealthCheck", "AZRebalance"] });
        const c = new AwsNodeControl(api, "g");
        assert.match((await c.prepare()) ?? "", /suspended ReplaceUnhealthy on g/);
        assert.match((await c.cleanup()) ?? "", /resumed ReplaceUnhealthy on g/);
        assert.strictEqual(await c.cleanup(), undefined, "a second cleanup resumes nothing");
        assert.deepStrictEqual(
            calls.filter((x) => /Processes/.test(x)),
            ["suspendProcesses ReplaceUnhealthy", "resumeProcesses ReplaceUnhealthy"],
        );
    });

    it("reads the region from the ALB's DNS name", () => {
        assert.strictEqual(regionOfAlb("wso2is-dev-alb-1234567890.eu-west-1.elb.amazonaws.com"), "eu-west-1");
        assert.strictEqual(regionOfAlb("internal-x-1.us-gov-west-1.elb.amazonaws.com"), "us-gov-west-1");
        assert.strictEqual(regionOfAlb("is.example.com"), undefined);
    });
});

/** VirtualMachines.listAll items: ids carry the resource group; tags as the component sets them. */
const vms: (AzureResource & { location?: string })[] = [
    {
        id: "/subscriptions/0000/resourceGroups/wso2is-azure-dev-rg1234/providers/Microsoft.Compute/virtualMachines/wso2is-azure-dev-node-1",
        name: "wso2is-azure-dev-node-1",
        location: "westeurope",
        tags: { "wso2is-cluster": "wso2is-azure-dev", "managed-by": "pulumi" },
    },
    {
        id: "/subscriptions/0000/resourceGroups/wso2is-azure-dev-rg1234/providers/Microsoft.Compute/virtualMachines/wso2is-azure-dev-node-2",
        name: "wso2is-azure-dev-node-2",
        location: "westeurope",
        tags: { "wso2is-cluster": "wso2is-azure-dev", "managed-by": "pulumi" },
    },
    {
        id: "/subscriptions/0000/resourceGroups/other/providers/Microsoft.Compute/virtualMachines/other-node-1",
        name: "other-node-1",
        tags: { "wso2is-cluster": "wso2is-other" },
    },
];

/** ApplicationGatewayBackendHealth: health is "Up" | "Down" | "Unknown" | "Partial" | "Draining". */
function backendHealth(second: string, log?: string): AzureBackendHealth {
    const pool =
        "/subscriptions/0000/resourceGroups/wso2is-azure-dev-rg1234/providers/Microsoft.Network/applicationGateways/wso2is-azure-dev-appgw/backendAddressPools/nodes";
    return {
        backendAddressPools: [
            {
                backendAddressPool: { id: pool },
                backendHttpSettingsCollection: [
                    {
                        backendHttpSettings: {
                            id: `${pool.replace("backendAddressPools/nodes", "backendHttpSettingsCollection/is-https")}`,
                        },
                        servers: [
                            {
                                address: "10.0.1.4",
                                health: "Up",
                                healthProbeLog: "Success. Received 200 status code",
                            },
                            { address: "10.0.1.5", health: second, healthProbeLog: log },
                        ],
                    },
                ],
            },
        ],
    };
}

function fakeAzure(opts: { second?: string; runMessage?: string } = {}) {
    const calls: string[] = [];
    const api: AzureApi = {
        listVirtualMachines: async () => (calls.push("listVirtualMachines"), vms),
        listApplicationGateways: async (rg) => {
            calls.push(`listApplicationGateways ${rg}`);
            return [
                {
                    id: `/subscriptions/0000/resourceGroups/${rg}/providers/Microsoft.Network/applicationGateways/wso2is-azure-dev-appgw`,
                    name: "wso2is-azure-dev-appgw",
                    tags: { "wso2is-cluster": "wso2is-azure-dev" },
                },
            ];
        },
        backendHealth: async (rg, gw) => (
            calls.push(`backendHealth ${rg} ${gw}`),
            backendHealth(
                opts.second ?? "Up",
                "Time taken by the backend to respond to the probe exceeded the timeout",
            )
        ),
        runShellScript: async (rg, vm, script) => {
            calls.push(`runShellScript ${rg} ${vm} ${JSON.stringify(script)}`);
            // RunCommandResult: value[0].message carries stdout/stderr in this layout.
            return {
                value: [
                    {
                        code: "ProvisioningState/succeeded",
                        level: "Info",
                        displayStatus: "Provisioning succeeded",
                        message:
                            opts.runMessage ??
                            "Enable succeeded: \n[stdout]\nwso2is-state=inactive\n\n[stderr]\n",
                    },
                ],
            };
        },
    };
    return { api, calls };
}

describe("verify/controls: azure (Application Gateway backend health + Run Command)", () => {
    it("finds the VMs by the cluster tag and the gateway in their group, and maps nodeIps to VMs", async () => {
        const { api, calls } = fakeAzure({ second: "Down" });
        const c = new AzureNodeControl(api, "wso2is-azure-dev", ["10.0.1.4", "10.0.1.5"]);
        assert.deepStrictEqual(await c.nodes(), [
            { id: "wso2is-azure-dev-node-1", healthy: true, state: "10.0.1.4 Up" },
            { id: "wso2is-azure-dev-node-2", healthy: false, state: "10.0.1.5 Down" },
        ]);
        await c.nodes();
        assert.deepStrictEqual(
            calls,
            [
                "listVirtualMachines",
                "listApplicationGateways wso2is-azure-dev-rg1234",
                "backendHealth wso2is-azure-dev-rg1234 wso2is-azure-dev-appgw",
                "backendHealth wso2is-azure-dev-rg1234 wso2is-azure-dev-appgw",
            ],
            "the VMs and gateway are looked up once",
        );
        for (const h of ["Draining", "Unknown", "Partial"]) {
            const nodes = await new AzureNodeControl(fakeAzure({ second: h }).api, "wso2is-azure-dev", [
                "10.0.1.4",
                "10.0.1.5",
            ]).nodes();
            assert.strictEqual(nodes[1].healthy, false, h);
        }
    });

    it("stops and starts IS through Run Command (RunShellScript) and checks the state it printed", async () => {
        const { api, calls } = fakeAzure();
        const c = new AzureNodeControl(api, "wso2is-azure-dev", ["10.0.1.4", "10.0.1.5"]);
        assert.match(
            await c.takeOut("wso2is-azure-dev-node-2"),
            /systemctl stop wso2is\.service on wso2is-azure-dev-node-2 through Run Command: IS inactive/,
        );
        assert.ok(
            calls.includes(
                `runShellScript wso2is-azure-dev-rg1234 wso2is-azure-dev-node-2 ${JSON.stringify(serviceScript("wso2is.service", "stop"))}`,
            ),
        );
        const notStarted = fakeAzure({
            runMessage:
                "Enable succeeded: \n[stdout]\nwso2is-state=failed\n\n[stderr]\nJob for wso2is.service failed",
        });
        await assert.rejects(
            new AzureNodeControl(notStarted.api, "wso2is-azure-dev", ["10.0.1.4", "10.0.1.5"]).restore(
                "wso2is-azure-dev-node-2",
            ),
            /Run Command on wso2is-azure-dev-node-2 \(systemctl start wso2is\.service\): IS failed/,
        );
    });

    it("names the tag when no VM carries it", async () => {
        const { api } = fakeAzure();
        await assert.rejects(
            new AzureNodeControl(api, "wso2is-prod", ["10.0.1.4"]).nodes(),
            /no VM tagged wso2is-cluster=wso2is-prod .*--cluster-name/,
        );
        assert.strictEqual(resourceGroupOf(vms[0].id), "wso2is-azure-dev-rg1234");
    });
});

/** V1Pod as the API returns it (JSON; client-node turns timestamps into Dates). */
function pod(name: string, ready: boolean, deleting = false): Pod {
    return {
        metadata: { name, ...(deleting ? { deletionTimestamp: "2026-12-02T03:10:00Z" } : {}) },
        spec: { nodeName: "aks-is-12345678-vmss000000" },
        status: {
            phase: "Running",
            conditions: [
                { type: "Initialized", status: "True" },
                { type: "Ready", status: ready ? "True" : "False" },
                { type: "ContainersReady", status: ready ? "True" : "False" },
                { type: "PodScheduled", status: "True" },
            ],
        },
    };
}

describe("verify/controls: aks (pod readiness + delete a pod)", () => {
    it("lists the IS pods by the workload's selector; a terminating pod is out of rotation", async () => {
        const calls: string[] = [];
        const api: KubeApi = {
            context: "wso2is-aks-dev",
            listPods: async (ns, sel) => (
                calls.push(`list ${ns} ${sel}`),
                {
                    items: [
                        pod("wso2is-7d9f-a", true),
                        pod("wso2is-7d9f-b", true, true),
                        pod("wso2is-7d9f-c", false),
                    ],
                }
            ),
            deletePod: async (ns, name) => calls.push(`delete ${ns} ${name}`),
        };
        const c = new AksNodeControl(api, "wso2is");
        assert.deepStrictEqual(await c.nodes(), [
            { id: "wso2is-7d9f-a", healthy: true, state: "Ready" },
            { id: "wso2is-7d9f-b", healthy: false, state: "Terminating" },
            { id: "wso2is-7d9f-c", healthy: false, state: "NotReady (Running)" },
        ]);
        assert.strictEqual(labelSelector, "app.kubernetes.io/name=wso2is");
        assert.match(await c.takeOut("wso2is-7d9f-a"), /deleted pod wso2is\/wso2is-7d9f-a/);
        assert.match(await c.restore("wso2is-7d9f-a"), /nothing to restore/);
        assert.deepStrictEqual(calls, [
            "list wso2is app.kubernetes.io/name=wso2is",
            "delete wso2is wso2is-7d9f-a",
        ]);
        assert.strictEqual(c.replaces, true);
        assert.match(c.source, /context wso2is-aks-dev/);
    });
});

describe("verify/controls: ecs (tasks + target health + StopTask)", () => {
    const cluster = "wso2is-ecs-dev";
    const arn = (id: string) => `arn:aws:ecs:eu-west-1:123456789012:task/${cluster}/${id}`;
    const ci = (n: number) => `arn:aws:ecs:eu-west-1:123456789012:container-instance/${cluster}/ci${n}`;
    function fake(second: string) {
        const calls: string[] = [];
        const api: EcsApi = {
            describeServices: async () => ({
                services: [
                    {
                        serviceName: "wso2is",
                        desiredCount: 2,
                        runningCount: 2,
                        loadBalancers: [
                            { targetGroupArn: tgArn, containerName: "wso2is", containerPort: 9443 },
                        ],
                    },
                ],
            }),
            listTasks: async (i) => (
                calls.push(`listTasks ${i.serviceName} ${i.desiredStatus}`),
                { taskArns: [arn("1111"), arn("2222")] }
            ),
            describeTasks: async () => ({
                tasks: [
                    // bridge mode: host port bindings on the container instance
                    {
                        taskArn: arn("1111"),
                        lastStatus: "RUNNING",
                        desiredStatus: "RUNNING",
                        healthStatus: "HEALTHY",
                        containerInstanceArn: ci(1),
                        containers: [
                            {
                                name: "wso2is",
                                networkBindings: [
                                    {
                                        bindIP: "0.0.0.0",
                                        containerPort: 9443,
                                        hostPort: 9443,
                                        protocol: "tcp",
                                    },
                                ],
                                networkInterfaces: [],
                            },
                        ],
                    },
                    {
                        taskArn: arn("2222"),
                        lastStatus: "RUNNING",
                        desiredStatus: "RUNNING",
                        healthStatus: "HEALTHY",
                        containerInstanceArn: ci(2),
                        containers: [
                            {
                                name: "wso2is",
                                networkBindings: [
                                    {
                                        bindIP: "0.0.0.0",
                                        containerPort: 9443,
                                        hostPort: 9443,
                                        protocol: "tcp",
                                    },
                                ],
                                networkInterfaces: [],
                            },
                        ],
                    },
                ],
            }),
            describeContainerInstances: async () => ({
                containerInstances: [
                    { containerInstanceArn: ci(1), ec2InstanceId: "i-0a1b2c3d4e5f60001" },
                    { containerInstanceArn: ci(2), ec2InstanceId: "i-0a1b2c3d4e5f60002" },
                ],
            }),
            describeTargetHealth: async () =>
                targetHealth({
                    State: second,
                    Reason: second === "draining" ? "Target.DeregistrationInProgress" : undefined,
                }),
            stopTask: async (i) => calls.push(`stopTask ${i.cluster} ${i.task} ${i.reason}`),
        };
        return { api, calls };
    }

    it("maps each task to its target (instance id + host port) and reads its health", async () => {
        const { api } = fake("draining");
        const c = new EcsNodeControl(api, cluster, "wso2is");
        assert.deepStrictEqual(await c.nodes(), [
            { id: "1111", healthy: true, state: "RUNNING, target i-0a1b2c3d4e5f60001:9443 healthy" },
            {
                id: "2222",
                healthy: false,
                state: "RUNNING, target i-0a1b2c3d4e5f60002:9443 draining (Target.DeregistrationInProgress)",
            },
        ]);
    });

    it("stops one task with a reason; the service replaces it", async () => {
        const { api, calls } = fake("healthy");
        const c = new EcsNodeControl(api, cluster, "wso2is");
        assert.match(await c.takeOut("1111"), /stopped task 1111 in wso2is-ecs-dev/);
        assert.deepStrictEqual(calls, ["stopTask wso2is-ecs-dev 1111 wso2is-cluster verify --failover"]);
        assert.strictEqual(c.replaces, true);
    });
});

describe("verify/controls: optional SDKs", () => {
    it("a missing SDK names the npm package(s) to install", async () => {
        await assert.rejects(
            loadOptional(["path", "@aws-sdk/client-not-a-real-package-i19"], "per-node health on aws"),
            (e: Error) =>
                e instanceof MissingDependency &&
                /per-node health on aws needs the npm package @aws-sdk\/client-not-a-real-package-i19 .*npm install --no-save @aws-sdk\/client-not-a-real-package-i19$/.test(
                    e.message,
                ),
        );
        const [p] = await loadOptional(["path"], "x");
        assert.strictEqual(typeof p.join, "function");
    });

    it("the node script prints the state systemd reports", () => {
        assert.deepStrictEqual(serviceScript("wso2is.service", "stop"), [
            "systemctl stop wso2is.service",
            'echo "wso2is-state=$(systemctl is-active wso2is.service)"',
        ]);
        assert.strictEqual(scriptState("Enable succeeded: \n[stdout]\nwso2is-state=inactive\n"), "inactive");
        assert.strictEqual(scriptState("nothing"), undefined);
    });
});

describe("verify/controls: names shared with the components", () => {
    it("finds Azure VMs by the tag the VM target puts on them", () => {
        const { clusterTagKey: componentTag } = require("../../components/azure-vm") as {
            clusterTagKey: string;
        };
        assert.strictEqual(clusterTagKey, componentTag);
    });
});
