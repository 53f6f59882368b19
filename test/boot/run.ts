// npm run test:boot [-- --scenario NAME ...]: boots a real Linux guest (Debian 13 under qemu, no
// KVM needed) from each VM example stack's rendered user-data, unchanged, plus a harness part,
// against stand-ins on host loopback, and checks the node ends healthy (docs/testing.md, "Boot
// test"). Prints one line per scenario; exits non-zero when one fails, with the reason.
import { execFileSync, spawn, ChildProcess } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { parseArgs } from "node:util";
import * as YAML from "yaml";
import { createAdmin, rootSql, startServer, stopServer } from "../integration/support/mariadb";
import { ensureCommands, freePort } from "../integration/support/system";
import {
    Forward,
    guestAddr,
    harnessBoothook,
    makeSeed,
    multipartUserData,
    probeLines,
    readGuestFile,
    startVm,
} from "./guest";
import { makeClusterSecret, makeTestPki } from "./pki";
import { RequestRecord, startStandins } from "./standins";

const repo = path.resolve(__dirname, "../..");
const downloadHost = "downloads.boot.test";

export interface Scenario {
    name: string;
    /** An example stack (Pulumi.<stack>.yaml at the repository root). */
    stack: string;
    /** Seconds the secret store answers 503 after its first request. */
    secretsFailFor?: number;
    /** Seconds the database refuses connections after the node's first attempt. */
    dbLateBy?: number;
    /** Breaks the rendered user-data on purpose; the boot must fail and say why. */
    breakUserData?: (cloudConfig: string) => string;
    /** What the probe's failure must mention. */
    expectFailure?: RegExp;
}

export const scenarios: Scenario[] = [
    { name: "dev", stack: "dev" },
    { name: "azure-dev", stack: "azure-dev" },
    { name: "dev-retry", stack: "dev", secretsFailFor: 60, dbLateBy: 60 },
    { name: "azure-dev-retry", stack: "azure-dev", secretsFailFor: 60, dbLateBy: 60 },
    {
        name: "dev-broken",
        stack: "dev",
        // A node.env whose zip digest is wrong: install-is.sh refuses the download for good.
        breakUserData: (y) => y.replace(/IS_ZIP_SHA256='[0-9a-f]{64}'/, `IS_ZIP_SHA256='${"ab".repeat(32)}'`),
        expectFailure: /sha256 mismatch/,
    },
];

const guestMemoryMb = Number(process.env.WSO2IS_BOOT_MEMORY_MB ?? 3072);
/** Guest uptime by which the node must be healthy (TCG on a shared 2-core machine is slow). */
const probeTimeout = Number(process.env.WSO2IS_BOOT_PROBE_TIMEOUT ?? 2700);
/**
 * Seconds from the start of this run by which every scenario must have ended (CI's own limit,
 * less what came before: .ci/run sets it). A scenario that cannot have its minimum is not run,
 * and counts as failed; the others get what is left.
 */
const runDeadline = Number(process.env.WSO2IS_BOOT_DEADLINE ?? 0) || Infinity;
const minScenarioSeconds = 600;
const runStarted = Date.now();
const secondsLeft = () => runDeadline - (Date.now() - runStarted) / 1000;
/**
 * The product's units never stop retrying (StartLimitIntervalSec=0: the load balancer's grace
 * gives up on the node). The harness puts a start limit back on both, so a boot that keeps
 * failing ends in a failed unit, with its reason, within minutes, not at the probe's timeout.
 * Six starts, not fewer: under qemu's TCG the guest's JVM now and then dies of SIGSEGV in
 * JIT-compiled code (keytool in fetch-secrets, seen at nmethod entry, c1 frames), an emulation
 * fault that a real CPU does not have; the unit's restart absorbs it, as the probe's NRestarts
 * shows. A real regression still fails within about five minutes (RestartSec 15 s and up).
 */
