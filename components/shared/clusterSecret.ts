// The cluster secret: the one JSON document (scripts/CONTRACT.md) every target stores in its
// secret store (Secrets Manager, Key Vault; on AKS also a Kubernetes Secret) and its nodes read
// with their own identity. Built here once for every target: the generated passwords, the IS
// admin password, the cluster's own [encryption] key and token-signing key pair, and (VM
// targets) the nodes' 9443 identity and the SMB share's credentials.
//
// Key material (why it exists, see docs/security.md): IS 7.1 ships `encryption.key =
// 03BAFEB27A8E871CAD83C5CD4E771DAB` and `keystore.primary.file_name = wso2carbon.p12` in
// product-is v7.1.0 modules/distribution/src/repository/resources/conf/default.json; the same
// private key and secret key are in every download. Each cluster gets its own here.
//
// Neither may change by accident: a new encryption key makes everything IS encrypted in the
// database unreadable, a new signing key invalidates every token and assertion issued so far.
// So both ignore later changes of their inputs, are protected in production, and must keep their
// names (rename a parent only with an alias). Rotation is deliberate (docs/security.md).
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as tls from "@pulumi/tls";
import { BackendTls } from "./backendTls";
import { watchExpiry } from "./certificateExpiry";
import { dbAdminUser, generatedPassword } from "./passwords";

/** The signing certificate's validity: 10 years; `pulumi up` re-issues it (same key) in its last 90 days. */
export const signingValidityHours = 10 * 365 * 24;
export const signingEarlyRenewalHours = 90 * 24;
/** RSA 3072 (RS256 signatures; a key meant to outlive 2030, NIST SP 800-57's horizon for 2048). */
export const signingRsaBits = 3072;
/** 128 bits: what IS's SymmetricKeyInternalCryptoProvider expects of encryption.key (AES-128, hex). */
export const encryptionKeyBytes = 16;

export interface ClusterSecretMaterial {
    dbAdminPassword: pulumi.Output<string>;
    dbAppPassword: pulumi.Output<string>;
    adminPassword: pulumi.Output<string>;
    /** 32 hex characters (a Pulumi secret): deployment.toml's [encryption] key. */
    encryptionKey: pulumi.Output<string>;
    /** The token-signing key pair of [keystore.primary] / [keystore.internal]. */
    signing: {
        /** Self-signed certificate, PEM: public, a stack output for relying parties to pin. */
        certificatePem: pulumi.Output<string>;
        /** PKCS#8 PEM (a Pulumi secret). */
        privateKeyPem: pulumi.Output<string>;
        /** Password of the PKCS#12 the nodes / pods build (a Pulumi secret). */
        keystorePassword: pulumi.Output<string>;
    };
    /** The JSON document of scripts/CONTRACT.md (a Pulumi secret). */
    document: pulumi.Output<string>;
    /** Changes whenever the document does (rotationDigest): what rolls the nodes on a rotation. */
    rotationDigest: pulumi.Output<string>;
}

/**
 * A digest that changes when any of `values` changes, for what must roll the nodes or pods
 * when a secret rotates (they read secrets only when IS starts). HMAC-SHA256 keyed with the
 * cluster's encryption key, so it gives no way to test guesses of a weak admin password; not
 * a secret itself, so a rotation shows in the preview's diff.
 */
export function rotationDigest(
    encryptionKey: pulumi.Input<string>,
    values: Record<string, pulumi.Input<string>>,
): pulumi.Output<string> {
    return pulumi.unsecret(
        pulumi.all([encryptionKey, pulumi.all(values)]).apply(([key, resolved]) => {
            const mac = crypto.createHmac("sha256", key);
            for (const k of Object.keys(resolved).sort()) mac.update(`${k}\0${resolved[k]}\0`);
            return mac.digest("hex");
        }),
    );
}

export function createClusterSecretMaterial(
    name: string,
    args: {
        clusterName: string;
        hostname: string;
        production: boolean;
        /** IS super admin password from config; generated when absent. */
        adminPassword?: pulumi.Output<string>;
        /** VM nodes' 9443 certificate (the load balancer verifies it). */
        backendTls?: BackendTls;
        /** Azure Files over SMB: the storage account's name and key, for the nodes' mount. */
        smbCredentials?: { username: pulumi.Output<string>; password: pulumi.Output<string> };
    },
    parent: pulumi.Resource,
): ClusterSecretMaterial {
    const dbAdminPassword = generatedPassword(`${name}-db-admin-password`, parent);
    const dbAppPassword = generatedPassword(`${name}-db-app-password`, parent);
    const adminPassword = args.adminPassword ?? generatedPassword(`${name}-is-admin-password`, parent);
    const keep: pulumi.CustomResourceOptions = { parent, protect: args.production };

    const encryptionKey = pulumi.secret(
        new random.RandomId(
            `${name}-encryption-key`,
            { byteLength: encryptionKeyBytes },
            { ...keep, ignoreChanges: ["byteLength", "keepers", "prefix"] },
        ).hex,
    );

    const signingKey = new tls.PrivateKey(
        `${name}-signing`,
        { algorithm: "RSA", rsaBits: signingRsaBits },
        { ...keep, ignoreChanges: ["algorithm", "rsaBits", "ecdsaCurve"] },
    );
    // The hostname and localhost as names: without a [keystore.tls] of its own (AKS) IS serves
    // 9443 from the primary keystore, as its default keystore does.
    const signingCert = new tls.SelfSignedCert(
        `${name}-signing`,
        {
            privateKeyPem: signingKey.privateKeyPem,
            subject: {
                commonName: args.hostname,
                organization: "wso2is-cluster",
                organizationalUnit: `${args.clusterName} token signing`,
            },
            dnsNames: [args.hostname, "localhost"],
            validityPeriodHours: signingValidityHours,
            earlyRenewalHours: signingEarlyRenewalHours,
            allowedUses: ["digital_signature", "key_encipherment", "server_auth"],
        },
        { parent },
    );
    watchExpiry(
        `the token-signing certificate of ${args.clusterName}`,
        signingCert,
        signingEarlyRenewalHours,
    );
    const signing = {
        certificatePem: signingCert.certPem,
        privateKeyPem: pulumi.secret(signingKey.privateKeyPemPkcs8),
        keystorePassword: generatedPassword(`${name}-signing-keystore-password`, parent),
    };

    const tlsMaterial = args.backendTls;
    const document = pulumi.secret(
        pulumi.jsonStringify({
            dbAdminUser,
            dbAdminPassword,
            dbAppPassword,
            adminPassword,
            encryptionKey,
            signingCertificate: signing.certificatePem,
            signingPrivateKey: signing.privateKeyPem,
            signingKeystorePassword: signing.keystorePassword,
            ...(args.smbCredentials
                ? { smbUsername: args.smbCredentials.username, smbPassword: args.smbCredentials.password }
                : {}),
            ...(tlsMaterial
                ? {
                      tlsCertificate: tlsMaterial.certificatePem,
                      tlsPrivateKey: tlsMaterial.privateKeyPem,
                      tlsCaCertificate: tlsMaterial.caCertificatePem,
                      tlsKeystorePassword: tlsMaterial.keystorePassword,
                  }
                : {}),
        }),
    );
    return {
        dbAdminPassword,
        dbAppPassword,
        adminPassword,
        encryptionKey,
        signing,
        document,
        rotationDigest: rotationDigest(encryptionKey, { document }),
    };
}
