// The IS admin password (and every value IS reads through $env{}) end to end, through the same
// path IS uses: the rendered deployment.toml holds `$env{WSO2_ADMIN_PASSWORD}`; fetch-secrets.sh
// writes the value into secrets.env; systemd's own env-file parser (EnvironmentFile=) reads it;
// IS's config tool substitutes it and writes the XML that IS parses. That last step is a Java
// stand-in (support/ConfigMapperStandIn.java) that copies config-mapper 1.0.22's behaviour; it is
// not IS. The same check covers the pods' path (the Secret's value, escaped by isEnvValue).
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as TOML from "@iarna/toml";
import { isEnvValue, renderDeploymentToml } from "../../components/render/deploymentToml";
import { secretEnv } from "../../components/model";
import { awsModel } from "../fixtures/models";
import { startAwsStandIn } from "./support/aws";
import { runScript } from "./support/scripts";
import { ensureCommands, systemdEnvReader, tempDir } from "./support/system";

const standIn = path.join(__dirname, "support", "ConfigMapperStandIn.java");

/** What IS ends up with for a TOML value, given the process environment; undefined when it fails. */
function throughIs(
    tomlValue: string,
    env: Record<string, string>,
): { text: string; attribute: string } | undefined {
    const r = spawnSync("java", [standIn, tomlValue], {
        encoding: "utf8",
        env: { PATH: process.env.PATH ?? "", ...env },
        timeout: 60_000,
    });
    if (r.status !== 0) return undefined;
    const [text, attribute] = r.stdout.split(" ").map((h) => Buffer.from(h, "hex").toString("utf8"));
    return { text, attribute };
}

describe("IS values end to end ($env{} -> env file -> config tool -> XML)", function () {
    this.timeout(120_000);
    let tmp: { dir: string; cleanup: () => void };
    let readWithSystemd: (file: string) => Record<string, string>;
    // Every character the issue names, plus what replaceAll, $ref{} and Jinja treat specially.
    const ADMIN = `a$b \\c & <d> "e" 'f' {{g}} $1 \\\\ $ref{server.hostname} $env{HOME} ü 😀 end$`;
    const DB_APP = `x$y\\z&<>"'{}`;

    before(function () {
        ensureCommands({ jq: "jq", java: "default-jdk-headless" });
        tmp = tempDir("is-values");
        readWithSystemd = systemdEnvReader(tmp.dir);
    });
    after(() => tmp.cleanup());

    const tomlValues = () => {
        const model = awsModel();
        const doc = TOML.parse(renderDeploymentToml(model, model.nodes[0])) as any;
        return {
            admin: doc.super_admin.password as string,
            db: doc.database.identity_db.password as string,
            key: doc.encryption.key as string,
        };
    };

    it("the rendered TOML names the env variables", function () {
        assert.deepEqual(tomlValues(), {
            admin: `$env{${secretEnv.adminPassword}}`,
            db: `$env{${secretEnv.dbPassword}}`,
            key: `$env{${secretEnv.encryptionKey}}`,
        });
    });

    it("VM nodes: fetch-secrets.sh's secrets.env, read by systemd, gives IS the exact passwords", async function () {
        const nodeEnv = path.join(tmp.dir, "node.env");
        const secretsEnv = path.join(tmp.dir, "etc", "secrets.env");
        const secret = {
            dbAdminUser: "wso2admin",
            dbAdminPassword: "adm",
            dbAppPassword: DB_APP,
            adminPassword: ADMIN,
            encryptionKey: "00112233445566778899aabbccddeeff",
        };
        const secretId = "arn:aws:secretsmanager:eu-west-1:1:secret:x";
        // Secrets Manager stand-in (SigV4 checked): fetch-secrets.sh's real AWS path.
        const aws = await startAwsStandIn({ secrets: { [secretId]: JSON.stringify(secret) } });
        fs.writeFileSync(
            nodeEnv,
            `SECRET_SOURCE='aws-secrets-manager'\nSECRET_ID='${secretId}'\nAWS_REGION='eu-west-1'\n`,
        );
        let r;
        try {
            r = await runScript("fetch-secrets.sh", {
                WSO2IS_NODE_ENV: nodeEnv,
                WSO2IS_SECRETS_ENV: secretsEnv,
                ...aws.env,
            });
        } finally {
            await aws.close();
        }
        assert.equal(r.code, 0, r.stderr);
        const env = readWithSystemd(secretsEnv);
        const toml = tomlValues();
        assert.deepEqual(throughIs(toml.admin, env), { text: ADMIN, attribute: ADMIN });
        assert.deepEqual(throughIs(toml.db, env), { text: DB_APP, attribute: DB_APP });
        assert.deepEqual(throughIs(toml.key, env), {
            text: secret.encryptionKey,
            attribute: secret.encryptionKey,
        });
    });

    it("pods: the Secret's value (isEnvValue) gives IS the exact password", function () {
        const env = { [secretEnv.adminPassword]: isEnvValue(ADMIN) };
        assert.deepEqual(throughIs(tomlValues().admin, env), { text: ADMIN, attribute: ADMIN });
    });

    it("control: the raw value does not survive IS's path (why the escaping exists)", function () {
        for (const raw of ["a$b", "a\\b", "a&b", "a<b", 'a"b']) {
            const got = throughIs(tomlValues().admin, { [secretEnv.adminPassword]: raw });
            assert.ok(got === undefined || got.text !== raw || got.attribute !== raw, raw);
        }
    });
});
