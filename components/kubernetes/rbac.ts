// Hazelcast's Kubernetes discovery lists the members through the API: get/list on endpoints,
// endpointslices and pods in this namespace only.
import * as pulumi from "@pulumi/pulumi";
import * as core from "@pulumi/kubernetes/core/v1";
import * as rbac from "@pulumi/kubernetes/rbac/v1";
import { labels } from "./names";

export function createRbac(
    name: string,
    namespace: pulumi.Input<string>,
    opts: pulumi.CustomResourceOptions,
): core.ServiceAccount {
    const serviceAccount = new core.ServiceAccount(
        `${name}-sa`,
        {
            metadata: { name: "wso2is", namespace, labels },
            automountServiceAccountToken: true,
        },
        opts,
    );
    const role = new rbac.Role(
        `${name}-discovery`,
        {
            metadata: { name: "wso2is-hazelcast-discovery", namespace, labels },
            rules: [
                { apiGroups: [""], resources: ["endpoints", "pods"], verbs: ["get", "list"] },
                { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["get", "list"] },
            ],
        },
        opts,
    );
    new rbac.RoleBinding(
        `${name}-discovery`,
        {
            metadata: { name: "wso2is-hazelcast-discovery", namespace, labels },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
            subjects: [{ kind: "ServiceAccount", name: serviceAccount.metadata.name, namespace }],
        },
        opts,
    );
    return serviceAccount;
}
