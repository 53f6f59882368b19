// AWS EC2 target: per-node health from the ALB target group (elbv2 DescribeTargetHealth of the
// ASG's target groups), and the seed's "shut down node 1" as a stop of IS on that instance
// through SSM Run Command (the nodes carry AmazonSSMManagedInstanceCore, components/aws/identity.ts).
//
// Why not ASG EnterStandby: our groups run min = desired = nodes (components/ec2/nodes.ts), so
// standby must either decrement desired below min (refused) or launch a replacement instance;
// both test something other than "one node dies". A stopped IS fails the target group's health
// check, and the ASG (ELB health checks) would then replace the instance, so the drill suspends
// HealthCheck and ReplaceUnhealthy for its duration, as AWS advises for exactly this
// ("Considerations for suspending processes"), and resumes only what it suspended.
import { unitPath } from "../../components/render/systemdUnit";
import { loadOptional, scriptState, serviceScript, waitFor } from "./load";
import type { NodeControl, NodeState } from "./types";

/** The calls used, with the SDK v3 output shapes (fields verify reads). */
export interface AwsApi {
    describeAutoScalingGroups(input: { AutoScalingGroupNames: string[] }): Promise<{
        AutoScalingGroups?: {
            AutoScalingGroupName?: string;
            Instances?: { InstanceId?: string; LifecycleState?: string; HealthStatus?: string }[];
            TargetGroupARNs?: string[];
            SuspendedProcesses?: { ProcessName?: string }[];
        }[];
    }>;
    describeTargetHealth(input: { TargetGroupArn: string }): Promise<{
        TargetHealthDescriptions?: {
            Target?: { Id?: string; Port?: number };
            TargetHealth?: { State?: string; Reason?: string; Description?: string };
        }[];
    }>;
    suspendProcesses(input: { AutoScalingGroupName: string; ScalingProcesses: string[] }): Promise<unknown>;
    resumeProcesses(input: { AutoScalingGroupName: string; ScalingProcesses: string[] }): Promise<unknown>;
    sendCommand(input: {
        DocumentName: string;
        InstanceIds: string[];
        Parameters: Record<string, string[]>;
        Comment?: string;
        TimeoutSeconds?: number;
    }): Promise<{ Command?: { CommandId?: string } }>;
    getCommandInvocation(input: { CommandId: string; InstanceId: string }): Promise<{
        Status?: string;
        StandardOutputContent?: string;
        StandardErrorContent?: string;
    }>;
}

export const awsPackages = [
    "@aws-sdk/client-auto-scaling",
    "@aws-sdk/client-elastic-load-balancing-v2",
    "@aws-sdk/client-ssm",
];

/** The real SDK v3 clients behind AwsApi (loaded only here). */
export async function awsApi(region: string): Promise<AwsApi> {
    const [as, elb, ssm] = await loadOptional(awsPackages, "per-node health on aws");
    const asc = new as.AutoScalingClient({ region });
    const elbc = new elb.ElasticLoadBalancingV2Client({ region });
    const ssmc = new ssm.SSMClient({ region });
    return {
        describeAutoScalingGroups: (i) => asc.send(new as.DescribeAutoScalingGroupsCommand(i)),
        describeTargetHealth: (i) => elbc.send(new elb.DescribeTargetHealthCommand(i)),
        suspendProcesses: (i) => asc.send(new as.SuspendProcessesCommand(i)),
        resumeProcesses: (i) => asc.send(new as.ResumeProcessesCommand(i)),
        sendCommand: (i) => ssmc.send(new ssm.SendCommandCommand(i)),
        getCommandInvocation: (i) => ssmc.send(new ssm.GetCommandInvocationCommand(i)),
    };
}

/** The region from an ALB DNS name (name-123.eu-west-1.elb.amazonaws.com). */
export function regionOfAlb(dnsName: string | undefined): string | undefined {
    return /\.([a-z]{2}(?:-[a-z]+)+-\d)\.elb\.amazonaws\.com(?:\.cn)?$/.exec(dnsName ?? "")?.[1];
}

const suspended = ["HealthCheck", "ReplaceUnhealthy"];
const unit = unitPath.split("/").pop()!;

export class AwsNodeControl implements NodeControl {
    readonly target = "aws";
    readonly source = "ALB target group health";
    readonly replaces = false;
    readonly lookAt: string;
    private suspendedByUs: string[] = [];

    constructor(
        private readonly api: AwsApi,
        private readonly groupName: string,
        private readonly opts: {
            pollMs?: number;
            commandTimeoutMs?: number;
            sleep?: (ms: number) => Promise<void>;
        } = {},
    ) {
        this.lookAt =
            `the target group's health reasons (aws elbv2 describe-target-health), the ASG ${groupName}'s activity, ` +
            `and on the node: journalctl -u ${unit} and IS's wso2carbon.log (through SSM Session Manager)`;
    }

