// Names and paths the Kubernetes workload's objects share.
export const labels = {
    app: "wso2is",
    "app.kubernetes.io/name": "wso2is",
    "app.kubernetes.io/managed-by": "pulumi",
} as const;
export const selector = { "app.kubernetes.io/name": "wso2is" } as const;

/** WSO2's image: user wso2carbon (802), IS under its home. */
export const imageUser = 802;
export function imageHome(version: string): string {
    return `/home/wso2carbon/wso2is-${version}`;
}

export const ports = { https: 9443, hazelcast: 4000 } as const;
export const healthPath = "/api/health-check/v1.0/health";
export const livenessPath = "/oauth2/token/.well-known/openid-configuration";

/** Traefik: a maintained ingress controller (the community ingress-nginx project is retired). */
export const traefikChart = {
    name: "traefik",
    version: "33.2.1",
    repo: "https://traefik.github.io/charts",
} as const;
