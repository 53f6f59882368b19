// cloud-init user-data, node.env and the systemd unit: structure, order, and no secrets.
import * as assert from "assert";
import * as TOML from "@iarna/toml";
import * as YAML from "yaml";
import { ClusterModel } from "../../components/model";
import {
    nodeScripts,
    renderBootstrapUnit,
    renderCloudInit,
    renderDeploymentToml,
    renderFirstStartHoldUnit,
    renderNodeEnv,
    renderSystemdUnit,
    scriptText,
} from "../../components/render";
import * as fs from "fs";
import * as path from "path";
import * as crypto from "crypto";
import * as zlib from "zlib";
import * as pako from "pako";
import {
    bootstrapBudgetSeconds,
    dbWaitSeconds,
    secretFetchPollSeconds,
    secretFetchSeconds,
} from "../../components/model/boot";
import {
    NodeScript,
    fetcherScripts,
    gzipHeader,
    gzipStable,
    renderScriptManifest,
    scriptSha256,
    scriptSource,
    scriptSourceDir,
} from "../../components/render";
import { awsModel, azureModel } from "../fixtures/models";

function doc(model: ClusterModel, index = 0) {
    const text = renderCloudInit(model, model.nodes[index]);
    return { text, doc: YAML.parse(text) as Record<string, any> };
}

function file(d: Record<string, any>, path: string): { content: string; permissions: string; owner: string } {
    const f = (d.write_files as { path: string }[]).find((x) => x.path === path);
    assert.ok(f, `write_files has ${path}`);
    return f as any;
}

