// Typical creation times of the resource types the program registers, in seconds, for the
// deployment critical-path benchmark (bench/critical-path*.ts). The delayed mock engine
// resolves each registration after duration / scale seconds (scale 1000: 600 s -> 0.6 s).
//
// The figures are typical first-create times in the providers' regions today, rounded; they
// are not promises of any cloud. What matters for the benchmark is their order of magnitude:
// the database and the gateways dominate, and the rest should not add up in a line behind them.
//
// Node boot: a node resource (ASG, VM, Kubernetes Deployment) is "done" when its nodes serve,
// so `bootToHealthySeconds` is ADDED to their creation time (modelled as an extra delay on the
// node resources, not as a tail after everything): it then counts in both the simulated and
// the ideal time, only where a chain really ends in a node. What the model leaves out: a node
// that finished booting waits for a database still being created (db-init waits up to 30 min),
// then initialises the schema and starts IS, about a minute after the database is ready.

/** Seconds from "create" to "ready", per resource type token. */
export const creationSeconds: Readonly<Record<string, number>> = {
    // databases
    "aws:rds/instance:Instance": 600,
    "azure-native:dbformysql:Server": 600,
    // clusters and gateways
    "azure-native:containerservice:ManagedCluster": 420,
    "azure-native:network:ApplicationGateway": 420,
    "aws:lb/loadBalancer:LoadBalancer": 180,
    "aws:ec2/natGateway:NatGateway": 120,
    "azure-native:network:NatGateway": 120,
    // shared file systems
    "aws:efs/fileSystem:FileSystem": 60,
    "aws:efs/mountTarget:MountTarget": 90,
    // compute (the boot to healthy is added below)
    "aws:ec2/instance:Instance": 60,
    "aws:autoscaling/group:Group": 60,
    "azure-native:compute:VirtualMachine": 60,
    "kubernetes:apps/v1:Deployment": 2,
    // Traefik's chart: its LoadBalancer Service waits for the Azure load balancer's public IP.
    "kubernetes:helm.sh/v3:Release": 90,
    // secrets, storage, identity, network rules
    "azure-native:keyvault:Vault": 30,
    "azure-native:storage:StorageAccount": 30,
    "aws:iam/role:Role": 10,
    "aws:ec2/securityGroup:SecurityGroup": 5,
    "azure-native:network:NetworkSecurityGroup": 5,
};

/** Every other custom resource (subnets, rules, records, passwords, ...). */
export const otherSeconds = 2;

/** A read (StackReference of the platform stack): one API call. */
export const readSeconds = 1;

/** Component resources and provider instances are bookkeeping in the engine: no cloud call. */
export const componentSeconds = 0;

/** From "the node resource exists" to "IS answers the health check" (install, mount, start). */
export const bootToHealthySeconds = 240;

/** The resource types whose completion means nodes booted and serving. */
export const nodeTypes: ReadonlySet<string> = new Set([
    "aws:autoscaling/group:Group",
    "aws:ec2/instance:Instance",
    "azure-native:compute:VirtualMachine",
    "kubernetes:apps/v1:Deployment",
]);

/** The simulated duration of one registration, in seconds (creation plus boot for node types). */
export function durationSeconds(type: string, kind: { custom: boolean; read?: boolean }): number {
    if (kind.read) return readSeconds;
    if (!kind.custom || type.startsWith("pulumi:providers:")) return componentSeconds;
    const create = creationSeconds[type] ?? otherSeconds;
    return nodeTypes.has(type) ? create + bootToHealthySeconds : create;
}
