// ECS policies: task definitions run no privileged container and carry no plain secret in a
// container's environment (secrets come through `secrets`/`valueFrom`). IMDSv2 on the
// container instances is aws-ec2-imdsv2-required (every launch template); zone spread of the
// IS service is part of wso2is-zone-spread (policy/stack.ts).
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { findSecrets, isPlaceholder, isSecretKeyName } from "./secrets";
import { Props, about, asArray, forTypes, isObject } from "./util";

export const T = {
    taskDefinition: "aws:ecs/taskDefinition:TaskDefinition",
    service: "aws:ecs/service:Service",
} as const;

/** A task definition's containers: its containerDefinitions JSON, parsed (none while unknown). */
export function containersOf(props: Props): Props[] {
    const raw = props.containerDefinitions;
    let list: unknown = raw;
    if (typeof raw === "string") {
        try {
            list = JSON.parse(raw);
        } catch {
            return [];
        }
    }
    return asArray<Props>(list).filter(isObject);
}

/** Environment values ending _B64 are files handed to a container; decode them to scan them. */
function decodedB64(name: string, value: string): string | undefined {
    if (!/_B64$/.test(name) || !/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return undefined;
    return Buffer.from(value, "base64").toString("utf8");
}

/** Linux capabilities that amount to root on the host. */
const dangerousCapabilities = new Set([
    "ALL",
    "SYS_ADMIN",
    "NET_ADMIN",
    "SYS_PTRACE",
    "SYS_MODULE",
    "DAC_READ_SEARCH",
]);

export const ecsNoPrivilegedContainers: ResourceValidationPolicy = {
    ...about("aws-ecs-no-privileged-containers", "mandatory", "critical", "aws security compute"),
    description:
        "No container of an ECS task definition is privileged or adds host-level capabilities (SYS_ADMIN, NET_ADMIN, ALL, ...).",
    validateResource: forTypes([T.taskDefinition], (props, _args, report) => {
        for (const c of containersOf(props)) {
            const name = String(c.name ?? "(unnamed)");
            if (c.privileged === true) report(`container ${name} is privileged: set privileged: false.`);
            const lp = isObject(c.linuxParameters) ? c.linuxParameters : {};
            const added = asArray<string>(isObject(lp.capabilities) ? lp.capabilities.add : undefined);
            const bad = added.filter((cap) => dangerousCapabilities.has(String(cap).toUpperCase()));
            if (bad.length > 0)
                report(
                    `container ${name} adds ${bad.join(", ")}: drop them (they give the container the host).`,
                );
        }
    }),
};

export const ecsNoPlaintextSecrets: ResourceValidationPolicy = {
    ...about("aws-ecs-no-plaintext-secrets", "mandatory", "critical", "aws security secrets"),
    description:
        "No plain secret in an ECS container's environment (which the task definition shows to anyone who can describe it): secrets come through `secrets` with valueFrom (Secrets Manager or SSM), files handed over in *_B64 variables hold only $env{...} placeholders.",
    validateResource: forTypes([T.taskDefinition], (props, _args, report) => {
        for (const c of containersOf(props)) {
            const container = String(c.name ?? "(unnamed)");
            for (const e of asArray<Props>(c.environment).filter(isObject)) {
                const name = String(e.name ?? "");
                const value = typeof e.value === "string" ? e.value : "";
                if (isSecretKeyName(name) && !isPlaceholder(value)) {
                    report(
                        `container ${container}: environment ${name} holds a literal value; move it to secrets (valueFrom a Secrets Manager ARN).`,
                    );
                    continue;
                }
                const text = decodedB64(name, value) ?? `${name}=${value}`;
                for (const f of findSecrets(text))
                    report(
                        `container ${container}: environment ${name}${f.line && decodedB64(name, value) ? ` line ${f.line}` : ""} holds ${f.what}; use secrets with valueFrom.`,
                    );
            }
        }
    }),
};

export const ecsPolicies = [ecsNoPrivilegedContainers, ecsNoPlaintextSecrets];