const harnessStartLimit = "[Unit]\nStartLimitIntervalSec=1h\nStartLimitBurst=6";
/** What a signal must stop (qemu, MariaDB, nfs-ganesha, the stand-ins) before the run exits. */
const running: (() => Promise<void> | void)[] = [];

function log(msg: string) {
    console.log(`  ${new Date().toISOString().slice(11, 19)} ${msg}`);
}

const sha256 = (file: string) => crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");

/** The stand-in IS zip (real wso2server.sh, stand-in Bootstrap class, real 7.1.0 dbscripts) and JDBC jar. */
export function buildStandinArtifacts(dir: string, testCaFile: string): { zip: string; jar: string } {
    const stage = path.join(dir, "stage");
    const home = path.join(stage, "wso2is-7.1.0");
    const classes = path.join(dir, "classes");
    fs.mkdirSync(classes, { recursive: true });
    execFileSync("javac", [
        "--release",
        "17",
        "-d",
        classes,
        path.join(__dirname, "standin/org/wso2/carbon/bootstrap/Bootstrap.java"),
        path.join(__dirname, "standin/org/apache/juli/ClassLoaderLogManager.java"),
    ]);
    fs.mkdirSync(path.join(home, "bin"), { recursive: true });
    execFileSync("jar", [
        "--create",
        "--file",
        path.join(home, "bin/wso2is-boot-standin.jar"),
        "-C",
        classes,
        ".",
    ]);
    fs.copyFileSync(
        path.join(repo, "test/fixtures/wso2/wso2server.sh"),
        path.join(home, "bin/wso2server.sh"),
    );
    fs.chmodSync(path.join(home, "bin/wso2server.sh"), 0o755);
    fs.writeFileSync(path.join(home, "bin/version.txt"), "WSO2 Identity Server 7.1.0 (boot test stand-in)\n");
    fs.cpSync(
        path.join(repo, "test/fixtures/wso2is-7.1.0-dbscripts/dbscripts"),
        path.join(home, "dbscripts"),
        {
            recursive: true,
        },
    );
    for (const d of ["repository/conf", "repository/components/lib", "repository/tenants", "lib"])
        fs.mkdirSync(path.join(home, d), { recursive: true });
    const userstores = path.join(home, "repository/deployment/server/userstores");
    fs.mkdirSync(userstores, { recursive: true });
    fs.writeFileSync(path.join(userstores, "README.txt"), "secondary user stores (boot test stand-in)\n");
    fs.writeFileSync(path.join(home, "repository/tenants/README.txt"), "tenants (boot test stand-in)\n");
    const security = path.join(home, "repository/resources/security");
    fs.mkdirSync(security, { recursive: true });
    // IS ships a client truststore (password wso2carbon) that fetch-secrets.sh adds the CAs to.
    execFileSync(
        "keytool",
        [
            "-importcert",
            "-noprompt",
            "-storetype",
            "PKCS12",
            "-keystore",
            path.join(security, "client-truststore.p12"),
            "-storepass",
            "wso2carbon",
            "-alias",
            "boot-test-ca",
            "-file",
            testCaFile,
        ],
        { stdio: "ignore" },
    );
    const zip = path.join(dir, "wso2is-7.1.0.zip");
    execFileSync("zip", ["-q", "-r", "-X", zip, "wso2is-7.1.0"], { cwd: stage });
    const jarDir = path.join(dir, "jdbc");
    fs.mkdirSync(jarDir, { recursive: true });
    fs.writeFileSync(path.join(jarDir, "README.txt"), "stand-in for MySQL Connector/J 9.1.0 (boot test)\n");
    const jar = path.join(dir, "mysql-connector-j-9.1.0.jar");
    execFileSync("jar", ["--create", "--file", jar, "-C", jarDir, "."]);
    return { zip, jar };
}

