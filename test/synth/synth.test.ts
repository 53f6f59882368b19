// `npm run synth`, end to end. The CLI runs as a child process (it installs its own mocks;
// in-process it would collide with test/setup.ts's shared mock engine). Every example stack
// (Pulumi.*.yaml in the repo root) is synthesized, so a new stack is covered automatically.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import type { ClusterModel } from "../../components/model";
import * as TOML from "@iarna/toml";
import {
    renderCloudInit,
    renderDbInitEnv,
    renderDeploymentToml,
    renderEcsInstanceCloudInit,
    standaloneScriptText,
} from "../../components/render";
import { stopTimeoutSeconds } from "../../components/ecs/containers";
import * as zlib from "zlib";
import { decodeUserData } from "../../policy/userData";
import { buildArtifacts, kubernetesKind, nodeArtifacts, userDataWarnings } from "../../synth/artifacts";
import type { RecordedResource } from "../../synth/mocks";
import { Scrubber, canonicalJson, isSecretKey, redactInputs } from "../../synth/redact";
import { StackFileError, loadStackConfig } from "../../synth/stackConfig";
import { exampleStacks, synthOnce } from "../fixtures/stacks";
import { goldenRoot, isGolden } from "../../tools/update-golden";

const repo = path.resolve(__dirname, "..", "..");
const cli = path.join(repo, "synth", "cli.ts");
const tsNode = require.resolve("ts-node/register/transpile-only");

interface Run {
    status: number | null;
    stdout: string;
    stderr: string;
}

/** Runs the synth CLI in a child process from the repo root. */
function synth(args: string[]): Run {
    const r = spawnSync(process.execPath, ["-r", tsNode, cli, ...args], {
        cwd: repo,
        env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" },
        encoding: "utf8",
        timeout: 120_000,
    });
    if (r.error) throw r.error;
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function tmpDir(label: string): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), `synth-test-${label}-`));
}

/** Every file below dir, relative, sorted. */
function tree(dir: string): string[] {
    const out: string[] = [];
    const walk = (d: string) => {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
            const full = path.join(d, e.name);
            if (e.isDirectory()) walk(full);
            else out.push(path.relative(dir, full).split(path.sep).join("/"));
        }
    };
    if (fs.existsSync(dir)) walk(dir);
    return out.sort();
}

const stackNames = exampleStacks().map((s) => s.name);

function cloudOf(stack: string): string {
    const doc = YAML.parse(fs.readFileSync(path.join(repo, `Pulumi.${stack}.yaml`), "utf8"));
    return String(doc?.config?.["wso2is-cluster:cloud"] ?? "");
}

