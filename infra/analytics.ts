import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { denyInsecureTransport } from "./statements";

export interface AnalyticsArgs {
    /** The stack name: it names the stream, its log group and the bucket prefix. */
    stack: string;
    /** The stack's customer-managed key: bucket default encryption, Firehose at rest, the log group. */
    kmsKeyArn: pulumi.Input<string>;
    logRetentionDays: number;
    /** Firehose buffering before an object is written (bigger = fewer, larger objects). */
    bufferingIntervalSeconds?: number; // default 300
    bufferingSizeMb?: number; // default 64
}

/** Current delivery events are kept this long; analytics works on recent history only. */
export const EVENT_RETENTION_DAYS = 90;
/** Overwritten or deleted versions are kept this long, to recover from a bad overwrite. */
export const NONCURRENT_VERSION_RETENTION_DAYS = 30;
/** Parts of uploads Firehose never completed are billed until aborted. */
export const ABORT_INCOMPLETE_UPLOAD_DAYS = 7;
/** Hive-style date partitions so Athena/Glue can prune by day. */
export const EVENTS_PREFIX = "delivery-events/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/";
/** Records Firehose could not deliver, partitioned by error type and day, kept apart from the data. */
export const ERRORS_PREFIX =
    "delivery-errors/!{firehose:error-output-type}/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/";

/** Firehose limits for the S3 destination (DirectPut, no dynamic partitioning). */
const BUFFER_INTERVAL_RANGE = { min: 0, max: 900 };
const BUFFER_SIZE_RANGE = { min: 1, max: 128 };
/** The provider appends a 26-character unique suffix to bucketPrefix; S3 names stop at 63. */
const MAX_BUCKET_PREFIX_LENGTH = 37;

/**
 * Delivery-event analytics: processors put delivery events in batches (firehose:PutRecordBatch) on a
 * DirectPut Firehose stream, which writes them GZIP-compressed into a date-partitioned, KMS-encrypted,
 * private, versioned S3 bucket — a few large objects per buffer window, not one object per message.
 */
export class Analytics extends pulumi.ComponentResource {
    public readonly bucket: aws.s3.Bucket;
    public readonly deliveryStream: aws.kinesis.FirehoseDeliveryStream;
    public readonly deliveryRole: aws.iam.Role;
    public readonly deliveryRolePolicy: aws.iam.RolePolicy;
    public readonly logGroup: aws.cloudwatch.LogGroup;
    public readonly logStream: aws.cloudwatch.LogStream;
    public readonly versioning: aws.s3.BucketVersioning;
    public readonly lifecycle: aws.s3.BucketLifecycleConfiguration;
    public readonly encryption: aws.s3.BucketServerSideEncryptionConfiguration;
    public readonly publicAccessBlock: aws.s3.BucketPublicAccessBlock;
    public readonly ownershipControls: aws.s3.BucketOwnershipControls;
    public readonly bucketPolicy: aws.s3.BucketPolicy;

