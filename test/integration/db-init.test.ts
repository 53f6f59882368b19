// db-init.sh against a real MariaDB server started by the test: WSO2 IS 7.1.0's real dbscripts
// (test/fixtures/wso2is-7.1.0-dbscripts) in both database layouts, 5 nodes racing and a rerun
// that changes nothing; apply-or-fail (a script broken midway, a truncated one, a half-applied
// database on every later boot); the character set; the app user, fail-fast auth, bounded
// retries, GET_LOCK held for real, secrets off argv, TLS enforcement, and never a DROP.
import { SCRIPTS_DIR } from "./support/scripts";
import { strict as assert } from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { freePort, tempDir } from "./support/system";
import {
    EnvFiles,
    GATE_TABLE,
    HISTORY_TABLE,
    Run,
    Server,
    client,
    cnfq,
    createAdmin,
    dump,
    ensureMariadb,
    installDbscripts,
    planFor,
    rootSql,
    rootValue,
    startScript,
    startServer,
    stopServer,
    writeEnv,
    wso2Tables,
} from "./support/mariadb";
import { execFileSync } from "child_process";

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
const USER_DB = "WSO2IS_USER_DB";
const IDENTITY = "dbscripts/identity/mysql.sql";
const CONSENT = "dbscripts/consent/mysql.sql";
const SHARED = "dbscripts/mysql.sql";

// What WSO2's 7.1.0 scripts create (counted from their CREATE TABLEs; SOURCES.md).
const IDENTITY_TABLES = 127;
const CONSENT_TABLES = 10;
const SHARED_TABLES = 60;

const SECRETS = {
    WSO2_DB_ADMIN_USER: ADMIN_USER,
    WSO2_DB_ADMIN_PASSWORD: ADMIN_PASSWORD,
    WSO2_DB_PASSWORD: APP_PASSWORD,
    WSO2_ADMIN_PASSWORD: "unused",
};

const startInit = (files: EnvFiles, env: Record<string, string> = {}) => startScript(SCRIPT, [], files, env);
const runInit = (files: EnvFiles, env: Record<string, string> = {}) => startInit(files, env).done;

function summary(run: Run): { applied: number; skipped: number } {
    const m = /db-init: done: applied (\d+), skipped (\d+)/.exec(run.stderr);
    assert.ok(m, `no summary line in:\n${run.stderr}`);
    return { applied: Number(m[1]), skipped: Number(m[2]) };
}

const errorLine = (run: Run) => run.stderr.split("\n").find((l) => l.includes("ERROR")) ?? "";

