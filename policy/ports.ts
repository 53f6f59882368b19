// Port and address arithmetic for the security group and NSG rules (AWS and Azure).
import { Props, asArray } from "./util";

export interface PortRange {
    from: number;
    to: number;
}

/** Every port (protocol "-1"/"all"/"*", or a missing range on an all-protocol rule). */
export const allPorts: PortRange = { from: 0, to: 65535 };

export function overlaps(a: PortRange, b: PortRange): boolean {
    return a.from <= b.to && b.from <= a.to;
}

/** Port range of an AWS rule (fromPort/toPort, or every port for protocol -1). */
export function awsRuleRange(rule: Props): PortRange {
    const proto = String(rule.ipProtocol ?? rule.protocol ?? "").toLowerCase();
    if (proto === "-1" || proto === "all") return allPorts;
    const from = Number(rule.fromPort);
    const to = Number(rule.toPort ?? rule.fromPort);
    if (!Number.isFinite(from) || !Number.isFinite(to)) return allPorts;
    // ICMP uses -1 for "any type"; treat as no TCP/UDP port.
    if (from < 0 && to < 0) return { from: -1, to: -1 };
    return { from: Math.max(0, from), to: Math.max(0, to) };
}

/** Port ranges of an Azure NSG rule: "*", "443", "5701-5708", lists of those. */
export function azurePortRanges(rule: Props): PortRange[] {
    const specs = [
        ...asArray<string>(rule.destinationPortRange),
        ...asArray<string>(rule.destinationPortRanges),
    ];
    if (specs.length === 0) return [allPorts];
    return specs.map((s) => {
        const t = String(s).trim();
        if (t === "*" || t === "") return allPorts;
        const m = /^(\d+)\s*-\s*(\d+)$/.exec(t);
        if (m) return { from: Number(m[1]), to: Number(m[2]) };
        const n = Number(t);
        return Number.isFinite(n) ? { from: n, to: n } : allPorts;
    });
}

/** An address prefix that means "anyone": 0.0.0.0/0, ::/0, *, Internet, Any. */
export function isAnywhere(prefix: unknown): boolean {
    if (typeof prefix !== "string") return false;
    const p = prefix.trim().toLowerCase();
    return p === "*" || p === "internet" || p === "any" || /\/0$/.test(p);
}

export function describeRange(r: PortRange): string {
    if (r.from === 0 && r.to === 65535) return "all ports";
    if (r.from < 0) return "ICMP";
    return r.from === r.to ? `port ${r.from}` : `ports ${r.from}-${r.to}`;
}
