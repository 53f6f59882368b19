// The clouds' services a node talks to at boot, as stand-ins on host loopback ports (the guest
// reaches them through qemu's guestfwd, test/boot/guest.ts):
// - one HTTPS server (the test CA's certificate for every name) routing on the Host header:
//   the download mirror (IS zip, JDBC jar), AWS Secrets Manager (GetSecretValue) and S3
//   (GetObject), both checking the SigV4 signature with the instance role's credentials, Azure
//   Key Vault (GET secret with the managed identity's bearer token);
// - the instance metadata service: AWS IMDSv2 (token, local-ipv4, the instance role's
//   credentials) and Azure IMDS (private IP, managed identity token).
// Each can fail on purpose for a while (`failFor`): 503 for the first N seconds after the first
// request, the way a secret store answers while permissions propagate.
import * as crypto from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import { AddressInfo } from "net";

export interface RequestRecord {
    at: number;
    service: string;
    method: string;
    host: string;
    path: string;
    status: number;
}

export interface StandinConfig {
    serverCert: string;
    serverKey: string;
    /** Files the download mirror serves, by URL path ("/wso2is-7.1.0.zip"). */
    downloads: Map<string, string>;
    downloadHost: string;
    /** The cluster secret document. */
    secretJson: string;
    /** AWS: region, the secret's ARN, the IP IMDS reports, the S3 objects by "bucket/key". */
    aws?: { region: string; secretId: string; localIpv4: string; s3: Map<string, string> };
    /** Azure: the secret URL (https://<vault>/secrets/<name>), the IP IMDS reports. */
    azure?: { secretUrl: string; privateIp: string };
    /** Seconds a service answers 503 after its first request: "secrets" (Secrets Manager/Key Vault). */
    failFor?: { secrets?: number };
}

export interface Standins {
    httpsPort: number;
    imdsPort: number;
    requests: RequestRecord[];
    /** Why AWS requests were refused (bad SigV4), for the report. */
    sigv4Rejections: string[];
    /** The instance role's credentials the IMDS stand-in hands out. */
    creds: { AccessKeyId: string; SecretAccessKey: string; Token: string };
    close(): Promise<void>;
}

const role = "wso2is-boot-test-node-role";

const hmac = (key: crypto.BinaryLike, data: string) => crypto.createHmac("sha256", key).update(data).digest();
const hex256 = (data: string | Buffer) => crypto.createHash("sha256").update(data).digest("hex");

/**
 * Checks an AWS Signature Version 4 request (AWS IAM User Guide, "Create a signed AWS API
 * request") against the instance role's stand-in credentials: scope, session token, payload
 * hash and signature. Returns what is wrong, or undefined. The paths and queries the nodes send
 * need no percent-encoding, so they are canonical as sent.
 */
export function sigV4Problem(
    req: http.IncomingMessage,
    body: string,
    creds: { AccessKeyId: string; SecretAccessKey: string; Token: string },
    region: string,
    service: string,
): string | undefined {
    const auth = String(req.headers.authorization ?? "");
    const m =
        /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(
            auth,
        );
    if (!m) return `no SigV4 Authorization header ('${auth.slice(0, 40)}')`;
    const [, akid, date, r, svc, signedHeaders, signature] = m;
    if (akid !== creds.AccessKeyId) return `unknown access key ${akid}`;
    if (r !== region || svc !== service) return `credential scope ${r}/${svc}, expected ${region}/${service}`;
    if (req.headers["x-amz-security-token"] !== creds.Token) return "no or wrong x-amz-security-token";
    const amzDate = String(req.headers["x-amz-date"] ?? "");
    if (!amzDate.startsWith(date)) return `x-amz-date '${amzDate}' does not match the scope date ${date}`;
    const names = signedHeaders.split(";");
    for (const h of ["host", "x-amz-date", "x-amz-security-token"])
        if (!names.includes(h)) return `header ${h} is not signed`;
    const declared = req.headers["x-amz-content-sha256"];
    if (typeof declared === "string" && declared !== hex256(body))
        return "x-amz-content-sha256 does not match the body";
    const url = new URL(req.url ?? "/", "https://x");
    const query = [...url.searchParams.entries()]
        .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
        .sort()
        .join("&");
    const canonicalHeaders = names
        .map(
            (n) =>
                `${n}:${String(req.headers[n] ?? "")
                    .trim()
                    .replace(/\s+/g, " ")}\n`,
        )
        .join("");
    const canonical = [req.method, url.pathname, query, canonicalHeaders, signedHeaders, hex256(body)].join(
        "\n",
    );
    const toSign = [
        "AWS4-HMAC-SHA256",
        amzDate,
        `${date}/${region}/${service}/aws4_request`,
        hex256(canonical),
    ].join("\n");
    const key = hmac(hmac(hmac(hmac(`AWS4${creds.SecretAccessKey}`, date), region), service), "aws4_request");
    return hmac(key, toSign).toString("hex") === signature ? undefined : "signature does not match";
}