    private async group() {
        const r = await this.api.describeAutoScalingGroups({ AutoScalingGroupNames: [this.groupName] });
        const g = r.AutoScalingGroups?.[0];
        if (!g) throw new Error(`Auto Scaling group ${this.groupName} not found`);
        return g;
    }

    async nodes(): Promise<NodeState[]> {
        const g = await this.group();
        const targets = new Map<string, string[]>();
        for (const arn of g.TargetGroupARNs ?? []) {
            const th = await this.api.describeTargetHealth({ TargetGroupArn: arn });
            for (const d of th.TargetHealthDescriptions ?? []) {
                const id = d.Target?.Id ?? "";
                const h = d.TargetHealth ?? {};
                const state = `${h.State ?? "unknown"}${h.Reason ? ` (${h.Reason})` : ""}`;
                targets.set(id, [...(targets.get(id) ?? []), state]);
            }
        }
        return (g.Instances ?? [])
            .filter((i) => i.InstanceId)
            .map((i) => {
                const id = i.InstanceId!;
                const states = targets.get(id);
                if (!g.TargetGroupARNs?.length) {
                    const healthy = i.LifecycleState === "InService" && i.HealthStatus === "Healthy";
                    return { id, healthy, state: `${i.LifecycleState}/${i.HealthStatus}` };
                }
                const state = states?.join(", ") ?? `not registered (${i.LifecycleState})`;
                return { id, healthy: !!states && states.every((s) => s === "healthy"), state };
            });
    }

    async prepare(): Promise<string> {
        const g = await this.group();
        const already = new Set((g.SuspendedProcesses ?? []).map((p) => p.ProcessName));
        this.suspendedByUs = suspended.filter((p) => !already.has(p));
        if (this.suspendedByUs.length) {
            await this.api.suspendProcesses({
                AutoScalingGroupName: this.groupName,
                ScalingProcesses: this.suspendedByUs,
            });
        }
        return this.suspendedByUs.length
            ? `suspended ${this.suspendedByUs.join(", ")} on ${this.groupName} (so the ASG does not replace the stopped node)`
            : `${suspended.join(", ")} already suspended on ${this.groupName}`;
    }

    async cleanup(): Promise<string | void> {
        if (!this.suspendedByUs.length) return;
        const resumed = this.suspendedByUs;
        await this.api.resumeProcesses({ AutoScalingGroupName: this.groupName, ScalingProcesses: resumed });
        this.suspendedByUs = [];
        return `resumed ${resumed.join(", ")} on ${this.groupName}`;
    }

    takeOut(id: string): Promise<string> {
        return this.runOnNode(id, "stop", ["inactive", "failed"]);
    }

    restore(id: string): Promise<string> {
        return this.runOnNode(id, "start", ["active", "activating"]);
    }

    private async runOnNode(id: string, action: "stop" | "start", want: string[]): Promise<string> {
        const sent = await this.api.sendCommand({
            DocumentName: "AWS-RunShellScript",
            InstanceIds: [id],
            Parameters: { commands: serviceScript(unit, action) },
            Comment: `wso2is-cluster verify --failover: ${action} IS`,
            TimeoutSeconds: 600,
        });
        const commandId = sent.Command?.CommandId;
        if (!commandId) throw new Error(`SSM SendCommand returned no CommandId for ${id}`);
        let result: { Status?: string; StandardOutputContent?: string; StandardErrorContent?: string } = {};
        const finished = await waitFor(
            async () => {
                try {
                    result = await this.api.getCommandInvocation({ CommandId: commandId, InstanceId: id });
                } catch (e) {
                    // Right after SendCommand the invocation may not exist yet.
                    if ((e as { name?: string }).name === "InvocationDoesNotExist") return false;
                    throw e;
                }
                return !["Pending", "InProgress", "Delayed"].includes(result.Status ?? "Pending");
            },
            this.opts.pollMs ?? 2000,
            this.opts.commandTimeoutMs ?? 300_000,
            this.opts.sleep,
        );
        const state = scriptState(result.StandardOutputContent ?? "");
        if (!finished || result.Status !== "Success" || !want.includes(state ?? "")) {
            throw new Error(
                `SSM command ${commandId} (systemctl ${action} ${unit} on ${id}) ended ${result.Status ?? "without a status"}` +
                    `${state ? `, IS ${state}` : ""}${result.StandardErrorContent ? `: ${result.StandardErrorContent.trim()}` : ""}`,
            );
        }
        return `systemctl ${action} ${unit} on ${id} through SSM (command ${commandId}): IS ${state}`;
    }
}
