/**
 * The capacity and cost model: from what the bench measured per channel (calls per delivered
 * notification weighed by call-profile.ts, function duration per delivered notification, log bytes) and
 * the configured memory, what a volume (default 1B/day with a 100K/s peak) takes — Lambda concurrency per
 * function, DynamoDB units per table and on its hottest partition key, provider requests per second —
 * each beside its default AWS quota (quotas.ts), and what a million delivered notifications cost per
 * channel at list prices (prices.ts). Pure: no I/O, so its arithmetic is unit-tested by hand.
 *
 * Assumptions, stated where they are used:
 * - the peak splits over channels as the measured workload's deliveries did (its mix);
 * - Lambda concurrency = rate × seconds per delivered notification (= rate × batch duration / batch size);
 * - a channel message costs one ingress SNS publish request and one SQS request (the SNS → SQS send), and
 *   each invocation two more SQS requests (the event source's receive and delete);
 * - DynamoDB hottest key at peak: see hotKeyAtPeak (shared keys keep their share; per-request and per-user
 *   keys take what one request or user takes).
 */
import type { Prices } from "./prices";
import { QUOTAS, type Quota } from "./quotas";
import type { CallProfile, HotKey } from "./call-profile";
import type { Spread } from "./stats";

/** What the bench measured for one design on one channel. */
export interface ChannelMeasurement {
    design: "ours" | "seed";
    channel: string;
    function: string;
    memoryMb: number;
    delivered: number;
    /** Channel messages the function processed (requests on this channel). */
    messages: number;
    invocations: number;
    /** Per invocation: duration / delivered notifications (ms). */
    msPerDelivered: Spread;
    profile: CallProfile;
    /** Bytes the function logged (JSON logs and EMF lines). */
    logBytes: number;
    /** The event source's maximum concurrency the program configures (prod: senderMaxConcurrency). */
    configuredMaxConcurrency?: number;
}

export interface Volume {
    perDay: number;
    peakPerSecond: number;
}

export type CostPart =
    | "Lambda"
    | "DynamoDB"
    | "Provider (SNS/SES/SMS)"
    | "Firehose"
    | "Queues (SNS ingress, SQS)"
    | "CloudWatch"
    | "S3"
    | "Scheduler";
export const COST_PARTS: CostPart[] = [
    "Lambda",
    "DynamoDB",
    "Provider (SNS/SES/SMS)",
    "Firehose",
    "Queues (SNS ingress, SQS)",
    "CloudWatch",
    "S3",
    "Scheduler",
];

export interface ChannelCapacity {
    design: "ours" | "seed";
    channel: string;
    measured: boolean;
    /** Why a channel is not measured (e.g. the workload does not cover it). */
    reason?: string;
    function?: string;
    share: number;
    peakPerSecond: number;
    concurrency?: { p10: number; median: number; p90: number; samples: number };
    /** Requests per second at peak per "Service.Operation". */
    requestsPerSecond: Record<string, number>;
    /** USD per million delivered notifications, AWS parts. */
    costPerMillion: Record<CostPart, number>;
    awsCostPerMillion: number;
    /** Paid to others per million (SMS carrier fee, push providers): shown apart. */
    carrierPerMillion: number;
}

export interface TableCapacity {
    table: string;
    readUnitsPerSecond: number;
    writeUnitsPerSecond: number;
    hottestRead?: ReturnType<typeof hotKeyAtPeak>;
    hottestWrite?: ReturnType<typeof hotKeyAtPeak>;
}

export interface QuotaCheck {
    what: string;
    required: number;
    quota: Quota;
    needsIncrease: boolean;
}

export interface CapacityModel {
    volume: Volume;
    averagePerSecond: number;
    region: string;
    pricesDate: string;
    channels: ChannelCapacity[];
    seed: ChannelCapacity[];
    tables: TableCapacity[];
    quotaChecks: QuotaCheck[];
    /** USD per day at the volume, ours, AWS parts and carrier apart. */
    costPerDay: { aws: number; carrier: number };
}

const zeroCosts = (): Record<CostPart, number> =>
    Object.fromEntries(COST_PARTS.map((p) => [p, 0])) as Record<CostPart, number>;
const op = (m: ChannelMeasurement, name: string) => m.profile.operations[name] ?? 0;

