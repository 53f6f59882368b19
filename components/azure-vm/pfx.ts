// A PKCS#12 (PFX) file from a PEM key and certificate chain, as Application Gateway wants its
// listener certificate (`sslCertificates[].data`, base64). Built with Node's crypto only:
//
// - the private key: a PKCS#8 shrouded key bag, PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC), what
//   `openssl pkcs12 -export` writes by default since OpenSSL 3;
// - the certificates: plain cert bags (public data);
// - integrity: HMAC-SHA256 with the RFC 7292 appendix B key derivation.
//
// Deterministic: salts and the IV are derived from the password and the input (HMAC), so the
// same key, chain and password give the same bytes on every `pulumi up`. Random salts (what
// node-forge's pkcs12 and openssl do) would change the gateway's input on every run.
// The contents are never parsed: PEM bodies are decoded and wrapped as they are.
import * as crypto from "crypto";

const OID = {
    data: "1.2.840.113549.1.7.1",
    certBag: "1.2.840.113549.1.12.10.1.3",
    shroudedKeyBag: "1.2.840.113549.1.12.10.1.2",
    x509Certificate: "1.2.840.113549.1.9.22.1",
    localKeyId: "1.2.840.113549.1.9.21",
    friendlyName: "1.2.840.113549.1.9.20",
    pbes2: "1.2.840.113549.1.5.13",
    pbkdf2: "1.2.840.113549.1.5.12",
    hmacWithSha256: "1.2.840.113549.2.9",
    aes256Cbc: "2.16.840.1.101.3.4.1.42",
    sha256: "2.16.840.1.101.3.4.2.1",
} as const;

// --- DER ------------------------------------------------------------------------------------
function length(n: number): Buffer {
    if (n < 0x80) return Buffer.from([n]);
    const bytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
    return Buffer.from([0x80 | bytes.length, ...bytes]);
}
const tlv = (tag: number, content: Buffer) =>
    Buffer.concat([Buffer.from([tag]), length(content.length), content]);
