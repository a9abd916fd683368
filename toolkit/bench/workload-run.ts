/**
 * API calls per delivered notification and throughput, ours vs the seed design, on one deterministic
 * workload in one process against the same emulators: our serialized senders at the prod stack's batch
 * size through the program's data plane; the seed port (toolkit/bench/seed-processor.ts) through its own
 * table, topics, DLQ and bucket created in the same emulators, fed the push part of the same requests
 * with the same batch size. The provider throttles the same device tokens once for both designs, and
 * every backoff sleep (theirs: 1 s, 2 s; ours: 50 ms-based full jitter) is shortened by one factor.
 */
import type { CreateTableCommand } from "@aws-sdk/client-dynamodb";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateTopicCommand, PublishBatchCommand, SNSClient, SubscribeCommand } from "@aws-sdk/client-sns";
import { CreateQueueCommand, GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { Channel } from "../../handlers/lib/telemetry-names";
import { CHANNELS as PRODUCT_CHANNELS } from "../../handlers/core/channels";
import { TABLES, type TableSpec } from "../../infra/tables";
import { type CallProfile, type DataModel, profileCalls } from "./call-profile";
import { type Spread, spread } from "./stats";
import { drainQueue } from "../local-cloud/drain";
import { clientConfig } from "../local-cloud/emulators";
import type { ApiCall } from "../local-cloud/sdk";
import { createSeedProcessor, MetricsStandIn } from "./seed-processor";
import { captureStdout, CHANNELS, type LocalPlatform, REGION } from "../local-cloud/platform";
import { byOperation, perDelivered, runPass } from "../sandbox/run";
import { routedChannels, type Workload } from "../sandbox/workload";

/** Backoff sleeps of both designs run at this fraction of their nominal length (1 s -> 10 ms). */
export const SLEEP_SCALE = 0.01;
/** Timers as Node made them: the simulated network round trip is not a backoff and is not scaled. */
const realSetTimeout = globalThis.setTimeout;
const pause = (ms: number) => new Promise<void>((resolve) => realSetTimeout(resolve, ms));

/** The SDK clients the functions and the seed port use; the harness's own clients are left alone. */
const CLIENT_CLASSES = (): { prototype: any }[] => [
    require("@aws-sdk/client-dynamodb").DynamoDBClient,
    require("@aws-sdk/client-sns").SNSClient,
    require("@aws-sdk/client-sqs").SQSClient,
    require("@aws-sdk/client-sesv2").SESv2Client,
    require("@aws-sdk/client-firehose").FirehoseClient,
    require("@aws-sdk/client-scheduler").SchedulerClient,
    require("@aws-sdk/client-s3").S3Client,
];

/**
 * Adds `ms` before every API call of the designs (not the harness's): the in-process emulators answer
 * in microseconds, while a Lambda function waits a network round trip for each call. Installed on top
 * of the counter; returns the undo.
 */
function simulateRoundTrip(ms: number, harnessClients: object[]): () => void {
    if (ms <= 0) return () => undefined;
    const skip = new WeakSet(harnessClients);
    const undo: (() => void)[] = [];
    for (const cls of CLIENT_CLASSES()) {
        const proto = cls.prototype;
        const own = Object.getOwnPropertyDescriptor(proto, "send");
        const inner = proto.send;
        proto.send = function (this: object, ...args: unknown[]) {
            if (skip.has(this)) return inner.apply(this, args);
            return pause(ms).then(() => inner.apply(this, args));
        };
        undo.push(() => (own ? Object.defineProperty(proto, "send", own) : delete proto.send));
    }
    return () =>
        undo
            .splice(0)
            .reverse()
            .forEach((u) => {
                u();
            });
}

export interface DesignResult {
    design: "ours" | "seed";
    channel: Channel | "overall";
    delivered: number;
    calls: number;
    callsPerDelivered: number;
    operations: Record<string, number>;
    elapsedMs: number;
    deliveredPerSecond: number;
    invocations: number;
    batchSize: number;
    /** Channel messages the function processed. */
    messages: number;
    /** Bytes the function logged (JSON logs and EMF lines). */
    logBytes: number;
    /** Each invocation's duration, calls and deliveries: the samples behind every per-delivery figure. */
    perInvocation: InvocationStats;
    /** The calls weighed: DynamoDB units per table and hottest key, Firehose records and bytes. */
    profile: CallProfile;
}

export interface WorkloadRunResult {
    users: number;
    devices: number;
    requests: number;
    throttledTokens: number;
    ours: DesignResult[];
    seed: DesignResult;
    /** ours push delivered/s over the seed's (the channel both designs serve). */
    throughputRatio: number;
    lost: number;
    oursStatuses: Record<string, Record<string, number>>;
    seedDeadLettered: number;
    /** Seed invocations that answered statusCode 500 (the rest of their batch was dropped, as in the seed). */
    seedFailedInvocations: number;
}

/** Runs `work` with every timer delay scaled by `factor` (both designs sleep through setTimeout). */
async function withScaledTimers<T>(factor: number, work: () => Promise<T>): Promise<T> {
    const original = globalThis.setTimeout;
    const scaled = ((handler: (...a: any[]) => void, ms?: number, ...args: any[]) =>
        original(handler, ms && ms > 0 ? ms * factor : ms, ...args)) as unknown as typeof setTimeout;
    globalThis.setTimeout = Object.assign(scaled, original);
    try {
        return await work();
    } finally {
        globalThis.setTimeout = original;
    }
}

function result(args: {
    design: "ours" | "seed";
    channel: Channel | "overall";
    calls: ApiCall[];
    delivered: number;
    elapsedMs: number;
    invocations: number;
    batchSize: number;
    messages: number;
    logBytes: number;
    samples: InvocationSample[];
    model: DataModel;
}): DesignResult {
    const { calls, delivered, elapsedMs } = args;
    return {
        design: args.design,
        channel: args.channel,
        delivered,
        calls: calls.length,
        callsPerDelivered: perDelivered(calls.length, delivered),
        operations: byOperation(calls),
        elapsedMs,
        deliveredPerSecond: elapsedMs > 0 ? delivered / (elapsedMs / 1000) : 0,
        invocations: args.invocations,
        batchSize: args.batchSize,
        messages: args.messages,
        logBytes: args.logBytes,
        perInvocation: invocationStats(args.samples),
        profile: profileCalls(calls, args.model),
    };
}

/** The seed's resources in the emulators, as its template defines them (names with suffix "bench"). */
async function createSeedResources(platform: LocalPlatform, suffix: string) {
    const { plane, emulators } = platform;
    const e = emulators.endpoints;
    const table = `DeviceTokens-${suffix}`;
    await plane.db.createTable({
        TableName: table,
        AttributeDefinitions: [
            { AttributeName: "userId", AttributeType: "S" },
            { AttributeName: "deviceToken", AttributeType: "S" },
            { AttributeName: "platform", AttributeType: "S" },
        ],
        KeySchema: [
            { AttributeName: "userId", KeyType: "HASH" },
            { AttributeName: "deviceToken", KeyType: "RANGE" },
        ],
        GlobalSecondaryIndexes: [
            {
                IndexName: "PlatformIndex",
                KeySchema: [{ AttributeName: "platform", KeyType: "HASH" }],
                Projection: { ProjectionType: "ALL" },
                ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 },
            },
        ],
        BillingMode: "PROVISIONED",
        ProvisionedThroughput: { ReadCapacityUnits: 10, WriteCapacityUnits: 10 },
    } satisfies ConstructorParameters<typeof CreateTableCommand>[0]);
    // The mobile stand-in mocks SNSClient for every instance; topic management goes to fauxqs directly.
    const realSend = Object.getPrototypeOf(SNSClient.prototype).send as (this: SNSClient, command: any) => Promise<any>;
    const topic = async (name: string) =>
        (await realSend.call(plane.sns, new CreateTopicCommand({ Name: name }))).TopicArn as string;
    const notificationTopic = await topic(`push-notifications-${suffix}`);
    const iosTopic = await topic(`ios-notifications-${suffix}`);
    const androidTopic = await topic(`android-notifications-${suffix}`);
    const queue = async (name: string) => {
        const { QueueUrl } = await plane.sqs.send(new CreateQueueCommand({ QueueName: name }));
        const attrs = await plane.sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }));
        return {
            logicalName: name,
            name,
            url: QueueUrl!,
            arn: attrs.Attributes!.QueueArn!,
            visibilityTimeoutSeconds: 30,
        };
    };
    const dlq = await queue(`push-notification-dlq-${suffix}`);
    // The seed's Lambda reads record["body"]: it is fed through SQS, subscribed raw to its topic.
    const input = await queue(`notification-processor-input-${suffix}`);
    await realSend.call(
        plane.sns,
        new SubscribeCommand({
            TopicArn: notificationTopic,
            Protocol: "sqs",
            Endpoint: input.arn,
            Attributes: { RawMessageDelivery: "true" },
        }),
    );
    const s3 = new S3Client({ ...clientConfig(e, "sns"), forcePathStyle: true });
    const bucket = `campaign-analytics-${suffix}-000000000000`;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    return { table, notificationTopic, iosTopic, androidTopic, dlq, input, bucket, s3 };
}

