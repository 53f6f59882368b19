// One guest: its NoCloud seed (the product's user-data unchanged, plus the harness part), a copy
// of the cached image, qemu (TCG: no KVM here) with user networking restricted to the stand-ins,
// and the read-back of the probe's lines (second serial port) and of files (debugfs).
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";

/** Guest-side addresses of the stand-ins (qemu user network 169.254.0.0/16, see vm-boot notes). */
export const guestAddr = {
    https: "169.254.10.10",
    db: "169.254.10.11",
    nfs: "169.254.10.12",
    imds: "169.254.169.254",
    /** What qemu's DHCP hands the guest first: the node's private IP on AWS (IMDS reports it). */
    node: "169.254.0.15",
};

const guestMac = "52:54:00:12:34:56";

export interface HarnessPart {
    testCaPem: string;
    clusterCaPem: string;
    /** Host names to pin in the guest's /etc/hosts, by guest address. */
    hosts: Record<string, string[]>;
    /** An address the guest must own (Azure's static private IP), or none. */
    extraAddress?: string;
    /** systemd drop-ins (retry budgets through the scripts' documented environment), by unit. */
    dropIns: Record<string, string>;
    /** Units the probe watches. */
    units: string[];
    probeTimeout: number;
}

const shq = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;

/**
 * The harness part: one #cloud-boothook (runs first, on every boot, before any module of the
 * product's #cloud-config), so no key of the product's user-data is merged or replaced.
 */
