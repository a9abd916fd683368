import { expect } from "chai";
import { TABLES } from "../../infra/tables";
import { type CallProfile, itemBytes, profileCalls, valueBytes } from "../../toolkit/bench/call-profile";
import { type ChannelMeasurement, capacityModel, costPerDelivered, hotKeyAtPeak } from "../../toolkit/bench/capacity";
import type { Prices } from "../../toolkit/bench/prices";
import { spread } from "../../toolkit/bench/stats";

/** Round prices, so every expected figure below is checked by hand. */
const PRICES: Prices = {
    region: "test-region-1",
    date: "2026-01-01",
    currency: "USD",
    lambda: { perGbSecondArm64: 0.00001, perRequest: 2e-7 },
    dynamodb: { perWriteRequestUnit: 1e-6, perReadRequestUnit: 2e-7 },
    sns: { perPublishRequest: 5e-7, perMobilePushDelivery: 5e-7 },
    ses: { perEmail: 1e-4 },
    firehose: { perGbIngested: 0.03, recordRoundingBytes: 5120 },
    sqs: { perRequest: 4e-7 },
    cloudwatch: { perLogGbIngested: 0.5, perPutMetricDataRequest: 1e-5 },
    s3: { perPutRequest: 5e-6 },
    scheduler: { perInvocation: 1e-6 },
    carriers: {
        sms: { destination: "test", awsPerMessage: 0.006, carrierFeePerMessage: 0.003, source: "test" },
        push: { apns: 0, fcm: 0, source: "test" },
    },
};

const profile = (over: Partial<CallProfile>): CallProfile => ({
    operations: {},
    tables: {},
    firehose: { requests: 0, records: 0, bytes: 0, billedBytes: 0 },
    ...over,
});

/** 100 pushes from 50 messages in 2 batches of 10 ms per delivered notification at 1,024 MB. */
const push: ChannelMeasurement = {
    design: "ours",
    channel: "push",
    function: "push-sender-fn",
    memoryMb: 1024,
    delivered: 100,
    messages: 50,
    invocations: 2,
    msPerDelivered: { samples: 2, min: 5, p10: 5, median: 10, p90: 20, max: 20 },
    profile: profile({
        operations: { "SNS.Publish": 100, "DynamoDB.BatchGetItem": 2, "Firehose.PutRecordBatch": 2 },
        tables: {
            deliveryLog: {
                readUnits: 50,
                writeUnits: 200,
                hottestWrite: { attribute: "notificationId", value: "n1", units: 10, share: 0.05, distinctKeys: 2 },
            },
            templates: {
                readUnits: 10,
                writeUnits: 0,
                hottestRead: { attribute: "templateId", value: "t1", units: 5, share: 0.5, distinctKeys: 1 },
            },
        },
        firehose: { requests: 2, records: 100, bytes: 30_000, billedBytes: 512_000 },
    }),
    logBytes: 0,
    configuredMaxConcurrency: 50,
};

