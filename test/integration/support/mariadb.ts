// A private MariaDB server for the integration tests (own datadir, socket and port on 127.0.0.1),
// root access through its socket, and the env files the node scripts read (node.env, secrets.env).
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { databasesFor } from "../../../components/model";
import { ensureCommands, freePort, hasCommand } from "./system";

export const client = () => (hasCommand("mariadb") ? "mariadb" : "mysql");

/** The real WSO2 IS 7.1.0 MySQL scripts (test/fixtures/wso2is-7.1.0-dbscripts/SOURCES.md). */
export const WSO2_DBSCRIPTS = path.resolve(__dirname, "../../fixtures/wso2is-7.1.0-dbscripts");

/** db-init's own tables, beside WSO2's. */
export const HISTORY_TABLE = "wso2is_schema_history";
export const GATE_TABLE = "wso2is_first_start";

/** DB_INIT_PLAN for a dbLayout, from the model (the same text nodeEnv.ts renders). */
export function planFor(layout: "identity-shared" | "separate"): string {
    return databasesFor(layout)
        .map((d) => `${d.name}:${d.scripts.join(",")}`)
        .join(" ");
}

/** Single-quoted for bash `source` (and systemd): ' becomes '\''. */
export const shq = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;

/** Option-file value, double-quoted with \\ and \" escapes (what the scripts write). */
export const cnfq = (v: string) => `"${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;

/** A SQL string literal (server with backslash escapes). */
export const sqlq = (v: string) => `'${v.replace(/\\/g, "\\\\").replace(/'/g, "''")}'`;

export interface Server {
    /** The data directory's parent: in /dev/shm when there is one (removed by stopServer). */
    dataParent: string;
    port: number;
    socket: string;
    dir: string;
    generalLog: string;
    proc: ChildProcess;
}

export function ensureMariadb(): void {
    ensureCommands({
        mariadbd: "mariadb-server",
        "mariadb-install-db": "mariadb-server",
        mariadb: "mariadb-client",
        "mariadb-dump": "mariadb-client",
        openssl: "openssl",
    });
}

/**
 * A private mariadbd: fresh datadir, root through its own socket, TCP on 127.0.0.1:<free port>.
 * The data lives in /dev/shm when there is one, and durability is relaxed (no fsync per commit,
 * no doublewrite): the tests measure behaviour, not crash safety, and WSO2's 200 CREATE TABLEs
 * otherwise wait on the disk of a shared machine (measured: identity script 19 s on disk, 2.9 s
 * here).
 */
export async function startServer(dir: string, extraArgs: string[] = []): Promise<Server> {
    const dataParent = fs.existsSync("/dev/shm") ? fs.mkdtempSync("/dev/shm/wso2is-mariadb-") : dir;
    const datadir = path.join(dataParent, "data");
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
        { stdio: "pipe" },
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
            "--innodb-buffer-pool-size=64M",
            "--innodb-flush-log-at-trx-commit=0",
            "--skip-innodb-doublewrite",
            "--innodb-flush-method=fsync", // tmpfs has no O_DIRECT
            ...extraArgs,
        ],
        { stdio: "ignore" },
    );
    const server: Server = { dataParent, port, socket, dir, generalLog, proc };
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

export async function stopServer(server: Server | undefined): Promise<void> {
    if (!server) return;
    if (server.proc.exitCode === null) {
        const exited = new Promise<void>((resolve) => server.proc.once("exit", () => resolve()));
        server.proc.kill("SIGTERM");
        const timer = setTimeout(() => server.proc.kill("SIGKILL"), 20_000);
        await exited;
        clearTimeout(timer);
    }
    if (server.dataParent !== server.dir) fs.rmSync(server.dataParent, { recursive: true, force: true });
}

/** Runs SQL as root through the socket; returns the rows (tab-separated, no header). */
export function rootSql(server: Server, sql: string): string[] {
    const out = execFileSync(
        client(),
        ["--no-defaults", `--socket=${server.socket}`, "-uroot", "--batch", "--skip-column-names", "-e", sql],
        { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 << 20 },
    );
    return out.split("\n").filter((l) => l !== "");
}
export const rootValue = (server: Server, sql: string) => rootSql(server, sql)[0];

