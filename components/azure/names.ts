// Physical names of the globally named resources (MySQL server, storage account, Key Vault),
// fixed before they exist: the nodes' files name the database host, the share and the secret,
// and must not wait ~10 minutes for the database to be created. One random suffix per
// cluster keeps them globally unique; it stays stable for the life of the stack.
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";

export interface AzureNames {
    suffix: pulumi.Output<string>;
    /** MySQL Flexible Server: 3-63 lowercase letters, digits, hyphens. */
    mysqlServer: pulumi.Output<string>;
    /** Storage account: 3-24 lowercase letters and digits. */
    storageAccount: pulumi.Output<string>;
    /** Key Vault: 3-24 letters, digits, single hyphens, starting with a letter. */
    keyVault: pulumi.Output<string>;
    /** Application Gateway (resource-group scoped, so no suffix): its sub-resource ids derive from it. */
    applicationGateway: string;
}

export const suffixLength = 6;

/** Tag on every resource: which cluster it belongs to (verify/controls/azure.ts finds it by it). */
export const clusterTagKey = "wso2is-cluster";

export function clusterTags(clusterName: string): Record<string, string> {
    return { [clusterTagKey]: clusterName, "managed-by": "pulumi" };
}

/** Lowercase, hyphen-separated, starting with a letter. */
export function kebab(value: string): string {
    const s = value
        .toLowerCase()
        .replace(/[^a-z0-9-]+/g, "-")
        .replace(/-+/g, "-")
        .replace(/^[^a-z]+/, "")
        .replace(/-+$/, "");
    return s || "wso2is";
}

export function physicalNames(
    prefix: string,
    suffix: string,
): { mysqlServer: string; storageAccount: string; keyVault: string } {
    const base = kebab(prefix);
    const trim = (s: string, max: number) => s.slice(0, max).replace(/-+$/, "");
    return {
        mysqlServer: `${trim(base, 63 - suffixLength - 1)}-${suffix}`,
        storageAccount: `${base.replace(/-/g, "").slice(0, 24 - suffixLength)}${suffix}`,
        keyVault: `${trim(base, 24 - suffixLength - 1)}-${suffix}`,
    };
}

export function createNames(name: string, parent: pulumi.Resource): AzureNames {
    const suffix = new random.RandomString(
        `${name}-suffix`,
        { length: suffixLength, lower: true, upper: false, numeric: true, special: false },
        { parent },
    ).result;
    const names = suffix.apply((s) => physicalNames(name, s));
    return {
        suffix,
        mysqlServer: names.mysqlServer,
        storageAccount: names.storageAccount,
        keyVault: names.keyVault,
        applicationGateway: `${kebab(name)}-appgw`,
    };
}
