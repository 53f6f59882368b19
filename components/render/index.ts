// Pure renderers: cluster model in, file text out. No cloud SDK imports here.
export * from "./cloudInit";
export * from "./deploymentToml";
export * from "./nodeEnv";
export * from "./scripts";
export * from "./systemdUnit";
export * from "./nginx";
export * from "./ecsInstance";
export * from "./gzip";