/** USD per delivered notification, by part, and the carrier's part apart. */
export function costPerDelivered(
    m: ChannelMeasurement,
    prices: Prices,
): { parts: Record<CostPart, number>; carrier: number } {
    const parts = zeroCosts();
    const d = m.delivered;
    if (d <= 0) return { parts, carrier: 0 };
    const gbSeconds = (m.memoryMb / 1024) * (m.msPerDelivered.median / 1000);
    parts.Lambda = gbSeconds * prices.lambda.perGbSecondArm64 + (m.invocations / d) * prices.lambda.perRequest;
    let read = 0;
    let write = 0;
    for (const t of Object.values(m.profile.tables)) {
        read += t.readUnits;
        write += t.writeUnits;
    }
    parts.DynamoDB = (read * prices.dynamodb.perReadRequestUnit + write * prices.dynamodb.perWriteRequestUnit) / d;
    const publishes = op(m, "SNS.Publish");
    let carrier = 0;
    if (m.channel === "sms") {
        parts["Provider (SNS/SES/SMS)"] = (publishes * prices.carriers.sms.awsPerMessage) / d;
        carrier = (publishes * prices.carriers.sms.carrierFeePerMessage) / d;
    } else if (m.channel === "push") {
        parts["Provider (SNS/SES/SMS)"] =
            (publishes * (prices.sns.perPublishRequest + prices.sns.perMobilePushDelivery)) / d;
        carrier = prices.carriers.push.apns + prices.carriers.push.fcm;
    } else {
        parts["Provider (SNS/SES/SMS)"] = (publishes * prices.sns.perPublishRequest) / d;
    }
    parts["Provider (SNS/SES/SMS)"] += (op(m, "SESv2.SendEmail") * prices.ses.perEmail) / d;
    parts.Firehose = ((m.profile.firehose.billedBytes / 2 ** 30) * prices.firehose.perGbIngested) / d;
    const sqsRequests = m.design === "ours" ? m.messages + 2 * m.invocations : 0;
    parts["Queues (SNS ingress, SQS)"] =
        (m.messages * prices.sns.perPublishRequest +
            sqsRequests * prices.sqs.perRequest +
            op(m, "SQS.SendMessage") * prices.sqs.perRequest) /
        d;
    parts.CloudWatch =
        ((m.logBytes / 2 ** 30) * prices.cloudwatch.perLogGbIngested +
            op(m, "CloudWatch.PutMetricData") * prices.cloudwatch.perPutMetricDataRequest) /
        d;
    parts.S3 = (op(m, "S3.PutObject") * prices.s3.perPutRequest) / d;
    parts.Scheduler = (op(m, "Scheduler.CreateSchedule") * prices.scheduler.perInvocation) / d;
    return { parts, carrier };
}

function channelCapacity(m: ChannelMeasurement, share: number, volume: Volume, prices: Prices): ChannelCapacity {
    const peak = volume.peakPerSecond * share;
    const { parts, carrier } = costPerDelivered(m, prices);
    const costPerMillion = Object.fromEntries(COST_PARTS.map((p) => [p, parts[p] * 1e6])) as Record<CostPart, number>;
    const requestsPerSecond: Record<string, number> = {};
    for (const [name, count] of Object.entries(m.profile.operations))
        requestsPerSecond[name] = (count / m.delivered) * peak;
    const concurrencyAt = (ms: number) => (peak * ms) / 1000;
    return {
        design: m.design,
        channel: m.channel,
        measured: true,
        function: m.function,
        share,
        peakPerSecond: peak,
        concurrency: {
            p10: concurrencyAt(m.msPerDelivered.p10),
            median: concurrencyAt(m.msPerDelivered.median),
            p90: concurrencyAt(m.msPerDelivered.p90),
            samples: m.msPerDelivered.samples,
        },
        requestsPerSecond,
        costPerMillion,
        awsCostPerMillion: COST_PARTS.reduce((n, p) => n + costPerMillion[p], 0),
        carrierPerMillion: carrier * 1e6,
    };
}

function notMeasured(channel: string, reason: string): ChannelCapacity {
    return {
        design: "ours",
        channel,
        measured: false,
        reason,
        share: 0,
        peakPerSecond: 0,
        requestsPerSecond: {},
        costPerMillion: zeroCosts(),
        awsCostPerMillion: 0,
        carrierPerMillion: 0,
    };
}

