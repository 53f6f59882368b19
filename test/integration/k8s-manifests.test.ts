// The Kubernetes manifests synth writes for every aks example stack: each parses as YAML into
// one well-formed object valid against its kind's schema, the ConfigMap's deployment.toml
// parses as TOML and uses only keys the IS config-mapper knows, db-init.sh in it is the shipped script, and no secret is in clear.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as TOML from "@iarna/toml";
import * as YAML from "yaml";
import { standaloneScriptText } from "../../components/render/scripts";
import { exampleStacks, synthOnce } from "../fixtures/stacks";
import { unknownTomlKeys } from "../fixtures/tomlKeys";
import { validateObject } from "../k8sModels";

const aksStacks = () =>
    exampleStacks()
        .filter((s) => s.cloud === "aks")
        .map((s) => s.name);

describe("Kubernetes manifests of the aks example stacks", function () {
    this.timeout(120000);

    it("there is at least one aks example stack", function () {
        assert.ok(aksStacks().length >= 1, "no Pulumi.<stack>.yaml with cloud: aks");
    });

    for (const stack of aksStacks()) {
        describe(stack, function () {
            let dir: string;
            before(function () {
                const r = synthOnce(stack);
                assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
                dir = path.join(r.dir, "k8s");
            });

            it("every manifest parses into one object with apiVersion, kind and metadata.name", function () {
                const files = fs.readdirSync(dir).filter((f) => f.endsWith(".yaml"));
                assert.ok(files.length >= 12, `${files.length} manifests`);
                const kinds = new Set<string>();
                for (const f of files) {
                    const docs = YAML.parseAllDocuments(fs.readFileSync(path.join(dir, f), "utf8"));
                    assert.equal(docs.length, 1, f);
                    assert.deepEqual(docs[0].errors, [], f);
                    const m = docs[0].toJS() as {
                        apiVersion?: string;
                        kind?: string;
                        metadata?: { name?: string };
                    };
                    assert.match(String(m.apiVersion), /^([a-z0-9.-]+\/)?v\d+((alpha|beta)\d+)?$/, f);
                    assert.match(String(m.kind), /^[A-Z][A-Za-z]+$/, f);
                    assert.match(
                        String(m.metadata?.name),
                        /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/,
                        `${f}: metadata.name ${m.metadata?.name}`,
                    );
                    kinds.add(String(m.kind));
                }
                for (const k of [
                    "Deployment",
                    "ConfigMap",
                    "Secret",
                    "Service",
                    "ServiceAccount",
                    "Role",
                    "RoleBinding",
                    "PodDisruptionBudget",
                    "NetworkPolicy",
                    "Ingress",
                    "PersistentVolumeClaim",
                ]) {
                    assert.ok(kinds.has(k), `no ${k}`);
                }
            });

            it("every manifest is valid against its kind's schema (kubernetes-models)", function () {
                const files = fs.readdirSync(dir).filter((f) => f.endsWith(".yaml"));
                for (const f of files) {
                    const obj = YAML.parse(fs.readFileSync(path.join(dir, f), "utf8"));
                    assert.doesNotThrow(() => validateObject(obj), f);
                }
            });

            it("the ConfigMap's deployment.toml parses, uses known keys only, and its db-init.sh is the shipped script", function () {
                const cm = YAML.parse(
                    fs.readFileSync(path.join(dir, "core-v1-ConfigMap-wso2is-config.yaml"), "utf8"),
                );
                const doc = TOML.parse(cm.data["deployment.toml"]) as Record<string, any>;
                assert.equal(doc.clustering.membership_scheme, "kubernetes");
                assert.equal(doc.server.node_ip, "$env{NODE_IP}");
                assert.equal(cm.data["db-init.sh"], standaloneScriptText("db-init.sh"));
                assert.deepEqual(unknownTomlKeys(doc), []);
                for (const [k, v] of Object.entries(cm.data as Record<string, string>)) {
                    assert.doesNotMatch(v, /mock-secret-|BEGIN [A-Z ]*PRIVATE KEY/, `ConfigMap key ${k}`);
                }
            });

            it("Secrets show no value in clear", function () {
                for (const f of fs.readdirSync(dir).filter((x) => /-Secret-/.test(x))) {
                    const s = YAML.parse(fs.readFileSync(path.join(dir, f), "utf8"));
                    for (const field of ["data", "stringData"])
                        if (s[field] !== undefined) assert.equal(s[field], "[secret]", `${f} ${field}`);
                }
                for (const f of fs.readdirSync(dir))
                    assert.doesNotMatch(fs.readFileSync(path.join(dir, f), "utf8"), /mock-secret-/, f);
            });
        });
    }
});
