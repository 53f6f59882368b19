// The one mock engine of the unit tests (a second setMocks would silently replace the first).
// test/setup.ts installs it before any spec loads; specs import the helpers below.
import * as pulumi from "@pulumi/pulumi";
import { RecordedResource, createMocks, settle } from "../synth/mocks";

const platformOverrides = new Map<string, Record<string, unknown>>();

export const engine = createMocks({
    region: "eu-west-1",
    platformOutputs: (stack) => platformOverrides.get(stack) ?? {},
});

/** Outputs a StackReference to `stack` returns in tests. */
export function setPlatformOutputs(stack: string, outputs: Record<string, unknown>): void {
    platformOverrides.set(stack, outputs);
}

export function installMocks(): void {
    void pulumi.runtime.setMocks(engine.mocks, "wso2is-cluster", "test", false);
}

/** The value of an Output, for assertions outside apply. */
export function promiseOf<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => output.apply(resolve));
}

/** Every resource registered so far whose logical name starts with `prefix`, after the RPCs drained. */
export async function resourcesNamed(prefix: string): Promise<RecordedResource[]> {
    await settle();
    return engine.records.filter((r) => r.name === prefix || r.name.startsWith(`${prefix}-`));
}

export function ofType(resources: RecordedResource[], type: string): RecordedResource[] {
    return resources.filter((r) => r.type === type);
}

export function one(resources: RecordedResource[], type: string, name?: string): RecordedResource {
    const found = resources.filter((r) => r.type === type && (name === undefined || r.name === name));
    if (found.length !== 1)
        throw new Error(
            `expected one ${type}${name ? ` named ${name}` : ""}, found ${found.length}: ${found.map((r) => r.name).join(", ")}`,
        );
    return found[0];
}

/** Records each child's resource options (protect etc.), which the mock engine never sees. */
export function optionsRecorder() {
    const seen = new Map<string, pulumi.CustomResourceOptions>();
    const transformation: pulumi.ResourceTransformation = (args) => {
        seen.set(`${args.type}::${args.name}`, args.opts as pulumi.CustomResourceOptions);
        return undefined;
    };
    return { seen, transformation };
}