/**
 * How hot the hottest key of a table gets at peak. A key shared by many requests (a template: a few
 * values for all traffic) keeps its workload share at any scale: the table's rate × that share. A key
 * per request or per user (distinct values ≥ 10 % of the channel messages: notificationId, userId, a
 * user's rate counter) takes only that request's or user's units however large the volume: counted as
 * all of its workload units within one second (an upper bound: a request's rows come in one batch).
 */
export function hotKeyAtPeak(
    hot: HotKey,
    tableUnits: number,
    tableUnitsPerSecond: number,
    messages: number,
): HotKey & { unitsPerSecond: number; scope: "shared" | "per request/user" } {
    const perEntity = hot.distinctKeys >= 0.1 * messages;
    const share = tableUnits > 0 ? hot.units / tableUnits : 0;
    return perEntity
        ? { ...hot, share, scope: "per request/user", unitsPerSecond: hot.units }
        : { ...hot, share, scope: "shared", unitsPerSecond: tableUnitsPerSecond * share };
}

/** Per table at peak: each channel's units per delivered × its peak rate; the hottest key as hotKeyAtPeak says. */
function tableCapacities(measured: ChannelMeasurement[], shares: Map<string, number>, volume: Volume): TableCapacity[] {
    const byTable = new Map<string, TableCapacity>();
    // Per table, the messages of the channels that touch it: a per-user key of one channel's table (the
    // inbox) is judged against that channel's messages, not every channel's.
    const overall = new Map<
        string,
        { read: number; write: number; messages: number; hotRead?: HotKey; hotWrite?: HotKey }
    >();
    for (const m of measured) {
        const peak = volume.peakPerSecond * (shares.get(m.channel) ?? 0);
        for (const [table, t] of Object.entries(m.profile.tables)) {
            const row = byTable.get(table) ?? { table, readUnitsPerSecond: 0, writeUnitsPerSecond: 0 };
            row.readUnitsPerSecond += (t.readUnits / m.delivered) * peak;
            row.writeUnitsPerSecond += (t.writeUnits / m.delivered) * peak;
            byTable.set(table, row);
            const o = overall.get(table) ?? { read: 0, write: 0, messages: 0 };
            o.messages += m.messages;
            o.read += t.readUnits;
            o.write += t.writeUnits;
            // A key hot on two channels (a template both read) adds up; per channel keys stay apart.
            o.hotRead = mergeHot(o.hotRead, t.hottestRead);
            o.hotWrite = mergeHot(o.hotWrite, t.hottestWrite);
            overall.set(table, o);
        }
    }
    for (const [table, row] of byTable) {
        const o = overall.get(table)!;
        if (o.hotRead) row.hottestRead = hotKeyAtPeak(o.hotRead, o.read, row.readUnitsPerSecond, o.messages);
        if (o.hotWrite) row.hottestWrite = hotKeyAtPeak(o.hotWrite, o.write, row.writeUnitsPerSecond, o.messages);
    }
    return [...byTable.values()].sort((a, b) => a.table.localeCompare(b.table));
}

function mergeHot(a: HotKey | undefined, b: HotKey | undefined): HotKey | undefined {
    if (!a) return b && { ...b };
    if (!b) return a;
    if (a.value === b.value) return { ...a, units: a.units + b.units, distinctKeys: a.distinctKeys + b.distinctKeys };
    return b.units > a.units ? { ...b } : a;
}

function check(what: string, required: number, quota: Quota): QuotaCheck {
    return { what, required, quota, needsIncrease: required > quota.value };
}