describe("bench capacity model (hand-checked arithmetic)", function () {
    it("prices a push delivery part by part", function () {
        const { parts, carrier } = costPerDelivered(push, PRICES);
        // 1 GB x 0.010 s x 0.00001 + 2/100 invocations x 2e-7
        expect(parts.Lambda).to.be.closeTo(1.04e-7, 1e-15);
        // (60 read units x 2e-7 + 200 write units x 1e-6) / 100
        expect(parts.DynamoDB).to.be.closeTo(2.12e-6, 1e-15);
        // a publish request and a mobile push delivery per publish
        expect(parts["Provider (SNS/SES/SMS)"]).to.be.closeTo(1e-6, 1e-15);
        // 512,000 billed bytes / 2^30 x $0.03 / 100
        expect(parts.Firehose).to.be.closeTo(1.430511474609375e-7, 1e-15);
        // 50 ingress publishes x 5e-7 + (50 + 2 x 2) SQS requests x 4e-7, over 100
        expect(parts["Queues (SNS ingress, SQS)"]).to.be.closeTo(4.66e-7, 1e-15);
        expect(carrier).to.equal(0);
    });

    it("shows the SMS carrier fee apart from the AWS price", function () {
        const sms: ChannelMeasurement = {
            ...push,
            channel: "sms",
            function: "sms-sender-fn",
            delivered: 10,
            messages: 10,
            invocations: 1,
            msPerDelivered: spread([0]),
            profile: profile({ operations: { "SNS.Publish": 10 } }),
        };
        const { parts, carrier } = costPerDelivered(sms, PRICES);
        expect(parts["Provider (SNS/SES/SMS)"]).to.be.closeTo(0.006, 1e-12);
        expect(carrier).to.be.closeTo(0.003, 1e-12);
    });

    it("sizes a 1B/day, 100K/s volume against the quotas", function () {
        const model = capacityModel({
            channels: ["push", "email", "sms", "inapp"],
            ours: [push],
            seed: [],
            volume: { perDay: 1e9, peakPerSecond: 100_000 },
            prices: PRICES,
        });
        const p = model.channels.find((c) => c.channel === "push")!;
        expect(p.share).to.equal(1);
        // 100,000/s x 10 ms = 1,000 executions (p10 5 ms: 500; p90 20 ms: 2,000)
        expect(p.concurrency).to.deep.equal({ p10: 500, median: 1000, p90: 2000, samples: 2 });
        expect(p.requestsPerSecond["SNS.Publish"]).to.equal(100_000);
        expect(p.awsCostPerMillion).to.be.closeTo(3.8331, 1e-4);
        expect(model.costPerDay.aws).to.be.closeTo(3833.1, 0.1);
        const log = model.tables.find((t) => t.table === "deliveryLog")!;
        expect(log.writeUnitsPerSecond).to.equal(200_000);
        // 2 distinct keys for 50 messages: a shared key, 10 of 200 units = 5 % of 200,000/s
        expect(log.hottestWrite!.scope).to.equal("shared");
        expect(log.hottestWrite!.unitsPerSecond).to.be.closeTo(10_000, 1e-9);
        const needs = (what: string) => model.quotaChecks.find((c) => c.what.startsWith(what))!.needsIncrease;
        expect(needs("Lambda concurrency, all senders")).to.equal(false); // 1,000 = the quota
        expect(needs("push-sender-fn concurrency vs its configured maximum")).to.equal(true); // 1,000 > 50
        expect(needs("SNS Publish")).to.equal(true); // 100,000 > 9,000
        expect(needs("DynamoDB deliveryLog writes")).to.equal(true); // 200,000 > 40,000
        expect(needs("DynamoDB deliveryLog hottest key writes")).to.equal(true); // 10,000 > 1,000
        expect(needs("DynamoDB templates reads")).to.equal(false); // 10,000 < 40,000
    });

    it("bounds a per-request key by its own units, whatever the volume", function () {
        // 40 distinct keys for 50 messages (>= 10 %): per request; its 10 units within one second
        const hot = hotKeyAtPeak(
            { attribute: "notificationId", value: "n1", units: 10, share: 0, distinctKeys: 40 },
            200,
            200_000,
            50,
        );
        expect(hot).to.deep.include({ scope: "per request/user", unitsPerSecond: 10, share: 0.05 });
    });

    it("judges a channel's own table by that channel's messages, not every channel's", function () {
        // The inbox: 10 users' items from 10 in-app messages beside 1,000 push messages. Against all
        // 1,010 messages 10 keys would look shared (and take the table's whole rate); they are per user.
        const inapp: ChannelMeasurement = {
            ...push,
            channel: "inapp",
            function: "inapp-sender-fn",
            delivered: 10,
            messages: 10,
            profile: profile({
                tables: {
                    inbox: {
                        readUnits: 0,
                        writeUnits: 10,
                        hottestWrite: { attribute: "userId", value: "u1", units: 1, share: 0.1, distinctKeys: 10 },
                    },
                },
            }),
        };
        const model = capacityModel({
            channels: ["push", "email", "sms", "inapp"],
            ours: [{ ...push, messages: 1000 }, inapp],
            seed: [],
            volume: { perDay: 1e9, peakPerSecond: 100_000 },
            prices: PRICES,
        });
        const inbox = model.tables.find((t) => t.table === "inbox")!;
        expect(inbox.hottestWrite).to.deep.include({ scope: "per request/user", unitsPerSecond: 1 });
    });

    it("reports a channel the workload does not cover as not measured", function () {
        const model = capacityModel({
            channels: ["push", "email", "sms", "inapp"],
            ours: [push, { ...push, channel: "email", function: "email-sender-fn", delivered: 0 }],
            seed: [],
            volume: { perDay: 1e9, peakPerSecond: 100_000 },
            prices: PRICES,
        });
        expect(model.channels.map((c) => [c.channel, c.measured])).to.deep.equal([
            ["push", true],
            ["email", false],
            ["sms", false],
            ["inapp", false],
        ]);
        expect(model.channels.find((c) => c.channel === "inapp")!.reason).to.match(/not measured/);
    });
});

