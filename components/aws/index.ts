// AWS building blocks shared by the EC2 target (components/ec2) and the ECS target: network
// (or the platform stack's), security groups, the cluster secret, the node identity, RDS MySQL,
// EFS, the ALB, the nodes' launch template arguments and the EC2 script bundle. Targets import
// them from here only.
export * from "./database";
export * from "./identity";
export * from "./loadBalancer";
export * from "./network";
export * from "./secrets";
export * from "./securityGroups";
export * from "./sharedFs";
export * from "./foundation";
export * from "./kms";
export * from "./nodeLaunchTemplate";
export * from "./scriptBundle";
export * from "./cluster";
