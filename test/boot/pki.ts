// Key material of the boot test, made with openssl on the host: a test CA the guest trusts
// (the harness part installs it) for the stand-ins' HTTPS and MariaDB's TLS, and the cluster
// secret document (scripts/CONTRACT.md) with the cluster CA, the nodes' 9443 identity and the
// signing key, as components/shared/clusterSecret.ts would put it in Secrets Manager/Key Vault.
import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";

const openssl = (args: string[]) => execFileSync("openssl", args, { stdio: ["ignore", "pipe", "pipe"] });

/** A self-signed CA; returns its cert and key paths. */
function makeCa(dir: string, name: string, cn: string): { cert: string; key: string } {
    const cert = path.join(dir, `${name}.crt`);
    const key = path.join(dir, `${name}.key`);
    openssl(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key]);
    openssl([
        "req",
        "-x509",
        "-new",
        "-key",
        key,
        "-sha256",
        "-days",
        "30",
        "-subj",
        `/CN=${cn}`,
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
        "-out",
        cert,
    ]);
    return { cert, key };
}

/** A server certificate for `names` (SANs) issued by the CA; returns its cert and key paths. */
function issue(dir: string, name: string, ca: { cert: string; key: string }, names: string[]) {
    const cert = path.join(dir, `${name}.crt`);
    const key = path.join(dir, `${name}.key`);
    const csr = path.join(dir, `${name}.csr`);
    const ext = path.join(dir, `${name}.ext`);
    openssl(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key]);
    openssl(["req", "-new", "-key", key, "-subj", `/CN=${names[0]}`, "-out", csr]);
    fs.writeFileSync(
        ext,
        `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n` +
            `extendedKeyUsage=serverAuth\nsubjectAltName=${names.map((n) => `DNS:${n}`).join(",")}\n`,
    );
    openssl([
        "x509",
        "-req",
        "-in",
        csr,
        "-CA",
        ca.cert,
        "-CAkey",
        ca.key,
        "-CAcreateserial",
        "-days",
        "30",
        "-sha256",
        "-extfile",
        ext,
        "-out",
        cert,
    ]);
    return { cert, key };
}

export interface TestPki {
    /** The CA the guest trusts for the stand-ins (PEM text). */
    caPem: string;
    /** The stand-ins' server certificate (all their host names) and key, PEM files. */
    serverCert: string;
    serverKey: string;
}

export function makeTestPki(dir: string, names: string[]): TestPki {
    fs.mkdirSync(dir, { recursive: true });
    const ca = makeCa(dir, "boot-test-ca", "wso2is-cluster boot test CA");
    const server = issue(dir, "standins", ca, names);
    return { caPem: fs.readFileSync(ca.cert, "utf8"), serverCert: server.cert, serverKey: server.key };
}

const password = () => crypto.randomBytes(18).toString("base64url");

export interface ClusterSecret {
    /** The JSON document the nodes read. */
    json: string;
    /** The cluster CA (the load balancer's trusted root for 9443), PEM. */
    clusterCaPem: string;
    dbAdminUser: string;
    dbAdminPassword: string;
}

/** The cluster secret for a node whose public name is lbHostname (the 9443 certificate's SAN). */
export function makeClusterSecret(dir: string, lbHostname: string): ClusterSecret {
    fs.mkdirSync(dir, { recursive: true });
    const ca = makeCa(dir, "cluster-ca", "wso2is cluster CA (boot test)");
    const tls = issue(dir, "backend", ca, [lbHostname]);
    const signingKey = path.join(dir, "signing.key");
    const signingCert = path.join(dir, "signing.crt");
    openssl(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", signingKey]);
    openssl([
        "req",
        "-x509",
        "-new",
        "-key",
        signingKey,
        "-sha256",
        "-days",
        "30",
        "-subj",
        "/CN=wso2is-signing",
        "-out",
        signingCert,
    ]);
    const read = (f: string) => fs.readFileSync(f, "utf8");
    const clusterCaPem = read(ca.cert);
    const dbAdminUser = "wso2admin";
    const dbAdminPassword = password();
    const doc = {
        dbAdminUser,
        dbAdminPassword,
        dbAppPassword: password(),
        adminPassword: password(),
        encryptionKey: crypto.randomBytes(16).toString("hex"),
        signingCertificate: read(signingCert),
        signingPrivateKey: read(signingKey),
        signingKeystorePassword: password(),
        tlsCertificate: read(tls.cert) + clusterCaPem,
        tlsPrivateKey: read(tls.key),
        tlsCaCertificate: clusterCaPem,
        tlsKeystorePassword: password(),
    };
    return { json: JSON.stringify(doc), clusterCaPem, dbAdminUser, dbAdminPassword };
}