/** Renders the stack with the synth, from a copy of its example config pointing at the stand-ins. */
function synth(dir: string, stack: string, zip: string, jar: string): string {
    const project = path.join(dir, "project");
    fs.mkdirSync(project, { recursive: true });
    fs.copyFileSync(path.join(repo, "Pulumi.yaml"), path.join(project, "Pulumi.yaml"));
    const doc = YAML.parseDocument(fs.readFileSync(path.join(repo, `Pulumi.${stack}.yaml`), "utf8"));
    const set = (k: string, v: string) => doc.setIn(["config", `wso2is-cluster:${k}`], v);
    set("isDistributionUrl", `https://${downloadHost}/${path.basename(zip)}`);
    set("isDistributionSha256", sha256(zip));
    set("jdbcDriverUrl", `https://${downloadHost}/${path.basename(jar)}`);
    set("jdbcDriverSha256", sha256(jar));
    fs.writeFileSync(path.join(project, `Pulumi.${stack}.yaml`), doc.toString());
    execFileSync(
        "npx",
        [
            "ts-node",
            "--transpile-only",
            "synth/cli.ts",
            "--stack",
            stack,
            "--project-dir",
            project,
            "--out",
            path.join(dir, "synth"),
        ],
        { cwd: repo, stdio: ["ignore", "pipe", "pipe"] },
    );
    const nodes = path.join(dir, "synth", stack, "nodes");
    const first = fs.readdirSync(nodes).sort()[0];
    return path.join(nodes, first);
}

function readEnvFile(file: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const line of fs.readFileSync(file, "utf8").split("\n")) {
        const m = /^([A-Z_][A-Z0-9_]*)='(.*)'$/.exec(line);
        if (m) out[m[1]] = m[2];
    }
    return out;
}

function startGanesha(dir: string, exportDir: string, pseudo: string, port: number): ChildProcess {
    fs.mkdirSync(exportDir, { recursive: true });
    fs.mkdirSync("/var/lib/nfs/ganesha", { recursive: true });
    const conf = path.join(dir, "ganesha.conf");
    fs.writeFileSync(
        conf,
        `NFS_CORE_PARAM { Protocols = 4; NFS_Port = ${port}; Bind_addr = 127.0.0.1; Enable_NLM = false; Enable_RQUOTA = false; }
NFSV4 { Graceless = true; Minor_Versions = 1, 2; }
NFS_KRB5 { Active_krb5 = false; }
EXPORT {
    Export_Id = 1; Path = ${exportDir}; Pseudo = ${pseudo}; Access_Type = RW; Squash = No_Root_Squash;
    SecType = sys; Protocols = 4; Transports = TCP; FSAL { Name = VFS; }
}
LOG { Default_Log_Level = EVENT; }
`,
    );
    return spawn(
        "ganesha.nfsd",
        ["-F", "-f", conf, "-L", path.join(dir, "ganesha.log"), "-p", path.join(dir, "ganesha.pid")],
        { stdio: "ignore" },
    );
}

