// cloud-init user-data, node.env and the systemd unit: structure, order, and no secrets.
import * as assert from "assert";
import * as TOML from "@iarna/toml";
import * as YAML from "yaml";
import { ClusterModel } from "../../components/model";
import {
    bootScripts,
    renderCloudInit,
    renderDeploymentToml,
    renderNodeEnv,
    renderSystemdUnit,
    scriptText,
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
    it("is #cloud-config YAML with packages for NFS, JDK 21 and the MySQL client", function () {
        const { text, doc: d } = doc(awsModel());
        assert.ok(text.startsWith("#cloud-config\n"));
        for (const p of ["openjdk-21-jre-headless", "nfs-common", "mysql-client", "jq", "curl", "unzip"])
            assert.ok(d.packages.includes(p), p);
        assert.ok(!d.packages.includes("cifs-utils"));
        // No AWS CLI snap (cloud-init's snap module never retries): aws-api.sh signs with curl.
        assert.strictEqual(d.snap, undefined);
    });

    it("writes deployment.toml, node.env (0644), the unit and every boot script (0755) verbatim", function () {
        const model = awsModel();
        const { doc: d } = doc(model);
        assert.strictEqual(
            file(d, "/etc/wso2is/deployment.toml").content,
            renderDeploymentToml(model, model.nodes[0]),
        );
        assert.strictEqual(file(d, "/etc/wso2is/deployment.toml").permissions, "0640");
        assert.strictEqual(file(d, "/etc/wso2is/node.env").content, renderNodeEnv(model, model.nodes[0]));
        assert.strictEqual(file(d, "/etc/systemd/system/wso2is.service").content, renderSystemdUnit(model));
        for (const s of bootScripts) {
            const f = file(d, `/usr/local/lib/wso2is/${s}`);
            assert.strictEqual(f.content, scriptText(s));
            assert.strictEqual(f.permissions, "0755");
            assert.match(f.content, /^#!\/usr\/bin\/env bash\n/);
            assert.match(f.content, /^set -E?euo pipefail$/m);
        }
        TOML.parse(file(d, "/etc/wso2is/deployment.toml").content);
    });

    it("runs the boot steps in order, then installs the config and starts IS", function () {
        const model = awsModel();
        const all = doc(model).doc.runcmd as (string | string[])[];
        // runcmd is one sh script: `set -e` first, so a failed step stops the boot before IS starts.
        assert.strictEqual(all[0], "set -e");
        const runcmd = all.slice(1) as string[][];
        const dir = "/usr/local/lib/wso2is";
        // The database admin pair lives on tmpfs only from fetch-secrets to db-init (model.dbAdminEnvFile).
        assert.deepStrictEqual(runcmd.slice(0, bootScripts.length + 1), [
            [`${dir}/node-ip.sh`],
            [`${dir}/install-is.sh`],
            ["env", "WSO2IS_DB_ADMIN_ENV=/run/wso2is/db-admin.env", `${dir}/fetch-secrets.sh`],
            [`${dir}/mount-share.sh`],
            [`${dir}/artifact-sync.sh`],
            ["env", "WSO2IS_SECRETS_ENV=/run/wso2is/db-admin.env", `${dir}/db-init.sh`],
            ["rm", "-f", "/run/wso2is/db-admin.env"],
        ]);
        assert.deepStrictEqual(runcmd[bootScripts.length + 1], [
            "install",
            "-o",
            "root",
            "-g",
            "wso2is",
            "-m",
            "0640",
            "/etc/wso2is/deployment.toml",
            `${model.is.home}/repository/conf/deployment.toml`,
        ]);
        assert.deepStrictEqual(runcmd.at(-1), ["systemctl", "enable", "--now", "wso2is.service"]);
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
        assert.ok(d.packages.includes("cifs-utils"));
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

describe("render/systemdUnit", function () {
    it("runs IS as its own user, restarts on failure, stops gracefully, needs the share", function () {
        const unit = renderSystemdUnit(awsModel());
        const line = (k: string) =>
            unit
                .split("\n")
                .filter((l) => l.startsWith(`${k}=`))
                .map((l) => l.slice(k.length + 1));
        assert.deepStrictEqual(line("User"), ["wso2is"]);
        assert.deepStrictEqual(line("Restart"), ["on-failure"]);
        assert.deepStrictEqual(line("TimeoutStopSec"), ["120"]);
        assert.deepStrictEqual(line("RequiresMountsFor"), ["/mnt/wso2is-share"]);
        assert.deepStrictEqual(line("EnvironmentFile"), [
            "/etc/wso2is/runtime.env",
            "/etc/wso2is/secrets.env",
        ]);
        assert.deepStrictEqual(line("ExecStart"), ["/opt/wso2is/wso2is-7.1.0/bin/wso2server.sh"]);
        assert.deepStrictEqual(line("WantedBy"), ["multi-user.target"]);
    });
});
