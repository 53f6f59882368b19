// Generated credentials every target shares: the database admin login and the random
// passwords of the cluster secret. Cloud-neutral: only @pulumi/random.
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";

/** Admin login of the managed MySQL (RDS, Flexible Server); db-init creates the app user with it. */
export const dbAdminUser = "wso2admin";

/** Characters RDS and MySQL Flexible accept in passwords and that survive env files unquoted. */
export const passwordSpecials = "-_=+.#%";

/**
 * A 32-character password (a Pulumi secret) that every managed MySQL and IS accept.
 * `alphanumeric`: letters and digits only (the legacy PFX form, azure-vm/pfx.ts).
 */
export function generatedPassword(
    name: string,
    parent: pulumi.Resource,
    options: { alphanumeric?: boolean } = {},
): pulumi.Output<string> {
    return new random.RandomPassword(
        name,
        {
            length: 32,
            ...(options.alphanumeric
                ? { special: false }
                : { special: true, overrideSpecial: passwordSpecials, minSpecial: 2 }),
            minNumeric: 2,
            minUpper: 2,
            minLower: 2,
        },
        { parent },
    ).result;
}
