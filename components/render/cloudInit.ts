// cloud-init user-data (#cloud-config) for one VM node. cloud-init only writes files and
// starts the units (systemdUnit.ts): node.env, deployment.toml, the units, the scripts (or, with
// s3 delivery, the fetcher and the scripts' digests) and the share's fstab entry. The boot
// itself (packages, IS, secrets, share, schema) runs in wso2is-bootstrap.service, which retries
// and runs again after a reboot; cloud-init's own modules never retry. Holds no secret: the
// node fetches those with its own cloud identity.
import * as YAML from "yaml";
import { ClusterModel, NodeModel } from "../model";
import { renderDeploymentToml } from "./deploymentToml";
import { renderNodeEnv } from "./nodeEnv";
import { ShippedScript, fetcherScripts, nodeScripts, scriptDir, scriptSha256, scriptText } from "./scripts";
import { bootstrapUnitName, nodeUnits, unitName } from "./systemdUnit";

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

/** The digests `s3` delivery checks: sha256sum's format, one line per fetched script. */
export const scriptManifestPath = "/etc/wso2is/scripts.sha256";

/** The scripts fetched from S3 (every node script the user-data does not carry). */
export function fetchedScripts(): ShippedScript[] {
    return nodeScripts.filter((s) => !(fetcherScripts as readonly string[]).includes(s));
}

export function renderScriptManifest(): string {
    return fetchedScripts()
        .map((s) => `${scriptSha256(s)}  ${s}\n`)
        .join("");
}

export function cloudInitObject(model: ClusterModel, node: NodeModel): Record<string, unknown> {
    const fs = model.sharedFs;
    if (fs.protocol === "csi")
        throw new Error("cloud-init is for VM nodes; a CSI share belongs to Kubernetes");

    const script = (s: ShippedScript): WriteFile => ({
        path: `${scriptDir}/${s}`,
        content: scriptText(s),
        owner: "root:root",
        permissions: "0755",
    });
    const scripts: WriteFile[] =
        model.scriptDelivery.kind === "s3"
            ? [
                  ...fetcherScripts.map(script),
                  {
                      path: scriptManifestPath,
                      content: renderScriptManifest(),
                      owner: "root:root",
                      permissions: "0644",
                  },
              ]
            : nodeScripts.map(script);

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
        ...nodeUnits(model).map((u) => ({ ...u, owner: "root:root", permissions: "0644" })),
        ...scripts,
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

    const doc: Record<string, unknown> = {
        write_files: files,
        runcmd: [
            ["systemctl", "daemon-reload"],
            ["systemctl", "enable", bootstrapUnitName, unitName],
            // --no-block: runcmd runs inside cloud-final.service, which need not wait for the
            // boot (up to an hour on a first deploy). wso2is.service pulls the bootstrap in.
            ["systemctl", "start", "--no-block", unitName],
        ],
    };
    return doc;
}

export function renderCloudInit(model: ClusterModel, node: NodeModel): string {
    const body = YAML.stringify(cloudInitObject(model, node), { lineWidth: 0 });
    return `${cloudConfigHeader}\n# ${model.clusterName} / ${node.name}: rendered by wso2is-cluster\n${body}`;
}
