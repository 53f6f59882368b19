// db-init.sh against a real MariaDB server started by the test (own datadir, socket and port on
// 127.0.0.1): concurrent boots, idempotency, the app user, fail-fast auth, bounded retries,
// GET_LOCK held for real, secrets off argv, TLS enforcement, and never a DROP.
import { SCRIPTS_DIR } from "./support/scripts";
import { strict as assert } from "assert";
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ensureCommands, freePort, hasCommand, tempDir } from "./support/system";

// The script as nodes receive it (see support/scripts.ts).
const SCRIPT = path.join(SCRIPTS_DIR, "db-init.sh");
const LOCK = "wso2is-db-init";

// Secrets with every character that could break an option file, a SQL literal or the client's
// statement splitter.
const ADMIN_USER = "dbadmin";
const ADMIN_PASSWORD = `Adm'in"pw\\#1 $x`;
const APP_USER = "wso2is";
const APP_PASSWORD = `App'pw\\"2;-- x`;

const ID_DB = "WSO2IS_IDENTITY_DB";
const SHARED_DB = "WSO2IS_SHARED_DB";
const PLAN = `${ID_DB}:dbscripts/identity/mysql.sql,dbscripts/consent/mysql.sql ${SHARED_DB}:dbscripts/mysql.sql`;

// Stand-ins for WSO2's dbscripts: plain CREATE TABLE (a second run would fail), seeded rows,
// and a pause inside the identity script to widen any race between concurrent nodes.
const DBSCRIPTS: Record<string, string> = {
    "dbscripts/identity/mysql.sql": `-- stand-in for WSO2's identity schema
CREATE TABLE IDN_BASE_TABLE (PRODUCT_NAME VARCHAR(20), PRIMARY KEY (PRODUCT_NAME)) ENGINE INNODB;
INSERT INTO IDN_BASE_TABLE values ('WSO2 Identity Server');
DO SLEEP(0.3);
CREATE TABLE IDN_OAUTH_CONSUMER_APPS (
  ID INTEGER NOT NULL AUTO_INCREMENT,
  CONSUMER_KEY VARCHAR(255),
  PRIMARY KEY (ID)
) ENGINE INNODB;
CREATE INDEX IDX_OCA_CK ON IDN_OAUTH_CONSUMER_APPS (CONSUMER_KEY);
`,
    "dbscripts/consent/mysql.sql": `CREATE TABLE CM_PII_CATEGORY (ID INTEGER AUTO_INCREMENT, NAME VARCHAR(255) NOT NULL, PRIMARY KEY (ID)) ENGINE INNODB;
CREATE TABLE CM_RECEIPT (CONSENT_RECEIPT_ID VARCHAR(255) NOT NULL, PRIMARY KEY (CONSENT_RECEIPT_ID)) ENGINE INNODB;
INSERT INTO CM_PII_CATEGORY (NAME) VALUES ('seed-consent');
`,
    "dbscripts/mysql.sql": `CREATE TABLE REG_CLUSTER_LOCK (REG_LOCK_NAME VARCHAR(20), REG_LOCK_STATUS VARCHAR(20), PRIMARY KEY (REG_LOCK_NAME)) ENGINE INNODB;
CREATE TABLE UM_TENANT (UM_ID INTEGER NOT NULL AUTO_INCREMENT, UM_DOMAIN_NAME VARCHAR(255) NOT NULL, PRIMARY KEY (UM_ID)) ENGINE INNODB;
INSERT INTO UM_TENANT (UM_DOMAIN_NAME) VALUES ('seed.tenant');
`,
};
const TABLES: Record<string, string[]> = {
    [ID_DB]: ["IDN_BASE_TABLE", "IDN_OAUTH_CONSUMER_APPS", "CM_PII_CATEGORY", "CM_RECEIPT"],
    [SHARED_DB]: ["REG_CLUSTER_LOCK", "UM_TENANT"],
};

const client = () => (hasCommand("mariadb") ? "mariadb" : "mysql");

/** Single-quoted for bash `source` (and systemd): ' becomes '\''. */
const shq = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;