/** A full dump of some databases (schema and rows), for "nothing changed" comparisons. */
export function dump(server: Server, dbs: string[]): string {
    const bin = hasCommand("mariadb-dump") ? "mariadb-dump" : "mysqldump";
    return execFileSync(
        bin,
        [
            "--no-defaults",
            `--socket=${server.socket}`,
            "-uroot",
            "--skip-dump-date",
            "--skip-comments",
            "--order-by-primary",
            "--databases",
            ...dbs,
        ],
        { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 << 20 },
    );
}

/** Creates an admin login like the managed MySQL's (all privileges, grant option). */
export function createAdmin(server: Server, user: string, password: string): void {
    rootSql(
        server,
        `CREATE USER ${sqlq(user)}@'%' IDENTIFIED BY ${sqlq(password)};
        GRANT ALL PRIVILEGES ON *.* TO ${sqlq(user)}@'%' WITH GRANT OPTION;`,
    );
}

export interface EnvFiles {
    nodeEnv: string;
    secretsEnv: string;
}

/** Writes <name>.node.env (0644) and <name>.secrets.env (0600) into dir. */
export function writeEnv(
    dir: string,
    name: string,
    values: Record<string, string>,
    secrets: Record<string, string>,
): EnvFiles {
    const nodeEnv = path.join(dir, `${name}.node.env`);
    const secretsEnv = path.join(dir, `${name}.secrets.env`);
    const text = (o: Record<string, string>) =>
        Object.entries(o)
            .map(([k, v]) => `${k}=${shq(v)}\n`)
            .join("");
    fs.writeFileSync(nodeEnv, text(values), { mode: 0o644 });
    fs.writeFileSync(secretsEnv, text(secrets), { mode: 0o600 });
    return { nodeEnv, secretsEnv };
}

/** A running script: its output so far, and a promise of its end. */
export interface Run {
    code: number | null;
    signal: NodeJS.Signals | null;
    stderr: string;
    ms: number;
    startedAt: number;
    endedAt: number;
    proc: ChildProcess;
    done: Promise<Run>;
}

/** Starts `bash script args` with the env files (and env overrides); `done` resolves at exit. */
export function startScript(
    script: string,
    args: string[],
    files: EnvFiles,
    env: Record<string, string> = {},
): Run {
    const startedAt = Date.now();
    const proc = spawn("bash", [script, ...args], {
        env: { ...process.env, WSO2IS_NODE_ENV: files.nodeEnv, WSO2IS_SECRETS_ENV: files.secretsEnv, ...env },
        stdio: ["ignore", "pipe", "pipe"],
    });
    const run = {
        code: null,
        signal: null,
        stderr: "",
        ms: 0,
        startedAt,
        endedAt: 0,
        proc,
    } as unknown as Run;
    proc.stdout!.on("data", (d) => (run.stderr += d.toString()));
    proc.stderr!.on("data", (d) => (run.stderr += d.toString()));
    run.done = new Promise((resolve) =>
        proc.on("close", (code, signal) => {
            run.code = code;
            run.signal = signal;
            run.endedAt = Date.now();
            run.ms = run.endedAt - startedAt;
            resolve(run);
        }),
    );
    return run;
}

/** Copies the real 7.1.0 dbscripts into <home>/dbscripts (an IS_HOME as the zip unpacks it). */
export function installDbscripts(home: string): void {
    fs.mkdirSync(home, { recursive: true });
    fs.cpSync(path.join(WSO2_DBSCRIPTS, "dbscripts"), path.join(home, "dbscripts"), { recursive: true });
}

/** Tables of one database, without db-init's own two. */
export function wso2Tables(server: Server, db: string): string[] {
    return rootSql(
        server,
        `SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = '${db}' AND TABLE_NAME NOT IN ('${HISTORY_TABLE}', '${GATE_TABLE}') ORDER BY 1`,
    );
}
