// node-ip.sh, fetch-secrets.sh, install-is.sh and mount-share.sh, run for real against temp
// directories, with a local HTTP server standing in for the cloud metadata services, Key Vault
// and the download sites, and the AWS stand-in (IMDS + Secrets Manager, SigV4 checked).
import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { isEnvValue } from "../../components/render/deploymentToml";
import { nodeEnvEntries } from "../../components/render/nodeEnv";
import { azureModel } from "../fixtures/models";
import { AwsStandIn, startAwsStandIn } from "./support/aws";
import { ensureCommands, systemdEnvReader, tempDir } from "./support/system";
import {
    HttpStub,
    RecordedRequest,
    Reply,
    run,
    RunResult,
    runScript as runScriptRaw,
    SCRIPTS_DIR,
    sha256,
    startHttpStub,
} from "./support/scripts";

type Temp = { dir: string; cleanup: () => void };

function writeEnv(file: string, vars: Record<string, string>): void {
    fs.writeFileSync(
        file,
        Object.entries(vars)
            .map(([k, v]) => `${k}='${v}'\n`)
            .join(""),
    );
}

/** node.env's Key Vault wait as an Azure VM gets it (60 x 10 s, components/model/boot.ts). */
const KEY_VAULT_WAIT = Object.fromEntries(
    nodeEnvEntries(azureModel(), azureModel().nodes[0]).filter(([k]) => k.startsWith("SECRET_FETCH_")),
);

function fileId(file: string): string {
    const st = fs.statSync(file);
    return `${st.ino} ${st.mtimeMs} ${st.ctimeMs}`;
}

function errorLines(stderr: string): string[] {
    return stderr.split("\n").filter((l) => /^[\w.-]+\.sh: error: /.test(l));
}

/** Runs a script and checks that every line it logs carries its name. */
async function runScript(name: string, env: Record<string, string>): Promise<RunResult> {
    const r = await runScriptRaw(name, env);
    for (const line of r.stderr.split("\n").filter((l) => l.length > 0)) {
        assert.ok(line.startsWith(`${name}: `), `a log line of ${name} without its name: ${line}`);
    }
    return r;
}

/** True when some running process has `needle` in its argv. */
function inSomeArgv(needle: string): boolean {
    for (const pid of fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
        try {
            if (fs.readFileSync(`/proc/${pid}/cmdline`, "latin1").includes(needle)) return true;
        } catch {
            // the process ended meanwhile
        }
    }
    return false;
}

describe("node-ip.sh", function () {
    this.timeout(60000);
    let tmp: Temp;
    let stub: HttpStub | undefined;
    let hosts: string;
    let runtimeEnv: string;
    let nodeEnv: string;
    const HOSTS = "127.0.0.1 localhost\n::1 localhost ip6-localhost\n10.9.9.9 other.example.com\n";

    beforeEach(function () {
        ensureCommands({ curl: "curl" });
        tmp = tempDir("node-ip");
        hosts = path.join(tmp.dir, "hosts");
        runtimeEnv = path.join(tmp.dir, "etc", "runtime.env");
        nodeEnv = path.join(tmp.dir, "node.env");
        fs.writeFileSync(hosts, HOSTS);
        fs.chmodSync(hosts, 0o644);
    });

    afterEach(async function () {
        await stub?.close();
        stub = undefined;
        tmp.cleanup();
    });

    const env = (extra: Record<string, string> = {}) => ({
        WSO2IS_NODE_ENV: nodeEnv,
        WSO2IS_RUNTIME_ENV: runtimeEnv,
        WSO2IS_HOSTS_FILE: hosts,
        ...(stub ? { WSO2IS_IMDS_ENDPOINT: stub.base } : {}),
        IMDS_RETRY_DELAY: "0",
        ...extra,
    });

    function pinLines(): string[] {
        return fs
            .readFileSync(hosts, "utf8")
            .split("\n")
            .filter((l) => l.includes("wso2is-lb-pin"));
    }

    it("static: writes NODE_IP and pins LB_HOSTNAME once; a rerun rewrites nothing; a new IP replaces the pin", async function () {
        writeEnv(nodeEnv, {
            NODE_IP_SOURCE: "static",
            NODE_IP: "10.20.30.40",
            LB_HOSTNAME: "is.example.com",
        });
        fs.mkdirSync(path.dirname(runtimeEnv));
        fs.writeFileSync(runtimeEnv, "OTHER=kept\nNODE_IP=1.1.1.1\n");
        let r = await runScript("node-ip.sh", env());
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /^node-ip\.sh: node IP is 10\.20\.30\.40 \(source: static\)$/m);
        assert.equal(fs.readFileSync(runtimeEnv, "utf8"), "OTHER=kept\nNODE_IP=10.20.30.40\n");
        assert.equal(fs.readFileSync(hosts, "utf8"), `${HOSTS}10.20.30.40 is.example.com # wso2is-lb-pin\n`);
        assert.equal(fs.statSync(hosts).mode & 0o777, 0o644);
        assert.equal(fs.statSync(runtimeEnv).mode & 0o777, 0o644);

        const ids = [fileId(hosts), fileId(runtimeEnv)];
        r = await runScript("node-ip.sh", env());
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual([fileId(hosts), fileId(runtimeEnv)], ids, "a rerun must not rewrite either file");
        assert.equal(pinLines().length, 1);

        writeEnv(nodeEnv, {
            NODE_IP_SOURCE: "static",
            NODE_IP: "10.20.30.41",
            LB_HOSTNAME: "is.example.com",
        });
        r = await runScript("node-ip.sh", env());
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(pinLines(), ["10.20.30.41 is.example.com # wso2is-lb-pin"]);
        assert.ok(fs.readFileSync(hosts, "utf8").startsWith(HOSTS), "other hosts lines kept");
        assert.equal(fs.readFileSync(runtimeEnv, "utf8"), "OTHER=kept\nNODE_IP=10.20.30.41\n");
        assert.deepEqual(fs.readdirSync(tmp.dir).sort(), ["etc", "hosts", "node.env"], "no temp file left");
    });

    it("static: refuses an address that is not IPv4, with one message, touching nothing", async function () {
        writeEnv(nodeEnv, { NODE_IP_SOURCE: "static", NODE_IP: "10.0.0.256", LB_HOSTNAME: "is.example.com" });
        const r = await runScript("node-ip.sh", env());
        assert.notEqual(r.code, 0);
        assert.deepEqual(errorLines(r.stderr), [
            "node-ip.sh: error: '10.0.0.256' from static is not an IPv4 address",
        ]);
        assert.equal(fs.readFileSync(hosts, "utf8"), HOSTS);
        assert.ok(!fs.existsSync(runtimeEnv));
    });

    it("aws-imds: PUTs for an IMDSv2 token, then GETs local-ipv4 with it (the token never in argv)", async function () {
        const token = "AQAEAtoken-" + Date.now();
        let tokenInArgv: boolean | undefined;
        stub = await startHttpStub((req) => {
            if (req.method === "PUT" && req.url === "/latest/api/token") {
                return req.headers["x-aws-ec2-metadata-token-ttl-seconds"]
                    ? { body: token }
                    : { status: 400 };
            }
            if (req.method === "GET" && req.url === "/latest/meta-data/local-ipv4") {
                tokenInArgv = inSomeArgv(token);
                return req.headers["x-aws-ec2-metadata-token"] === token
                    ? { body: "172.31.5.17" }
                    : { status: 401 };
            }
            return { status: 404 };
        });
        writeEnv(nodeEnv, { NODE_IP_SOURCE: "aws-imds", LB_HOSTNAME: "is.example.com" });
        const r = await runScript("node-ip.sh", env());
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(
            stub.requests.map((q) => [q.method, q.url]),
            [
                ["PUT", "/latest/api/token"],
                ["GET", "/latest/meta-data/local-ipv4"],
            ],
        );
        assert.match(String(stub.requests[0].headers["x-aws-ec2-metadata-token-ttl-seconds"]), /^\d+$/);
        assert.equal(stub.requests[1].headers["x-aws-ec2-metadata-token"], token);
        assert.equal(tokenInArgv, false, "the IMDSv2 token showed up in some process's argv");
        assert.equal(fs.readFileSync(runtimeEnv, "utf8"), "NODE_IP=172.31.5.17\n");
        assert.deepEqual(pinLines(), ["172.31.5.17 is.example.com # wso2is-lb-pin"]);
    });

    it("azure-imds: GETs privateIpAddress with Metadata: true", async function () {
        stub = await startHttpStub((req) =>
            req.headers["metadata"] === "true"
                ? { body: "10.1.0.5\n" }
                : { status: 400, body: "Required metadata header not specified" },
        );
        writeEnv(nodeEnv, { NODE_IP_SOURCE: "azure-imds", LB_HOSTNAME: "is.example.com" });
        const r = await runScript("node-ip.sh", env());
        assert.equal(r.code, 0, r.stderr);
        assert.equal(stub.requests.length, 1);
        assert.equal(stub.requests[0].method, "GET");
        assert.equal(
            stub.requests[0].url,
            "/metadata/instance/network/interface/0/ipv4/ipAddress/0/privateIpAddress?api-version=2021-02-01&format=text",
        );
        assert.equal(stub.requests[0].headers["metadata"], "true");
        assert.equal(fs.readFileSync(runtimeEnv, "utf8"), "NODE_IP=10.1.0.5\n");
        assert.deepEqual(pinLines(), ["10.1.0.5 is.example.com # wso2is-lb-pin"]);
    });

    it("retries a metadata service that is not ready yet, and gives up after IMDS_RETRIES", async function () {
        let calls = 0;
        stub = await startHttpStub(() => (++calls <= 2 ? { status: 503 } : { body: "10.1.0.6" }));
        writeEnv(nodeEnv, { NODE_IP_SOURCE: "azure-imds", LB_HOSTNAME: "is.example.com" });
        let r = await runScript("node-ip.sh", env({ IMDS_RETRIES: "5" }));
        assert.equal(r.code, 0, r.stderr);
        assert.equal(stub.requests.length, 3);
        assert.match(r.stderr, /attempt 1\/5 failed/);
        assert.equal(fs.readFileSync(runtimeEnv, "utf8"), "NODE_IP=10.1.0.6\n");

        await stub.close();
        stub = await startHttpStub(() => ({ status: 500 }));
        r = await runScript("node-ip.sh", env({ IMDS_RETRIES: "3" }));
        assert.notEqual(r.code, 0);
        assert.equal(stub.requests.length, 3, "bounded: exactly IMDS_RETRIES attempts");
        assert.deepEqual(errorLines(r.stderr), [
            `node-ip.sh: error: could not read the private IP from the Azure IMDS at ${stub.base}`,
        ]);
    });

    it("refuses garbage from the metadata service", async function () {
        stub = await startHttpStub(() => ({ body: "<html>captive portal</html>" }));
        writeEnv(nodeEnv, { NODE_IP_SOURCE: "azure-imds", LB_HOSTNAME: "is.example.com" });
        const r = await runScript("node-ip.sh", env());
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, /is not an IPv4 address/);
        assert.equal(fs.readFileSync(hosts, "utf8"), HOSTS);
    });
});

