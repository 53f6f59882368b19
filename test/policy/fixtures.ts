// Shared fixtures of the policy tests: an IS Deployment shaped like components/kubernetes's.
import type { Props } from "./harness";

export const restricted = {
    runAsNonRoot: true,
    allowPrivilegeEscalation: false,
    privileged: false,
    capabilities: { drop: ["ALL"] },
};
export const resources = { requests: { cpu: "4", memory: "4Gi" }, limits: { cpu: "4", memory: "6Gi" } };
export const probe = { httpGet: { path: "/api/health-check/v1.0/health", port: 9443, scheme: "HTTPS" } };
export const selector = { "app.kubernetes.io/name": "wso2is", "app.kubernetes.io/component": "is" };

export function deployment(
    over: { spec?: Props; pod?: Props; container?: Props; replicas?: number } = {},
): Props {
    return {
        metadata: { name: "wso2is", namespace: "wso2is" },
        spec: {
            replicas: over.replicas ?? 2,
            selector: { matchLabels: selector },
            template: {
                metadata: { labels: { ...selector, "app.kubernetes.io/part-of": "wso2is-cluster" } },
                spec: {
                    securityContext: { runAsNonRoot: true, runAsUser: 802, fsGroup: 802 },
                    affinity: {
                        podAntiAffinity: {
                            preferredDuringSchedulingIgnoredDuringExecution: [
                                {
                                    weight: 100,
                                    podAffinityTerm: {
                                        labelSelector: { matchLabels: selector },
                                        topologyKey: "topology.kubernetes.io/zone",
                                    },
                                },
                            ],
                        },
                    },
                    initContainers: [
                        {
                            name: "db-init",
                            image: "mysql:8.4",
                            securityContext: restricted,
                            resources: {
                                requests: { cpu: "100m", memory: "128Mi" },
                                limits: { cpu: "1", memory: "512Mi" },
                            },
                        },
                    ],
                    containers: [
                        {
                            name: "wso2is",
                            image: "docker.wso2.com/wso2is:7.1.0",
                            resources,
                            startupProbe: { tcpSocket: { port: 9443 } },
                            readinessProbe: probe,
                            livenessProbe: probe,
                            securityContext: restricted,
                            ...over.container,
                        },
                    ],
                    volumes: [{ name: "config", configMap: { name: "wso2is-config" } }],
                    ...over.pod,
                },
            },
            ...over.spec,
        },
    };
}
