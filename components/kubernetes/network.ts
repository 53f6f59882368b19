// Services and NetworkPolicies: a ClusterIP Service for HTTPS (what the ingress routes to), a
// headless Service for Hazelcast discovery, and policies that admit 9443 only from the
// ingress controller and Hazelcast only from other IS pods.
import * as pulumi from "@pulumi/pulumi";
import * as core from "@pulumi/kubernetes/core/v1";
import * as networking from "@pulumi/kubernetes/networking/v1";
import { IngressArgs, backendAnnotations } from "./ingress";
import { labels, ports, selector } from "./names";

export function createServices(
    name: string,
    namespace: pulumi.Input<string>,
    /** The await timeout annotation: Pulumi waits for ready endpoints, i.e. for IS pods. */
    awaitTimeout: Record<string, string>,
    opts: pulumi.CustomResourceOptions,
) {
    const httpsName = "wso2is";
    const hazelcastName = "wso2is-hazelcast";
    new core.Service(
        `${name}-https`,
        {
            metadata: {
                name: httpsName,
                namespace,
                labels,
                annotations: pulumi
                    .output(backendAnnotations(namespace))
                    .apply((a) => ({ ...a, ...awaitTimeout })),
            },
            spec: {
                type: "ClusterIP",
                selector,
                ports: [{ name: "https", port: ports.https, targetPort: ports.https }],
            },
        },
        opts,
    );
    new core.Service(
        `${name}-hazelcast`,
        {
            metadata: { name: hazelcastName, namespace, labels, annotations: awaitTimeout },
            // Headless, and listing pods before they are ready: members must find each other to start.
            spec: {
                clusterIP: "None",
                publishNotReadyAddresses: true,
                selector,
                ports: [{ name: "hazelcast", port: ports.hazelcast, targetPort: ports.hazelcast }],
            },
        },
        opts,
    );
    return { httpsName, hazelcastName };
}

export function createNetworkPolicies(
    name: string,
    namespace: pulumi.Input<string>,
    ingress: IngressArgs,
    opts: pulumi.CustomResourceOptions,
): void {
    new networking.NetworkPolicy(
        `${name}-is`,
        {
            metadata: { name: "wso2is", namespace, labels },
            spec: {
                podSelector: { matchLabels: selector },
                policyTypes: ["Ingress"],
                ingress: [
                    {
                        from: [
                            {
                                namespaceSelector: {
                                    matchLabels: {
                                        "kubernetes.io/metadata.name": ingress.controllerNamespace,
                                    },
                                },
                            },
                        ],
                        ports: [{ protocol: "TCP", port: ports.https }],
                    },
                    {
                        from: [{ podSelector: { matchLabels: selector } }],
                        ports: [
                            { protocol: "TCP", port: ports.hazelcast },
                            { protocol: "TCP", port: ports.https },
                        ],
                    },
                ],
            },
        },
        opts,
    );
}
