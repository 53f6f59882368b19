// The systemd unit that runs IS on a VM node: its own user, restart on failure, a stop
// timeout long enough for IS to leave the Hazelcast cluster cleanly.
import { ClusterModel } from "../model";

export const unitPath = "/etc/systemd/system/wso2is.service";

export function renderSystemdUnit(model: ClusterModel): string {
    const { home, user } = model.is;
    return [
        "[Unit]",
        `Description=WSO2 Identity Server ${model.is.version} (cluster ${model.clusterName})`,
        "Wants=network-online.target",
        "After=network-online.target remote-fs.target",
        // Never start IS against the local disk when the share is missing.
        `RequiresMountsFor=${model.sharedFs.mountPoint}`,
        "StartLimitIntervalSec=600",
        "StartLimitBurst=5",
        "",
        "[Service]",
        "Type=simple",
        `User=${user}`,
        `Group=${user}`,
        "EnvironmentFile=/etc/wso2is/runtime.env",
        // Read by systemd as root before it drops to the IS user; the file stays 0600 root.
        "EnvironmentFile=/etc/wso2is/secrets.env",
        // Only db-init needs the database admin pair; IS itself never sees it.
        "UnsetEnvironment=WSO2_DB_ADMIN_USER WSO2_DB_ADMIN_PASSWORD",
        "Environment=JAVA_HOME=/usr/lib/jvm/java-21-openjdk-amd64",
        `WorkingDirectory=${home}`,
        // Refresh NODE_IP and the /etc/hosts pin on every start (runcmd runs on first boot only); + = as root.
        "ExecStartPre=+/usr/local/lib/wso2is/node-ip.sh",
        `ExecStart=${home}/bin/wso2server.sh`,
        // SIGTERM runs IS's shutdown hook; 143 is the JVM's exit code for it.
        "KillSignal=SIGTERM",
        "SuccessExitStatus=143",
        "TimeoutStartSec=600",
        "TimeoutStopSec=120",
        "Restart=on-failure",
        "RestartSec=10",
        "LimitNOFILE=65536",
        "NoNewPrivileges=true",
        "PrivateTmp=true",
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "",
    ].join("\n");
}