    constructor(name: string, args: AnalyticsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("notify:analytics:Analytics", name, {}, opts);

        const bufferingIntervalSeconds = checkedRange(
            "bufferingIntervalSeconds",
            args.bufferingIntervalSeconds ?? 300,
            BUFFER_INTERVAL_RANGE,
        );
        const bufferingSizeMb = checkedRange("bufferingSizeMb", args.bufferingSizeMb ?? 64, BUFFER_SIZE_RANGE);

        const { stack, kmsKeyArn } = args;
        const streamName = `notify-${stack}-${name}`;
        const region = aws.getRegionOutput({}, { parent: this }).region;
        const accountId = aws.getCallerIdentityOutput({}, { parent: this }).accountId;

        const bucket = this.privateBucket(name, stack, kmsKeyArn);
        this.bucket = bucket.bucket;
        this.ownershipControls = bucket.ownershipControls;
        this.publicAccessBlock = bucket.publicAccessBlock;
        this.versioning = bucket.versioning;
        this.encryption = bucket.encryption;
        this.lifecycle = bucket.lifecycle;
        const bucketArn = this.bucket.arn;
        const objectsArn = pulumi.interpolate`${bucketArn}/*`;
        this.bucketPolicy = this.stackKeyOnlyPolicy(name, this.bucket, this.publicAccessBlock, kmsKeyArn);
        const logging = this.errorLogging(name, streamName, args.logRetentionDays, kmsKeyArn);
        this.logGroup = logging.logGroup;
        this.logStream = logging.logStream;
        const role = this.firehoseRole(name, streamName, {
            bucketArn,
            objectsArn,
            kmsKeyArn,
            accountId,
            region,
            ...logging,
        });
        this.deliveryRole = role.deliveryRole;
        this.deliveryRolePolicy = role.deliveryRolePolicy;

        this.deliveryStream = new aws.kinesis.FirehoseDeliveryStream(
            `${name}-delivery-stream`,
            {
                name: streamName,
                // No kinesisSourceConfiguration: a DirectPut stream fed by PutRecordBatch.
                destination: "extended_s3",
                // At rest inside Firehose, with the stack key (Firehose creates its own grant on it).
                serverSideEncryption: { enabled: true, keyType: "CUSTOMER_MANAGED_CMK", keyArn: kmsKeyArn },
                extendedS3Configuration: {
                    roleArn: this.deliveryRole.arn,
                    bucketArn,
                    prefix: EVENTS_PREFIX,
                    errorOutputPrefix: ERRORS_PREFIX,
                    compressionFormat: "GZIP",
                    bufferingInterval: bufferingIntervalSeconds,
                    bufferingSize: bufferingSizeMb,
                    kmsKeyArn,
                    cloudwatchLoggingOptions: {
                        enabled: true,
                        logGroupName: this.logGroup.name,
                        logStreamName: this.logStream.name,
                    },
                },
            },
            {
                parent: this,
                // Firehose checks its role and the bucket at creation: the permissions, encryption and
                // policy must be in place first.
                dependsOn: [this.deliveryRolePolicy, this.encryption, this.bucketPolicy, this.ownershipControls],
            },
        );

        this.registerOutputs({
            bucketName: this.bucket.bucket,
            bucketArn: this.bucket.arn,
            deliveryStreamName: this.deliveryStream.name,
            deliveryStreamArn: this.deliveryStream.arn,
        });
    }

    /** The bucket and its v7 split configuration resources: owner-enforced, private, versioned, stack key, lifecycle. */
    private privateBucket(name: string, stack: string, kmsKeyArn: pulumi.Input<string>) {
        const bucket = new aws.s3.Bucket(
            `${name}-bucket`,
            { bucketPrefix: bucketPrefix(name, stack) },
            { parent: this },
        );

        const ownershipControls = new aws.s3.BucketOwnershipControls(
            `${name}-ownership`,
            // ACLs disabled: the bucket owner owns every object, whoever wrote it.
            { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
            { parent: this },
        );

        const publicAccessBlock = new aws.s3.BucketPublicAccessBlock(
            `${name}-public-access-block`,
            {
                bucket: bucket.id,
                blockPublicAcls: true,
                blockPublicPolicy: true,
                ignorePublicAcls: true,
                restrictPublicBuckets: true,
            },
            { parent: this },
        );

        const versioning = new aws.s3.BucketVersioning(
            `${name}-versioning`,
            { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } },
            { parent: this },
        );

        const encryption = new aws.s3.BucketServerSideEncryptionConfiguration(
            `${name}-encryption`,
            {
                bucket: bucket.id,
                rules: [
                    {
                        applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: kmsKeyArn },
                        // One data key per bucket instead of one KMS call per object: cheaper and fewer
                        // KMS requests. Note it makes the encryption context the *bucket* ARN.
                        bucketKeyEnabled: true,
                        // Customer-provided keys would put objects out of reach of the stack key.
                        blockedEncryptionTypes: ["SSE-C"],
                    },
                ],
            },
            { parent: this },
        );

