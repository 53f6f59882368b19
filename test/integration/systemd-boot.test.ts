// The rendered units under a real systemd (this machine's, as PID 1 of a container the test
// builds: support/systemdContainer.ts), booted twice from the same disk (a reboot).
//
// Real: systemd, the three units as cloud-init writes them (plus test drop-ins that shorten
// RestartSec and the step delays, and turn PrivateTmp= off: the container is a chroot, where
// systemd cannot set up mount namespaces), lib.sh, bootstrap.sh, node-ip.sh, jvm-heap.sh,
// redirect-443.sh (real nft, in the container's own network namespace), the install of
// deployment.toml. Stand-ins, logging their calls: the steps that need a cloud, a download,
// a share or a database (install-is.sh, fetch-secrets.sh, mount-share.sh, artifact-sync.sh,
// db-init.sh, first-start-gate.sh), and IS itself (wso2server.sh prints what it was given and
// sleeps). The packages step is marked done in advance (no apt in the container).
// db-init fails on the first two bootstrap runs: systemd must restart the unit until it passes,
// then start IS.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { nodePackages, renderCloudInit, scriptDir } from "../../components/render";
import { azureModel } from "../fixtures/models";
import {
    SystemdContainer,
    bootContainer,
    prepareRoot,
    systemdContainerProblem,
} from "./support/systemdContainer";
import { ensureCommands, tempDir } from "./support/system";

