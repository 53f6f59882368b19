// wso2is-cluster: a highly available WSO2 Identity Server cluster on the target the stack's
// `cloud` config names. The program lives in components/program.ts; its outputs become the
// stack outputs (url, hostname, databaseEndpoint, ...) that other stacks read.
import { program } from "./components/program";

export = program().then((p) => p.outputs);
