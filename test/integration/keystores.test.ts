// The pods' keystore builder (components/render/keystore/BuildKeystores.java) run for real on
// this machine's JDK, as the init container runs it on the IS image's: `java BuildKeystores.java`.
// Inputs made with openssl as components/shared/clusterSecret.ts's are (PKCS#8 key, self-signed
// certificate); the result read back with keytool.
import { strict as assert } from "assert";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ensureCommands, tempDir } from "./support/system";

const program = path.resolve(
    __dirname,
    "..",
    "..",
    "components",
    "render",
    "keystore",
    "BuildKeystores.java",
);

describe("BuildKeystores.java (the pods' signing keystore)", function () {
    this.timeout(120_000);
    let tmp: { dir: string; cleanup: () => void };
    const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: tmp.dir, stdio: "pipe" });
    const keytool = (...args: string[]) => execFileSync("keytool", args, { encoding: "utf8", stdio: "pipe" });
    const selfSigned = (name: string) => {
        ssl(
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            `${name}.rsa`,
            "-out",
            `${name}.pem`,
            "-subj",
            `/CN=${name}`,
            "-days",
            "2",
        );
        ssl("pkey", "-in", `${name}.rsa`, "-out", `${name}.key`);
    };
    const fingerprint = (pem: string) =>
        String(ssl("x509", "-in", pem, "-noout", "-fingerprint", "-sha256"))
            .trim()
            .split("=")[1];
    const run = (env: Record<string, string>) =>
        spawnSync("java", [program], {
            encoding: "utf8",
            env: { PATH: process.env.PATH ?? "", ...env },
            timeout: 90_000,
        });

    before(function () {
        ensureCommands({ java: "default-jdk-headless", openssl: "openssl" });
        tmp = tempDir("keystores");
        selfSigned("signing");
        selfSigned("other");
        fs.writeFileSync(path.join(tmp.dir, "password"), "Sg-pass_9.8#7%");
        keytool(
            "-importcert",
            "-noprompt",
            "-alias",
            "wso2carbon",
            "-file",
            path.join(tmp.dir, "other.pem"),
            "-keystore",
            path.join(tmp.dir, "client-truststore.p12"),
            "-storetype",
            "PKCS12",
            "-storepass",
            "wso2carbon",
        );
    });
    after(() => tmp.cleanup());

    const env = () => ({
        SIGNING_KEY_FILE: path.join(tmp.dir, "signing.key"),
        SIGNING_CERT_FILE: path.join(tmp.dir, "signing.pem"),
        SIGNING_PASSWORD_FILE: path.join(tmp.dir, "password"),
        SIGNING_ALIAS: "wso2is-signing",
        SIGNING_KEYSTORE: path.join(tmp.dir, "out", "wso2is-signing.p12"),
        TRUSTSTORE_IN: path.join(tmp.dir, "client-truststore.p12"),
        TRUSTSTORE_OUT: path.join(tmp.dir, "out", "client-truststore.p12"),
    });

    it("builds the PKCS#12 under the alias and a truststore that keeps IS's entries and trusts the certificate", function () {
        fs.mkdirSync(path.join(tmp.dir, "out"), { recursive: true });
        const r = run(env());
        assert.equal(r.status, 0, r.stderr);
        assert.ok(!r.stderr.includes("Sg-pass"), "the password reached the log");
        const listing = keytool(
            "-list",
            "-v",
            "-keystore",
            env().SIGNING_KEYSTORE,
            "-storetype",
            "PKCS12",
            "-storepass",
            "Sg-pass_9.8#7%",
            "-alias",
            "wso2is-signing",
        );
        assert.match(listing, /Entry type: PrivateKeyEntry/);
        assert.match(listing, /Owner: CN=signing/);
        const trusted = (alias: string) =>
            /SHA-256\): (\S+)/.exec(
                keytool(
                    "-list",
                    "-keystore",
                    env().TRUSTSTORE_OUT,
                    "-storepass",
                    "wso2carbon",
                    "-alias",
                    alias,
                ),
            )?.[1];
        assert.equal(trusted("wso2is-signing"), fingerprint("signing.pem"));
        assert.equal(trusted("wso2carbon"), fingerprint("other.pem"));
        assert.deepEqual(fs.readdirSync(path.join(tmp.dir, "out")).sort(), [
            "client-truststore.p12",
            "wso2is-signing.p12",
        ]);
    });

    it("refuses a certificate that does not belong to the key, with one message", function () {
        const r = run({ ...env(), SIGNING_CERT_FILE: path.join(tmp.dir, "other.pem") });
        assert.equal(r.status, 1);
        assert.match(
            r.stderr,
            /build-keystores: error: SIGNING_CERT_FILE does not belong to SIGNING_KEY_FILE/,
        );
    });

    it("refuses a key that is not PKCS#8 PEM", function () {
        fs.writeFileSync(
            path.join(tmp.dir, "bad.key"),
            "-----BEGIN PRIVATE KEY-----\nnot base64 at all!\n-----END PRIVATE KEY-----\n",
        );
        const r = run({ ...env(), SIGNING_KEY_FILE: path.join(tmp.dir, "bad.key") });
        assert.equal(r.status, 1);
        assert.match(
            r.stderr,
            /build-keystores: error: SIGNING_KEY_FILE is not a PKCS#8 PEM RSA private key/,
        );
    });
});
