// The systemd units of a VM node (docs/vm-nodes.md shows them rendered):
//   wso2is-bootstrap.service        oneshot: bootstrap.sh (packages, IS, secrets, share, schema),
//                                   restarted on failure with a growing delay until it
//                                   succeeds; a reboot runs it again
//   wso2is.service                  IS itself; requires the bootstrap; before every start it
//                                   refreshes the node IP, the 443 redirect, the secrets and
//                                   the heap, and passes the first-start gate
//   wso2is-first-start-hold.service holds the gate while this node does the cluster's first start
// cloud-init only writes them and starts wso2is.service (cloudInit.ts). Budgets come from
// components/model/boot.ts.
import { ClusterModel, dbAdminEnvFile } from "../model";
import { bootstrapRestart, firstStartWaitSeconds, secretFetchSeconds } from "../model/boot";
import { scriptDir } from "./scripts";

const unitDir = "/etc/systemd/system";
export const unitName = "wso2is.service";
export const bootstrapUnitName = "wso2is-bootstrap.service";
export const holdUnitName = "wso2is-first-start-hold.service";
export const unitPath = `${unitDir}/${unitName}`;
export const bootstrapUnitPath = `${unitDir}/${bootstrapUnitName}`;
export const holdUnitPath = `${unitDir}/${holdUnitName}`;

/** The heap wso2is.service passes to wso2server.sh (jvm-heap.sh writes it before every start). */
export const jvmEnvFile = "/etc/wso2is/jvm.env";

/** The end of both boot-enabled units: nothing they create is for other users; started at boot. */
const bootUnitTail = ["UMask=0027", "", "[Install]", "WantedBy=multi-user.target", ""];

/** wso2is.service's start: the secret fetch and the first-start gate's `enter`, with room. */
export const isStartTimeoutSeconds = secretFetchSeconds + firstStartWaitSeconds + 300;

export function renderBootstrapUnit(model: ClusterModel): string {
    const fetchScripts =
        model.scriptDelivery.kind === "s3"
            ? [
                  // s3 delivery: the user-data holds only the fetcher; the rest comes by sha256.
                  `ExecStartPre=${scriptDir}/fetch-scripts.sh`,
              ]
            : [];
    return [
        "[Unit]",
        `Description=WSO2 IS node bootstrap (cluster ${model.clusterName}): packages, IS, secrets, share, schema`,
        "Documentation=file:/usr/local/lib/wso2is/bootstrap.sh",
        "Wants=network-online.target",
        "After=network-online.target",
        // No start limit: the unit retries until it succeeds (every RestartMaxDelaySec at most);
        // the load balancer's grace and Azure's health gate (nodeReadySeconds) give up on a node.
        "StartLimitIntervalSec=0",
        "",
        "[Service]",
        "Type=oneshot",
        "RemainAfterExit=yes",
        ...fetchScripts,
        `ExecStart=${scriptDir}/bootstrap.sh`,
        // A success after an earlier failure: the IS start job that waited on it may be gone.
        `ExecStartPost=/usr/bin/systemctl --no-block start ${unitName}`,
        // bootstrap.sh removes it itself; this covers a kill by the timeout.
        `ExecStopPost=/usr/bin/rm -f ${dbAdminEnvFile}`,
        "Restart=on-failure",
        `RestartSec=${bootstrapRestart.firstDelaySeconds}`,
        // systemd >= 254 (Ubuntu 24.04 has 255); older versions ignore both with a warning
        // and retry every RestartSec.
        `RestartSteps=${bootstrapRestart.steps}`,
        `RestartMaxDelaySec=${bootstrapRestart.maxDelaySeconds}`,
        // No overall timeout: every step bounds its own waits, and a kill in the middle of
        // db-init's table scripts would leave a half-made schema for a person to clean up.
        "TimeoutStartSec=infinity",
        // UMask 0027: nothing the steps create is for other users (apt runs under 0022 in bootstrap.sh).
        ...bootUnitTail,
    ].join("\n");
}

