/**
 * The pipeline every channel sender shares, for a whole SQS batch, as a thin orchestrator over its
 * collaborators (in the spirit of Powertools' processPartialResponse): parse -> read the batch
 * (pipeline/batchReads: one BatchGetItem round, the template cache, the channel's enrich step) -> plan
 * (pure core, with the channel's composer) -> carry out each record (pipeline/execute: deliver through
 * the channel's adapter, or defer), each send first claimed (pipeline/claims) -> bookkeeping
 * (pipeline/bookkeeping: delivery-log rows in groups as the batch proceeds, rate counters, analytics,
 * metrics). Partial batch responses: a record is reported failed only when
 * something retryable is left for it; bad input is recorded and acknowledged.
 */
import { FirehoseClient } from "@aws-sdk/client-firehose";
import { SQSClient } from "@aws-sdk/client-sqs";
import { SchedulerClient } from "@aws-sdk/client-scheduler";
import type { Channel } from "../core/channels";
import { applyClaims, claimKeys, leaseExpiry } from "../core/claims";
import { logKey } from "../core/deliveryLog";
import { parseBatch, planBatch } from "../core/plan";
import { providerClientConfig } from "./backoff";
import { mapLimit } from "./concurrency";
import { createDynamo, type Dynamo } from "./dynamo";
import { rateLimitFor, readEnvironment, SENDER_ENV, ttlDays } from "./env";
import { type LambdaContext, remainingMs } from "./lambda";
import type { BatchResponse, SqsEvent } from "./sqs";
import type { Telemetry } from "./telemetry";
import { readBatchData, type SenderTables } from "./pipeline/batchReads";
import { countOutcomes, createLogWriter, type OutcomeQueue, writeAnalytics } from "./pipeline/bookkeeping";
import { claimAll } from "./pipeline/claims";
import type { ChannelAdapter } from "./pipeline/channel";
import type { DeferralTarget } from "./pipeline/deferral";
import { executeRecord } from "./pipeline/execute";
import type { TemplateCache } from "./pipeline/templateCache";

/** What every sender has besides its channel adapter: clients, tables, targets, limits. */
export interface SenderSetup {
    telemetry: Telemetry;
    dynamo: Dynamo;
    firehose: FirehoseClient;
    scheduler: SchedulerClient;
    tables: SenderTables;
    analyticsStream: string;
    deferral: DeferralTarget;
    /** Where outcomes go that the delivery log would not take (replayed by the feedback processor). */
    outcomes: OutcomeQueue;
    rateLimit?: number;
    ttlDays: number;
    now?: () => number;
}

const SEND_CONCURRENCY = 8;

/** Cold start: the shared part of a sender's environment (lib/env SENDER_ENV) and the pipeline's clients. */
export function senderSetup(channel: Channel, telemetry: Telemetry, dynamo: Dynamo = createDynamo()): SenderSetup {
    const env = readEnvironment(SENDER_ENV);
    return {
        telemetry,
        dynamo,
        firehose: new FirehoseClient({}),
        // One attempt per call, bounded in time: scheduleDeferral's callWithBackoff owns the retries.
        scheduler: new SchedulerClient(providerClientConfig()),
        tables: {
            preferences: env.preferencesTable,
            templates: env.templatesTable,
            deliveryLog: env.deliveryLogTable,
            idempotency: env.idempotencyTable,
        },
        analyticsStream: env.analyticsStream,
        deferral: { group: env.deferralScheduleGroup, roleArn: env.deferralRoleArn, queueArn: env.channelQueueArn },
        // One attempt per call, bounded in time: queueOutcomes' callWithBackoff owns the retries.
        outcomes: { sqs: new SQSClient(providerClientConfig()), queueUrl: env.outcomeQueueUrl },
        rateLimit: rateLimitFor(channel),
        ttlDays: ttlDays(),
    };
}

export function createSenderHandler<D, E>(setup: SenderSetup, adapter: ChannelAdapter<D, E>) {
    const { telemetry } = setup;
    const { channel } = adapter.composer;
    const { log, metrics } = telemetry;
    const now = setup.now ?? (() => Date.now());
    const templateCache: TemplateCache = new Map();

    return async (event: SqsEvent, context?: LambdaContext): Promise<BatchResponse> => {
        log.addContext(context);
        log.appendKeys({ channel });
        const started = now();
        const remaining = () => remainingMs(context);
        const records = event.Records ?? [];
        const parsed = parseBatch(records, channel, started);
        const data = await readBatchData({
            ...setup,
            channel,
            adapter,
            parsed,
            now: started,
            templateCache,
            remaining,
        });
        const planned = planBatch(parsed, data, {
            now: started,
            rateLimit: setup.rateLimit,
            composer: adapter.composer,
        });
        // Claim before send: one lease per recipient about to be sent to, in one transaction per 100.
        // Unique per invocation even where request ids repeat (a local harness): the claim's owner.
        const owner = `${context?.awsRequestId ?? "local"}:${started}:${Math.random().toString(36).slice(2)}`;
        const claims = await claimAll({
            dynamo: setup.dynamo,
            table: setup.tables.deliveryLog,
            owner,
            now: started,
            expiresAt: leaseExpiry(started, remaining()),
            ttl: Math.floor(started / 1000) + setup.ttlDays * 86_400,
            keys: claimKeys(planned),
            // Each claimed send is counted against the user's hourly limit in the same transaction.
            counters:
                setup.rateLimit === undefined
                    ? undefined
                    : { table: setup.tables.idempotency, limit: setup.rateLimit, channel },
        });
        const plans = applyClaims(planned, (id, key) => claims.get(logKey(id, key)));

        const ctx = { ...setup, channel, deliver: adapter.deliver, log, metrics, now: started, remaining };
        const writer = createLogWriter({ ...setup, logRows: data.logRows, now, remaining });
        const results = await mapLimit(plans, SEND_CONCURRENCY, async (plan) => {
            const result = await executeRecord(ctx, plan);
            await writer.add(result.outcomes);
            return result;
        });
        const outcomes = results.flatMap((r) => r.outcomes);
        const retried = plans.filter((_, i) => results[i].retry).map((p) => p.messageId);

        await writer.finish();
        await writeAnalytics({ ...setup, outcomes, now: now() });
        countOutcomes(telemetry, channel, outcomes);
        metrics.flush();
        log.info("batch done", { records: records.length, outcomes: outcomes.length, retried: retried.length });
        return { batchItemFailures: [...new Set(retried)].map((itemIdentifier) => ({ itemIdentifier })) };
    };
}
