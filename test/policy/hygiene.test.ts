import { expect } from "chai";
import { deniesInsecureTransport } from "../../policy/hygiene";
import { dependsOn, gate, keyArn, res, violationsOf } from "./harness";

const only = (name: string) => ({ all: "disabled", [name]: "mandatory" });
const tls = (action: string) =>
    JSON.stringify({
        Statement: [
            {
                Effect: "Deny",
                Principal: "*",
                Action: action,
                Resource: "arn",
                Condition: { Bool: { "aws:SecureTransport": "false" } },
            },
        ],
    });

describe("policy lambda-runtime-pinned", () => {
    it("accepts a supported runtime and rejects none, an old one, and ignoreChanges on runtime", () => {
        const report = gate(
            [
                res("aws:lambda/function:Function", "ok", { runtime: "nodejs22.x" }),
                res("aws:lambda/function:Function", "unset", {}),
                res("aws:lambda/function:Function", "old", { runtime: "nodejs18.x" }),
                res(
                    "aws:lambda/function:Function",
                    "floating",
                    { runtime: "nodejs22.x" },
                    { ignoreChanges: ["runtime"] },
                ),
                res("aws:lambda/function:Function", "image", { packageType: "Image" }),
            ],
            only("lambda-runtime-pinned"),
        );
        const found = violationsOf(report, "lambda-runtime-pinned");
        expect(found.map((v) => v.split(":")[0])).to.deep.equal(["unset", "old", "floating"]);
        expect(found[1]).to.contain("nodejs18.x is not one of the supported runtimes");
    });
});

describe("policy log-group-retention", () => {
    it("requires a retention within the configured maximum", () => {
        const report = gate(
            [
                res("aws:cloudwatch/logGroup:LogGroup", "ok", { retentionInDays: 30, kmsKeyId: keyArn }),
                res("aws:cloudwatch/logGroup:LogGroup", "forever", { kmsKeyId: keyArn }),
                res("aws:cloudwatch/logGroup:LogGroup", "long", { retentionInDays: 3653, kmsKeyId: keyArn }),
            ],
            { all: "disabled", "log-group-retention": { enforcementLevel: "mandatory", maxDays: 365 } },
        );
        expect(violationsOf(report, "log-group-retention")).to.deep.equal([
            "forever: retentionInDays is not set: the logs never expire.",
            "long: retentionInDays 3653 exceeds the 365 days allowed.",
        ]);
    });
});

describe("policy sqs-consumer-dlq (stack policy)", () => {
    const mapping = (name: string, queue: ReturnType<typeof res>) =>
        dependsOn(
            res("aws:lambda/eventSourceMapping:EventSourceMapping", name, {
                eventSourceArn: "arn:aws:sqs:eu-west-1:1:q",
                functionName: "f",
            }),
            "eventSourceArn",
            queue,
        );

    it("accepts a consumed queue with a DLQ and ignores queues nobody consumes", () => {
        const dlq = res("aws:sqs/queue:Queue", "dlq", {});
        const work = res("aws:sqs/queue:Queue", "work", {
            redrivePolicy: JSON.stringify({ deadLetterTargetArn: "arn:aws:sqs:eu-west-1:1:dlq", maxReceiveCount: 5 }),
        });
        expect(
            violationsOf(gate([dlq, work, mapping("m", work)], only("sqs-consumer-dlq")), "sqs-consumer-dlq"),
        ).to.deep.equal([]);
    });

    it("rejects a consumed queue without a redrive policy or with a low maxReceiveCount", () => {
        const bare = res("aws:sqs/queue:Queue", "bare", {});
        const eager = res("aws:sqs/queue:Queue", "eager", {
            redrivePolicy: JSON.stringify({ deadLetterTargetArn: "arn:aws:sqs:eu-west-1:1:dlq", maxReceiveCount: 1 }),
        });
        const found = violationsOf(
            gate([bare, eager, mapping("m1", bare), mapping("m2", eager)], only("sqs-consumer-dlq")),
            "sqs-consumer-dlq",
        );
        expect(found).to.have.length(2);
        expect(found[0]).to.match(/^bare: Queue consumed by m1 has no redrivePolicy/);
        expect(found[1]).to.match(/^eager: Queue consumed by m2 has maxReceiveCount 1; use at least 5/);
    });

    it("finds the queue by its ARN when no dependency is recorded", () => {
        const bare = res("aws:sqs/queue:Queue", "bare", { arn: "arn:aws:sqs:eu-west-1:1:bare" });
        const m = res("aws:lambda/eventSourceMapping:EventSourceMapping", "m", {
            eventSourceArn: "arn:aws:sqs:eu-west-1:1:bare",
            functionName: "f",
        });
        expect(violationsOf(gate([bare, m], only("sqs-consumer-dlq")), "sqs-consumer-dlq")).to.have.length(1);
    });
});

