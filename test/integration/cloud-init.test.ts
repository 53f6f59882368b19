// The cloud-init user-data we render, through Debian's real `cloud-init schema`: for every node
// of every example stack (synth run as a child process, stacks globbed so a new Pulumi.<x>.yaml
// is covered the day it lands) and straight from the renderer for both node kinds, SMB and a
// non-default caching scenario. Plus checks the schema cannot make: every top-level key is one
// cloud-init knows (`cloud-init schema` accepts unknown keys silently), no secret in any written
// file, and every boot script shipped byte for byte. The fstab line the user-data appends must
// be the entry mount-share.sh's findmnt looks for.
// And proof that each check can fail.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { ClusterModel, NodeModel } from "../../components/model";
import {
    ShippedScript,
    fetcherScripts,
    nodeScripts,
    renderCloudInit,
    scriptDir,
    scriptManifestPath,
    scriptText,
} from "../../components/render";
import { awsModel, azureModel } from "../fixtures/models";
import { exampleStacks, synthOnce } from "../fixtures/stacks";
import { SOURCE_SCRIPTS_DIR as SCRIPTS_DIR } from "./support/scripts";
import { ensureCommands, tempDir } from "./support/system";

const REPO = path.resolve(__dirname, "../..");

const stacks = exampleStacks();

/** Azure Files over SMB (test/render/cloudInit.test.ts builds it the same way). */
function smbModel(): ClusterModel {
    return {
        ...azureModel(),
        sharedFs: {
            protocol: "smb",
            source: "//acct.file.core.windows.net/is-share",
            options: "vers=3.1.1,_netdev,nofail",
            credentialsFile: "/etc/wso2is/smb-credentials",
            mountPoint: "/mnt/wso2is-share",
        },
    };
}

interface Checked {
    status: number | null;
    output: string;
}

/** `cloud-init schema --config-file`: 22.4 exits 1 on a schema error, with no extra flag. */
function schema(file: string): Checked {
    const r = spawnSync("cloud-init", ["schema", "--config-file", file], { encoding: "utf8" });
    if (r.error) throw r.error;
    return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}

/**
 * Top-level keys cloud-init's own schema (the installed package's JSON) defines. `cloud-init
 * schema` (22.4) does not reject unknown keys, so a typo like `write_file:` would pass it.
 */
