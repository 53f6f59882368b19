// artifact-sync.sh on real directories and a real mount point: two nodes (two IS_HOMEs) boot at
// the same moment against one share; the share is seeded exactly once, both nodes link to it,
// a rerun changes nothing, and an unmounted share is refused without touching it.
import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ensureCommands, tempDir } from "./support/system";
import { mountShare, run, RunResult, SCRIPTS_DIR, ShareMount } from "./support/scripts";

const SCRIPT = path.join(SCRIPTS_DIR, "artifact-sync.sh");
const USERSTORES = "repository/deployment/server/userstores";
const TENANTS = "repository/tenants";
// An existing user whose primary group has another name: exercises the chown path.
const IS_USER = "nobody";

interface Node {
    name: string;
    home: string;
    env: string;
}

/** An IS_HOME with WSO2's default directories, each file naming its node. */
function makeNode(root: string, name: string, shareMount: string): Node {
    const home = path.join(root, name, "wso2is-7.1.0");
    fs.mkdirSync(path.join(home, USERSTORES), { recursive: true });
    fs.mkdirSync(path.join(home, TENANTS, "1"), { recursive: true });
    fs.writeFileSync(path.join(home, USERSTORES, "PRIMARY.xml"), `<userstore node="${name}"/>\n`);
    fs.writeFileSync(path.join(home, USERSTORES, `only-${name}.xml`), `${name}\n`);
    fs.writeFileSync(path.join(home, TENANTS, "1", "tenant.txt"), `${name}\n`);
    const env = path.join(root, name, "node.env");
    fs.writeFileSync(
        env,
        [
            `NODE_NAME='${name}'`,
            `IS_HOME='${home}'`,
            `IS_USER='${IS_USER}'`,
            `SHARE_MOUNT='${shareMount}'`,
            "",
        ].join("\n"),
    );
    return { name, home, env };
}

function runIn(
    share: ShareMount,
    cmd: string,
    args: string[],
    env: Record<string, string> = {},
): Promise<RunResult> {
    const [c, a] = share.wrap(cmd, args);
    return run(c, a, env);
}

function sync(share: ShareMount, node: Node): Promise<RunResult> {
    return runIn(share, "bash", [SCRIPT], { WSO2IS_NODE_ENV: node.env });
}

