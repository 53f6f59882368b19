// gzip of a node's user-data / customData (and the ECS task's scripts) whose bytes depend only
// on the package-lock: a changed byte would roll every node for nothing. Node's own zlib is
// Chromium's fork, whose deflate output may change with the Node release; pako is a pure-JS
// port of zlib, pinned exactly in package.json (docs/architecture.md, libraries).
// cloud-init unpacks gzip user-data on every datasource: cloudinit/user_data.py
// convert_string() calls util.decomp_gzip() on the raw bytes before anything else (cloud-init
// 24.1.3, what Ubuntu 24.04 shipped; unchanged in 24.4).
import { gzip } from "pako";

/**
 * The 10-byte header every output starts with (RFC 1952 2.3.1): ID1 ID2, CM 8 (deflate), FLG 0
 * (no name, comment, extra or header CRC), MTIME 0 ("no time stamp is available"), XFL 2
 * ("compressor used maximum compression, slowest algorithm", level 9), OS 3 (Unix). pako writes
 * it when no header is given: deflate.ts puts 0 for FLG and MTIME, 2 for XFL at level 9 and
 * OS_CODE, a constant 3 (zlib derives OS_CODE from the build platform; pako does not).
 */
export const gzipHeader = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x02, 0x03]);

export function gzipStable(text: string): Buffer {
    // legacyHash: zlib's own hash, so the bytes are canonical zlib's at level 9 (the system's
    // libz 1.2.13 in test/integration/gzip.test.ts; zlib 1.3.2 per pako's README). pako's
    // default hash follows "recent (chromium) node.js output" (pako.d.ts): a moving target.
    const packed = gzip(Buffer.from(text, "utf8"), { level: 9, legacyHash: true });
    return Buffer.from(packed.buffer, packed.byteOffset, packed.byteLength);
}