export function harnessBoothook(h: HarnessPart): string {
    const probe = fs.readFileSync(path.join(__dirname, "probe.sh"), "utf8");
    const hostsLines = Object.entries(h.hosts)
        .map(([ip, names]) => `${ip} ${names.join(" ")} # wso2is-boot-standins`)
        .join("\n");
    const dropIns = Object.entries(h.dropIns)
        .map(
            ([unit, text]) => `mkdir -p /etc/systemd/system/${unit}.d
cat >/etc/systemd/system/${unit}.d/90-wso2is-boot-test.conf <<'UNIT'
# wso2is-cluster boot test (harness): shortened budgets through the documented environment
${text.trim()}
UNIT`,
        )
        .join("\n");
    return `#cloud-boothook
#!/bin/bash
# wso2is-cluster boot test harness part (test/boot/guest.ts), not product user-data: the test CA,
# the stand-ins' names, the probe that reports the boot and powers the guest off.
set -eu
mkdir -p /etc/wso2is-boot-test
cat >/usr/local/share/ca-certificates/wso2is-boot-test-ca.crt <<'PEM'
${h.testCaPem.trim()}
PEM
update-ca-certificates >/dev/null 2>&1
cat >/etc/wso2is-boot-test/cluster-ca.pem <<'PEM'
${h.clusterCaPem.trim()}
PEM
# The guest has no DNS: the stand-ins' names point at qemu's guestfwd addresses.
for f in /etc/hosts /etc/cloud/templates/hosts.debian.tmpl; do
    [ -f "$f" ] || continue
    grep -q 'wso2is-boot-standins' "$f" || cat >>"$f" <<'HOSTS'
${hostsLines}
HOSTS
done
${h.extraAddress ? `# The node's static private IP (the Azure NIC's address; qemu's DHCP hands out another).\nip addr add ${h.extraAddress}/32 dev lo 2>/dev/null || true` : ""}
${dropIns}
cat >/etc/wso2is-boot-test/probe.env <<'ENV'
PROBE_TIMEOUT=${h.probeTimeout}
HEALTH_CA=/etc/wso2is-boot-test/cluster-ca.pem
UNITS=${shq(h.units.join(" "))}
ENV
cat >/usr/local/sbin/wso2is-boot-probe <<'PROBE'
${probe.trim()}
PROBE
chmod 0755 /usr/local/sbin/wso2is-boot-probe
cat >/etc/systemd/system/wso2is-boot-probe.service <<'UNIT'
[Unit]
Description=wso2is-cluster boot test probe (harness)
DefaultDependencies=no
[Service]
Type=simple
ExecStart=/usr/local/sbin/wso2is-boot-probe
UNIT
systemctl daemon-reload
systemctl --no-block start wso2is-boot-probe.service
`;
}

/** MIME multipart user-data: the product's part byte for byte, then the harness part. */
export function multipartUserData(productUserData: string, harness: string): string {
    const boundary = "==wso2is-boot-test-boundary==";
    const part = (type: string, name: string, body: string) =>
        `--${boundary}\nContent-Type: ${type}; charset="utf-8"\nMIME-Version: 1.0\n` +
        `Content-Transfer-Encoding: base64\nContent-Disposition: attachment; filename="${name}"\n\n` +
        `${Buffer.from(body, "utf8").toString("base64").replace(/.{76}/g, "$&\n")}\n`;
    return (
        `Content-Type: multipart/mixed; boundary="${boundary}"\nMIME-Version: 1.0\n\n` +
        part("text/cloud-config", "product-user-data.yaml", productUserData) +
        part("text/cloud-boothook", "wso2is-boot-test-harness.sh", harness) +
        `--${boundary}--\n`
    );
}

export function makeSeed(dir: string, userData: string, instanceId: string): string {
    const seed = path.join(dir, "seed");
    fs.mkdirSync(seed, { recursive: true });
    fs.writeFileSync(path.join(seed, "user-data"), userData);
    fs.writeFileSync(
        path.join(seed, "meta-data"),
        `instance-id: ${instanceId}\nlocal-hostname: ${instanceId}\n`,
    );
    // Datasource network config (EC2 and Azure give theirs in metadata too): IPv4 DHCP on the one
    // NIC. cloud-init's fallback would also ask DHCPv6, which qemu's user network never answers.
    fs.writeFileSync(
        path.join(seed, "network-config"),
        `version: 2\nethernets:\n  eth0:\n    match:\n      macaddress: "${guestMac}"\n    set-name: eth0\n    dhcp4: true\n`,
    );
    const iso = path.join(dir, "seed.iso");
    execFileSync(
        "genisoimage",
        [
            "-quiet",
            "-output",
            iso,
            "-volid",
            "cidata",
            "-joliet",
            "-rock",
            "user-data",
            "meta-data",
            "network-config",
        ],
        { cwd: seed },
    );
    return iso;
}

export interface Forward {
    guest: string;
    port: number;
    hostPort: number;
}

export interface VmRun {
    proc: ChildProcess;
    probeLog: string;
    serialLog: string;
    disk: string;
    started: number;
    exited: Promise<number | null>;
}

export function startVm(opts: {
    dir: string;
    image: string;
    seedIso: string;
    memoryMb: number;
    forwards: Forward[];
}): VmRun {
    const disk = path.join(opts.dir, "disk.img");
    // A sparse copy: the guest writes to its own disk, the cache stays pristine.
    execFileSync("cp", ["--sparse=always", path.join(opts.image, "base.img"), disk]);
    const probeLog = path.join(opts.dir, "probe.log");
    const serialLog = path.join(opts.dir, "serial.log");
    const fwd = opts.forwards
        .map((f) => `guestfwd=tcp:${f.guest}:${f.port}-cmd:socat - TCP:127.0.0.1:${f.hostPort}`)
        .join(",");
    const args = [
        "-n",
        "10",
        "qemu-system-x86_64",
        "-machine",
        "q35",
        "-accel",
        "tcg,thread=multi",
        // No AVX/SHA/AES-NI: qemu 7.2's TCG emulation of them crashed the guest's JIT-compiled
        // SHA-256 (SIGSEGV in SHA2.implCompress0 under -cpu max).
        "-cpu",
        "Nehalem",
        "-smp",
        "2",
        "-m",
        String(opts.memoryMb),
        "-display",
        "none",
        "-vga",
        "none",
        "-monitor",
        "none",
        "-no-reboot",
        "-kernel",
        path.join(opts.image, "vmlinuz"),
        "-initrd",
        path.join(opts.image, "initrd.img"),
        "-append",
        "root=/dev/vda rw console=ttyS0 ds=nocloud",
        "-drive",
        `file=${disk},format=raw,if=virtio`,
        "-drive",
        `file=${opts.seedIso},format=raw,if=virtio,readonly=on`,
        "-netdev",
        `user,id=n0,restrict=on,ipv6=off,net=169.254.0.0/16,host=169.254.0.2,dns=169.254.0.3,dhcpstart=${guestAddr.node},${fwd}`,
        "-device",
        `virtio-net-pci,netdev=n0,mac=${guestMac}`,
        "-serial",
        `file:${serialLog}`,
        "-serial",
        `file:${probeLog}`,
    ];
    fs.writeFileSync(path.join(opts.dir, "qemu.cmd"), `nice ${args.map(shq).join(" ")}\n`);
    const proc = spawn("nice", args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    proc.stderr!.on("data", (d) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) =>
        proc.on("exit", (code) => {
            fs.writeFileSync(path.join(opts.dir, "qemu.stderr"), stderr);
            resolve(code);
        }),
    );
    return { proc, probeLog, serialLog, disk, started: Date.now(), exited };
}

/** The PROBE lines so far (key -> rest of line; a repeated key keeps every value). */
export function probeLines(file: string): { key: string; value: string }[] {
    if (!fs.existsSync(file)) return [];
    return fs
        .readFileSync(file, "utf8")
        .split(/\r?\n/)
        .filter((l) => l.startsWith("PROBE "))
        .map((l) => {
            const rest = l.slice(6);
            const i = rest.indexOf(" ");
            return i < 0 ? { key: rest, value: "" } : { key: rest.slice(0, i), value: rest.slice(i + 1) };
        });
}

/** A file from the guest's disk after power-off, without mounting it. */
export function readGuestFile(disk: string, file: string): string | undefined {
    try {
        const out = execFileSync("debugfs", ["-R", `cat ${file}`, disk], {
            encoding: "utf8",
            stdio: ["ignore", "pipe", "pipe"],
        });
        return out.length > 0 ? out : undefined;
    } catch {
        return undefined;
    }
}
