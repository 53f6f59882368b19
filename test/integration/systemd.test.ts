// The rendered systemd units (wso2is-bootstrap.service, wso2is.service,
// wso2is-first-start-hold.service) through the real `systemd-analyze verify`.
//
// What `systemd-analyze verify` checks (systemd 252, Debian 12): it loads the unit file with
// systemd's own parser, offline, without PID 1 being systemd, and reports unknown sections,
// unknown keys ("Unknown key 'Restrat' in section [Service], ignoring"), values it cannot parse
// (restart specifiers, time spans, ...), that every Exec*= command exists and is executable,
// that the units it names (After=, Wants=, WantedBy=, ...) can be loaded, and missing man pages
// for Documentation= (off here: --man=no). What it does not check: that User=/Group= exist, that
// EnvironmentFile=/WorkingDirectory= exist, that RequiresMountsFor= names a real mount, or
// anything about runtime behaviour. Unknown keys and bad values are only logged ("ignoring") and
// the exit code stays 0, so the test fails on ANY output, not only on a non-zero exit.
//
// The unit is checked exactly as rendered, on a file system like a node's after cloud-init's
// write_files: `--root=<tmp>` makes systemd-analyze load units and resolve Exec*= paths inside a
// temporary root, which holds every file the node's user-data writes (the unit at
// /etc/systemd/system/, the scripts their Exec*= lines run, node.env, ...), an executable stub
// for each Exec*= path inside IS_HOME (<IS_HOME>/bin/wso2server.sh, which install-is.sh unpacks
// at boot) and for the system programs the units call (/usr/bin/systemctl, /usr/bin/rm: present
// on Ubuntu, checked to exist on this machine too), and a copy of this machine's system units
// (sysinit.target, network-online.target, ... which verify needs to load the dependencies).
// The bootstrap unit's RestartSteps=/RestartMaxDelaySec= are systemd 254+ keys (Ubuntu 24.04
// has 255); on an older systemd here they are removed before verify, and only they.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { ClusterModel } from "../../components/model";
import {
    bootstrapUnitPath,
    holdUnitPath,
    renderCloudInit,
    renderSystemdUnit,
    unitPath,
} from "../../components/render";
import { awsModel, azureModel } from "../fixtures/models";
import { ensureCommands, tempDir } from "./support/system";

/** Where this machine's packaged system units live (Debian 12: /usr/lib/systemd/system, /lib is a symlink). */
const SYSTEM_UNITS = ["/usr/lib/systemd/system", "/lib/systemd/system"].find((d) =>
    fs.existsSync(path.join(d, "sysinit.target")),
);

/** The systemd here, and the keys newer than it that the rendered units use. */
const localSystemd = Number(
    /systemd (\d+)/.exec(
        spawnSync("systemd-analyze", ["--version"], { encoding: "utf8" }).stdout ?? "",
    )?.[1] ?? 0,
);
const newerKeys = localSystemd >= 254 ? [] : ["RestartSteps", "RestartMaxDelaySec"];

/** A unit as this systemd can read it: the keys it predates removed (and nothing else). */
export function forLocalSystemd(unit: string): string {
    return unit
        .split("\n")
        .filter((l) => !newerKeys.some((k) => l.startsWith(`${k}=`)))
        .join("\n");
}

interface Verified {
    status: number | null;
    output: string;
}

/**
 * A temp root holding what `model`'s first node's user-data writes (with `unit` in place of the
 * rendered unit), the system units and stubs for the IS_HOME executables; verify there.
 */
function verifyInRoot(
    root: string,
    model: ClusterModel,
    unit: string,
    opts: { stubIs?: boolean; raw?: boolean } = {},
): Verified {
    fs.rmSync(root, { recursive: true, force: true });
    fs.mkdirSync(path.join(root, "usr/lib/systemd"), { recursive: true });
    fs.cpSync(SYSTEM_UNITS!, path.join(root, "usr/lib/systemd/system"), {
        recursive: true,
        verbatimSymlinks: true,
    });
    const userData = YAML.parse(renderCloudInit(model, model.nodes[0])) as {
        write_files: { path: string; content: string; permissions: string }[];
    };
    const written = userData.write_files.find((f) => f.path === unitPath);
    assert.ok(written, `user-data writes no ${unitPath}`);
    assert.equal(
        written.content,
        renderSystemdUnit(model),
        "user-data ships the unit as renderSystemdUnit renders it",
    );
    const units = [bootstrapUnitPath, unitPath, holdUnitPath];
    for (const f of userData.write_files) {
        const file = path.join(root, f.path);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        const content =
            f.path === unitPath
                ? unit
                : units.includes(f.path) && !opts.raw
                  ? forLocalSystemd(f.content)
                  : f.content;
        fs.writeFileSync(file, content, { mode: parseInt(f.permissions, 8) });
    }
    for (const u of units) assert.ok(fs.existsSync(path.join(root, u)), `user-data writes no ${u}`);
    const execs = units.flatMap((u) => execPaths(fs.readFileSync(path.join(root, u), "utf8")));
    for (const exe of execs) {
        const file = path.join(root, exe);
        if (fs.existsSync(file)) continue;
        const inIsHome = exe.startsWith(`${model.is.home}/`);
        if (inIsHome ? opts.stubIs === false : !fs.existsSync(exe)) continue;
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    }
    const r = spawnSync(
        "systemd-analyze",
        [`--root=${root}`, "verify", "--man=no", ...units.map((u) => path.join(root, u))],
        {
            encoding: "utf8",
            env: { ...process.env, SYSTEMD_LOG_COLOR: "0", SYSTEMD_PAGER: "" },
        },
    );
    if (r.error) throw r.error;
    return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}