/** Every path under the roots with type, mode, owner, mtime, ctime and link target. */
async function snapshot(share: ShareMount, roots: string[]): Promise<string> {
    const r = await runIn(share, "find", [...roots, "-printf", "%p %y %m %u:%g %T@ %C@ %l\\n"]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.split("\n").sort().join("\n");
}

function ok(r: RunResult, what: string): void {
    assert.equal(r.code, 0, `${what} failed (exit ${r.code}):\n${r.stderr}`);
}

describe("artifact-sync.sh", function () {
    this.timeout(60000);
    let share: ShareMount;
    let nodesDir: { dir: string; cleanup: () => void };
    let nodes: Node[];
    let results: RunResult[];

    before(async function () {
        ensureCommands({
            flock: "util-linux",
            mountpoint: "util-linux",
            unshare: "util-linux",
            find: "findutils",
        });
        share = mountShare("share");
        // Recorded in the test output: which way of getting a mount point worked here.
        console.log(`      share: ${share.mode} mount at ${share.mountPoint}`);
        nodesDir = tempDir("nodes");
        nodes = ["node1", "node2"].map((n) => makeNode(nodesDir.dir, n, share.mountPoint));
        // Both nodes boot at the same moment.
        results = await Promise.all(nodes.map((n) => sync(share, n)));
    });

    after(function () {
        share?.cleanup();
        nodesDir?.cleanup();
    });

    it("succeeds on both nodes booting at once", function () {
        results.forEach((r, i) => ok(r, nodes[i].name));
        for (const r of results) assert.match(r.stderr, /^artifact-sync\.sh: /m);
    });

    it("links both nodes' userstores and tenants into the share", function () {
        for (const node of nodes) {
            assert.equal(
                fs.readlinkSync(path.join(node.home, USERSTORES)),
                path.join(share.mountPoint, "Userstores"),
            );
            assert.equal(
                fs.readlinkSync(path.join(node.home, TENANTS)),
                path.join(share.mountPoint, "Tenants"),
            );
        }
    });

    it("shows a file written through node 1 to node 2", async function () {
        const [n1, n2] = nodes;
        ok(
            await runIn(share, "sh", [
                "-c",
                'printf "%s" shared > "$1"',
                "sh",
                path.join(n1.home, USERSTORES, "SECONDARY.xml"),
            ]),
            "write",
        );
        ok(
            await runIn(share, "sh", [
                "-c",
                'printf "%s" t2 > "$1"',
                "sh",
                path.join(n1.home, TENANTS, "2.txt"),
            ]),
            "write",
        );
        const r = await runIn(share, "cat", [
            path.join(n2.home, USERSTORES, "SECONDARY.xml"),
            path.join(n2.home, TENANTS, "2.txt"),
        ]);
        ok(r, "read through node 2");
        assert.equal(r.stdout, "sharedt2");
        assert.equal(fs.readFileSync(path.join(share.view, "Userstores", "SECONDARY.xml"), "utf8"), "shared");
        fs.rmSync(path.join(share.view, "Userstores", "SECONDARY.xml"));
        fs.rmSync(path.join(share.view, "Tenants", "2.txt"));
    });

    it("seeds the share exactly once, from one node's defaults, not a mix", function () {
        const seeded = fs.readFileSync(path.join(share.view, ".seeded-by"), "utf8").trim().split("\n");
        assert.equal(seeded.length, 2, `expected one record per directory:\n${seeded.join("\n")}`);
        const seeder = /seeded by (node\d)/.exec(seeded[0])?.[1];
        assert.ok(seeder, seeded[0]);
        assert.match(
            seeded[0],
            new RegExp(
                `^Userstores seeded by ${seeder} \\(host .+, ${nodes.find((n) => n.name === seeder)!.home}\\) at \\d{4}-`,
            ),
        );
        assert.match(seeded[1], new RegExp(`^Tenants seeded by ${seeder} `));
        assert.deepEqual(
            fs.readdirSync(path.join(share.view, "Userstores")).sort(),
            ["PRIMARY.xml", `only-${seeder}.xml`].sort(),
        );
        assert.equal(
            fs.readFileSync(path.join(share.view, "Userstores", "PRIMARY.xml"), "utf8"),
            `<userstore node="${seeder}"/>\n`,
        );
        assert.deepEqual(fs.readdirSync(path.join(share.view, "Tenants")), ["1"]);
        assert.equal(
            fs.readFileSync(path.join(share.view, "Tenants", "1", "tenant.txt"), "utf8"),
            `${seeder}\n`,
        );
        // Nothing half-done left behind, the share root holds only what we expect.
        assert.deepEqual(fs.readdirSync(share.view).sort(), [
            ".seeded-by",
            ".wso2is-artifact-sync.lock",
            "Tenants",
            "Userstores",
        ]);
        const other = nodes.find((n) => n.name !== seeder)!;
        const otherLog = results[nodes.indexOf(other)].stderr;
        assert.match(otherLog, /Userstores already exists, keeping it/);
    });

    it("hands the share directories to IS_USER", function () {
        const uid = Number(execFileSync("id", ["-u", IS_USER], { encoding: "utf8" }).trim());
        const gid = Number(execFileSync("id", ["-g", IS_USER], { encoding: "utf8" }).trim());
        for (const p of ["Userstores", "Tenants", "Tenants/1/tenant.txt", "Userstores/PRIMARY.xml"]) {
            const st = fs.statSync(path.join(share.view, p));
            assert.equal(`${st.uid}:${st.gid}`, `${uid}:${gid}`, p);
        }
    });

    it("moves each node's local defaults aside instead of deleting them", function () {
        for (const node of nodes) {
            for (const [rel, file] of [
                [USERSTORES, `only-${node.name}.xml`],
                [TENANTS, path.join("1", "tenant.txt")],
            ]) {
                const parent = path.dirname(path.join(node.home, rel));
                const aside = fs
                    .readdirSync(parent)
                    .filter((f) => f.startsWith(`${path.basename(rel)}.local-`));
                assert.equal(aside.length, 1, `${node.name}: ${rel} moved aside once: ${aside.join(", ")}`);
                assert.match(aside[0], /\.local-\d{8}T\d{6}Z$/);
                assert.ok(fs.statSync(path.join(parent, aside[0])).isDirectory());
                assert.ok(fs.existsSync(path.join(parent, aside[0], file)), `${node.name}: ${file} kept`);
            }
        }
    });

    it("changes nothing on a rerun (no new file, same symlinks, same mtimes)", async function () {
        const roots = [share.mountPoint, ...nodes.map((n) => path.dirname(n.home))];
        const before = await snapshot(share, roots);
        const again = await Promise.all(nodes.map((n) => sync(share, n)));
        again.forEach((r, i) => ok(r, `rerun ${nodes[i].name}`));
        for (const r of again) assert.doesNotMatch(r.stderr, /seeding|moved|linked/);
        const after = await snapshot(share, roots);
        assert.equal(after, before);
    });

    it("refuses an unmounted share and creates nothing in it", async function () {
        const plain = tempDir("plain-share");
        try {
            const node = makeNode(plain.dir, "node3", path.join(plain.dir, "share"));
            fs.mkdirSync(path.join(plain.dir, "share"));
            const r = await run("bash", [SCRIPT], { WSO2IS_NODE_ENV: node.env });
            assert.notEqual(r.code, 0);
            assert.match(
                r.stderr,
                /^artifact-sync\.sh: error: share not mounted, refusing to write to local disk/m,
            );
            assert.equal(r.stderr.trim().split("\n").length, 1, `one clear message:\n${r.stderr}`);
            assert.deepEqual(fs.readdirSync(path.join(plain.dir, "share")), []);
            assert.ok(fs.statSync(path.join(node.home, USERSTORES)).isDirectory());
            assert.ok(!fs.lstatSync(path.join(node.home, USERSTORES)).isSymbolicLink());
        } finally {
            plain.cleanup();
        }
    });

    it("seeds exactly once with six nodes racing, three rounds", async function () {
        for (let round = 0; round < 3; round++) {
            const s = mountShare(`race${round}`);
            const dir = tempDir(`race${round}`);
            try {
                const racers = [1, 2, 3, 4, 5, 6].map((i) => makeNode(dir.dir, `node${i}`, s.mountPoint));
                const rs = await Promise.all(racers.map((n) => sync(s, n)));
                rs.forEach((r, i) => ok(r, `round ${round} ${racers[i].name}`));
                const seeded = fs.readFileSync(path.join(s.view, ".seeded-by"), "utf8").trim().split("\n");
                assert.equal(seeded.length, 2, seeded.join("\n"));
                const seeder = /seeded by (node\d)/.exec(seeded[0])![1];
                assert.match(seeded[1], new RegExp(`^Tenants seeded by ${seeder} `));
                assert.deepEqual(
                    fs.readdirSync(path.join(s.view, "Userstores")).sort(),
                    ["PRIMARY.xml", `only-${seeder}.xml`].sort(),
                );
                for (const n of racers)
                    assert.equal(
                        fs.readlinkSync(path.join(n.home, TENANTS)),
                        path.join(s.mountPoint, "Tenants"),
                    );
            } finally {
                s.cleanup();
                dir.cleanup();
            }
        }
    });
});
