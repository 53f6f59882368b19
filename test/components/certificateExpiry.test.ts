// Certificate expiry warnings (components/shared/certificateExpiry.ts): the rule at a fixed
// clock, and the wiring: an AWS dev cluster under the mock engine, whose tls stand-ins report a
// validityEndTime 45 days ahead, warns once for each certificate the program issues.
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { AwsCluster } from "../../components/ec2";
import { expiryWarning, expiryWarningDays, watchExpiry } from "../../components/shared/certificateExpiry";
import { serverEarlyRenewalHours } from "../../components/shared/backendTls";
import { settle } from "../../synth/mocks";
import { configFor } from "../fixtures/models";
import { engine, installMocks } from "../harness";

const now = new Date("2030-06-01T00:00:00Z");
const days = (n: number) => new Date(now.getTime() + n * 24 * 3600 * 1000).toISOString();
const backend = (end: string | undefined) => ({
    what: "the backend (9443) certificate of wso2is-dev",
    validityEndTime: end,
    earlyRenewalHours: serverEarlyRenewalHours,
});

describe("certificate expiry warnings", function () {
    it("nothing with more than 60 days left, or while the end is unknown (a new certificate)", function () {
        assert.strictEqual(expiryWarningDays, 60);
        assert.strictEqual(expiryWarning(backend(days(60.01)), now), undefined);
        assert.strictEqual(expiryWarning(backend(undefined), now), undefined);
        assert.ok(expiryWarning(backend(days(60)), now));
    });

    it("within 60 days, before the early-renewal window: says when `pulumi up` re-issues it", function () {
        assert.strictEqual(
            expiryWarning(
                backend(days(45)),
                now,
                "urn:pulumi:dev::wso2is-cluster::tls:index/locallySignedCert:LocallySignedCert::wso2is-dev-backend",
            ),
            `the backend (9443) certificate of wso2is-dev expires at ${days(45)} (in 45 days): \`pulumi up\` re-issues it from ${days(15)} on (earlyRenewalHours = 720): run an up then, or now with pulumi up --replace 'urn:pulumi:dev::wso2is-cluster::tls:index/locallySignedCert:LocallySignedCert::wso2is-dev-backend'`,
        );
    });

    it("inside the early-renewal window: this up re-issues it and the nodes get it by a rolling replacement", function () {
        assert.match(expiryWarning(backend(days(20)), now)!, /in 20 days\): this `pulumi up` re-issues it/);
    });

    it("no early renewal (the CA, the self-signed listener certificate): replace it now; expired says so", function () {
        const ca = {
            what: "the backend (9443) CA of wso2is-dev",
            validityEndTime: days(59),
            earlyRenewalHours: 0,
        };
        assert.match(
            expiryWarning(ca, now)!,
            /in 59 days\): nothing re-issues it before it expires \(no earlyRenewalHours\): replace it now with pulumi up --replace '<its URN>'$/,
        );
        assert.match(
            expiryWarning({ ...ca, validityEndTime: days(-1) }, now)!,
            /CA of wso2is-dev expired at /,
        );
    });

    it("watchExpiry reads the Output and warns through the injected clock", async function () {
        const seen: string[] = [];
        watchExpiry(
            "the token-signing certificate of wso2is-dev",
            { validityEndTime: pulumi.output(days(30)) },
            2160,
            {
                now: () => now,
                warn: (m) => seen.push(m),
            },
        );
        watchExpiry("fresh", { validityEndTime: pulumi.output(days(700)) }, 720, {
            now: () => now,
            warn: (m) => seen.push(m),
        });
        await settle();
        assert.strictEqual(seen.length, 1);
        assert.match(
            seen[0],
            /^the token-signing certificate of wso2is-dev expires at .*this `pulumi up` re-issues it/,
        );
    });

    it("an AWS dev cluster warns for its backend CA and certificate, signing and listener certificates", async function () {
        const soon = new Date(Date.now() + 45 * 24 * 3600 * 1000).toISOString();
        const warnings: string[] = [];
        const warn = console.warn;
        await settle();
        try {
            // The stand-in tls provider: every certificate ends in 45 days.
            void pulumi.runtime.setMocks(
                {
                    call: (a) => engine.mocks.call(a),
                    newResource: (a) => {
                        const r = engine.mocks.newResource(a) as {
                            id: string;
                            state: Record<string, unknown>;
                        };
                        return /^tls:index\/(selfSignedCert|locallySignedCert)/.test(a.type)
                            ? { ...r, state: { ...r.state, validityEndTime: soon } }
                            : r;
                    },
                },
                "wso2is-cluster",
                "test",
                false,
            );
            console.warn = (m: unknown) => void warnings.push(String(m));
            const cluster = new AwsCluster("expiring", { config: configFor("aws"), region: "eu-west-1" });
            await new Promise((resolve) => cluster.urn.apply(resolve));
            await settle();
        } finally {
            console.warn = warn;
            installMocks();
        }
        const ours = warnings
            .filter((w) => / expires at /.test(w))
            .map((w) => w.replace(/ expires at .*/, ""));
        assert.deepStrictEqual(ours.sort(), [
            "warning: [runtime] the backend (9443) CA of expiring",
            "warning: [runtime] the backend (9443) certificate of expiring",
            "warning: [runtime] the self-signed listener certificate for is.example.com",
            "warning: [runtime] the token-signing certificate of expiring",
        ]);
        assert.ok(
            warnings.some(
                (w) =>
                    w.includes("backend (9443) certificate of expiring") && w.includes("re-issues it from"),
            ),
        );
    });
});
