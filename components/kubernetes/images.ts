// The container images the workload runs, and where they are pulled from. Pure.
//
// Docker Hub allows 10 anonymous pulls per hour per IPv4 (April 2025) and a cluster pulls
// through one egress IP, so pods never pull from Docker Hub: they pull from a registry the
// cluster is authorised on (the ACR the aks target creates with cache rules, or the platform's
// registry), under the same repository paths as on Docker Hub. Tags such as `mysql:8.4` move;
// `imageDigests` pins each repository to a digest (required in production).

export interface ImageSpec {
    /** Repository path on Docker Hub, also the path in the mirror registry ("library/" for official images). */
    repository: string;
    tag: string;
}

/** The images of the workload, by role. */
export function workloadImages(isVersion: string): Record<"is" | "mysql" | "traefik", ImageSpec> {
    return {
        // wso2/docker-is 7.1.x (Ubuntu 24.04): curl and sha256sum are in it, so it also fetches the driver.
        is: { repository: "wso2/wso2is", tag: isVersion },
        // bash + the MySQL 8 client for the locked schema init.
        mysql: { repository: "library/mysql", tag: "8.4" },
        // The appVersion of the pinned Traefik chart (33.2.1).
        traefik: { repository: "library/traefik", tag: "v3.2.2" },
    };
}

/** Repositories an `imageDigests` entry may name. */
export const pinnableRepositories = Object.values(workloadImages("0.0.0")).map((i) => i.repository);

/** Docker Hub, where the mirror registry's cache rules fetch from. */
export const upstreamRegistry = "docker.io";

/**
 * `<registry>/<repository>:<tag>[@<digest>]`. Without a registry the image comes from Docker
 * Hub (only where no mirror is configured: the synth warns).
 */
export function imageReference(spec: ImageSpec, registry: string | undefined, digest?: string): string {
    const host = registry ?? upstreamRegistry;
    return `${host}/${spec.repository}:${spec.tag}${digest ? `@${digest}` : ""}`;
}

/** The pod-sandbox image (registry.k8s.io, not Docker Hub; usually already on every node). */
export const pauseImage = "registry.k8s.io/pause:3.10";

/**
 * The references the pods use: each default image from `registry` (pinned when the stack gives
 * a digest); an `isImage` the stack sets is used as given.
 */
export function resolvedImages(
    config: { is: { version: string; image: string; imageDigests: Record<string, string> } },
    registry: string | undefined,
): Record<"is" | "mysql" | "traefik", string> {
    const specs = workloadImages(config.is.version);
    const isImageConfigured = config.is.image !== `${specs.is.repository}:${specs.is.tag}`;
    const ref = (spec: ImageSpec) => imageReference(spec, registry, config.is.imageDigests[spec.repository]);
    return {
        is: isImageConfigured ? config.is.image : ref(specs.is),
        mysql: ref(specs.mysql),
        traefik: ref(specs.traefik),
    };
}

/** `registry/repository:tag[@digest]` split the way Helm charts take images. */
export function splitReference(ref: string): { registry: string; repository: string; tag: string } {
    const m = /^([^/]+)\/([^:@]+):([^@]+(?:@sha256:[0-9a-f]{64})?)$/.exec(ref);
    if (!m) throw new Error(`image reference ${ref} is not registry/repository:tag[@sha256:digest]`);
    return { registry: m[1], repository: m[2], tag: m[3] };
}
