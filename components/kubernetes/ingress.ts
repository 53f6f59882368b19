// TLS on 443 with cookie affinity through Traefik, a maintained ingress controller (the
// community ingress-nginx project is retired). Traefik terminates TLS with the cluster's
// certificate, sets its own affinity cookie and re-encrypts to IS on 9443.
import * as pulumi from "@pulumi/pulumi";
import * as apiextensions from "@pulumi/kubernetes/apiextensions";
import * as core from "@pulumi/kubernetes/core/v1";
import * as helm from "@pulumi/kubernetes/helm/v3";
import * as networking from "@pulumi/kubernetes/networking/v1";
import { labels, ports, traefikChart } from "./names";

export interface IngressArgs {
    /** Install Traefik (LoadBalancer service) in controllerNamespace; false when the platform runs it. */
    installController: boolean;
    controllerNamespace: string;
    ingressClassName: string;
    /**
     * The TLS certificate: PEMs to store in a Secret; a Secret that already exists; or a Secrets
     * Store CSI SecretProviderClass (e.g. Azure Key Vault) that syncs it into `secretName` while
     * the IS pods mount it.
     */
    tls:
        | { source: "pem"; certPem: pulumi.Input<string>; keyPem: pulumi.Input<string> }
        | { source: "secret"; secretName: pulumi.Input<string> }
        | {
              source: "secret-provider-class";
              secretName: string;
              providerSpec: pulumi.Input<Record<string, unknown>>;
          };
}

/** Name of the SecretProviderClass the workload creates for a CSI-synced certificate. */
export const tlsProviderClassName = "wso2is-tls";

export const affinityCookie = "WSO2IS_LB";
const serversTransportName = "wso2is-backend";

/** Traefik reads these on the backend Service: HTTPS upstream and a sticky cookie. */
export function backendAnnotations(
    namespace: pulumi.Input<string>,
): pulumi.Input<Record<string, pulumi.Input<string>>> {
    return pulumi.output(namespace).apply((ns) => ({
        "traefik.ingress.kubernetes.io/service.serversscheme": "https",
        "traefik.ingress.kubernetes.io/service.serverstransport": `${ns}-${serversTransportName}@kubernetescrd`,
        "traefik.ingress.kubernetes.io/service.sticky.cookie": "true",
        "traefik.ingress.kubernetes.io/service.sticky.cookie.name": affinityCookie,
        "traefik.ingress.kubernetes.io/service.sticky.cookie.secure": "true",
        "traefik.ingress.kubernetes.io/service.sticky.cookie.httponly": "true",
        "traefik.ingress.kubernetes.io/service.sticky.cookie.samesite": "none",
    }));
}

export function createIngress(
    name: string,
    a: {
        namespace: pulumi.Input<string>;
        hostname: string;
        serviceName: string;
        args: IngressArgs;
        production: boolean;
    },
    opts: pulumi.CustomResourceOptions,
): { address: pulumi.Output<string> } {
    const dependsOn: pulumi.Resource[] = [];
    let controllerService: pulumi.Output<string> | undefined;
    if (a.args.installController) {
        const controllerNs = new core.Namespace(
            `${name}-ingress-ns`,
            { metadata: { name: a.args.controllerNamespace, labels } },
            opts,
        );
        const release = new helm.Release(
            `${name}-traefik`,
            {
                name: "traefik",
                chart: traefikChart.name,
                version: traefikChart.version,
                repositoryOpts: { repo: traefikChart.repo },
                namespace: controllerNs.metadata.name,
                values: {
                    deployment: { replicas: 2 },
                    podDisruptionBudget: { enabled: true, maxUnavailable: 1 },
                    ingressClass: { enabled: true, isDefaultClass: false, name: a.args.ingressClassName },
                    providers: {
                        kubernetesCRD: { enabled: true, allowCrossNamespace: false },
                        kubernetesIngress: { enabled: true },
                    },
                    // Port 80 answers only with a redirect to 443.
                    ports: {
                        web: { redirectTo: { port: "websecure" } },
                        websecure: { tls: { enabled: true } },
                    },
                    service: { type: "LoadBalancer", spec: { externalTrafficPolicy: "Local" } },
                    logs: { access: { enabled: true } },
                },
            },
            opts,
        );
        dependsOn.push(release);
        controllerService = release.status.apply((s) => (s ? `${s.namespace}/${s.name}` : ""));
    }

    // IS ships a self-signed keystore; the hop from Traefik to the pod stays inside the pod
    // network and NetworkPolicy admits only the controller's namespace on 9443.
    new apiextensions.CustomResource(
        `${name}-backend-transport`,
        {
            apiVersion: "traefik.io/v1alpha1",
            kind: "ServersTransport",
            metadata: { name: serversTransportName, namespace: a.namespace, labels },
            spec: { insecureSkipVerify: true, serverName: a.hostname },
        },
        { ...opts, dependsOn },
    );

    const tls = a.args.tls;
    let tlsSecretName: pulumi.Input<string>;
    if (tls.source === "secret") {
        tlsSecretName = tls.secretName;
    } else if (tls.source === "pem") {
        tlsSecretName = new core.Secret(
            `${name}-tls`,
            {
                metadata: { name: "wso2is-tls", namespace: a.namespace, labels },
                type: "kubernetes.io/tls",
                stringData: { "tls.crt": tls.certPem, "tls.key": tls.keyPem },
            },
            { ...opts, additionalSecretOutputs: ["stringData", "data"] },
        ).metadata.name;
    } else {
        // The CSI driver creates the Secret `secretName` from the provider's objects.
        new apiextensions.CustomResource(
            `${name}-tls-provider`,
            {
                apiVersion: "secrets-store.csi.x-k8s.io/v1",
                kind: "SecretProviderClass",
                metadata: { name: tlsProviderClassName, namespace: a.namespace, labels },
                spec: tls.providerSpec,
            },
            opts,
        );
        tlsSecretName = tls.secretName;
    }

    const ingress = new networking.Ingress(
        `${name}-ingress`,
        {
            metadata: {
                name: "wso2is",
                namespace: a.namespace,
                labels,
                annotations: {
                    "traefik.ingress.kubernetes.io/router.entrypoints": "websecure",
                    "traefik.ingress.kubernetes.io/router.tls": "true",
                },
            },
            spec: {
                ingressClassName: a.args.ingressClassName,
                tls: [{ hosts: [a.hostname], secretName: tlsSecretName }],
                rules: [
                    {
                        host: a.hostname,
                        http: {
                            paths: [
                                {
                                    path: "/",
                                    pathType: "Prefix",
                                    backend: {
                                        service: { name: a.serviceName, port: { number: ports.https } },
                                    },
                                },
                            ],
                        },
                    },
                ],
            },
        },
        { ...opts, dependsOn },
    );
    const address = ingress.status.apply(
        (s) =>
            s?.loadBalancer?.ingress?.[0]?.ip ??
            s?.loadBalancer?.ingress?.[0]?.hostname ??
            controllerService ??
            "",
    );
    return { address: pulumi.output(address).apply((x) => (typeof x === "string" ? x : "")) };
}