describe("render/cloudInit", function () {
    it("is #cloud-config YAML with no package module: node.env lists the packages bootstrap.sh installs", function () {
        const model = awsModel();
        const { text, doc: d } = doc(model);
        assert.ok(text.startsWith("#cloud-config\n"));
        // cloud-init's package modules never retry; the bootstrap unit does (docs/vm-nodes.md).
        assert.strictEqual(d.packages, undefined);
        assert.strictEqual(d.package_update, undefined);
        const packages = /^NODE_PACKAGES='([^']*)'$/m.exec(renderNodeEnv(model, model.nodes[0]))?.[1];
        assert.ok(packages, "node.env has NODE_PACKAGES");
        const list = packages.split(" ");
        for (const p of [
            "openjdk-21-jre-headless",
            "nfs-common",
            "mysql-client",
            "jq",
            "curl",
            "unzip",
            "nftables",
        ])
            assert.ok(list.includes(p), p);
        assert.ok(!list.includes("cifs-utils"));
        // No AWS CLI snap (cloud-init's snap module never retries): aws-api.sh signs with curl.
        assert.strictEqual(d.snap, undefined);
    });

    it("writes deployment.toml, node.env (0644), the three units and every node script (0755) verbatim", function () {
        const model = awsModel();
        const { doc: d } = doc(model);
        assert.strictEqual(
            file(d, "/etc/wso2is/deployment.toml").content,
            renderDeploymentToml(model, model.nodes[0]),
        );
        assert.strictEqual(file(d, "/etc/wso2is/deployment.toml").permissions, "0640");
        assert.strictEqual(file(d, "/etc/wso2is/node.env").content, renderNodeEnv(model, model.nodes[0]));
        assert.strictEqual(file(d, "/etc/systemd/system/wso2is.service").content, renderSystemdUnit(model));
        assert.strictEqual(
            file(d, "/etc/systemd/system/wso2is-bootstrap.service").content,
            renderBootstrapUnit(model),
        );
        assert.strictEqual(
            file(d, "/etc/systemd/system/wso2is-first-start-hold.service").content,
            renderFirstStartHoldUnit(model),
        );
        for (const s of nodeScripts) {
            const f = file(d, `/usr/local/lib/wso2is/${s}`);
            assert.strictEqual(f.content, scriptText(s));
            assert.strictEqual(f.permissions, "0755");
            assert.match(f.content, /^#!\/usr\/bin\/env bash\n/);
            assert.match(f.content, /^set -E?euo pipefail$/m);
        }
        assert.ok(nodeScripts.includes("lib.sh") && nodeScripts.includes("bootstrap.sh"));
        TOML.parse(file(d, "/etc/wso2is/deployment.toml").content);
    });

    it("runcmd only enables the units and starts IS without blocking: no boot logic, no set -e chain", function () {
        const runcmd = doc(awsModel()).doc.runcmd as string[][];
        assert.deepStrictEqual(runcmd, [
            ["systemctl", "daemon-reload"],
            ["systemctl", "enable", "wso2is-bootstrap.service", "wso2is.service"],
            ["systemctl", "start", "--no-block", "wso2is.service"],
        ]);
    });

    it("mounts the share over NFS 4.1 with an fstab entry that never blocks boot", function () {
        const d = doc(awsModel()).doc;
        assert.strictEqual(
            d.mounts,
            undefined,
            "no cloud-init mounts module: it would mount before the NFS client exists",
        );
        const fstab = file(d, "/etc/fstab") as { content: string; append?: boolean };
        assert.strictEqual(fstab.append, true);
        const lines = fstab.content.trimEnd().split("\n");
        assert.strictEqual(lines.length, 1);
        const [source, point, type, options] = lines[0].split(" ");
        assert.deepStrictEqual(
            [source, point, type],
            ["fs-0123456789abcdef0.efs.eu-west-1.amazonaws.com:/", "/mnt/wso2is-share", "nfs4"],
        );
        assert.match(options, /nfsvers=4\.1/);
        assert.match(options, /_netdev/);
        assert.match(options, /nofail/);
    });

    it("mounts SMB with a credentials file (filled at boot), never a password in user-data", function () {
        const base = azureModel();
        const model: ClusterModel = {
            ...base,
            sharedFs: {
                protocol: "smb",
                source: "//acct.file.core.windows.net/is-share",
                options: "vers=3.1.1,_netdev,nofail",
                credentialsFile: "/etc/wso2is/smb-credentials",
                mountPoint: "/mnt/wso2is-share",
            },
        };
        const { text, doc: d } = doc(model);
        const [source, , type, options] = file(d, "/etc/fstab").content.trim().split(" ");
        assert.deepStrictEqual([source, type], ["//acct.file.core.windows.net/is-share", "cifs"]);
        assert.match(options, /credentials=\/etc\/wso2is\/smb-credentials/);
        assert.doesNotMatch(options, /password=/);
        assert.match(renderNodeEnv(model, model.nodes[0]), /^NODE_PACKAGES='[^']*\bcifs-utils\b[^']*'$/m);
        // Only the boot scripts (code that writes the credentials file at boot) may say password=.
        const rendered = (d.write_files as { path: string; content: string }[]).filter(
            (f) => !f.path.endsWith(".sh"),
        );
        assert.ok(rendered.some((f) => f.path === "/etc/fstab"));
        for (const f of rendered) assert.doesNotMatch(f.content, /password=/i, f.path);
        assert.doesNotMatch(text.replace(/^ {6}.*$/gm, ""), /password=/i);
    });

    it("node.env: the contract's variables, quoted, with no secret; static nodes get their IP", function () {
        const env = renderNodeEnv(azureModel(), azureModel().nodes[1]);
        const vars = Object.fromEntries(
            env
                .split("\n")
                .filter((l) => l && !l.startsWith("#"))
                .map((l) => {
                    const m = /^([A-Z_0-9]+)='([^']*)'$/.exec(l);
                    assert.ok(m, `line ${l}`);
                    return [m[1], m[2]];
                }),
        );
        assert.strictEqual(vars.NODE_IP_SOURCE, "static");
        assert.strictEqual(vars.NODE_IP, "10.41.1.5");
        assert.strictEqual(
            vars.DB_INIT_PLAN,
            "WSO2IS_IDENTITY_DB:dbscripts/identity/mysql.sql,dbscripts/consent/mysql.sql WSO2IS_SHARED_DB:dbscripts/mysql.sql",
        );
        assert.strictEqual(vars.SECRET_SOURCE, "azure-key-vault");
        assert.strictEqual(vars.DB_TLS, "required");
        assert.strictEqual(vars.LB_HOSTNAME, "is.example.com");
        assert.ok(
            !Object.keys(vars).some((k) => /PASSWORD|SECRET_VALUE|KEY$/.test(k)),
            Object.keys(vars).join(","),
        );
        const aws = renderNodeEnv(awsModel(), awsModel().nodes[0]);
        assert.match(aws, /^AWS_REGION='eu-west-1'$/m);
        assert.doesNotMatch(aws, /^NODE_IP=/m);
    });

    it("differs per node only where the node differs (WKA)", function () {
        const model = azureModel();
        const a = renderCloudInit(model, model.nodes[0]).split("\n");
        const b = renderCloudInit(model, model.nodes[1]).split("\n");
        const changed = a.filter((line, i) => line !== b[i]);
        assert.ok(
            changed.length > 0 && changed.length <= 6,
            `${changed.length} lines differ: ${changed.join(" | ")}`,
        );
        assert.ok(
            changed.every((l) => /node-1|10\.41\.1\.4/.test(l)),
            changed.join(" | "),
        );
    });
});

