// Certificate expiry warnings: one place for every certificate the program issues itself (the
// nodes' 9443 certificate and its CA, the token-signing certificate, the development listener
// certificate). `pulumi up` and `pulumi preview` print a warning when one is within 60 days of
// its end.
//
// What re-issues them: @pulumi/tls bridges terraform-provider-tls, whose plan step
// (internal/provider/common_cert.go, modifyPlanIfCertificateReadyForRenewal) marks a certificate
// for replacement once `now >= validity_end_time - early_renewal_hours`, on every plan: a plain
// `pulumi up` (no --refresh) inside that window issues a new one. Before the window nothing does,
// and with earlyRenewalHours 0 the window opens only at expiry, i.e. the certificate has expired
// by the time an up replaces it. A replaced certificate reaches the nodes through the cluster
// secret (its document holds the PEMs: a new secret version, which rolls the nodes).
import * as pulumi from "@pulumi/pulumi";

/** Warn this many days before a certificate's end. */
export const expiryWarningDays = 60;

export interface WatchedCertificate {
    /** What it is, for the message: "the backend (9443) certificate of wso2is-dev". */
    what: string;
    /** RFC 3339 end of validity (the tls resources' validityEndTime). */
    validityEndTime: string | undefined;
    /** The resource's earlyRenewalHours (0: renewed only once expired). */
    earlyRenewalHours: number;
}

const hour = 3600 * 1000;

/** The warning for one certificate at `now`, or undefined when it has more than 60 days left. */
export function expiryWarning(cert: WatchedCertificate, now: Date, urn = "<its URN>"): string | undefined {
    if (!cert.validityEndTime) return undefined; // not known yet (a new certificate in preview)
    const end = new Date(cert.validityEndTime);
    if (Number.isNaN(end.getTime())) return undefined;
    const left = end.getTime() - now.getTime();
    if (left > expiryWarningDays * 24 * hour) return undefined;
    const when =
        left <= 0
            ? `expired at ${cert.validityEndTime}`
            : `expires at ${cert.validityEndTime} (in ${Math.floor(left / (24 * hour))} days)`;
    const renewFrom = new Date(end.getTime() - cert.earlyRenewalHours * hour);
    const replace = `pulumi up --replace '${urn}'`;
    const renewal =
        cert.earlyRenewalHours <= 0
            ? `nothing re-issues it before it expires (no earlyRenewalHours): replace it now with ${replace}`
            : now >= renewFrom
              ? "this `pulumi up` re-issues it (earlyRenewalHours); the nodes get it by the rolling replacement the new cluster secret version starts"
              : `\`pulumi up\` re-issues it from ${renewFrom.toISOString()} on (earlyRenewalHours = ${cert.earlyRenewalHours}): run an up then, or now with ${replace}`;
    return `${cert.what} ${when}: ${renewal}`;
}

/**
 * Warns once the certificate's end is known, if it is near (a new certificate: never). `now` and
 * `warn` are for tests.
 */
export function watchExpiry(
    what: string,
    cert: { validityEndTime: pulumi.Output<string>; urn?: pulumi.Output<string> },
    earlyRenewalHours: number,
    options: { now?: () => Date; warn?: (message: string) => void } = {},
): void {
    const now = options.now ?? (() => new Date());
    const resource = pulumi.Resource.isInstance(cert) ? cert : undefined;
    const warn = options.warn ?? ((m: string) => void pulumi.log.warn(m, resource));
    pulumi.all([cert.validityEndTime, cert.urn]).apply(([validityEndTime, urn]) => {
        const message = expiryWarning({ what, validityEndTime, earlyRenewalHours }, now(), urn);
        if (message) warn(message);
    });
}