/** The executable of every Exec*= line (prefixes like `+`, `-`, `@` stripped). */
function execPaths(unit: string): string[] {
    const paths = [...unit.matchAll(/^Exec\w+=[-@:+!|]*(\S+)/gm)].map((m) => m[1]);
    for (const p of paths) assert.ok(p.startsWith("/"), `Exec*= must name an absolute path, got ${p}`);
    return paths;
}

function execStart(unit: string): string {
    const m = /^ExecStart=[-@:+!]*(\S+)/m.exec(unit);
    assert.ok(m, `no ExecStart= in\n${unit}`);
    assert.ok(m[1].startsWith("/"), `ExecStart must be an absolute path, got ${m[1]}`);
    return m[1];
}

describe("systemd-analyze verify on the rendered unit", function () {
    this.timeout(90_000);
    let tmp: { dir: string; cleanup: () => void };
    let root: string;

    before(function () {
        this.timeout(300_000); // may apt-get install systemd
        if (newerKeys.length > 0)
            console.log(`      systemd ${localSystemd} here: ${newerKeys.join(", ")} removed before verify`);
        ensureCommands({ "systemd-analyze": "systemd" });
        const v = spawnSync("systemd-analyze", ["--version"], { encoding: "utf8" });
        const version = Number(/systemd (\d+)/.exec(v.stdout)?.[1] ?? 0);
        console.log(`      ${v.stdout.split("\n")[0]}`);
        const help = spawnSync("systemd-analyze", ["--help"], { encoding: "utf8" }).stdout;
        assert.ok(
            version >= 250 && /--root=/.test(help),
            `systemd-analyze ${version} lacks --root= for verify (need systemd >= 250)`,
        );
        assert.ok(
            SYSTEM_UNITS,
            "no system units (sysinit.target) under /usr/lib/systemd/system or /lib/systemd/system",
        );
        tmp = tempDir("systemd");
        root = path.join(tmp.dir, "root");
    });

    after(function () {
        tmp?.cleanup();
    });

    for (const [label, model] of [
        ["aws", awsModel],
        ["azure", azureModel],
    ] as const) {
        it(`${label}: the three units as rendered verify with no message at all`, function () {
            const m = model();
            const unit = renderSystemdUnit(m);
            const r = verifyInRoot(root, m, unit);
            assert.equal(
                r.status,
                0,
                `systemd-analyze verify exit ${r.status}:\n${r.output}\n--- unit ---\n${unit}`,
            );
            assert.equal(
                r.output,
                "",
                `systemd-analyze verify complained:\n${r.output}\n--- unit ---\n${unit}`,
            );
        });
    }

    it("on a systemd older than 254 the only keys it does not know are RestartSteps and RestartMaxDelaySec", function () {
        if (newerKeys.length === 0) this.skip(); // systemd >= 254 here: nothing is removed at all
        const m = azureModel();
        const r = verifyInRoot(root, m, renderSystemdUnit(m), { raw: true });
        const lines = r.output.split("\n").filter((l) => l.trim() !== "");
        assert.equal(lines.length, 2, r.output);
        assert.match(
            lines[0],
            /wso2is-bootstrap\.service:\d+: Unknown key '?RestartSteps'? in section \[Service\], ignoring/,
        );
        assert.match(
            lines[1],
            /wso2is-bootstrap\.service:\d+: Unknown key '?RestartMaxDelaySec'? in section \[Service\], ignoring/,
        );
    });

    describe("the check can fail", function () {
        const model = awsModel();
        const good = () => renderSystemdUnit(model);

        it("a misspelled directive is reported (exit 0, so the message is what fails the test)", function () {
            const unit = good().replace(/^Restart=/m, "Restrat=");
            assert.notEqual(unit, good());
            const r = verifyInRoot(root, model, unit);
            console.log(`      Restrat=: exit ${r.status}: ${r.output}`);
            assert.match(r.output, /Unknown key '?Restrat'? in section \[Service\]/, r.output);
        });

        it("invalid values are reported", function () {
            for (const [from, to, message] of [
                [/^Restart=.*$/m, "Restart=sometimes", /Failed to parse service restart specifier/],
                [/^TimeoutStopSec=.*$/m, "TimeoutStopSec=two-minutes", /Failed to parse time value/],
            ] as const) {
                const r = verifyInRoot(root, model, good().replace(from, to));
                console.log(`      ${to}: exit ${r.status}: ${r.output}`);
                assert.match(r.output, message, r.output);
            }
        });

        it("a missing ExecStart executable fails with a non-zero exit (the stub is what makes it pass)", function () {
            const r = verifyInRoot(root, model, good(), { stubIs: false });
            console.log(`      no ${execStart(good())}: exit ${r.status}: ${r.output}`);
            assert.notEqual(r.status, 0, r.output);
            assert.match(r.output, /is not executable: No such file or directory/, r.output);
        });

        it("a misspelled section fails with a non-zero exit", function () {
            const r = verifyInRoot(root, model, good().replace("[Service]", "[Servce]"));
            assert.notEqual(r.status, 0, r.output);
            assert.match(r.output, /Unknown section '?Servce'?/, r.output);
        });
    });
});
