// The AWS stand-in of the node-script tests: IMDSv2, Secrets Manager and S3 on 127.0.0.1, every
// signed request checked against botocore's SigV4 signer (aws_standin.py). Stand-in for the
// cloud only; the scripts under test are the real ones, run with real bash and curl.
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { tempDir } from "./system";

export interface StandInConfig {
    accessKeyId: string;
    secretAccessKey: string;
    sessionToken: string;
    imdsToken: string;
    role: string;
    region: string;
    /** SecretId -> SecretString. */
    secrets: Record<string, string>;
    /** "/<key>" -> content. */
    objects: Record<string, Buffer | string>;
    fail: Partial<Record<Category, number>>;
    failStatus?: number;
    delayMs: Partial<Record<Category, number>>;
}

export type Category = "imds" | "credentials" | "secretsmanager" | "s3";

export interface StandInRequest {
    method: string;
    path: string;
    headers: Record<string, string>;
    body: string;
    category: Category;
    status: number;
    sigOk?: boolean;
    sigError?: string;
}

export interface AwsStandIn {
    base: string;
    config: StandInConfig;
    /** Writes the (changed) config; the stand-in reads it on every request. */
    update(change: Partial<StandInConfig>): void;
    requests(): StandInRequest[];
    /** The environment that points the scripts at this stand-in. */
    env: Record<string, string>;
    close(): Promise<void>;
}

/**
 * A python3 with botocore, the signer the stand-in checks with; as root, Debian's
 * python3-botocore is installed when none has it (like ensureCommands), else the error says so.
 */
function pythonBotocore(): string {
    const ok = (py: string) =>
        spawnSync(py, ["-c", "import botocore.auth"], { stdio: "ignore" }).status === 0;
    for (const py of ["python3", "/usr/bin/python3"]) if (ok(py)) return py;
    const hint = "apt-get install -y --no-install-recommends python3-botocore";
    if (process.getuid?.() === 0) {
        spawnSync("apt-get", ["install", "-y", "-q", "--no-install-recommends", "python3-botocore"], {
            stdio: "ignore",
            env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
        });
        if (ok("/usr/bin/python3")) return "/usr/bin/python3";
    }
    throw new Error(`the AWS stand-in needs python3 with botocore; run as root: ${hint}`);
}

const rand = (n: number, alphabet: string) =>
    Array.from(crypto.randomBytes(n), (b) => alphabet[b % alphabet.length]).join("");

export async function startAwsStandIn(change: Partial<StandInConfig> = {}): Promise<AwsStandIn> {
    const py = pythonBotocore();
    const tmp = tempDir("aws-standin");
    const configPath = path.join(tmp.dir, "config.json");
    const logPath = path.join(tmp.dir, "requests.jsonl");
    const b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const config: StandInConfig = {
        accessKeyId: `ASIA${rand(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")}`,
        secretAccessKey: rand(40, b64),
        sessionToken: `IQoJb3JpZ2luX2Vj${rand(300, b64)}==`,
        imdsToken: `AQAEA${rand(50, b64.slice(0, 62))}==`,
        role: "wso2is-test-node",
        region: "eu-west-1",
        secrets: {},
        objects: {},
        fail: {},
        delayMs: {},
        ...change,
    };
    const write = () =>
        fs.writeFileSync(
            configPath,
            JSON.stringify({
                ...config,
                objects: Object.fromEntries(
                    Object.entries(config.objects).map(([k, v]) => [k, Buffer.from(v).toString("base64")]),
                ),
            }),
        );
    write();
    fs.writeFileSync(logPath, "");
    const proc: ChildProcess = spawn(py, [path.join(__dirname, "aws_standin.py"), configPath, logPath], {
        stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    proc.stderr!.on("data", (d) => (stderr += d));
    const port = await new Promise<number>((resolve, reject) => {
        let out = "";
        const timer = setTimeout(() => reject(new Error(`AWS stand-in did not start: ${stderr}`)), 20000);
        proc.stdout!.on("data", (d) => {
            out += d;
            const m = /PORT (\d+)/.exec(out);
            if (m) {
                clearTimeout(timer);
                resolve(Number(m[1]));
            }
        });
        proc.on("exit", (code) => reject(new Error(`AWS stand-in exited ${code}: ${stderr}`)));
    });
    const base = `http://127.0.0.1:${port}`;
    return {
        base,
        config,
        update(c) {
            Object.assign(config, c);
            write();
        },
        requests: () =>
            fs
                .readFileSync(logPath, "utf8")
                .split("\n")
                .filter((l) => l.length > 0)
                .map((l) => JSON.parse(l) as StandInRequest),
        env: {
            WSO2IS_IMDS_ENDPOINT: base,
            WSO2IS_AWS_ENDPOINT_URL: base,
            AWS_API_RETRY_DELAY: "0",
        },
        close: () =>
            new Promise<void>((resolve) => {
                proc.once("exit", () => {
                    tmp.cleanup();
                    resolve();
                });
                proc.kill("SIGTERM");
            }),
    };
}
