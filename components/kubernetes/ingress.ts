// TLS on 443 with cookie affinity through Traefik, a maintained ingress controller (the
// community ingress-nginx project is retired). Traefik terminates TLS with the cluster's
// certificate, sets its own affinity cookie and re-encrypts to IS on 9443.
import * as pulumi from "@pulumi/pulumi";
import * as apiextensions from "@pulumi/kubernetes/apiextensions";
import * as apps from "@pulumi/kubernetes/apps/v1";
import * as core from "@pulumi/kubernetes/core/v1";
import * as helm from "@pulumi/kubernetes/helm/v3";
import * as networking from "@pulumi/kubernetes/networking/v1";
import { pauseImage, splitReference } from "./images";
import { ingressControllerTimeoutSeconds } from "./lifecycle";
import { imageUser, labels, ports, traefikChart } from "./names";

export interface IngressArgs {
    /** Install Traefik (LoadBalancer service) in controllerNamespace; false when the platform runs it. */
    installController: boolean;
    controllerNamespace: string;
    ingressClassName: string;
    /**
     * The TLS certificate: PEMs to store in a Secret; a Secret that already exists; or a Secrets
     * Store CSI SecretProviderClass (e.g. Azure Key Vault) that syncs it into `secretName` while
     * a small dedicated Deployment mounts it (never the IS pods: a missing grant must not stop IS).
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
        /** The Traefik image reference (mirror registry, pinned). */
        traefikImage: pulumi.Input<string>;
        /** What the controller's LoadBalancer needs first (the cluster identity's subnet role). */
        ready: pulumi.Input<pulumi.Resource>[];
        /** Await timeout annotation for the Ingress (it waits for the IS pods behind its Service). */
        awaitTimeout: Record<string, string>;
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
                values: pulumi
                    .output(a.traefikImage)
                    .apply((image) => traefikValues(traefikChart.version, a.args.ingressClassName, image)),
                // Pods ready and the LoadBalancer's public IP; Helm's default is 300 s.
                timeout: ingressControllerTimeoutSeconds,
            },
            // The cloud controller creates the LoadBalancer with the cluster identity's subnet role.
            { ...opts, dependsOn: a.ready },
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
    const tlsReady: pulumi.Resource[] = [];
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
        const providerClass = new apiextensions.CustomResource(
            `${name}-tls-provider`,
            {
                apiVersion: "secrets-store.csi.x-k8s.io/v1",
                kind: "SecretProviderClass",
                metadata: { name: tlsProviderClassName, namespace: a.namespace, labels },
                spec: tls.providerSpec,
            },
            opts,
        );
        // Pulumi waits for it to be ready, i.e. for the mount: a missing vault grant fails here.
        tlsReady.push(createTlsSync(name, a.namespace, providerClass, opts));
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
                    ...a.awaitTimeout,
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
        { ...opts, dependsOn: [...dependsOn, ...tlsReady] },
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

/**
 * Traefik's Helm values for the pinned chart. Keys move between chart majors without an error
 * (33.x `ports.web.redirectTo` became `ports.web.redirections.entryPoint` in 34.0), so the
 * values are written for one major and a test checks every key against that chart's values.yaml.
 */
export function traefikValues(chartVersion: string, ingressClassName: string, image: string) {
    if (!chartVersion.startsWith("33.")) {
        throw new Error(
            `traefikValues is written for Traefik chart 33.x, not ${chartVersion}: check its values.yaml and update`,
        );
    }
    const ref = splitReference(image);
    const traefikPods = {
        matchLabels: {
            "app.kubernetes.io/name": '{{ template "traefik.name" . }}',
            "app.kubernetes.io/instance": '{{ template "traefik.instance-name" . }}',
        },
    };
    return {
        // The chart accepts tag@digest (split "@" in its imageVersion helper).
        image: { registry: ref.registry, repository: ref.repository, tag: ref.tag },
        deployment: { replicas: 2 },
        podDisruptionBudget: { enabled: true, maxUnavailable: 1 },
        // Never both replicas on one node; over zones when the nodes allow (the chart templates these).
        topologySpreadConstraints: [
            {
                labelSelector: traefikPods,
                maxSkew: 1,
                topologyKey: "kubernetes.io/hostname",
                whenUnsatisfiable: "DoNotSchedule",
            },
            {
                labelSelector: traefikPods,
                maxSkew: 1,
                topologyKey: "topology.kubernetes.io/zone",
                whenUnsatisfiable: "ScheduleAnyway",
            },
        ],
        ingressClass: { enabled: true, isDefaultClass: false, name: ingressClassName },
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
    };
}

/**
 * The Secrets Store CSI driver creates the synced Secret only while a pod mounts the
 * SecretProviderClass and deletes it when none does. Two pause containers on different nodes
 * hold the mount, apart from IS: a grant missing on the vault stalls this Deployment (and
 * `pulumi up` with it), never IS, and IS at zero replicas keeps its certificate.
 */
function createTlsSync(
    name: string,
    namespace: pulumi.Input<string>,
    providerClass: pulumi.Resource,
    opts: pulumi.CustomResourceOptions,
): apps.Deployment {
    const syncLabels = { "app.kubernetes.io/name": "wso2is-tls-sync" };
    return new apps.Deployment(
        `${name}-tls-sync`,
        {
            metadata: { name: "wso2is-tls-sync", namespace, labels },
            spec: {
                replicas: 2,
                selector: { matchLabels: syncLabels },
                template: {
                    metadata: { labels: { ...labels, ...syncLabels } },
                    spec: {
                        automountServiceAccountToken: false,
                        securityContext: {
                            runAsNonRoot: true,
                            runAsUser: imageUser,
                            runAsGroup: imageUser,
                            seccompProfile: { type: "RuntimeDefault" },
                        },
                        topologySpreadConstraints: [
                            {
                                labelSelector: { matchLabels: syncLabels },
                                maxSkew: 1,
                                topologyKey: "kubernetes.io/hostname",
                                whenUnsatisfiable: "ScheduleAnyway",
                            },
                        ],
                        containers: [
                            {
                                name: "hold",
                                image: pauseImage,
                                securityContext: {
                                    allowPrivilegeEscalation: false,
                                    readOnlyRootFilesystem: true,
                                    capabilities: { drop: ["ALL"] },
                                },
                                resources: {
                                    requests: { cpu: "5m", memory: "8Mi" },
                                    limits: { cpu: "50m", memory: "32Mi" },
                                },
                                volumeMounts: [{ name: "tls", mountPath: "/mnt/tls", readOnly: true }],
                            },
                        ],
                        volumes: [
                            {
                                name: "tls",
                                csi: {
                                    driver: "secrets-store.csi.k8s.io",
                                    readOnly: true,
                                    volumeAttributes: { secretProviderClass: tlsProviderClassName },
                                },
                            },
                        ],
                    },
                },
            },
        },
        { ...opts, dependsOn: [providerClass] },
    );
}