async function waitPort(port: number, ms: number) {
    const net = await import("net");
    const deadline = Date.now() + ms;
    for (;;) {
        const ok = await new Promise<boolean>((resolve) => {
            const s = net.connect(port, "127.0.0.1", () => {
                s.destroy();
                resolve(true);
            });
            s.on("error", () => resolve(false));
        });
        if (ok) return;
        if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${ms} ms`);
        await new Promise((r) => setTimeout(r, 200));
    }
}

interface Outcome {
    ok: boolean;
    line: string;
    details: string[];
}

async function runScenario(sc: Scenario, image: string): Promise<Outcome> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `wso2is-boot-${sc.name}-`));
    log(`${sc.name}: work directory ${dir}`);
    const pkiDir = path.join(dir, "pki");
    const stopAll = running;
    stopAll.length = 0;
    const details: string[] = [];
    try {
        // Names first (the synth needs the artifacts' digests, the PKI needs the names): a first
        // synth with the artifacts built against a throw-away CA would cost a second render, so
        // the test CA is made first for the names every stack can use and the stack's own names.
        fs.mkdirSync(pkiDir, { recursive: true });
        const probeCa = makeTestPki(path.join(pkiDir, "tmp"), [downloadHost]);
        const tmpCaFile = path.join(pkiDir, "tmp", "boot-test-ca.crt");
        const { zip, jar } = buildStandinArtifacts(path.join(dir, "artifacts"), tmpCaFile);
        void probeCa;
        const nodeDir = synth(dir, sc.stack, zip, jar);
        const env = readEnvFile(path.join(nodeDir, "node.env"));
        let cloudConfig = fs.readFileSync(path.join(nodeDir, "cloud-init.yaml"), "utf8");
        if (sc.breakUserData) cloudConfig = sc.breakUserData(cloudConfig);
        const fstab = fs.readFileSync(path.join(nodeDir, "fstab"), "utf8").trim().split(/\s+/);
        const [shareHost, sharePath] = fstab[0].split(/:(.*)/s);
        const aws = env.SECRET_SOURCE === "aws-secrets-manager";
        const httpsNames = [downloadHost];
        if (aws) httpsNames.push(`secretsmanager.${env.AWS_REGION}.amazonaws.com`);
        else httpsNames.push(new URL(env.SECRET_ID).hostname);
        // Script delivery from S3 (EC2): the bucket serves the objects the stack uploads, as the
        // synth recorded them (resources.json: bucket, key, content).
        const s3 = new Map<string, string>();
        if (env.SCRIPT_BUCKET) {
            httpsNames.push(`${env.SCRIPT_BUCKET}.s3.${env.SCRIPT_REGION}.amazonaws.com`);
            const resources = JSON.parse(
                fs.readFileSync(path.join(nodeDir, "../../resources.json"), "utf8"),
            ) as { type: string; inputs: Record<string, unknown> }[];
            const objDir = path.join(dir, "s3");
            fs.mkdirSync(objDir, { recursive: true });
            for (const r of resources.filter((x) => x.type === "aws:s3/bucketObjectv2:BucketObjectv2")) {
                const { bucket, key, content } = r.inputs as { bucket: string; key: string; content: string };
                const file = path.join(objDir, key.replace(/\//g, "_"));
                fs.writeFileSync(file, content);
                s3.set(`${bucket}/${key}`, file);
            }
            if (s3.size === 0)
                throw new Error(`node.env names SCRIPT_BUCKET but the synth uploads no object`);
        }
        const pki = makeTestPki(pkiDir, [...httpsNames, env.DB_HOST]);
        const secret = makeClusterSecret(path.join(dir, "secret"), env.LB_HOSTNAME);

        // Stand-ins.
        const standins = await startStandins({
            serverCert: pki.serverCert,
            serverKey: pki.serverKey,
            downloads: new Map([
                [`/${path.basename(zip)}`, zip],
                [`/${path.basename(jar)}`, jar],
            ]),
            downloadHost,
            secretJson: secret.json,
            aws: aws
                ? {
                      region: env.AWS_REGION,
                      secretId: env.SECRET_ID,
                      localIpv4: guestAddr.node,
                      s3,
                  }
                : undefined,
            azure: aws ? undefined : { secretUrl: env.SECRET_ID, privateIp: env.NODE_IP },
            failFor: sc.secretsFailFor ? { secrets: sc.secretsFailFor } : undefined,
        });
        stopAll.push(() => standins.close());

        // MariaDB behind a TCP gate: while the database is "not there yet" (dbLateBy seconds
        // from the node's first attempt) connections are closed at once, as a database that is
        // still being created refuses them.
        const dbPort = await freePort();
        fs.mkdirSync(path.join(dir, "mariadb"), { recursive: true });
        const db = await startServer(path.join(dir, "mariadb"), [
            `--ssl-cert=${pki.serverCert}`,
            `--ssl-key=${pki.serverKey}`,
        ]);
        stopAll.push(() => stopServer(db));
        createAdmin(db, secret.dbAdminUser, secret.dbAdminPassword);
        let dbFirstAttempt = 0;
        let dbRefused = 0;
        const dbGate = net.createServer((sock) => {
            dbFirstAttempt ||= Date.now();
            if (sc.dbLateBy && Date.now() - dbFirstAttempt < sc.dbLateBy * 1000) {
                dbRefused++;
                sock.destroy();
                return;
            }
            const upstream = net.connect(db.port, "127.0.0.1");
            sock.pipe(upstream).pipe(sock);
            sock.on("error", () => upstream.destroy());
            upstream.on("error", () => sock.destroy());
        });
        await new Promise<void>((r) => dbGate.listen(dbPort, "127.0.0.1", r));
        stopAll.push(() => void dbGate.close());
        log(`${sc.name}: MariaDB ${rootSql(db, "SELECT VERSION()")[0]} with TLS behind 127.0.0.1:${dbPort}`);

        const nfsPort = await freePort();
        const exportDir = path.join(dir, "share");
        const ganesha = startGanesha(dir, exportDir, sharePath || "/", nfsPort);
        stopAll.push(async () => {
            if (ganesha.exitCode !== null || ganesha.signalCode !== null) return;
            const gone = new Promise((r) => ganesha.once("exit", r));
            ganesha.kill("SIGTERM");
            // Its grace period can hold it; the next scenario's ganesha must not meet it.
            await Promise.race([gone, new Promise((r) => setTimeout(r, 10_000))]);
            if (ganesha.exitCode === null && ganesha.signalCode === null) ganesha.kill("SIGKILL");
        });
        await waitPort(nfsPort, 30_000);

        const units = ["wso2is-bootstrap.service", "wso2is.service"];
        // Shorter waits between retries (scripts/CONTRACT.md's tuning knobs; SECRET_FETCH_RETRY_DELAY
        // wins over node.env's by lib.sh's load_env); node.env's other budgets stay as rendered.
        const retryEnv = [
            "[Service]",
            ...Object.entries({
                IMDS_RETRY_DELAY: "2",
                DOWNLOAD_RETRIES: "2",
                SECRET_FETCH_RETRY_DELAY: "5",
            }).map(([k, v]) => `Environment=${k}=${v}`),
        ].join("\n");
        const bootstrapDropIn = `${retryEnv}\n${harnessStartLimit}`;
        // The probe's budget (guest uptime) and the wall budget both end before the run's deadline.
        const scenarioSeconds = Math.min(probeTimeout + 900, Math.floor(secondsLeft()) - 60);
        const scenarioProbeTimeout = Math.min(probeTimeout, scenarioSeconds - 300);
        const harness = harnessBoothook({
            testCaPem: pki.caPem,
            clusterCaPem: secret.clusterCaPem,
            hosts: {
                [guestAddr.https]: httpsNames,
                [guestAddr.db]: [env.DB_HOST],
                [guestAddr.nfs]: [shareHost],
            },
            extraAddress: env.NODE_IP_SOURCE === "static" ? env.NODE_IP : undefined,
            dropIns: { "wso2is-bootstrap.service": bootstrapDropIn, "wso2is.service": harnessStartLimit },
            units,
            probeTimeout: scenarioProbeTimeout,
        });
        const userData = multipartUserData(cloudConfig, harness);
        const seed = makeSeed(dir, userData, `i-boot-${sc.name}`);
        const forwards: Forward[] = [
            { guest: guestAddr.imds, port: 80, hostPort: standins.imdsPort },
            { guest: guestAddr.https, port: 443, hostPort: standins.httpsPort },
            { guest: guestAddr.db, port: Number(env.DB_PORT), hostPort: dbPort },
            { guest: guestAddr.nfs, port: 2049, hostPort: nfsPort },
        ];
        const vm = startVm({ dir, image, seedIso: seed, memoryMb: guestMemoryMb, forwards });
        stopAll.push(() => {
            if (vm.proc.exitCode === null) vm.proc.kill("SIGKILL");
        });
        log(`${sc.name}: guest started (qemu pid ${vm.proc.pid}, ${guestMemoryMb} MB, TCG)`);
        if (sc.dbLateBy)
            log(`${sc.name}: the database refuses connections for ${sc.dbLateBy} s from the first`);

        // Follow the probe until it is done, or the guest dies, or the wall-clock budget ends.
        const wallBudget = scenarioSeconds * 1000;
        let seen = 0;
        let overBudget = false;
        let exitCode: number | null | undefined;
        void vm.exited.then((c) => (exitCode = c));
        for (;;) {
            const lines = probeLines(vm.probeLog);
            for (const l of lines.slice(seen))
                if (!["reason"].includes(l.key)) log(`${sc.name}: guest: ${l.key} ${l.value}`.slice(0, 400));
            seen = lines.length;
            if (lines.some((l) => l.key === "done")) break;
            if (exitCode !== undefined) break;
            if (Date.now() - vm.started > wallBudget) {
                details.push(`guest did not finish within ${wallBudget / 1000} s`);
                overBudget = true;
                break;
            }
            await new Promise((r) => setTimeout(r, 5000));
        }
        const wall = Math.round((Date.now() - vm.started) / 1000);
        // Let it power off (journal flushed, the disk consistent for debugfs); over budget, not.
        await Promise.race([vm.exited, new Promise((r) => setTimeout(r, overBudget ? 0 : 180_000))]);
        if (vm.proc.exitCode === null) {
            vm.proc.kill("SIGKILL");
            await vm.exited;
        }

        const lines = probeLines(vm.probeLog);
        const get = (k: string) => lines.find((l) => l.key === k)?.value;
        const all = (k: string) => lines.filter((l) => l.key === k).map((l) => l.value);
        const result = readGuestFile(vm.disk, "/var/lib/cloud/data/result.json");
        if (result) fs.writeFileSync(path.join(dir, "result.json"), result);
        fs.writeFileSync(
            path.join(dir, "requests.log"),
            standins.requests
                .map(
                    (r: RequestRecord) =>
                        `${new Date(r.at).toISOString()} ${r.service} ${r.method} ${r.host}${r.path} ${r.status}`,
                )
                .join("\n") + "\n",
        );
        // No secret value in anything the guest logged (journal, cloud-init output, serial console).
        const secretValues = Object.values(JSON.parse(secret.json) as Record<string, string>).filter(
            (v) => v.length >= 12 && !v.startsWith("-----"),
        );
        const logs =
            fs.readFileSync(vm.probeLog, "utf8") +
            (fs.existsSync(vm.serialLog) ? fs.readFileSync(vm.serialLog, "utf8") : "");
        const leaked = secretValues.filter((v) => logs.includes(v));

        const healthy = get("done")?.startsWith("healthy") ?? false;
        const failures: string[] = [...details];
        if (leaked.length > 0) failures.push(`${leaked.length} secret value(s) appear in the guest's logs`);
        const status = get("cloud-init-status");
        let cloudInitErrors: unknown[] = [];
        try {
            const st = JSON.parse(status ?? "{}");
            cloudInitErrors = [...(st.errors ?? []), ...Object.values(st.recoverable_errors ?? {}).flat()];
        } catch {
            failures.push(`cloud-init status unreadable: ${status}`);
        }
        if (sc.expectFailure) {
            const reasons = [...all("failed"), ...all("reason")].join("\n");
            if (healthy) failures.push("the broken user-data booted a healthy node");
            else if (!sc.expectFailure.test(reasons + fs.readFileSync(vm.probeLog, "utf8")))
                failures.push(`the failure does not say ${sc.expectFailure}: ${all("failed").join("; ")}`);
            const reason = all("reason").find((r) => sc.expectFailure!.test(r)) ?? all("failed")[0] ?? "";
            return {
                ok: failures.length === 0,
                line: `boot ${sc.name}: ${failures.length === 0 ? "failed as expected" : "WRONG"} after ${wall} s: ${reason.trim().slice(0, 200)}`,
                details: [
                    ...failures,
                    ...details.filter((d) => !failures.includes(d)),
                    `work directory ${dir}`,
                ],
            };
        }
        if (!healthy) {
            failures.push(
                `not healthy: ${all("failed").join("; ") || `no verdict from the probe (last: ${all("waiting").at(-1) ?? "nothing"})`}`,
            );
            // Why, in the run's own output (CI keeps no work directory): the failed units' journal.
            details.push(
                ...all("reason")
                    .slice(-40)
                    .map((r) => `reason ${r}`),
            );
        }
        if (cloudInitErrors.length > 0)
            failures.push(`cloud-init errors: ${JSON.stringify(cloudInitErrors).slice(0, 600)}`);
        if (healthy) {
            for (const u of units) {
                const s = all("unit").find((v) => v.startsWith(`${u} `));
                if (u === "wso2is.service" && !s?.includes(" active/running/"))
                    failures.push(`${u} is not active/running: ${s}`);
                if (u === "wso2is-bootstrap.service" && !s?.includes(" active/"))
                    failures.push(`${u} is not active: ${s}`);
            }
            const pinIp = env.NODE_IP_SOURCE === "static" ? env.NODE_IP : guestAddr.node;
            if (!get("hosts")?.startsWith(`${pinIp} ${env.LB_HOSTNAME} `))
                failures.push(`/etc/hosts pin: ${get("hosts")}`);
            if (!get("redirect")?.startsWith(`200 via ${pinIp}:443`))
                failures.push(`443 redirect: ${get("redirect")}`);
            const links = all("link");
            if (
                !links.includes(`userstores ${env.SHARE_MOUNT}/Userstores`) ||
                !links.includes(`tenants ${env.SHARE_MOUNT}/Tenants`)
            )
                failures.push(`share links: ${links.join("; ")}`);
            if (!get("share")?.includes("nfs4")) failures.push(`share mount: ${get("share")}`);
            const heap = get("java-heap-args") ?? "";
            const jvmEnv = get("java-env") ?? "";
            if (!/^JVM_MEM_OPTS=/.test(jvmEnv))
                failures.push(`JVM_MEM_OPTS not in the IS process's environment (${jvmEnv})`);
            const xmx = /-Xmx(\S+)/.exec(heap)?.[1];
            if (!xmx || xmx === "1024m" || !jvmEnv.includes(`-Xmx${xmx}`))
                failures.push(`IS heap: command line "${heap}", ${jvmEnv}`);
            if (
                !fs.existsSync(path.join(exportDir, "Userstores")) ||
                !fs.existsSync(path.join(exportDir, "Tenants"))
            )
                failures.push("the share on the host has no Userstores/Tenants");
            {
                const rows = rootSql(
                    db,
                    "SELECT script, outcome FROM WSO2IS_IDENTITY_DB.wso2is_schema_history UNION ALL SELECT script, outcome FROM WSO2IS_SHARED_DB.wso2is_schema_history",
                );
                const scripts = env.DB_INIT_PLAN.split(" ").flatMap((p) => p.split(":")[1].split(","));
                for (const s of scripts)
                    if (rows.filter((r) => r.split("\t")[0] === s && r.endsWith("\tapplied")).length !== 1)
                        failures.push(`db-init: ${s} not applied exactly once (${rows.join("; ")})`);
                details.push(`db-init history: ${rows.length} rows`);
            }
        }
        const secretReqs = standins.requests.filter(
            (r) => r.service === "secretsmanager" || r.service === "keyvault",
        );
        const journal = fs
            .readFileSync(vm.probeLog, "utf8")
            .split(/\r?\n/)
            .filter((l) => l.startsWith("J "));
        if (sc.secretsFailFor) {
            const said = journal.find((l) => /fetch-secrets|aws-api/.test(l) && /503/.test(l));
            if (!secretReqs.some((r) => r.status === 503))
                failures.push("the secret store never answered 503");
            else if (!said) failures.push("no log line says the secret fetch waited on a 503");
            else details.push(`waited for the secret store: ${said.slice(2, 300)}`);
        }
        if (sc.dbLateBy) {
            const waited = journal.find((l) => /db-init: .*attempt/.test(l));
            const connected = journal.find((l) => /db-init: connected on attempt ([2-9]|\d\d)/.test(l));
            if (dbRefused === 0) failures.push("the database gate never refused a connection");
            else if (!waited || !connected)
                failures.push("no db-init log line says it waited for the database");
            else
                details.push(
                    `waited for the database (${dbRefused} refused): ${waited.slice(2, 250)}; ${connected.slice(2, 200)}`,
                );
        }
        const summary = [
            `cloud-init done at ${get("cloud-init-done")?.replace("uptime=", "") ?? "?"} s`,
            `healthy at ${get("healthy")?.replace("uptime=", "") ?? "?"} s uptime`,
            `units ${all("unit")
                .map((u) => u.replace(/\.service /, ":"))
                .join(", ")}`,
            `heap ${get("java-heap-args") ?? "?"}`,
            `secret store ${secretReqs.filter((r) => r.status === 503).length}x503 then ${secretReqs.filter((r) => r.status === 200).length}x200`,
        ];
        return {
            ok: failures.length === 0,
            line: `boot ${sc.name}: ${failures.length === 0 ? `IS healthy in ${wall} s` : `FAILED after ${wall} s`} (${summary.join("; ")})`,
            details: [...failures, ...details.filter((d) => !failures.includes(d)), `work directory ${dir}`],
        };
    } finally {
        for (const stop of stopAll.reverse()) {
            try {
                await stop();
            } catch {
                // best effort
            }
        }
    }
}

