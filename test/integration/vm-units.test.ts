// The scripts behind the VM units, run as shipped under real bash: lib.sh's functions,
// bootstrap.sh's retry path and done-markers (its steps are stand-ins that log their calls:
// the real steps have their own tests), jvm-heap.sh against fake /proc/meminfo files (the env
// file read back with systemd's own parser), and redirect-443.sh with the real nft in network
// namespaces the test creates: curl https://<hostname>/ inside "the node", with the hostname
// pinned by the real node-ip.sh, reaches a stand-in for IS's 9443 (openssl s_server with a
// certificate from a test CA).
import { strict as assert } from "assert";
import { ChildProcess, execFileSync, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { SCRIPTS_DIR, run } from "./support/scripts";
import { ensureCommands, systemdEnvReader, tempDir } from "./support/system";

const LIB = path.join(SCRIPTS_DIR, "lib.sh");

/** bash -c SCRIPT with lib.sh sourced first (PROG=test). */
function withLib(script: string, env: Record<string, string> = {}) {
    return run("bash", ["-c", `PROG=test; source "$1"; ${script}`, "bash", LIB], env);
}

describe("lib.sh", function () {
    this.timeout(60000);

    it("log and die: one line on stderr with the script's name; die [CODE] with the label", async function () {
        let r = await withLib('log "hello world"; die 7 "bad thing"; echo unreachable');
        assert.equal(r.code, 7);
        assert.equal(r.stderr, "test: hello world\ntest: error: bad thing\n");
        assert.equal(r.stdout, "");
        r = await withLib('DIE_LABEL=ERROR; die "42 is a message, not a code"');
        assert.equal(r.code, 1);
        assert.equal(r.stderr, "test: ERROR: 42 is a message, not a code\n");
    });

    it("retry: logs what it waits for, backs off, passes stdout through, gives up after ATTEMPTS", async function () {
        const tmp = tempDir("lib-retry");
        try {
            const count = path.join(tmp.dir, "count");
            // Fails twice (exit 3, a message on stderr), then prints its answer.
            const flaky = `flaky() { n=$(( $(cat "${count}" 2>/dev/null || echo 0) + 1 )); echo $n >"${count}"; if ((n < 3)); then echo "not yet ($n)" >&2; return 3; fi; echo answer; }`;
            const t0 = Date.now();
            let r = await withLib(`${flaky}; out=$(retry 5 1 4 "the flaky service" flaky); echo "got $out"`);
            assert.equal(r.code, 0, r.stderr);
            assert.equal(r.stdout, "got answer\n");
            assert.equal(
                r.stderr,
                "test: waiting for the flaky service: attempt 1/5 failed (exit 3): not yet (1); next try in 1s\n" +
                    "test: waiting for the flaky service: attempt 2/5 failed (exit 3): not yet (2); next try in 2s\n",
            );
            assert.ok(Date.now() - t0 >= 3000, "slept 1 s then 2 s");

            fs.rmSync(count);
            r = await withLib(`${flaky}; retry 2 0 0 "the flaky service" flaky || echo "rc $?"`);
            assert.equal(r.stdout, "rc 3\n", "returns the command's last exit code");
            assert.match(
                r.stderr,
                /the flaky service: failed after 2 attempts \(exit 3\) \(last: not yet \(2\)\)\n$/,
            );

            // --fatal: that exit code ends the retries at once.
            fs.rmSync(count);
            r = await withLib(`${flaky}; retry --fatal 3 5 0 0 "the flaky service" flaky || echo "rc $?"`);
            assert.equal(r.stdout, "rc 3\n");
            assert.equal(r.stderr, "test: the flaky service: failed (exit 3), not retried: not yet (1)\n");
            assert.equal(fs.readFileSync(count, "utf8"), "1\n", "one attempt");
            r = await withLib(`retry --fatal x 2 0 0 "it" true`);
            assert.equal(r.code, 2);
            assert.match(r.stderr, /must be non-negative integers/);

            // --stream: the command's own log lines reach ours as they come.
            fs.rmSync(count);
            r = await withLib(`${flaky}; retry --stream 3 0 0 "the flaky service" flaky`);
            assert.equal(r.code, 0, r.stderr);
            assert.match(
                r.stderr,
                /^not yet \(1\)\ntest: waiting for the flaky service: attempt 1\/3 failed \(exit 3\); next try in 0s\nnot yet \(2\)\n/,
            );
        } finally {
            tmp.cleanup();
        }
    });

    it("load_env: sets without exporting (children never see secrets), --export exports; a missing file is exit 2", async function () {
        const tmp = tempDir("lib-env");
        try {
            const f = path.join(tmp.dir, "x.env");
            fs.writeFileSync(f, "A_SECRET='s3cr'\"'\"'et $HOME'\n");
            let r = await withLib(
                `load_env "${f}"; printf '%s|' "$A_SECRET"; bash -c 'printf "%s" "\${A_SECRET:-unset}"'`,
            );
            assert.equal(r.stdout, "s3cr'et $HOME|unset", r.stderr);
            r = await withLib(`load_env --export "${f}"; bash -c 'printf "%s" "$A_SECRET"'`);
            assert.equal(r.stdout, "s3cr'et $HOME", r.stderr);
            r = await withLib(`load_env "${f}" "${tmp.dir}/missing.env"; echo unreachable`);
            assert.equal(r.code, 2);
            assert.equal(r.stderr, `test: error: cannot read ${tmp.dir}/missing.env\n`);
            r = await withLib(`EMPTY=; require_vars "node.env" A EMPTY`, { A: "1" });
            assert.equal(r.code, 2);
            assert.equal(r.stderr, "test: error: EMPTY is not set (node.env)\n");
        } finally {
            tmp.cleanup();
        }
    });

    it("load_env: a tuning knob (ENV_TUNING_KNOBS) exported to the script wins over the file, logged; nothing else does", async function () {
        const tmp = tempDir("lib-knobs");
        try {
            const f = path.join(tmp.dir, "node.env");
            fs.writeFileSync(
                f,
                "SECRET_FETCH_RETRIES='60'\nDB_INIT_RETRIES='180'\nFIRST_START_WAIT='1800'\nSECRET_ID='from-file'\n",
            );
            const show = `printf '%s ' "$SECRET_FETCH_RETRIES" "$DB_INIT_RETRIES" "$FIRST_START_WAIT" "$SECRET_ID"`;
            // The knob from the environment stays (exported still, with --export); a key that is
            // not a knob (SECRET_ID) and an empty knob take the file's value.
            let r = await withLib(
                `load_env --export "${f}"; ${show}; bash -c 'printf "%s" "$SECRET_FETCH_RETRIES"'`,
                {
                    SECRET_FETCH_RETRIES: "3",
                    SECRET_ID: "from-env",
                    DB_INIT_RETRIES: "",
                },
            );
            assert.equal(r.code, 0, r.stderr);
            assert.equal(r.stdout, "3 180 1800 from-file 3");
            assert.equal(
                r.stderr,
                `test: SECRET_FETCH_RETRIES: the environment's 3 wins over 60 from ${f}\n`,
            );
            // The same value: nothing to say.
            r = await withLib(`load_env "${f}"; ${show}`, { FIRST_START_WAIT: "1800" });
            assert.equal(r.stdout, "60 180 1800 from-file ");
            assert.equal(r.stderr, "");
            // A shell variable of the script is no environment: the file wins.
            r = await withLib(`FIRST_START_WAIT=5; load_env "${f}"; ${show}`);
            assert.equal(r.stdout, "60 180 1800 from-file ");
        } finally {
            tmp.cleanup();
        }
    });

    it("mysql_defaults_file: 0600, the password quoted for the option file, TLS by client flavour", async function () {
        const tmp = tempDir("lib-mysql");
        try {
            const f = path.join(tmp.dir, "client.cnf");
            const env = { DB_HOST: "db.example", DB_PORT: "3306", DB_TLS: "required" };
            for (const [flavour, tls] of [
                ["mariadb", "ssl=1"],
                ["mysql", "ssl-mode=REQUIRED"],
            ]) {
                const r = await withLib(
                    `MYSQL_CLIENT_FLAVOUR=${flavour}; mysql_defaults_file "${f}" admin "$PW"`,
                    { ...env, PW: 'p"w\\d\tx' },
                );
                assert.equal(r.code, 0, r.stderr);
                assert.equal((fs.statSync(f).mode & 0o777).toString(8), "600");
                const text = fs.readFileSync(f, "utf8");
                assert.match(text, /^password="p\\"w\\\\d\\tx"$/m);
                assert.match(text, new RegExp(`^${tls}$`, "m"));
            }
        } finally {
            tmp.cleanup();
        }
    });
});

describe("bootstrap.sh", function () {
    this.timeout(120000);
    let tmp: { dir: string; cleanup: () => void };
    let calls: string;
    let env: Record<string, string>;
    let state: string;
    let adminEnv: string;
    let isHome: string;

    /** A stand-in step: logs its name and what bootstrap passed it, then runs `body`. */
    function standIn(dir: string, name: string, body = "exit 0") {
        fs.writeFileSync(
            path.join(dir, name),
            `#!/usr/bin/env bash\nset -euo pipefail\necho "${name} admin=\${WSO2IS_DB_ADMIN_ENV:-} secrets=\${WSO2IS_SECRETS_ENV:-}" >>"${calls}"\necho "${name}: stand-in ran" >&2\n${body}\n`,
            { mode: 0o755 },
        );
    }

    beforeEach(function () {
        tmp = tempDir("bootstrap");
        const dir = tmp.dir;
        const scripts = path.join(dir, "scripts");
        fs.mkdirSync(scripts);
        for (const s of ["lib.sh", "bootstrap.sh"])
            fs.copyFileSync(path.join(SCRIPTS_DIR, s), path.join(scripts, s));
        calls = path.join(dir, "calls");
        state = path.join(dir, "state");
        adminEnv = path.join(dir, "run", "db-admin.env");
        isHome = path.join(dir, "is");
        fs.mkdirSync(path.join(isHome, "repository", "conf"), { recursive: true });
        for (const s of ["node-ip.sh", "mount-share.sh", "artifact-sync.sh", "jvm-heap.sh"])
            standIn(scripts, s);
        // Fails twice (a download 5xx, say), then works.
        standIn(
            scripts,
            "install-is.sh",
            `n=$(( $(cat "${dir}/install-count" 2>/dev/null || echo 0) + 1 )); echo $n >"${dir}/install-count"\nif ((n < 3)); then echo "install-is.sh: error: download failed (HTTP 503)" >&2; exit 1; fi`,
        );
        standIn(
            scripts,
            "fetch-secrets.sh",
            'if [[ -n ${WSO2IS_DB_ADMIN_ENV:-} ]]; then mkdir -p "$(dirname "$WSO2IS_DB_ADMIN_ENV")"; echo "WSO2_DB_ADMIN_PASSWORD=x" >"$WSO2IS_DB_ADMIN_ENV"; fi',
        );
        standIn(
            scripts,
            "db-init.sh",
            `[[ -f "$WSO2IS_SECRETS_ENV" ]] || { echo "db-init.sh: no admin pair" >&2; exit 2; }\nexit "$(cat "${dir}/db-init-exit" 2>/dev/null || echo 0)"`,
        );
        const apt = path.join(dir, "apt-get");
        fs.writeFileSync(apt, `#!/bin/sh\necho "apt-get $*" >>"${calls}"\n`, { mode: 0o755 });
        const nodeEnv = path.join(dir, "node.env");
        fs.writeFileSync(
            nodeEnv,
            `NODE_PACKAGES='openjdk-21-jre-headless nftables'\nIS_HOME='${isHome}'\nIS_USER='nobody'\nDB_HOST='db.example'\nDB_INIT_PLAN='WSO2IS_IDENTITY_DB:dbscripts/identity/mysql.sql'\n`,
        );
        const toml = path.join(dir, "deployment.toml");
        fs.writeFileSync(toml, '[server]\nhostname = "is.example.com"\n');
        env = {
            WSO2IS_NODE_ENV: nodeEnv,
            WSO2IS_BOOTSTRAP_STATE: state,
            WSO2IS_DB_ADMIN_ENV: adminEnv,
            WSO2IS_DEPLOYMENT_TOML: toml,
            WSO2IS_APT_GET: apt,
            BOOTSTRAP_STEP_DELAY: "1",
            BOOTSTRAP_STEP_MAX_DELAY: "2",
        };
    });

    afterEach(function () {
        tmp.cleanup();
    });

    const bootstrap = () => run("bash", [path.join(tmp.dir, "scripts", "bootstrap.sh")], env, 60000);
    const callLog = () => fs.readFileSync(calls, "utf8").trim().split("\n");

    it("runs the steps in order, retries a failing step with backoff saying what it waits for, then installs the config", async function () {
        const r = await bootstrap();
        assert.equal(r.code, 0, r.stderr);
        const apt =
            "-q -y -o Acquire::Retries=5 -o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confold";
        assert.deepEqual(callLog(), [
            `apt-get ${apt} update`,
            `apt-get ${apt} install openjdk-21-jre-headless nftables`,
            "node-ip.sh admin= secrets=",
            "install-is.sh admin= secrets=",
            "install-is.sh admin= secrets=",
            "install-is.sh admin= secrets=",
            `fetch-secrets.sh admin=${adminEnv} secrets=`,
            "mount-share.sh admin= secrets=",
            "artifact-sync.sh admin= secrets=",
            `db-init.sh admin= secrets=${adminEnv}`,
            "jvm-heap.sh admin= secrets=",
        ]);
        const waits = r.stderr.split("\n").filter((l) => l.includes("waiting for"));
        assert.deepEqual(waits, [
            "bootstrap.sh: waiting for step install-is (the IS and JDBC driver downloads): attempt 1/3 failed (exit 1); next try in 1s",
            "bootstrap.sh: waiting for step install-is (the IS and JDBC driver downloads): attempt 2/3 failed (exit 1); next try in 2s",
        ]);
        // The step's own message reaches the journal as it happened.
        assert.match(r.stderr, /install-is\.sh: error: download failed \(HTTP 503\)/);
        assert.ok(!fs.existsSync(adminEnv), "the admin pair is gone");
        assert.equal(
            fs.readFileSync(path.join(state, "packages.done"), "utf8"),
            "openjdk-21-jre-headless nftables\n",
        );
        assert.equal(
            fs.readFileSync(path.join(state, "db-init.done"), "utf8"),
            "db.example WSO2IS_IDENTITY_DB:dbscripts/identity/mysql.sql\n",
        );
        const conf = path.join(isHome, "repository", "conf", "deployment.toml");
        const st = fs.statSync(conf);
        assert.equal((st.mode & 0o777).toString(8), "640");
        assert.equal(st.uid, 0);
        assert.equal(
            execFileSync("stat", ["-c", "%G", conf], { encoding: "utf8" }).trim(),
            execFileSync("id", ["-gn", "nobody"], { encoding: "utf8" }).trim(),
        );
        assert.match(r.stderr, /bootstrap\.sh: done: wso2is\.service may start\n$/);
    });

    it("a re-run (reboot, restart) skips what the markers say is done; the rest runs again, idempotent", async function () {
        assert.equal((await bootstrap()).code, 0);
        fs.rmSync(calls);
        const r = await bootstrap();
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(callLog(), [
            "node-ip.sh admin= secrets=",
            "install-is.sh admin= secrets=",
            "fetch-secrets.sh admin= secrets=",
            "mount-share.sh admin= secrets=",
            "artifact-sync.sh admin= secrets=",
            "jvm-heap.sh admin= secrets=",
        ]);
        assert.match(r.stderr, /step packages: already done/);
        assert.match(r.stderr, /step db-init: already done/);
        assert.match(r.stderr, /deployment\.toml already up to date/);
        assert.ok(!fs.existsSync(adminEnv), "no admin pair was fetched");

        // A different package list (a new node.env) runs the step again.
        fs.appendFileSync(env.WSO2IS_NODE_ENV, "NODE_PACKAGES='openjdk-21-jre-headless nftables jq'\n");
        fs.rmSync(calls);
        assert.equal((await bootstrap()).code, 0);
        assert.ok(callLog().some((l) => l.endsWith("install openjdk-21-jre-headless nftables jq")));
    });

    it("a failing db-init fails the unit with its code, removes the admin pair and leaves no marker", async function () {
        fs.writeFileSync(path.join(tmp.dir, "db-init-exit"), "3");
        const r = await bootstrap();
        assert.equal(r.code, 3, r.stderr);
        assert.match(
            r.stderr,
            /bootstrap\.sh: error: step db-init failed \(exit 3\): the database and its init lock; systemd restarts wso2is-bootstrap\.service \(journalctl -u wso2is-bootstrap\)/,
        );
        assert.ok(!fs.existsSync(adminEnv), "the admin pair is removed on failure too");
        assert.ok(!fs.existsSync(path.join(state, "db-init.done")));
        assert.ok(fs.existsSync(path.join(state, "packages.done")), "what was done stays done");
        assert.ok(!callLog().includes("jvm-heap.sh admin= secrets="), "nothing after the failed step ran");
    });
});

describe("jvm-heap.sh", function () {
    this.timeout(60000);
    let tmp: { dir: string; cleanup: () => void };
    beforeEach(() => (tmp = tempDir("jvm-heap")));
    afterEach(() => tmp.cleanup());

    async function heap(memTotalKb: number, opts: { nodeEnv?: string; override?: string } = {}) {
        const meminfo = path.join(tmp.dir, "meminfo");
        fs.writeFileSync(meminfo, `MemTotal:       ${memTotalKb} kB\nMemFree:         123456 kB\n`);
        const nodeEnv = path.join(tmp.dir, "node.env");
        fs.writeFileSync(nodeEnv, opts.nodeEnv ?? "JVM_HEAP_PERCENT='60'\n");
        const override = path.join(tmp.dir, "jvm.override.env");
        if (opts.override !== undefined) fs.writeFileSync(override, opts.override);
        else fs.rmSync(override, { force: true });
        const out = path.join(tmp.dir, "jvm.env");
        const r = await run("bash", [path.join(SCRIPTS_DIR, "jvm-heap.sh")], {
            WSO2IS_NODE_ENV: nodeEnv,
            WSO2IS_MEMINFO: meminfo,
            WSO2IS_JVM_ENV: out,
            WSO2IS_JVM_OVERRIDE: override,
        });
        return { r, out };
    }

    it("60% of MemTotal in 64 MiB steps, -Xms = -Xmx, floor 1024 MiB, cap 31744 MiB; systemd reads the file", async function () {
        const read = systemdEnvReader(tmp.dir);
        const nonHeap = "-XX:MaxMetaspaceSize=512m -XX:MaxDirectMemorySize=512m -XX:+ExitOnOutOfMemoryError";
        for (const [kb, mb, label] of [
            [16_391_000, 9600, "16 GB node (c6i.2xlarge, D4s_v5)"],
            [8_006_000, 4672, "8 GB node (c6i.xlarge)"],
            [3_900_000, 2240, "4 GB node (t3.medium)"],
            [1_000_000, 1024, "1 GB: the floor"],
            [134_000_000, 31744, "128 GB: the cap"],
        ] as const) {
            const { r, out } = await heap(kb);
            assert.equal(r.code, 0, r.stderr);
            const vars = read(out);
            assert.equal(vars.JVM_MEM_OPTS, `-Xms${mb}m -Xmx${mb}m ${nonHeap}`, label);
            assert.equal((fs.statSync(out).mode & 0o777).toString(8), "644");
            console.log(`      ${label}: ${vars.JVM_MEM_OPTS.split(" ").slice(0, 2).join(" ")}`);
        }
        const { r } = await heap(1_000_000);
        assert.match(r.stderr, /warning: .* below 1024 MiB/);
    });

    it("an unchanged result leaves the file alone; the override file wins (a share, or the flags as they are)", async function () {
        let { r, out } = await heap(8_006_000);
        assert.equal(r.code, 0, r.stderr);
        const mtime = fs.statSync(out).mtimeMs;
        ({ r } = await heap(8_006_000));
        assert.match(r.stderr, /JVM_MEM_OPTS unchanged/);
        assert.equal(fs.statSync(out).mtimeMs, mtime);

        ({ r, out } = await heap(8_006_000, { override: "JVM_HEAP_PERCENT=50\n" }));
        assert.equal(r.code, 0, r.stderr);
        assert.match(fs.readFileSync(out, "utf8"), /^JVM_MEM_OPTS='-Xms3904m -Xmx3904m /m);
        assert.match(r.stderr, /JVM_HEAP_PERCENT from .*jvm\.override\.env/);

        ({ r, out } = await heap(8_006_000, { override: "JVM_MEM_OPTS='-Xms2g -Xmx6g'\n" }));
        assert.equal(r.code, 0, r.stderr);
        assert.match(fs.readFileSync(out, "utf8"), /^JVM_MEM_OPTS='-Xms2g -Xmx6g'$/m);

        ({ r } = await heap(8_006_000, { override: "JVM_HEAP_PERCENT=95\n" }));
        assert.notEqual(r.code, 0);
        assert.match(
            r.stderr,
            /jvm-heap\.sh: error: JVM_HEAP_PERCENT must be an integer from 20 to 90, got '95'/,
        );
        ({ r } = await heap(8_006_000, { override: "", nodeEnv: "" }));
        assert.equal(r.code, 0, "no node.env value: the default 60%");
    });
});

describe("redirect-443.sh: the node answers its own public URL (network namespaces, real nft)", function () {
    this.timeout(120000);
    const tag = `w${process.pid % 100000}`;
    const nodeNs = `${tag}-node`;
    const peerNs = `${tag}-peer`;
    const hostname = "is.example.test";
    const nodeIp = "10.99.0.2";
    let tmp: { dir: string; cleanup: () => void };
    let server: ChildProcess | undefined;
    let runtimeEnv: string;
    let nodeEnv: string;

    const ip = (...args: string[]) => execFileSync("ip", args, { stdio: ["ignore", "pipe", "pipe"] });
    const inNode = (cmd: string, args: string[], env: Record<string, string> = {}) =>
        run("ip", ["netns", "exec", nodeNs, cmd, ...args], env);

    before(async function () {
        ensureCommands({ nft: "nftables", curl: "curl", openssl: "openssl", ip: "iproute2" });
        tmp = tempDir("redirect");
        // "the node" and a peer on a veth pair; the node's address is what node-ip.sh pins.
        ip("netns", "add", nodeNs);
        ip("netns", "add", peerNs);
        ip("link", "add", `${tag}a`, "type", "veth", "peer", "name", `${tag}b`);
        ip("link", "set", `${tag}a`, "netns", nodeNs);
        ip("link", "set", `${tag}b`, "netns", peerNs);
        ip("-n", nodeNs, "addr", "add", `${nodeIp}/24`, "dev", `${tag}a`);
        ip("-n", peerNs, "addr", "add", "10.99.0.1/24", "dev", `${tag}b`);
        for (const [ns, dev] of [
            [nodeNs, `${tag}a`],
            [peerNs, `${tag}b`],
        ]) {
            ip("-n", ns, "link", "set", "lo", "up");
            ip("-n", ns, "link", "set", dev, "up");
        }
        // A test CA and IS's 9443 certificate for the public hostname.
        const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: tmp.dir, stdio: "pipe" });
        ssl(
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "1",
            "-subj",
            "/CN=test cluster CA",
        );
        ssl(
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "is.key",
            "-out",
            "is.csr",
            "-subj",
            `/CN=${hostname}`,
        );
        fs.writeFileSync(path.join(tmp.dir, "ext"), `subjectAltName=DNS:${hostname}\n`);
        ssl(
            "x509",
            "-req",
            "-in",
            "is.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "is.pem",
            "-days",
            "1",
            "-extfile",
            "ext",
        );
        // The stand-in for IS on 9443 (only IS itself is stood in for).
        server = spawn(
            "ip",
            [
                "netns",
                "exec",
                nodeNs,
                "openssl",
                "s_server",
                "-quiet",
                "-accept",
                `${nodeIp}:9443`,
                "-cert",
                "is.pem",
                "-key",
                "is.key",
                "-www",
            ],
            { cwd: tmp.dir, stdio: "ignore" },
        );
        for (let i = 0; i < 50; i++) {
            const r = spawnSync("ip", [
                "netns",
                "exec",
                nodeNs,
                "sh",
                "-c",
                `exec 3<>/dev/tcp/${nodeIp}/9443`,
            ]);
            if (r.status === 0) break;
            await new Promise((res) => setTimeout(res, 100));
        }
        // /etc/netns/<ns>/hosts becomes /etc/hosts inside `ip netns exec`: node-ip.sh pins it.
        fs.mkdirSync(`/etc/netns/${nodeNs}`, { recursive: true });
        fs.writeFileSync(`/etc/netns/${nodeNs}/hosts`, "127.0.0.1 localhost\n");
        runtimeEnv = path.join(tmp.dir, "runtime.env");
        nodeEnv = path.join(tmp.dir, "node.env");
        fs.writeFileSync(
            nodeEnv,
            `NODE_IP_SOURCE='static'\nNODE_IP='${nodeIp}'\nLB_HOSTNAME='${hostname}'\nIS_HTTPS_PORT='9443'\n`,
        );
        const pin = await run("bash", [path.join(SCRIPTS_DIR, "node-ip.sh")], {
            WSO2IS_NODE_ENV: nodeEnv,
            WSO2IS_RUNTIME_ENV: runtimeEnv,
            WSO2IS_HOSTS_FILE: `/etc/netns/${nodeNs}/hosts`,
        });
        assert.equal(pin.code, 0, pin.stderr);
    });

    after(function () {
        server?.kill();
        for (const ns of [nodeNs, peerNs]) spawnSync("ip", ["netns", "del", ns]);
        fs.rmSync(`/etc/netns/${nodeNs}`, { recursive: true, force: true });
        tmp?.cleanup();
    });

    const redirect = () =>
        inNode("bash", [path.join(SCRIPTS_DIR, "redirect-443.sh")], {
            WSO2IS_NODE_ENV: nodeEnv,
            WSO2IS_RUNTIME_ENV: runtimeEnv,
        });
    const curl = (...args: string[]) =>
        inNode("curl", [
            "--silent",
            "--show-error",
            "--max-time",
            "5",
            "--cacert",
            path.join(tmp.dir, "ca.pem"),
            ...args,
        ]);
    const rules = async () => (await inNode("nft", ["list", "table", "ip", "wso2is"])).stdout;

    it(`without the rule, https://${hostname}/ from the node finds nothing on 443`, async function () {
        const r = await curl(`https://${hostname}/`);
        assert.notEqual(r.code, 0);
        assert.match(
            r.stderr,
            /Failed to connect to is\.example\.test port 443|Connection refused|Couldn't connect/,
        );
    });

    it(`with it, the node's own https://${hostname}/ reaches 9443 and verifies the certificate against the CA`, async function () {
        const r1 = await redirect();
        assert.equal(r1.code, 0, r1.stderr);
        assert.match(r1.stderr, /table ip wso2is: 10\.99\.0\.2:443 -> 10\.99\.0\.2:9443/);
        const r = await curl(
            "--write-out",
            "\n%{http_code} %{remote_ip}:%{remote_port}",
            `https://${hostname}/health`,
        );
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /s_server/, "the stand-in answered");
        // curl connected to <node-ip>:443, as the pin and the port-less URL say; nft did the rest.
        assert.match(r.stdout, /\n200 10\.99\.0\.2:443$/);
    });

    it("a second run leaves exactly one rule; a new IP replaces it", async function () {
        assert.equal((await redirect()).code, 0);
        let text = await rules();
        assert.equal((text.match(/dnat to/g) ?? []).length, 1, text);
        fs.writeFileSync(runtimeEnv, "NODE_IP=10.99.0.7\n");
        assert.equal((await redirect()).code, 0);
        text = await rules();
        assert.equal((text.match(/dnat to/g) ?? []).length, 1, text);
        assert.match(text, /ip daddr 10\.99\.0\.7 tcp dport 443 dnat to 10\.99\.0\.7:9443/);
        fs.writeFileSync(runtimeEnv, `NODE_IP=${nodeIp}\n`);
        assert.equal((await redirect()).code, 0);
    });

    it("other hosts are not redirected: the peer's connection to <node-ip>:443 is refused", async function () {
        const r = await run("ip", [
            "netns",
            "exec",
            peerNs,
            "curl",
            "--silent",
            "--show-error",
            "--max-time",
            "5",
            "-k",
            `https://${nodeIp}/`,
        ]);
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, /Connection refused|Failed to connect/);
    });

    it("refuses a NODE_IP that is not IPv4, with one message", async function () {
        fs.writeFileSync(runtimeEnv, "NODE_IP=not-an-ip\n");
        const r = await redirect();
        fs.writeFileSync(runtimeEnv, `NODE_IP=${nodeIp}\n`);
        assert.notEqual(r.code, 0);
        assert.equal(r.stderr, "redirect-443.sh: error: NODE_IP 'not-an-ip' is not an IPv4 address\n");
    });
});
