// Azure building blocks shared by the Azure VM target (components/azure-vm) and AKS
// (components/aks): physical names, the resource group, MySQL Flexible Server with its private
// DNS, the Key Vault cluster secret and role assignments, and the secret and database wired
// together (clusterData.ts). Targets import them from here only.
export * from "./clusterData";
export * from "./database";
export * from "./identity";
export * from "./names";
export * from "./privateDns";
export * from "./registry";
export * from "./resourceGroup";
export * from "./secrets";
