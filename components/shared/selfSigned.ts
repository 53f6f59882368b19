// The development certificate every target uses outside production: an RSA key and a
// self-signed certificate for the cluster's hostname, valid a year. Config validation refuses
// it in production.
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { watchExpiry } from "./certificateExpiry";

export function selfSignedCertificate(
    name: string,
    hostname: string,
    parent: pulumi.Resource,
): { key: tls.PrivateKey; cert: tls.SelfSignedCert } {
    const key = new tls.PrivateKey(`${name}-self-signed`, { algorithm: "RSA", rsaBits: 2048 }, { parent });
    const cert = new tls.SelfSignedCert(
        `${name}-self-signed`,
        {
            privateKeyPem: key.privateKeyPem,
            subject: {
                commonName: hostname,
                organization: "wso2is-cluster (self-signed, not for production)",
            },
            dnsNames: [hostname],
            validityPeriodHours: 24 * 365,
            allowedUses: ["key_encipherment", "digital_signature", "server_auth"],
        },
        { parent },
    );
    // No earlyRenewalHours: a development certificate, renewed once expired (certificateExpiry.ts).
    watchExpiry(`the self-signed listener certificate for ${hostname}`, cert, 0);
    return { key, cert };
}
