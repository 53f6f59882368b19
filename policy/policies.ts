// Every policy of the pack, for policy/index.ts (the pack) and for the tests, which import this
// module and never index.ts (`new PolicyPack` starts a gRPC server; a second one exits).
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { awsPolicies } from "./aws";
import { azurePolicies } from "./azure";
import { ecsPolicies } from "./ecs";
import { keyPolicies } from "./keys";
import { kubernetesPolicies } from "./kubernetes";
import { stackPolicies } from "./stack";

export type Policy = ResourceValidationPolicy | StackValidationPolicy;

export const policies: Policy[] = [
    ...awsPolicies,
    ...ecsPolicies,
    ...azurePolicies,
    ...kubernetesPolicies,
    ...stackPolicies,
    ...keyPolicies,
];

/** Policies that are advisory by default and mandatory with policy/config.production.json. */
export const productionEscalated: string[] = policies
    .filter((p) => p.enforcementLevel === "advisory")
    .map((p) => p.name);

/** Policies whose configSchema has a `production` switch. */
export const productionAware: string[] = policies
    .filter((p) => p.configSchema?.properties?.production !== undefined)
    .map((p) => p.name);

export { awsPolicies, azurePolicies, ecsPolicies, keyPolicies, kubernetesPolicies, stackPolicies };
