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
        {
            type: "aws:secretsmanager/secret:Secret",
            good: { kmsKeyId: keyArn },
            bad: {},
            expected: "kmsKeyId is not set (Secrets Manager would use the AWS-managed key aws/secretsmanager)",
        },
        {
            type: "aws:ecr/repository:Repository",
            good: { encryptionConfigurations: [{ encryptionType: "KMS", kmsKey: keyArn }] },
            bad: {},
            expected:
                'encryptionConfigurations[0].encryptionType is not "KMS" (ECR would use AES256, S3-managed keys owned by AWS)',
        },
        {
            type: "aws:ecr/repository:Repository",
            good: { encryptionConfigurations: [{ encryptionType: "KMS", kmsKey: keyArn }] },
            bad: { encryptionConfigurations: [{ encryptionType: "KMS" }] },
            expected: "encryptionConfigurations[0].kmsKey is not set (ECR would use the AWS-managed key aws/ecr)",
        },
        {
            type: "aws:ssm/parameter:Parameter",
            good: { type: "SecureString", value: "[secret]", keyId: keyArn },
            bad: { type: "SecureString", value: "[secret]" },
            expected: "keyId (SecureString) is not set (SSM would use the AWS-managed key alias/aws/ssm)",
        },
        {
            type: "aws:kinesis/stream:Stream",
            good: { encryptionType: "KMS", kmsKeyId: keyArn },
            bad: {},
            expected: 'encryptionType is not "KMS" (the default NONE leaves the stream unencrypted)',
        },
        {
            type: "aws:kinesis/stream:Stream",
            good: { encryptionType: "KMS", kmsKeyId: keyArn },
            bad: { encryptionType: "KMS", kmsKeyId: "alias/aws/kinesis" },
            expected: "kmsKeyId is the AWS-managed key alias/aws/kinesis",
        },
        {
            type: "aws:athena/workgroup:Workgroup",
            good: {
                configuration: {
                    resultConfiguration: {
                        encryptionConfiguration: { encryptionOption: "SSE_KMS", kmsKeyArn: keyArn },
                    },
                },
            },
            bad: { configuration: { resultConfiguration: { outputLocation: "s3://results/" } } },
            expected:
                "configuration.resultConfiguration.encryptionConfiguration.encryptionOption is not SSE_KMS or CSE_KMS (query results would get the output bucket's default, SSE-S3",
        },
        {
            type: "aws:athena/workgroup:Workgroup",
            good: {
                configuration: {
                    managedQueryResultsConfiguration: { enabled: true, encryptionConfiguration: { kmsKey: keyArn } },
                },
            },
            bad: { configuration: { managedQueryResultsConfiguration: { enabled: true } } },
            expected:
                "configuration.managedQueryResultsConfiguration.encryptionConfiguration.kmsKey is not set (Athena would use an AWS-owned key)",
        },
        {
            type: "aws:efs/fileSystem:FileSystem",
            good: { encrypted: true, kmsKeyId: keyArn },
            bad: { encrypted: true },
            expected: "kmsKeyId is not set (EFS would use the AWS-managed key aws/elasticfilesystem)",
        },
        {
            type: "aws:rds/instance:Instance",
            good: { storageEncrypted: true, kmsKeyId: keyArn },
            bad: {},
            expected: "storageEncrypted is not true (RDS defaults to unencrypted storage)",
        },
        {
            type: "aws:rds/cluster:Cluster",
            good: { engine: "aurora-postgresql", storageEncrypted: true, kmsKeyId: keyArn },
            bad: { engine: "aurora-postgresql", storageEncrypted: true },
            expected: "kmsKeyId is not set (RDS would use the AWS-managed key aws/rds)",
        },
        {
            type: "aws:elasticache/replicationGroup:ReplicationGroup",
            good: { atRestEncryptionEnabled: true, kmsKeyId: keyArn },
            bad: { atRestEncryptionEnabled: true },
            expected: "kmsKeyId is not set (ElastiCache would use a service-owned key)",
        },
        {
            type: "aws:opensearch/domain:Domain",
            good: { encryptAtRest: { enabled: true, kmsKeyId: keyArn } },
            bad: { encryptAtRest: { enabled: true } },
            expected: "encryptAtRest.kmsKeyId is not set (OpenSearch would use the AWS-managed key aws/es)",
        },
        {
            type: "aws:backup/vault:Vault",
            good: { kmsKeyArn: keyArn },
            bad: {},
            expected: "kmsKeyArn is not set (AWS Backup would use the AWS-managed key aws/backup)",
        },
    ];
    for (const c of cases) {
        it(`accepts a ${c.type} with the CMK and rejects ${JSON.stringify(c.bad)}`, () => {
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

    it("leaves an ECR or Athena encryption block computed during preview to the update (as it does key references)", () => {
        const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
        const report = gate(
            [
                res("aws:ecr/repository:Repository", "repo", { encryptionConfigurations: unknown }),
                res("aws:athena/workgroup:Workgroup", "wg", { configuration: unknown }),
            ],
            only(policy),
        );
        expect(report.violations).to.deep.equal([]);
    });

    it("needs no key for SSM String parameters (only SecureString is encrypted)", () => {
        const report = gate(
            [res("aws:ssm/parameter:Parameter", "plain", { type: "String", value: "v" })],
            only(policy),
        );
        expect(violationsOf(report, policy)).to.deep.equal([]);
    });

    it("judges an RDS read replica only by a literal AWS-managed key (it inherits its source's encryption)", () => {
        const report = gate(
            [
                res("aws:rds/instance:Instance", "replica", { replicateSourceDb: "source-db" }),
                res("aws:rds/instance:Instance", "aws-key", {
                    replicateSourceDb: "source-db",
                    kmsKeyId: "alias/aws/rds",
                }),
            ],
            only(policy),
        );
        expect(violationsOf(report, policy)).to.deep.equal([
            "aws-key: kmsKeyId is the AWS-managed key alias/aws/rds, not the stack's customer-managed key.",
        ]);
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