async function main() {
    const { values } = parseArgs({
        options: { scenario: { type: "string", multiple: true } },
        strict: true,
    });
    const chosen = values.scenario?.length
        ? values.scenario.map((n) => {
              const s = scenarios.find((x) => x.name === n);
              if (!s)
                  throw new Error(`unknown scenario ${n}; known: ${scenarios.map((x) => x.name).join(", ")}`);
              return s;
          })
        : scenarios;
    ensureCommands({
        "qemu-system-x86_64": "qemu-system-x86",
        socat: "socat",
        genisoimage: "genisoimage",
        debugfs: "e2fsprogs",
        mmdebstrap: "mmdebstrap",
        "ganesha.nfsd": "nfs-ganesha",
        javac: "openjdk-17-jdk-headless",
        zip: "zip",
        mariadbd: "mariadb-server",
        mariadb: "mariadb-client",
        openssl: "openssl",
    });
    if (!fs.existsSync("/usr/lib/x86_64-linux-gnu/ganesha/libfsalvfs.so"))
        ensureCommands({ "ganesha-vfs-missing": "nfs-ganesha-vfs" });
    const t0 = Date.now();
    const image = execFileSync("bash", [path.join(__dirname, "image.sh")], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "inherit"],
    }).trim();
    console.log(`boot image: ${image} (${Math.round((Date.now() - t0) / 1000)} s)`);
    for (const signal of ["SIGINT", "SIGTERM"] as const)
        process.on(signal, () => {
            console.log(`boot test: ${signal}: stopping the guest and the stand-ins`);
            void Promise.allSettled(running.reverse().map(async (stop) => stop())).then(() =>
                process.exit(130),
            );
        });
    let failed = 0;
    for (const sc of chosen) {
        if (secondsLeft() < minScenarioSeconds) {
            console.log(
                `boot ${sc.name}: NOT RUN: ${Math.max(0, Math.floor(secondsLeft()))} s left before WSO2IS_BOOT_DEADLINE, a scenario needs ${minScenarioSeconds} s`,
            );
            failed++;
            continue;
        }
        const out = await runScenario(sc, image);
        console.log(out.line);
        for (const d of out.details) console.log(`    ${d}`);
        if (!out.ok) failed++;
    }
    console.log(`${chosen.length - failed} passed, ${failed} failed`);
    process.exit(failed === 0 ? 0 : 1);
}

if (require.main === module)
    main().catch((e) => {
        console.error(`boot test: ${(e as Error).stack ?? e}`);
        process.exit(2);
    });
