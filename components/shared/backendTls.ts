// TLS between the load balancer and the nodes' 9443, on both VM targets: Application Gateway v2
// verifies it (below); on AWS the nodes serve the same kind of certificate because IS calls
// itself by the public hostname, pinned to the node in /etc/hosts, and checks the name.
//
// Application Gateway v2 verifies the backend's certificate: the chain must end in a root it
// trusts (a well-known CA, or one uploaded as a trusted root certificate) and the name must
// match the host name it sends (SNI). The switches that turn this off
// (`validateCertChainAndExpiry`, `validateSNI`, `sniName`) exist only in Network API versions
// newer than the 2024-05-01 that @pulumi/azure-native 3.28 uses for ApplicationGateway, so they
// are not available here. IS's default keystore (self-signed, CN=localhost, the same private
// key in every IS download) would need the gateway to send "localhost" as Host header and SNI
// and to trust a certificate whose key is public.
//
// So each cluster gets its own small PKI: a CA the gateway trusts (trustedRootCertificates) and
// a server certificate for the public hostname (plus localhost and the node IPs), which the
// nodes serve on 9443. The gateway sends the public hostname as Host header and SNI, which is
// also what IS expects behind a proxy ([server] hostname). The server key reaches the nodes
// only through the cluster secret in Key Vault (keys tlsCertificate, tlsPrivateKey,
// tlsCaCertificate, tlsKeystorePassword; see scripts/CONTRACT.md), never through user-data:
// fetch-secrets.sh builds the keystore IS's [keystore.tls] names and adds the CA to IS's client
// truststore (IS calls itself by the public hostname, pinned to the node).
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { watchExpiry } from "./certificateExpiry";
import { generatedPassword } from "./passwords";

/** CA validity: 10 years; the server certificate: 2 years, renewed by `pulumi up` in its last 30 days. */
export const caValidityHours = 10 * 365 * 24;
export const serverValidityHours = 2 * 365 * 24;
export const serverEarlyRenewalHours = 30 * 24;

export interface BackendTls {
    /** PEM of the CA the gateway trusts. */
    caCertPem: pulumi.Output<string>;
    /** Base64 DER of the CA (Application Gateway's trustedRootCertificates[].data). */
    caCertData: pulumi.Output<string>;
    /** Server certificate chain (server, then CA), PEM. */
    certificatePem: pulumi.Output<string>;
    /** The CA alone, PEM (for the nodes' truststore). */
    caCertificatePem: pulumi.Output<string>;
    /** Server key, PKCS#8 PEM (a Pulumi secret). */
    privateKeyPem: pulumi.Output<string>;
    /** Password of the PKCS#12 keystore the nodes build from them (a Pulumi secret). */
    keystorePassword: pulumi.Output<string>;
}

/** The base64 body of the first PEM block: DER, base64, as Application Gateway wants a .cer. */
export function pemToBase64Der(pem: string): string {
    const m = /-----BEGIN [A-Z0-9 ]+-----([\s\S]*?)-----END [A-Z0-9 ]+-----/.exec(pem);
    if (!m) throw new Error("not a PEM block");
    return m[1].replace(/\s+/g, "");
}

export function createBackendTls(
    name: string,
    args: { hostname: string; nodeIps: string[]; clusterName: string },
    parent: pulumi.Resource,
): BackendTls {
    const opts = { parent };
    const caKey = new tls.PrivateKey(`${name}-backend-ca`, { algorithm: "RSA", rsaBits: 2048 }, opts);
    const ca = new tls.SelfSignedCert(
        `${name}-backend-ca`,
        {
            privateKeyPem: caKey.privateKeyPem,
            isCaCertificate: true,
            subject: { commonName: `${args.clusterName} backend CA`, organization: "wso2is-cluster" },
            validityPeriodHours: caValidityHours,
            allowedUses: ["cert_signing", "crl_signing"],
        },
        opts,
    );

    const serverKey = new tls.PrivateKey(`${name}-backend`, { algorithm: "RSA", rsaBits: 2048 }, opts);
    const request = new tls.CertRequest(
        `${name}-backend`,
        {
            privateKeyPem: serverKey.privateKeyPem,
            subject: { commonName: args.hostname, organization: "wso2is-cluster" },
            dnsNames: [args.hostname, "localhost"],
            ipAddresses: [...args.nodeIps, "127.0.0.1"],
        },
        opts,
    );
    const server = new tls.LocallySignedCert(
        `${name}-backend`,
        {
            certRequestPem: request.certRequestPem,
            caPrivateKeyPem: caKey.privateKeyPem,
            caCertPem: ca.certPem,
            validityPeriodHours: serverValidityHours,
            earlyRenewalHours: serverEarlyRenewalHours,
            allowedUses: ["digital_signature", "key_encipherment", "server_auth"],
        },
        opts,
    );

    watchExpiry(`the backend (9443) CA of ${args.clusterName}`, ca, 0);
    watchExpiry(`the backend (9443) certificate of ${args.clusterName}`, server, serverEarlyRenewalHours);

    return {
        caCertPem: ca.certPem,
        caCertData: ca.certPem.apply(pemToBase64Der),
        certificatePem: pulumi.interpolate`${server.certPem}${ca.certPem}`,
        caCertificatePem: ca.certPem,
        privateKeyPem: pulumi.secret(serverKey.privateKeyPemPkcs8),
        keystorePassword: generatedPassword(`${name}-backend-keystore-password`, parent),
    };
}
