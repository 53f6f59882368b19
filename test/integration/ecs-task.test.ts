// The ECS target's shell, run for real: the container instances' user data through
// `cloud-init schema`, the task's three container scripts through shellcheck and through dash
// or bash (the images' shells). Stand-ins: the paths /out, /boot and the image's entrypoint
// point into a temp dir, IMDS is replaced by a fixed address, and wso2server.sh is a small
// fake that records how it is stopped; no container runtime and no AWS are involved.
import { strict as assert } from "assert";
import { spawn, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import {
    configScript,
    dbInitScript,
    gateHoldScript,
    isEntrypointScript,
    keystoresScript,
} from "../../components/ecs/containers";
import { gzipStable } from "../../components/render/gzip";
import { keystoreProgramText } from "../../components/render/scripts";
import { renderEcsInstanceCloudInit } from "../../components/render/ecsInstance";
import { ensureCommands, tempDir } from "./support/system";

function run(shell: string, script: string, env: Record<string, string>) {
    return spawnSync(shell, ["-c", script], { encoding: "utf8", env: { PATH: process.env.PATH!, ...env } });
}

describe("ECS task scripts (real shells) and container-instance user data", function () {
    this.timeout(60000);
    let tmp: { dir: string; cleanup: () => void };

    before(function () {
        ensureCommands({ shellcheck: "shellcheck", "cloud-init": "cloud-init", dash: "dash" });
    });
    beforeEach(function () {
        tmp = tempDir("ecs-task");
    });
    afterEach(function () {
        tmp.cleanup();
    });

    it("the instances' user data passes `cloud-init schema`", function () {
        const file = path.join(tmp.dir, "user-data.yaml");
        fs.writeFileSync(
            file,
            renderEcsInstanceCloudInit({ clusterName: "wso2is-ecs-dev-abc1234", stopTimeoutSeconds: 120 }),
        );
        const r = spawnSync("cloud-init", ["schema", "--config-file", file], { encoding: "utf8" });
        assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
        // ... and the check can fail.
        fs.writeFileSync(file, "#cloud-config\nwrite_files: 3\n");
        assert.notEqual(spawnSync("cloud-init", ["schema", "--config-file", file]).status, 0);
    });

    for (const [name, script, shell] of [
        ["config", configScript, "sh"],
        ["wso2is entrypoint", isEntrypointScript, "sh"],
        ["db-init", dbInitScript, "bash"],
        ["first-start-gate", gateHoldScript, "bash"],
        ["keystores", keystoresScript, "bash"],
    ] as const) {
        it(`the ${name} container's script is shellcheck-clean as ${shell}`, function () {
            const file = path.join(tmp.dir, "script.sh");
            fs.writeFileSync(file, script);
            const r = spawnSync("shellcheck", ["-s", shell, "--format", "gcc", file], { encoding: "utf8" });
            assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
        });
    }

    it("config (dash): writes the four files from base64, installs the driver only when its sha256 matches", function () {
        const out = path.join(tmp.dir, "out");
        const jar = path.join(tmp.dir, "driver.jar");
        fs.writeFileSync(jar, "not really a jar\n");
        const sha = crypto.createHash("sha256").update(fs.readFileSync(jar)).digest("hex");
        const b64 = (s: string) => Buffer.from(s).toString("base64");
        // Packed as containers.ts packs them (gzipStable), so gunzip reads the real bytes.
        const gzB64 = (s: string) => gzipStable(s).toString("base64");
        const toml = '[server]\nhostname = "is.example.com"\n# quotes \' " and $dollars stay\n';
        const env = {
            DEPLOYMENT_TOML_B64: b64(toml),
            DB_INIT_SH_GZ_B64: gzB64("#!/usr/bin/env bash\necho db-init\n"),
            DB_INIT_ENV_B64: b64("DB_HOST='db'\n"),
            FIRST_START_GATE_SH_GZ_B64: gzB64("#!/usr/bin/env bash\necho gate\n"),
            BUILD_KEYSTORES_JAVA_B64: b64("class BuildKeystores {}\n"),
            JDBC_DRIVER_URL: `file://${jar}`,
            JDBC_DRIVER_SHA256: sha,
        };
        const script = configScript.replace(/\/out\//g, `${out}/`).replace(/ \/out\b/g, ` ${out}`);
        assert.ok(!/(^|[\s"])\/out/.test(script), script);
        const r = run("dash", script, env);
        assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
        assert.equal(fs.readFileSync(path.join(out, "config/repository/conf/deployment.toml"), "utf8"), toml);
        assert.equal(fs.readFileSync(path.join(out, "boot/db-init.env"), "utf8"), "DB_HOST='db'\n");
        assert.equal(
            fs.readFileSync(path.join(out, "boot/db-init.sh"), "utf8"),
            "#!/usr/bin/env bash\necho db-init\n",
        );
        assert.equal(
            fs.readFileSync(path.join(out, "boot/first-start-gate.sh"), "utf8"),
            "#!/usr/bin/env bash\necho gate\n",
        );
        assert.equal(
            fs.readFileSync(path.join(out, "boot/BuildKeystores.java"), "utf8"),
            "class BuildKeystores {}\n",
        );
        assert.equal(
            fs.statSync(path.join(out, "config/repository/resources/security")).uid,
            802,
            "the keystores' directory handed to the image's user",
        );
        assert.equal(
            fs.readFileSync(
                path.join(out, "artifacts/repository/components/lib/mysql-connector-j.jar"),
                "utf8",
            ),
            "not really a jar\n",
        );
        assert.equal(
            fs.statSync(path.join(out, "boot/is")).uid,
            802,
            "dbscripts dir handed to the image's user",
        );

        const out2 = path.join(tmp.dir, "out2");
        const bad = run(
            "dash",
            configScript.replace(/\/out\//g, `${out2}/`).replace(/ \/out\b/g, ` ${out2}`),
            {
                ...env,
                JDBC_DRIVER_SHA256: "0".repeat(64),
            },
        );
        assert.notEqual(bad.status, 0, "a wrong digest fails the container");
        assert.ok(
            !fs.existsSync(path.join(out2, "artifacts/repository/components/lib/mysql-connector-j.jar")),
        );
    });

    it("keystores (bash, real java): key, certificate and password reach BuildKeystores.java through pipes; only the PKCS#12 files are written", function () {
        ensureCommands({ java: "java", openssl: "openssl", keytool: "keytool" });
        this.timeout(180000);
        const boot = path.join(tmp.dir, "boot");
        const out = path.join(tmp.dir, "out");
        fs.mkdirSync(boot);
        fs.mkdirSync(path.join(out, "config"), { recursive: true });
        fs.writeFileSync(path.join(boot, "BuildKeystores.java"), keystoreProgramText());
        const key = path.join(tmp.dir, "k.pem");
        const cert = path.join(tmp.dir, "c.pem");
        const gen = spawnSync(
            "openssl",
            [
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                key,
                "-out",
                cert,
                "-subj",
                "/CN=is.example.com",
                "-days",
                "2",
            ],
            { encoding: "utf8" },
        );
        assert.equal(gen.status, 0, gen.stderr);
        const trustIn = path.join(tmp.dir, "client-truststore.p12");
        const ts = spawnSync(
            "keytool",
            [
                "-genkeypair",
                "-alias",
                "wso2carbon",
                "-keyalg",
                "RSA",
                "-keystore",
                trustIn,
                "-storetype",
                "PKCS12",
                "-storepass",
                "wso2carbon",
                "-dname",
                "CN=wso2carbon",
            ],
            { encoding: "utf8" },
        );
        assert.equal(ts.status, 0, ts.stderr);
        const password = "p@ss w0rd-_=+.#%";
        const keystore = path.join(out, "config/wso2is-signing.p12");
        const r = run("bash", keystoresScript.replace(/\/boot\//g, `${boot}/`), {
            WSO2_SIGNING_KEY: fs.readFileSync(key, "utf8"),
            WSO2_SIGNING_CERT: fs.readFileSync(cert, "utf8"),
            WSO2_SIGNING_KEYSTORE_PASSWORD: password,
            SIGNING_ALIAS: "wso2is-signing",
            SIGNING_KEYSTORE: keystore,
            TRUSTSTORE_IN: trustIn,
            TRUSTSTORE_OUT: path.join(out, "config/client-truststore.p12"),
            JAVA_TOOL_OPTIONS: "-Xmx128m",
        });
        assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
        assert.deepEqual(fs.readdirSync(path.join(out, "config")).sort(), [
            "client-truststore.p12",
            "wso2is-signing.p12",
        ]);
        assert.equal(fs.statSync(keystore).mode & 0o077, 0, "keystore readable by its owner only");
        const list = spawnSync("keytool", ["-list", "-keystore", keystore, "-storepass", password], {
            encoding: "utf8",
        });
        assert.equal(list.status, 0, list.stderr);
        assert.match(list.stdout, /wso2is-signing, .*PrivateKeyEntry/);
        // A wrong password on the stored keystore fails: the password ECS injected is the one used.
        assert.notEqual(
            spawnSync("keytool", ["-list", "-keystore", keystore, "-storepass", "other"]).status,
            0,
        );
        assert.deepEqual(fs.readdirSync(boot), ["BuildKeystores.java"], "no key material written to boot");
    });

    it("db-init (bash): the passwords reach db-init.sh through a pipe, intact, and never a file", function () {
        const boot = path.join(tmp.dir, "boot");
        fs.mkdirSync(boot);
        fs.writeFileSync(path.join(boot, "db-init.env"), "DB_HOST='db'\n");
        // A stand-in db-init.sh: reads both files the way the real one does (source) and reports.
        fs.writeFileSync(
            path.join(boot, "db-init.sh"),
            [
                "set -euo pipefail",
                "[[ -r $WSO2IS_SECRETS_ENV ]] || exit 9",
                '[[ -f $WSO2IS_SECRETS_ENV ]] && echo "regular file"',
                'source "$WSO2IS_NODE_ENV"',
                'source "$WSO2IS_SECRETS_ENV"',
                'printf "%s|%s|%s|%s\\n" "$DB_HOST" "$WSO2_DB_ADMIN_USER" "$WSO2_DB_ADMIN_PASSWORD" "$WSO2_DB_PASSWORD"',
            ].join("\n"),
        );
        // A stand-in gate: reports its mode, the app password, and the keys its secrets pipe holds.
        fs.writeFileSync(
            path.join(boot, "first-start-gate.sh"),
            [
                "set -euo pipefail",
                '[[ -f $WSO2IS_SECRETS_ENV ]] && echo "regular file"',
                // A pipe reads once: keep it, list its keys, then take the password from it alone.
                'content=$(<"$WSO2IS_SECRETS_ENV")',
                'keys=$(printf "%s\\n" "$content" | cut -d= -f1 | tr "\\n" " ")',
                "unset WSO2_DB_PASSWORD",
                'eval "$content"',
                'printf "gate %s|%s|%s\\n" "$1" "$WSO2_DB_PASSWORD" "$keys"',
            ].join("\n"),
        );
        const admin = `a'b"c $HOME \\ x;y`;
        const app = "p@ss w0rd$(id)";
        const r = run("bash", dbInitScript.replace(/\/boot\//g, `${boot}/`), {
            WSO2_DB_ADMIN_USER: "wso2admin",
            WSO2_DB_ADMIN_PASSWORD: admin,
            WSO2_DB_PASSWORD: app,
        });
        assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
        // db-init, then the gate's enter (exec: its exit is the container's), never with the admin pair.
        assert.equal(r.stdout, `db|wso2admin|${admin}|${app}\ngate enter|${app}|WSO2_DB_PASSWORD \n`);
        assert.deepEqual(
            fs.readdirSync(boot).sort(),
            ["db-init.env", "db-init.sh", "first-start-gate.sh"],
            "nothing written",
        );
        const hold = run("bash", gateHoldScript.replace(/\/boot\//g, `${boot}/`), { WSO2_DB_PASSWORD: app });
        assert.equal(hold.status, 0, `${hold.stdout}${hold.stderr}`);
        assert.equal(hold.stdout, `gate hold|${app}|WSO2_DB_PASSWORD \n`);
        // A failing db-init fails the container (the IS container then never starts).
        fs.writeFileSync(path.join(boot, "db-init.sh"), "exit 6\n");
        const failed = run("bash", dbInitScript.replace(/\/boot\//g, `${boot}/`), {
            WSO2_DB_ADMIN_USER: "u",
            WSO2_DB_ADMIN_PASSWORD: "p",
            WSO2_DB_PASSWORD: "q",
        });
        assert.equal(failed.status, 6);
    });

    it("wso2is entrypoint (dash): SIGTERM becomes `wso2server.sh stop`, which the JVM stand-in obeys; the exit is clean", async function () {
        const home = path.join(tmp.dir, "is");
        fs.mkdirSync(path.join(home, "bin"), { recursive: true });
        const log = path.join(tmp.dir, "log");
        // The stand-in JVM: runs until SIGTERM, then "leaves the cluster" and exits 0.
        fs.writeFileSync(
            path.join(home, "bin", "wso2server.sh"),
            [
                'if [ "${1:-}" = stop ]; then echo "stop requested" >> "$LOG"; kill -TERM "$(cat "$WSO2_SERVER_HOME/wso2carbon.pid")"; exit 0; fi',
                'sh -c \'trap "echo left-cluster >> \\"$LOG\\"; exit 0" TERM; echo "$NODE_IP" >> "$LOG"; while :; do sleep 0.1; done\' &',
                'echo $! > "$WSO2_SERVER_HOME/wso2carbon.pid"',
                "wait $!",
            ].join("\n"),
        );
        const entrypoint = path.join(tmp.dir, "docker-entrypoint.sh");
        fs.writeFileSync(entrypoint, 'sh "$WSO2_SERVER_HOME/bin/wso2server.sh"\n', { mode: 0o755 });
        const script = isEntrypointScript
            .replace(/^token=.*$/m, "token=x")
            .replace(/^NODE_IP=.*$/m, "NODE_IP=10.43.2.17")
            .replace("/home/wso2carbon/docker-entrypoint.sh", entrypoint);
        assert.notEqual(script, isEntrypointScript);
        const child = spawn("dash", ["-c", script], {
            env: { PATH: process.env.PATH!, WSO2_SERVER_HOME: home, LOG: log },
            stdio: "ignore",
        });
        const waitFor = async (f: () => boolean) => {
            for (let i = 0; i < 100 && !f(); i++) await new Promise((r) => setTimeout(r, 100));
            assert.ok(f());
        };
        await waitFor(() => fs.existsSync(log) && fs.readFileSync(log, "utf8").includes("10.43.2.17"));
        const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
        child.kill("SIGTERM");
        const code = await exited;
        assert.equal(code, 0);
        assert.deepEqual(fs.readFileSync(log, "utf8").trim().split("\n"), [
            "10.43.2.17",
            "stop requested",
            "left-cluster",
        ]);
    });
});
