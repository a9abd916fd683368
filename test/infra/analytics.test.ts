import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import {
    ABORT_INCOMPLETE_UPLOAD_DAYS,
    Analytics,
    EVENT_RETENTION_DAYS,
    NONCURRENT_VERSION_RETENTION_DAYS,
} from "../../infra/analytics";

const ACCOUNT = "123456789012";
const REGION = "us-east-1";
const KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/analytics-test-key`;

interface Recorded {
    type: string;
    name: string;
    inputs: any;
}

/** Mock state that makes ARNs and names look like AWS's, so policies can be checked against them. */
function mockState(type: string, name: string, inputs: any): Record<string, any> {
    switch (type) {
        case "aws:s3/bucket:Bucket": {
            const bucket = `${inputs.bucketPrefix ?? name}0001`;
            return { ...inputs, bucket, arn: `arn:aws:s3:::${bucket}` };
        }
        case "aws:cloudwatch/logGroup:LogGroup":
            return { ...inputs, arn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${inputs.name}` };
        case "aws:iam/role:Role":
            return { ...inputs, name, arn: `arn:aws:iam::${ACCOUNT}:role/${name}` };
        case "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream":
            return { ...inputs, arn: `arn:aws:firehose:${REGION}:${ACCOUNT}:deliverystream/${inputs.name}` };
        default:
            return { ...inputs, arn: `arn:aws:mock:${REGION}:${ACCOUNT}:${name}` };
    }
}

const settle = <T>(o: pulumi.Output<T>) => new Promise<T>((resolve) => o.apply(resolve));
const policyOf = (r: Recorded) => JSON.parse(r.inputs.policy);

