// A real systemd (this machine's /usr/lib/systemd/systemd) as PID 1 of private pid, mount,
// cgroup, network, uts and ipc namespaces, on a root directory the test fills: /usr is this
// machine's, read-only, with a tmpfs on /usr/local (the node scripts go there); /etc and /var
// are the test's; /run and /tmp are fresh tmpfs on every boot, so booting the same root twice is
// a reboot. systemd runs the units of <root>/etc/systemd/system and starts `unit` (a target).
// Its cgroups are a sub-tree of this process's, so nothing outside the container is touched.
// The container's journal is read through /proc/<pid>/root.
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

export interface SystemdContainer {
    pid: number;
    /** `cmd args...` inside the container (its mount, pid and network namespaces, its root). */
    exec(cmd: string, args: string[]): { status: number | null; stdout: string; stderr: string };
    journal(args?: string[]): string;
    /** Powers the container off (SIGRTMIN+4; after 30 s SIGKILL, which --kill-child passes on). */
    stop(): Promise<void>;
}

const script = `set -e
R=$1 LOCAL=$2
mount --bind /usr "$R/usr"; mount -o remount,bind,ro "$R/usr"
mount -t tmpfs tmpfs "$R/usr/local"; cp -a "$LOCAL/." "$R/usr/local/"
mount -t proc proc "$R/proc"
mount -t sysfs -o ro sysfs "$R/sys"
mount -t tmpfs tmpfs "$R/sys/fs/cgroup"
mkdir -p "$R/sys/fs/cgroup/systemd" "$R/sys/fs/cgroup/unified"
mount -t cgroup -o none,name=systemd cgroup "$R/sys/fs/cgroup/systemd"
mount -t cgroup2 cgroup2 "$R/sys/fs/cgroup/unified"
mount --rbind /dev "$R/dev"
mount -t tmpfs tmpfs "$R/run"; mount -t tmpfs tmpfs "$R/tmp"
ip link set lo up
hostname wso2is-node-test
exec chroot "$R" /usr/bin/env -i container=wso2is-test PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin \\
  /usr/lib/systemd/systemd --system --unit="$3" --log-target=journal --show-status=no
`;

/** Whether this machine can run it: root, systemd installed, a writable name=systemd hierarchy. */
export function systemdContainerProblem(): string | undefined {
    if (process.getuid?.() !== 0) return "needs root";
    if (!fs.existsSync("/usr/lib/systemd/systemd")) return "no /usr/lib/systemd/systemd";
    for (const h of ["systemd", "unified"])
        if (!fs.existsSync(`/sys/fs/cgroup/${h}/cgroup.procs`))
            return `no /sys/fs/cgroup/${h} (needs the hybrid cgroup layout)`;
    return undefined;
}

/** Fills the parts of `root` systemd needs that the test does not write. */
export function prepareRoot(root: string): void {
    for (const d of [
        "usr",
        "etc",
        "proc",
        "sys",
        "dev",
        "run",
        "tmp",
        "var/lib",
        "var/log",
        "var/tmp",
        "root",
        "mnt",
    ])
        fs.mkdirSync(path.join(root, d), { recursive: true });
    for (const l of ["bin", "lib", "lib64", "sbin"])
        if (!fs.existsSync(path.join(root, l))) fs.symlinkSync(`usr/${l}`, path.join(root, l));
    for (const f of ["passwd", "group", "shadow", "nsswitch.conf"])
        if (!fs.existsSync(path.join(root, "etc", f)))
            fs.copyFileSync(`/etc/${f}`, path.join(root, "etc", f));
    fs.copyFileSync("/usr/lib/os-release", path.join(root, "etc", "os-release"));
    if (!fs.existsSync(path.join(root, "etc", "machine-id")))
        fs.writeFileSync(path.join(root, "etc", "machine-id"), "0123456789abcdef0123456789abcdef\n");
}

/** Boots `root` (prepared) with `local` as /usr/local; resolves once systemd runs. */
export async function bootContainer(root: string, local: string, unit: string): Promise<SystemdContainer> {
    const cgroup = `wso2is-systemd-test-${process.pid}-${Date.now()}`;
    const dirs = ["systemd", "unified"].map((h) => `/sys/fs/cgroup/${h}/${cgroup}`);
    for (const d of dirs) fs.mkdirSync(d);
    // The launcher moves itself into the sub-tree before it creates the namespaces.
    const launcher: ChildProcess = spawn(
        "sh",
        [
            "-c",
            `for d in "$@"; do echo $$ > "$d/cgroup.procs"; done; exec unshare --kill-child --pid --fork --mount --cgroup --net --uts --ipc --propagation private bash -c '${script.replace(/'/g, "'\\''")}' bash "${root}" "${local}" "${unit}"`,
            "sh",
            ...dirs,
        ],
        { stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    launcher.stderr?.on("data", (d) => (stderr += d));
    const exited = new Promise<void>((resolve) => launcher.on("exit", () => resolve()));
    // systemd is the unshare's child; find it by its cgroup.
    let pid = 0;
    for (let i = 0; i < 100 && pid === 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
        const procs = fs
            .readFileSync(`${dirs[0]}/cgroup.procs`, "utf8")
            .split("\n")
            .concat(...listChildren(dirs[0]))
            .filter(Boolean)
            .map(Number);
        pid = procs.find((p) => readComm(p) === "systemd") ?? 0;
    }
    if (pid === 0) {
        launcher.kill("SIGKILL");
        throw new Error(`systemd did not start in the container: ${stderr}`);
    }
    const exec = (cmd: string, args: string[]) => {
        const r = spawnSync("nsenter", ["-t", String(pid), "-m", "-p", "-n", "-r", "-w", cmd, ...args], {
            encoding: "utf8",
        });
        return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    };
    return {
        pid,
        exec,
        journal: (args = []) =>
            spawnSync(
                "journalctl",
                ["--directory", `/proc/${pid}/root/run/log/journal`, "--no-pager", "-o", "cat", ...args],
                { encoding: "utf8" },
            ).stdout,
        stop: async () => {
            try {
                // SIGRTMIN+4 (34 + 4 on Linux): a containerised systemd powers off. Node knows
                // the real-time signals by number only.
                process.kill(pid, 38);
            } catch {
                // already gone
            }
            const timer = setTimeout(() => launcher.kill("SIGKILL"), 30000);
            await exited;
            clearTimeout(timer);
            for (const d of dirs) removeCgroup(d);
        },
    };
}

function listChildren(dir: string): string[] {
    const out: string[] = [];
    for (const e of fs.readdirSync(dir, { withFileTypes: true }))
        if (e.isDirectory()) {
            out.push(...fs.readFileSync(path.join(dir, e.name, "cgroup.procs"), "utf8").split("\n"));
            out.push(...listChildren(path.join(dir, e.name)));
        }
    return out;
}

function readComm(pid: number): string {
    try {
        return fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim();
    } catch {
        return "";
    }
}

function removeCgroup(dir: string): void {
    if (!fs.existsSync(dir)) return;
    for (const e of fs.readdirSync(dir, { withFileTypes: true }))
        if (e.isDirectory()) removeCgroup(path.join(dir, e.name));
    try {
        fs.rmdirSync(dir);
    } catch {
        // a process still in it: left for the kernel to report
    }
}
