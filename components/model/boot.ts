// A VM node's time budgets, in one place: the bootstrap unit's retry window, the waits the
// boot scripts make, and what the load balancers' grace periods are derived from. Pure.

/** Longest wait for the database to accept connections on a first deploy (a Multi-AZ RDS or a
 * Flexible Server create takes 15-25 minutes; the nodes do not wait for it in `pulumi up`). */
export const dbWaitSeconds = 1800;

/** One bootstrap pass apart from the database wait: packages, the IS download, secrets, share,
 * artifact sync and the schema. */
export const bootWorkSeconds = 900;

/** IS start to a healthy health-check API on a node of the sizes we allow. */
export const isStartSeconds = 600;

/** How long a node's boot may keep retrying before its load balancer gives up on it (the unit
 * itself retries without end): it must outlast the database wait plus one pass, and RBAC
 * propagation (Azure documents up to 10 minutes). */
export const bootstrapBudgetSeconds = 3600;

/** Launch to healthy for a new node: what a load balancer's grace and a rolling update's
 * health gate allow (a node behind another's first start may wait longer: docs/vm-nodes.md). */
export const nodeReadySeconds = bootstrapBudgetSeconds + isStartSeconds;

/** Longest wait of fetch-secrets.sh for Key Vault (node.env SECRET_FETCH_RETRIES x
 * SECRET_FETCH_RETRY_DELAY): a new VM's system-assigned identity gets its role only after the VM
 * exists, and a role assignment may take 10 minutes to take effect
 * (https://learn.microsoft.com/azure/role-based-access-control/troubleshooting). Secrets Manager
 * has no such wait (the instance role exists before the instance): aws-api.sh's own retries
 * cover its transient errors. */
export const secretFetchSeconds = 600;

/** fetch-secrets.sh asks Key Vault every this many seconds while it waits. */
export const secretFetchPollSeconds = 10;

/** Longest wait of a node behind another node's first start of IS (first-start-gate.sh `enter`,
 * FIRST_START_WAIT) and of the holder for its own IS to turn healthy (FIRST_START_HOLD_TIMEOUT). */
export const firstStartWaitSeconds = 1800;

/** Longest wait of mount-share.sh for the share (node.env SHARE_MOUNT_RETRIES x
 * SHARE_MOUNT_RETRY_DELAY): the share's mount targets or private endpoint may still be coming up
 * at first boot. */
export const shareMountSeconds = 600;

/** mount-share.sh tries the mount every this many seconds while it waits. */
export const shareMountPollSeconds = 6;

/** db-init.sh polls the database every this many seconds while it waits for it. */
export const dbWaitPollSeconds = 10;

/** The bootstrap unit's restart delays (systemd >= 254 RestartSteps/RestartMaxDelaySec): the
 * first retry after 15 s, growing over 8 steps to 5 minutes, then every 5 minutes. */
export const bootstrapRestart = { firstDelaySeconds: 15, maxDelaySeconds: 300, steps: 8 } as const;

/** The JVM heap's share of the node's memory (jvm-heap.sh; an override is in docs/vm-nodes.md). */
export const jvmHeapPercent = 60;