describe("policy s3-public-access-blocked (stack policy)", () => {
    it("requires a public access block with all four settings", () => {
        const full = res("aws:s3/bucket:Bucket", "full", {});
        const partial = res("aws:s3/bucket:Bucket", "partial", {});
        const none = res("aws:s3/bucket:Bucket", "none", {});
        const pab = (name: string, flags: object) =>
            res("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", name, { bucket: "id", ...flags });
        const all = {
            blockPublicAcls: true,
            blockPublicPolicy: true,
            ignorePublicAcls: true,
            restrictPublicBuckets: true,
        };
        const report = gate(
            [
                full,
                partial,
                none,
                dependsOn(pab("full-pab", all), "bucket", full),
                dependsOn(pab("partial-pab", { ...all, restrictPublicBuckets: false }), "bucket", partial),
            ],
            only("s3-public-access-blocked"),
        );
        expect(violationsOf(report, "s3-public-access-blocked")).to.deep.equal([
            "partial: The public access block leaves restrictPublicBuckets off.",
            "none: No BucketPublicAccessBlock refers to this bucket.",
        ]);
    });
});

describe("policy tls-only-access (stack policy)", () => {
    it("follows AWS guidance per service: s3:* and sqs:* for buckets and queues, sns:Publish for topics", () => {
        expect(deniesInsecureTransport(tls("s3:*"), "s3")).to.equal(true);
        expect(deniesInsecureTransport(tls("s3:GetObject"), "s3")).to.equal(false);
        expect(deniesInsecureTransport(tls("*"), "sqs")).to.equal(true);
        expect(deniesInsecureTransport(tls("sns:Publish"), "sns")).to.equal(true);
        expect(deniesInsecureTransport(tls("sns:Subscribe"), "sns")).to.equal(false);
        const allow = JSON.stringify({
            Statement: [
                {
                    Effect: "Allow",
                    Principal: "*",
                    Action: "sqs:*",
                    Resource: "a",
                    Condition: { Bool: { "aws:SecureTransport": "false" } },
                },
            ],
        });
        expect(deniesInsecureTransport(allow, "sqs")).to.equal(false);
    });

    it("accepts resources whose policy resource (or inline policy) denies non-TLS, rejects the others", () => {
        const bucket = res("aws:s3/bucket:Bucket", "bucket", {});
        const topic = res("aws:sns/topic:Topic", "topic", { policy: tls("sns:Publish") });
        const queue = res("aws:sqs/queue:Queue", "queue", {});
        const bare = res("aws:sqs/queue:Queue", "bare", {});
        const weak = res("aws:sqs/queue:Queue", "weak", {});
        const report = gate(
            [
                bucket,
                topic,
                queue,
                bare,
                weak,
                dependsOn(
                    res("aws:s3/bucketPolicy:BucketPolicy", "bucket-policy", { bucket: "id", policy: tls("s3:*") }),
                    "bucket",
                    bucket,
                ),
                dependsOn(
                    res("aws:sqs/queuePolicy:QueuePolicy", "queue-policy", { queueUrl: "u", policy: tls("sqs:*") }),
                    "queueUrl",
                    queue,
                ),
                dependsOn(
                    res("aws:sqs/queuePolicy:QueuePolicy", "weak-policy", {
                        queueUrl: "w",
                        policy: tls("sqs:SendMessage"),
                    }),
                    "queueUrl",
                    weak,
                ),
            ],
            only("tls-only-access"),
        );
        expect(violationsOf(report, "tls-only-access")).to.deep.equal([
            "bare: No QueuePolicy refers to this resource, so nothing denies non-TLS access.",
            "weak: Its policy has no Deny on aws:SecureTransport = false.",
        ]);
    });
});
