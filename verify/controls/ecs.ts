// ECS target (issue 18): per-node health is each running task's target in the service's ALB
// target group (bridge/host mode: the container instance's EC2 id and host port; awsvpc: the
// task's ENI address), falling back to the task's container health; "shut down node 1" is
// StopTask: ECS deregisters the task (draining), stops it and the service starts a new one.
import type { AwsApi } from "./aws";
import { loadOptional } from "./load";
import type { NodeControl, NodeState } from "./types";

/** Task, the fields verify reads (ECS DescribeTasks). */
export interface EcsTask {
    taskArn?: string;
    lastStatus?: string;
    healthStatus?: string;
    containerInstanceArn?: string;
    containers?: {
        networkBindings?: { containerPort?: number; hostPort?: number }[];
        networkInterfaces?: { privateIpv4Address?: string }[];
    }[];
}

export interface EcsApi {
    describeServices(input: { cluster: string; services: string[] }): Promise<{
        services?: { loadBalancers?: { targetGroupArn?: string; containerPort?: number }[] }[];
    }>;
    listTasks(input: { cluster: string; serviceName: string; desiredStatus: "RUNNING" }): Promise<{
        taskArns?: string[];
    }>;
    describeTasks(input: { cluster: string; tasks: string[] }): Promise<{ tasks?: EcsTask[] }>;
    describeContainerInstances(input: { cluster: string; containerInstances: string[] }): Promise<{
        containerInstances?: { containerInstanceArn?: string; ec2InstanceId?: string }[];
    }>;
    stopTask(input: { cluster: string; task: string; reason: string }): Promise<unknown>;
    describeTargetHealth: AwsApi["describeTargetHealth"];
}

export const ecsPackages = ["@aws-sdk/client-ecs", "@aws-sdk/client-elastic-load-balancing-v2"];

export async function ecsApi(region: string): Promise<EcsApi> {
    const [ecs, elb] = await loadOptional(ecsPackages, "per-node health on ecs");
    const c = new ecs.ECSClient({ region });
    const e = new elb.ElasticLoadBalancingV2Client({ region });
    return {
        describeServices: (i) => c.send(new ecs.DescribeServicesCommand(i)),
        listTasks: (i) => c.send(new ecs.ListTasksCommand(i)),
        describeTasks: (i) => c.send(new ecs.DescribeTasksCommand(i)),
        describeContainerInstances: (i) => c.send(new ecs.DescribeContainerInstancesCommand(i)),
        stopTask: (i) => c.send(new ecs.StopTaskCommand(i)),
        describeTargetHealth: (i) => e.send(new elb.DescribeTargetHealthCommand(i)),
    };
}

const taskId = (arn: string) => arn.split("/").pop() ?? arn;

export class EcsNodeControl implements NodeControl {
    readonly target = "ecs";
    readonly source: string = "ECS tasks and their ALB target health";
    readonly replaces = true;
    readonly lookAt: string;

    constructor(
        private readonly api: EcsApi,
        private readonly cluster: string,
        private readonly service: string,
    ) {
        this.lookAt = `aws ecs describe-services --cluster ${cluster} --services ${service} (events), the stopped tasks' stoppedReason, and the task logs`;
    }

    async nodes(): Promise<NodeState[]> {
        const svc = (await this.api.describeServices({ cluster: this.cluster, services: [this.service] }))
            .services?.[0];
        if (!svc) throw new Error(`ECS service ${this.service} not found in cluster ${this.cluster}`);
        const arns =
            (
                await this.api.listTasks({
                    cluster: this.cluster,
                    serviceName: this.service,
                    desiredStatus: "RUNNING",
                })
            ).taskArns ?? [];
        if (!arns.length) return [];
        const tasks = (await this.api.describeTasks({ cluster: this.cluster, tasks: arns })).tasks ?? [];
        const lb = svc.loadBalancers?.find((l) => l.targetGroupArn);
        if (!lb?.targetGroupArn) {
            return tasks.map((t) => ({
                id: taskId(t.taskArn ?? "?"),
                healthy: t.lastStatus === "RUNNING" && t.healthStatus === "HEALTHY",
                state: `${t.lastStatus}/${t.healthStatus}`,
            }));
        }
        const ciArns = [...new Set(tasks.map((t) => t.containerInstanceArn).filter((a): a is string => !!a))];
        const ec2Of = new Map<string, string>();
        if (ciArns.length) {
            const ci = await this.api.describeContainerInstances({
                cluster: this.cluster,
                containerInstances: ciArns,
            });
            for (const c of ci.containerInstances ?? [])
                if (c.containerInstanceArn && c.ec2InstanceId)
                    ec2Of.set(c.containerInstanceArn, c.ec2InstanceId);
        }
        const th = await this.api.describeTargetHealth({ TargetGroupArn: lb.targetGroupArn });
        const health = new Map<string, string>();
        for (const d of th.TargetHealthDescriptions ?? [])
            health.set(
                `${d.Target?.Id}:${d.Target?.Port}`,
                `${d.TargetHealth?.State}${d.TargetHealth?.Reason ? ` (${d.TargetHealth.Reason})` : ""}`,
            );
        return tasks.map((t) => {
            const containers = t.containers ?? [];
            const ip = containers
                .flatMap((c) => c.networkInterfaces ?? [])
                .find((n) => n.privateIpv4Address)?.privateIpv4Address;
            const binding = containers
                .flatMap((c) => c.networkBindings ?? [])
                .find((b) => b.containerPort === lb.containerPort);
            const key = ip
                ? `${ip}:${lb.containerPort}`
                : `${ec2Of.get(t.containerInstanceArn ?? "")}:${binding?.hostPort ?? lb.containerPort}`;
            const state = health.get(key);
            return {
                id: taskId(t.taskArn ?? "?"),
                healthy: t.lastStatus === "RUNNING" && state === "healthy",
                state: `${t.lastStatus}, target ${key} ${state ?? "not registered"}`,
            };
        });
    }

    async takeOut(id: string): Promise<string> {
        await this.api.stopTask({
            cluster: this.cluster,
            task: id,
            reason: "wso2is-cluster verify --failover",
        });
        return `stopped task ${id} in ${this.cluster} (ECS drains its target; the service ${this.service} starts a new task)`;
    }

    async restore(_id: string): Promise<string> {
        return "nothing to restore: the service replaces the stopped task";
    }
}
