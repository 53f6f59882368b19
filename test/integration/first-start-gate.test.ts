// first-start-gate.sh against a real MariaDB, with stand-ins for IS: a small HTTP server per node
// that answers the health path with 503 until its "first start" is over, then 200. Proves one
// node at a time through the first start (3 racing nodes), takeover from a holder killed with
// -9, bounded waits with the holder named, release on timeout and on SIGTERM, and that only
// the app user's password is needed.
import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as path from "path";
import { healthCheckPath } from "../../components/model";
import {
    EnvFiles,
    GATE_TABLE,
    Run,
    Server,
    createAdmin,
    ensureMariadb,
    rootSql,
    rootValue,
    startScript,
    startServer,
    stopServer,
    writeEnv,
} from "./support/mariadb";
import { SCRIPTS_DIR } from "./support/scripts";
import { tempDir } from "./support/system";

const GATE = path.join(SCRIPTS_DIR, "first-start-gate.sh");
const DB_INIT = path.join(SCRIPTS_DIR, "db-init.sh");
const DB = "WSO2IS_IDENTITY_DB";
const APP_USER = "wso2is";
const APP_PASSWORD = `Gate'pw\\"3 #x`;

// Short clocks for the test: poll every second, a holder is stale after 10 s (one heartbeat
// round, a mysql and a curl run, takes seconds on a machine shared by many test runs).
const FAST = {
    FIRST_START_POLL: "1",
    FIRST_START_LOG_EVERY: "1",
    FIRST_START_STALE: "10",
    FIRST_START_WAIT: "120",
    FIRST_START_HOLD_TIMEOUT: "120",
};

/** A stand-in for IS on this node: 503 on the health path until `readyAfterMs`, then 200. */
interface StandIn {
    url: string;
    startedAt: number;
    healthyAt?: number;
    /** Started while the database had no first start recorded: this one did the seeding. */
    firstStart: boolean;
    close(): Promise<void>;
}

async function startStandIn(
    server: Server,
    readyAfterMs: number,
    tls?: { key: string; cert: string },
): Promise<StandIn> {
    const startedAt = Date.now();
    const firstStart = rootValue(server, `SELECT done_at IS NULL FROM ${DB}.${GATE_TABLE}`) === "1";
    const standIn = { startedAt, firstStart } as StandIn;
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
        const ready = req.url === healthCheckPath && Date.now() - startedAt >= readyAfterMs;
        if (ready && standIn.healthyAt === undefined) standIn.healthyAt = Date.now();
        res.writeHead(ready ? 200 : 503).end();
    };
    const srv = tls ? https.createServer(tls, handler) : http.createServer(handler);
    await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", () => resolve()));
    const port = (srv.address() as { port: number }).port;
    standIn.url = `${tls ? "https" : "http"}://127.0.0.1:${port}${healthCheckPath}`;
    standIn.close = () =>
        new Promise<void>((resolve) => {
            srv.closeAllConnections();
            srv.close(() => resolve());
        });
    return standIn;
}

interface Node {
    id: string;
    enter: Run;
    is?: StandIn;
    hold?: Run;
}

