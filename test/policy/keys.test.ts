// IS key material policy: a passing and violating case on a ConfigMap and on a launch template's
// user data, with the rendered deployment.toml of components/render (the real one) and with
// hand-edited variants that fall back to what every IS download ships.
import { strict as assert } from "assert";
import * as zlib from "zlib";
import * as TOML from "@iarna/toml";
import { T as AWS } from "../../policy/aws";
import { T as K8S } from "../../policy/kubernetes";
import { keyMaterialProblems, ownKeyMaterial, shippedEncryptionKey } from "../../policy/keys";
import { renderCloudInit, renderDeploymentToml } from "../../components/render";
import { awsModel } from "../fixtures/models";
import { RunResult, messages, runResource } from "./harness";

function violates(r: RunResult, pattern: RegExp) {
    assert.equal(r.status, "violations", `expected a violation matching ${pattern}, got ${messages(r)}`);
    assert.ok(
        r.violations.some((v) => pattern.test(v.message)),
        messages(r),
    );
}

const model = awsModel();
const rendered = renderDeploymentToml(model, model.nodes[0]);
const edit = (f: (doc: any) => void) => {
    const doc = TOML.parse(rendered) as any;
    f(doc);
    return TOML.stringify(doc);
};

describe("policy: IS key material", function () {
    describe("wso2is-own-key-material", function () {
        it("passes the rendered deployment.toml, in a ConfigMap and in gzipped launch-template user data", async function () {
            assert.deepEqual(keyMaterialProblems(rendered), []);
            const cm = await runResource(ownKeyMaterial, {
                type: K8S.configMap,
                props: { data: { "deployment.toml": rendered } },
            });
            assert.equal(cm.status, "ok", messages(cm));
            const userData = zlib.gzipSync(renderCloudInit(model, model.nodes[0])).toString("base64");
            const lt = await runResource(ownKeyMaterial, { type: AWS.launchTemplate, props: { userData } });
            assert.equal(lt.status, "ok", messages(lt));
        });

        it("flags a config without [encryption] key or [keystore.primary] (IS's shipped defaults)", async function () {
            const toml = edit((d) => {
                delete d.encryption;
                delete d.keystore.primary;
                delete d.keystore.internal;
            });
            const r = await runResource(ownKeyMaterial, {
                type: K8S.configMap,
                props: { data: { "deployment.toml": toml } },
            });
            violates(r, new RegExp(`\\[encryption\\] key is not set.*${shippedEncryptionKey}`));
            violates(r, /\[keystore\.primary\] file_name is not set/);
        });

        it("flags the shipped key and keystore, and literal secrets, named explicitly", async function () {
            const toml = edit((d) => {
                d.encryption.key = shippedEncryptionKey.toLowerCase();
                d.keystore.primary.file_name = "wso2carbon.p12";
                d.keystore.internal.file_name = "wso2carbon.jks";
                d.keystore.primary.password = "wso2carbon";
            });
            const r = await runResource(ownKeyMaterial, {
                type: K8S.configMap,
                props: { data: { "deployment.toml": toml } },
            });
            violates(r, /\[encryption\] key is the key shipped/);
            violates(r, /\[keystore\.primary\] file_name is wso2carbon\.p12/);
            violates(r, /\[keystore\.internal\] file_name is wso2carbon\.jks/);
            violates(r, /\[keystore\.primary\] password is a literal value/);
            const literal = edit((d) => {
                d.encryption.key = "00112233445566778899aabbccddeeff";
            });
            violates(
                await runResource(ownKeyMaterial, {
                    type: K8S.configMap,
                    props: { data: { "deployment.toml": literal } },
                }),
                /\[encryption\] key is a literal value/,
            );
        });

        it("is not applicable where no deployment.toml is written", async function () {
            const r = await runResource(ownKeyMaterial, {
                type: K8S.configMap,
                props: { data: { "x.conf": "a=b" } },
            });
            assert.equal(r.status, "n/a");
        });
    });
});