function bashSource(file: string, variable: string): string {
    return execFileSync("bash", ["-c", `set -a; source "$1"; printf %s "$${variable}"`, "bash", file], {
        encoding: "utf8",
        env: { PATH: process.env.PATH, HOME: "/nonexistent-home" },
    });
}

describe("fetch-secrets.sh", function () {
    this.timeout(60000);
    let tmp: Temp;
    let stub: HttpStub | undefined;
    let readWithSystemd: (file: string) => Record<string, string>;
    let nodeEnv: string;
    let secretsEnv: string;
    const NASTY = ` it's "quoted" $HOME \`id\` $(id) \\back\\slash\\ ; # ümlaut ${"'"}${"'"} end `;
    const SECRET = {
        dbAdminUser: "dbadmin",
        dbAdminPassword: "adm'in $x \\",
        dbAppPassword: NASTY,
        adminPassword: 'S3cr"et!*?[a]',
        encryptionKey: "00112233445566778899AABBCCDDEEFF",
    };
    // secrets.env: what IS reads through $env{}, in the form that reaches IS intact (the same
    // escaping as isEnvValue; is-values.test.ts runs it through IS's path); no admin pair.
    const EXPECTED = {
        WSO2_DB_PASSWORD: isEnvValue(SECRET.dbAppPassword),
        WSO2_ADMIN_PASSWORD: isEnvValue(SECRET.adminPassword),
        WSO2_ENCRYPTION_KEY: SECRET.encryptionKey,
    };
    // The db-init file (WSO2IS_DB_ADMIN_ENV): the values as they are.
    const EXPECTED_DB_ADMIN = {
        WSO2_DB_ADMIN_USER: SECRET.dbAdminUser,
        WSO2_DB_ADMIN_PASSWORD: SECRET.dbAdminPassword,
        WSO2_DB_PASSWORD: SECRET.dbAppPassword,
    };

    before(function () {
        ensureCommands({ jq: "jq", curl: "curl" });
        tmp = tempDir("fetch-secrets");
        readWithSystemd = systemdEnvReader(tmp.dir);
    });

    after(function () {
        tmp.cleanup();
    });

    let caseDir: string;
    beforeEach(function () {
        caseDir = fs.mkdtempSync(path.join(tmp.dir, "case-"));
        nodeEnv = path.join(caseDir, "node.env");
        secretsEnv = path.join(caseDir, "etc", "secrets.env");
    });

    afterEach(async function () {
        await stub?.close();
        stub = undefined;
    });

    let aws: AwsStandIn | undefined;
    afterEach(async function () {
        await aws?.close();
        aws = undefined;
    });

    /**
     * The AWS stand-in (IMDSv2 + Secrets Manager, SigV4 checked) serving `secretString` as the
     * SecretString of `secretId`; returns the environment that points fetch-secrets.sh at it.
     */
    async function fakeAws(secretString: string, secretId = "wso2is"): Promise<Record<string, string>> {
        await aws?.close();
        aws = await startAwsStandIn({ secrets: { [secretId]: secretString } });
        return aws.env;
    }

    function assertSecretsFile(): void {
        assert.equal(fs.statSync(secretsEnv).mode & 0o777, 0o600);
        for (const [k, v] of Object.entries(EXPECTED))
            assert.equal(bashSource(secretsEnv, k), v, `bash source: ${k}`);
        assert.deepEqual(readWithSystemd(secretsEnv), EXPECTED, "systemd EnvironmentFile parser");
        assert.deepEqual(fs.readdirSync(path.dirname(secretsEnv)), ["secrets.env"], "no temp file left");
    }

    it("aws-secrets-manager: a SigV4-signed GetSecretValue with the role's IMDSv2 credentials (never in argv), writes a 0600 file that bash and systemd read back", async function () {
        const secretId = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:wso2is-AbCdEf";
        const awsEnv = await fakeAws(JSON.stringify(SECRET), secretId);
        // Hold the call long enough to look at every process's argv while curl runs.
        aws!.update({ delayMs: { secretsmanager: 1500 } });
        writeEnv(nodeEnv, {
            SECRET_SOURCE: "aws-secrets-manager",
            SECRET_ID: secretId,
            AWS_REGION: "eu-west-1",
        });
        const env = { WSO2IS_NODE_ENV: nodeEnv, WSO2IS_SECRETS_ENV: secretsEnv, ...awsEnv };
        const { secretAccessKey, sessionToken, accessKeyId } = aws!.config;
        const running = runScript("fetch-secrets.sh", env);
        let sawCurl = false;
        let leaked = false;
        for (let i = 0; i < 100 && !sawCurl; i++) {
            await new Promise((resolve) => setTimeout(resolve, 20));
            sawCurl = inSomeArgv("--aws-sigv4");
            leaked ||= inSomeArgv(secretAccessKey) || inSomeArgv(sessionToken) || inSomeArgv(accessKeyId);
        }
        let r = await running;
        assert.equal(r.code, 0, r.stderr);
        assert.ok(sawCurl, "never saw the signed curl running: the argv check proved nothing");
        assert.ok(!leaked, "a credential was visible in some process's argv");
        const calls = aws!.requests().filter((q) => q.category === "secretsmanager");
        assert.equal(calls.length, 1);
        assert.equal(calls[0].sigOk, true, calls[0].sigError);
        assert.equal(calls[0].headers["x-amz-target"], "secretsmanager.GetSecretValue");
        assert.deepEqual(JSON.parse(calls[0].body), { SecretId: secretId });
        assertSecretsFile();
        for (const v of [...Object.values(SECRET).slice(1), secretAccessKey, sessionToken])
            assert.ok(!r.stderr.includes(v), "a secret value reached the log");

        aws!.update({ delayMs: {} });
        const id = fileId(secretsEnv);
        r = await runScript("fetch-secrets.sh", env);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(fileId(secretsEnv), id, "an unchanged secret must leave secrets.env untouched");
    });

    it("WSO2IS_DB_ADMIN_ENV: the admin pair goes only to that file (0600), as it is; secrets.env never has it", async function () {
        const awsEnv = await fakeAws(JSON.stringify(SECRET));
        writeEnv(nodeEnv, {
            SECRET_SOURCE: "aws-secrets-manager",
            SECRET_ID: "wso2is",
            AWS_REGION: "eu-west-1",
        });
        const dbAdminEnv = path.join(caseDir, "run", "db-admin.env");
        const r = await runScript("fetch-secrets.sh", {
            WSO2IS_NODE_ENV: nodeEnv,
            WSO2IS_SECRETS_ENV: secretsEnv,
            ...awsEnv,
            WSO2IS_DB_ADMIN_ENV: dbAdminEnv,
        });
        assert.equal(r.code, 0, r.stderr);
        assertSecretsFile();
        assert.equal(fs.statSync(dbAdminEnv).mode & 0o777, 0o600);
        for (const [k, v] of Object.entries(EXPECTED_DB_ADMIN))
            assert.equal(bashSource(dbAdminEnv, k), v, `bash source (db-init): ${k}`);
        assert.deepEqual(readWithSystemd(dbAdminEnv), EXPECTED_DB_ADMIN);
        assert.ok(!fs.readFileSync(secretsEnv, "utf8").includes("WSO2_DB_ADMIN"));
        assert.ok(!r.stderr.includes(SECRET.dbAdminPassword), "a secret value reached the log");
    });

    it("refuses an encryption key that is not 128 bits of hex, naming the key only", async function () {
        const awsEnv = await fakeAws(JSON.stringify({ ...SECRET, encryptionKey: "not-a-key-hunter2" }));
        writeEnv(nodeEnv, {
            SECRET_SOURCE: "aws-secrets-manager",
            SECRET_ID: "wso2is",
            AWS_REGION: "eu-west-1",
        });
        const r = await runScript("fetch-secrets.sh", {
            WSO2IS_NODE_ENV: nodeEnv,
            WSO2IS_SECRETS_ENV: secretsEnv,
            ...awsEnv,
        });
        assert.notEqual(r.code, 0);
        assert.deepEqual(errorLines(r.stderr), [
            "fetch-secrets.sh: error: the secret wso2is is not usable: key encryptionKey is missing or not 32 hex digits (a 128-bit key)",
        ]);
        assert.ok(!r.stderr.includes("hunter2"));
        assert.ok(!fs.existsSync(secretsEnv));
    });

    it("azure-key-vault: managed identity token from IMDS, then the secret with the bearer token (never in argv)", async function () {
        const token = "eyJ0eXAiOiJKV1Qi.token-" + Date.now();
        let tokenInArgv: boolean | undefined;
        stub = await startHttpStub((req: RecordedRequest): Reply => {
            if (req.url.startsWith("/metadata/identity/oauth2/token")) {
                if (req.headers["metadata"] !== "true") return { status: 400 };
                return {
                    body: JSON.stringify({
                        access_token: token,
                        token_type: "Bearer",
                        resource: "https://vault.azure.net",
                    }),
                };
            }
            if (req.url.startsWith("/secrets/wso2is-cluster")) {
                tokenInArgv = inSomeArgv(token);
                if (req.headers["authorization"] !== `Bearer ${token}`) return { status: 401 };
                return {
                    body: JSON.stringify({
                        value: JSON.stringify(SECRET),
                        id: "x",
                        attributes: { enabled: true },
                    }),
                };
            }
            return { status: 404 };
        });
        writeEnv(nodeEnv, {
            SECRET_SOURCE: "azure-key-vault",
            ...KEY_VAULT_WAIT,
            SECRET_ID: `${stub.base}/secrets/wso2is-cluster`,
        });
        const r = await runScript("fetch-secrets.sh", {
            WSO2IS_NODE_ENV: nodeEnv,
            WSO2IS_SECRETS_ENV: secretsEnv,
            WSO2IS_IMDS_ENDPOINT: stub.base,
        });
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(
            stub.requests.map((q) => [q.method, q.url]),
            [
                [
                    "GET",
                    "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net",
                ],
                ["GET", "/secrets/wso2is-cluster?api-version=7.4"],
            ],
        );
        assert.equal(stub.requests[0].headers["metadata"], "true");
        assert.equal(stub.requests[1].headers["authorization"], `Bearer ${token}`);
        assert.equal(tokenInArgv, false, "the bearer token showed up in some process's argv");
        assertSecretsFile();
    });

    it("azure-key-vault: waits for the VM's role (403s) SECRET_FETCH_RETRIES times; the environment's value wins over node.env's", async function () {
        let forbidden = 2;
        stub = await startHttpStub((req: RecordedRequest): Reply => {
            if (req.url.startsWith("/metadata/identity/oauth2/token"))
                return { body: JSON.stringify({ access_token: "tok" }) };
            if (req.url.startsWith("/secrets/cluster")) {
                if (forbidden-- > 0) return { status: 403, body: '{"error":{"code":"Forbidden"}}' };
                return { body: JSON.stringify({ value: JSON.stringify(SECRET) }) };
            }
            return { status: 404 };
        });
        assert.deepEqual(KEY_VAULT_WAIT, { SECRET_FETCH_RETRIES: "60", SECRET_FETCH_RETRY_DELAY: "10" });
        writeEnv(nodeEnv, {
            SECRET_SOURCE: "azure-key-vault",
            SECRET_ID: `${stub.base}/secrets/cluster`,
            ...KEY_VAULT_WAIT,
        });
        // node.env's 10 s between tries would take 20 s here; the environment's 0 s wins.
        const env = {
            WSO2IS_NODE_ENV: nodeEnv,
            WSO2IS_SECRETS_ENV: secretsEnv,
            WSO2IS_IMDS_ENDPOINT: stub.base,
            SECRET_FETCH_RETRIES: "3",
            SECRET_FETCH_RETRY_DELAY: "0",
        };
        const t0 = Date.now();
        let r = await runScript("fetch-secrets.sh", env);
        assert.equal(r.code, 0, r.stderr);
        assert.ok(Date.now() - t0 < 8000, "waited node.env's 10 s");
        assert.match(
            r.stderr,
            /^fetch-secrets\.sh: SECRET_FETCH_RETRIES: the environment's 3 wins over 60 from /m,
        );
        assert.match(
            r.stderr,
            /^fetch-secrets\.sh: SECRET_FETCH_RETRY_DELAY: the environment's 0 wins over 10 from /m,
        );
        assert.match(
            r.stderr,
            /waiting for Key Vault GET \S+\/secrets\/cluster: attempt 2\/3 failed \(exit 22\): curl: \(22\) The requested URL returned error: 403; next try in 0s/,
        );
        assertSecretsFile();
        assert.equal(stub.requests.filter((q) => q.url.startsWith("/secrets/")).length, 3);

        // A role that never arrives: exactly SECRET_FETCH_RETRIES tries, then one clear error.
        forbidden = 100;
        fs.rmSync(secretsEnv);
        const before = stub.requests.length;
        r = await runScript("fetch-secrets.sh", env);
        assert.notEqual(r.code, 0);
        assert.equal(stub.requests.slice(before).filter((q) => q.url.startsWith("/secrets/")).length, 3);
        assert.deepEqual(errorLines(r.stderr), [
            "fetch-secrets.sh: error: could not read " +
                `${stub.base}/secrets/cluster from Key Vault (does the identity have the Key Vault Secrets User role?)`,
        ]);
        assert.ok(!fs.existsSync(secretsEnv));
    });

    it("azure-key-vault: node.env without the wait (SECRET_FETCH_RETRIES) is refused, naming it", async function () {
        writeEnv(nodeEnv, {
            SECRET_SOURCE: "azure-key-vault",
            SECRET_ID: "https://v.vault.azure.net/secrets/cluster",
        });
        const r = await runScript("fetch-secrets.sh", {
            WSO2IS_NODE_ENV: nodeEnv,
            WSO2IS_SECRETS_ENV: secretsEnv,
            WSO2IS_IMDS_ENDPOINT: "http://127.0.0.1:9",
        });
        assert.equal(r.code, 2);
        assert.deepEqual(errorLines(r.stderr), [
            `fetch-secrets.sh: error: SECRET_FETCH_RETRIES is not set (node.env: ${nodeEnv})`,
        ]);
    });

    it("SMB share: also writes the cifs credentials file (0600) from smbUsername/smbPassword; a rerun changes nothing", async function () {
        const smb = { smbUsername: "wso2isazdev1a2b3c", smbPassword: "k3y+/with=base64/chars'and$more==" };
        stub = await startHttpStub((req: RecordedRequest): Reply => {
            if (req.url.startsWith("/metadata/identity/oauth2/token"))
                return { body: JSON.stringify({ access_token: "tok" }) };
            if (req.url.startsWith("/secrets/cluster"))
                return { body: JSON.stringify({ value: JSON.stringify({ ...SECRET, ...smb }) }) };
            return { status: 404 };
        });
        const credentials = path.join(caseDir, "smb", "smb-credentials");
        writeEnv(nodeEnv, {
            SECRET_SOURCE: "azure-key-vault",
            ...KEY_VAULT_WAIT,
            SECRET_ID: `${stub.base}/secrets/cluster`,
            SMB_CREDENTIALS_FILE: credentials,
        });
        const env = {
            WSO2IS_NODE_ENV: nodeEnv,
            WSO2IS_SECRETS_ENV: secretsEnv,
            WSO2IS_IMDS_ENDPOINT: stub.base,
        };
        let r = await runScript("fetch-secrets.sh", env);
        assert.equal(r.code, 0, r.stderr);
        assertSecretsFile();
        assert.equal(
            fs.readFileSync(credentials, "utf8"),
            `username=${smb.smbUsername}\npassword=${smb.smbPassword}\n`,
        );
        assert.equal(fs.statSync(credentials).mode & 0o777, 0o600);
        assert.deepEqual(fs.readdirSync(path.dirname(credentials)), ["smb-credentials"], "no temp file left");
        assert.ok(!r.stderr.includes(smb.smbPassword), "the storage key reached the log");
        assert.ok(!bashSource(secretsEnv, "WSO2_DB_PASSWORD").includes(smb.smbPassword));
        assert.ok(
            !fs.readFileSync(secretsEnv, "utf8").includes(smb.smbPassword),
            "the storage key belongs in the credentials file only",
        );

        const ids = [fileId(secretsEnv), fileId(credentials)];
        r = await runScript("fetch-secrets.sh", env);
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(
            [fileId(secretsEnv), fileId(credentials)],
            ids,
            "an unchanged secret must leave both files untouched",
        );
    });

    it("SMB share: a secret without smbPassword fails naming the key, and writes neither file", async function () {
        const awsEnv = await fakeAws(JSON.stringify({ ...SECRET, smbUsername: "acct" }));
        const credentials = path.join(caseDir, "smb-credentials");
        writeEnv(nodeEnv, {
            SECRET_SOURCE: "aws-secrets-manager",
            SECRET_ID: "wso2is",
            AWS_REGION: "eu-west-1",
            SMB_CREDENTIALS_FILE: credentials,
        });
        const r = await runScript("fetch-secrets.sh", {
            WSO2IS_NODE_ENV: nodeEnv,
            WSO2IS_SECRETS_ENV: secretsEnv,
            ...awsEnv,
        });
        assert.notEqual(r.code, 0);
        assert.deepEqual(errorLines(r.stderr), [
            "fetch-secrets.sh: error: the secret wso2is is not usable: key smbPassword is missing, empty or not a string",
        ]);
        assert.ok(!fs.existsSync(secretsEnv));
        assert.ok(!fs.existsSync(credentials));
        assert.deepEqual(fs.readdirSync(path.dirname(secretsEnv)), [], "no temp file left");
        assert.ok(
            !fs.readdirSync(caseDir).some((f) => f.startsWith(".smb-credentials")),
            "no temp file left",
        );
    });

    it("keystores: builds the signing keystore and IS's 9443 keystore from the secret's PEMs, trusts the cluster CA and the signing certificate; a rerun changes nothing", async function () {
        // About 15 keytool and openssl runs, each a JVM or a key operation: ~50 s on an idle 2-core
        // machine, more beside a qemu guest.
        this.timeout(240000);
        ensureCommands({ openssl: "openssl", keytool: "default-jre-headless" });
        const pki = path.join(caseDir, "pki");
        fs.mkdirSync(pki);
        const ssl = (...args: string[]) =>
            execFileSync("openssl", args, { cwd: pki, stdio: ["ignore", "pipe", "pipe"] });
        const makeCa = (name: string) =>
            ssl(
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                `${name}.key`,
                "-out",
                `${name}.pem`,
                "-subj",
                `/CN=${name}`,
                "-days",
                "2",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            );
        makeCa("ca");
        ssl(
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=is.example.com",
        );
        ssl(
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
        );
        ssl("pkey", "-in", "server.key", "-out", "server8.key");
        const read = (f: string) => fs.readFileSync(path.join(pki, f), "utf8");
        // The cluster's signing key pair (self-signed, as components/shared/clusterSecret.ts makes it).
        makeCa("signing");
        ssl("pkey", "-in", "signing.key", "-out", "signing8.key");
        const signing = {
            signingCertificate: read("signing.pem"),
            signingPrivateKey: read("signing8.key"),
            signingKeystorePassword: "Sg-pass_9.8#7%",
        };
        const tls = {
            tlsCertificate: read("server.pem") + read("ca.pem"),
            tlsPrivateKey: read("server8.key"),
            tlsCaCertificate: read("ca.pem"),
            tlsKeystorePassword: "Ks-pass_1.2#3%",
        };

        // A stand-in IS_HOME with IS's default truststore (PKCS12, password wso2carbon).
        const isHome = path.join(caseDir, "is");
        const security = path.join(isHome, "repository", "resources", "security");
        fs.mkdirSync(security, { recursive: true });
        makeCa("other");
        const truststore = path.join(security, "client-truststore.p12");
        const keytool = (...args: string[]) =>
            execFileSync("keytool", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
        keytool(
            "-importcert",
            "-noprompt",
            "-alias",
            "wso2carbon",
            "-file",
            path.join(pki, "other.pem"),
            "-keystore",
            truststore,
            "-storetype",
            "PKCS12",
            "-storepass",
            "wso2carbon",
        );
        const group = execFileSync("id", ["-gn"], { encoding: "utf8" }).trim();

        let secretJson = JSON.stringify({ ...SECRET, ...signing, ...tls });
        stub = await startHttpStub((req: RecordedRequest): Reply => {
            if (req.url.startsWith("/metadata/identity/oauth2/token"))
                return { body: JSON.stringify({ access_token: "tok" }) };
            if (req.url.startsWith("/secrets/cluster"))
                return { body: JSON.stringify({ value: secretJson }) };
            return { status: 404 };
        });
        const keystore = path.join(security, "wso2is-backend.p12");
        const signingKeystore = path.join(security, "wso2is-signing.p12");
        fs.chmodSync(isHome, 0o755);
        writeEnv(nodeEnv, {
            SIGNING_KEYSTORE_FILE: signingKeystore,
            SIGNING_KEYSTORE_ALIAS: "wso2is-signing",
            SECRET_SOURCE: "azure-key-vault",
            ...KEY_VAULT_WAIT,
            SECRET_ID: `${stub.base}/secrets/cluster`,
            IS_HOME: isHome,
            IS_USER: group,
            TLS_KEYSTORE_FILE: keystore,
            TLS_KEYSTORE_ALIAS: "wso2is-backend",
            TLS_CA_ALIAS: "wso2is-cluster-ca",
        });
        // keytool through a shim that counts its runs (then runs the real one): a start with
        // nothing changed must not start a JVM.
        const shimDir = path.join(caseDir, "shim");
        const keytoolRuns = path.join(caseDir, "keytool-runs");
        fs.mkdirSync(shimDir);
        const realKeytool = execFileSync("bash", ["-c", "command -v keytool"], { encoding: "utf8" }).trim();
        fs.writeFileSync(
            path.join(shimDir, "keytool"),
            `#!/bin/sh\necho "$1" >>'${keytoolRuns}'\nexec '${realKeytool}' "$@"\n`,
            { mode: 0o755 },
        );
        const runsSoFar = () =>
            fs.existsSync(keytoolRuns) ? fs.readFileSync(keytoolRuns, "utf8").split("\n").length - 1 : 0;
        const env = {
            WSO2IS_NODE_ENV: nodeEnv,
            WSO2IS_SECRETS_ENV: secretsEnv,
            WSO2IS_IMDS_ENDPOINT: stub.base,
            PATH: `${shimDir}:${process.env.PATH}`,
        };
        let r = await runScript("fetch-secrets.sh", env);
        assert.equal(r.code, 0, r.stderr);
        assert.ok(runsSoFar() >= 2, "the first run checks and adds with keytool");
        assert.deepEqual(readWithSystemd(secretsEnv), {
            ...EXPECTED,
            WSO2_SIGNING_KEYSTORE_PASSWORD: signing.signingKeystorePassword,
            WSO2_TLS_KEYSTORE_PASSWORD: tls.tlsKeystorePassword,
        });
        // IS's config tool writes the resolved values under IS_HOME: nobody else may read it.
        assert.equal(fs.statSync(isHome).mode & 0o777, 0o750);
        assert.deepEqual(
            fs.readdirSync(path.dirname(secretsEnv)),
            ["secrets.env"],
            "no temp file or directory left",
        );
        for (const v of [tls.tlsKeystorePassword, signing.signingKeystorePassword, "BEGIN PRIVATE KEY"])
            assert.ok(!r.stderr.includes(v), `${v} reached the log`);

        // The keystore: the server key with its chain under the alias, group-readable by IS only.
        const st = fs.statSync(keystore);
        assert.equal(st.mode & 0o777, 0o640);
        assert.equal(execFileSync("stat", ["-c", "%G", keystore], { encoding: "utf8" }).trim(), group);
        const listing = keytool(
            "-list",
            "-v",
            "-keystore",
            keystore,
            "-storetype",
            "PKCS12",
            "-storepass",
            tls.tlsKeystorePassword,
            "-alias",
            "wso2is-backend",
        );
        assert.match(listing, /Entry type: PrivateKeyEntry/);
        assert.match(listing, /Certificate chain length: 2/);
        assert.match(listing, /Owner: CN=is\.example\.com/);
        const fingerprint = (pem: string) =>
            String(ssl("x509", "-in", pem, "-noout", "-fingerprint", "-sha256"))
                .trim()
                .split("=")[1];
        const trusted = (alias: string) => {
            try {
                return /SHA-256\): (\S+)/.exec(
                    keytool("-list", "-keystore", truststore, "-storepass", "wso2carbon", "-alias", alias),
                )?.[1];
            } catch {
                return undefined;
            }
        };
        assert.equal(trusted("wso2is-cluster-ca"), fingerprint("ca.pem"));
        // The signing keystore: its key under the alias, mode 0640 group IS; the certificate trusted.
        assert.equal(fs.statSync(signingKeystore).mode & 0o777, 0o640);
        const signingListing = keytool(
            "-list",
            "-v",
            "-keystore",
            signingKeystore,
            "-storetype",
            "PKCS12",
            "-storepass",
            signing.signingKeystorePassword,
            "-alias",
            "wso2is-signing",
        );
        assert.match(signingListing, /Entry type: PrivateKeyEntry/);
        assert.match(signingListing, /Owner: CN=signing/);
        assert.equal(trusted("wso2is-signing"), fingerprint("signing.pem"));
        assert.equal(trusted("wso2carbon"), fingerprint("other.pem"), "IS's own entries stay");

        // What was checked, root-only beside the truststore: both aliases against its current bytes.
        const marker = `${truststore}.trusted`;
        assert.equal(fs.statSync(marker).mode & 0o777, 0o600);
        const truststoreSum = crypto.createHash("sha256").update(fs.readFileSync(truststore)).digest("hex");
        assert.deepEqual(fs.readFileSync(marker, "utf8").trim().split("\n").sort(), [
            `${truststoreSum} wso2is-cluster-ca ${fingerprint("ca.pem")}`,
            `${truststoreSum} wso2is-signing ${fingerprint("signing.pem")}`,
        ]);

        const ids = [fileId(secretsEnv), fileId(keystore), fileId(truststore), fileId(signingKeystore)];
        const runsBefore = runsSoFar();
        r = await runScript("fetch-secrets.sh", env);
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(
            [fileId(secretsEnv), fileId(keystore), fileId(truststore), fileId(signingKeystore)],
            ids,
            "an unchanged secret must leave every file untouched",
        );
        assert.match(r.stderr, /already trusts wso2is-cluster-ca \(unchanged since checked\)/);
        assert.equal(runsSoFar(), runsBefore, "an unchanged truststore is not listed again with keytool");

        // A truststore changed behind our back (an IS upgrade's, a hand edit): checked again, and
        // an alias that went missing is added back.
        keytool("-delete", "-keystore", truststore, "-storepass", "wso2carbon", "-alias", "wso2is-signing");
        r = await runScript("fetch-secrets.sh", env);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /added wso2is-signing/);
        assert.equal(trusted("wso2is-signing"), fingerprint("signing.pem"));
        assert.ok(runsSoFar() > runsBefore);

        // A new CA (a re-created cluster PKI) replaces the trusted entry and the keystore.
        makeCa("ca2");
        secretJson = JSON.stringify({ ...SECRET, ...signing, ...tls, tlsCaCertificate: read("ca2.pem") });
        r = await runScript("fetch-secrets.sh", env);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(trusted("wso2is-cluster-ca"), fingerprint("ca2.pem"));
        assert.notEqual(fileId(keystore), ids[1]);
    });

    it("backend TLS: a secret without the PEMs fails naming the key, and replaces nothing", async function () {
        const awsEnv = await fakeAws(
            JSON.stringify({
                ...SECRET,
                tlsCertificate: "not a pem",
                tlsPrivateKey: "x",
                tlsCaCertificate: "y",
                tlsKeystorePassword: "z",
            }),
        );
        writeEnv(nodeEnv, {
            SECRET_SOURCE: "aws-secrets-manager",
            SECRET_ID: "wso2is",
            AWS_REGION: "eu-west-1",
            IS_HOME: caseDir,
            IS_USER: "root",
            TLS_KEYSTORE_FILE: path.join(caseDir, "ks.p12"),
            TLS_KEYSTORE_ALIAS: "a",
            TLS_CA_ALIAS: "b",
        });
        const r = await runScript("fetch-secrets.sh", {
            WSO2IS_NODE_ENV: nodeEnv,
            WSO2IS_SECRETS_ENV: secretsEnv,
            ...awsEnv,
        });
        assert.notEqual(r.code, 0);
        assert.deepEqual(errorLines(r.stderr), [
            "fetch-secrets.sh: error: the secret wso2is is not usable: key tlsCertificate is missing or not PEM",
        ]);
        assert.ok(!fs.existsSync(secretsEnv));
        assert.ok(!fs.existsSync(path.join(caseDir, "ks.p12")));
        assert.deepEqual(fs.readdirSync(path.dirname(secretsEnv)), [], "no temp file left");
    });

    it("refuses a secret with a missing key, naming the key only, and writes nothing", async function () {
        const { adminPassword: _dropped, ...partial } = SECRET;
        const awsEnv = await fakeAws(JSON.stringify(partial));
        writeEnv(nodeEnv, {
            SECRET_SOURCE: "aws-secrets-manager",
            SECRET_ID: "wso2is",
            AWS_REGION: "eu-west-1",
        });
        const r = await runScript("fetch-secrets.sh", {
            WSO2IS_NODE_ENV: nodeEnv,
            WSO2IS_SECRETS_ENV: secretsEnv,
            ...awsEnv,
        });
        assert.notEqual(r.code, 0);
        assert.deepEqual(errorLines(r.stderr), [
            "fetch-secrets.sh: error: the secret wso2is is not usable: key adminPassword is missing, empty or not a string",
        ]);
        for (const v of Object.values(partial).slice(1))
            assert.ok(!r.stderr.includes(v), "a secret value reached the log");
        assert.ok(!fs.existsSync(secretsEnv));
        assert.deepEqual(fs.readdirSync(path.dirname(secretsEnv)), [], "no temp file left");
    });

    it("refuses a password with a newline (no env-file form for it) and a secret that is not JSON", async function () {
        writeEnv(nodeEnv, {
            SECRET_SOURCE: "aws-secrets-manager",
            SECRET_ID: "wso2is",
            AWS_REGION: "eu-west-1",
        });
        let awsEnv = await fakeAws(JSON.stringify({ ...SECRET, dbAppPassword: "line1\nline2" }));
        let r = await runScript("fetch-secrets.sh", {
            WSO2IS_NODE_ENV: nodeEnv,
            WSO2IS_SECRETS_ENV: secretsEnv,
            ...awsEnv,
        });
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, /key dbAppPassword contains a control character/);
        assert.ok(!r.stderr.includes("line1"));
        awsEnv = await fakeAws("not json at all: hunter2");
        r = await runScript("fetch-secrets.sh", {
            WSO2IS_NODE_ENV: nodeEnv,
            WSO2IS_SECRETS_ENV: secretsEnv,
            ...awsEnv,
        });
        assert.notEqual(r.code, 0);
        assert.equal(errorLines(r.stderr).length, 1, r.stderr);
        assert.match(r.stderr, /the secret wso2is is not usable/);
        assert.ok(!r.stderr.includes("hunter2"));
        assert.ok(!fs.existsSync(secretsEnv));
    });

    it("retries Secrets Manager's 503s with a logged backoff, then succeeds", async function () {
        const awsEnv = await fakeAws(JSON.stringify(SECRET));
        aws!.update({ fail: { secretsmanager: 2 } });
        writeEnv(nodeEnv, {
            SECRET_SOURCE: "aws-secrets-manager",
            SECRET_ID: "wso2is",
            AWS_REGION: "eu-west-1",
        });
        const r = await runScript("fetch-secrets.sh", {
            WSO2IS_NODE_ENV: nodeEnv,
            WSO2IS_SECRETS_ENV: secretsEnv,
            ...awsEnv,
        });
        assert.equal(r.code, 0, r.stderr);
        const calls = aws!.requests().filter((q) => q.category === "secretsmanager");
        assert.deepEqual(
            calls.map((q) => q.status),
            [503, 503, 200],
        );
        assert.match(
            r.stderr,
            /secretsmanager POST (\S+): HTTP 503: stand-in: not yet\nfetch-secrets\.sh: waiting for secretsmanager POST \1: attempt 2\/8 failed \(exit 1\); next try in 0s\n/,
        );
        assertSecretsFile();
    });

    it("gives up after AWS_API_RETRIES when Secrets Manager keeps failing", async function () {
        const awsEnv = await fakeAws(JSON.stringify(SECRET));
        aws!.update({ fail: { secretsmanager: 100 } });
        writeEnv(nodeEnv, {
            SECRET_SOURCE: "aws-secrets-manager",
            SECRET_ID: "wso2is",
            AWS_REGION: "eu-west-1",
        });
        const r = await runScript("fetch-secrets.sh", {
            WSO2IS_NODE_ENV: nodeEnv,
            WSO2IS_SECRETS_ENV: secretsEnv,
            ...awsEnv,
            AWS_API_RETRIES: "3",
        });
        assert.notEqual(r.code, 0);
        assert.equal(
            aws!.requests().filter((q) => q.category === "secretsmanager").length,
            3,
            "exactly 3 attempts",
        );
        assert.deepEqual(errorLines(r.stderr), [
            "fetch-secrets.sh: error: could not read wso2is from Secrets Manager in eu-west-1 (does the node role allow secretsmanager:GetSecretValue?)",
        ]);
        assert.ok(!fs.existsSync(secretsEnv));
    });

    it("before an IS restart (SECRET_FETCH_KEEP_CURRENT=1) an unreachable store keeps the last secrets, loudly; with none on disk it still fails", async function () {
        const awsEnv = await fakeAws(JSON.stringify(SECRET));
        aws!.update({ fail: { secretsmanager: 100 } });
        writeEnv(nodeEnv, {
            SECRET_SOURCE: "aws-secrets-manager",
            SECRET_ID: "wso2is",
            AWS_REGION: "eu-west-1",
        });
        const env = {
            WSO2IS_NODE_ENV: nodeEnv,
            WSO2IS_SECRETS_ENV: secretsEnv,
            ...awsEnv,
            AWS_API_RETRIES: "2",
            SECRET_FETCH_KEEP_CURRENT: "1",
        };
        const none = await runScript("fetch-secrets.sh", env);
        assert.notEqual(none.code, 0, "nothing on disk: the start fails");
        fs.mkdirSync(path.dirname(secretsEnv), { recursive: true });
        fs.writeFileSync(secretsEnv, "WSO2_DB_PASSWORD='from-the-last-fetch'\n", { mode: 0o600 });
        const kept = await runScript("fetch-secrets.sh", env);
        assert.equal(kept.code, 0, kept.stderr);
        assert.match(
            kept.stderr,
            /WARNING: could not read wso2is from Secrets Manager .*; keeping the secrets fetched before/,
        );
        assert.equal(fs.readFileSync(secretsEnv, "utf8"), "WSO2_DB_PASSWORD='from-the-last-fetch'\n");
        // Without the flag (the bootstrap's first fetch) the same outage fails the step.
        const strict = await runScript("fetch-secrets.sh", { ...env, SECRET_FETCH_KEEP_CURRENT: "0" });
        assert.notEqual(strict.code, 0);
    });

    it("fails at once on a 4xx that is not throttling (ResourceNotFound), naming AWS's error", async function () {
        const awsEnv = await fakeAws(JSON.stringify(SECRET), "some-other-secret");
        writeEnv(nodeEnv, {
            SECRET_SOURCE: "aws-secrets-manager",
            SECRET_ID: "wso2is",
            AWS_REGION: "eu-west-1",
        });
        const r = await runScript("fetch-secrets.sh", {
            WSO2IS_NODE_ENV: nodeEnv,
            WSO2IS_SECRETS_ENV: secretsEnv,
            ...awsEnv,
        });
        assert.notEqual(r.code, 0);
        assert.equal(aws!.requests().filter((q) => q.category === "secretsmanager").length, 1);
        assert.match(r.stderr, /HTTP 400: .*ResourceNotFoundException/);
    });
});