const seq = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items));
const octets = (b: Buffer) => tlv(0x04, b);
const explicit0 = (b: Buffer) => tlv(0xa0, b);
const nul = () => Buffer.from([0x05, 0x00]);
function int(n: number): Buffer {
    const bytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
    if (bytes.length === 0 || bytes[0] & 0x80) bytes.unshift(0);
    return tlv(0x02, Buffer.from(bytes));
}
function oid(dotted: string): Buffer {
    const [a, b, ...rest] = dotted.split(".").map(Number);
    const out = [40 * a + b];
    for (const n of rest) {
        const chunk = [n & 0x7f];
        for (let v = Math.floor(n / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
        out.push(...chunk);
    }
    return tlv(0x06, Buffer.from(out));
}
const bmpString = (s: string) => tlv(0x1e, Buffer.from(s, "utf16le").swap16());

// --- PEM ------------------------------------------------------------------------------------
/** The DER bodies of every `label` block in a PEM text, in order. */
export function pemBlocks(pem: string, label: RegExp): Buffer[] {
    const blocks: Buffer[] = [];
    const re = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
    for (let m = re.exec(pem); m; m = re.exec(pem)) {
        if (label.test(m[1])) blocks.push(Buffer.from(m[2].replace(/\s+/g, ""), "base64"));
    }
    return blocks;
}

// --- PKCS#12 key derivation (RFC 7292 appendix B.2), for the MAC key -------------------------
function pkcs12Kdf(password: string, salt: Buffer, id: number, iterations: number, size: number): Buffer {
    const u = 32; // SHA-256 output
    const v = 64; // SHA-256 block
    const pass = Buffer.concat([Buffer.from(password, "utf16le").swap16(), Buffer.alloc(2)]);
    const fill = (b: Buffer) => {
        const n = b.length === 0 ? 0 : v * Math.ceil(b.length / v);
        return Buffer.from(Array.from({ length: n }, (_, i) => b[i % b.length]));
    };
    const D = Buffer.alloc(v, id);
    const I = Buffer.concat([fill(salt), fill(pass)]);
    const out: Buffer[] = [];
    for (let produced = 0; produced < size; produced += u) {
        let A = crypto
            .createHash("sha256")
            .update(Buffer.concat([D, I]))
            .digest();
        for (let r = 1; r < iterations; r++) A = crypto.createHash("sha256").update(A).digest();
        out.push(A);
        const B = Buffer.from(Array.from({ length: v }, (_, i) => A[i % u]));
        for (let j = 0; j < I.length; j += v) {
            let carry = 1;
            for (let k = v - 1; k >= 0; k--) {
                const sum = I[j + k] + B[k] + carry;
                I[j + k] = sum & 0xff;
                carry = sum >> 8;
            }
        }
    }
    return Buffer.concat(out).subarray(0, size);
}

export interface PfxOptions {
    /** PBKDF2 and MAC iterations; OpenSSL's default is 2048. */
    iterations?: number;
    /** friendlyName of the key and its certificate. */
    friendlyName?: string;
}

/**
 * PKCS#12 bytes holding the PKCS#8 key (`-----BEGIN PRIVATE KEY-----`) and the certificates of
 * `certificatePem` (leaf first). Same inputs, same bytes.
 */
export function buildPfx(
    privateKeyPkcs8Pem: string,
    certificatePem: string,
    password: string,
    options: PfxOptions = {},
): Buffer {
    const iterations = options.iterations ?? 2048;
    const [key] = pemBlocks(privateKeyPkcs8Pem, /^PRIVATE KEY$/);
    const certs = pemBlocks(certificatePem, /^CERTIFICATE$/);
    if (!key) throw new Error("buildPfx: no -----BEGIN PRIVATE KEY----- (PKCS#8) block in the key");
    if (certs.length === 0) throw new Error("buildPfx: no -----BEGIN CERTIFICATE----- block in the chain");

    const derive = (label: string, size: number) =>
        crypto
            .createHmac("sha256", password)
            .update(label)
            .update(key)
            .update(Buffer.concat(certs))
            .digest()
            .subarray(0, size);
    // The key and the leaf share a localKeyId so readers pair them.
    const localKeyId = crypto.createHash("sha1").update(certs[0]).digest();
    const attributes = (withName: boolean) =>
        set(
            seq(oid(OID.localKeyId), set(octets(localKeyId))),
            ...(withName && options.friendlyName
                ? [seq(oid(OID.friendlyName), set(bmpString(options.friendlyName)))]
                : []),
        );

    const certBags = certs.map((der, i) =>
        seq(
            oid(OID.certBag),
            explicit0(seq(oid(OID.x509Certificate), explicit0(octets(der)))),
            ...(i === 0 ? [attributes(true)] : []),
        ),
    );

    const salt = derive("pbkdf2-salt", 16);
    const iv = derive("aes-iv", 16);
    const aesKey = crypto.pbkdf2Sync(Buffer.from(password, "utf8"), salt, iterations, 32, "sha256");
    const cipher = crypto.createCipheriv("aes-256-cbc", aesKey, iv);
    const encrypted = Buffer.concat([cipher.update(key), cipher.final()]);
    const encryptedKeyInfo = seq(
        seq(
            oid(OID.pbes2),
            seq(
                seq(oid(OID.pbkdf2), seq(octets(salt), int(iterations), seq(oid(OID.hmacWithSha256), nul()))),
                seq(oid(OID.aes256Cbc), octets(iv)),
            ),
        ),
        octets(encrypted),
    );
    const keyBag = seq(oid(OID.shroudedKeyBag), explicit0(encryptedKeyInfo), attributes(true));

    const dataContent = (der: Buffer) => seq(oid(OID.data), explicit0(octets(der)));
    const authSafe = seq(dataContent(seq(...certBags)), dataContent(seq(keyBag)));

    const macSalt = derive("mac-salt", 16);
    const macKey = pkcs12Kdf(password, macSalt, 3, iterations, 32);
    const mac = crypto.createHmac("sha256", macKey).update(authSafe).digest();
    return seq(
        int(3),
        dataContent(authSafe),
        seq(seq(seq(oid(OID.sha256), nul()), octets(mac)), octets(macSalt), int(iterations)),
    );
}