export interface WorkloadRunOptions {
    /** Names the seed's resources apart from another run's in the same emulators. */
    suffix: string;
    /** Simulated network round trip per API call, for both designs (0: the emulators' own latency). */
    roundTripMs: number;
}

export async function runWorkload(
    platform: LocalPlatform,
    workload: Workload,
    options: WorkloadRunOptions,
): Promise<WorkloadRunResult> {
    const { plane, emulators } = platform;
    const e = emulators.endpoints;
    platform.throttle(workload.throttledTokens);
    await platform.seedTemplates(workload.templates);
    await platform.seedUsers(workload.users);
    for (const phone of workload.optedOutPhones) platform.standIn.optedOut.add(phone);

    const seed = await createSeedResources(platform, options.suffix);
    await plane.db.putItems(
        seed.table,
        workload.users.flatMap((u) =>
            Object.values(u.devices ?? {}).map((d) => ({
                userId: u.userId,
                deviceToken: d.token,
                platform: d.platform,
            })),
        ),
    );
    const metrics = new MetricsStandIn();
    const seedClients = {
        dynamodb: new DynamoDBClient(clientConfig(e, "dynamodb")),
        sns: new SNSClient(clientConfig(e, "sns")),
        s3: new S3Client({ ...clientConfig(e, "sns"), forcePathStyle: true }),
        sqs: new (await import("@aws-sdk/client-sqs")).SQSClient(clientConfig(e, "sqs")),
        // The stand-in answers at once; a real PutMetricData waits a round trip like every other call.
        cloudwatch: {
            putMetricData: async (input: Parameters<MetricsStandIn["putMetricData"]>[0]) => {
                if (options.roundTripMs > 0) await pause(options.roundTripMs);
                return metrics.putMetricData(input);
            },
        },
    };
    const seedHandler = createSeedProcessor(
        {
            DEVICE_TOKENS_TABLE: seed.table,
            ANALYTICS_BUCKET: seed.bucket,
            DLQ_URL: seed.dlq.url,
            IOS_TOPIC_ARN: seed.iosTopic,
            ANDROID_TOPIC_ARN: seed.androidTopic,
            MAX_RETRIES: "3",
            INITIAL_BACKOFF: "1",
        },
        seedClients,
        (seconds) => new Promise((resolve) => setTimeout(resolve, seconds * 1000)),
    );

    const harnessDynamo = (plane.db as { client?: object }).client;
    const restoreRoundTrip = simulateRoundTrip(options.roundTripMs, [
        plane.sqs,
        plane.sns,
        ...(harnessDynamo ? [harnessDynamo] : []),
    ]);
    try {
        return await runBoth(platform, workload, seed, seedHandler, metrics);
    } finally {
        restoreRoundTrip();
        seedClients.dynamodb.destroy();
        seedClients.s3.destroy();
        seed.s3.destroy();
    }
}

