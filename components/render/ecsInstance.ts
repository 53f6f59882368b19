// cloud-init user-data (#cloud-config) of an ECS container instance (ECS-optimised Amazon
// Linux 2023): only the ECS agent's settings. IS and its files arrive in the task definition,
// never here, so this holds no secret and no IS configuration.
import * as YAML from "yaml";
import { cloudConfigHeader } from "./cloudInit";

/** MiB the agent keeps back from tasks for the OS and itself. */
export const ecsReservedMemoryMiB = 256;

export interface EcsAgentSettings {
    /** The ECS cluster the instance registers with. */
    clusterName: string;
    /** Seconds the agent waits between SIGTERM and SIGKILL when it stops a container. */
    stopTimeoutSeconds: number;
}

/**
 * /etc/ecs/ecs.config (ECS agent README). Task roles must be on for host-network tasks
 * (ECS_ENABLE_TASK_IAM_ROLE_NETWORK_HOST): Hazelcast's discovery takes the task role's
 * credentials from the agent's credential endpoint. Memory is reserved for the OS and agent.
 */
export function renderEcsConfig(s: EcsAgentSettings): string {
    if (!/^[A-Za-z0-9_-]{1,255}$/.test(s.clusterName))
        throw new Error(`ECS cluster name ${JSON.stringify(s.clusterName)} is not a valid cluster name`);
    return [
        `ECS_CLUSTER=${s.clusterName}`,
        "ECS_ENABLE_TASK_IAM_ROLE=true",
        "ECS_ENABLE_TASK_IAM_ROLE_NETWORK_HOST=true",
        `ECS_CONTAINER_STOP_TIMEOUT=${s.stopTimeoutSeconds}s`,
        `ECS_RESERVED_MEMORY=${ecsReservedMemoryMiB}`,
        "",
    ].join("\n");
}

export function renderEcsInstanceCloudInit(s: EcsAgentSettings): string {
    const doc = {
        write_files: [
            {
                path: "/etc/ecs/ecs.config",
                content: renderEcsConfig(s),
                owner: "root:root",
                permissions: "0644",
            },
        ],
    };
    return `${cloudConfigHeader}\n${YAML.stringify(doc, { lineWidth: 0 })}`;
}
