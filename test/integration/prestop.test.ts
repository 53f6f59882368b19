// The IS container's clean stop, run for real: WSO2's own entrypoint (docker-is 7.1.x) starting
// the kernel's own wso2server.sh (carbon-kernel v4.10.42), both unchanged from upstream
// (test/fixtures/wso2/SOURCES.md). Only the JVM is a stand-in, and says so: a bash script that
// writes its pid to wso2carbon.pid as org.wso2.carbon.server.Main does, and on SIGTERM spends
// STOP_SECONDS "shutting down" before it exits, like Carbon's shutdown hooks and a Hazelcast leave.
import { strict as assert } from "assert";
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { preStopScript } from "../../components/kubernetes/lifecycle";
import { tempDir } from "./support/system";

const FIXTURES = path.resolve(__dirname, "../fixtures/wso2");

const javaStandIn = `#!/bin/bash
# Stand-in for the JVM (not Java): enough of its behaviour for the stop path.
if [ "$1" = "-version" ]; then echo 'openjdk version "21.0.6" 2025-01-21' >&2; exit 0; fi
for a in "$@"; do case "$a" in -Dcarbon.home=*) home="\${a#-Dcarbon.home=}" ;; esac; done
echo $$ > "$home/wso2carbon.pid"
trap 'echo TERM >> "$MARK"; sleep "$STOP_SECONDS"; echo stopped >> "$MARK"; exit 0' TERM
echo started >> "$MARK"
while :; do sleep 0.1; done
`;

function alive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
}

async function until(check: () => boolean, ms: number): Promise<boolean> {
    const end = Date.now() + ms;
    while (Date.now() < end) {
        if (check()) return true;
        await new Promise((r) => setTimeout(r, 100));
    }
    return check();
}

describe("clean stop of the IS container (preStop with WSO2's entrypoint and wso2server.sh)", function () {
    this.timeout(60000);
    const tmp = tempDir("prestop");
    after(() => tmp.cleanup());
    const started: ChildProcess[] = [];
    const javaPids: number[] = [];
    afterEach(() => {
        const pids = [...javaPids.splice(0), ...started.splice(0).map((c) => c.pid ?? 0)];
        for (const pid of pids) if (pid > 0 && alive(pid)) process.kill(pid, "SIGKILL");
    });

    /** A container's file system in a temp dir: user home, IS home, JAVA_HOME with the stand-in. */
    function container(label: string, stopSeconds: number) {
        const root = path.join(tmp.dir, label);
        const home = path.join(root, "home");
        const isHome = path.join(home, "wso2is-7.1.0");
        const javaHome = path.join(root, "jdk");
        for (const d of [path.join(isHome, "bin"), path.join(isHome, "lib"), path.join(javaHome, "bin")])
            fs.mkdirSync(d, { recursive: true });
        fs.copyFileSync(path.join(FIXTURES, "wso2server.sh"), path.join(isHome, "bin", "wso2server.sh"));
        fs.copyFileSync(path.join(FIXTURES, "docker-entrypoint.sh"), path.join(home, "docker-entrypoint.sh"));
        fs.writeFileSync(path.join(javaHome, "bin", "java"), javaStandIn, { mode: 0o755 });
        const mark = path.join(root, "mark");
        fs.writeFileSync(mark, "");
        const env = {
            PATH: process.env.PATH ?? "/usr/bin:/bin",
            JAVA_HOME: javaHome,
            WORKING_DIRECTORY: home,
            WSO2_SERVER_HOME: isHome,
            MARK: mark,
            STOP_SECONDS: String(stopSeconds),
        };
        const marks = () => fs.readFileSync(mark, "utf8").split("\n").filter(Boolean);
        const pidFile = path.join(isHome, "wso2carbon.pid");
        return { home, isHome, env, marks, pidFile };
    }

    /** Starts the image's entrypoint as the container would, and waits for the "JVM". */
    async function start(c: ReturnType<typeof container>) {
        const entry = spawn("sh", [path.join(c.home, "docker-entrypoint.sh")], {
            env: c.env,
            stdio: "ignore",
        });
        started.push(entry);
        assert.ok(await until(() => c.marks().includes("started"), 20000), "the stand-in JVM started");
        const javaPid = Number(fs.readFileSync(c.pidFile, "utf8").trim());
        javaPids.push(javaPid);
        return { entry, javaPid };
    }

    it("a SIGTERM to the entrypoint's shell never reaches the JVM (why preStop must stop IS)", async function () {
        const c = container("no-exec", 1);
        const { entry, javaPid } = await start(c);
        process.kill(entry.pid!, "SIGTERM");
        await new Promise((r) => setTimeout(r, 1500));
        assert.ok(!c.marks().includes("TERM"), "the JVM saw no SIGTERM");
        assert.ok(alive(javaPid), "the JVM still runs");
    });

    it("preStop drains, stops IS through wso2server.sh stop and returns only once the JVM has exited", async function () {
        const c = container("clean", 2);
        const { entry, javaPid } = await start(c);
        const t0 = Date.now();
        const r = spawnSync("sh", ["-c", preStopScript(1, 30)], { env: c.env, encoding: "utf8" });
        const elapsed = (Date.now() - t0) / 1000;
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(
            c.marks(),
            ["started", "TERM", "stopped"],
            "the JVM got SIGTERM and finished its shutdown",
        );
        assert.ok(!alive(javaPid), "the JVM has exited when preStop returns");
        assert.ok(elapsed >= 3, `preStop waited for drain (1 s) and the shutdown (2 s): ${elapsed} s`);
        // wso2server.sh's loop ends (exit status is not 121), so the entrypoint and the container end.
        assert.ok(await until(() => entry.exitCode !== null, 5000), "the entrypoint exited");
        assert.equal(entry.exitCode, 0);
    });

    it("preStop gives up after its wait when the JVM hangs, inside the grace period", async function () {
        const c = container("hang", 100);
        const { javaPid } = await start(c);
        const t0 = Date.now();
        const r = spawnSync("sh", ["-c", preStopScript(0, 2)], { env: c.env, encoding: "utf8" });
        const elapsed = (Date.now() - t0) / 1000;
        assert.equal(r.status, 0, r.stderr);
        assert.ok(elapsed < 6, `bounded: ${elapsed} s`);
        assert.ok(
            c.marks().includes("TERM") && alive(javaPid),
            "SIGTERM sent; the kubelet's SIGKILL does the rest",
        );
    });

    it("preStop exits at once when IS has not written its pid yet", function () {
        const c = container("early", 1);
        const t0 = Date.now();
        const r = spawnSync("sh", ["-c", preStopScript(0, 30)], { env: c.env, encoding: "utf8" });
        assert.equal(r.status, 0, r.stderr);
        assert.ok(Date.now() - t0 < 3000);
    });
});