/** A temp project: the repo's Pulumi.yaml plus the given stack files. */
function tempProject(stacks: Record<string, string>): string {
    const dir = tmpDir("project");
    fs.copyFileSync(path.join(repo, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    for (const [name, text] of Object.entries(stacks))
        fs.writeFileSync(path.join(dir, `Pulumi.${name}.yaml`), text);
    return dir;
}

describe("synth (npm run synth)", function () {
    this.timeout(300_000);
    before(function () {
        assert.ok(stackNames.includes("dev"), "the repo has a dev stack");
    });

    for (const stack of stackNames) {
        describe(`stack ${stack}`, function () {
            const dir = () => synthOnce(stack).dir;

            it("exits 0 and prints the summary", function () {
                const r = synthOnce(stack);
                assert.equal(r.status, 0, `synth --stack ${stack} failed:\n${r.stderr}`);
                assert.match(r.stdout, new RegExp(`synth wso2is-cluster/${stack}`));
                assert.match(r.stdout, /target {7}\S+/);
                assert.match(r.stdout, /membership {3}\S+/);
                assert.match(r.stdout, /resources {4}\d+/);
                assert.match(r.stdout, /url {18}https:\/\//);
                assert.match(r.stdout, /done in \d+\.\d s/);
            });

            it("writes the resource tree, model, outputs and topology", function () {
                const files = tree(dir());
                for (const f of ["resources.json", "outputs.json", "model.json", "topology.dot"])
                    assert.ok(files.includes(f), `${f} missing: ${files.join(", ")}`);
                const resources = JSON.parse(fs.readFileSync(path.join(dir(), "resources.json"), "utf8"));
                assert.ok(Array.isArray(resources) && resources.length > 5);
                const sorted = [...resources].sort((a, b) =>
                    a.type < b.type
                        ? -1
                        : a.type > b.type
                          ? 1
                          : a.name < b.name
                            ? -1
                            : a.name > b.name
                              ? 1
                              : 0,
                );
                assert.deepEqual(
                    resources.map((r: any) => `${r.type}::${r.name}`),
                    sorted.map((r: any) => `${r.type}::${r.name}`),
                    "sorted by type, then name",
                );
                for (const r of resources)
                    assert.deepEqual(Object.keys(r).sort(), ["custom", "inputs", "name", "parent", "type"]);
                // Every child names its component parent; components sit at the stack root.
                const components = resources.filter((r: any) => !r.custom);
                assert.ok(components.length >= 1);
                for (const r of resources.filter(
                    (x: any) => x.custom && x.type !== "pulumi:pulumi:StackReference",
                )) {
                    assert.ok(
                        components.some((c: any) => r.parent === `${c.type}::${c.name}`),
                        `${r.type}::${r.name} has parent ${JSON.stringify(r.parent)}`,
                    );
                }
                const outputs = JSON.parse(fs.readFileSync(path.join(dir(), "outputs.json"), "utf8"));
                assert.match(outputs.url, /^https:\/\//);
                const dot = fs.readFileSync(path.join(dir(), "topology.dot"), "utf8");
                assert.match(dot, /^digraph /);
                assert.match(dot, /clients -> lb \[label="HTTPS :443"/);
                assert.match(dot, /lb -> nodes \[label="HTTPS :9443"/);
                assert.match(dot, /nodes -> database \[label="MySQL :3306/);
            });

            it("writes JSON with sorted keys, 2-space indent and a trailing newline", function () {
                for (const f of tree(dir()).filter((x) => x.endsWith(".json"))) {
                    const text = fs.readFileSync(path.join(dir(), f), "utf8");
                    assert.equal(text, canonicalJson(JSON.parse(text)), `${f} is not canonical JSON`);
                }
            });

            it("writes per-node files (VM targets), Kubernetes manifests (aks) or the task definition (ecs)", function () {
                const files = tree(dir());
                if (cloudOf(stack) === "ecs") {
                    // The container instances' user data (the ECS agent's settings) and the task.
                    const nodes = files.filter((f) => /^nodes\/[^/]+\/ecs\.config$/.test(f));
                    assert.equal(nodes.length, 1, `one launch template's ecs.config: ${files.join(", ")}`);
                    for (const f of [
                        "task-definition.json",
                        "config/deployment.toml",
                        "config/db-init.sh",
                        "config/db-init.env",
                    ])
                        assert.ok(
                            files.some((x) => x.startsWith("ecs/") && x.endsWith(`/${f}`)),
                            `ecs/<family>/${f} missing`,
                        );
                    assert.ok(files.includes("lb/alb.json"), "lb/alb.json for the ALB");
                    return;
                }
                if (cloudOf(stack) === "aks") {
                    assert.ok(
                        files.some((f) => f.startsWith("k8s/") && f.endsWith(".yaml")),
                        `no k8s/ manifests: ${files.join(", ")}`,
                    );
                    return;
                }
                const nodes = [
                    ...new Set(files.filter((f) => f.startsWith("nodes/")).map((f) => f.split("/")[1])),
                ];
                assert.ok(nodes.length >= 1, "at least one node directory");
                for (const n of nodes) {
                    for (const f of ["cloud-init.yaml", "deployment.toml", "node.env", "wso2is.service"]) {
                        assert.ok(files.includes(`nodes/${n}/${f}`), `nodes/${n}/${f} missing`);
                    }
                }
                if (cloudOf(stack) === "aws")
                    assert.ok(files.includes("lb/alb.json"), "lb/alb.json for the ALB");
            });

            it("the node files (the ConfigMap on aks) are exactly what the renderers give for model.json", function () {
                const model: ClusterModel = JSON.parse(
                    fs.readFileSync(path.join(dir(), "model.json"), "utf8"),
                );
                if (cloudOf(stack) === "ecs") {
                    // The task's config container writes exactly the rendered files.
                    const [family] = fs.readdirSync(path.join(dir(), "ecs"));
                    const read = (f: string) => fs.readFileSync(path.join(dir(), "ecs", family, f), "utf8");
                    assert.equal(read("config/deployment.toml"), renderDeploymentToml(model, model.nodes[0]));
                    assert.equal(read("config/db-init.sh"), standaloneScriptText("db-init.sh"));
                    assert.equal(read("config/db-init.env"), renderDbInitEnv(model, "/boot/is"));
                    const toml = TOML.parse(read("config/deployment.toml")) as any;
                    assert.equal(toml.clustering.membership_scheme, "aws-ecs");
                    assert.match(toml.clustering.properties.networkInterface, /^\d+\.\d+\.\*\.\*$/);
                    const outputs = JSON.parse(fs.readFileSync(path.join(dir(), "outputs.json"), "utf8"));
                    const [node] = fs.readdirSync(path.join(dir(), "nodes"));
                    assert.equal(
                        fs.readFileSync(path.join(dir(), "nodes", node, "cloud-init.yaml"), "utf8"),
                        renderEcsInstanceCloudInit({
                            clusterName: outputs.ecsClusterName,
                            stopTimeoutSeconds,
                        }),
                    );
                    // Secrets only by reference: every container's secrets are valueFrom ARNs.
                    const task = JSON.parse(read("task-definition.json"));
                    for (const c of task.containerDefinitions) {
                        for (const e of c.environment ?? [])
                            assert.doesNotMatch(
                                e.name,
                                /PASSWORD|SECRET|TOKEN|PRIVATE/i,
                                `${c.name}: ${e.name}`,
                            );
                        for (const x of c.secrets ?? [])
                            assert.match(
                                x.valueFrom,
                                /^arn:aws:secretsmanager:[^:]+:\d{12}:secret:.+:[A-Za-z]+::$/,
                            );
                    }
                    return;
                }
                if (cloudOf(stack) === "aks") {
                    // Pods get their deployment.toml from the ConfigMap, not from cloud-init.
                    const cm = YAML.parse(
                        fs.readFileSync(
                            path.join(dir(), "k8s", "core-v1-ConfigMap-wso2is-config.yaml"),
                            "utf8",
                        ),
                    );
                    assert.equal(cm.data["deployment.toml"], renderDeploymentToml(model, model.nodes[0]));
                    return;
                }
                const dirs = fs.readdirSync(path.join(dir(), "nodes")).sort();
                assert.ok(dirs.length >= 1);
                for (const name of dirs) {
                    const node = model.nodes.find((n) => n.name === name);
                    assert.ok(
                        node,
                        `nodes/${name} is not a node of the model (${model.nodes.map((n) => n.name).join(", ")})`,
                    );
                    const read = (f: string) => fs.readFileSync(path.join(dir(), "nodes", name, f), "utf8");
                    assert.equal(
                        read("deployment.toml"),
                        renderDeploymentToml(model, node),
                        `nodes/${name}/deployment.toml`,
                    );
                    assert.equal(
                        read("cloud-init.yaml"),
                        renderCloudInit(model, node),
                        `nodes/${name}/cloud-init.yaml`,
                    );
                }
            });

            it("no generated secret reaches any file", function () {
                for (const f of tree(dir())) {
                    const text = fs.readFileSync(path.join(dir(), f), "utf8");
                    assert.ok(!text.includes("mock-secret-"), `${f} holds a generated secret`);
                    assert.ok(!text.includes("[secret:"), `${f} holds a secret placeholder`);
                }
            });
        });
    }

    for (const stack of stackNames) {
        it(`stack ${stack}: output equals test/golden/${stack} (npm run golden:update, then review the diff)`, function () {
            const run = synthOnce(stack);
            assert.equal(run.status, 0, run.stderr);
            const golden = path.join(goldenRoot, stack);
            const actual = tree(run.dir).filter(isGolden);
            assert.deepEqual(actual, tree(golden), "the files synth writes");
            const differing = actual.filter(
                (f) => !fs.readFileSync(path.join(run.dir, f)).equals(fs.readFileSync(path.join(golden, f))),
            );
            assert.deepEqual(differing, [], "files that differ from their golden copy");
        });
    }

    it("two runs of the dev stack give byte-identical trees", function () {
        const second = tmpDir("again");
        try {
            const r = synth(["--stack", "dev", "--out", second]);
            assert.equal(r.status, 0, r.stderr);
            const a = tree(synthOnce("dev").dir);
            const b = tree(path.join(second, "dev"));
            assert.deepEqual(b, a);
            for (const f of a) {
                assert.ok(
                    fs
                        .readFileSync(path.join(synthOnce("dev").dir, f))
                        .equals(fs.readFileSync(path.join(second, "dev", f))),
                    `${f} differs between runs`,
                );
            }
            // No absolute temp path or stray temp dirs.
            for (const f of a)
                assert.ok(
                    !fs.readFileSync(path.join(second, "dev", f), "utf8").includes(second),
                    `${f} mentions the output path`,
                );
            assert.deepEqual(fs.readdirSync(second), ["dev"]);
        } finally {
            fs.rmSync(second, { recursive: true, force: true });
        }
    });

    it("bad config: exit 1, the clear message only, nothing written", function () {
        const dev = fs.readFileSync(path.join(repo, "Pulumi.dev.yaml"), "utf8");
        const bad = dev.replace(/wso2is-cluster:nodes: \d+/, "wso2is-cluster:nodes: 1");
        assert.notEqual(bad, dev, "Pulumi.dev.yaml sets wso2is-cluster:nodes");
        const project = tempProject({ bad });
        const target = path.join(project, "out");
        // An earlier good synth of the stack must survive a failed one.
        fs.mkdirSync(path.join(target, "bad"), { recursive: true });
        fs.writeFileSync(path.join(target, "bad", "earlier.txt"), "kept\n");
        try {
            const r = synth(["--stack", "bad", "--project-dir", project]);
            assert.equal(r.status, 1, `expected exit 1, got ${r.status}\n${r.stderr}`);
            assert.match(r.stderr, /wso2is-cluster:nodes = "1"/);
            assert.match(r.stderr, /at least 2/);
            assert.doesNotMatch(r.stderr, /^\s+at .+:\d+:\d+\)?$/m, "no stack trace");
            assert.equal(r.stdout, "");
            assert.deepEqual(tree(target), ["bad/earlier.txt"]);
            assert.deepEqual(fs.readdirSync(target), ["bad"]);
        } finally {
            fs.rmSync(project, { recursive: true, force: true });
        }
    });

    it("an Azure stack whose name overflows an Azure name limit: exit 1 before any resource, nothing written", function () {
        const stack = "s".repeat(44);
        const project = tempProject({
            [stack]: fs.readFileSync(path.join(repo, "Pulumi.azure-dev.yaml"), "utf8"),
        });
        try {
            const r = synth(["--stack", stack, "--project-dir", project]);
            assert.equal(r.status, 1, `expected exit 1, got ${r.status}\n${r.stderr}`);
            assert.match(
                r.stderr,
                /the stack name "s{44}" makes the Azure private endpoint name "wso2is-s{44}-filesxxxxxxxx" 65 characters; Azure allows 64/,
            );
            assert.match(r.stderr, /use a stack name of at most 43 characters/);
            assert.equal(r.stdout, "");
            assert.ok(!fs.existsSync(path.join(project, "out")));
        } finally {
            fs.rmSync(project, { recursive: true, force: true });
        }
    });

    it("an AWS stack whose name overflows the ALB's 32 characters: exit 1 before any resource, nothing written", function () {
        const stack = "s".repeat(14);
        const project = tempProject({ [stack]: fs.readFileSync(path.join(repo, "Pulumi.dev.yaml"), "utf8") });
        try {
            const r = synth(["--stack", stack, "--project-dir", project]);
            assert.equal(r.status, 1, `expected exit 1, got ${r.status}\n${r.stderr}`);
            assert.match(
                r.stderr,
                /the stack name "s{14}" makes the AWS ALB name "wso2is-s{14}-alb-xxxxxxx" 33 characters; AWS allows 32 .*: use a stack name of at most 13 characters/,
            );
            assert.equal(r.stdout, "");
            assert.ok(!fs.existsSync(path.join(project, "out")));
        } finally {
            fs.rmSync(project, { recursive: true, force: true });
        }
    });

    it("a missing stack file: exit 1 with a message naming the stacks there are", function () {
        const project = tempProject({ dev: fs.readFileSync(path.join(repo, "Pulumi.dev.yaml"), "utf8") });
        try {
            const r = synth(["--stack", "nosuch", "--project-dir", project]);
            assert.equal(r.status, 1, r.stderr);
            assert.match(r.stderr, /no stack file Pulumi\.nosuch\.yaml .*stacks with a file: dev/);
            assert.ok(!fs.existsSync(path.join(project, "out")));
        } finally {
            fs.rmSync(project, { recursive: true, force: true });
        }
    });

    it("secure config values: neither the ciphertext nor the placeholder reaches any file", function () {
        const ciphertext = "v1:c2VjcmV0LW5vbmNl:dGhpcy1pcy10aGUtY2lwaGVydGV4dC1vZi1hLXRlc3Q=";
        const dev = fs.readFileSync(path.join(repo, "Pulumi.dev.yaml"), "utf8");
        const project = tempProject({
            secrety: `${dev.trimEnd()}\n  wso2is-cluster:adminPassword:\n    secure: ${ciphertext}\n`,
        });
        try {
            const r = synth(["--stack", "secrety", "--project-dir", project]);
            assert.equal(r.status, 0, r.stderr);
            const dir = path.join(project, "out", "secrety");
            const files = tree(dir);
            assert.ok(files.includes("resources.json"));
            for (const f of files) {
                const text = fs.readFileSync(path.join(dir, f), "utf8");
                for (const needle of [
                    ciphertext,
                    "dGhpcy1pcy10aGUtY2lwaGVydGV4dC1vZi1hLXRlc3Q",
                    "[secret:",
                    "mock-secret-",
                ]) {
                    assert.ok(!text.includes(needle), `${f} contains ${needle}`);
                }
            }
            for (const needle of [ciphertext, "[secret:", "mock-secret-"])
                assert.ok(!r.stdout.includes(needle) && !r.stderr.includes(needle));
            // The admin password went into the cluster secret, shown redacted.
            const resources = JSON.parse(fs.readFileSync(path.join(dir, "resources.json"), "utf8"));
            const version = resources.find(
                (x: any) => x.type === "aws:secretsmanager/secretVersion:SecretVersion",
            );
            assert.equal(version.inputs.secretString, "[secret]");
            // With the admin password given, the program generates none for it.
            assert.ok(!resources.some((x: any) => /is-admin-password$/.test(x.name)));
        } finally {
            fs.rmSync(project, { recursive: true, force: true });
        }
    });
});

describe("synth helpers", function () {
    it("stack config: project defaults, overridden by stack values, all strings; secure values as placeholders", function () {
        const project = tempProject({
            t: [
                "config:",
                "  aws:region: eu-central-1",
                "  wso2is-cluster:cloud: aws",
                "  wso2is-cluster:nodes: 3",
                "  wso2is-cluster:isVersion: 7.10",
                "  wso2is-cluster:production: true",
                "  wso2is-cluster:allowedCidrs: [10.0.0.0/8]",
                "  wso2is-cluster:adminPassword:",
                "    secure: v1:abc",
                "",
            ].join("\n"),
        });
        try {
            const c = loadStackConfig(project, "t");
            assert.equal(c.project, "wso2is-cluster");
            assert.equal(c.config["aws:region"], "eu-central-1");
            assert.equal(c.config["wso2is-cluster:nodes"], "3");
            assert.equal(c.config["wso2is-cluster:isVersion"], "7.10", "plain scalars keep their text");
            assert.equal(c.config["wso2is-cluster:production"], "true");
            assert.equal(c.config["wso2is-cluster:allowedCidrs"], '["10.0.0.0/8"]');
            assert.equal(c.config["wso2is-cluster:dbLayout"], "identity-shared", "project default");
            assert.equal(c.config["wso2is-cluster:disabledCaches"], "[]", "array default as JSON");
            assert.equal(c.config["wso2is-cluster:adminPassword"], "[secret:wso2is-cluster:adminPassword]");
            assert.deepEqual(c.secretKeys, ["wso2is-cluster:adminPassword"]);
            assert.ok(!("wso2is-cluster:hostname" in c.config), "a declared key without default stays unset");
            assert.throws(() => loadStackConfig(project, "missing"), StackFileError);
        } finally {
            fs.rmSync(project, { recursive: true, force: true });
        }
    });

    it("secret keys: passwords, keys and tokens; not ids, names, tags or settings", function () {
        for (const k of [
            "password",
            "adminPassword",
            "secretString",
            "privateKey",
            "privateKeyPem",
            "private_key",
            "accessToken",
            "storageAccountKey",
            "key",
            "kubeconfig",
            "clientSecret",
        ]) {
            assert.ok(isSecretKey(k), k);
        }
        for (const k of [
            "keyName",
            "kmsKeyId",
            "secretArn",
            "secretId",
            "secretName",
            "httpTokens",
            "publicKey",
            "publicKeyOpenssh",
            "passwordLength",
            "tagKey2Name",
            "certificateBody",
        ]) {
            assert.ok(!isSecretKey(k), k);
        }
        assert.ok(!isSecretKey("key", ["value", "propagateAtLaunch"]), "an ASG tag's key");
        assert.ok(!isSecretKey("key", ["name"]), "a secretKeyRef's key");
        assert.ok(!isSecretKey("key", ["bucket", "content"]), "an S3 object's key");
        assert.deepEqual(
            redactInputs({
                password: "p",
                disablePasswordAuthentication: true,
                env: [{ name: "DB_PASSWORD", value: "v" }],
                tags: [{ key: "k", value: "v" }],
            }),
            {
                password: "[secret]",
                disablePasswordAuthentication: true,
                env: [{ name: "DB_PASSWORD", value: "[secret]" }],
                tags: [{ key: "k", value: "v" }],
            },
        );
    });

    it("scrubbing: raw, JSON-escaped and line by line", function () {
        const pem = "-----BEGIN PRIVATE KEY-----\nmock-secret-0123456789abcdef\n-----END PRIVATE KEY-----\n";
        const s = new Scrubber([pem, "short"]);
        assert.equal(s.text(`a ${pem} b`), "a [secret] b");
        assert.equal(s.text(JSON.stringify({ k: pem })), '{"k":"[secret]"}');
        assert.equal(s.text("line mock-secret-0123456789abcdef"), "line [secret]");
        assert.equal(s.text("short"), "short", "too short to scrub");
    });

    it("user data: base64 or plain cloud-init is recognised, anything else is not", function () {
        assert.deepEqual(decodeUserData(Buffer.from("#cloud-config\na: 1\n").toString("base64")), {
            text: "#cloud-config\na: 1\n",
            base64: true,
        });
        assert.deepEqual(decodeUserData("#cloud-config\n"), { text: "#cloud-config\n", base64: false });
        assert.equal(decodeUserData(Buffer.from("hello").toString("base64")), undefined);
        const gz = zlib.gzipSync(Buffer.from("#cloud-config\nb: 2\n")).toString("base64");
        assert.deepEqual(
            decodeUserData(gz),
            { text: "#cloud-config\nb: 2\n", base64: true },
            "gzip-compressed user data",
        );
    });

    it("warns when user data exceeds what the cloud accepts (EC2: 16384 bytes)", function () {
        const big = `#cloud-config\n# ${"x".repeat(20000)}\n`;
        const rec = (type: string, text: string): RecordedResource => ({
            type,
            name: "n",
            parent: "",
            urn: "",
            custom: true,
            inputs: { userData: Buffer.from(text).toString("base64") },
            state: {},
        });
        assert.deepEqual(
            userDataWarnings(
                nodeArtifacts([rec("aws:ec2/launchTemplate:LaunchTemplate", "#cloud-config\n")]),
            ),
            [],
        );
        const [w] = userDataWarnings(nodeArtifacts([rec("aws:ec2/launchTemplate:LaunchTemplate", big)]));
        assert.match(
            w,
            /^nodes\/n: the user data of aws:ec2\/launchTemplate:LaunchTemplate n is 20017 bytes; EC2 accepts at most 16384/,
        );
    });

    it("Kubernetes type tokens map to apiVersion and kind", function () {
        assert.deepEqual(kubernetesKind("kubernetes:apps/v1:StatefulSet"), {
            apiVersion: "apps/v1",
            kind: "StatefulSet",
            prefix: "apps-v1-StatefulSet",
        });
        assert.deepEqual(kubernetesKind("kubernetes:core/v1:Service"), {
            apiVersion: "v1",
            kind: "Service",
            prefix: "core-v1-Service",
        });
        assert.equal(kubernetesKind("kubernetes:yaml/v2:ConfigGroup"), undefined);
    });

    it("generic targets: an Azure VM's customData becomes nodes/<NODE_NAME>/, Kubernetes resources become k8s/ manifests", function () {
        const cloudInit = [
            "#cloud-config",
            "write_files:",
            "  - path: /etc/wso2is/node.env",
            "    content: |",
            "      NODE_NAME='is-1'",
            "  - path: /etc/wso2is/deployment.toml",
            '    content: "[server]\\nhostname = \\"a.b.com\\"\\n"',
            "",
        ].join("\n");
        const rec = (
            type: string,
            name: string,
            inputs: Record<string, any>,
            parent = "urn:pulumi:s::p::wso2is:azure:Cluster::c",
        ): RecordedResource => ({ type, name, parent, urn: "", custom: true, inputs, state: {} });
        const records: RecordedResource[] = [
            {
                type: "wso2is:azure:Cluster",
                name: "c",
                parent: "",
                urn: "",
                custom: false,
                inputs: {},
                state: {},
            },
            rec("azure-native:compute:VirtualMachine", "c-vm-1", {
                osProfile: {
                    adminUsername: "wso2",
                    customData: Buffer.from(cloudInit).toString("base64"),
                    linuxConfiguration: { disablePasswordAuthentication: true },
                },
            }),
            rec("kubernetes:apps/v1:StatefulSet", "c-is", {
                apiVersion: "apps/v1",
                kind: "StatefulSet",
                metadata: { name: "wso2is", namespace: "wso2" },
                spec: { replicas: 2 },
            }),
            rec("kubernetes:core/v1:Secret", "c-db", {
                metadata: { name: "wso2is-db", namespace: "wso2" },
                stringData: { "db-user": "wso2is", "db-pass": "hunter2hunter2" },
            }),
        ];
        const files = buildArtifacts({
            stack: "t",
            records,
            model: { hostname: "a.b.com" },
            outputs: {},
            scrubber: new Scrubber(["hunter2hunter2"]),
        });
        assert.equal(files.get("nodes/is-1/cloud-init.yaml"), cloudInit);
        assert.equal(files.get("nodes/is-1/node.env"), "NODE_NAME='is-1'\n");
        assert.equal(files.get("nodes/is-1/deployment.toml"), '[server]\nhostname = "a.b.com"\n');
        const resources = JSON.parse(files.get("resources.json")!);
        const vm = resources.find((r: any) => r.name === "c-vm-1");
        assert.equal(vm.inputs.osProfile.customData, "[base64 cloud-init, see nodes/is-1/cloud-init.yaml]");
        assert.equal(vm.inputs.osProfile.linuxConfiguration.disablePasswordAuthentication, true);
        assert.equal(vm.parent, "wso2is:azure:Cluster::c");
        const sts = YAML.parse(files.get("k8s/apps-v1-StatefulSet-wso2is.yaml")!);
        assert.deepEqual(sts, {
            apiVersion: "apps/v1",
            kind: "StatefulSet",
            metadata: { name: "wso2is", namespace: "wso2" },
            spec: { replicas: 2 },
        });
        const secret = YAML.parse(files.get("k8s/core-v1-Secret-wso2is-db.yaml")!);
        assert.deepEqual(secret.stringData, { "db-user": "[secret]", "db-pass": "[secret]" });
        assert.equal(secret.apiVersion, "v1");
        for (const [f, text] of files) assert.ok(!text.includes("hunter2hunter2"), f);
    });
});
