/**
 * Default AWS quotas the capacity model compares its rates with: the ONE place they are held.
 * Region: eu-west-1 (the prod stack's). Read 2026-12-06 with the docs search; the page of each is cited.
 * `adjustable: false` marks a hard limit (design around it); the others are raised by a quota request.
 */

export interface Quota {
    name: string;
    value: number;
    unit: string;
    adjustable: boolean;
    source: string;
    note?: string;
}

export const QUOTAS_DATE = "2026-12-06";

export const QUOTAS = {
    // https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html — "Concurrent executions 1,000,
    // can be increased up to tens of thousands" (new accounts start lower and are raised with usage).
    lambdaConcurrency: {
        name: "Lambda concurrent executions (account, region)",
        value: 1_000,
        unit: "executions",
        adjustable: true,
        source: "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html",
    },
    // https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/on-demand-capacity-mode-max-throughput.html
    // — "your on-demand throughput rate is bounded by 40,000 table-level read and write throughput" (per table;
    // Limits.html: 40,000 read request units and 40,000 write request units per on-demand table).
    dynamoTableReads: {
        name: "DynamoDB on-demand read request units/s per table",
        value: 40_000,
        unit: "RRU/s",
        adjustable: true,
        source: "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html",
    },
    dynamoTableWrites: {
        name: "DynamoDB on-demand write request units/s per table",
        value: 40_000,
        unit: "WRU/s",
        adjustable: true,
        source: "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html",
    },
    // Per partition (and so per partition key value): 3,000 read units and 1,000 write units per second —
    // the partition arithmetic of infra/tables.ts rests on these. A hard limit: spread the key instead.
    dynamoPartitionReads: {
        name: "DynamoDB read units/s per partition",
        value: 3_000,
        unit: "RRU/s",
        adjustable: false,
        source: "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html",
    },
    dynamoPartitionWrites: {
        name: "DynamoDB write units/s per partition",
        value: 1_000,
        unit: "WRU/s",
        adjustable: false,
        source: "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html",
    },
    // https://docs.aws.amazon.com/general/latest/gr/sns.html — Publish API throttle per account: 30,000/s in
    // us-east-1, 9,000/s in us-west-2 and eu-west-1, 1,500/s elsewhere (the table is not in the excerpt the
    // search returned; the page names it "API throttling ... Publish").
    snsPublish: {
        name: "SNS Publish requests/s (account, eu-west-1)",
        value: 9_000,
        unit: "requests/s",
        adjustable: true,
        source: "https://docs.aws.amazon.com/general/latest/gr/sns.html",
    },
    // SNS SMS: the account's default delivery rate; origination identities (10DLC, toll-free, sender ids)
    // carry their own, often lower, throughput.
    smsRate: {
        name: "SNS SMS messages/s (account default)",
        value: 20,
        unit: "messages/s",
        adjustable: true,
        source: "https://docs.aws.amazon.com/general/latest/gr/sns.html",
        note: "origination numbers add their own per-number rates (e.g. 10DLC, toll-free)",
    },
    // https://docs.aws.amazon.com/ses/latest/dg/quotas.html — "If your account is in the sandbox, you can send
    // 1 email per second. If your account is out of the sandbox, this rate varies based on your specific use
    // case." So the default is the sandbox's; production needs a request anyway.
    sesRate: {
        name: "SES sending rate (sandbox default)",
        value: 1,
        unit: "e-mails/s",
        adjustable: true,
        source: "https://docs.aws.amazon.com/ses/latest/dg/quotas.html",
        note: "out of the sandbox AWS sets the rate per account (varies by use case)",
    },
    // https://docs.aws.amazon.com/firehose/latest/APIReference/API_PutRecordBatch.html and the Firehose quota
    // page: per stream 2,000 requests/s; in us-east-1, us-west-2 and eu-west-1 500,000 records/s and 5 MiB/s
    // (the API reference's "2,000 transactions, 5,000 records, 5 MB per second" is the other regions').
    firehoseRequests: {
        name: "Firehose PutRecord(Batch) requests/s per stream",
        value: 2_000,
        unit: "requests/s",
        adjustable: true,
        source: "https://docs.aws.amazon.com/firehose/latest/dev/limits.html",
    },
    firehoseRecords: {
        name: "Firehose records/s per stream (eu-west-1)",
        value: 500_000,
        unit: "records/s",
        adjustable: true,
        source: "https://docs.aws.amazon.com/firehose/latest/dev/limits.html",
    },
    firehoseBytes: {
        name: "Firehose MiB/s per stream (eu-west-1)",
        value: 5,
        unit: "MiB/s",
        adjustable: true,
        source: "https://docs.aws.amazon.com/firehose/latest/dev/limits.html",
    },
} satisfies Record<string, Quota>;

export type QuotaName = keyof typeof QUOTAS;
