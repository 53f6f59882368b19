// What the nodes' managed identities may do: get this cluster's one Key Vault secret, nothing
// else ("Key Vault Secrets User" scoped to the secret itself, not the vault). No static keys.
import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization";

/** Built-in role "Key Vault Secrets User": get and list secret contents (data plane). */
export const keyVaultSecretsUserRoleId = "4633458b-17de-408a-b874-0445c86b69e6";

export function roleDefinitionId(
    subscriptionId: pulumi.Input<string>,
    roleId: string,
): pulumi.Output<string> {
    return pulumi.interpolate`/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${roleId}`;
}

/** One role assignment per node identity: read `secretId` (the secret's ARM id) only. */
export function grantSecretRead(
    name: string,
    args: {
        principalId: pulumi.Input<string>;
        secretResourceId: pulumi.Input<string>;
        subscriptionId: pulumi.Input<string>;
    },
    parent: pulumi.Resource,
): authorization.RoleAssignment {
    return new authorization.RoleAssignment(
        name,
        {
            principalId: args.principalId,
            // A new managed identity may not have replicated yet; the type lets ARM skip the lookup.
            principalType: "ServicePrincipal",
            roleDefinitionId: roleDefinitionId(args.subscriptionId, keyVaultSecretsUserRoleId),
            scope: args.secretResourceId,
            description: "WSO2 IS node: read the cluster secret",
        },
        { parent },
    );
}