/** The values of key `k` in a unit, in order. */
function values(unit: string, k: string): string[] {
    return unit
        .split("\n")
        .filter((l) => l.startsWith(`${k}=`))
        .map((l) => l.slice(k.length + 1));
}

describe("render/systemdUnit", function () {
    it("wso2is.service: own user, requires the bootstrap, refreshes its inputs before every start, in order", function () {
        const unit = renderSystemdUnit(awsModel());
        const line = (k: string) => values(unit, k);
        assert.deepStrictEqual(line("User"), ["wso2is"]);
        assert.deepStrictEqual(line("Requires"), ["wso2is-bootstrap.service"]);
        assert.match(line("After")[0], /^wso2is-bootstrap\.service /);
        assert.match(line("Wants")[0], /\bwso2is-first-start-hold\.service\b/);
        // always: wso2server.sh exits 0 even when the JVM crashed.
        assert.deepStrictEqual(line("Restart"), ["always"]);
        // A crash-looping IS is retried without end, at most every 300 s (no start limit).
        assert.deepStrictEqual(line("StartLimitIntervalSec"), ["0"]);
        assert.deepStrictEqual(line("RestartMaxDelaySec"), ["300"]);
        assert.deepStrictEqual(line("TimeoutStopSec"), ["120"]);
        // The secret fetch (up to 600 s) and the gate's wait (1800 s) fit in the start timeout.
        assert.deepStrictEqual(line("TimeoutStartSec"), ["2700"]);
        assert.deepStrictEqual(line("RequiresMountsFor"), ["/mnt/wso2is-share"]);
        assert.deepStrictEqual(line("EnvironmentFile"), [
            "/etc/wso2is/runtime.env",
            "/etc/wso2is/secrets.env",
            "/etc/wso2is/jvm.env",
        ]);
        assert.deepStrictEqual(line("ExecStartPre"), [
            "+/usr/local/lib/wso2is/node-ip.sh",
            "+/usr/local/lib/wso2is/redirect-443.sh",
            "+/usr/bin/env SECRET_FETCH_KEEP_CURRENT=1 /usr/local/lib/wso2is/fetch-secrets.sh",
            "+/usr/local/lib/wso2is/jvm-heap.sh",
            "+/usr/local/lib/wso2is/first-start-gate.sh enter",
        ]);
        assert.deepStrictEqual(line("ExecStart"), ["/opt/wso2is/wso2is-7.1.0/bin/wso2server.sh"]);
        assert.deepStrictEqual(line("WantedBy"), ["multi-user.target"]);
        // No heap in the unit itself: jvm.env (jvm-heap.sh) is the one place.
        assert.doesNotMatch(unit, /JVM_MEM_OPTS|-Xmx/);
    });

    it("wso2is-bootstrap.service: oneshot, restarted on failure with a growing delay within the boot budget", function () {
        const unit = renderBootstrapUnit(awsModel());
        const line = (k: string) => values(unit, k);
        assert.deepStrictEqual(line("Type"), ["oneshot"]);
        assert.deepStrictEqual(line("RemainAfterExit"), ["yes"]);
        assert.deepStrictEqual(line("ExecStart"), ["/usr/local/lib/wso2is/bootstrap.sh"]);
        assert.deepStrictEqual(line("ExecStartPre"), [], "inline delivery: no fetch");
        assert.deepStrictEqual(line("Restart"), ["on-failure"]);
        assert.deepStrictEqual(line("RestartSec"), ["15"]);
        assert.deepStrictEqual(line("RestartSteps"), ["8"]);
        assert.deepStrictEqual(line("RestartMaxDelaySec"), ["300"]);
        // Retried until it succeeds; no overall timeout (a kill inside db-init's scripts would
        // leave a half-made schema): every step bounds its own waits.
        assert.deepStrictEqual(line("StartLimitIntervalSec"), ["0"]);
        assert.deepStrictEqual(line("StartLimitBurst"), []);
        assert.deepStrictEqual(line("TimeoutStartSec"), ["infinity"]);
        assert.deepStrictEqual(line("UMask"), ["0027"]);
        assert.deepStrictEqual(line("ExecStartPost"), ["/usr/bin/systemctl --no-block start wso2is.service"]);
        assert.deepStrictEqual(line("ExecStopPost"), ["/usr/bin/rm -f /run/wso2is/db-admin.env"]);
        assert.deepStrictEqual(line("WantedBy"), ["multi-user.target"]);
    });

    it("restart delays: no wait longer than RestartMaxDelaySec, so a failing node is retried 10+ times within its budget", function () {
        // systemd grows each delay from RestartSec towards RestartMaxDelaySec (never past it), so
        // budget / RestartMaxDelaySec restarts fit however the steps grow.
        const max = Number(values(renderBootstrapUnit(awsModel()), "RestartMaxDelaySec")[0]);
        assert.strictEqual(max, 300);
        assert.ok(Math.floor(bootstrapBudgetSeconds / max) >= 10, `${bootstrapBudgetSeconds} s / ${max} s`);
    });

    it("wso2is-first-start-hold.service: runs `hold` bound to IS", function () {
        const unit = renderFirstStartHoldUnit(awsModel());
        assert.deepStrictEqual(values(unit, "BindsTo"), ["wso2is.service"]);
        assert.deepStrictEqual(values(unit, "After"), ["wso2is.service"]);
        assert.deepStrictEqual(values(unit, "ExecStart"), ["/usr/local/lib/wso2is/first-start-gate.sh hold"]);
        assert.deepStrictEqual(values(unit, "SuccessExitStatus"), ["143"]);
        assert.deepStrictEqual(values(unit, "Install"), []);
    });
});

