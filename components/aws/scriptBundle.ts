// The EC2 nodes' boot scripts in the cluster's own S3 bucket. EC2 user-data holds 16 KB, so it
// carries only the fetcher (aws-api.sh, fetch-scripts.sh) and each script's sha256; the node
// reads s3://<bucket>/scripts/<sha256> with its instance role and refuses other content
// (components/render/scripts/fetch-scripts.sh).
//
// The bucket is private (public access blocked, ACLs off: BucketOwnerEnforced), encrypted by
// default (the cluster's KMS key in production, SSE-S3 otherwise) and unversioned: keys are
// content-addressed, so an object never changes. Objects are kept when they leave the program
// (retainOnDelete): the Auto Scaling group's instance refresh runs after `pulumi up` returns, and
// an instance launched from the previous template version (a refresh rolled back, a replacement
// of an unhealthy node meanwhile) must still find every script that version names. The cost is
// a few KB per changed script; docs/aws.md gives the cleanup command.
import * as pulumi from "@pulumi/pulumi";
import * as s3 from "@pulumi/aws/s3";
import { fetchedScripts, scriptSha256, scriptText } from "../render";
import { kmsDecryptVia } from "./identity";

/** The key prefix of the scripts in the bucket (node.env SCRIPT_PREFIX). */
export const scriptPrefix = "scripts";

export interface ScriptBundle {
    bucket: s3.Bucket;
    /** The objects; the nodes must not launch before they exist. */
    objects: s3.BucketObjectv2[];
    /** Resources the nodes wait for: the objects and the bucket's settings. */
    ready: pulumi.Resource[];
}

export function createScriptBundle(
    name: string,
    args: {
        production: boolean;
        /** The cluster's KMS key (production): default encryption of the bucket. */
        kmsKeyArn?: pulumi.Input<string>;
        tags: Record<string, string>;
    },
    parent: pulumi.Resource,
): ScriptBundle {
    const bucket = new s3.Bucket(
        `${name}-scripts`,
        // Dev: `pulumi destroy` empties it (the retained objects included); production keeps the
        // default, so destroy stops at a non-empty bucket (docs/aws.md).
        { forceDestroy: !args.production, tags: args.tags },
        { parent },
    );
    const publicAccess = new s3.BucketPublicAccessBlock(
        `${name}-scripts`,
        {
            bucket: bucket.id,
            blockPublicAcls: true,
            blockPublicPolicy: true,
            ignorePublicAcls: true,
            restrictPublicBuckets: true,
        },
        { parent },
    );
    const ownership = new s3.BucketOwnershipControls(
        `${name}-scripts`,
        { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
        { parent },
    );
    const encryption = new s3.BucketServerSideEncryptionConfiguration(
        `${name}-scripts`,
        {
            bucket: bucket.id,
            rules: [
                args.kmsKeyArn
                    ? {
                          applyServerSideEncryptionByDefault: {
                              sseAlgorithm: "aws:kms",
                              kmsMasterKeyId: args.kmsKeyArn,
                          },
                          // One data key per bucket, not a KMS call per object read.
                          bucketKeyEnabled: true,
                      }
                    : { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } },
            ],
        },
        { parent },
    );
    // Objects are written after the default encryption is set, so they carry it.
    const objects = fetchedScripts().map(
        (script) =>
            new s3.BucketObjectv2(
                `${name}-script-${script.replace(/\.sh$/, "")}`,
                {
                    bucket: bucket.id,
                    key: `${scriptPrefix}/${scriptSha256(script)}`,
                    content: scriptText(script),
                    contentType: "text/x-shellscript",
                    tags: args.tags,
                },
                { parent, dependsOn: [encryption, publicAccess, ownership], retainOnDelete: true },
            ),
    );
    return { bucket, objects, ready: [publicAccess, ownership, encryption, ...objects] };
}

/**
 * The node role's read of the scripts: GetObject under the prefix only, and in production
 * Decrypt with the cluster's KMS key only through S3 in this region.
 */
export function scriptBundleStatements(
    bucketArn: pulumi.Input<string>,
    kmsKeyArn: pulumi.Input<string> | undefined,
    region: string,
): Record<string, unknown>[] {
    return [
        {
            Sid: "ScriptBundle",
            Effect: "Allow",
            Action: ["s3:GetObject"],
            Resource: pulumi.interpolate`${bucketArn}/${scriptPrefix}/*`,
        },
        ...(kmsKeyArn ? [kmsDecryptVia("ScriptBundleKey", kmsKeyArn, "s3", region)] : []),
    ];
}
