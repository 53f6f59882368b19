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

/** How long the bootstrap unit keeps retrying (systemd StartLimitIntervalSec): it must outlast
 * the database wait plus one pass, and RBAC propagation (Azure documents up to 10 minutes). */
export const bootstrapBudgetSeconds = 3600;

/** Launch to healthy for a new node at worst: what a load balancer's grace and a rolling
 * update's health gate must allow. */
export const nodeReadySeconds = bootstrapBudgetSeconds + isStartSeconds;
