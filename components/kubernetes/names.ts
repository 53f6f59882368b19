// Names and paths the Kubernetes workload's objects share.
import { hazelcastPorts, healthCheckPath, isHttpsPort, isUid } from "../model";

export const labels = {
    app: "wso2is",
    "app.kubernetes.io/name": "wso2is",
    "app.kubernetes.io/managed-by": "pulumi",
} as const;
export const selector = { "app.kubernetes.io/name": "wso2is" } as const;

/** WSO2's image: user wso2carbon, whose uid/gid is the one the VM nodes use too (802). */
export const imageUser = isUid;
export function imageHome(version: string): string {
    return `/home/wso2carbon/wso2is-${version}`;
}

export const ports = { https: isHttpsPort, hazelcast: hazelcastPorts.kubernetes } as const;
export const healthPath = healthCheckPath;
export const livenessPath = "/oauth2/token/.well-known/openid-configuration";

/** Traefik: a maintained ingress controller (the community ingress-nginx project is retired). */
export const traefikChart = {
    name: "traefik",
    version: "33.2.1",
    repo: "https://traefik.github.io/charts",
} as const;
