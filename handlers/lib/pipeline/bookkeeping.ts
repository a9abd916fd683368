/**
 * Bookkeeping of the sends: the delivery-log rows as the batch proceeds (in groups of one BatchWriteItem)
 * and the rate counters at its end, the analytics lines in one PutRecordBatch, the per-outcome EMF counters.
 */
import type { FirehoseClient } from "@aws-sdk/client-firehose";
import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { marshall } from "../../core/attributes";
import type { Channel } from "../../core/channels";
import {
    analyticsEvent,
    deliveryLogRow,
    logKey,
    outcomeMessageBodies,
    type RecipientOutcome,
} from "../../core/deliveryLog";
import { callWithBackoff } from "../backoff";
import type { MetricName } from "../metrics";
import type { DeliveryLogRow } from "../../core/types";
import { batchPutAll, type Dynamo } from "../dynamo";
import { putAnalytics } from "../firehose";
import type { Telemetry } from "../telemetry";
import { METRICS } from "../telemetry-names";
import type { SenderTables } from "./batchReads";

/** The batch's analytics lines: one PutRecordBatch (best effort, after the log rows). */
export async function writeAnalytics(args: {
    firehose: FirehoseClient;
    analyticsStream: string;
    telemetry: Telemetry;
    outcomes: RecipientOutcome[];
    now: number;
}): Promise<void> {
    if (args.outcomes.length === 0) return;
    await putAnalytics(
        args.firehose,
        args.analyticsStream,
        args.outcomes.map((o) => analyticsEvent(o, args.now)),
        args.telemetry.log,
    );
}

const METRIC_OF_STATUS: Partial<Record<RecipientOutcome["status"], (typeof METRICS)[keyof typeof METRICS]>> = {
    SENT: METRICS.delivered,
    FAILED: METRICS.failed,
    SUPPRESSED: METRICS.suppressed,
    DEFERRED: METRICS.deferred,
};

/** Attempted for every outcome, plus the metric of its status. */
export function countOutcomes(telemetry: Telemetry, channel: Channel, outcomes: RecipientOutcome[]) {
    for (const outcome of outcomes) {
        telemetry.metrics.add(channel, METRICS.attempted);
        const metric = METRIC_OF_STATUS[outcome.status];
        if (metric) telemetry.metrics.add(channel, metric);
    }
}

/** Results become durable in groups of one full BatchWriteItem while the batch proceeds. */
export const FLUSH_GROUP = 25;

export interface LogWriterArgs {
    dynamo: Dynamo;
    tables: SenderTables;
    ttlDays: number;
    telemetry: Telemetry;
    logRows: Map<string, DeliveryLogRow>;
    now: () => number;
    remaining: () => number;
    /** Where rows go that the delivery log would not take within the time budget (queueOutcomes). */
    outcomes: OutcomeQueue;
}

/** The durable place for unwritten outcomes: the feedback queue, whose processor replays them. */
export interface OutcomeQueue {
    sqs: SQSClient;
    queueUrl: string;
}

type Put = { table: string; item: ReturnType<typeof marshall> };

/**
 * Writes the delivery-log rows as outcomes come in: each full group of FLUSH_GROUP rows at once (one
 * BatchWriteItem), the rest at the end. A crash then repeats at most the sends
 * since the last flush plus those in flight. A failed write is retried with backoff while the time
 * budget allows (reserve kept for the rest); past it the rows go to the outcome queue (queueOutcomes)
 * and are replayed into the log from there: the sends already happened, so failing the batch now would
 * send them again, and a log line alone would lose them.
 */
export function createLogWriter(args: LogWriterArgs) {
    const pending: RecipientOutcome[] = [];
    let chain: Promise<void> = Promise.resolve();
    const rowsOf = (outcomes: RecipientOutcome[]) =>
        outcomes.map((o) =>
            deliveryLogRow(o, args.now(), args.ttlDays, args.logRows.get(logKey(o.notificationId, o.recipientKey))),
        );
    const putsOf = (rows: DeliveryLogRow[]): Put[] =>
        rows.map((row) => ({ table: args.tables.deliveryLog, item: marshall({ ...row }) }));
    const write = async (rows: DeliveryLogRow[]) => {
        const puts = putsOf(rows);
        for (let attempt = 0; ; attempt++) {
            try {
                await batchPutAll(args.dynamo, puts);
                return;
            } catch (error) {
                const delay = Math.min(1_000, 50 * 2 ** attempt);
                if (args.remaining() - delay < WRITE_RESERVE_MS || attempt >= 8) {
                    args.telemetry.log.error("delivery-log write failed past the time budget; rows queued for replay", {
                        error,
                        rows: rows.length,
                    });
                    await queueOutcomes(args.outcomes, rows, args.remaining, args.telemetry);
                    return;
                }
                args.telemetry.log.warn("delivery-log write failed; retrying", { error, attempt });
                await new Promise((r) => setTimeout(r, delay));
            }
        }
    };
    const enqueue = (rows: DeliveryLogRow[]) => {
        chain = chain.then(() => write(rows));
        return chain;
    };
    return {
        /** Adds a record's outcomes; resolves once every full group they completed is written. */
        add(outcomes: RecipientOutcome[]): Promise<void> {
            pending.push(...outcomes);
            if (pending.length < FLUSH_GROUP) return chain;
            const groups: RecipientOutcome[] = pending.splice(0, pending.length - (pending.length % FLUSH_GROUP));
            return enqueue(rowsOf(groups));
        },
        /** The rows not yet written (the rate counters were counted with the claims). */
        finish(): Promise<void> {
            if (pending.length === 0) return chain;
            return enqueue(rowsOf(pending.splice(0)));
        },
    };
}

/**
 * Puts unwritten rows on the outcome queue (one SendMessage per ~200 KB of rows), with backoff while
 * time allows. Should the queue fail too (DynamoDB and SQS down together), the rows are in the ERROR
 * line and their claims stay on the rows: a copy re-sends only after the lease has expired.
 */
export async function queueOutcomes(
    queue: OutcomeQueue,
    rows: DeliveryLogRow[],
    remaining: () => number,
    telemetry: Telemetry,
): Promise<void> {
    for (const body of outcomeMessageBodies(rows)) {
        const sent = await callWithBackoff(
            () => queue.sqs.send(new SendMessageCommand({ QueueUrl: queue.queueUrl, MessageBody: body })),
            remaining,
        );
        if (sent.ok) telemetry.metrics.add(rows[0].channel, QUEUED_OUTCOMES_METRIC, JSON.parse(body).rows.length);
        else telemetry.log.error("outcomes neither written nor queued", { error: sent.error, body });
    }
}

/** Outcomes queued for replay because the delivery log would not take them (a new name: see execute.ts). */
export const QUEUED_OUTCOMES_METRIC = "QueuedOutcomes" as MetricName;

/** Time kept for the analytics batch and the response after the last log write attempt. */
const WRITE_RESERVE_MS = 1_000;