/** One invocation of a design's function: how long it took, what it called, what it delivered. */
export interface InvocationSample {
    ms: number;
    calls: number;
    delivered: number;
}

/** Per-invocation figures with their spread (invocations that delivered nothing are left out of the ratios). */
export interface InvocationStats {
    invocations: number;
    msPerInvocation: Spread;
    msPerDelivered: Spread;
    callsPerDelivered: Spread;
    deliveredPerSecond: Spread;
}

export function invocationStats(samples: InvocationSample[]): InvocationStats {
    const delivering = samples.filter((s) => s.delivered > 0);
    return {
        invocations: samples.length,
        msPerInvocation: spread(samples.map((s) => s.ms)),
        msPerDelivered: spread(delivering.map((s) => s.ms / s.delivered)),
        callsPerDelivered: spread(delivering.map((s) => s.calls / s.delivered)),
        deliveredPerSecond: spread(delivering.map((s) => s.delivered / (s.ms / 1000))),
    };
}

/** What a channel's provider accepted so far (undefined: a channel this bench cannot observe). */
async function deliveredSoFar(platform: LocalPlatform, channel: string): Promise<number | undefined> {
    if (channel === "push") return platform.standIn.pushes.length;
    if (channel === "sms") return platform.standIn.sms.length;
    if (channel === "email") return (await platform.emulators.ses.emails()).length;
    // The in-app channel (another branch adds it) delivers by writing the user's inbox.
    if (channel === "inapp" && "inbox" in platform.plane.tables)
        return (await platform.plane.db.scanAll(platform.plane.tables.inbox)).length;
    return undefined;
}