export async function startStandins(cfg: StandinConfig): Promise<Standins> {
    const requests: RequestRecord[] = [];
    const sigv4Rejections: string[] = [];
    const firstSeen = new Map<string, number>();
    const imdsToken = crypto.randomBytes(24).toString("base64url");
    const creds = {
        AccessKeyId: "ASIABOOTTEST" + crypto.randomBytes(4).toString("hex").toUpperCase(),
        SecretAccessKey: crypto.randomBytes(30).toString("base64"),
        Token: crypto.randomBytes(40).toString("base64"),
    };
    const azureToken = crypto.randomBytes(32).toString("base64url");

    const failing = (service: "secrets"): boolean => {
        const window = cfg.failFor?.[service];
        if (!window) return false;
        const first = firstSeen.get(service) ?? Date.now();
        firstSeen.set(service, first);
        return Date.now() - first < window * 1000;
    };

    function reply(
        service: string,
        req: http.IncomingMessage,
        res: http.ServerResponse,
        status: number,
        body: string | Buffer,
        type = "application/json",
    ) {
        requests.push({
            at: Date.now(),
            service,
            method: req.method ?? "",
            host: req.headers.host ?? "",
            path: (req.url ?? "").split("?")[0],
            status,
        });
        res.writeHead(status, { "Content-Type": type, "Content-Length": Buffer.byteLength(body) });
        res.end(body);
    }

    const readBody = (req: http.IncomingMessage) =>
        new Promise<string>((resolve) => {
            let b = "";
            req.on("data", (d) => (b += d));
            req.on("end", () => resolve(b));
        });

    function sendFile(service: string, req: http.IncomingMessage, res: http.ServerResponse, file?: string) {
        if (!file || !fs.existsSync(file)) return reply(service, req, res, 404, "not found", "text/plain");
        reply(service, req, res, 200, fs.readFileSync(file), "application/octet-stream");
    }

    const handleHttps = async (req: http.IncomingMessage, res: http.ServerResponse) => {
        const host = (req.headers.host ?? "").replace(/:\d+$/, "");
        const url = new URL(req.url ?? "/", `https://${host}`);
        const body = await readBody(req);
        if (host === cfg.downloadHost && req.method === "GET")
            return sendFile("download", req, res, cfg.downloads.get(url.pathname));
        if (cfg.aws && host === `secretsmanager.${cfg.aws.region}.amazonaws.com`) {
            const problem = sigV4Problem(req, body, creds, cfg.aws.region, "secretsmanager");
            if (problem) {
                sigv4Rejections.push(`secretsmanager: ${problem}`);
                return reply("secretsmanager", req, res, 403, '{"__type":"InvalidSignatureException"}');
            }
            if (req.headers["x-amz-target"] !== "secretsmanager.GetSecretValue")
                return reply("secretsmanager", req, res, 400, '{"__type":"InvalidAction"}');
            let id: unknown;
            try {
                id = (JSON.parse(body) as { SecretId?: unknown }).SecretId;
            } catch {
                return reply("secretsmanager", req, res, 400, '{"__type":"SerializationException"}');
            }
            if (id !== cfg.aws.secretId)
                return reply("secretsmanager", req, res, 400, '{"__type":"ResourceNotFoundException"}');
            if (failing("secrets"))
                return reply("secretsmanager", req, res, 503, '{"__type":"ServiceUnavailable"}');
            return reply(
                "secretsmanager",
                req,
                res,
                200,
                JSON.stringify({
                    ARN: id,
                    Name: id.split(":")[6],
                    SecretString: cfg.secretJson,
                    VersionId: "v1",
                }),
                "application/x-amz-json-1.1",
            );
        }
        if (cfg.aws && /(^|\.)s3[.-]/.test(host)) {
            const bucket = host.split(".s3")[0];
            const key = host.startsWith("s3") ? url.pathname.slice(1) : `${bucket}${url.pathname}`;
            const problem = sigV4Problem(req, body, creds, cfg.aws.region, "s3");
            if (problem) {
                sigv4Rejections.push(`s3: ${problem}`);
                return reply(
                    "s3",
                    req,
                    res,
                    403,
                    "<Error><Code>SignatureDoesNotMatch</Code></Error>",
                    "application/xml",
                );
            }
            return sendFile("s3", req, res, cfg.aws.s3.get(key));
        }
        if (cfg.azure && url.origin === new URL(cfg.azure.secretUrl).origin) {
            if (req.headers.authorization !== `Bearer ${azureToken}`)
                return reply("keyvault", req, res, 401, '{"error":{"code":"Unauthorized"}}');
            if (url.pathname !== new URL(cfg.azure.secretUrl).pathname)
                return reply("keyvault", req, res, 404, '{"error":{"code":"SecretNotFound"}}');
            if (failing("secrets"))
                return reply("keyvault", req, res, 503, '{"error":{"code":"ServiceUnavailable"}}');
            return reply(
                "keyvault",
                req,
                res,
                200,
                JSON.stringify({ value: cfg.secretJson, id: cfg.azure.secretUrl }),
            );
        }
        reply("unknown", req, res, 404, `no stand-in for ${host}${url.pathname}`, "text/plain");
    };
    const server = https.createServer(
        { cert: fs.readFileSync(cfg.serverCert), key: fs.readFileSync(cfg.serverKey) },
        (req, res) => void handleHttps(req, res),
    );

    const handleImds = async (req: http.IncomingMessage, res: http.ServerResponse) => {
        const url = new URL(req.url ?? "/", "http://169.254.169.254");
        await readBody(req);
        const p = url.pathname;
        if (cfg.aws && p.startsWith("/latest/")) {
            if (p === "/latest/api/token" && req.method === "PUT")
                return reply("imds", req, res, 200, imdsToken, "text/plain");
            if (req.headers["x-aws-ec2-metadata-token"] !== imdsToken)
                return reply("imds", req, res, 401, "", "text/plain");
            if (p === "/latest/meta-data/local-ipv4")
                return reply("imds", req, res, 200, cfg.aws.localIpv4, "text/plain");
            if (p === "/latest/meta-data/placement/region")
                return reply("imds", req, res, 200, cfg.aws.region, "text/plain");
            if (
                p === "/latest/meta-data/iam/security-credentials/" ||
                p === "/latest/meta-data/iam/security-credentials"
            )
                return reply("imds", req, res, 200, role, "text/plain");
            if (p === `/latest/meta-data/iam/security-credentials/${role}`)
                return reply(
                    "imds",
                    req,
                    res,
                    200,
                    JSON.stringify({
                        Code: "Success",
                        Type: "AWS-HMAC",
                        ...creds,
                        LastUpdated: new Date().toISOString(),
                        Expiration: new Date(Date.now() + 6 * 3600_000).toISOString(),
                    }),
                );
            return reply("imds", req, res, 404, "", "text/plain");
        }
        if (cfg.azure && p.startsWith("/metadata/")) {
            if (req.headers.metadata !== "true")
                return reply("imds", req, res, 400, '{"error":"Metadata header"}');
            if (p === "/metadata/instance/network/interface/0/ipv4/ipAddress/0/privateIpAddress")
                return reply("imds", req, res, 200, cfg.azure.privateIp, "text/plain");
            if (p === "/metadata/identity/oauth2/token") {
                if (url.searchParams.get("resource") !== "https://vault.azure.net")
                    return reply("imds", req, res, 400, '{"error":"invalid_resource"}');
                return reply(
                    "imds",
                    req,
                    res,
                    200,
                    JSON.stringify({
                        access_token: azureToken,
                        expires_in: "86399",
                        resource: "https://vault.azure.net",
                        token_type: "Bearer",
                    }),
                );
            }
            return reply("imds", req, res, 404, "{}");
        }
        reply("imds", req, res, 404, "", "text/plain");
    };
    const imds = http.createServer((req, res) => void handleImds(req, res));

    const listen = (s: http.Server) =>
        new Promise<number>((resolve) =>
            s.listen(0, "127.0.0.1", () => resolve((s.address() as AddressInfo).port)),
        );
    const httpsPort = await listen(server);
    const imdsPort = await listen(imds);
    return {
        httpsPort,
        imdsPort,
        requests,
        sigv4Rejections,
        creds,
        close: async () => {
            server.closeAllConnections();
            imds.closeAllConnections();
            await Promise.all([new Promise((r) => server.close(r)), new Promise((r) => imds.close(r))]);
        },
    };
}