describe("first-start-gate.sh against a real MariaDB, stand-in IS processes", function () {
    this.timeout(180_000);

    let tmp: { dir: string; cleanup: () => void };
    let server: Server | undefined;
    let files: EnvFiles;
    const standIns: StandIn[] = [];

    const gate = (mode: string, id: string, env: Record<string, string> = {}) =>
        startScript(GATE, [mode], files, { ...FAST, FIRST_START_NODE_ID: id, ...env });
    const row = () =>
        rootSql(
            server!,
            `SELECT COALESCE(holder, '-'), done_at IS NOT NULL, COALESCE(done_by, '-') FROM ${DB}.${GATE_TABLE}`,
        )[0];
    const resetGate = () =>
        rootSql(
            server!,
            `UPDATE ${DB}.${GATE_TABLE} SET holder = NULL, acquired_at = NULL, heartbeat_at = NULL, done_at = NULL, done_by = NULL`,
        );
    const until = async (what: string, cond: () => boolean, ms = 30_000) => {
        const deadline = Date.now() + ms;
        while (!cond()) {
            if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
            await new Promise((r) => setTimeout(r, 50));
        }
    };

    /** One node's start: enter, then IS (stand-in, healthy after readyAfterMs), then hold. */
    async function bootNode(
        id: string,
        readyAfterMs: number,
        env: Record<string, string> = {},
    ): Promise<Node> {
        const enter = await gate("enter", id, env).done;
        const node: Node = { id, enter };
        if (enter.code !== 0) return node;
        node.is = await startStandIn(server!, readyAfterMs);
        standIns.push(node.is);
        node.hold = await gate("hold", id, { HEALTH_URL: node.is.url, ...env }).done;
        return node;
    }

    before(async function () {
        this.timeout(240_000);
        ensureMariadb();
        tmp = tempDir("first-start-gate");
        server = await startServer(tmp.dir);
        createAdmin(server, "dbadmin", "adminpw");
        // The gate does not depend on the schema: a one-table stand-in plan keeps this file fast
        // (db-init.test.ts applies WSO2's real scripts).
        const home = path.join(tmp.dir, "is");
        fs.mkdirSync(path.join(home, "dbscripts"), { recursive: true });
        fs.writeFileSync(path.join(home, "dbscripts", "mysql.sql"), "CREATE TABLE IDN_BASE_TABLE (A INT);\n");
        const nodeEnv = {
            IS_HOME: home,
            DB_HOST: "127.0.0.1",
            DB_PORT: String(server.port),
            DB_TLS: "disabled",
            DB_APP_USER: APP_USER,
            DB_INIT_PLAN: `${DB}:dbscripts/mysql.sql`,
        };
        const init = writeEnv(tmp.dir, "init", nodeEnv, {
            WSO2_DB_ADMIN_USER: "dbadmin",
            WSO2_DB_ADMIN_PASSWORD: "adminpw",
            WSO2_DB_PASSWORD: APP_PASSWORD,
        });
        const run = await startScript(DB_INIT, [], init).done;
        assert.equal(run.code, 0, run.stderr);
        // The nodes' secrets.env as issue 15 leaves it: no database admin pair.
        files = writeEnv(tmp.dir, "node", nodeEnv, { WSO2_DB_PASSWORD: APP_PASSWORD });
    });

    afterEach(async function () {
        await Promise.all(standIns.splice(0).map((s) => s.close()));
    });

    after(async function () {
        await stopServer(server);
        tmp?.cleanup();
    });

    it("3 nodes racing: exactly one first start; the others start after it answered 200", async function () {
        assert.equal(row(), "-\t0\t-");
        const t0 = Date.now();
        const nodes = await Promise.all(["node-a", "node-b", "node-c"].map((id) => bootNode(id, 3000)));
        for (const n of nodes) {
            assert.equal(n.enter.code, 0, `${n.id} enter:\n${n.enter.stderr}`);
            assert.equal(n.hold!.code, 0, `${n.id} hold:\n${n.hold!.stderr}`);
        }
        const first = nodes.filter((n) => n.is!.firstStart);
        assert.equal(first.length, 1, `first starts: ${first.map((n) => n.id).join(", ")}`);
        const holder = first[0];
        assert.match(holder.enter.stderr, /this node holds the first-start gate/);
        assert.match(
            holder.hold!.stderr,
            /IS answered 200 after \d+s: first start recorded as done; gate released/,
        );
        assert.equal(row(), `-\t1\t${holder.id}`);
        const others = nodes.filter((n) => n !== holder);
        for (const n of others) {
            // waited, naming the holder on every wait line; started only after the holder was healthy
            const waits = n.enter.stderr.split("\n").filter((l) => l.includes("waiting:"));
            assert.ok(waits.length >= 2, `${n.id} did not wait:\n${n.enter.stderr}`);
            for (const w of waits)
                assert.match(
                    w,
                    new RegExp(
                        `node '${holder.id}' holds the first-start gate \\(for \\d+s, last heartbeat \\d+s ago\\); waited \\d+s of 120s`,
                    ),
                );
            assert.match(
                n.enter.stderr,
                new RegExp(`first start already done \\(by ${holder.id} at .* UTC\\); go ahead`),
            );
            assert.ok(
                n.is!.startedAt >= holder.is!.healthyAt!,
                `${n.id} started before ${holder.id} was healthy`,
            );
            assert.match(n.hold!.stderr, /first start already done .*nothing to hold/);
            assert.ok(n.hold!.ms < 5_000, `${n.id} hold took ${n.hold!.ms} ms`);
        }
        const rel = (t: number) => ((t - t0) / 1000).toFixed(1);
        console.log(
            `      holder ${holder.id}: IS started at +${rel(holder.is!.startedAt)} s, healthy at +${rel(holder.is!.healthyAt!)} s; ` +
                others
                    .map(
                        (n) =>
                            `${n.id} waited ${(n.enter.ms / 1000).toFixed(1)} s, IS started at +${rel(n.is!.startedAt)} s`,
                    )
                    .join("; "),
        );
        // A later start: no wait at all.
        const later = await gate("enter", "node-b").done;
        assert.equal(later.code, 0, later.stderr);
        assert.match(later.stderr, /first start already done/);
        console.log(`      a later start: enter exit 0 in ${later.ms} ms`);
    });

    it("a holder killed with -9 (VM gone) is taken over once its heartbeat is stale", async function () {
        resetGate();
        const a = await gate("enter", "node-a").done;
        assert.equal(a.code, 0, a.stderr);
        const aIs = await startStandIn(server!, Number.MAX_SAFE_INTEGER); // never healthy
        standIns.push(aIs);
        const aHold = gate("hold", "node-a", { HEALTH_URL: aIs.url });
        await until("node-a holding", () => aHold.stderr.includes("holding the first-start gate"));
        const b = gate("enter", "node-b");
        await until("node-b waiting", () => /waiting: node 'node-a'/.test(b.stderr));
        const killedAt = Date.now();
        aHold.proc.kill("SIGKILL");
        await aIs.close();
        await b.done;
        assert.equal(b.code, 0, b.stderr);
        assert.match(
            b.stderr,
            /took the first-start gate over from 'node-a' \(its last heartbeat \d+s ago, stale after 10s\); this node does the first start/,
        );
        const takeover = b.endedAt - killedAt;
        // heartbeat every 1 s, stale after 10 s, polled every 1 s (+ slack for a loaded machine)
        assert.ok(takeover >= 7_000 && takeover <= 18_000, `takeover after ${takeover} ms`);
        assert.match(row(), /^node-b\t0\t-$/);
        const bIs = await startStandIn(server!, 500);
        standIns.push(bIs);
        const bHold = await gate("hold", "node-b", { HEALTH_URL: bIs.url }).done;
        assert.equal(bHold.code, 0, bHold.stderr);
        assert.equal(row(), "-\t1\tnode-b");
        console.log(
            `      node-a killed -9 while holding: node-b took over ${takeover} ms later, then recorded the first start`,
        );
    });

    it("enter gives up after FIRST_START_WAIT behind a live holder, naming it", async function () {
        resetGate();
        rootSql(
            server!,
            `UPDATE ${DB}.${GATE_TABLE} SET holder = 'node-x', acquired_at = UTC_TIMESTAMP(6) - INTERVAL 42 SECOND, heartbeat_at = UTC_TIMESTAMP(6)`,
        );
        const run = await gate("enter", "node-y", { FIRST_START_WAIT: "2" }).done;
        assert.equal(run.code, 5, run.stderr);
        assert.match(
            run.stderr,
            /gave up after 2s \(FIRST_START_WAIT\): node 'node-x' still holds the first-start gate \(for 4\ds, last heartbeat \ds ago\)/,
        );
        assert.equal(row(), "node-x\t0\t-");
        console.log(`      enter behind a live holder: exit ${run.code} after ${run.ms} ms`);
    });

    it("hold releases the gate when IS is not healthy within FIRST_START_HOLD_TIMEOUT, and on SIGTERM", async function () {
        resetGate();
        assert.equal((await gate("enter", "node-a").done).code, 0);
        const sick = await startStandIn(server!, Number.MAX_SAFE_INTEGER);
        standIns.push(sick);
        const timedOut = await gate("hold", "node-a", { HEALTH_URL: sick.url, FIRST_START_HOLD_TIMEOUT: "2" })
            .done;
        assert.equal(timedOut.code, 8, timedOut.stderr);
        assert.match(
            timedOut.stderr,
            /IS did not answer 200 at .* within 2s \(FIRST_START_HOLD_TIMEOUT; last status 503\)/,
        );
        assert.match(timedOut.stderr, /released the first-start gate/);
        assert.equal(row(), "-\t0\t-");

        // the next node gets it at once; SIGTERM (systemd stopping IS) releases it too
        const b = await gate("enter", "node-b").done;
        assert.match(b.stderr, /this node holds the first-start gate/);
        assert.doesNotMatch(b.stderr, /waiting:/, "waited behind a released gate");
        const hold = gate("hold", "node-b", { HEALTH_URL: sick.url });
        await until("node-b holding", () => hold.stderr.includes("holding the first-start gate"));
        const termAt = Date.now();
        hold.proc.kill("SIGTERM");
        await hold.done;
        assert.equal(hold.code, 143, hold.stderr);
        assert.equal(row(), "-\t0\t-");
        const c = await gate("enter", "node-c").done;
        assert.match(c.stderr, /this node holds the first-start gate/);
        console.log(
            `      hold timeout: exit ${timedOut.code} after ${timedOut.ms} ms, released; SIGTERM: released in ${hold.endedAt - termAt} ms`,
        );
    });

    it("https health check: -k only to loopback, HEALTH_CA to verify, anything else refused", async function () {
        resetGate();
        const dir = path.join(tmp.dir, "tls");
        fs.mkdirSync(dir);
        const key = path.join(dir, "key.pem");
        const cert = path.join(dir, "cert.pem");
        execFileSync(
            "openssl",
            ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=is-node"].concat([
                "-addext",
                "subjectAltName=DNS:localhost",
                "-keyout",
                key,
                "-out",
                cert,
            ]),
            { stdio: "ignore" },
        );
        const tls = { key: fs.readFileSync(key), cert: fs.readFileSync(cert) } as unknown as {
            key: string;
            cert: string;
        };
        assert.equal((await gate("enter", "node-a").done).code, 0);
        const is = await startStandIn(server!, 0, tls);
        standIns.push(is);
        const loopback = await gate("hold", "node-a", { HEALTH_URL: is.url }).done; // https://127.0.0.1: -k
        assert.equal(loopback.code, 0, loopback.stderr);

        resetGate();
        assert.equal((await gate("enter", "node-a").done).code, 0);
        const verified = await gate("hold", "node-a", {
            HEALTH_URL: is.url.replace("127.0.0.1", "localhost"),
            HEALTH_CA: cert,
        }).done;
        assert.equal(verified.code, 0, verified.stderr);

        const remote = await gate("hold", "node-a", { HEALTH_URL: "https://10.0.0.9:9443/health" }).done;
        assert.equal(remote.code, 2, remote.stderr);
        assert.match(
            remote.stderr,
            /HEALTH_URL 'https:\/\/10\.0\.0\.9:9443\/health' is not a loopback address: set HEALTH_CA/,
        );
        console.log(
            `      https: loopback with -k exit 0, HEALTH_CA-verified exit 0, non-loopback without CA exit 2`,
        );
    });

    it("fails clearly when db-init never created the gate", async function () {
        const fx = writeEnv(
            tmp.dir,
            "nogate",
            {
                DB_HOST: "127.0.0.1",
                DB_PORT: String(server!.port),
                DB_TLS: "disabled",
                DB_APP_USER: APP_USER,
                DB_INIT_PLAN: `${DB}_NOPE:dbscripts/mysql.sql`,
            },
            { WSO2_DB_PASSWORD: APP_PASSWORD },
        );
        rootSql(server!, `CREATE DATABASE ${DB}_NOPE; GRANT ALL ON ${DB}_NOPE.* TO '${APP_USER}'@'%'`);
        const run = await startScript(GATE, ["enter"], fx, FAST).done;
        assert.equal(run.code, 6, run.stderr);
        assert.match(
            run.stderr,
            /table WSO2IS_IDENTITY_DB_NOPE\.wso2is_first_start does not exist: db-init\.sh has not completed/,
        );
        console.log(`      no gate table: exit ${run.code}`);
    });
});