/**
 * Times every invocation of each channel's sender (the platform's drain calls `sender(channel).invoke`
 * on one cached object per channel): duration, calls counted, deliveries. Returns the samples and undo.
 */
function instrumentSenders(platform: LocalPlatform) {
    const samples = new Map<string, InvocationSample[]>();
    const undo: (() => void)[] = [];
    // The product's channel list (a channel the workload does not cover is simply never invoked).
    for (const channel of PRODUCT_CHANNELS) {
        let fn: ReturnType<LocalPlatform["sender"]>;
        try {
            fn = platform.sender(channel);
        } catch {
            continue; // a channel the program has no sender for yet: reported as not measured
        }
        const inner = fn.invoke;
        const list: InvocationSample[] = [];
        samples.set(channel, list);
        fn.invoke = (async (event: unknown, context?: Parameters<typeof inner>[1]) => {
            const before = await deliveredSoFar(platform, channel);
            const calls = platform.counter.calls.length;
            const started = process.hrtime.bigint();
            try {
                return await inner.call(fn, event, context);
            } finally {
                const ms = Number(process.hrtime.bigint() - started) / 1e6;
                const after = await deliveredSoFar(platform, channel);
                list.push({
                    ms,
                    calls: platform.counter.calls.length - calls,
                    delivered: (after ?? 0) - (before ?? 0),
                });
            }
        }) as typeof inner;
        undo.push(() => {
            fn.invoke = inner;
        });
    }
    return {
        samples,
        restore: () => {
            for (const u of undo) u();
        },
    };
}

/** Physical table names of the data plane -> the data model's logical names (for the call profile). */
function dataModel(platform: LocalPlatform): DataModel {
    const logical = new Map(Object.entries(platform.plane.tables).map(([name, physical]) => [physical, name]));
    return {
        logicalName: (physical) => logical.get(physical),
        spec: (name) => (TABLES as Record<string, TableSpec>)[name],
    };
}

const bytesOf = (lines: string[]) => lines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);

/** Ours: the whole workload through the program's senders, every invocation timed. */
async function runOurs(platform: LocalPlatform, workload: Workload) {
    platform.counter.reset();
    platform.throttles.splice(0);
    const timed = instrumentSenders(platform);
    let pass: Awaited<ReturnType<typeof runPass>>;
    try {
        pass = await withScaledTimers(SLEEP_SCALE, () =>
            runPass(platform, workload.requests, {
                observeRouting: false,
                onChannel: (run) =>
                    console.log(`    ... ${run.channel}: ${run.invocations} invocations, ${run.delivered} delivered`),
            }),
        );
    } finally {
        timed.restore();
    }
    const model = dataModel(platform);
    // A channel the sandbox cannot count (delivered NaN) takes what the timed invocations saw.
    const delivered = (c: (typeof pass.channels)[number]) =>
        Number.isFinite(c.delivered)
            ? c.delivered
            : (timed.samples.get(c.channel) ?? []).reduce((n, x) => n + x.delivered, 0);
    const ours: DesignResult[] = pass.channels.map((c) =>
        result({
            design: "ours",
            channel: c.channel,
            calls: c.calls,
            delivered: delivered(c),
            elapsedMs: c.elapsedMs,
            invocations: c.invocations,
            batchSize: c.batchSize,
            messages: c.acknowledged + c.failedDeliveries,
            logBytes: bytesOf(c.output),
            samples: timed.samples.get(c.channel) ?? [],
            model,
        }),
    );
    const all = pass.channels.flatMap((c) => c.calls);
    ours.push(
        result({
            design: "ours",
            channel: "overall",
            calls: all,
            delivered: pass.channels.reduce((n, c) => n + delivered(c), 0),
            elapsedMs: pass.channels.reduce((n, c) => n + c.elapsedMs, 0),
            invocations: pass.channels.reduce((n, c) => n + c.invocations, 0),
            batchSize: pass.channels[0].batchSize,
            messages: pass.channels.reduce((n, c) => n + c.acknowledged + c.failedDeliveries, 0),
            logBytes: pass.channels.reduce((n, c) => n + bytesOf(c.output), 0),
            samples: [...timed.samples.values()].flat(),
            model,
        }),
    );
    return { pass, ours };
}

