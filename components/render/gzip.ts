// gzip of a node's user-data / customData with a fixed header, so identical inputs give
// identical bytes on any operator OS (a changed byte would roll every node for nothing).
// cloud-init unpacks gzip user-data on every datasource: cloudinit/user_data.py
// convert_string() calls util.decomp_gzip() on the raw bytes before anything else (cloud-init
// 24.1.3, what Ubuntu 24.04 shipped; unchanged in 24.4).
import * as zlib from "zlib";

/**
 * The 10-byte header every output starts with (RFC 1952 2.3): ID1 ID2, CM 8 (deflate), FLG 0,
 * MTIME 0, XFL 2 (level 9), OS 3 (Unix). Node's zlib writes the OS byte of the platform it runs
 * on (zlib's OS_CODE: 3 on Linux/macOS, 10 on Windows); the header is not in the CRC.
 */
export const gzipHeader = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x02, 0x03]);

export function gzipStable(text: string): Buffer {
    const packed = zlib.gzipSync(Buffer.from(text, "utf8"), { level: 9 });
    gzipHeader.copy(packed, 0);
    return packed;
}
