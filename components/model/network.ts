// Address arithmetic for the networks the program creates (ipaddr.js does the parsing).
import * as ipaddr from "ipaddr.js";

function toInt(ip: ipaddr.IPv4): number {
    return ip.octets.reduce((acc, o) => acc * 256 + o, 0);
}

function fromInt(n: number): string {
    return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");
}

/** The index-th subnet of size /newPrefix inside cidr, e.g. (10.40.0.0/16, 24, 2) -> 10.40.2.0/24. */
export function subnetCidr(cidr: string, newPrefix: number, index: number): string {
    const [address, prefix] = ipaddr.IPv4.parseCIDR(cidr);
    if (newPrefix < prefix) throw new Error(`cannot carve a /${newPrefix} out of ${cidr}`);
    const count = 2 ** (newPrefix - prefix);
    if (index < 0 || index >= count)
        throw new Error(`${cidr} holds ${count} /${newPrefix} subnets; index ${index} is out of range`);
    const base = toInt(address) - (toInt(address) % 2 ** (32 - prefix));
    return `${fromInt(base + index * 2 ** (32 - newPrefix))}/${newPrefix}`;
}

/**
 * Static host addresses inside a subnet, skipping the ones the cloud reserves
 * (Azure and AWS keep the first four and the last address of every subnet).
 */
export function hostAddresses(cidr: string, count: number, reservedAtStart = 4): string[] {
    const [address, prefix] = ipaddr.IPv4.parseCIDR(cidr);
    const size = 2 ** (32 - prefix);
    const usable = size - reservedAtStart - 1;
    if (count > usable) throw new Error(`${cidr} has ${usable} usable addresses; ${count} requested`);
    const base = toInt(address) - (toInt(address) % size);
    return Array.from({ length: count }, (_, i) => fromInt(base + reservedAtStart + i));
}

/** True when ip lies inside cidr. */
export function cidrContains(cidr: string, ip: string): boolean {
    return ipaddr.IPv4.parse(ip).match(ipaddr.IPv4.parseCIDR(cidr));
}

/**
 * Hazelcast's interface pattern for the addresses of a CIDR: octets inside the prefix stay,
 * a partial octet becomes a range, the rest "*" (10.43.0.0/16 -> 10.43.*.*, 10.40.0.0/22 ->
 * 10.40.0-3.*). Hazelcast's <interfaces> take wildcards and ranges, not CIDR notation.
 */
export function interfacePattern(cidr: string): string {
    const [address, prefix] = ipaddr.IPv4.parseCIDR(cidr);
    return address.octets
        .map((octet, i) => {
            const bits = Math.min(Math.max(prefix - i * 8, 0), 8);
            if (bits === 8) return String(octet);
            if (bits === 0) return "*";
            const size = 2 ** (8 - bits);
            const low = octet - (octet % size);
            return `${low}-${low + size - 1}`;
        })
        .join(".");
}
