/**
 * Bookkeeping after the sends: the delivery-log rows and rate counters in one round of BatchWriteItem,
 * the analytics lines in one PutRecordBatch, and the per-outcome EMF counters.
 */
import type { FirehoseClient } from "@aws-sdk/client-firehose";
import { marshall } from "../../core/attributes";
import type { Channel } from "../../core/channels";
import { analyticsEvent, deliveryLogRow, logKey, rateCounterRows, type RecipientOutcome } from "../../core/deliveryLog";
import type { DeliveryLogRow } from "../../core/types";
import { batchPutAll, type Dynamo } from "../dynamo";
import { putAnalytics } from "../firehose";
import type { Telemetry } from "../telemetry";
import { METRICS } from "../telemetry-names";
import type { SenderTables } from "./batchReads";

export interface BookkeepingArgs {
    dynamo: Dynamo;
    firehose: FirehoseClient;
    tables: SenderTables;
    analyticsStream: string;
    ttlDays: number;
    telemetry: Telemetry;
    outcomes: RecipientOutcome[];
    /** The rows read before planning (createdAt survives) and the counters' previous values. */
    logRows: Map<string, DeliveryLogRow>;
    rateCounts: Map<string, number>;
    now: number;
}

export async function writeBookkeeping(args: BookkeepingArgs): Promise<void> {
    const { tables, telemetry, outcomes, now } = args;
    const puts = outcomes.map((o) => ({
        table: tables.deliveryLog,
        item: marshall({
            ...deliveryLogRow(o, now, args.ttlDays, args.logRows.get(logKey(o.notificationId, o.recipientKey))),
        }),
    }));
    for (const counter of rateCounterRows(outcomes, args.rateCounts, now)) {
        puts.push({ table: tables.idempotency, item: marshall({ ...counter }) });
    }
    try {
        await batchPutAll(args.dynamo, puts);
    } catch (error) {
        // The sends already happened: failing the batch now would send them again. Log loudly instead.
        telemetry.log.error("delivery-log write failed", { error, rows: puts.length });
    }
    if (outcomes.length > 0) {
        await putAnalytics(
            args.firehose,
            args.analyticsStream,
            outcomes.map((o) => analyticsEvent(o, now)),
            telemetry.log,
        );
    }
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