describe("install-is.sh", function () {
    this.timeout(60000);
    let tmp: Temp;
    let stub: HttpStub;
    let zip: Buffer;
    const jar = Buffer.from("PK\u0003\u0004 fake Connector/J " + "x".repeat(1000));
    const user = `wso2t${process.pid.toString(16)}`;
    const ZIP_PATH = "/dist/wso2is-7.1.0.zip";
    const JAR_PATH = "/maven/com/mysql/mysql-connector-j/9.1.0/mysql-connector-j-9.1.0.jar";

    before(async function () {
        ensureCommands({
            zip: "zip",
            unzip: "unzip",
            curl: "curl",
            sha256sum: "coreutils",
            useradd: "passwd",
        });
        tmp = tempDir("install-is");
        const src = path.join(tmp.dir, "zipsrc");
        fs.mkdirSync(path.join(src, "wso2is-7.1.0", "bin"), { recursive: true });
        fs.mkdirSync(path.join(src, "wso2is-7.1.0", "repository", "components", "lib"), { recursive: true });
        fs.writeFileSync(
            path.join(src, "wso2is-7.1.0", "bin", "wso2server.sh"),
            "#!/bin/sh\necho fake IS\n",
            { mode: 0o755 },
        );
        fs.writeFileSync(path.join(src, "wso2is-7.1.0", "repository", "README"), "fake\n");
        execFileSync("zip", ["-q", "-r", path.join(tmp.dir, "is.zip"), "wso2is-7.1.0"], { cwd: src });
        zip = fs.readFileSync(path.join(tmp.dir, "is.zip"));
        stub = await startHttpStub((req) => {
            if (req.url === ZIP_PATH) return { body: zip, headers: { "content-type": "application/zip" } };
            if (req.url === JAR_PATH)
                return { body: jar, headers: { "content-type": "application/java-archive" } };
            return { status: 404 };
        });
    });

    after(async function () {
        await stub?.close();
        spawnQuiet("userdel", [user]);
        spawnQuiet("groupdel", [user]);
        tmp?.cleanup();
    });

    function spawnQuiet(cmd: string, args: string[]): void {
        try {
            execFileSync(cmd, args, { stdio: "ignore" });
        } catch {
            // already gone
        }
    }

    function setup(name: string, zipSha = sha256(zip)): { home: string; env: Record<string, string> } {
        const root = path.join(tmp.dir, name);
        const home = path.join(root, "opt", "wso2is-7.1.0");
        fs.mkdirSync(root);
        writeEnv(path.join(root, "node.env"), {
            IS_VERSION: "7.1.0",
            IS_HOME: home,
            IS_USER: user,
            IS_ZIP_URL: stub.base + ZIP_PATH,
            IS_ZIP_SHA256: zipSha,
            JDBC_DRIVER_URL: stub.base + JAR_PATH,
            JDBC_DRIVER_SHA256: sha256(jar).toUpperCase(),
        });
        return {
            home,
            env: {
                WSO2IS_NODE_ENV: path.join(root, "node.env"),
                WSO2IS_DOWNLOAD_DIR: path.join(root, "cache"),
                DOWNLOAD_RETRIES: "1",
            },
        };
    }

    function listing(dir: string): string {
        return execFileSync("find", [dir, "-printf", "%p %y %m %u:%g %s %T@ %C@\\n"], { encoding: "utf8" })
            .split("\n")
            .sort()
            .join("\n");
    }

    it("downloads, verifies and unpacks IS, installs the driver, creates the user; a rerun downloads and changes nothing", async function () {
        const { home, env } = setup("fresh");
        let r = await runScript("install-is.sh", env);
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(
            stub.requests.map((q) => q.url),
            [ZIP_PATH, JAR_PATH],
        );
        assert.ok(
            fs.statSync(path.join(home, "bin", "wso2server.sh")).mode & 0o100,
            "wso2server.sh executable",
        );
        const driver = path.join(home, "repository", "components", "lib", "mysql-connector-j-9.1.0.jar");
        assert.ok(fs.readFileSync(driver).equals(jar));
        assert.equal(fs.statSync(driver).mode & 0o777, 0o644);
        const [, , uid, gid, , homeDir, shell] = execFileSync("getent", ["passwd", user], {
            encoding: "utf8",
        })
            .trim()
            .split(":");
        assert.equal(homeDir, path.dirname(home));
        assert.match(shell, /nologin$/);
        assert.ok(Number(uid) < 1000, `a system user (uid ${uid})`);
        for (const p of [home, driver, path.join(home, "bin", "wso2server.sh")]) {
            const st = fs.statSync(p);
            assert.deepEqual([st.uid, st.gid], [Number(uid), Number(gid)], p);
        }
        assert.deepEqual(fs.readdirSync(path.dirname(home)), ["wso2is-7.1.0"], "no unpack leftovers");

        const before = listing(path.dirname(home));
        const n = stub.requests.length;
        r = await runScript("install-is.sh", env);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(stub.requests.length, n, "a rerun downloads nothing");
        assert.equal(listing(path.dirname(home)), before);
    });

    it("refuses a zip whose sha256 does not match, showing expected and actual, and leaves no IS_HOME", async function () {
        const wrong = sha256("something else");
        const { home, env } = setup("badsha", wrong);
        const r = await runScript("install-is.sh", env);
        assert.notEqual(r.code, 0);
        assert.deepEqual(errorLines(r.stderr), [
            `install-is.sh: error: sha256 mismatch for ${stub.base}${ZIP_PATH}: expected ${wrong}, actual ${sha256(zip)}; refusing to use it`,
        ]);
        assert.ok(!fs.existsSync(home));
        assert.deepEqual(fs.existsSync(path.dirname(home)) ? fs.readdirSync(path.dirname(home)) : [], []);
        assert.deepEqual(fs.readdirSync(env.WSO2IS_DOWNLOAD_DIR), [], "the bad download is not kept");
    });

    it("pre-baked image: skips the IS download, still installs the driver and owns IS_HOME", async function () {
        const { home, env } = setup("prebaked", "0".repeat(64));
        fs.mkdirSync(path.join(home, "bin"), { recursive: true });
        fs.writeFileSync(path.join(home, "bin", "wso2server.sh"), "#!/bin/sh\n", { mode: 0o755 });
        const n = stub.requests.length;
        const r = await runScript("install-is.sh", env);
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(
            stub.requests.slice(n).map((q) => q.url),
            [JAR_PATH],
        );
        assert.match(r.stderr, /skipping the IS download/);
        assert.ok(
            fs
                .readFileSync(
                    path.join(home, "repository", "components", "lib", "mysql-connector-j-9.1.0.jar"),
                )
                .equals(jar),
        );
        const uid = Number(execFileSync("id", ["-u", user], { encoding: "utf8" }).trim());
        assert.equal(fs.statSync(path.join(home, "bin", "wso2server.sh")).uid, uid);
    });

    it("refuses to unpack over an IS_HOME that exists without bin/wso2server.sh", async function () {
        const { home, env } = setup("halfway");
        fs.mkdirSync(home, { recursive: true });
        fs.writeFileSync(path.join(home, "keep.txt"), "local data");
        const r = await runScript("install-is.sh", env);
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, /exists but has no bin\/wso2server\.sh; refusing to unpack over it/);
        assert.deepEqual(fs.readdirSync(home), ["keep.txt"]);
    });
});

