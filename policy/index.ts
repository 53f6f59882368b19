// The wso2is-cluster policy pack. `pulumi preview --policy-pack policy` runs this file; it is
// the only place that constructs the PolicyPack (which starts the analyzer's gRPC server).
// The policies live in ./policies and their own modules, so tests import them without a server.
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

new PolicyPack("wso2is-cluster", {
    description:
        "WSO2 Identity Server clusters on AWS (EC2, ECS), Azure VMs and AKS: security, high availability and node configuration.",
    enforcementLevel: "advisory",
    policies,
});
