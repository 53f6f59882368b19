// How an IS pod starts, stops and rolls, as numbers and the commands that follow from them.
// Pure (no Pulumi imports): the workload, the tests and docs/aks.md ("Rollout arithmetic") read
// one set of figures.

/** Seconds the pod keeps serving after it is marked terminating, so Traefik stops routing to it. */
export const drainSeconds = 15;
/** Seconds IS gets to stop after SIGTERM: Carbon's shutdown hooks and a clean Hazelcast leave. */
export const isStopSeconds = 90;
/** The kubelet kills whatever still runs after this (preStop time counts against it). */
export const terminationGracePeriodSeconds = drainSeconds + isStopSeconds + 15;

/** Pods a rollout runs beside `replicas` (maxSurge; maxUnavailable 0): the database sizes for them too. */
export const surgePods = 1;

/** Startup probe: 9443 must open within periodSeconds x failureThreshold (IS boots in 1-3 min). */
export const startupProbe = { periodSeconds: 10, failureThreshold: 60 } as const;
/**
 * Readiness: out of the Service after 3 misses 10 s apart (30 s), so a full GC pause of a few
 * seconds does not drop a pod; the 5 s timeout covers a slow health answer under load.
 */
export const readinessProbe = { periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 } as const;
export const livenessProbe = { periodSeconds: 10, timeoutSeconds: 10, failureThreshold: 6 } as const;
export const minReadySeconds = 30;

/**
 * The pieces of one rolling-update step (maxSurge 1, maxUnavailable 0, one IS pod per node):
 * worst cases, so a timeout means something is wrong rather than slow.
 */
export const rolloutStep = {
    /** Cluster autoscaler adds the spare node: scan (10 s) + VM create + node join. */
    nodeProvisionSeconds: 360,
    /** First pull of the IS image (~0.6 GB) on a new node from the in-region registry. */
    imagePullSeconds: 180,
    /** Init containers: driver download, dbscripts copy, db-init (waits on GET_LOCK), first-start gate. */
    initSeconds: 180,
    /** IS start, bounded by the startup probe's window. */
    bootSeconds: startupProbe.periodSeconds * startupProbe.failureThreshold,
    minReadySeconds,
    /** The old pod leaves (its node is free for the next new pod only after that). */
    terminationSeconds: terminationGracePeriodSeconds,
} as const;

/** Seconds one step may take without progress: the Deployment's progressDeadlineSeconds. */
export function progressDeadlineSeconds(): number {
    const s = rolloutStep;
    return (
        s.nodeProvisionSeconds +
        s.imagePullSeconds +
        s.initSeconds +
        s.bootSeconds +
        s.minReadySeconds +
        s.terminationSeconds
    );
}

/**
 * Seconds a whole rollout (or first create) of `replicas` pods may take: one spare node, then
 * every pod replaced one after another. Pulumi waits this long for the Deployment, the Services
 * that select its pods and the Ingress in front of them (its default is 10 minutes).
 */
export function rolloutTimeoutSeconds(replicas: number): number {
    const s = rolloutStep;
    const perPod =
        s.imagePullSeconds + s.initSeconds + s.bootSeconds + s.minReadySeconds + s.terminationSeconds;
    return s.nodeProvisionSeconds + replicas * perPod;
}

/** Annotation the Kubernetes provider reads as the await timeout (pulumi-kubernetes metadata/overrides.go). */
export const timeoutAnnotation = "pulumi.com/timeoutSeconds";

/** Seconds Helm waits for the Traefik release (pods ready, LoadBalancer with a public IP). */
export const ingressControllerTimeoutSeconds = 900;

/**
 * preStop of the IS container. The image's entrypoint runs `sh wso2server.sh` without exec
 * (wso2/docker-is 7.1.x dockerfiles/ubuntu/is/docker-entrypoint.sh), so PID 1 is a shell that
 * ignores the kubelet's SIGTERM. Like WSO2's chart (kubernetes-is v7.1.0.3 templates/
 * deployment.yaml) we sleep while the endpoint is removed, then `wso2server.sh stop`, which
 * sends SIGTERM to the JVM's pid from wso2carbon.pid (carbon-kernel v4.10.42 bin/wso2server.sh;
 * Main.java writes the file), and, unlike the chart, wait for the JVM to exit so the hook ends
 * when IS has stopped, within the grace period.
 */
export function preStopScript(drain: number = drainSeconds, stopWait: number = isStopSeconds): string {
    return [
        `sleep ${drain}`,
        'pidfile="$WSO2_SERVER_HOME/wso2carbon.pid"',
        '[ -f "$pidfile" ] || exit 0',
        'pid=$(cat "$pidfile")',
        'sh "$WSO2_SERVER_HOME/bin/wso2server.sh" stop',
        "i=0",
        `while kill -0 "$pid" 2>/dev/null && [ "$i" -lt ${stopWait} ]; do sleep 1; i=$((i + 1)); done`,
    ].join("\n");
}

/**
 * The image's own JAVA_OPTS (wso2/docker-is 7.1.x Dockerfile, ENV JAVA_OPTS): setting JAVA_OPTS
 * replaces it, so keep its flags (they silence FileSystemPreferences warnings).
 */
export const imageJavaOpts = [
    "-Djava.util.prefs.systemRoot=/home/wso2carbon/.java",
    "-Djava.util.prefs.userRoot=/home/wso2carbon/.java/.userPrefs",
];

/** The IS container's memory: requests = limits, so the pod is never the first to be evicted. */
export const isMemoryMi = 6144;

/**
 * JVM_MEM_OPTS sized from the container limit. wso2server.sh sets `-Xms256m -Xmx1024m` when
 * JVM_MEM_OPTS is unset and puts it before $JAVA_OPTS (carbon-kernel v4.10.42), so a
 * MaxRAMPercentage in JAVA_OPTS never applies. Heap two thirds of the limit, fixed size;
 * metaspace and direct buffers capped; the rest is code cache, thread stacks and GC.
 */
export function jvmMemory(limitMi: number = isMemoryMi): {
    heapMi: number;
    metaspaceMi: number;
    directMi: number;
    opts: string;
} {
    const heapMi = Math.floor((limitMi * 2) / 3 / 256) * 256;
    const metaspaceMi = 512;
    const directMi = 512;
    return {
        heapMi,
        metaspaceMi,
        directMi,
        opts: [
            `-Xms${heapMi}m`,
            `-Xmx${heapMi}m`,
            `-XX:MaxMetaspaceSize=${metaspaceMi}m`,
            `-XX:MaxDirectMemorySize=${directMi}m`,
            // Restart on OOM instead of limping on (wso2server.sh already dumps the heap first).
            "-XX:+ExitOnOutOfMemoryError",
        ].join(" "),
    };
}