describe("mount-share.sh", function () {
    this.timeout(60000);
    let tmp: Temp;

    before(function () {
        ensureCommands({
            mount: "mount",
            mountpoint: "util-linux",
            unshare: "util-linux",
            findmnt: "util-linux",
        });
        tmp = tempDir("mount-share");
    });
    after(() => tmp.cleanup());

    // Each case runs in a private mount namespace: nothing it mounts outlives it.
    function inNamespace(script: string, env: Record<string, string>) {
        return run(
            "unshare",
            [
                "-m",
                "--propagation",
                "private",
                "bash",
                "-c",
                script,
                "bash",
                path.join(SCRIPTS_DIR, "mount-share.sh"),
            ],
            env,
        );
    }

    it("mounts the fstab entry, then leaves a mounted share alone", async function () {
        const mnt = path.join(tmp.dir, "a", "share");
        fs.mkdirSync(path.join(tmp.dir, "a"));
        writeEnv(path.join(tmp.dir, "a", "node.env"), { SHARE_MOUNT: mnt });
        fs.writeFileSync(path.join(tmp.dir, "a", "fstab"), `tmpfs ${mnt} tmpfs size=1m,nofail 0 0\n`);
        const r = await inNamespace('bash "$1" && mountpoint -q "$SHARE" && bash "$1" && echo OK', {
            WSO2IS_NODE_ENV: path.join(tmp.dir, "a", "node.env"),
            WSO2IS_FSTAB: path.join(tmp.dir, "a", "fstab"),
            SHARE: mnt,
        });
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout.trim(), "OK");
        assert.equal(r.stderr, `mount-share.sh: mounted ${mnt}\nmount-share.sh: ${mnt} is already mounted\n`);
    });

    it("fails at once when fstab has no entry for SHARE_MOUNT", async function () {
        const mnt = path.join(tmp.dir, "b", "share");
        fs.mkdirSync(path.join(tmp.dir, "b"));
        writeEnv(path.join(tmp.dir, "b", "node.env"), { SHARE_MOUNT: mnt });
        fs.writeFileSync(path.join(tmp.dir, "b", "fstab"), "");
        const r = await inNamespace('bash "$1"', {
            WSO2IS_NODE_ENV: path.join(tmp.dir, "b", "node.env"),
            WSO2IS_FSTAB: path.join(tmp.dir, "b", "fstab"),
        });
        assert.notEqual(r.code, 0);
        assert.deepEqual(errorLines(r.stderr), [
            `mount-share.sh: error: ${path.join(tmp.dir, "b", "fstab")} has no entry for ${mnt} (cloud-init should have written it)`,
        ]);
    });

    it("retries a failing mount SHARE_MOUNT_RETRIES times, then fails loudly", async function () {
        const mnt = path.join(tmp.dir, "c", "share");
        fs.mkdirSync(path.join(tmp.dir, "c"));
        writeEnv(path.join(tmp.dir, "c", "node.env"), { SHARE_MOUNT: mnt });
        fs.writeFileSync(
            path.join(tmp.dir, "c", "fstab"),
            `/dev/wso2is-no-such-device ${mnt} ext4 defaults 0 0\n`,
        );
        const r = await inNamespace('bash "$1"', {
            WSO2IS_NODE_ENV: path.join(tmp.dir, "c", "node.env"),
            WSO2IS_FSTAB: path.join(tmp.dir, "c", "fstab"),
            SHARE_MOUNT_RETRIES: "3",
            SHARE_MOUNT_RETRY_DELAY: "0",
        });
        assert.notEqual(r.code, 0);
        assert.equal(
            (r.stderr.match(/failed \(attempt \d\/3: mount: .*special device .*does not exist/g) ?? [])
                .length,
            2,
            r.stderr,
        );
        assert.ok(
            r.stderr
                .split("\n")
                .filter((l) => l)
                .every((l) => l.startsWith("mount-share.sh: ")),
            r.stderr,
        );
        assert.deepEqual(errorLines(r.stderr), [
            `mount-share.sh: error: ${mnt} is not a mount point after 3 attempt(s); check its fstab entry and that the file system is reachable from this node`,
        ]);
    });
});
