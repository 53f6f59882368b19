// A PKCS#12 (PFX) file from a PEM key and certificate chain, as Application Gateway wants its
// listener certificate (`sslCertificates[].data`, base64), in the legacy form that every Azure
// upload path and Windows' own importer accept (`openssl pkcs12 -export -legacy`, Windows'
// "TripleDES-SHA1" export):
//
// - the private key: a PKCS#8 shrouded key bag, pbeWithSHAAnd3-KeyTripleDES-CBC
//   (1.2.840.113549.1.12.1.3; key and IV from the RFC 7292 appendix B KDF with SHA-1);
// - the certificates: cert bags in an EncryptedData under the same algorithm;
// - integrity: HMAC-SHA1 with the appendix B key derivation;
// - the password (loadBalancer.ts): letters and digits only.
// The PBES2/AES-256 + SHA-256 MAC form that OpenSSL 3 writes by default is what Azure's upload
// paths have refused with a misleading "password is incorrect" (MicrosoftDocs/azure-docs #54393
// for Application Gateway v2, #110426 for App Service).
//
// Deterministic: salts are derived from the password and the input (HMAC-SHA256), so the same
// key, chain and password give the same bytes on every `pulumi up` and the gateway sees no
// change. Why not a library: node-forge's pkcs12.toPkcs12Asn1 (the maintained JS writer) draws
// its salts from forge.random, the process-wide PRNG; making it deterministic would mean
// replacing that global. Node's crypto has what this needs (SHA-1, HMAC, des-ede3-cbc in
// OpenSSL 3's default provider). The contents are never parsed: PEM bodies are wrapped as they are.
import * as crypto from "crypto";

const OID = {
    data: "1.2.840.113549.1.7.1",
    encryptedData: "1.2.840.113549.1.7.6",
    certBag: "1.2.840.113549.1.12.10.1.3",
    shroudedKeyBag: "1.2.840.113549.1.12.10.1.2",
    x509Certificate: "1.2.840.113549.1.9.22.1",
    localKeyId: "1.2.840.113549.1.9.21",
    friendlyName: "1.2.840.113549.1.9.20",
    pbeWithSha1And3DesCbc: "1.2.840.113549.1.12.1.3",
    sha1: "1.3.14.3.2.26",
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
/** [0] IMPLICIT OCTET STRING (EncryptedContentInfo.encryptedContent). */
const implicit0Octets = (b: Buffer) => tlv(0x80, b);
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

// --- PKCS#12 key derivation (RFC 7292 appendix B.2) with SHA-1 ---------------------------------
/** id 1: cipher key, 2: IV, 3: MAC key. */
export function pkcs12Kdf(
    password: string,
    salt: Buffer,
    id: 1 | 2 | 3,
    iterations: number,
    size: number,
): Buffer {
    const u = 20; // SHA-1 output
    const v = 64; // SHA-1 block
    // BMPString with a terminating NUL, as RFC 7292 B.1 says.
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
            .createHash("sha1")
            .update(Buffer.concat([D, I]))
            .digest();
        for (let r = 1; r < iterations; r++) A = crypto.createHash("sha1").update(A).digest();
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

/** pbeWithSHAAnd3-KeyTripleDES-CBC: the AlgorithmIdentifier and the ciphertext. */
function tripleDes(plain: Buffer, password: string, salt: Buffer, iterations: number): [Buffer, Buffer] {
    const key = pkcs12Kdf(password, salt, 1, iterations, 24);
    const iv = pkcs12Kdf(password, salt, 2, iterations, 8);
    const cipher = crypto.createCipheriv("des-ede3-cbc", key, iv);
    const algorithm = seq(oid(OID.pbeWithSha1And3DesCbc), seq(octets(salt), int(iterations)));
    return [algorithm, Buffer.concat([cipher.update(plain), cipher.final()])];
}

/** The password rule of the legacy form: letters and digits only (loadBalancer.ts generates one). */
export const pfxPasswordPattern = /^[A-Za-z0-9]+$/;

export interface PfxOptions {
    /** KDF and MAC iterations; OpenSSL's default is 2048. */
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
    if (!pfxPasswordPattern.test(password))
        throw new Error("buildPfx: the password must be letters and digits only (the legacy PFX form)");

    // 8-byte salts, as OpenSSL writes them.
    const derive = (label: string) =>
        crypto
            .createHmac("sha256", password)
            .update(label)
            .update(key)
            .update(Buffer.concat(certs))
            .digest()
            .subarray(0, 8);
    // The key and the leaf share a localKeyId so readers pair them.
    const localKeyId = crypto.createHash("sha1").update(certs[0]).digest();
    const attributes = () =>
        set(
            seq(oid(OID.localKeyId), set(octets(localKeyId))),
            ...(options.friendlyName
                ? [seq(oid(OID.friendlyName), set(bmpString(options.friendlyName)))]
                : []),
        );

    const certBags = certs.map((der, i) =>
        seq(
            oid(OID.certBag),
            explicit0(seq(oid(OID.x509Certificate), explicit0(octets(der)))),
            ...(i === 0 ? [attributes()] : []),
        ),
    );
    const [certAlgorithm, encryptedCerts] = tripleDes(
        seq(...certBags),
        password,
        derive("cert-salt"),
        iterations,
    );
    const certsContent = seq(
        oid(OID.encryptedData),
        explicit0(seq(int(0), seq(oid(OID.data), certAlgorithm, implicit0Octets(encryptedCerts)))),
    );

    const [keyAlgorithm, encryptedKey] = tripleDes(key, password, derive("key-salt"), iterations);
    const keyBag = seq(
        oid(OID.shroudedKeyBag),
        explicit0(seq(keyAlgorithm, octets(encryptedKey))),
        attributes(),
    );
    const dataContent = (der: Buffer) => seq(oid(OID.data), explicit0(octets(der)));
    const authSafe = seq(certsContent, dataContent(seq(keyBag)));

    const macSalt = derive("mac-salt");
    const macKey = pkcs12Kdf(password, macSalt, 3, iterations, 20);
    const mac = crypto.createHmac("sha1", macKey).update(authSafe).digest();
    return seq(
        int(3),
        dataContent(authSafe),
        seq(seq(seq(oid(OID.sha1), nul()), octets(mac)), octets(macSalt), int(iterations)),
    );
}