        const lifecycle = new aws.s3.BucketLifecycleConfiguration(
            `${name}-lifecycle`,
            {
                bucket: bucket.id,
                rules: [
                    {
                        id: "expire-delivery-events",
                        status: "Enabled",
                        filter: {}, // every object in the bucket
                        expiration: { days: EVENT_RETENTION_DAYS },
                        noncurrentVersionExpiration: { noncurrentDays: NONCURRENT_VERSION_RETENTION_DAYS },
                        abortIncompleteMultipartUpload: { daysAfterInitiation: ABORT_INCOMPLETE_UPLOAD_DAYS },
                    },
                    {
                        // Expiring a current version in a versioned bucket leaves a delete marker; once its
                        // noncurrent versions are gone the marker is alone and only costs list time.
                        // (expiredObjectDeleteMarker cannot share an expiration block with `days`.)
                        id: "remove-expired-delete-markers",
                        status: "Enabled",
                        filter: {},
                        expiration: { expiredObjectDeleteMarker: true },
                    },
                ],
            },
            // S3 rejects noncurrent-version rules in a race with enabling versioning.
            { parent: this, dependsOn: [versioning] },
        );

        return { bucket, ownershipControls, publicAccessBlock, versioning, encryption, lifecycle };
    }

    /** TLS only, and no object written with another algorithm or another key than the stack's. */
    private stackKeyOnlyPolicy(
        name: string,
        bucket: aws.s3.Bucket,
        publicAccessBlock: aws.s3.BucketPublicAccessBlock,
        kmsKeyArn: pulumi.Input<string>,
    ): aws.s3.BucketPolicy {
        const bucketArn = bucket.arn;
        const objectsArn = pulumi.interpolate`${bucketArn}/*`;
        return new aws.s3.BucketPolicy(
            `${name}-bucket-policy`,
            {
                bucket: bucket.id,
                policy: pulumi.jsonStringify({
                    Version: "2012-10-17",
                    Statement: [
                        denyInsecureTransport("s3", [bucketArn, objectsArn]),
                        {
                            // "IfExists": a PutObject without SSE headers (default encryption applies the
                            // stack key) and UploadPart (authorized as s3:PutObject, never carries SSE
                            // headers) must pass; only an explicit request for another algorithm is refused.
                            Sid: "DenyOtherEncryptionAlgorithm",
                            Effect: "Deny",
                            Principal: "*",
                            Action: "s3:PutObject",
                            Resource: objectsArn,
                            Condition: { StringNotEqualsIfExists: { "s3:x-amz-server-side-encryption": "aws:kms" } },
                        },
                        {
                            // Same reasoning: refuse an explicit request for any KMS key but the stack's.
                            // Firehose sends the key ARN configured below, which matches exactly.
                            Sid: "DenyOtherKmsKey",
                            Effect: "Deny",
                            Principal: "*",
                            Action: "s3:PutObject",
                            Resource: objectsArn,
                            Condition: {
                                StringNotEqualsIfExists: {
                                    "s3:x-amz-server-side-encryption-aws-kms-key-id": kmsKeyArn,
                                },
                            },
                        },
                    ],
                }),
            },
            // S3 refuses a bucket policy while the public access block is being written.
            { parent: this, dependsOn: [publicAccessBlock] },
        );
    }

    /** Where Firehose logs the records it could not deliver. */
    private errorLogging(name: string, streamName: string, logRetentionDays: number, kmsKeyArn: pulumi.Input<string>) {
        const logGroup = new aws.cloudwatch.LogGroup(
            `${name}-delivery-logs`,
            {
                name: `/aws/kinesisfirehose/${streamName}`,
                retentionInDays: logRetentionDays,
                kmsKeyId: kmsKeyArn,
            },
            { parent: this },
        );
        const logStream = new aws.cloudwatch.LogStream(
            `${name}-delivery-log-stream`,
            { logGroupName: logGroup.name, name: "DestinationDelivery" },
            { parent: this },
        );

        return { logGroup, logStream };
    }

    /** Firehose's role: this bucket, this key through S3, this log stream. */
    private firehoseRole(
        name: string,
        streamName: string,
        to: {
            bucketArn: pulumi.Output<string>;
            objectsArn: pulumi.Output<string>;
            kmsKeyArn: pulumi.Input<string>;
            accountId: pulumi.Output<string>;
            region: pulumi.Output<string>;
            logGroup: aws.cloudwatch.LogGroup;
            logStream: aws.cloudwatch.LogStream;
        },
    ) {
        const { bucketArn, objectsArn, kmsKeyArn, accountId, region, logGroup, logStream } = to;
        const deliveryRole = new aws.iam.Role(
            `${name}-delivery-role`,
            {
                description: `Lets the ${streamName} Firehose stream write delivery events to its bucket`,
                assumeRolePolicy: pulumi.jsonStringify({
                    Version: "2012-10-17",
                    Statement: [
                        {
                            Effect: "Allow",
                            Principal: { Service: "firehose.amazonaws.com" },
                            Action: "sts:AssumeRole",
                            // Firehose passes the account id as external id: no other account's stream can
                            // assume this role (confused deputy).
                            Condition: { StringEquals: { "sts:ExternalId": accountId } },
                        },
                    ],
                }),
            },
            { parent: this },
        );

        const deliveryRolePolicy = new aws.iam.RolePolicy(
            `${name}-delivery-policy`,
            {
                role: deliveryRole.id,
                policy: pulumi.jsonStringify({
                    Version: "2012-10-17",
                    Statement: [
                        {
                            Sid: "WriteBucket",
                            Effect: "Allow",
                            Action: [
                                "s3:AbortMultipartUpload",
                                "s3:GetBucketLocation",
                                "s3:GetObject",
                                "s3:ListBucket",
                                "s3:ListBucketMultipartUploads",
                                "s3:PutObject",
                            ],
                            Resource: [bucketArn, objectsArn],
                        },
                        {
                            Sid: "UseKeyThroughS3",
                            Effect: "Allow",
                            Action: ["kms:GenerateDataKey", "kms:Decrypt"],
                            Resource: kmsKeyArn,
                            Condition: {
                                StringEquals: { "kms:ViaService": pulumi.interpolate`s3.${region}.amazonaws.com` },
                                // With a bucket key the context is the bucket ARN; without, the object ARN.
                                StringLike: { "kms:EncryptionContext:aws:s3:arn": [bucketArn, objectsArn] },
                            },
                        },
                        {
                            Sid: "WriteDeliveryErrors",
                            Effect: "Allow",
                            Action: ["logs:PutLogEvents"],
                            Resource: pulumi.interpolate`${logGroup.arn}:log-stream:${logStream.name}`,
                        },
                    ],
                }),
            },
            { parent: this },
        );

        return { deliveryRole, deliveryRolePolicy };
    }
}

function bucketPrefix(name: string, stack: string): string {
    const prefix = `notify-${stack}-${name}-`;
    if (prefix.length > MAX_BUCKET_PREFIX_LENGTH) {
        throw new Error(
            `Analytics: bucket prefix '${prefix}' is longer than ${MAX_BUCKET_PREFIX_LENGTH} characters: use a shorter component name`,
        );
    }
    return prefix;
}

function checkedRange(key: string, value: number, range: { min: number; max: number }): number {
    if (!Number.isInteger(value) || value < range.min || value > range.max) {
        throw new Error(`Analytics: ${key} must be an integer between ${range.min} and ${range.max}, got ${value}`);
    }
    return value;
}
