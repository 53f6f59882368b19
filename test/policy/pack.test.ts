// The pack as a whole: metadata of every policy, the production config file, the one
// `new PolicyPack` in policy/index.ts, a light module graph (no provider SDK), the pack's own
// package.json and tsconfig (the CLI type-checks the pack when it runs it).
import { strict as assert } from "assert";
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { policies } from "../../policy/policies";
import { Props, isResourcePolicy, isStackPolicy, runStack } from "./harness";
import * as stack from "../../policy/stack";

const repo = path.resolve(__dirname, "..", "..");
const policyDir = path.join(repo, "policy");
const read = (...p: string[]) => fs.readFileSync(path.join(...p), "utf8");

describe("policy: the pack", function () {
    it("every policy has a unique kebab-case name, a description, tags, a severity and an explicit enforcement level", function () {
        const names = policies.map((p) => p.name);
        assert.equal(new Set(names).size, names.length, "unique names");
        for (const p of policies) {
            assert.match(p.name, /^[a-z0-9]+(-[a-z0-9]+)*$/, p.name);
            assert.notEqual(p.name, "all", "'all' is reserved");
            assert.ok(p.description && p.description.length > 20, `${p.name}: description`);
            assert.ok(
                p.enforcementLevel === "mandatory" || p.enforcementLevel === "advisory",
                `${p.name}: enforcementLevel ${p.enforcementLevel}`,
            );
            assert.ok(p.severity, `${p.name}: severity`);
            assert.ok(p.tags && p.tags.length > 0, `${p.name}: tags`);
            assert.ok(
                isResourcePolicy(p) !== isStackPolicy(p),
                `${p.name}: exactly one of validateResource / validateStack`,
            );
            assert.ok(
                !p.configSchema || !("enforcementLevel" in p.configSchema.properties),
                `${p.name}: enforcementLevel is not a config property`,
            );
            for (const [k, s] of Object.entries(p.configSchema?.properties ?? {}))
                assert.ok(s.default !== undefined, `${p.name}.${k}: a default (applied in code too)`);
        }
    });

    it("security policies are mandatory; availability/cost policies are advisory unless they are correctness checks", function () {
        for (const p of policies) {
            if (p.tags?.includes("security")) assert.equal(p.enforcementLevel, "mandatory", p.name);
            if (p.tags?.includes("production"))
                assert.equal(
                    p.enforcementLevel,
                    "advisory",
                    `${p.name}: production-only, escalated by config.production.json`,
                );
        }
    });

    it("every policy has its own tests in test/policy", function () {
        const text = fs
            .readdirSync(__dirname)
            .filter((f) => f.endsWith(".test.ts"))
            .map((f) => read(__dirname, f))
            .join("\n");
        const untested = policies.filter((p) => !text.includes(`describe("${p.name}`)).map((p) => p.name);
        assert.deepEqual(untested, []);
    });

    it("config.production.json makes every advisory policy mandatory and turns `production` on where a policy has it", function () {
        const config = JSON.parse(read(policyDir, "config.production.json")) as Record<
            string,
            Record<string, unknown>
        >;
        const expected: Record<string, Record<string, unknown>> = {};
        for (const p of policies.filter((x) => x.enforcementLevel === "advisory")) {
            expected[p.name] = {
                enforcementLevel: "mandatory",
                ...(p.configSchema?.properties?.production ? { production: true } : {}),
            };
        }
        assert.deepEqual(config, expected);
        for (const [name, values] of Object.entries(config)) {
            const p = policies.find((x) => x.name === name)!;
            for (const k of Object.keys(values).filter((x) => x !== "enforcementLevel"))
                assert.ok(p.configSchema?.properties?.[k], `${name}.${k} is in its schema`);
        }
    });

    it("policy/index.ts is the only `new PolicyPack`, and no test imports it", function () {
        const sources = fs.readdirSync(policyDir).filter((f) => f.endsWith(".ts"));
        const packs = sources.filter((f) => /new PolicyPack\(/.test(read(policyDir, f)));
        assert.deepEqual(packs, ["index.ts"]);
        const index = read(policyDir, "index.ts");
        assert.equal(index.match(/new PolicyPack\(/g)?.length, 1);
        assert.match(index, /new PolicyPack\("wso2is-cluster", \{/);
        assert.match(index, /from "\.\/policies"/);
        for (const f of fs.readdirSync(__dirname)) {
            assert.doesNotMatch(
                read(__dirname, f),
                /(?:from\s+|require\(\s*)["'](?:\.\.\/)+policy(?:\/index(?:\.ts)?)?\/?["']/,
                `${f} must not import policy/index.ts`,
            );
        }
    });

    it("loading the policies loads no provider SDK (type tokens, not classes)", function () {
        const code = [
            "require('ts-node').register({ transpileOnly: true });",
            "require('./policy/policies');",
            "const mods = Object.keys(require.cache).filter((m) => /node_modules[\\\\/]@pulumi[\\\\/](aws|azure-native|kubernetes|random|tls)[\\\\/]/.test(m));",
            "process.stdout.write(JSON.stringify(mods));",
        ].join("\n");
        const r = spawnSync(process.execPath, ["-e", code], { cwd: repo, encoding: "utf8", timeout: 60_000 });
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(JSON.parse(r.stdout), []);
    });

    it("stack policies are not applicable to a stack without their resources", async function () {
        for (const p of [
            stack.minNodes,
            stack.zoneSpread,
            stack.singleDatabaseAndShare,
            stack.consistentNodeConfig,
        ]) {
            assert.equal(
                (
                    await runStack(p, [
                        { type: "random:index/randomString:RandomString", name: "x", props: {} },
                    ])
                ).status,
                "n/a",
                p.name,
            );
        }
    });

    it("policy/package.json, PulumiPolicy.yaml and the lock file match the project", function () {
        const pkg = JSON.parse(read(policyDir, "package.json"));
        const root = JSON.parse(read(repo, "package.json"));
        assert.equal(pkg.name, "wso2is-cluster-policy");
        assert.match(pkg.version, /^\d+\.\d+\.\d+$/, "the PolicyPack reads its version from package.json");
        assert.equal(pkg.dependencies["@pulumi/policy"], "^1.21.0");
        assert.equal(pkg.dependencies["@pulumi/pulumi"], root.dependencies["@pulumi/pulumi"]);
        assert.equal(root.devDependencies["@pulumi/policy"], pkg.dependencies["@pulumi/policy"]);
        for (const dep of ["yaml", "@iarna/toml"])
            assert.equal(pkg.dependencies[dep], root.dependencies[dep], dep);
        // The CLI compiles the pack with the TypeScript it finds there; TS 5 (7 has no compiler API).
        assert.match(pkg.devDependencies.typescript, /^\^5\./);
        const yaml = YAML.parse(read(policyDir, "PulumiPolicy.yaml"));
        assert.equal(yaml.runtime, "nodejs");
        assert.ok(String(yaml.description).length > 10);
        const lock = JSON.parse(read(policyDir, "package-lock.json"));
        assert.equal(lock.name, pkg.name);
        assert.match(
            lock.packages["node_modules/@pulumi/pulumi"].version,
            /^3\.248\./,
            "Node 20 needs @pulumi/pulumi 3.248",
        );
        assert.match(lock.packages["node_modules/@pulumi/policy"].version, /^1\.(2[1-9]|[3-9]\d)\./);
    });

    it("the pack type-checks with its own tsconfig (the CLI type-checks it before running it)", function () {
        this.timeout(120_000);
        const r = spawnSync(
            process.execPath,
            [require.resolve("typescript/bin/tsc"), "--noEmit", "-p", policyDir],
            { cwd: repo, encoding: "utf8", timeout: 120_000 },
        );
        assert.equal(r.status, 0, r.stdout + r.stderr);
    });

    it("serves the analyzer protocol: policy/index.ts in its own process, as the CLI runs it", async function () {
        this.timeout(120_000);
        // The pack's own process (never imported here: `new PolicyPack` starts a gRPC server).
        const fromSdk = (m: string) =>
            require(
                require.resolve(m, { paths: [path.dirname(require.resolve("@pulumi/policy/package.json"))] }),
            );
        const grpc = fromSdk("@grpc/grpc-js");
        const services = require("@pulumi/pulumi/proto/analyzer_grpc_pb");
        const pb = require("@pulumi/pulumi/proto/analyzer_pb");
        const { Struct } = fromSdk("google-protobuf/google/protobuf/struct_pb");
        const { Empty } = fromSdk("google-protobuf/google/protobuf/empty_pb");
        const child = spawn(
            process.execPath,
            ["-e", "require('ts-node').register({ transpileOnly: true }); require('./index.ts');"],
            { cwd: policyDir, stdio: ["ignore", "pipe", "pipe"] },
        );
        let stderr = "";
        child.stderr.on("data", (d) => (stderr += String(d)));
        try {
            const port = await new Promise<string>((resolve, reject) => {
                child.stdout.once("data", (d) => resolve(String(d).trim()));
                child.once("exit", (code) => reject(new Error(`the pack exited ${code}: ${stderr}`)));
            });
            assert.match(port, /^\d+$/, "the pack prints its port");
            const client = new services.AnalyzerClient(
                `127.0.0.1:${port}`,
                grpc.credentials.createInsecure(),
            );
            const call = (m: string, req: unknown) =>
                new Promise<any>((res, rej) =>
                    client[m](req, (e: Error | null, r: unknown) => (e ? rej(e) : res(r))),
                );
            const resource = (type: string, name: string, props: Props, Cls: any) => {
                const r = new Cls();
                r.setType(type);
                r.setName(name);
                r.setUrn(`urn:pulumi:test::wso2is-cluster::${type}::${name}`);
                r.setOptions(new pb.AnalyzerResourceOptions());
                r.setProperties(Struct.fromJavaScript(props));
                return r;
            };
            const diags = (res: any) =>
                res.getDiagnosticsList().map((d: any) => ({
                    policy: d.getPolicyname(),
                    level: d.getEnforcementlevel(),
                    message: d.getMessage(),
                }));

            const info = await call("getAnalyzerInfo", new Empty());
            assert.equal(info.getName(), "wso2is-cluster");
            assert.equal(info.getVersion(), JSON.parse(read(policyDir, "package.json")).version);
            assert.deepEqual(
                info.getPoliciesList().map((p: any) => p.getName()),
                policies.map((p) => p.name),
            );

            const publicDb = diags(
                await call(
                    "analyze",
                    resource(
                        "aws:rds/instance:Instance",
                        "db",
                        { engine: "mysql", publiclyAccessible: true, storageEncrypted: true },
                        pb.AnalyzeRequest,
                    ),
                ),
            );
            assert.deepEqual(
                publicDb.map((d: any) => [d.policy, d.level]),
                [["aws-rds-not-public", pb.EnforcementLevel.MANDATORY]],
            );
            assert.match(publicDb[0].message, /publiclyAccessible is true/);

            // A value unknown during preview: advisory "can't run", not a failure.
            const unknownBool = require("@pulumi/policy/proxy").unknownBooleanValue;
            const preview = diags(
                await call(
                    "analyze",
                    resource(
                        "aws:rds/instance:Instance",
                        "db",
                        { engine: "mysql", publiclyAccessible: unknownBool, storageEncrypted: true },
                        pb.AnalyzeRequest,
                    ),
                ),
            );
            assert.deepEqual(
                preview.map((d: any) => [d.policy, d.level]),
                [["aws-rds-not-public", pb.EnforcementLevel.ADVISORY]],
            );
            assert.match(preview[0].message, /during preview/);

            const stackReq = new pb.AnalyzeStackRequest();
            stackReq.setResourcesList([
                resource(
                    "aws:rds/instance:Instance",
                    "db",
                    { engine: "mysql", parameterGroupName: "pg-1" },
                    pb.AnalyzerResource,
                ),
                resource(
                    "aws:rds/parameterGroup:ParameterGroup",
                    "pg",
                    { name: "pg-1", parameters: [{ name: "require_secure_transport", value: "0" }] },
                    pb.AnalyzerResource,
                ),
            ]);
            const tls = diags(await call("analyzeStack", stackReq));
            assert.deepEqual(
                tls.map((d: any) => d.policy),
                ["aws-rds-tls-required"],
            );
            assert.match(tls[0].message, /require_secure_transport=0/);
            client.close();
        } finally {
            child.kill();
        }
    });
});