function quotaChecks(
    channels: ChannelCapacity[],
    tables: TableCapacity[],
    measured: ChannelMeasurement[],
): QuotaCheck[] {
    const checks: QuotaCheck[] = [];
    const rate = (name: string, filter: (c: ChannelCapacity) => boolean = () => true) =>
        channels.filter((c) => c.measured && filter(c)).reduce((n, c) => n + (c.requestsPerSecond[name] ?? 0), 0);
    const concurrency = channels.reduce((n, c) => n + (c.concurrency?.median ?? 0), 0);
    checks.push(check("Lambda concurrency, all senders (median duration)", concurrency, QUOTAS.lambdaConcurrency));
    for (const c of channels) {
        const m = measured.find((x) => x.channel === c.channel);
        if (!c.concurrency || m?.configuredMaxConcurrency === undefined) continue;
        checks.push(
            check(`${c.function} concurrency vs its configured maximum`, c.concurrency.median, {
                name: "event source maximum concurrency (config senderMaxConcurrency)",
                value: m.configuredMaxConcurrency,
                unit: "executions",
                adjustable: true,
                source: "Pulumi.<stack>.yaml notify:senderMaxConcurrency",
            }),
        );
    }
    for (const t of tables) {
        checks.push(check(`DynamoDB ${t.table} reads`, t.readUnitsPerSecond, QUOTAS.dynamoTableReads));
        checks.push(check(`DynamoDB ${t.table} writes`, t.writeUnitsPerSecond, QUOTAS.dynamoTableWrites));
        if (t.hottestRead)
            checks.push(
                check(
                    `DynamoDB ${t.table} hottest key reads (${t.hottestRead.attribute} ${t.hottestRead.value})`,
                    t.hottestRead.unitsPerSecond,
                    QUOTAS.dynamoPartitionReads,
                ),
            );
        if (t.hottestWrite)
            checks.push(
                check(
                    `DynamoDB ${t.table} hottest key writes (${t.hottestWrite.attribute} ${t.hottestWrite.value})`,
                    t.hottestWrite.unitsPerSecond,
                    QUOTAS.dynamoPartitionWrites,
                ),
            );
    }
    checks.push(check("SNS Publish (push endpoints + SMS)", rate("SNS.Publish"), QUOTAS.snsPublish));
    checks.push(
        check(
            "SMS messages",
            rate("SNS.Publish", (c) => c.channel === "sms"),
            QUOTAS.smsRate,
        ),
    );
    checks.push(check("SES SendEmail", rate("SESv2.SendEmail"), QUOTAS.sesRate));
    checks.push(check("Firehose PutRecordBatch requests", rate("Firehose.PutRecordBatch"), QUOTAS.firehoseRequests));
    const perDelivered = (f: (m: ChannelMeasurement) => number) =>
        channels
            .filter((c) => c.measured)
            .reduce((n, c) => {
                const m = measured.find((x) => x.channel === c.channel)!;
                return n + (f(m) / m.delivered) * c.peakPerSecond;
            }, 0);
    checks.push(
        check(
            "Firehose records",
            perDelivered((m) => m.profile.firehose.records),
            QUOTAS.firehoseRecords,
        ),
    );
    checks.push(check("Firehose MiB", perDelivered((m) => m.profile.firehose.bytes) / 2 ** 20, QUOTAS.firehoseBytes));
    return checks;
}

/**
 * The model. `channels` is the channel list (CHANNELS): a channel the workload did not cover is reported
 * as not measured, never guessed. `seed` is the seed port measured in the same run (push only).
 */
export function capacityModel(args: {
    channels: readonly string[];
    ours: ChannelMeasurement[];
    seed: ChannelMeasurement[];
    volume: Volume;
    prices: Prices;
}): CapacityModel {
    const { volume, prices } = args;
    const measured = args.ours.filter((m) => m.delivered > 0 && args.channels.includes(m.channel));
    const total = measured.reduce((n, m) => n + m.delivered, 0);
    const shares = new Map(measured.map((m) => [m.channel, total > 0 ? m.delivered / total : 0]));
    const channels = args.channels.map((channel) => {
        const m = measured.find((x) => x.channel === channel);
        return m
            ? channelCapacity(m, shares.get(channel)!, volume, prices)
            : notMeasured(channel, "the bench workload delivers nothing on this channel (not measured)");
    });
    // The seed serves push only: at the push share of the peak, as ours.
    const seed = args.seed
        .filter((m) => m.delivered > 0)
        .map((m) => channelCapacity(m, shares.get(m.channel) ?? 0, volume, prices));
    const tables = tableCapacities(measured, shares, volume);
    const perDay = (f: (c: ChannelCapacity) => number) =>
        channels.reduce((n, c) => n + (f(c) / 1e6) * c.share * volume.perDay, 0);
    return {
        volume,
        averagePerSecond: volume.perDay / 86_400,
        region: prices.region,
        pricesDate: prices.date,
        channels,
        seed,
        tables,
        quotaChecks: quotaChecks(channels, tables, measured),
        costPerDay: { aws: perDay((c) => c.awsCostPerMillion), carrier: perDay((c) => c.carrierPerMillion) },
    };
}