/** Option-file value, double-quoted with \\ and \" escapes (what db-init.sh writes). */
const cnfq = (v: string) => `"${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;

interface Server {
    port: number;
    socket: string;
    dir: string;
    generalLog: string;
    proc: ChildProcess;
}

/** A private mariadbd: fresh datadir, root through its own socket, TCP on 127.0.0.1:<free port>. */
async function startServer(dir: string, extraArgs: string[] = []): Promise<Server> {
    const datadir = path.join(dir, "data");
    const socket = path.join(dir, "mysqld.sock");
    const generalLog = path.join(dir, "general.log");
    const installDb = hasCommand("mariadb-install-db") ? "mariadb-install-db" : "mysql_install_db";
    execFileSync(
        installDb,
        [
            "--no-defaults",
            "--user=root",
            `--datadir=${datadir}`,
            "--auth-root-authentication-method=socket",
            "--skip-test-db",
        ],
        {
            stdio: "pipe",
        },
    );
    const port = await freePort();
    const daemon = hasCommand("mariadbd") ? "mariadbd" : "mysqld";
    const proc = spawn(
        daemon,
        [
            "--no-defaults",
            "--user=root",
            `--datadir=${datadir}`,
            `--socket=${socket}`,
            `--port=${port}`,
            "--bind-address=127.0.0.1",
            `--pid-file=${path.join(dir, "mysqld.pid")}`,
            `--log-error=${path.join(dir, "error.log")}`,
            "--general-log=1",
            `--general-log-file=${generalLog}`,
            "--innodb-buffer-pool-size=32M",
            ...extraArgs,
        ],
        { stdio: "ignore" },
    );
    const server: Server = { port, socket, dir, generalLog, proc };
    const deadline = Date.now() + 30_000;
    for (;;) {
        if (proc.exitCode !== null)
            throw new Error(
                `${daemon} exited (${proc.exitCode}): ${fs.readFileSync(path.join(dir, "error.log"), "utf8")}`,
            );
        try {
            rootSql(server, "SELECT 1");
            return server;
        } catch (e) {
            if (Date.now() > deadline)
                throw new Error(`${daemon} did not come up: ${(e as Error).message}`, { cause: e });
            await new Promise((r) => setTimeout(r, 100));
        }
    }
}

async function stopServer(server: Server | undefined): Promise<void> {
    if (!server || server.proc.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => server.proc.once("exit", () => resolve()));
    server.proc.kill("SIGTERM");
    const timer = setTimeout(() => server.proc.kill("SIGKILL"), 20_000);
    await exited;
    clearTimeout(timer);
}

/** Runs SQL as root through the socket; returns the rows (tab-separated, no header). */
function rootSql(server: Server, sql: string): string[] {
    const out = execFileSync(
        client(),
        ["--no-defaults", `--socket=${server.socket}`, "-uroot", "--batch", "--skip-column-names", "-e", sql],
        {
            encoding: "utf8",
            stdio: ["ignore", "pipe", "pipe"],
        },
    );
    return out.split("\n").filter((l) => l !== "");
}
const rootValue = (server: Server, sql: string) => rootSql(server, sql)[0];

interface Run {
    code: number | null;
    stderr: string;
    ms: number;
    proc: ChildProcess;
    done: Promise<Run>;
}

/** Starts db-init.sh with its env files (and env overrides); resolves when it exits. */
function startInit(files: { nodeEnv: string; secretsEnv: string }, env: Record<string, string> = {}): Run {
    const started = Date.now();
    const proc = spawn("bash", [SCRIPT], {
        env: { ...process.env, WSO2IS_NODE_ENV: files.nodeEnv, WSO2IS_SECRETS_ENV: files.secretsEnv, ...env },
        stdio: ["ignore", "pipe", "pipe"],
    });
    const run = { code: null, stderr: "", ms: 0, proc } as unknown as Run;
    proc.stdout!.on("data", (d) => (run.stderr += d.toString()));
    proc.stderr!.on("data", (d) => (run.stderr += d.toString()));
    run.done = new Promise((resolve) =>
        proc.on("close", (code) => {
            run.code = code;
            run.ms = Date.now() - started;
            resolve(run);
        }),
    );
    return run;
}
const runInit = (files: { nodeEnv: string; secretsEnv: string }, env: Record<string, string> = {}) =>
    startInit(files, env).done;

function summary(run: Run): { applied: number; skipped: number } {
    const m = /db-init: done: applied (\d+), skipped (\d+)/.exec(run.stderr);
    assert.ok(m, `no summary line in:\n${run.stderr}`);
    return { applied: Number(m[1]), skipped: Number(m[2]) };
}

interface Fixture {
    nodeEnv: string;
    secretsEnv: string;
}

/** Writes node.env/secrets.env for a plan into dir. */
function writeEnv(
    dir: string,
    name: string,
    values: Record<string, string>,
    secrets: Record<string, string>,
): Fixture {
    const nodeEnv = path.join(dir, `${name}.node.env`);
    const secretsEnv = path.join(dir, `${name}.secrets.env`);
    fs.writeFileSync(
        nodeEnv,
        Object.entries(values)
            .map(([k, v]) => `${k}=${shq(v)}\n`)
            .join(""),
        { mode: 0o644 },
    );
    fs.writeFileSync(
        secretsEnv,
        Object.entries(secrets)
            .map(([k, v]) => `${k}=${shq(v)}\n`)
            .join(""),
        { mode: 0o600 },
    );
    return { nodeEnv, secretsEnv };
}

/** All processes' argv, joined, as `ps` would see them. */
function allCommandLines(): string[] {
    const out: string[] = [];
    for (const pid of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(pid)) continue;
        try {
            out.push(fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" "));
        } catch {
            // the process ended meanwhile
        }
    }
    return out;
}

describe("db-init.sh against a real MariaDB", function () {
    this.timeout(60_000);

    let tmp: { dir: string; cleanup: () => void };
    let server: Server | undefined;
    let isHome: string;
    let env: Record<string, string>;
    let secrets: Record<string, string>;
    let main: Fixture;

    before(async function () {
        this.timeout(240_000); // a first apt-get install of mariadb-server may take a while
        ensureCommands({
            mariadbd: "mariadb-server",
            "mariadb-install-db": "mariadb-server",
            mariadb: "mariadb-client",
            openssl: "openssl",
        });
        tmp = tempDir("db-init");
        const t0 = Date.now();
        // TLS-capable server (self-signed), so DB_TLS=required can be exercised for real.
        const certDir = path.join(tmp.dir, "tls");
        fs.mkdirSync(certDir);
        execFileSync(
            "openssl",
            [
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=127.0.0.1",
                "-keyout",
                path.join(certDir, "key.pem"),
                "-out",
                path.join(certDir, "cert.pem"),
            ],
            { stdio: "ignore" },
        );
        const serverDir = path.join(tmp.dir, "server");
        fs.mkdirSync(serverDir);
        server = await startServer(serverDir, [
            `--ssl-cert=${path.join(certDir, "cert.pem")}`,
            `--ssl-key=${path.join(certDir, "key.pem")}`,
        ]);
        rootSql(
            server,
            `CREATE USER '${ADMIN_USER}'@'%' IDENTIFIED BY '${ADMIN_PASSWORD.replace(/\\/g, "\\\\").replace(/'/g, "''")}';
            GRANT ALL PRIVILEGES ON *.* TO '${ADMIN_USER}'@'%' WITH GRANT OPTION;`,
        );
        // A database that exists before the first boot, holding data that must survive.
        rootSql(
            server,
            `CREATE DATABASE ${ID_DB}; CREATE TABLE ${ID_DB}.CANARY (v VARCHAR(20)); INSERT INTO ${ID_DB}.CANARY VALUES ('alive');`,
        );
        console.log(
            `      mariadbd ${rootValue(server, "SELECT VERSION()")} on 127.0.0.1:${server.port} (TLS ${rootValue(server, "SELECT @@have_ssl")}), up in ${Date.now() - t0} ms; client: ${execFileSync(client(), ["--version"], { encoding: "utf8" }).trim()}`,
        );

        isHome = path.join(tmp.dir, "is home"); // a space in IS_HOME on purpose
        for (const [rel, text] of Object.entries(DBSCRIPTS)) {
            fs.mkdirSync(path.dirname(path.join(isHome, rel)), { recursive: true });
            fs.writeFileSync(path.join(isHome, rel), text);
        }
        env = {
            IS_HOME: isHome,
            DB_HOST: "127.0.0.1",
            DB_PORT: String(server.port),
            DB_TLS: "disabled",
            DB_APP_USER: APP_USER,
            DB_INIT_PLAN: PLAN,
        };
        secrets = {
            WSO2_DB_ADMIN_USER: ADMIN_USER,
            WSO2_DB_ADMIN_PASSWORD: ADMIN_PASSWORD,
            WSO2_DB_PASSWORD: APP_PASSWORD,
            WSO2_ADMIN_PASSWORD: "unused",
        };
        main = writeEnv(tmp.dir, "main", env, secrets);
    });

    after(async function () {
        await stopServer(server);
        tmp?.cleanup();
    });

    it("5 nodes booting at the same moment: all exit 0, each script applied exactly once", async function () {
        const t0 = Date.now();
        const runs = Array.from({ length: 5 }, () => startInit(main)); // all spawned before any is awaited
        await Promise.all(runs.map((r) => r.done));
        const took = Date.now() - t0;
        runs.forEach((r, i) => assert.equal(r.code, 0, `run ${i} exited ${r.code}:\n${r.stderr}`));

        // every table exactly once, in the right database
        for (const [db, tables] of Object.entries(TABLES)) {
            for (const t of tables) {
                const where = rootSql(
                    server!,
                    `SELECT TABLE_SCHEMA FROM information_schema.TABLES WHERE TABLE_NAME = '${t}'`,
                );
                assert.deepEqual(where, [db], `${t} should exist once, in ${db}`);
            }
        }
        // history: each script once, 'applied'
        const history = [
            ...rootSql(server!, `SELECT '${ID_DB}', script, outcome FROM ${ID_DB}.wso2is_schema_history`),
            ...rootSql(
                server!,
                `SELECT '${SHARED_DB}', script, outcome FROM ${SHARED_DB}.wso2is_schema_history`,
            ),
        ].sort();
        assert.deepEqual(history, [
            `${ID_DB}\tdbscripts/consent/mysql.sql\tapplied`,
            `${ID_DB}\tdbscripts/identity/mysql.sql\tapplied`,
            `${SHARED_DB}\tdbscripts/mysql.sql\tapplied`,
        ]);
        // seeded rows exactly once
        assert.equal(rootValue(server!, `SELECT COUNT(*) FROM ${ID_DB}.IDN_BASE_TABLE`), "1");
        assert.equal(
            rootValue(server!, `SELECT COUNT(*) FROM ${ID_DB}.CM_PII_CATEGORY WHERE NAME = 'seed-consent'`),
            "1",
        );
        assert.equal(
            rootValue(
                server!,
                `SELECT COUNT(*) FROM ${SHARED_DB}.UM_TENANT WHERE UM_DOMAIN_NAME = 'seed.tenant'`,
            ),
            "1",
        );
        // the database that existed before kept its data
        assert.deepEqual(rootSql(server!, `SELECT v FROM ${ID_DB}.CANARY`), ["alive"]);
        // exactly one node did the work, the others found it recorded
        const sums = runs.map(summary);
        const appliedTotal = sums.reduce((a, s) => a + s.applied, 0);
        assert.equal(appliedTotal, 3, `applied per run: ${sums.map((s) => s.applied).join(",")}`);
        assert.equal(sums.filter((s) => s.applied === 3).length, 1);
        assert.equal(
            sums.reduce((a, s) => a + s.skipped, 0),
            12,
        );
        // the lock really serialised them: the GET_LOCK calls are in the server's log
        const log = fs.readFileSync(server!.generalLog, "utf8");
        assert.equal((log.match(/GET_LOCK\('wso2is-db-init'/g) ?? []).length, 5);
        console.log(
            `      5 concurrent runs: ${runs.filter((r) => r.code === 0).length} exit 0, ${history.length} scripts applied once ` +
                `(applied per run ${sums.map((s) => s.applied).join("/")}), run times ${runs.map((r) => r.ms).join("/")} ms, took ${took} ms`,
        );
    });

    it("a second run is a no-op and keeps the data written since", async function () {
        rootSql(
            server!,
            `INSERT INTO ${ID_DB}.IDN_OAUTH_CONSUMER_APPS (CONSUMER_KEY) VALUES ('written-by-IS');
            INSERT INTO ${SHARED_DB}.UM_TENANT (UM_DOMAIN_NAME) VALUES ('tenant.after.boot')`,
        );
        const before = rootValue(
            server!,
            `SELECT (SELECT COUNT(*) FROM ${ID_DB}.wso2is_schema_history) + (SELECT COUNT(*) FROM ${SHARED_DB}.wso2is_schema_history)`,
        );
        const run = await runInit(main);
        assert.equal(run.code, 0, run.stderr);
        assert.deepEqual(summary(run), { applied: 0, skipped: 3 });
        const after = rootValue(
            server!,
            `SELECT (SELECT COUNT(*) FROM ${ID_DB}.wso2is_schema_history) + (SELECT COUNT(*) FROM ${SHARED_DB}.wso2is_schema_history)`,
        );
        assert.equal(after, before);
        assert.equal(
            rootValue(
                server!,
                `SELECT COUNT(*) FROM ${ID_DB}.IDN_OAUTH_CONSUMER_APPS WHERE CONSUMER_KEY = 'written-by-IS'`,
            ),
            "1",
        );
        assert.equal(rootValue(server!, `SELECT COUNT(*) FROM ${SHARED_DB}.UM_TENANT`), "2");
        assert.deepEqual(rootSql(server!, `SELECT v FROM ${ID_DB}.CANARY`), ["alive"]);
        console.log(
            `      second run: exit 0 in ${run.ms} ms, history rows ${before} -> ${after}, data kept`,
        );
    });

    it("the app user connects with WSO2_DB_PASSWORD and uses both databases, and nothing else", function () {
        const cnf = path.join(tmp.dir, "app.cnf");
        fs.writeFileSync(
            cnf,
            `[client]\nhost=127.0.0.1\nport=${server!.port}\nprotocol=TCP\nuser=${APP_USER}\npassword=${cnfq(APP_PASSWORD)}\n`,
            { mode: 0o600 },
        );
        const appSql = (sql: string) =>
            execFileSync(
                client(),
                [`--defaults-extra-file=${cnf}`, "--batch", "--skip-column-names", "-e", sql],
                { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
            ).trim();
        assert.equal(appSql("SELECT CURRENT_USER()"), `${APP_USER}@%`);
        appSql(
            `INSERT INTO ${ID_DB}.CM_RECEIPT VALUES ('r-1'); INSERT INTO ${SHARED_DB}.REG_CLUSTER_LOCK VALUES ('L', 'UNLOCKED')`,
        );
        assert.equal(appSql(`SELECT COUNT(*) FROM ${ID_DB}.CM_RECEIPT`), "1");
        assert.equal(appSql(`SELECT REG_LOCK_STATUS FROM ${SHARED_DB}.REG_CLUSTER_LOCK`), "UNLOCKED");
        // app user may create tables in its databases (IS migrations), not read mysql.*
        appSql(`CREATE TABLE ${SHARED_DB}.APP_MADE (a INT)`);
        assert.throws(() => appSql("SELECT COUNT(*) FROM mysql.user"), /denied/i);
        const grants = rootSql(server!, `SHOW GRANTS FOR '${APP_USER}'@'%'`).filter(
            (g) => !/USAGE ON \*\.\*/.test(g),
        );
        assert.deepEqual(grants.sort(), [
            `GRANT ALL PRIVILEGES ON \`${ID_DB}\`.* TO \`${APP_USER}\`@\`%\``,
            `GRANT ALL PRIVILEGES ON \`${SHARED_DB}\`.* TO \`${APP_USER}\`@\`%\``,
        ]);
        // a wrong password is refused (the password really is the one from secrets.env)
        fs.writeFileSync(
            cnf,
            `[client]\nhost=127.0.0.1\nport=${server!.port}\nprotocol=TCP\nuser=${APP_USER}\npassword=wrong\n`,
            { mode: 0o600 },
        );
        assert.throws(() => appSql("SELECT 1"), /Access denied/i);
        console.log(
            `      app user ${APP_USER}@%: connected with WSO2_DB_PASSWORD, read/wrote ${ID_DB} and ${SHARED_DB}, ${grants.length} grants`,
        );
    });

    it("holds GET_LOCK for the whole run, and keeps every secret off argv", async function () {
        // Another session holds the lock: db-init must wait, with its client session open.
        const holder = spawn(
            client(),
            [
                "--no-defaults",
                `--socket=${server!.socket}`,
                "-uroot",
                "--batch",
                "--skip-column-names",
                "--unbuffered",
            ],
            {
                stdio: ["pipe", "pipe", "pipe"],
            },
        );
        const firstLine = new Promise<string>((resolve) =>
            holder.stdout!.once("data", (d) => resolve(d.toString().trim())),
        );
        holder.stdin!.write(`SELECT GET_LOCK('${LOCK}', 10);\n`);
        assert.equal(await firstLine, "1");
        try {
            const started = Date.now();
            const run = startInit(main, { DB_INIT_LOCK_TIMEOUT: "30" });
            let waitingSeen = false;
            let defaultsFile = "";
            const deadline = Date.now() + 10_000;
            while (Date.now() < deadline && !waitingSeen) {
                await new Promise((r) => setTimeout(r, 50));
                waitingSeen = run.stderr.includes("waiting for lock");
            }
            assert.ok(waitingSeen, `never reached the lock:\n${run.stderr}`);
            // look at every process' argv a few times while it waits
            let seenClient = 0;
            for (let i = 0; i < 10; i++) {
                for (const cmd of allCommandLines()) {
                    assert.ok(
                        !cmd.includes(ADMIN_PASSWORD) && !cmd.includes(APP_PASSWORD),
                        `secret on a command line: ${cmd}`,
                    );
                    const m = /--defaults-extra-file=(\S*wso2is-db-init\.\S+)/.exec(cmd);
                    if (m) {
                        seenClient++;
                        defaultsFile = m[1];
                    }
                }
                await new Promise((r) => setTimeout(r, 50));
            }
            assert.ok(seenClient > 0, "db-init's mysql session was not found in /proc");
            assert.equal(fs.statSync(defaultsFile).mode & 0o777, 0o600);
            assert.equal(run.code, null, "db-init finished while another session held the lock");
            assert.equal(rootValue(server!, `SELECT IS_USED_LOCK('${LOCK}') IS NOT NULL`), "1");
            const released = Date.now();
            holder.stdin!.write(`DO RELEASE_LOCK('${LOCK}');\n`);
            await run.done;
            assert.equal(run.code, 0, run.stderr);
            assert.ok(!fs.existsSync(path.dirname(defaultsFile)), "temporary defaults file left behind");
            console.log(
                `      lock held elsewhere: db-init blocked ${released - started} ms, finished ${Date.now() - released} ms after release; ${seenClient} argv sightings of its client, no secret; defaults file 0600, removed`,
            );
        } finally {
            holder.stdin!.end("quit\n");
        }
    });

    it("gives up clearly when the lock is not free within DB_INIT_LOCK_TIMEOUT", async function () {
        const holder = spawn(
            client(),
            [
                "--no-defaults",
                `--socket=${server!.socket}`,
                "-uroot",
                "--batch",
                "--skip-column-names",
                "--unbuffered",
            ],
            {
                stdio: ["pipe", "pipe", "pipe"],
            },
        );
        const firstLine = new Promise<string>((resolve) =>
            holder.stdout!.once("data", (d) => resolve(d.toString().trim())),
        );
        holder.stdin!.write(`SELECT GET_LOCK('${LOCK}', 10);\n`);
        assert.equal(await firstLine, "1");
        try {
            const run = await runInit(main, { DB_INIT_LOCK_TIMEOUT: "1" });
            assert.notEqual(run.code, 0);
            assert.match(run.stderr, /could not get lock 'wso2is-db-init'.*within 1s/);
            assert.ok(run.ms < 10_000, `took ${run.ms} ms`);
            console.log(`      lock timeout 1 s: exit ${run.code} after ${run.ms} ms`);
        } finally {
            holder.stdin!.end("quit\n");
        }
    });

    it("fails fast on a wrong admin password, naming host and user", async function () {
        const bad = writeEnv(tmp.dir, "badpw", env, {
            ...secrets,
            WSO2_DB_ADMIN_PASSWORD: "not-the-password",
        });
        const run = await runInit(bad, { DB_INIT_RETRIES: "3", DB_INIT_RETRY_DELAY: "1" });
        assert.notEqual(run.code, 0);
        assert.match(run.stderr, /access denied/i);
        assert.ok(
            run.stderr.includes(`'${ADMIN_USER}'`) && run.stderr.includes(`127.0.0.1:${server!.port}`),
            run.stderr,
        );
        assert.ok(run.ms < 3_000, `took ${run.ms} ms: retried instead of failing fast`);
        assert.doesNotMatch(run.stderr, /retrying in/);
        console.log(`      wrong admin password: exit ${run.code} after ${run.ms} ms, no retry`);
    });

    it("fails after bounded retries when the database is unreachable", async function () {
        const closedPort = await freePort(); // nothing listens there once freePort returns
        const unreachable = writeEnv(
            tmp.dir,
            "unreachable",
            { ...env, DB_PORT: String(closedPort) },
            secrets,
        );
        const run = await runInit(unreachable, { DB_INIT_RETRIES: "3", DB_INIT_RETRY_DELAY: "1" });
        assert.notEqual(run.code, 0);
        assert.match(run.stderr, /could not connect.*unreachable.*after 3 attempts/);
        assert.equal((run.stderr.match(/retrying in 1s/g) ?? []).length, 2);
        assert.ok(run.ms >= 1_900 && run.ms < 15_000, `took ${run.ms} ms`);
        console.log(
            `      unreachable 127.0.0.1:${closedPort}: exit ${run.code} after 3 attempts, ${run.ms} ms`,
        );
    });

    it("aborts on a failing dbscript naming database and script, records nothing, and can be re-run", async function () {
        const home = path.join(tmp.dir, "broken-home");
        fs.mkdirSync(path.join(home, "dbscripts"), { recursive: true });
        const script = path.join(home, "dbscripts", "broken.sql");
        fs.writeFileSync(
            script,
            "CREATE TABLE BRK_ONE (a INT);\nCREATE TABLE BRK_ONE (a INT);\nCREATE TABLE BRK_TWO (a INT);\n",
        );
        const fx = writeEnv(
            tmp.dir,
            "broken",
            { ...env, IS_HOME: home, DB_INIT_PLAN: "WSO2IS_BROKEN_DB:dbscripts/broken.sql" },
            secrets,
        );
        const run = await runInit(fx);
        assert.notEqual(run.code, 0);
        assert.match(run.stderr, /dbscripts\/broken\.sql.*WSO2IS_BROKEN_DB.*failed.*already exists/);
        assert.equal(rootValue(server!, "SELECT COUNT(*) FROM WSO2IS_BROKEN_DB.wso2is_schema_history"), "0");
        assert.equal(
            rootValue(server!, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_NAME = 'BRK_TWO'"),
            "0",
            "kept going after the error",
        );
        assert.equal(rootValue(server!, `SELECT IS_FREE_LOCK('${LOCK}')`), "1", "lock left held");
        // fixed by hand (the operator's job), the next boot records the existing schema
        fs.writeFileSync(script, "CREATE TABLE BRK_ONE (a INT);\nCREATE TABLE BRK_TWO (a INT);\n");
        rootSql(server!, "CREATE TABLE WSO2IS_BROKEN_DB.BRK_TWO (a INT)");
        const again = await runInit(fx);
        assert.equal(again.code, 0, again.stderr);
        assert.deepEqual(
            rootSql(server!, "SELECT script, outcome FROM WSO2IS_BROKEN_DB.wso2is_schema_history"),
            ["dbscripts/broken.sql\tpre-existing"],
        );
        console.log(
            `      failing dbscript: exit ${run.code}: ${run.stderr
                .split("\n")
                .find((l) => l.includes("ERROR"))
                ?.slice(0, 150)}`,
        );
    });

    it("separate layout: 3 databases, one of them with a schema from before (recorded as pre-existing)", async function () {
        const dbs = ["WSO2IS_SEP_IDENTITY_DB", "WSO2IS_SEP_CONSENT_DB", "WSO2IS_SEP_SHARED_DB"];
        // the shared schema was created earlier by WSO2's own script: no history table yet
        rootSql(
            server!,
            `CREATE DATABASE ${dbs[2]}; CREATE TABLE ${dbs[2]}.REG_CLUSTER_LOCK (REG_LOCK_NAME VARCHAR(20), REG_LOCK_STATUS VARCHAR(20), PRIMARY KEY (REG_LOCK_NAME));
            CREATE TABLE ${dbs[2]}.UM_TENANT (UM_ID INTEGER NOT NULL AUTO_INCREMENT, UM_DOMAIN_NAME VARCHAR(255) NOT NULL, PRIMARY KEY (UM_ID));
            INSERT INTO ${dbs[2]}.UM_TENANT (UM_DOMAIN_NAME) VALUES ('old.tenant');`,
        );
        const plan = `${dbs[0]}:dbscripts/identity/mysql.sql ${dbs[1]}:dbscripts/consent/mysql.sql ${dbs[2]}:dbscripts/mysql.sql`;
        const fx = writeEnv(tmp.dir, "separate", { ...env, DB_INIT_PLAN: plan }, secrets);
        const runs = await Promise.all(Array.from({ length: 3 }, () => runInit(fx)));
        runs.forEach((r, i) => assert.equal(r.code, 0, `run ${i}:\n${r.stderr}`));
        const history = dbs
            .flatMap((db) =>
                rootSql(server!, `SELECT '${db}', script, outcome FROM ${db}.wso2is_schema_history`),
            )
            .sort();
        assert.deepEqual(
            history,
            [
                `${dbs[1]}\tdbscripts/consent/mysql.sql\tapplied`,
                `${dbs[0]}\tdbscripts/identity/mysql.sql\tapplied`,
                `${dbs[2]}\tdbscripts/mysql.sql\tpre-existing`,
            ].sort(),
        );
        assert.equal(
            rootValue(
                server!,
                `SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '${dbs[1]}' AND TABLE_NAME LIKE 'CM\\_%'`,
            ),
            "2",
        );
        assert.equal(
            rootValue(
                server!,
                `SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '${dbs[0]}' AND TABLE_NAME LIKE 'CM\\_%'`,
            ),
            "0",
        );
        assert.deepEqual(
            rootSql(server!, `SELECT UM_DOMAIN_NAME FROM ${dbs[2]}.UM_TENANT`),
            ["old.tenant"],
            "pre-existing schema was re-run or touched",
        );
        assert.equal(
            rootValue(
                server!,
                `SELECT COUNT(*) FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = "'${APP_USER}'@'%'" AND TABLE_SCHEMA IN ('${dbs.join("','")}') AND PRIVILEGE_TYPE = 'SELECT'`,
            ),
            "3",
        );
        const sums = runs.map(summary);
        console.log(
            `      separate layout, 3 concurrent runs: ${history.length} history rows (2 applied, 1 pre-existing), applied per run ${sums.map((s) => s.applied).join("/")}`,
        );
    });

    it("never issues a DROP (server query log and script text)", function () {
        const log = fs.readFileSync(server!.generalLog, "utf8");
        const drops = log.split("\n").filter((l) => /\bDROP\b/i.test(l));
        assert.deepEqual(drops, [], "DROP statements reached the server");
        const code = fs
            .readFileSync(SCRIPT, "utf8")
            .split("\n")
            .filter((l) => !/^\s*#/.test(l));
        assert.deepEqual(
            code.filter((l) => /\bDROP\b/i.test(l)),
            [],
            "db-init.sh contains DROP outside comments",
        );
        console.log(`      server query log: ${log.split("\n").length} lines, 0 DROP`);
    });

    describe("DB_TLS=required", function () {
        let plain: Server | undefined;
        let plainTmp: { dir: string; cleanup: () => void } | undefined;

        after(async function () {
            await stopServer(plain);
            plainTmp?.cleanup();
        });

        it("connects over TLS to a server that offers it", async function () {
            const fx = writeEnv(tmp.dir, "tls", { ...env, DB_TLS: "required" }, secrets);
            const run = await runInit(fx);
            assert.equal(run.code, 0, run.stderr);
            const cipher = /connected on attempt 1 \(TLS: ([^)]+)\)/.exec(run.stderr);
            assert.ok(cipher, `no TLS cipher reported:\n${run.stderr}`);
            console.log(`      DB_TLS=required, TLS server: exit 0, cipher ${cipher[1]}`);
        });

        it("refuses a server without TLS before sending any secret", async function () {
            plainTmp = tempDir("db-init-plain");
            plain = await startServer(plainTmp.dir);
            rootSql(
                plain,
                `CREATE USER '${ADMIN_USER}'@'%' IDENTIFIED BY '${ADMIN_PASSWORD.replace(/\\/g, "\\\\").replace(/'/g, "''")}';
                GRANT ALL PRIVILEGES ON *.* TO '${ADMIN_USER}'@'%' WITH GRANT OPTION;`,
            );
            assert.equal(rootValue(plain, "SELECT @@have_ssl"), "DISABLED");
            const fx = writeEnv(
                tmp.dir,
                "notls",
                { ...env, DB_TLS: "required", DB_PORT: String(plain.port) },
                secrets,
            );
            const run = await runInit(fx, { DB_INIT_RETRIES: "3", DB_INIT_RETRY_DELAY: "1" });
            assert.notEqual(run.code, 0);
            assert.match(run.stderr, /not encrypted|TLS/);
            assert.equal(
                rootValue(plain, `SELECT COUNT(*) FROM mysql.user WHERE user = '${APP_USER}'`),
                "0",
                "app user created over plain text",
            );
            assert.ok(run.ms < 3_000, `took ${run.ms} ms`);
            console.log(
                `      DB_TLS=required, plain server: exit ${run.code} after ${run.ms} ms: ${run.stderr.split("\n").find((l) => l.includes("ERROR"))}`,
            );
        });
    });
});