/** The seed's input: the push part of the same requests, published to its topic (10 per PublishBatch). */
async function publishSeedRequests(platform: LocalPlatform, workload: Workload, topic: string): Promise<number> {
    const pushRequests = workload.requests.filter((r) => routedChannels(r).includes("push"));
    for (let i = 0; i < pushRequests.length; i += 10) {
        await platform.plane.sns.send(
            new PublishBatchCommand({
                TopicArn: topic,
                PublishBatchRequestEntries: pushRequests.slice(i, i + 10).map((r, j) => ({
                    Id: String(j),
                    Message: JSON.stringify({
                        userId: r.userId,
                        content: r.template ? { template: r.template, data: r.data } : { title: r.title, body: r.body },
                    }),
                })),
            }),
        );
    }
    return pushRequests.length;
}

/** Delivered by the seed = topic publishes the provider did not throttle. */
function seedDeliveries(platform: LocalPlatform, callsFrom: number, throttlesFrom: number): number {
    const publishes = platform.counter.calls
        .slice(callsFrom)
        .filter((c) => c.service === "SNS" && c.operation === "Publish" && c.input?.TopicArn).length;
    return publishes - platform.throttles.slice(throttlesFrom).filter((t) => t.design === "topic").length;
}

/** The seed port: the push part of the same requests, same batch size, every invocation timed. */
async function runSeed(
    platform: LocalPlatform,
    workload: Workload,
    seed: Awaited<ReturnType<typeof createSeedResources>>,
    seedHandler: ReturnType<typeof createSeedProcessor>,
    metrics: MetricsStandIn,
) {
    const messages = await publishSeedRequests(platform, workload, seed.notificationTopic);
    const batchSize = platform.channelQueue("push").batchSize;
    const callsBefore = platform.counter.calls.length;
    const metricsBefore = metrics.calls.length;
    const throttlesBefore = platform.throttles.length;
    const output: string[] = [];
    const samples: InvocationSample[] = [];
    let invocation = 0;
    const started = process.hrtime.bigint();
    const report = await withScaledTimers(SLEEP_SCALE, () =>
        drainQueue({
            sqs: platform.plane.sqs,
            queue: seed.input,
            region: REGION,
            batchSize,
            maxInvocations: 2_000,
            invoke: async (event) => {
                const at = {
                    calls: platform.counter.calls.length,
                    metrics: metrics.calls.length,
                    throttles: platform.throttles.length,
                };
                const t0 = process.hrtime.bigint();
                const out = await captureStdout(output, () =>
                    seedHandler(event, { awsRequestId: `seed-${++invocation}` }),
                );
                samples.push({
                    ms: Number(process.hrtime.bigint() - t0) / 1e6,
                    calls: platform.counter.calls.length - at.calls + metrics.calls.length - at.metrics,
                    delivered: seedDeliveries(platform, at.calls, at.throttles),
                });
                return out;
            },
        }),
    );
    const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
    const calls: ApiCall[] = [
        ...platform.counter.calls.slice(callsBefore),
        ...metrics.calls
            .slice(metricsBefore)
            .map((input) => ({ service: "CloudWatch", operation: "PutMetricData", input })),
    ];
    const seedResult = result({
        design: "seed",
        channel: "push",
        calls,
        delivered: seedDeliveries(platform, callsBefore, throttlesBefore),
        elapsedMs,
        invocations: report.invocations,
        batchSize,
        messages,
        logBytes: bytesOf(output),
        samples,
        model: dataModel(platform),
    });
    return { seedResult, report, deadLettered: (await platform.peek(seed.dlq)).length };
}

async function runBoth(
    platform: LocalPlatform,
    workload: Workload,
    seed: Awaited<ReturnType<typeof createSeedResources>>,
    seedHandler: ReturnType<typeof createSeedProcessor>,
    metrics: MetricsStandIn,
): Promise<WorkloadRunResult> {
    const { pass, ours } = await runOurs(platform, workload);
    const { seedResult, report, deadLettered } = await runSeed(platform, workload, seed, seedHandler, metrics);
    const oursPush = ours.find((r) => r.channel === "push")!;
    return {
        users: workload.users.length,
        devices: workload.users.reduce((n, u) => n + Object.keys(u.devices ?? {}).length, 0),
        requests: workload.requests.length,
        throttledTokens: workload.throttledTokens.length,
        ours,
        seed: seedResult,
        throughputRatio:
            seedResult.deliveredPerSecond > 0 ? oursPush.deliveredPerSecond / seedResult.deliveredPerSecond : Infinity,
        lost: pass.accounting.lost.length + pass.accounting.leftInQueues,
        oursStatuses: pass.accounting.statuses,
        seedDeadLettered: deadLettered,
        seedFailedInvocations: report.batches.filter(
            (b) => (b.response as { statusCode?: number } | undefined)?.statusCode !== 200,
        ).length,
    };
}

export { CHANNELS };