function knownTopLevelKeys(): Set<string> {
    const r = spawnSync("dpkg", ["-L", "cloud-init"], { encoding: "utf8" });
    const file = r.stdout.split("\n").find((l) => l.endsWith("/schema-cloud-config-v1.json"));
    assert.ok(file, `cloud-init ships no schema-cloud-config-v1.json (dpkg -L cloud-init)\n${r.stderr}`);
    const s = JSON.parse(fs.readFileSync(file, "utf8")) as {
        $defs?: Record<string, any>;
        allOf?: any[];
        properties?: Record<string, unknown>;
    };
    const keys = new Set(Object.keys(s.properties ?? {}));
    for (const part of s.allOf ?? []) {
        const def = typeof part.$ref === "string" ? s.$defs?.[part.$ref.replace(/^#\/\$defs\//, "")] : part;
        for (const k of Object.keys(def?.properties ?? {})) keys.add(k);
    }
    assert.ok(
        keys.has("write_files") && keys.has("runcmd") && keys.size > 40,
        `schema parsed badly: ${[...keys].join(", ")}`,
    );
    return keys;
}

let knownKeys: Set<string>;

/** Problems with one user-data text: everything except `cloud-init schema` itself. */
function contentProblems(text: string, where: string): string[] {
    const problems: string[] = [];
    if (!text.startsWith("#cloud-config\n")) problems.push(`${where}: does not start with #cloud-config`);
    for (const bad of ["mock-secret-", "[secret"]) {
        if (text.includes(bad))
            problems.push(
                `${where}: contains "${bad}" (a secret value, or a redacted one, reached user-data)`,
            );
    }
    const doc = YAML.parse(text) as Record<string, unknown>;
    for (const k of Object.keys(doc))
        if (!knownKeys.has(k)) problems.push(`${where}: top-level key "${k}" is not in cloud-init's schema`);

    const files = (doc.write_files ?? []) as { path?: string; content?: unknown }[];
    if (!Array.isArray(files) || files.length === 0) return [...problems, `${where}: no write_files`];
    for (const f of files) {
        const content = String(f.content ?? "");
        for (const bad of ["mock-secret-", "[secret"]) {
            if (content.includes(bad)) problems.push(`${where}: ${f.path} contains "${bad}"`);
        }
        if (f.path?.endsWith(".sh")) {
            const src = path.join(SCRIPTS_DIR, path.basename(f.path));
            if (!fs.existsSync(src))
                problems.push(`${where}: ${f.path} has no source in components/render/scripts`);
            // Nodes get the source without its comment lines (scriptText), nothing else changed.
            else if (content !== scriptText(path.basename(f.path) as ShippedScript))
                problems.push(
                    `${where}: ${f.path} differs from the shipped form of ${path.relative(REPO, src)}`,
                );
        }
    }
    // Every node script is shipped (inline delivery), or the fetcher and the digests of the rest
    // (s3); every script a unit or runcmd runs is one of them.
    const shipped = new Set(files.map((f) => f.path));
    const manifest = String(files.find((f) => f.path === scriptManifestPath)?.content ?? "");
    const listed = new Set(manifest.split("\n").map((l) => l.split("  ")[1]));
    for (const s of manifest ? fetcherScripts : nodeScripts)
        if (!shipped.has(`${scriptDir}/${s}`))
            problems.push(`${where}: ${scriptDir}/${s} not in write_files`);
    const runs = ((doc.runcmd ?? []) as unknown[]).map((c) =>
        Array.isArray(c) ? String(c[0]) : String(c).split(/\s+/)[0],
    );
    for (const f of files.filter((x) => x.path?.endsWith(".service")))
        for (const m of String(f.content).matchAll(/^Exec\w+=[-@:+!|]*(\S+)/gm)) runs.push(m[1]);
    for (const exe of runs) {
        if (exe.startsWith(`${scriptDir}/`) && !shipped.has(exe) && !listed.has(path.basename(exe)))
            problems.push(`${where}: ${exe} runs on the node but write_files does not ship it`);
    }
    return problems;
}

/** `cloud-init schema` plus contentProblems on one file; every problem in one message. */
function validate(file: string, where: string): string[] {
    const r = schema(file);
    const problems: string[] = [];
    if (r.status !== 0) problems.push(`${where}: cloud-init schema exit ${r.status}:\n${r.output}`);
    else if (!/^Valid cloud-config/m.test(r.output) || /deprecat/i.test(r.output))
        problems.push(`${where}: cloud-init schema said:\n${r.output}`);
    return [...problems, ...contentProblems(fs.readFileSync(file, "utf8"), where)];
}

/**
 * An ECS container instance's user data: valid, and nothing but the ECS agent's settings (IS
 * and its files arrive in the task definition, never here).
 */
function validateEcsInstance(file: string, where: string): string[] {
    const r = schema(file);
    const problems: string[] = [];
    if (r.status !== 0 || !/^Valid cloud-config/m.test(r.output) || /deprecat/i.test(r.output))
        problems.push(`${where}: cloud-init schema exit ${r.status}:\n${r.output}`);
    const text = fs.readFileSync(file, "utf8");
    for (const bad of ["mock-secret-", "[secret"])
        if (text.includes(bad)) problems.push(`${where}: contains "${bad}"`);
    const doc = YAML.parse(text) as { write_files?: { path: string }[] };
    const paths = (doc.write_files ?? []).map((f) => f.path);
    if (JSON.stringify(paths) !== JSON.stringify(["/etc/ecs/ecs.config"]))
        problems.push(`${where}: writes ${paths.join(", ")}; only /etc/ecs/ecs.config expected`);
    return problems;
}

/** The fstab a node ends up with: its write_files entries for /etc/fstab (append) applied to a root-only fstab. */
function fstabFromCloudInit(file: string): { fstab: string; fstabFile: string } {
    const fstabFile = `${file}.fstab`;
    let fstab = "UUID=0000-test / ext4 defaults 0 1\n";
    const doc = YAML.parse(fs.readFileSync(file, "utf8")) as {
        write_files?: { path: string; content: string; append?: boolean }[];
    };
    for (const f of doc.write_files ?? []) {
        if (f.path !== "/etc/fstab") continue;
        fstab = f.append ? fstab + f.content : f.content;
    }
    fs.writeFileSync(fstabFile, fstab);
    return { fstab, fstabFile };
}

/** What mount-share.sh asks before mounting: is there an fstab entry for the mount point? */
function findmnt(fstabFile: string, mountPoint: string): { status: number | null; output: string } {
    const r = spawnSync(
        "findmnt",
        [
            "--fstab",
            "--tab-file",
            fstabFile,
            "--noheadings",
            "--raw",
            "--output",
            "SOURCE,TARGET,FSTYPE,OPTIONS",
            "--mountpoint",
            mountPoint,
        ],
        { encoding: "utf8" },
    );
    return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}

describe("cloud-init schema on the rendered user-data", function () {
    this.timeout(90_000);
    let tmp: { dir: string; cleanup: () => void };

    before(function () {
        this.timeout(300_000); // the first run may apt-get install cloud-init
        ensureCommands({ "cloud-init": "cloud-init" });
        const v = spawnSync("cloud-init", ["--version"], { encoding: "utf8" });
        console.log(`      cloud-init version: ${`${v.stdout}${v.stderr}`.trim()}`);
        knownKeys = knownTopLevelKeys();
        tmp = tempDir("cloud-init");
    });

    after(function () {
        tmp?.cleanup();
    });

    describe("every node of every example stack (offline synth)", function () {
        it("finds the example stacks", function () {
            assert.ok(
                stacks.length >= 2,
                `Pulumi.*.yaml in ${REPO}: ${stacks.map((s) => s.name).join(", ")}`,
            );
            for (const s of stacks)
                assert.match(
                    s.cloud,
                    /^(aws|azure|aks|ecs)$/,
                    `Pulumi.${s.name}.yaml: wso2is-cluster:cloud is "${s.cloud}"`,
                );
        });

        for (const stack of stacks) {
            it(`stack ${stack.name} (${stack.cloud}): synth, then every node's cloud-init.yaml`, async function () {
                const r = synthOnce(stack.name);
                assert.equal(r.status, 0, `synth --stack ${stack.name} exit ${r.status}:\n${r.stderr}`);
                const nodesDir = path.join(r.dir, "nodes");
                if (stack.cloud === "aks") {
                    assert.ok(!fs.existsSync(nodesDir), `aks has no VM nodes, yet synth wrote ${nodesDir}`);
                    return;
                }
                assert.ok(
                    fs.existsSync(nodesDir),
                    `cloud ${stack.cloud} has VM nodes, but synth wrote no ${nodesDir}:\n${r.stdout}${r.stderr}`,
                );
                const nodes = fs.readdirSync(nodesDir).sort();
                assert.ok(nodes.length > 0, `${nodesDir} is empty`);
                const problems: string[] = [];
                for (const node of nodes) {
                    const file = path.join(nodesDir, node, "cloud-init.yaml");
                    if (!fs.existsSync(file)) problems.push(`${stack.name}/${node}: no cloud-init.yaml`);
                    else if (stack.cloud === "ecs")
                        problems.push(...validateEcsInstance(file, `${stack.name}/${node}`));
                    else problems.push(...validate(file, `${stack.name}/${node}`));
                }
                assert.deepEqual(problems, [], problems.join("\n"));
            });
        }
    });

    describe("the renderer directly", function () {
        const cases: [string, () => ClusterModel][] = [
            ["aws (ASG node, NFS/EFS, aws membership)", () => awsModel()],
            ["azure (static-IP nodes, Azure Files NFS, wka)", () => azureModel()],
            ["azure with Azure Files over SMB", smbModel],
            ["aws with caching scenario 3", () => awsModel({ caching: "3" })],
        ];
        for (const [label, model] of cases) {
            it(label, function () {
                const m = model();
                assert.ok(m.nodes.length > 0);
                const problems: string[] = [];
                m.nodes.forEach((node: NodeModel, i: number) => {
                    const text = renderCloudInit(m, node);
                    const file = path.join(tmp.dir, `direct-${label.replace(/\W+/g, "-")}-${i}.yaml`);
                    fs.writeFileSync(file, text);
                    problems.push(...validate(file, `${label} / ${node.name}`));
                });
                assert.deepEqual(problems, [], problems.join("\n"));
            });
        }
    });

    describe("the share's fstab entry (appended by write_files), found by mount-share.sh's findmnt", function () {
        for (const [label, model, type] of [
            ["aws / EFS", awsModel, "nfs4"],
            ["azure / Azure Files NFS", azureModel, "nfs4"],
            ["azure / Azure Files SMB", smbModel, "cifs"],
        ] as const) {
            it(`${label}: one ${type} line that mount-share.sh's findmnt finds, never blocking boot`, function () {
                const m = model();
                const file = path.join(tmp.dir, `mounts-${label.replace(/\W+/g, "-")}.yaml`);
                fs.writeFileSync(file, renderCloudInit(m, m.nodes[0]));
                const { fstab, fstabFile } = fstabFromCloudInit(file);
                const lines = fstab.split("\n").filter((l) => l && !l.startsWith("#"));
                assert.equal(
                    lines[0],
                    "UUID=0000-test / ext4 defaults 0 1",
                    `cloud-init kept the existing entries:\n${fstab}`,
                );
                assert.equal(lines.length, 2, `one entry added:\n${fstab}`);
                const f = findmnt(fstabFile, m.sharedFs.mountPoint);
                assert.equal(
                    f.status,
                    0,
                    `findmnt --fstab --mountpoint ${m.sharedFs.mountPoint}:\n${f.output}\n--- fstab ---\n${fstab}`,
                );
                const [source, target, fstype, options] = f.output.split(" ");
                const share = m.sharedFs;
                assert.ok(share.protocol !== "csi");
                assert.deepEqual([source, target, fstype], [share.source, share.mountPoint, type], fstab);
                for (const o of ["_netdev", "nofail"])
                    assert.ok(options.split(",").includes(o), `${o} in ${options}`);
            });
        }
    });

    describe("the check can fail", function () {
        it("cloud-init schema rejects broken user-data (non-zero exit)", function () {
            const broken: Record<string, string> = {
                "runcmd-not-a-list": "#cloud-config\nruncmd: 5\n",
                "write-files-without-path": "#cloud-config\nwrite_files:\n  - content: x\n",
                "packages-a-map": "#cloud-config\npackages: {a: 1}\n",
            };
            for (const [name, text] of Object.entries(broken)) {
                const file = path.join(tmp.dir, `broken-${name}.yaml`);
                fs.writeFileSync(file, text);
                const r = schema(file);
                console.log(`      ${name}: exit ${r.status}: ${r.output.replace(/\s*\n\s*/g, " | ")}`);
                assert.notEqual(r.status, 0, `cloud-init schema accepted ${name}:\n${r.output}`);
                assert.match(r.output, /schema errors/i, r.output);
            }
        });

        it("rejects our own user-data with one write_files entry missing its path", function () {
            const m = awsModel();
            const doc = YAML.parse(renderCloudInit(m, m.nodes[0])) as { write_files: { path?: string }[] };
            delete doc.write_files[0].path;
            const file = path.join(tmp.dir, "broken-rendered.yaml");
            fs.writeFileSync(file, `#cloud-config\n${YAML.stringify(doc, { lineWidth: 0 })}`);
            const r = schema(file);
            assert.notEqual(r.status, 0, `cloud-init schema accepted it:\n${r.output}`);
            assert.match(r.output, /write_files\.0: 'path' is a required property/, r.output);
        });

        it("the fstab check fails when the mount point does not match node.env's SHARE_MOUNT", function () {
            const m = awsModel();
            const doc = YAML.parse(renderCloudInit(m, m.nodes[0])) as {
                write_files: { path: string; content: string }[];
            };
            const entry = doc.write_files.find((f) => f.path === "/etc/fstab")!;
            entry.content = entry.content.replace(m.sharedFs.mountPoint, "/mnt/elsewhere");
            const file = path.join(tmp.dir, "mounts-elsewhere.yaml");
            fs.writeFileSync(file, `#cloud-config\n${YAML.stringify(doc, { lineWidth: 0 })}`);
            const { fstabFile, fstab } = fstabFromCloudInit(file);
            assert.match(fstab, /\/mnt\/elsewhere/);
            assert.notEqual(findmnt(fstabFile, m.sharedFs.mountPoint).status, 0, fstab);
        });

        it("the extra checks catch what cloud-init schema lets through: a misspelled key, a secret, a changed script", function () {
            const m = awsModel();
            const good = renderCloudInit(m, m.nodes[0]);
            assert.deepEqual(contentProblems(good, "good"), []);

            const typo = good.replace(/^write_files:/m, "write_file:");
            const file = path.join(tmp.dir, "typo.yaml");
            fs.writeFileSync(file, typo);
            const r = schema(file);
            console.log(
                `      cloud-init schema on a misspelled top-level key (write_file): exit ${r.status}: ${r.output}`,
            );
            assert.ok(
                contentProblems(typo, "typo").some((p) =>
                    /"write_file" is not in cloud-init's schema/.test(p),
                ),
            );

            const doc = YAML.parse(good) as { write_files: { path: string; content: string }[] };
            doc.write_files.find((f) => f.path === "/etc/wso2is/node.env")!.content +=
                "WSO2_DB_PASSWORD=mock-secret-0123456789abcdef\n";
            const script = doc.write_files.find((f) => f.path.endsWith("/db-init.sh"))!;
            script.content = script.content.replace("set -", "set -x\nset -");
            const problems = contentProblems(
                `#cloud-config\n${YAML.stringify(doc, { lineWidth: 0 })}`,
                "tampered",
            );
            assert.ok(
                problems.some((p) => /node\.env contains "mock-secret-"/.test(p)),
                problems.join("\n"),
            );
            assert.ok(
                problems.some((p) => /db-init\.sh differs from/.test(p)),
                problems.join("\n"),
            );
        });
    });
});