describe("infra/analytics: Analytics component", function () {
    let recorded: Recorded[];
    let analytics: Analytics;
    let custom: Analytics;
    const one = (type: string, owner = "events"): Recorded => {
        const found = recorded.filter((r) => r.type === type && r.name.startsWith(`${owner}-`));
        expect(found, `${type} of ${owner}`).to.have.length(1);
        return found[0];
    };

    before(async function () {
        recorded = [];
        // setMocks is process-global and other test files set their own: set ours first, create and
        // settle every resource inside this hook.
        await pulumi.runtime.setMocks(
            {
                newResource: (args) => {
                    recorded.push({ type: args.type, name: args.name, inputs: args.inputs });
                    return { id: `${args.name}-id`, state: mockState(args.type, args.name, args.inputs) };
                },
                call: (args) => {
                    if (args.token === "aws:index/getCallerIdentity:getCallerIdentity") {
                        return {
                            accountId: ACCOUNT,
                            arn: `arn:aws:iam::${ACCOUNT}:user/test`,
                            id: ACCOUNT,
                            userId: "AIDTEST",
                        };
                    }
                    if (args.token === "aws:index/getRegion:getRegion") {
                        return {
                            region: REGION,
                            name: REGION,
                            id: REGION,
                            description: "US East (N. Virginia)",
                            endpoint: "",
                        };
                    }
                    throw new Error(`unexpected call ${args.token}`);
                },
            },
            "notify",
            "dev",
            false,
        );
        analytics = new Analytics("events", { stack: "dev", kmsKeyArn: KEY_ARN, logRetentionDays: 30 });
        custom = new Analytics("tuned", {
            stack: "dev",
            kmsKeyArn: KEY_ARN,
            logRetentionDays: 7,
            bufferingIntervalSeconds: 60,
            bufferingSizeMb: 128,
        });
        for (const a of [analytics, custom]) {
            await Promise.all(childrenOf(a).map((c) => settle(c.urn)));
            await settle(a.deliveryStream.arn);
        }
    });

    it("parents every child to the component", async function () {
        const urns = await Promise.all(childrenOf(analytics).map((c) => settle(c.urn)));
        for (const urn of urns) expect(urn).to.include("notify:analytics:Analytics$");
        // Every AWS resource created for "events" is one the component exposes (nothing hidden).
        expect(recorded.filter((r) => r.name.startsWith("events-"))).to.have.length(childrenOf(analytics).length);
    });

    it("versions the bucket and keeps it private and owner-enforced", function () {
        expect(one("aws:s3/bucketVersioning:BucketVersioning").inputs.versioningConfiguration.status).to.equal(
            "Enabled",
        );
        const pab = one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs;
        expect(pab).to.include({
            blockPublicAcls: true,
            blockPublicPolicy: true,
            ignorePublicAcls: true,
            restrictPublicBuckets: true,
        });
        const ownership = one("aws:s3/bucketOwnershipControls:BucketOwnershipControls").inputs;
        expect(ownership.rule.objectOwnership).to.equal("BucketOwnerEnforced");
        const bucketName = one("aws:s3/bucket:Bucket").inputs.bucketPrefix;
        expect(bucketName).to.match(/^notify-dev-events-/);
        expect(bucketName.length).to.be.at.most(37); // the provider's bucketPrefix limit
    });

    it("encrypts the bucket with the stack key and a bucket key, blocking SSE-C", function () {
        const [rule] = one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
            .inputs.rules;
        expect(rule.applyServerSideEncryptionByDefault).to.deep.equal({
            sseAlgorithm: "aws:kms",
            kmsMasterKeyId: KEY_ARN,
        });
        expect(rule.bucketKeyEnabled).to.equal(true);
        expect(rule.blockedEncryptionTypes).to.deep.equal(["SSE-C"]);
    });

    it("expires current objects, non-current versions, incomplete uploads and orphan delete markers", function () {
        const rules: any[] = one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs.rules;
        expect(rules.every((r) => r.status === "Enabled")).to.equal(true);
        const main = rules.find((r) => r.expiration?.days !== undefined);
        expect(main.expiration.days).to.equal(EVENT_RETENTION_DAYS).and.to.equal(90);
        expect(main.noncurrentVersionExpiration.noncurrentDays)
            .to.equal(NONCURRENT_VERSION_RETENTION_DAYS)
            .and.to.equal(30);
        expect(main.abortIncompleteMultipartUpload.daysAfterInitiation).to.equal(ABORT_INCOMPLETE_UPLOAD_DAYS);
        expect(rules.some((r) => r.expiration?.expiredObjectDeleteMarker === true)).to.equal(true);
        // Every rule has a filter (no deprecated rule-level prefix) so it applies to the whole bucket.
        for (const r of rules) {
            expect(r).to.have.property("filter");
            expect(r).not.to.have.property("prefix");
        }
    });

    it("denies non-TLS access to bucket and objects, and uploads that ask for another key or algorithm", function () {
        const bucket = one("aws:s3/bucket:Bucket");
        const bucketArn = mockState(bucket.type, bucket.name, bucket.inputs).arn;
        const statements: any[] = policyOf(one("aws:s3/bucketPolicy:BucketPolicy")).Statement;
        expect(statements.every((s) => s.Effect === "Deny")).to.equal(true);

        const tls = statements.find((s) => s.Condition?.Bool?.["aws:SecureTransport"] === "false");
        expect(tls, "TLS deny").to.exist;
        expect(tls.Principal).to.equal("*");
        expect(tls.Resource).to.have.members([bucketArn, `${bucketArn}/*`]);

        const otherKey = statements.find(
            (s) => s.Condition?.StringNotEqualsIfExists?.["s3:x-amz-server-side-encryption-aws-kms-key-id"],
        );
        expect(otherKey.Action).to.equal("s3:PutObject");
        expect(otherKey.Condition.StringNotEqualsIfExists["s3:x-amz-server-side-encryption-aws-kms-key-id"]).to.equal(
            KEY_ARN,
        );
        const otherAlgorithm = statements.find(
            (s) => s.Condition?.StringNotEqualsIfExists?.["s3:x-amz-server-side-encryption"],
        );
        expect(otherAlgorithm.Condition.StringNotEqualsIfExists["s3:x-amz-server-side-encryption"]).to.equal("aws:kms");
    });

    it("creates a DirectPut Firehose stream, encrypted with the key, writing date-partitioned GZIP batches", function () {
        const stream = one("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream").inputs;
        expect(stream.name).to.equal("notify-dev-events");
        expect(stream.destination).to.equal("extended_s3");
        expect(stream).not.to.have.property("kinesisSourceConfiguration");
        expect(stream.serverSideEncryption).to.deep.equal({
            enabled: true,
            keyType: "CUSTOMER_MANAGED_CMK",
            keyArn: KEY_ARN,
        });

        const s3 = stream.extendedS3Configuration;
        expect(s3.prefix).to.match(
            /^delivery-events\/year=!\{timestamp:yyyy\}\/month=!\{timestamp:MM\}\/day=!\{timestamp:dd\}\/$/,
        );
        expect(s3.errorOutputPrefix).to.include("!{firehose:error-output-type}");
        expect(s3.errorOutputPrefix.startsWith("delivery-events/")).to.equal(false);
        expect(s3.compressionFormat).to.equal("GZIP");
        expect(s3.bufferingInterval).to.equal(300);
        expect(s3.bufferingSize).to.equal(64);
        expect(s3.kmsKeyArn).to.equal(KEY_ARN);
        const bucket = one("aws:s3/bucket:Bucket");
        expect(s3.bucketArn).to.equal(mockState(bucket.type, bucket.name, bucket.inputs).arn);
        expect(s3.roleArn).to.equal(`arn:aws:iam::${ACCOUNT}:role/events-delivery-role`);

        const logGroup = one("aws:cloudwatch/logGroup:LogGroup").inputs;
        const logStream = one("aws:cloudwatch/logStream:LogStream").inputs;
        expect(s3.cloudwatchLoggingOptions).to.deep.equal({
            enabled: true,
            logGroupName: logGroup.name,
            logStreamName: logStream.name,
        });
        expect(logStream.logGroupName).to.equal(logGroup.name);
    });

    it("takes buffering from its args", function () {
        const s3 = one("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream", "tuned").inputs
            .extendedS3Configuration;
        expect(s3.bufferingInterval).to.equal(60);
        expect(s3.bufferingSize).to.equal(128);
        expect(one("aws:cloudwatch/logGroup:LogGroup", "tuned").inputs.retentionInDays).to.equal(7);
    });

    it("keeps its own log group with retention and the key", function () {
        const logGroup = one("aws:cloudwatch/logGroup:LogGroup").inputs;
        expect(logGroup.name).to.equal("/aws/kinesisfirehose/notify-dev-events");
        expect(logGroup.retentionInDays).to.equal(30);
        expect(logGroup.kmsKeyId).to.equal(KEY_ARN);
    });

    it("lets only Firehose of this account assume the delivery role", function () {
        const trust = JSON.parse(one("aws:iam/role:Role").inputs.assumeRolePolicy);
        expect(trust.Statement).to.have.length(1);
        expect(trust.Statement[0].Principal).to.deep.equal({ Service: "firehose.amazonaws.com" });
        expect(trust.Statement[0].Condition).to.deep.equal({ StringEquals: { "sts:ExternalId": ACCOUNT } });
    });

    it("gives the delivery role least privilege: this bucket, the key through S3 only, its log stream", function () {
        const bucket = one("aws:s3/bucket:Bucket");
        const bucketArn = mockState(bucket.type, bucket.name, bucket.inputs).arn;
        const statements: any[] = policyOf(one("aws:iam/rolePolicy:RolePolicy")).Statement;
        for (const s of statements) {
            expect(s.Effect).to.equal("Allow");
            for (const action of [s.Action].flat()) expect(action).not.to.match(/(^\*$|:\*$)/);
            for (const resource of [s.Resource].flat()) expect(resource).not.to.equal("*");
        }
        const s3 = statements.find((s) => [s.Action].flat().includes("s3:PutObject"));
        expect(s3.Resource).to.have.members([bucketArn, `${bucketArn}/*`]);
        expect([s3.Action].flat().every((a: string) => a.startsWith("s3:"))).to.equal(true);

        const kms = statements.find((s) => [s.Action].flat().includes("kms:GenerateDataKey"));
        expect(kms.Action).to.have.members(["kms:GenerateDataKey", "kms:Decrypt"]);
        expect(kms.Resource).to.equal(KEY_ARN);
        expect(kms.Condition.StringEquals["kms:ViaService"]).to.equal(`s3.${REGION}.amazonaws.com`);
        expect(kms.Condition.StringLike["kms:EncryptionContext:aws:s3:arn"]).to.have.members([
            bucketArn,
            `${bucketArn}/*`,
        ]);

        const logs = statements.find((s) => [s.Action].flat().includes("logs:PutLogEvents"));
        expect(logs.Action).to.deep.equal(["logs:PutLogEvents"]);
        expect(logs.Resource).to.equal(
            `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/kinesisfirehose/notify-dev-events:log-stream:DestinationDelivery`,
        );
        expect(statements).to.have.length(3);
    });

    it("rejects buffering outside Firehose's limits with a message naming the setting", function () {
        expect(
            () => new Analytics("bad1", { stack: "dev", kmsKeyArn: KEY_ARN, logRetentionDays: 30, bufferingSizeMb: 0 }),
        ).to.throw(/bufferingSizeMb must be an integer between 1 and 128, got 0/);
        expect(
            () =>
                new Analytics("bad2", {
                    stack: "dev",
                    kmsKeyArn: KEY_ARN,
                    logRetentionDays: 30,
                    bufferingIntervalSeconds: 901,
                }),
        ).to.throw(/bufferingIntervalSeconds must be an integer between 0 and 900, got 901/);
        // Validation happens before any child is created.
        expect(recorded.filter((r) => r.name.startsWith("bad"))).to.have.length(0);
    });
});

function childrenOf(a: Analytics): pulumi.CustomResource[] {
    return [
        a.bucket,
        a.deliveryStream,
        a.deliveryRole,
        a.deliveryRolePolicy,
        a.logGroup,
        a.logStream,
        a.versioning,
        a.lifecycle,
        a.encryption,
        a.publicAccessBlock,
        a.ownershipControls,
        a.bucketPolicy,
    ];
}