describe("bench call profile (DynamoDB units, Firehose bytes)", function () {
    const physical: Record<string, string> = { "log-1": "deliveryLog", "idem-1": "idempotency" };
    const model = {
        logicalName: (p: string) => physical[p],
        spec: (l: string) => (TABLES as Record<string, any>)[l],
    };

    it("sizes attribute values as DynamoDB does", function () {
        expect(valueBytes({ S: "abc" })).to.equal(3);
        expect(valueBytes({ N: "123" })).to.equal(3); // ceil(3 digits / 2) + 1
        expect(valueBytes({ BOOL: true })).to.equal(1);
        expect(valueBytes({ M: { ab: { S: "x" } } })).to.equal(6); // 3 + 2 + 1
        expect(itemBytes({ a: { S: "xy" } })).to.equal(3);
    });

    it("counts read and write units per table with the hottest partition key", function () {
        const key = (n: string, r: string) => ({ notificationId: { S: n }, recipientKey: { S: r } });
        const p = profileCalls(
            [
                {
                    service: "DynamoDB",
                    operation: "BatchGetItem",
                    input: { RequestItems: { "log-1": { Keys: [key("n1", "a"), key("n1", "b"), key("n2", "a")] } } },
                },
                {
                    service: "DynamoDB",
                    operation: "BatchWriteItem",
                    input: {
                        RequestItems: {
                            "log-1": [
                                // userId puts it in the byRecipient index (ALL): 1 table + 1 index unit
                                { PutRequest: { Item: { ...key("n1", "a"), userId: { S: "u1" } } } },
                                // 1,400 + key bytes: 2 units, in no index
                                { PutRequest: { Item: { ...key("n2", "a"), body: { S: "x".repeat(1400) } } } },
                            ],
                        },
                    },
                },
                {
                    service: "DynamoDB",
                    operation: "TransactWriteItems",
                    input: {
                        TransactItems: [
                            {
                                Update: {
                                    TableName: "idem-1",
                                    Key: { id: { S: "rate#push#u1#h" } },
                                    UpdateExpression: "ADD #c :one",
                                    ExpressionAttributeNames: { "#c": "count" },
                                    ExpressionAttributeValues: { ":one": { N: "1" } },
                                },
                            },
                        ],
                    },
                },
                {
                    service: "Firehose",
                    operation: "PutRecordBatch",
                    input: { Records: [{ Data: new Uint8Array(100) }, { Data: new Uint8Array(6000) }] },
                },
            ],
            model,
        );
        expect(p.tables.deliveryLog.readUnits).to.equal(1.5);
        expect(p.tables.deliveryLog.hottestRead).to.deep.include({ value: "n1", units: 1, distinctKeys: 2 });
        expect(p.tables.deliveryLog.writeUnits).to.equal(4);
        expect(p.tables.deliveryLog.hottestWrite).to.deep.include({ value: "n1", units: 2, share: 0.5 });
        expect(p.tables.idempotency.writeUnits).to.equal(2); // transactional: 2 per KB
        expect(p.firehose).to.deep.equal({ requests: 1, records: 2, bytes: 6100, billedBytes: 15_360 });
        expect(p.operations).to.deep.equal({
            "DynamoDB.BatchGetItem": 1,
            "DynamoDB.BatchWriteItem": 1,
            "DynamoDB.TransactWriteItems": 1,
            "Firehose.PutRecordBatch": 1,
        });
    });
});
