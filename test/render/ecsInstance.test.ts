// The ECS container instances' user data: only the agent's settings, as cloud-init writes them.
import * as assert from "assert";
import * as YAML from "yaml";
import { renderEcsConfig, renderEcsInstanceCloudInit } from "../../components/render/ecsInstance";

describe("render/ecsInstance", function () {
    it("ecs.config: the cluster, task roles for host-network tasks, the stop timeout, reserved memory", function () {
        assert.strictEqual(
            renderEcsConfig({ clusterName: "wso2is-ecs-dev-5b791bc", stopTimeoutSeconds: 120 }),
            [
                "ECS_CLUSTER=wso2is-ecs-dev-5b791bc",
                "ECS_ENABLE_TASK_IAM_ROLE=true",
                "ECS_ENABLE_TASK_IAM_ROLE_NETWORK_HOST=true",
                "ECS_CONTAINER_STOP_TIMEOUT=120s",
                "ECS_RESERVED_MEMORY=256",
                "",
            ].join("\n"),
        );
    });

    it("a #cloud-config that writes exactly /etc/ecs/ecs.config (0644, root)", function () {
        const text = renderEcsInstanceCloudInit({ clusterName: "c1", stopTimeoutSeconds: 90 });
        assert.ok(text.startsWith("#cloud-config\n"));
        const doc = YAML.parse(text);
        assert.deepStrictEqual(Object.keys(doc), ["write_files"]);
        assert.strictEqual(doc.write_files.length, 1);
        assert.deepStrictEqual(
            [doc.write_files[0].path, doc.write_files[0].owner, doc.write_files[0].permissions],
            ["/etc/ecs/ecs.config", "root:root", "0644"],
        );
        assert.match(doc.write_files[0].content, /^ECS_CONTAINER_STOP_TIMEOUT=90s$/m);
    });

    it("refuses a cluster name the agent would not accept (it would land in the file verbatim)", function () {
        assert.throws(
            () =>
                renderEcsConfig({ clusterName: "a\nECS_ENABLE_TASK_IAM_ROLE=false", stopTimeoutSeconds: 1 }),
            /not a valid cluster name/,
        );
    });
});