/** The IS unit: its own user, the bootstrap first, refreshed inputs before every start. */
export function renderSystemdUnit(model: ClusterModel): string {
    const { home, user } = model.is;
    return [
        "[Unit]",
        `Description=WSO2 Identity Server ${model.is.version} (cluster ${model.clusterName})`,
        "Documentation=file:/usr/local/lib/wso2is/bootstrap.sh",
        `Requires=${bootstrapUnitName}`,
        `Wants=network-online.target ${holdUnitName}`,
        `After=${bootstrapUnitName} network-online.target remote-fs.target`,
        // Never start IS against the local disk when the share is missing.
        `RequiresMountsFor=${model.sharedFs.mountPoint}`,
        // No start limit: a crash-looping IS keeps being retried, at most every 300 s.
        "StartLimitIntervalSec=0",
        "",
        "[Service]",
        "Type=simple",
        `User=${user}`,
        `Group=${user}`,
        // Read before each command of the unit, so what the ExecStartPre= lines write counts.
        "EnvironmentFile=/etc/wso2is/runtime.env",
        // Read by systemd as root before it drops to the IS user; the file stays 0600 root.
        "EnvironmentFile=/etc/wso2is/secrets.env",
        `EnvironmentFile=${jvmEnvFile}`,
        // Only db-init needs the database admin pair; IS itself never sees it.
        "UnsetEnvironment=WSO2_DB_ADMIN_USER WSO2_DB_ADMIN_PASSWORD",
        "Environment=JAVA_HOME=/usr/lib/jvm/java-21-openjdk-amd64",
        `WorkingDirectory=${home}`,
        // + = as root, in this order, before every start:
        // the node IP and the /etc/hosts pin, then the 443 redirect for that IP,
        `ExecStartPre=+${scriptDir}/node-ip.sh`,
        `ExecStartPre=+${scriptDir}/redirect-443.sh`,
        // the current secret (keystores rebuilt only when their inputs change; when the store
        // cannot be reached, the files of the last fetch, with a warning),
        `ExecStartPre=+/usr/bin/env SECRET_FETCH_KEEP_CURRENT=1 ${scriptDir}/fetch-secrets.sh`,
        // the heap for this VM's memory (a resize keeps the disk),
        `ExecStartPre=+${scriptDir}/jvm-heap.sh`,
        // one node at a time through the cluster's first start (the hold unit releases it).
        `ExecStartPre=+${scriptDir}/first-start-gate.sh enter`,
        `ExecStart=${home}/bin/wso2server.sh`,
        // SIGTERM runs IS's shutdown hook; 143 is the JVM's exit code for it.
        "KillSignal=SIGTERM",
        "SuccessExitStatus=143",
        `TimeoutStartSec=${isStartTimeoutSeconds}`,
        "TimeoutStopSec=120",
        // always, not on-failure: wso2server.sh exits 0 whatever the JVM did (its loop ends with
        // status=$?, seen in the boot test when the JVM died of SIGSEGV), so a crash looks like a
        // clean exit. `systemctl stop` still stops it for good.
        "Restart=always",
        "RestartSec=10",
        `RestartSteps=${bootstrapRestart.steps}`,
        `RestartMaxDelaySec=${bootstrapRestart.maxDelaySeconds}`,
        "LimitNOFILE=65536",
        "NoNewPrivileges=true",
        "PrivateTmp=true",
        ...bootUnitTail,
    ].join("\n");
}

/** first-start-gate.sh `hold` beside IS: stops with it, started with every start of it. */
export function renderFirstStartHoldUnit(model: ClusterModel): string {
    return [
        "[Unit]",
        `Description=WSO2 IS first-start gate hold (cluster ${model.clusterName})`,
        "Documentation=file:/usr/local/lib/wso2is/first-start-gate.sh",
        `BindsTo=${unitName}`,
        `After=${unitName}`,
        "",
        "[Service]",
        "Type=simple",
        // Exits 0 at once unless this node holds the gate; then until IS answers its health check.
        `ExecStart=${scriptDir}/first-start-gate.sh hold`,
        // Stopped with IS (BindsTo): the SIGTERM exit is a normal end, not a failure.
        "SuccessExitStatus=143",
        `TimeoutStopSec=30`,
        "UMask=0027",
        "",
    ].join("\n");
}

export interface UnitFile {
    path: string;
    content: string;
}

/** Every unit a VM node gets, in the order cloud-init writes them. */
export function nodeUnits(model: ClusterModel): UnitFile[] {
    return [
        { path: bootstrapUnitPath, content: renderBootstrapUnit(model) },
        { path: unitPath, content: renderSystemdUnit(model) },
        { path: holdUnitPath, content: renderFirstStartHoldUnit(model) },
    ];
}