describe("render: secret version and script delivery", function () {
    it("node.env carries SECRET_VERSION when the target knows it (a rotation changes the node's files)", function () {
        const base = azureModel();
        assert.doesNotMatch(renderNodeEnv(base, base.nodes[0]), /SECRET_VERSION/);
        const rotated = (version: string): ClusterModel => ({
            ...base,
            secrets: { source: "azure-key-vault", id: "https://v.vault.azure.net/secrets/cluster", version },
        });
        const a = renderCloudInit(rotated("0f1e2d"), base.nodes[0]);
        const b = renderCloudInit(rotated("9a8b7c"), base.nodes[0]);
        assert.match(a, /SECRET_VERSION='0f1e2d'/);
        assert.notStrictEqual(a, b);
    });

    it("node.env: the DB wait comes from model/boot.ts, and the units' parameters are there", function () {
        const env = renderNodeEnv(awsModel(), awsModel().nodes[0]);
        assert.match(env, new RegExp(`^DB_INIT_RETRIES='${dbWaitSeconds / 10}'$`, "m"));
        assert.match(env, /^DB_INIT_RETRY_DELAY='10'$/m);
        assert.match(env, /^IS_HTTPS_PORT='9443'$/m);
        assert.match(env, /^JVM_HEAP_PERCENT='60'$/m);
        assert.match(env, /^FIRST_START_WAIT='1800'$/m);
    });

    it("node.env: Key Vault's wait comes from model/boot.ts; Secrets Manager gets none (aws-api.sh's retries)", function () {
        const env = renderNodeEnv(azureModel(), azureModel().nodes[0]);
        assert.match(env, /^SECRET_FETCH_RETRIES='60'$/m);
        assert.match(env, /^SECRET_FETCH_RETRY_DELAY='10'$/m);
        assert.strictEqual(60 * secretFetchPollSeconds, secretFetchSeconds);
        assert.doesNotMatch(renderNodeEnv(awsModel(), awsModel().nodes[0]), /SECRET_FETCH_/);
    });

    it("node.env: every budget it renders is a knob lib.sh lets the environment override, and no other", function () {
        const knobs = /^ENV_TUNING_KNOBS=\(([^)]*)\)$/m
            .exec(scriptSource("lib.sh"))?.[1]
            .split(/\s+/)
            .filter(Boolean);
        assert.ok(knobs && knobs.length > 0, "lib.sh has ENV_TUNING_KNOBS=(...)");
        const budgets = new Set(
            [awsModel(), azureModel()].flatMap((m) =>
                renderNodeEnv(m, m.nodes[0])
                    .split("\n")
                    .map((l) => l.split("=")[0])
                    .filter((k) => /_(RETRIES|RETRY_DELAY|WAIT|TIMEOUT)$/.test(k)),
            ),
        );
        assert.deepStrictEqual([...budgets].sort(), [...knobs].sort());
    });

    it("s3 delivery: the user-data carries only the fetcher scripts and the digests of the rest", function () {
        const model: ClusterModel = {
            ...awsModel(),
            scriptDelivery: { kind: "s3", bucket: "b", region: "eu-west-1", prefix: "scripts" },
        };
        const unit = renderBootstrapUnit(model);
        // The fetch comes first: bootstrap.sh itself arrives with it.
        assert.deepStrictEqual(values(unit, "ExecStartPre"), ["/usr/local/lib/wso2is/fetch-scripts.sh"]);
        const manifest = renderScriptManifest();
        const lines = manifest.trimEnd().split("\n");
        assert.deepStrictEqual(
            lines.map((l) => l.split("  ")[1]),
            nodeScripts.filter((n) => !(fetcherScripts as readonly string[]).includes(n)),
        );
        for (const l of lines) {
            const [sha, name] = l.split("  ");
            assert.strictEqual(sha, scriptSha256(name as NodeScript), name);
            assert.match(sha, /^[0-9a-f]{64}$/);
        }
        const missing = fetcherScripts.filter((n) => !fs.existsSync(path.join(scriptSourceDir, n)));
        if (missing.length > 0) {
            // aws-api.sh and fetch-scripts.sh come with the AWS change (branch i14-aws): until
            // then rendering says which file is missing.
            assert.throws(
                () => doc(model),
                new RegExp(`node script ${missing[0].replace(".", "\\.")} is missing`),
            );
            return;
        }
        const d = doc(model).doc;
        const paths = (d.write_files as { path: string }[]).map((f) => f.path);
        for (const n of fetcherScripts) assert.ok(paths.includes(`/usr/local/lib/wso2is/${n}`), n);
        for (const n of nodeScripts.filter((x) => x !== "lib.sh"))
            assert.ok(!paths.includes(`/usr/local/lib/wso2is/${n}`), `${n} must not be inline`);
        assert.strictEqual(file(d, "/etc/wso2is/scripts.sha256").content, manifest);
    });
});

