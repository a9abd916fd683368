import { expect } from "chai";
import { isAwsManagedKeyReference } from "../../policy/encryption";
import { dependsOn, gate, keyArn, res, violationsOf } from "./harness";

const policy = "encryption-at-rest-cmk";
const only = (name: string) => ({ all: "disabled", [name]: "mandatory" });

describe("policy encryption-at-rest-cmk", () => {
    const cases: { type: string; good: object; bad: object; expected: string }[] = [
        {
            type: "aws:sns/topic:Topic",
            good: { kmsMasterKeyId: keyArn },
            bad: { kmsMasterKeyId: "alias/aws/sns" },
            expected: "kmsMasterKeyId is the AWS-managed key alias/aws/sns",
        },
        {
            type: "aws:sqs/queue:Queue",
            good: { kmsMasterKeyId: keyArn },
            bad: { sqsManagedSseEnabled: true },
            expected: "kmsMasterKeyId is not set (SSE-SQS is not allowed",
        },
        {
            type: "aws:dynamodb/table:Table",
            good: { serverSideEncryption: { enabled: true, kmsKeyArn: keyArn } },
            bad: { serverSideEncryption: { enabled: true } },
            expected: "serverSideEncryption.kmsKeyArn is not set",
        },
        {
            type: "aws:cloudwatch/logGroup:LogGroup",
            good: { kmsKeyId: keyArn, retentionInDays: 30 },
            bad: { retentionInDays: 30 },
            expected: "kmsKeyId is not set",
        },
        {
            type: "aws:lambda/function:Function",
            good: { kmsKeyArn: keyArn, environment: { variables: { A: "1" } } },
            bad: { environment: { variables: { A: "1" } } },
            expected: "kmsKeyArn (environment variables) is not set",
        },
        {
            type: "aws:scheduler/schedule:Schedule",
            good: { kmsKeyArn: keyArn },
            bad: {},
            expected: "kmsKeyArn is not set",
        },
        {
            type: "aws:pipes/pipe:Pipe",
            good: { kmsKeyIdentifier: keyArn },
            bad: { kmsKeyIdentifier: "arn:aws:kms:eu-west-1:1:alias/aws/pipes" },
            expected: "kmsKeyIdentifier is the AWS-managed key arn:aws:kms:eu-west-1:1:alias/aws/pipes",
        },
        {
            type: "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream",
            good: {
                serverSideEncryption: { enabled: true, keyType: "CUSTOMER_MANAGED_CMK", keyArn },
                extendedS3Configuration: { kmsKeyArn: keyArn },
            },
            bad: {
                serverSideEncryption: { enabled: true, keyType: "AWS_OWNED_CMK" },
                extendedS3Configuration: { kmsKeyArn: keyArn },
            },
            expected: 'serverSideEncryption.keyType is not "CUSTOMER_MANAGED_CMK"',
        },
    ];
    for (const c of cases) {
        it(`accepts a ${c.type} with the CMK and rejects one without`, () => {
            const good = gate([res(c.type, "good", c.good)], only(policy));
            expect(violationsOf(good, policy)).to.deep.equal([]);
            const bad = gate([res(c.type, "bad", c.bad)], only(policy));
            const found = violationsOf(bad, policy);
            expect(found).to.have.length(1);
            expect(found[0]).to.contain(`bad: ${c.expected}`);
        });
    }

    it("allows SSE-SQS only for queues the config names", () => {
        const config = { all: "disabled", [policy]: { enforcementLevel: "mandatory", sseSqsAllowed: ["scratch-*"] } };
        const report = gate(
            [
                res("aws:sqs/queue:Queue", "scratch-1", {}),
                res("aws:sqs/queue:Queue", "orders", {}),
                res("aws:sqs/queue:Queue", "scratch-2", { sqsManagedSseEnabled: false }),
            ],
            config,
        );
        expect(violationsOf(report, policy).map((v) => v.split(":")[0])).to.deep.equal(["orders", "scratch-2"]);
    });

    it("needs no key for a function without environment variables", () => {
        expect(
            violationsOf(
                gate([res("aws:lambda/function:Function", "fn", { runtime: "nodejs22.x" })], only(policy)),
                policy,
            ),
        ).to.deep.equal([]);
    });

    it("recognises AWS-managed key references in every form", () => {
        expect(isAwsManagedKeyReference("alias/aws/sqs")).to.equal(true);
        expect(isAwsManagedKeyReference("arn:aws:kms:eu-west-1:123456789012:alias/aws/sns")).to.equal(true);
        expect(isAwsManagedKeyReference("alias/notify-prod")).to.equal(false);
        expect(isAwsManagedKeyReference(keyArn)).to.equal(false);
    });
});

