// cloud-init user-data (#cloud-config) for one VM node: packages, the rendered files, the
// share's fstab entry and the boot order of scripts/CONTRACT.md. Holds no secret: the node
// fetches those at boot with its own cloud identity.
import * as YAML from "yaml";
import { ClusterModel, NodeModel, dbAdminEnvFile } from "../model";
import { renderDeploymentToml } from "./deploymentToml";
import { renderNodeEnv } from "./nodeEnv";
import { bootScripts, scriptDir, scriptText } from "./scripts";
import { renderSystemdUnit, unitPath } from "./systemdUnit";

export const cloudConfigHeader = "#cloud-config";

interface WriteFile {
    path: string;
    content: string;
    owner: string;
    permissions: string;
    append?: boolean;
}

type VmShare = Exclude<ClusterModel["sharedFs"], { protocol: "csi" }>;

/** The fstab line of the share: NFS 4.1 (EFS, Azure Files NFS) or SMB with a credentials file. */
export function fstabLine(share: VmShare): string {
    const options =
        share.protocol === "smb" ? `${share.options},credentials=${share.credentialsFile}` : share.options;
    return [
        share.source,
        share.mountPoint,
        share.protocol === "nfs" ? "nfs4" : "cifs",
        options,
        "0",
        "0",
    ].join(" ");
}

export function cloudInitObject(model: ClusterModel, node: NodeModel): Record<string, unknown> {
    const fs = model.sharedFs;
    if (fs.protocol === "csi")
        throw new Error("cloud-init is for VM nodes; a CSI share belongs to Kubernetes");
    const packages = [
        "openjdk-21-jre-headless",
        "unzip",
        "curl",
        "jq",
        "mysql-client",
        fs.protocol === "nfs" ? "nfs-common" : "cifs-utils",
    ];

    const files: WriteFile[] = [
        {
            path: "/etc/wso2is/node.env",
            content: renderNodeEnv(model, node),
            owner: "root:root",
            permissions: "0644",
        },
        {
            path: "/etc/wso2is/deployment.toml",
            content: renderDeploymentToml(model, node),
            owner: "root:root",
            permissions: "0640",
        },
        { path: unitPath, content: renderSystemdUnit(model), owner: "root:root", permissions: "0644" },
        ...bootScripts.map((s) => ({
            path: `${scriptDir}/${s}`,
            content: scriptText(s),
            owner: "root:root",
            permissions: "0755",
        })),
        // The share's fstab entry, appended as text: cloud-init's `mounts` module would run
        // `mount -a` before the NFS/SMB client is installed. mount-share.sh mounts it (with retries);
        // nofail keeps a late share from blocking later boots.
        {
            path: "/etc/fstab",
            content: `${fstabLine(fs)}\n`,
            owner: "root:root",
            permissions: "0644",
            append: true,
        },
    ];

    const confPath = `${model.is.home}/repository/conf/deployment.toml`;
    const doc: Record<string, unknown> = {
        package_update: true,
        packages,
        write_files: files,
        runcmd: [
            // runcmd becomes one /bin/sh script; without this a failed step would not stop the boot.
            "set -e",
            // The database admin pair exists on the node (tmpfs) only from fetch-secrets to db-init.
            ...bootScripts.flatMap((s) =>
                s === "fetch-secrets.sh"
                    ? [["env", `WSO2IS_DB_ADMIN_ENV=${dbAdminEnvFile}`, `${scriptDir}/${s}`]]
                    : s === "db-init.sh"
                      ? [
                            ["env", `WSO2IS_SECRETS_ENV=${dbAdminEnvFile}`, `${scriptDir}/${s}`],
                            ["rm", "-f", dbAdminEnvFile],
                        ]
                      : [[`${scriptDir}/${s}`]],
            ),
            [
                "install",
                "-o",
                "root",
                "-g",
                model.is.user,
                "-m",
                "0640",
                "/etc/wso2is/deployment.toml",
                confPath,
            ],
            ["systemctl", "daemon-reload"],
            ["systemctl", "enable", "--now", "wso2is.service"],
        ],
    };
    return doc;
}

export function renderCloudInit(model: ClusterModel, node: NodeModel): string {
    const body = YAML.stringify(cloudInitObject(model, node), { lineWidth: 0 });
    return `${cloudConfigHeader}\n# ${model.clusterName} / ${node.name}: rendered by wso2is-cluster\n${body}`;
}