/**
 * A fixed input that never changes with the renderer: 290 KB of words drawn by a seeded LCG
 * (past the 32 KB window and over many deflate blocks), some of them multi-byte UTF-8.
 */
function fixedGzipInput(): string {
    const words = [
        "wso2is",
        "node",
        "cloud-init",
        "write_files",
        "deployment.toml",
        "Grüße",
        "€",
        "\t",
        "0644",
    ];
    let x = 20240613;
    const lines: string[] = [];
    for (let i = 0; i < 6000; i++) {
        const line: string[] = [];
        for (let j = 0; j < 5; j++) {
            x = (Math.imul(x, 1103515245) + 12345) >>> 0;
            line.push(words[x % words.length] + String((x >>> 8) % 97));
        }
        lines.push(line.join(" "));
    }
    return lines.join("\n") + "\n";
}

// The input's digest, and its gzip's: the same bytes CPython's zlib.compressobj(9, DEFLATED, 31)
// gives on the system's libz 1.2.13 (canonical zlib; test/integration/gzip.test.ts compares the
// user-data the same way).
const FIXED_INPUT_SHA256 = "310b6749ea928ad7b9fa4e88acfb1f1c707a8654ef9ac0595cc2e469d0edee76";
const FIXED_GZIP_LENGTH = 66050;
const FIXED_GZIP_SHA256 = "e9d9b50f53f094155141ce5bb827677eeb230ceb1c0162fb8cf53709292f21af";

describe("render/gzip", function () {
    it("gzipStable: the exact 10-byte header, and what it packs unpacks to the input", function () {
        const text = renderCloudInit(azureModel(), azureModel().nodes[0]);
        const packed = gzipStable(text);
        assert.deepStrictEqual(
            [...packed.subarray(0, 10)],
            [0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03],
        );
        assert.deepStrictEqual([...packed.subarray(0, 10)], [...gzipHeader]);
        assert.strictEqual(zlib.gunzipSync(packed).toString("utf8"), text);
        assert.deepStrictEqual(gzipStable(text), packed);
    });

    it("gzipStable: the bytes of a fixed input are pinned (a pako upgrade that changes them rolls every node)", function () {
        // If this fails after a dependency update, the new bytes would change every node's
        // user-data / customData and the ECS task definition: hold the old pako or take the
        // roll on purpose (release note), then update the digest.
        const text = fixedGzipInput();
        assert.strictEqual(
            crypto.createHash("sha256").update(text, "utf8").digest("hex"),
            FIXED_INPUT_SHA256,
        );
        const packed = gzipStable(text);
        assert.strictEqual(zlib.gunzipSync(packed).toString("utf8"), text);
        assert.strictEqual(packed.length, FIXED_GZIP_LENGTH);
        assert.strictEqual(crypto.createHash("sha256").update(packed).digest("hex"), FIXED_GZIP_SHA256);
    });

    it("gzipStable: legacyHash is honoured (pako's default hash gives other bytes for the same input)", function () {
        const text = fixedGzipInput();
        const chromiumHash = Buffer.from(pako.gzip(Buffer.from(text, "utf8"), { level: 9 }));
        assert.notDeepStrictEqual(chromiumHash, gzipStable(text));
        assert.strictEqual(zlib.gunzipSync(chromiumHash).toString("utf8"), text);
    });
});