describe("the VM units under a real systemd (container), booted twice", function () {
    this.timeout(300000);
    const model = azureModel();
    const node = model.nodes[0];
    let tmp: { dir: string; cleanup: () => void };
    let root: string;
    let local: string;
    let box: SystemdContainer | undefined;
    const calls = () => fs.readFileSync(path.join(root, "var/log/calls"), "utf8").trim().split("\n");

    function standIn(name: string, body: string) {
        fs.writeFileSync(
            path.join(local, "lib/wso2is", name),
            `#!/usr/bin/env bash\nset -euo pipefail\necho "${name} $* admin=\${WSO2IS_DB_ADMIN_ENV:-} secrets=\${WSO2IS_SECRETS_ENV:-}" >>/var/log/calls\n${body}\n`,
            { mode: 0o755 },
        );
    }

    /** Waits until `unit` is in `state` (systemctl is-active), or fails with the journal. */
    async function waitFor(unit: string, state: string, seconds = 120) {
        let last = "";
        for (let i = 0; i < seconds * 2; i++) {
            last = box!.exec("systemctl", ["is-active", unit]).stdout.trim();
            if (last === state) return;
            await new Promise((r) => setTimeout(r, 500));
        }
        assert.fail(`${unit} is ${last}, not ${state}, after ${seconds}s:\n${box!.journal(["-n", "80"])}`);
    }

    const show = (unit: string, prop: string) =>
        box!.exec("systemctl", ["show", unit, "-p", prop, "--value"]).stdout.trim();

    before(function () {
        const problem = systemdContainerProblem();
        assert.ok(!problem, `cannot run systemd in a container here: ${problem}`);
        ensureCommands({
            nsenter: "util-linux",
            unshare: "util-linux",
            nft: "nftables",
            journalctl: "systemd",
        });
        tmp = tempDir("systemd-boot");
        root = path.join(tmp.dir, "root");
        local = path.join(tmp.dir, "local");
        prepareRoot(root);
        fs.mkdirSync(path.join(local, "lib/wso2is"), { recursive: true });
        // The IS user, as install-is.sh would create it.
        fs.appendFileSync(path.join(root, "etc/passwd"), "wso2is:x:802:802::/opt/wso2is:/usr/sbin/nologin\n");
        fs.appendFileSync(path.join(root, "etc/group"), "wso2is:x:802:\n");
        fs.writeFileSync(path.join(root, "etc/hosts"), "127.0.0.1 localhost\n");

        // What cloud-init writes: units and env files into the root, scripts into /usr/local.
        const userData = YAML.parse(renderCloudInit(model, node)) as {
            write_files: { path: string; content: string; permissions: string; append?: boolean }[];
        };
        for (const f of userData.write_files) {
            if (f.path === "/etc/fstab") continue; // no share in the container
            const target = f.path.startsWith("/usr/local/")
                ? path.join(local, f.path.slice("/usr/local/".length))
                : path.join(root, f.path);
            fs.mkdirSync(path.dirname(target), { recursive: true });
            fs.writeFileSync(target, f.content, { mode: parseInt(f.permissions, 8) });
        }
        assert.ok(fs.existsSync(path.join(local, "lib/wso2is/bootstrap.sh")));
        // Test speed only: shorter waits, the same units otherwise.
        const dropIn = path.join(root, "etc/systemd/system/wso2is-bootstrap.service.d");
        fs.mkdirSync(dropIn, { recursive: true });
        fs.writeFileSync(
            path.join(dropIn, "test.conf"),
            "[Service]\nRestartSec=2\nEnvironment=BOOTSTRAP_STEP_DELAY=1 BOOTSTRAP_STEP_MAX_DELAY=1\n",
        );
        // systemd's mount namespacing (PrivateTmp=) needs a real root; this container is a chroot.
        const isDropIn = path.join(root, "etc/systemd/system/wso2is.service.d");
        fs.mkdirSync(isDropIn, { recursive: true });
        fs.writeFileSync(path.join(isDropIn, "test.conf"), "[Service]\nPrivateTmp=no\n");
        fs.writeFileSync(
            path.join(root, "etc/systemd/system/wso2is-test.target"),
            // What runcmd's `systemctl start --no-block wso2is.service` does.
            "[Unit]\nDescription=test boot\nWants=wso2is.service\n",
        );
        // No apt in the container: the packages step is done.
        const state = path.join(root, "var/lib/wso2is/bootstrap");
        fs.mkdirSync(state, { recursive: true });
        fs.writeFileSync(path.join(state, "packages.done"), `${nodePackages(model).join(" ")}\n`);

        const home = model.is.home;
        standIn(
            "install-is.sh",
            `n=$(( $(cat /var/log/install-count 2>/dev/null || echo 0) + 1 )); echo $n >/var/log/install-count
if ((n < 3)); then echo "install-is.sh: error: download failed (HTTP 503)" >&2; exit 1; fi
(umask 022 && mkdir -p ${home}/bin ${home}/repository/conf) # as install-is.sh does: UMask=0027 would lock IS out
printf '#!/bin/sh\\necho "wso2server: uid=$(id -u) JVM_MEM_OPTS=$JVM_MEM_OPTS NODE_IP=$NODE_IP db_password=\${WSO2_DB_PASSWORD:+set}"\\nexec sleep 1000\\n' >${home}/bin/wso2server.sh
chmod 0755 ${home}/bin/wso2server.sh; chown -R wso2is:wso2is ${home}`,
        );
        standIn(
            "fetch-secrets.sh",
            `printf "WSO2_DB_PASSWORD='x'\\n" >/etc/wso2is/secrets.env; chmod 0600 /etc/wso2is/secrets.env
if [[ -n \${WSO2IS_DB_ADMIN_ENV:-} ]]; then mkdir -p /run/wso2is; echo "WSO2_DB_ADMIN_PASSWORD='x'" >"$WSO2IS_DB_ADMIN_ENV"; fi`,
        );
        standIn("mount-share.sh", "");
        standIn("artifact-sync.sh", "");
        standIn(
            "db-init.sh",
            `[[ -f $WSO2IS_SECRETS_ENV ]] || exit 2
n=$(( $(cat /var/log/db-init-count 2>/dev/null || echo 0) + 1 )); echo $n >/var/log/db-init-count
if ((n < 3)); then echo "db-init: ERROR: could not connect to the database server (stand-in, run $n)" >&2; exit 3; fi`,
        );
        standIn("first-start-gate.sh", "");
        for (const s of ["install-is.sh", "fetch-secrets.sh", "db-init.sh", "first-start-gate.sh"])
            assert.ok(fs.existsSync(path.join(local, "lib/wso2is", s)));
    });

    afterEach(async function () {
        await box?.stop();
        box = undefined;
    });

    after(function () {
        tmp?.cleanup();
    });

    it("first boot: systemd restarts the bootstrap until db-init passes, then starts IS with its heap, and the hold unit", async function () {
        box = await bootContainer(root, local, "wso2is-test.target");
        await waitFor("wso2is.service", "active", 180);
        const journal = box.journal();
        assert.equal(show("wso2is-bootstrap.service", "NRestarts"), "2", journal);
        assert.equal(show("wso2is-bootstrap.service", "ActiveState"), "active");
        assert.match(
            journal,
            /bootstrap\.sh: waiting for step install-is \(the IS and JDBC driver downloads\): attempt 1\/3 failed \(exit 1\)/,
        );
        assert.match(journal, /bootstrap\.sh: error: step db-init failed \(exit 3\)/);
        assert.match(journal, /bootstrap\.sh: step packages: already done/);
        // The order of a start: bootstrap's steps, then wso2is's ExecStartPre= lines, then the hold.
        const c = calls();
        const first = (s: string) => c.findIndex((l) => l.startsWith(s));
        assert.ok(first("db-init.sh") < first("first-start-gate.sh enter"), c.join("\n"));
        assert.equal(c.filter((l) => l.startsWith("db-init.sh")).length, 3, c.join("\n"));
        // IS runs as its user with the heap jvm-heap.sh computed and NODE_IP from node-ip.sh.
        assert.match(
            journal,
            /wso2server: uid=802 JVM_MEM_OPTS=-Xms\d+m -Xmx\d+m -XX:MaxMetaspaceSize=512m \S+ \S+ NODE_IP=10\.41\.1\.4 db_password=set/,
        );
        // The real nft rule, in the container's network namespace.
        const nft = box.exec("nft", ["list", "table", "ip", "wso2is"]);
        assert.match(nft.stdout, /ip daddr 10\.41\.1\.4 tcp dport 443 dnat to 10\.41\.1\.4:9443/, nft.stderr);
        assert.ok(!fs.existsSync(path.join(root, "run/wso2is/db-admin.env")));
        assert.ok(fs.existsSync(path.join(root, "var/lib/wso2is/bootstrap/db-init.done")));
        const conf = fs.statSync(path.join(root, model.is.home.slice(1), "repository/conf/deployment.toml"));
        assert.equal((conf.mode & 0o777).toString(8), "640");
        assert.equal(conf.gid, 802);
        await waitFor("wso2is-first-start-hold.service", "inactive", 30);
        assert.ok(
            calls().some((l) => l.startsWith("first-start-gate.sh hold")),
            calls().join("\n"),
        );
        console.log(
            `      bootstrap restarts: 2, then IS active (${journal.split("\n").length} journal lines)`,
        );
    });

    it("reboot: the bootstrap skips what is marked done, reruns the rest, and IS starts again", async function () {
        fs.writeFileSync(path.join(root, "var/log/calls"), "");
        box = await bootContainer(root, local, "wso2is-test.target");
        await waitFor("wso2is.service", "active", 120);
        assert.equal(show("wso2is-bootstrap.service", "NRestarts"), "0");
        const journal = box.journal();
        assert.match(journal, /step db-init: already done/);
        const c = calls();
        assert.ok(!c.some((l) => l.startsWith("db-init.sh")), c.join("\n"));
        // fetch-secrets ran in the bootstrap (without the admin pair) and again before IS.
        assert.deepEqual(
            c.filter((l) => l.startsWith("fetch-secrets.sh")),
            ["fetch-secrets.sh  admin= secrets=", "fetch-secrets.sh  admin= secrets="],
        );
        assert.ok(scriptDir.startsWith("/usr/local/"));
    });
});