describe("policy kms-key-rotation", () => {
    it("requires rotation on symmetric keys only", () => {
        const report = gate(
            [
                res("aws:kms/key:Key", "rotating", { enableKeyRotation: true }),
                res("aws:kms/key:Key", "static", {}),
                res("aws:kms/key:Key", "signing", { customerMasterKeySpec: "RSA_2048", keyUsage: "SIGN_VERIFY" }),
            ],
            only("kms-key-rotation"),
        );
        expect(violationsOf(report, "kms-key-rotation")).to.deep.equal(["static: enableKeyRotation is not true."]);
    });
});

describe("policy s3-bucket-encryption-cmk (stack policy over the v7 split resources)", () => {
    const sse = (name: string, algorithm: string, kmsMasterKeyId?: string) =>
        res("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", name, {
            bucket: "computed-id",
            rules: [
                {
                    applyServerSideEncryptionByDefault: {
                        sseAlgorithm: algorithm,
                        ...(kmsMasterKeyId ? { kmsMasterKeyId } : {}),
                    },
                },
            ],
        });

    it("accepts a bucket whose encryption configuration depends on it and uses aws:kms with the CMK", () => {
        const bucket = res("aws:s3/bucket:Bucket", "data", {});
        const report = gate(
            [bucket, dependsOn(sse("data-sse", "aws:kms", keyArn), "bucket", bucket)],
            only("s3-bucket-encryption-cmk"),
        );
        expect(violationsOf(report, "s3-bucket-encryption-cmk")).to.deep.equal([]);
    });

    it("links by equal bucket name when there is no dependency", () => {
        const bucket = res("aws:s3/bucket:Bucket", "named", { bucket: "my-bucket" });
        const config = {
            ...sse("named-sse", "aws:kms", keyArn),
            inputs: { ...sse("x", "aws:kms", keyArn).inputs, bucket: "my-bucket" },
        };
        expect(
            violationsOf(gate([bucket, config], only("s3-bucket-encryption-cmk")), "s3-bucket-encryption-cmk"),
        ).to.deep.equal([]);
    });

    it("rejects a bucket without configuration, with SSE-S3, or with aws:kms but no key", () => {
        const none = res("aws:s3/bucket:Bucket", "none", {});
        const s3 = res("aws:s3/bucket:Bucket", "sses3", {});
        const nokey = res("aws:s3/bucket:Bucket", "nokey", {});
        const other = res("aws:s3/bucket:Bucket", "other", {});
        const report = gate(
            [
                none,
                s3,
                nokey,
                other,
                dependsOn(sse("sses3-sse", "AES256"), "bucket", s3),
                dependsOn(sse("nokey-sse", "aws:kms"), "bucket", nokey),
            ],
            only("s3-bucket-encryption-cmk"),
        );
        expect(violationsOf(report, "s3-bucket-encryption-cmk")).to.deep.equal([
            "none: No server-side encryption configuration refers to this bucket (S3 would use SSE-S3).",
            'sses3: sses3-sse: no rule with sseAlgorithm "aws:kms".',
            "nokey: nokey-sse: kmsMasterKeyId is not set.",
            "other: No server-side encryption configuration refers to this bucket (S3 would use SSE-S3).",
        ]);
    });
});