function history(server: Server, db: string): string[] {
    return rootSql(server, `SELECT script, outcome FROM ${db}.${HISTORY_TABLE} ORDER BY script`);
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

/** The base env of a node: IS_HOME, the database, a plan. */
function nodeEnv(isHome: string, port: number, plan: string): Record<string, string> {
    return {
        IS_VERSION: "7.1.0",
        IS_HOME: isHome,
        DB_HOST: "127.0.0.1",
        DB_PORT: String(port),
        DB_TLS: "disabled",
        DB_APP_USER: APP_USER,
        DB_INIT_PLAN: plan,
    };
}

/**
 * 5 nodes run db-init at the same moment on an empty server, then one more (a later boot).
 * Returns what the tests assert on.
 */
async function raceAndRerun(server: Server, files: EnvFiles, dbs: string[]) {
    const t0 = Date.now();
    const runs = Array.from({ length: 5 }, () => startInit(files)); // all spawned before any is awaited
    await Promise.all(runs.map((r) => r.done));
    const raceMs = Date.now() - t0;
    runs.forEach((r, i) => assert.equal(r.code, 0, `run ${i} exited ${r.code}:\n${r.stderr}`));
    const before = dump(server, dbs);
    const rerun = await runInit(files);
    assert.equal(rerun.code, 0, rerun.stderr);
    const after = dump(server, dbs);
    return { runs, raceMs, rerun, before, after };
}

describe("db-init.sh against a real MariaDB", function () {
    this.timeout(180_000);

    let tmp: { dir: string; cleanup: () => void };
    let server: Server | undefined;
    let isHome: string;
    let env: Record<string, string>;
    const secrets = SECRETS;
    let main: EnvFiles;

    before(async function () {
        this.timeout(240_000); // a first apt-get install of mariadb-server may take a while
        ensureMariadb();
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
        createAdmin(server, ADMIN_USER, ADMIN_PASSWORD);
        // A database that exists before the first boot, holding data that must survive.
        rootSql(
            server,
            `CREATE DATABASE ${ID_DB} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci; CREATE TABLE ${ID_DB}.CANARY (v VARCHAR(20)); INSERT INTO ${ID_DB}.CANARY VALUES ('alive');`,
        );
        console.log(
            `      mariadbd ${rootValue(server, "SELECT VERSION()")} on 127.0.0.1:${server.port} (TLS ${rootValue(server, "SELECT @@have_ssl")}), up in ${Date.now() - t0} ms; client: ${execFileSync(client(), ["--version"], { encoding: "utf8" }).trim()}`,
        );

        isHome = path.join(tmp.dir, "is home"); // a space in IS_HOME on purpose
        installDbscripts(isHome);
        env = nodeEnv(isHome, server.port, planFor("identity-shared"));
        main = writeEnv(tmp.dir, "main", env, secrets);
    });

    after(async function () {
        await stopServer(server);
        tmp?.cleanup();
    });

    it("identity-shared layout, WSO2's 7.1.0 scripts: 5 racing nodes apply each once, exact table counts; a rerun changes nothing", async function () {
        assert.equal(env.DB_INIT_PLAN, `${ID_DB}:${IDENTITY},${CONSENT} ${SHARED_DB}:${SHARED}`);
        const { runs, raceMs, rerun, before, after } = await raceAndRerun(server!, main, [ID_DB, SHARED_DB]);

        // every WSO2 table, exactly: 127 identity + 10 consent on the identity DB, 60 on the shared DB
        // (the canary from before is the one extra table)
        const idTables = wso2Tables(server!, ID_DB);
        assert.equal(idTables.length, IDENTITY_TABLES + CONSENT_TABLES + 1, idTables.join(" "));
        assert.equal(wso2Tables(server!, SHARED_DB).length, SHARED_TABLES);
        assert.deepEqual(
            rootSql(
                server!,
                `SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_NAME IN ('${HISTORY_TABLE}', '${GATE_TABLE}') ORDER BY 1, 2`,
            ),
            [`${ID_DB}\t${GATE_TABLE}`, `${ID_DB}\t${HISTORY_TABLE}`, `${SHARED_DB}\t${HISTORY_TABLE}`],
        );
        // identity tables declare latin1; consent (CM_*) and shared follow the database's utf8mb4
        assert.deepEqual(
            rootSql(
                server!,
                `SELECT TABLE_SCHEMA, LEFT(TABLE_NAME, 3) = 'CM_', TABLE_COLLATION, COUNT(*) FROM information_schema.TABLES
                 WHERE TABLE_SCHEMA IN ('${ID_DB}', '${SHARED_DB}') AND TABLE_NAME NOT IN ('${HISTORY_TABLE}', '${GATE_TABLE}', 'CANARY') GROUP BY 1, 2, 3 ORDER BY 1, 2`,
            ),
            [
                `${ID_DB}\t0\tlatin1_swedish_ci\t${IDENTITY_TABLES}`,
                `${ID_DB}\t1\tutf8mb4_unicode_ci\t${CONSENT_TABLES}`,
                `${SHARED_DB}\t0\tutf8mb4_unicode_ci\t${SHARED_TABLES}`,
            ],
        );
        assert.deepEqual(history(server!, ID_DB), [`${CONSENT}\tapplied`, `${IDENTITY}\tapplied`]);
        assert.deepEqual(history(server!, SHARED_DB), [`${SHARED}\tapplied`]);
        // WSO2's seed rows exactly once
        assert.deepEqual(rootSql(server!, `SELECT PRODUCT_NAME FROM ${ID_DB}.IDN_BASE_TABLE`), [
            "WSO2 Identity Server",
        ]);
        assert.equal(
            rootValue(server!, `SELECT COUNT(*) FROM ${ID_DB}.CM_PURPOSE WHERE NAME = 'DEFAULT'`),
            "1",
        );
        assert.equal(
            rootValue(server!, `SELECT COUNT(*) FROM ${SHARED_DB}.UM_ORG WHERE UM_ORG_NAME = 'Super'`),
            "1",
        );
        // the database that existed before kept its data
        assert.deepEqual(rootSql(server!, `SELECT v FROM ${ID_DB}.CANARY`), ["alive"]);
        // exactly one node did the work, the others found it recorded
        const sums = runs.map(summary);
        assert.deepEqual(sums.map((s) => s.applied).sort(), [0, 0, 0, 0, 3]);
        assert.equal(
            sums.reduce((a, s) => a + s.skipped, 0),
            12,
        );
        // the lock really serialised them: the GET_LOCK calls are in the server's log
        const log = fs.readFileSync(server!.generalLog, "utf8");
        assert.equal((log.match(/GET_LOCK\('wso2is-db-init'/g) ?? []).length, 6);
        // the rerun: nothing to do, and nothing changed (full dump, schema and rows)
        assert.deepEqual(summary(rerun), { applied: 0, skipped: 3 });
        assert.ok(before === after, "the rerun changed the databases");
        const applier = runs.find((r) => summary(r).applied === 3)!;
        const times = [...applier.stderr.matchAll(/(\S+) applied in (\d+)s/g)].map((m) => `${m[1]} ${m[2]}s`);
        console.log(
            `      5 racing nodes: all exit 0 in ${raceMs} ms (run times ${runs.map((r) => r.ms).join("/")} ms; applier: ${times.join(", ")}); ` +
                `${ID_DB}: ${idTables.length - 1} WSO2 tables, ${SHARED_DB}: ${SHARED_TABLES}; rerun ${rerun.ms} ms, dump of ${before.length} bytes unchanged`,
        );
    });

    it("a second run keeps the data written since", async function () {
        rootSql(
            server!,
            `INSERT INTO ${ID_DB}.IDN_OAUTH_CONSUMER_APPS (CONSUMER_KEY, APP_NAME) VALUES ('written-by-IS', 'app');
            INSERT INTO ${SHARED_DB}.UM_TENANT (UM_TENANT_UUID, UM_DOMAIN_NAME, UM_CREATED_DATE) VALUES ('t-after-boot', 'tenant.after.boot', NOW())`,
        );
        const run = await runInit(main);
        assert.equal(run.code, 0, run.stderr);
        assert.deepEqual(summary(run), { applied: 0, skipped: 3 });
        assert.equal(
            rootValue(
                server!,
                `SELECT COUNT(*) FROM ${ID_DB}.IDN_OAUTH_CONSUMER_APPS WHERE CONSUMER_KEY = 'written-by-IS'`,
            ),
            "1",
        );
        assert.equal(
            rootValue(
                server!,
                `SELECT COUNT(*) FROM ${SHARED_DB}.UM_TENANT WHERE UM_DOMAIN_NAME = 'tenant.after.boot'`,
            ),
            "1",
        );
        console.log(`      second run: exit 0 in ${run.ms} ms, data kept`);
    });

    it("the app user connects with WSO2_DB_PASSWORD and uses both databases, and nothing else", function () {
        const cnf = path.join(tmp.dir, "app.cnf");
        fs.writeFileSync(
            cnf,
            `[client]\nhost=127.0.0.1\nport=${server!.port}\nprotocol=TCP\nuser=${APP_USER}\npassword=${cnfq(APP_PASSWORD)}\ndefault-character-set=utf8mb4\n`,
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
            `INSERT INTO ${ID_DB}.CM_PII_CATEGORY (NAME, DISPLAY_NAME, IS_SENSITIVE, TENANT_ID) VALUES ('app-pii', 'x', 0, -1234);
            INSERT INTO ${SHARED_DB}.REG_CLUSTER_LOCK (REG_LOCK_NAME, REG_LOCK_STATUS) VALUES ('L', 'UNLOCKED')`,
        );
        assert.equal(appSql(`SELECT COUNT(*) FROM ${ID_DB}.CM_PII_CATEGORY WHERE NAME = 'app-pii'`), "1");
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
            // the gate's table, named so it survives a narrower database grant
            `GRANT SELECT, UPDATE ON \`${ID_DB}\`.\`${GATE_TABLE}\` TO \`${APP_USER}\`@\`%\``,
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

    it("utf8mb4: non-Latin user names, claims and consent text round-trip; the widest keys are 4 and 8 bytes under 3072", function () {
        const cnf = path.join(tmp.dir, "app8.cnf");
        fs.writeFileSync(
            cnf,
            `[client]\nhost=127.0.0.1\nport=${server!.port}\nprotocol=TCP\nuser=${APP_USER}\npassword=${cnfq(APP_PASSWORD)}\ndefault-character-set=utf8mb4\n`,
            { mode: 0o600 },
        );
        const appSql = (sql: string) =>
            execFileSync(
                client(),
                [`--defaults-extra-file=${cnf}`, "--batch", "--skip-column-names", "-e", sql],
                { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
            ).trim();
        const name = "山田太郎-Ærøskøbing-Ωμέγα-🙂";
        const text = "同意します: données personnelles, 😀";
        appSql(
            `INSERT INTO ${SHARED_DB}.UM_USER (UM_USER_ID, UM_USER_NAME, UM_USER_PASSWORD, UM_CHANGED_TIME, UM_TENANT_ID) VALUES ('u-1', '${name}', 'x', NOW(), -1234);
            INSERT INTO ${SHARED_DB}.UM_USER_ATTRIBUTE (UM_ATTR_NAME, UM_ATTR_VALUE, UM_USER_ID, UM_TENANT_ID) VALUES ('givenname', '${name}', (SELECT UM_ID FROM ${SHARED_DB}.UM_USER WHERE UM_USER_ID = 'u-1'), -1234);
            INSERT INTO ${ID_DB}.CM_PURPOSE (NAME, DESCRIPTION, PURPOSE_GROUP, GROUP_TYPE, TENANT_ID) VALUES ('${name}', '${text}', 'G', 'SP', -1234);`,
        );
        assert.equal(appSql(`SELECT UM_USER_NAME FROM ${SHARED_DB}.UM_USER WHERE UM_USER_ID = 'u-1'`), name);
        assert.equal(
            appSql(
                `SELECT UM_ATTR_VALUE FROM ${SHARED_DB}.UM_USER_ATTRIBUTE WHERE UM_ATTR_NAME = 'givenname'`,
            ),
            name,
        );
        assert.equal(appSql(`SELECT DESCRIPTION FROM ${ID_DB}.CM_PURPOSE WHERE NAME = '${name}'`), text);
        // Key widths: characters x bytes per character of each string column, 4 for INT.
        const widest = rootSql(
            server!,
            `SELECT s.TABLE_NAME, s.INDEX_NAME, SUM(CASE WHEN c.CHARACTER_SET_NAME IS NOT NULL
                 THEN COALESCE(s.SUB_PART, c.CHARACTER_MAXIMUM_LENGTH) * cs.MAXLEN
                 WHEN c.DATA_TYPE = 'int' THEN 4 WHEN c.DATA_TYPE = 'bigint' THEN 8 ELSE 8 END) AS bytes
             FROM information_schema.STATISTICS s
             JOIN information_schema.COLUMNS c USING (TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME)
             LEFT JOIN information_schema.CHARACTER_SETS cs ON cs.CHARACTER_SET_NAME = c.CHARACTER_SET_NAME
             WHERE s.TABLE_SCHEMA IN ('${ID_DB}', '${SHARED_DB}') AND s.TABLE_NAME NOT IN ('${HISTORY_TABLE}', '${GATE_TABLE}')
             GROUP BY 1, 2 ORDER BY bytes DESC LIMIT 3`,
        );
        assert.deepEqual(widest.slice(0, 2), [
            "UM_USER_ATTRIBUTE\tUM_ATTR_NAME_VALUE_INDEX\t3068",
            "CM_PURPOSE\tNAME\t3064",
        ]);
        console.log(
            `      utf8mb4 round trip OK; widest keys (bytes of 3072): ${widest.join("; ").replace(/\t/g, " ")}`,
        );
    });

    describe("apply or fail: a script is applied completely, or every later boot stops", function () {
        /** An IS_HOME with the real scripts, one of them edited. */
        function home(name: string, edit?: { script: string; change: (text: string) => string }): string {
            const dir = path.join(tmp.dir, name);
            installDbscripts(dir);
            if (edit) {
                const file = path.join(dir, edit.script);
                fs.writeFileSync(file, edit.change(fs.readFileSync(file, "utf8")));
            }
            return dir;
        }

        it("a script that breaks midway (an index 4 bytes over InnoDB's limit): exit 6, nothing recorded as applied; every later boot fails clearly until an operator acts", async function () {
            const db = "WSO2IS_BROKEN_DB";
            // As a later IS version could: the index prefix of UM_USER_ATTRIBUTE (the 31st table
            // of 60) 2 characters longer, 3068 + 8 = 3076 bytes in utf8mb4.
            const original = fs.readFileSync(path.join(isHome, SHARED), "utf8");
            const widened = original.replace("UM_ATTR_VALUE(512)", "UM_ATTR_VALUE(514)");
            assert.notEqual(widened, original);
            const broken = home("broken-home", { script: SHARED, change: () => widened });
            const fx = writeEnv(
                tmp.dir,
                "broken",
                { ...env, IS_HOME: broken, DB_INIT_PLAN: `${db}:${SHARED}` },
                secrets,
            );

            const first = await runInit(fx);
            assert.equal(first.code, 6, first.stderr);
            assert.match(
                errorLine(first),
                /applying dbscripts\/mysql\.sql to database WSO2IS_BROKEN_DB failed.*1071.*max key length is 3072 bytes/,
            );
            assert.deepEqual(history(server!, db), [`${SHARED}\tstarted`]);
            const left = wso2Tables(server!, db);
            assert.equal(left.length, 31, "kept going after the error?");

            // Every later boot, and 3 nodes booting together: exit 8, naming script, database,
            // the tables present and what to do. Nothing changes.
            const before = dump(server!, [db]);
            const later = await Promise.all(Array.from({ length: 3 }, () => runInit(fx)));
            for (const run of later) {
                assert.equal(run.code, 8, run.stderr);
                const line = errorLine(run);
                assert.match(line, /database WSO2IS_BROKEN_DB is half-applied/);
                assert.match(
                    line,
                    /an earlier attempt to apply it \(node \S+, started [0-9-]+ [0-9:]+ UTC\) did not finish/,
                );
                assert.ok(
                    line.includes(`31 of the 60 tables of dbscripts/mysql.sql exist: ${left.join(" ")}.`),
                    line,
                );
                assert.match(line, /restore WSO2IS_BROKEN_DB from a backup/);
                assert.match(
                    line,
                    /remove the 31 tables listed here by hand, then DELETE FROM `WSO2IS_BROKEN_DB`.`wso2is_schema_history` WHERE script = 'dbscripts\/mysql\.sql'/,
                );
                assert.doesNotMatch(run.stderr, /pre-existing|adopted/);
            }
            assert.ok(dump(server!, [db]) === before, "a failing later boot changed the database");

            // The operator's way out, straight from the message: drop the listed tables, delete
            // the row (a fixed script, here the original), boot again.
            const listed = /exist: ([A-Za-z0-9_ ]+)\./.exec(errorLine(later[0]))![1].split(" ");
            rootSql(
                server!,
                `SET FOREIGN_KEY_CHECKS = 0; DROP TABLE ${listed.map((t) => `${db}.${t}`).join(", ")};
                DELETE FROM ${db}.${HISTORY_TABLE} WHERE script = '${SHARED}';`,
            );
            fs.writeFileSync(path.join(broken, SHARED), original);
            const fixed = await runInit(fx);
            assert.equal(fixed.code, 0, fixed.stderr);
            assert.deepEqual(history(server!, db), [`${SHARED}\tapplied`]);
            assert.equal(wso2Tables(server!, db).length, SHARED_TABLES);
            console.log(
                `      broken midway: first boot exit ${first.code} (${errorLine(first).slice(0, 150)}...); 3 later boots exit ${later.map((r) => r.code).join("/")}:\n        ${errorLine(later[0]).slice(0, 400)}...`,
            );
        });

        it("a truncated script is refused before anything is applied, even where the cut leaves valid SQL", async function () {
            const text = fs.readFileSync(path.join(isHome, IDENTITY), "utf8");
            // (a) cut at 40%: inside a statement. (b) cut just before the ';' of the 40th CREATE
            // TABLE: what is left would run as valid SQL, 39 tables short.
            const at40 = text.slice(0, Math.floor(text.length * 0.4));
            let pos = 0;
            for (let i = 0; i < 40; i++) pos = text.indexOf("CREATE TABLE", pos + 1);
            const beforeSemicolon = text.slice(0, text.indexOf(";", pos));
            for (const [label, cut] of [
                ["40%", at40],
                ["before a ';'", beforeSemicolon],
            ]) {
                const db = `WSO2IS_TRUNC_${label === "40%" ? "A" : "B"}`;
                const h = home(`trunc-${db}`, { script: IDENTITY, change: () => cut });
                const fx = writeEnv(
                    tmp.dir,
                    db,
                    { ...env, IS_HOME: h, DB_INIT_PLAN: `${db}:${IDENTITY}` },
                    secrets,
                );
                const run = await runInit(fx);
                assert.equal(run.code, 2, run.stderr);
                assert.match(
                    errorLine(run),
                    /dbscripts\/identity\/mysql\.sql \(database WSO2IS_TRUNC_\w\) does not end with a complete statement .*truncated\?.*nothing was applied/,
                );
                assert.equal(
                    rootValue(
                        server!,
                        `SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '${db}'`,
                    ),
                    "0",
                );
                console.log(
                    `      truncated (${label}, ${cut.length} of ${text.length} bytes): exit ${run.code} in ${run.ms} ms: ${errorLine(run).slice(0, 160)}`,
                );
            }
        });

        it("some of a script's tables and no record (a half manual install): exit 8, never adopted", async function () {
            const db = "WSO2IS_PARTIAL_DB";
            rootSql(
                server!,
                `CREATE DATABASE ${db}; CREATE TABLE ${db}.CM_RECEIPT (CONSENT_RECEIPT_ID VARCHAR(255) NOT NULL PRIMARY KEY);`,
            );
            const fx = writeEnv(tmp.dir, "partial", { ...env, DB_INIT_PLAN: `${db}:${CONSENT}` }, secrets);
            const run = await runInit(fx);
            assert.equal(run.code, 8, run.stderr);
            assert.match(
                errorLine(run),
                /database WSO2IS_PARTIAL_DB is half-applied: it was never recorded as applied, and 1 of the 10 tables of dbscripts\/consent\/mysql\.sql exist: CM_RECEIPT\..*remove the 1 tables listed here by hand; then run db-init again/,
            );
            assert.deepEqual(history(server!, db), []);
            console.log(`      partial, no record: exit ${run.code}: ${errorLine(run).slice(0, 200)}...`);
        });

        it("all of a script's tables and no record (an earlier manual install): adopted with a log line, not run again", async function () {
            const db = "WSO2IS_MANUAL_DB";
            rootSql(server!, `CREATE DATABASE ${db} CHARACTER SET utf8mb4`);
            execFileSync(client(), ["--no-defaults", `--socket=${server!.socket}`, "-uroot", db], {
                input: fs.readFileSync(path.join(isHome, CONSENT)),
            });
            rootSql(
                server!,
                `INSERT INTO ${db}.CM_PII_CATEGORY (NAME, IS_SENSITIVE) VALUES ('from-before', 0)`,
            );
            const before = dump(server!, [db]);
            const fx = writeEnv(tmp.dir, "manual", { ...env, DB_INIT_PLAN: `${db}:${CONSENT}` }, secrets);
            const run = await runInit(fx);
            assert.equal(run.code, 0, run.stderr);
            assert.match(
                run.stderr,
                /WSO2IS_MANUAL_DB: all 10 tables of dbscripts\/consent\/mysql\.sql exist but db-init never recorded it: adopted as applied/,
            );
            assert.deepEqual(summary(run), { applied: 0, skipped: 1 });
            assert.deepEqual(history(server!, db), [`${CONSENT}\tadopted`]);
            // only db-init's own tables were added; WSO2's tables and rows untouched
            assert.equal(
                rootValue(server!, `SELECT COUNT(*) FROM ${db}.CM_PII_CATEGORY WHERE NAME = 'from-before'`),
                "1",
            );
            assert.equal(rootValue(server!, `SELECT COUNT(*) FROM ${db}.CM_PURPOSE`), "1");
            assert.ok(before.length > 0);
            console.log(
                `      manual install: ${run.stderr.split("\n").find((l) => l.includes("adopted as"))}`,
            );
        });

        it("an attempt that died before its first table ('started', no table) is applied again", async function () {
            const db = "WSO2IS_RETRY_DB";
            rootSql(
                server!,
                `CREATE DATABASE ${db} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
                CREATE TABLE ${db}.${HISTORY_TABLE} (script VARCHAR(255) NOT NULL PRIMARY KEY, outcome VARCHAR(32) NOT NULL,
                  started_at TIMESTAMP NULL DEFAULT NULL, finished_at TIMESTAMP NULL DEFAULT NULL, node VARCHAR(255) NULL);
                INSERT INTO ${db}.${HISTORY_TABLE} (script, outcome, started_at, node) VALUES ('${CONSENT}', 'started', NOW(), 'node-gone');`,
            );
            const fx = writeEnv(tmp.dir, "retry", { ...env, DB_INIT_PLAN: `${db}:${CONSENT}` }, secrets);
            const run = await runInit(fx);
            assert.equal(run.code, 0, run.stderr);
            assert.match(
                run.stderr,
                /an earlier attempt to apply dbscripts\/consent\/mysql\.sql \(node node-gone, started .* UTC\) left none of its tables: applying it again/,
            );
            assert.deepEqual(history(server!, db), [`${CONSENT}\tapplied`]);
            assert.equal(wso2Tables(server!, db).length, CONSENT_TABLES);
            console.log(`      'started' without tables: applied again, exit 0 in ${run.ms} ms`);
        });

        it("checks the plan's scripts against IS_HOME before connecting: missing, empty, or no CREATE TABLE", async function () {
            const h = home("layout-home");
            fs.writeFileSync(path.join(h, "dbscripts", "empty.sql"), "");
            fs.writeFileSync(path.join(h, "dbscripts", "notables.sql"), "INSERT INTO X VALUES (1);\n");
            const cases: [string, RegExp][] = [
                [
                    "dbscripts/identity/mysql-8.sql",
                    /dbscript .*\/dbscripts\/identity\/mysql-8\.sql \(database WSO2IS_X_DB\) does not exist\. IS_VERSION=7\.1\.0: .*dbscripts differently\? IS_HOME has: dbscripts\/consent\/mysql\.sql dbscripts\/identity\/mysql\.sql dbscripts\/mysql\.sql/,
                ],
                ["dbscripts/empty.sql", /dbscripts\/empty\.sql \(database WSO2IS_X_DB\) is empty/],
                [
                    "dbscripts/notables.sql",
                    /dbscripts\/notables\.sql \(database WSO2IS_X_DB\) creates no table: not a WSO2 schema script/,
                ],
            ];
            for (const [script, re] of cases) {
                const fx = writeEnv(
                    tmp.dir,
                    "layout",
                    { ...env, IS_HOME: h, DB_INIT_PLAN: `WSO2IS_X_DB:${script}` },
                    secrets,
                );
                const run = await runInit(fx);
                assert.equal(run.code, 2, run.stderr);
                assert.match(errorLine(run), re);
                // missing/empty: found before connecting; no table: before the lock (and any DDL)
                assert.doesNotMatch(
                    run.stderr,
                    script.includes("notables") ? /waiting for lock/ : /waiting for 127/,
                    "checked the scripts too late",
                );
            }
            console.log(
                `      layout check: ${cases.length} cases exit 2 before any DDL (missing, empty: before connecting)`,
            );
        });
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

    it("never issues a DROP (server query log and script text)", function () {
        // db-init's sessions are the admin user's (the tests' own clean-up runs as root).
        const log = fs.readFileSync(server!.generalLog, "utf8");
        const adminThreads = new Set<string>();
        const drops: string[] = [];
        let thread = "";
        let statements = 0;
        for (const line of log.split("\n")) {
            const m = /\s(\d+) (Connect|Query|Quit|Init DB)\t(.*)$/.exec(line);
            if (m) {
                thread = m[1];
                if (m[2] === "Connect" && m[3].startsWith(`${ADMIN_USER}@`)) adminThreads.add(thread);
            }
            if (adminThreads.has(thread)) {
                statements++;
                if (/\bDROP\b/i.test(line)) drops.push(line);
            }
        }
        assert.ok(adminThreads.size >= 10, `only ${adminThreads.size} db-init sessions found in the log`);
        assert.deepEqual(drops, [], "db-init sent DROP statements");
        const code = fs
            .readFileSync(SCRIPT, "utf8")
            .split("\n")
            .filter((l) => !/^\s*#/.test(l));
        assert.deepEqual(
            code.filter((l) => /\bDROP\b/i.test(l)),
            [],
            "db-init.sh contains DROP outside comments",
        );
        console.log(
            `      server query log: ${adminThreads.size} db-init sessions, ${statements} lines, 0 DROP`,
        );
    });

    describe("a rotated WSO2_DB_PASSWORD (MariaDB: the plain ALTER USER path)", function () {
        // Its own app user and database, so the other tests' user keeps its password.
        const ROT_USER = "wso2is_rot";
        const ROT_DB = "WSO2IS_ROT_DB";
        const PW1 = `Rot'pw1\\"a;-- x`;
        const PW2 = `Rot'pw2\\"b;-- y`;
        const rot = (name: string, password: string) =>
            writeEnv(
                tmp.dir,
                name,
                { ...env, DB_APP_USER: ROT_USER, DB_INIT_PLAN: `${ROT_DB}:${CONSENT}` },
                { ...secrets, WSO2_DB_PASSWORD: password },
            );
        /** CURRENT_USER() of a login as the rotation user with this password, or the client's error. */
        function login(password: string): string {
            const cnf = path.join(tmp.dir, "rot-login.cnf");
            fs.writeFileSync(
                cnf,
                `[client]\nhost=127.0.0.1\nport=${server!.port}\nprotocol=TCP\nuser=${ROT_USER}\npassword=${cnfq(password)}\n`,
                { mode: 0o600 },
            );
            try {
                return execFileSync(
                    client(),
                    [
                        `--defaults-extra-file=${cnf}`,
                        "--batch",
                        "--skip-column-names",
                        "-e",
                        "SELECT CURRENT_USER()",
                    ],
                    { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
                ).trim();
            } catch (e) {
                return String((e as { stderr?: string }).stderr ?? e).trim();
            }
        }
        const hash = () =>
            rootValue(
                server!,
                `SELECT authentication_string FROM mysql.user WHERE User = '${ROT_USER}' AND Host = '%'`,
            );
        /** The ALTER USER statements for the rotation user in the server's query log since `from` bytes. */
        const altersSince = (from: number) =>
            fs
                .readFileSync(server!.generalLog, "utf8")
                .slice(from)
                .split("\n")
                .filter((l) => /ALTER USER/i.test(l) && l.includes(ROT_USER));
        const logSize = () => fs.statSync(server!.generalLog).size;
        const userLine = (run: Run) =>
            run.stderr.split("\n").find((l) => l.includes(`user '${ROT_USER}'`)) ?? "";
        let version = "";

        before(function () {
            version = rootValue(server!, "SELECT VERSION()");
            assert.match(version, /MariaDB/);
        });

        it("first boot creates the user with the password; a rotation changes it once (plain ALTER, WARNING), 3 racing nodes", async function () {
            const first = await runInit(rot("rot1", PW1));
            assert.equal(first.code, 0, first.stderr);
            assert.match(userLine(first), /user 'wso2is_rot' created$/);
            assert.equal(login(PW1), `${ROT_USER}@%`);
            const hash1 = hash();

            // The rotation: the first new nodes boot together with the new secret (one env file
            // pair, written before any of them starts).
            const rotated = rot("rot2", PW2);
            const from = logSize();
            const runs = await Promise.all(Array.from({ length: 3 }, () => runInit(rotated)));
            runs.forEach((r, i) => assert.equal(r.code, 0, `node ${i}: ${r.stderr}`));
            const lines = runs.map(userLine);
            const changed = lines.filter((l) => l.includes("WARNING"));
            assert.equal(changed.length, 1, lines.join("\n"));
            assert.ok(
                changed[0].includes(
                    `WARNING: user '${ROT_USER}': WSO2_DB_PASSWORD set with a plain ALTER USER: the server (${version}) has no dual passwords (MySQL 8.0.14+), so nodes still on the previous password cannot open new database connections until they are replaced`,
                ),
                changed[0],
            );
            assert.equal(
                lines.filter((l) =>
                    l.endsWith(
                        `user '${ROT_USER}' accepts WSO2_DB_PASSWORD: its password is current, not changed`,
                    ),
                ).length,
                2,
                lines.join("\n"),
            );
            // exactly one ALTER USER reached the server, without RETAIN (MariaDB)
            const alters = altersSince(from);
            assert.equal(alters.length, 1, alters.join("\n"));
            assert.doesNotMatch(alters[0], /RETAIN/);
            assert.equal(login(PW2), `${ROT_USER}@%`);
            assert.notEqual(hash(), hash1);
            // What the WARNING is about: on MariaDB the previous password is gone at once.
            assert.match(login(PW1), /ERROR 1045/);
            console.log(
                `      rotation on ${version}: 3 racing nodes, 1 plain ALTER USER (general log), 2 found it current; new password accepted, old refused (1045)`,
            );
        });

        it("a later boot with the same password: no ALTER USER at all, the hash unchanged", async function () {
            const before = hash();
            const from = logSize();
            const run = await runInit(rot("rot2", PW2));
            assert.equal(run.code, 0, run.stderr);
            assert.match(userLine(run), /accepts WSO2_DB_PASSWORD: its password is current, not changed$/);
            assert.deepEqual(altersSince(from), []);
            assert.equal(hash(), before);
            assert.equal(login(PW2), `${ROT_USER}@%`);
            console.log(
                `      same password again: ${userLine(run).replace(/^db-init: /, "")}; 0 ALTER USER`,
            );
        });

        it("a login that fails other than 'access denied' (account locked): exit 4, the password left as it is", async function () {
            rootSql(server!, `ALTER USER '${ROT_USER}'@'%' ACCOUNT LOCK`);
            try {
                const before = hash();
                const from = logSize();
                const run = await runInit(rot("rot2", PW2));
                assert.equal(run.code, 4, run.stderr);
                assert.match(
                    errorLine(run),
                    /could not tell whether user 'wso2is_rot' accepts WSO2_DB_PASSWORD \(its login was refused, not with access denied\): its password is left as it is: .*ERROR 4151/,
                );
                assert.deepEqual(
                    altersSince(from).filter((l) => /IDENTIFIED/i.test(l)),
                    [],
                );
                assert.equal(hash(), before);
                console.log(`      locked account: exit 4, ${errorLine(run).slice(0, 160)}`);
            } finally {
                rootSql(server!, `ALTER USER '${ROT_USER}'@'%' ACCOUNT UNLOCK`);
            }
        });

        it("a login the server does not answer (the user's connection limit reached): exit 3, the password left as it is", async function () {
            // One connection allowed, and held by a "running node": db-init's login gets ERROR 1203.
            rootSql(server!, `ALTER USER '${ROT_USER}'@'%' WITH MAX_USER_CONNECTIONS 1`);
            const cnf = path.join(tmp.dir, "rot-hold.cnf");
            fs.writeFileSync(
                cnf,
                `[client]\nhost=127.0.0.1\nport=${server!.port}\nprotocol=TCP\nuser=${ROT_USER}\npassword=${cnfq(PW2)}\n`,
                { mode: 0o600 },
            );
            const holder = spawn(client(), [`--defaults-extra-file=${cnf}`, "-e", "SELECT SLEEP(60)"], {
                stdio: "ignore",
            });
            try {
                const deadline = Date.now() + 20000;
                while (
                    rootValue(
                        server!,
                        `SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = '${ROT_USER}'`,
                    ) !== "1"
                ) {
                    if (Date.now() > deadline) throw new Error("the holding connection never appeared");
                    await new Promise((r) => setTimeout(r, 200));
                }
                const before = hash();
                const from = logSize();
                const run = await runInit(rot("rot2", PW2));
                assert.equal(run.code, 3, run.stderr);
                assert.match(
                    errorLine(run),
                    /could not tell whether user 'wso2is_rot' accepts WSO2_DB_PASSWORD \(its login did not get through: the server is unreachable or busy; it is left as it is, the bootstrap tries again\): .*ERROR 1226/,
                );
                assert.deepEqual(
                    altersSince(from).filter((l) => /IDENTIFIED/i.test(l)),
                    [],
                );
                assert.equal(hash(), before);
                console.log(`      connection limit reached: exit 3, ${errorLine(run).slice(0, 160)}`);
            } finally {
                holder.kill("SIGKILL");
                rootSql(server!, `ALTER USER '${ROT_USER}'@'%' WITH MAX_USER_CONNECTIONS 0`);
            }
        });

        it("MariaDB has no RETAIN CURRENT PASSWORD: the statement db-init sends MySQL 8.0.14+ is a syntax error here", function () {
            const hook = execFileSync("bash", [SCRIPT, "--app-password-sql", "8.0.36"], { encoding: "utf8" });
            const [mode, statement] = hook.trimEnd().split("\t");
            assert.equal(mode, "retain");
            const real = statement
                .replace("'app'@'%'", `'${ROT_USER}'@'%'`)
                .replace("'<new password>'", "'Rot-pw3'");
            assert.throws(() => rootSql(server!, real), /ERROR 1064/);
            assert.equal(login(PW2), `${ROT_USER}@%`);
            // and what db-init picks for this very server
            assert.equal(
                execFileSync("bash", [SCRIPT, "--app-password-sql", version], { encoding: "utf8" }).split(
                    "\t",
                )[0],
                "plain",
            );
            console.log(`      ${version}: "${real}" -> ERROR 1064; db-init picks plain ALTER USER for it`);
        });
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

describe("db-init.sh, separate layout, against a real MariaDB", function () {
    this.timeout(180_000);
    let tmp: { dir: string; cleanup: () => void };
    let server: Server | undefined;

    before(async function () {
        this.timeout(240_000);
        ensureMariadb();
        tmp = tempDir("db-init-sep");
        server = await startServer(tmp.dir);
        createAdmin(server, ADMIN_USER, ADMIN_PASSWORD);
    });

    after(async function () {
        await stopServer(server);
        tmp?.cleanup();
    });

    it("WSO2's 7.1.0 scripts into identity, shared and user databases: 5 racing nodes, exact table counts; a rerun changes nothing", async function () {
        const isHome = path.join(tmp.dir, "is");
        installDbscripts(isHome);
        const plan = planFor("separate");
        assert.equal(plan, `${ID_DB}:${IDENTITY},${CONSENT} ${SHARED_DB}:${SHARED} ${USER_DB}:${SHARED}`);
        const fx = writeEnv(tmp.dir, "sep", nodeEnv(isHome, server!.port, plan), SECRETS);
        const { runs, raceMs, rerun, before, after } = await raceAndRerun(server!, fx, [
            ID_DB,
            SHARED_DB,
            USER_DB,
        ]);

        const counts = [ID_DB, SHARED_DB, USER_DB].map((db) => wso2Tables(server!, db).length);
        assert.deepEqual(counts, [IDENTITY_TABLES + CONSENT_TABLES, SHARED_TABLES, SHARED_TABLES]);
        assert.deepEqual(history(server!, ID_DB), [`${CONSENT}\tapplied`, `${IDENTITY}\tapplied`]);
        assert.deepEqual(history(server!, SHARED_DB), [`${SHARED}\tapplied`]);
        assert.deepEqual(history(server!, USER_DB), [`${SHARED}\tapplied`]);
        // the gate lives in the first database of the plan only
        assert.deepEqual(
            rootSql(
                server!,
                `SELECT TABLE_SCHEMA FROM information_schema.TABLES WHERE TABLE_NAME = '${GATE_TABLE}'`,
            ),
            [ID_DB],
        );
        assert.deepEqual(runs.map((r) => summary(r).applied).sort(), [0, 0, 0, 0, 4]);
        assert.deepEqual(summary(rerun), { applied: 0, skipped: 4 });
        assert.ok(before === after, "the rerun changed the databases");
        // each database's schema is the same wherever the same script went
        const cols = (db: string) =>
            rootSql(
                server!,
                `SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, COLLATION_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '${db}' AND TABLE_NAME <> '${HISTORY_TABLE}' ORDER BY 1, 2`,
            );
        assert.deepEqual(cols(USER_DB), cols(SHARED_DB));
        console.log(
            `      separate layout, 5 racing nodes: all exit 0 in ${raceMs} ms; tables ${ID_DB} ${counts[0]}, ${SHARED_DB} ${counts[1]}, ${USER_DB} ${counts[2]}; rerun ${rerun.ms} ms, dump unchanged`,
        );
    });
});

// The MySQL path cannot run here (Debian ships no MySQL server): its SQL is checked against the
// MySQL 8.0 reference manual (dual passwords since 8.0.14, ALTER USER ... RETAIN CURRENT
// PASSWORD), not against a server. What is tested for real is the choice, by the same bash
// function the script uses on a node, from VERSION() as RDS, Flexible Server and MariaDB
// report it.
describe("db-init.sh --app-password-sql: the server's VERSION() decides how a rotated password is set", function () {
    const RETAIN = "ALTER USER 'app'@'%' IDENTIFIED BY '<new password>' RETAIN CURRENT PASSWORD;";
    const PLAIN = "ALTER USER 'app'@'%' IDENTIFIED BY '<new password>';";
    const cases: [string, "retain" | "plain"][] = [
        ["8.0.36", "retain"], // RDS for MySQL 8.0
        ["8.0.21", "retain"], // Flexible Server 8.0.21
        ["8.0.14", "retain"], // the first with dual passwords
        ["8.0.13", "plain"],
        ["8.0.09", "plain"], // a leading zero is not octal
        ["8.4.3", "retain"],
        ["9.1.0", "retain"],
        ["5.7.44-log", "plain"],
        ["10.11.19-MariaDB-0+deb12u1", "plain"],
        ["11.8.2-MariaDB-ubu2404", "plain"],
        ["8.0.mysql_aurora.3.05.2", "plain"], // not recognised: plain, never a guess at the syntax
        ["", "plain"],
    ];

    it(`${cases.length} version strings`, function () {
        for (const [version, mode] of cases) {
            const out = execFileSync("bash", [SCRIPT, "--app-password-sql", version], {
                encoding: "utf8",
                env: { PATH: process.env.PATH },
            });
            assert.equal(out, `${mode}\t${mode === "retain" ? RETAIN : PLAIN}\n`, `VERSION() '${version}'`);
        }
        assert.throws(
            () => execFileSync("bash", [SCRIPT, "--app-password-sql"], { stdio: "pipe" }),
            (e: { status: number; stderr: Buffer }) =>
                e.status === 2 &&
                /usage: db-init\.sh --app-password-sql SERVER_VERSION/.test(e.stderr.toString()),
        );
    });
});
